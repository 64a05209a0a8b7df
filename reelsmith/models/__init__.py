"""Model adapters: the models a pipeline calls, each behind a typed interface that states its
contract (:mod:`reelsmith.models.interfaces`), so that a better model takes a default's place
without the pipelines knowing. An adapter never knows about tasks, credits or the API.

- ``interfaces.py``: the contracts (Recognizer, Translator, Synthesizer, LanguageIdentifier)
  and the dataclasses that cross them;
- ``registry.py``: which adapters a worker uses, built from the settings, and which serves what;
- ``whisper.py``: speech recognition with faster-whisper;
- ``apertium.py``, ``openai_chat.py``: translation with Apertium, or an OpenAI-compatible
  endpoint;
- ``espeak.py``, ``espeak_library.py``: speech with espeak-ng, and its C library for the timed
  phonemes;
- ``langid.py``: language identification with py3langid.

This package is imported by a child process for every line espeak-ng speaks
(``espeak_library.py``): it imports nothing here.
"""
