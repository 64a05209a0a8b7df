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
- ``face_swapper.py``: an inswapper-128-compatible face swapper and its ArcFace embedder on
  onnxruntime (CPU or CUDA), the operator's ONNX files, and tiny random ones for tests.
- ``diffusers_loading.py``: what every diffusers checkpoint shares (the cheap structural check,
  device and precision, loading once, memory failures, the tiny checkpoints' tokenizer);
- ``video_diffusion.py``: image-to-video on diffusers (Wan2.2 TI2V-5B and I2V-A14B, LTX-Video),
  effect LoRAs, and tiny random checkpoints of their layouts for tests.
- ``wan_animate.py``: Wan2.2-Animate on diffusers (Character Swap's animate and replace),
  segment by segment as diffusers' own pipeline continues them, and a tiny random checkpoint.

This package is imported by a child process for every line espeak-ng speaks
(``espeak_library.py``): it imports nothing here.
"""
