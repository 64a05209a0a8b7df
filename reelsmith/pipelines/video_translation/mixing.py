"""The new soundtrack: the translated voice over what remains of the source's sound.

Method, stated because it decides what the listener hears:
- without ``remove_bgm`` the source's sound stays, and under each stretch of speech (the
  original lines, padded by :data:`PAD_SECONDS`) it is ducked by :data:`DUCK_DB` with
  :data:`RAMP_SECONDS` ramps: music and ambience play on at full level between lines, and the
  original voice sinks well under the new one. Nothing is separated, so the background is
  ducked with the voice while a line is spoken.
- with ``remove_bgm`` only the new voice remains.
The new voice is brought to the loudness the original voice had (RMS over the speech), and
the mix is kept under full scale.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reelsmith.pipelines.video_translation.timing import Timeline

MIX_RATE = 44_100
DUCK_DB = -24.0
RAMP_SECONDS = 0.1
PAD_SECONDS = 0.15
# When the source had no audible voice to match, the new voice's RMS level.
_DEFAULT_VOICE_RMS = 10 ** (-20 / 20)
_PEAK = 10 ** (-1 / 20)


def speech_regions(spans: Sequence[tuple[float, float]], pad: float = PAD_SECONDS) -> list[tuple[float, float]]:
    """The spans padded by ``pad`` and merged where they touch."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        start, end = max(start - pad, 0.0), end + pad
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def ducking_gain(count: int, regions: Sequence[tuple[float, float]], rate: int = MIX_RATE) -> np.ndarray:
    """Per-sample gain: 1 outside ``regions``, :data:`DUCK_DB` inside, with linear ramps."""
    floor = 10 ** (DUCK_DB / 20)
    depth = np.zeros(count, dtype=np.float32)
    ramp = max(int(RAMP_SECONDS * rate), 1)
    for start, end in regions:
        first, last = int(start * rate), min(int(end * rate), count)
        if last <= first:
            continue
        shape = np.ones(last - first + 2 * ramp, dtype=np.float32)
        shape[:ramp] = np.linspace(0, 1, ramp, endpoint=False)
        shape[-ramp:] = np.linspace(1, 0, ramp)
        lo, hi = first - ramp, last + ramp
        window = shape[max(-lo, 0) : len(shape) - max(hi - count, 0)]
        np.maximum(depth[max(lo, 0) : min(hi, count)], window, out=depth[max(lo, 0) : min(hi, count)])
    return 1.0 - depth * (1.0 - floor)


def with_holds(samples: np.ndarray, timeline: Timeline, rate: int = MIX_RATE) -> np.ndarray:
    """``samples`` with silence inserted where the picture is held."""
    pieces, cursor = [], 0
    for at, seconds in timeline.holds:
        cut = min(int(round(at * rate)), len(samples))
        pieces += [samples[cursor:cut], np.zeros((int(round(seconds * rate)), *samples.shape[1:]), samples.dtype)]
        cursor = cut
    pieces.append(samples[cursor:])
    return np.concatenate(pieces)


def mix(
    original: np.ndarray,
    voice: np.ndarray,
    speech: Sequence[tuple[float, float]],
    remove_bgm: bool,
    rate: int = MIX_RATE,
) -> np.ndarray:
    """The output soundtrack (``voice``'s length, ``original``'s channels). ``original`` is the
    source's sound on the output's timeline, ``speech`` where its voice was, in output time."""
    count = len(voice)
    channels = original.shape[1] if original.ndim == 2 else 1
    bed = np.zeros((count, channels), dtype=np.float32)
    length = min(count, len(original))
    bed[:length] = original[:length].reshape(length, channels)
    regions = speech_regions(speech)
    voice = voice * _voice_gain(bed, voice, regions, rate)
    out = voice[:, None] if remove_bgm else bed * ducking_gain(count, regions, rate)[:, None] + voice[:, None]
    out = np.repeat(out, channels, axis=1) if out.shape[1] != channels else out
    peak = float(np.abs(out).max(initial=0.0))
    return (out * (_PEAK / peak) if peak > _PEAK else out).astype(np.float32)


def _voice_gain(bed: np.ndarray, voice: np.ndarray, regions: Sequence[tuple[float, float]], rate: int) -> float:
    inside = np.zeros(len(bed), dtype=bool)
    for start, end in regions:
        inside[int(start * rate) : int(end * rate)] = True
    original_rms = float(np.sqrt(np.mean(bed[inside] ** 2))) if inside.any() else 0.0
    spoken = np.abs(voice) > 1e-4
    voice_rms = float(np.sqrt(np.mean(voice[spoken] ** 2))) if spoken.any() else 0.0
    if voice_rms == 0.0:
        return 1.0
    target = original_rms if original_rms > 10 ** (-45 / 20) else _DEFAULT_VOICE_RMS
    return float(np.clip(target / voice_rms, 10 ** (-12 / 20), 10 ** (18 / 20)))
