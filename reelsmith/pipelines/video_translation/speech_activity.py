"""Where in the sound someone is speaking: Silero's voice-activity model, which ships inside
the faster-whisper wheel (ONNX, a few milliseconds per second of sound)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from reelsmith.pipelines.video_translation.captions import Line

SAMPLE_RATE = 16_000


def speech_spans(audio: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) seconds of speech in 16 kHz mono ``audio``; pauses under 0.3 s are bridged."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=300, speech_pad_ms=100, min_speech_duration_ms=150)
    spans = get_speech_timestamps(audio.astype(np.float32), options, sampling_rate=SAMPLE_RATE)
    return [(span["start"] / SAMPLE_RATE, span["end"] / SAMPLE_RATE) for span in spans]


def trimmed_to_speech(lines: Sequence[Line], spans: Sequence[tuple[float, float]]) -> list[Line]:
    """Lines whose start and end are pulled in to the speech they overlap: Whisper's word
    times often begin a line early, in the silence before it."""
    trimmed = []
    for line in lines:
        overlapping = [(start, end) for start, end in spans if start < line.end and end > line.start]
        if not overlapping:
            trimmed.append(line)
            continue
        start = max(line.start, overlapping[0][0])
        end = min(line.end, overlapping[-1][1])
        trimmed.append(replace(line, start=start, end=max(end, start + 0.1)))
    return trimmed
