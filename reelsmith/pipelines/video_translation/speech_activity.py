"""Where in the sound someone is speaking: Silero's voice-activity model, which ships inside
the faster-whisper wheel (ONNX, a few milliseconds per second of sound)."""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16_000


def speech_spans(audio: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) seconds of speech in 16 kHz mono ``audio``; pauses under 0.3 s are bridged."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=300, speech_pad_ms=100, min_speech_duration_ms=150)
    spans = get_speech_timestamps(audio.astype(np.float32), options, sampling_rate=SAMPLE_RATE)
    return [(span["start"] / SAMPLE_RATE, span["end"] / SAMPLE_RATE) for span in spans]
