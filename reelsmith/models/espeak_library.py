"""A small program that speaks one text with espeak-ng's C library (``libespeak-ng.so.1``, part
of Debian's espeak-ng) through ctypes, for one thing the command line cannot give: the time of
every phoneme it speaks. ``espeak.py`` runs it once per line.

The library synthesises as ``espeak-ng -w`` does (same voice, rate, pitch, UTF-8 text and the
pause at the end), with phoneme events switched on: each event names the phoneme and the sample
at which it starts. The samples and the events come from the same synthesis, so the times are
exact by construction.

**A fresh process per text.** The library's engine carries state from one text to the next
(the phase of its voice source, among others), which neither a new voice nor a primer text
resets: after other speech the same text comes out a few samples to tens of milliseconds
different (measured: a Spanish line spoken after another had its second phoneme 9.5 ms shorter,
and 685 samples more in all). The command line, started fresh each time, always says the same.
So each text is spoken by a process of its own, and the speech is the command line's, sample
for sample, whatever was spoken before. The program needs the standard library only (ctypes and
sys: it is run with ``python -I -S`` and starts in about 20 ms).

The names are asked for in IPA (``espeakINITIALIZE_PHONEME_IPA``): the IPA that the voice's own
phoneme table gives, the same that ``espeak-ng --ipa`` writes, rather than espeak's ASCII
mnemonics, which mean different sounds in different languages (``r`` is [ɹ] in English, [ɾ] in
Spanish and [ʁ] in French). Pauses and marks without a sound of their own have an empty name.
A name is cut at 8 bytes of UTF-8 (the event's field); speaking numbers and place names in every
language of the voice list, only Portuguese's [ɐ̃ʊ̃] reached it, exactly.

Why not the command line: ``--pho`` writes timed phonemes only for MBROLA voices (none are
installed), ``-x``/``--ipa``/``-X`` give the phoneme string without any time.

Usage: ``python -I -S espeak_library.py VOICE RATE PITCH`` with the text on stdin. It writes
the sample rate, the number of phonemes and one ``SAMPLE<TAB>NAME`` line per phoneme, then the
samples (16-bit little-endian mono PCM) to stdout, and exits with :data:`REFUSED` when the
library is missing or refuses the voice or the text (``espeakINITIALIZE_DONT_EXIT``: an error
never ends it otherwise).
"""

from __future__ import annotations

import ctypes
import sys

# speak_lib.h
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_PHONEME_IPA = 0x0002
_INITIALIZE_DONT_EXIT = 0x8000
_EVENT_LIST_TERMINATED = 0
_EVENT_PHONEME = 7
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000
_RATE, _PITCH = 1, 3
# The exit status when the library is missing or refuses the voice or the text.
REFUSED = 3


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


def speak(text: str, voice: str, rate_wpm: int, pitch: int) -> tuple[int, list[tuple[int, str]], bytes] | None:
    """``text`` spoken by ``voice`` (an espeak-ng voice name, ``es+m3``) at ``rate_wpm`` words a
    minute and ``pitch`` (0-99), as ``espeak-ng -v voice -s rate -p pitch`` speaks it: the sample
    rate, (first sample, IPA name) per phoneme and the PCM; None when the library is missing or
    refuses. Only a process's first text is the command line's (see above)."""
    try:
        handle = ctypes.CDLL("libespeak-ng.so.1")
    except OSError:
        return None
    handle.espeak_Initialize.restype = ctypes.c_int
    handle.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    handle.espeak_SetSynthCallback.argtypes = [_Callback]
    handle.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    handle.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    handle.espeak_Synth.argtypes = [
        ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
        ctypes.c_void_p, ctypes.c_void_p,
    ]  # fmt: skip
    options = _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_PHONEME_IPA | _INITIALIZE_DONT_EXIT
    rate = handle.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, options)
    if rate <= 0:
        return None
    chunks: list[bytes] = []
    phonemes: list[tuple[int, str]] = []

    def collect(wave: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]) -> int:
        if wave and count > 0:
            chunks.append(ctypes.string_at(wave, count * 2))
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == _EVENT_PHONEME:
                # "ignore": a name cut at 8 bytes may end inside a character.
                phonemes.append((int(event.sample), event.id.string.decode("utf-8", "ignore")))
            index += 1
        return 0

    callback = _Callback(collect)
    encoded = text.encode("utf-8")
    buffer = ctypes.create_string_buffer(encoded)
    handle.espeak_SetSynthCallback(callback)
    if handle.espeak_SetVoiceByName(voice.encode()) != 0:
        return None
    handle.espeak_SetParameter(_RATE, rate_wpm, 0)
    handle.espeak_SetParameter(_PITCH, pitch, 0)
    if handle.espeak_Synth(buffer, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _ENDPAUSE, None, None):
        return None
    handle.espeak_Synchronize()
    return rate, phonemes, b"".join(chunks)


def main() -> int:
    """The program: see the module's docstring."""
    voice, rate_wpm, pitch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    said = speak(sys.stdin.buffer.read().decode("utf-8"), voice, rate_wpm, pitch)
    if said is None:
        return REFUSED
    rate, phonemes, pcm = said
    lines = [str(rate), str(len(phonemes)), *(f"{sample}\t{name}" for sample, name in phonemes)]
    sys.stdout.buffer.write("".join(line + "\n" for line in lines).encode("utf-8") + pcm)
    return 0


if __name__ == "__main__":
    sys.exit(main())
