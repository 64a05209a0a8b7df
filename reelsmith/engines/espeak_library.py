"""espeak-ng's C library (``libespeak-ng.so.1``, part of Debian's espeak-ng) through ctypes,
for one thing the command line cannot give: the time of every phoneme it speaks.

The library is asked to synthesise exactly as ``espeak-ng -w`` does (same voice, rate, pitch,
UTF-8 text and the pause at the end), with phoneme events switched on. Each event names the
phoneme (espeak's ASCII mnemonic, ``a``, ``tS``, ``_:`` for a pause) and the sample at which it
starts, so the times are those of the WAV file the command line writes (identical for the first
text a process speaks; the tests keep checking). The library's engine carries state from one text
to the next, which the command line, started fresh each time, does not: after other speech the
phonemes still start within a few samples of the WAV's, but the final pause can be reported from
about 6 ms shorter to 50 ms longer than the WAV's (measured after a lip-synced dub in the same
process). Lip-sync reads the starts.

Why not the command line: ``--pho`` writes timed phonemes only for MBROLA voices (none are
installed), ``-x``/``--ipa``/``-X`` give the phoneme string without any time.

The library keeps one global engine, so calls are serialised by a lock; it is initialised once
per process with ``espeakINITIALIZE_DONT_EXIT`` so that an error never ends the worker.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

# speak_lib.h
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_DONT_EXIT = 0x8000
_EVENT_LIST_TERMINATED = 0
_EVENT_PHONEME = 7
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000
_RATE, _PITCH = 1, 3

_lock = threading.Lock()


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


@dataclass(frozen=True)
class TimedPhonemes:
    """What the library said for one text: (mnemonic, first sample) per phoneme in order, the
    length of the speech in samples and its sample rate."""

    phonemes: list[tuple[str, int]]
    samples: int
    rate: int


@dataclass
class _Library:
    handle: ctypes.CDLL
    rate: int


@cache
def _library() -> _Library | None:
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
    options = _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_DONT_EXIT
    rate = handle.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, options)
    if rate <= 0:
        return None
    return _Library(handle, rate)


def available() -> bool:
    """Whether the library is installed and starts."""
    with _lock:
        return _library() is not None


def timed_phonemes(text: str, voice: str, rate_wpm: int, pitch: int) -> TimedPhonemes | None:
    """The phonemes of ``text`` spoken by ``voice`` (an espeak-ng voice name, ``es+m3``) at
    ``rate_wpm`` words a minute and ``pitch`` (0-99), as ``espeak-ng -v voice -s rate -p pitch``
    speaks them; None when the library is missing or refuses the voice or the text."""
    with _lock:  # the library starts once, whichever thread asks first
        library = _library()
    if library is None:
        return None
    phonemes: list[tuple[str, int]] = []
    total = 0

    def collect(wave: Any, count: int, events: Any) -> int:
        nonlocal total
        if wave and count > 0:
            total += count
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == _EVENT_PHONEME:
                phonemes.append((event.id.string.decode("ascii", "replace"), int(event.sample)))
            index += 1
        return 0

    callback = _Callback(collect)
    encoded = text.encode("utf-8")
    buffer = ctypes.create_string_buffer(encoded)
    handle = library.handle
    with _lock:
        handle.espeak_SetSynthCallback(callback)
        if handle.espeak_SetVoiceByName(voice.encode()) != 0:
            return None
        handle.espeak_SetParameter(_RATE, rate_wpm, 0)
        handle.espeak_SetParameter(_PITCH, pitch, 0)
        if handle.espeak_Synth(buffer, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _ENDPAUSE, None, None):
            return None
        handle.espeak_Synchronize()
    return TimedPhonemes(phonemes, total, library.rate)
