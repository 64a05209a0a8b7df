"""Sound for Image to Video: a soundtrack designed from the motion plan, or the user's audio.

``design_soundtrack`` synthesises everything with NumPy (no recordings ship with the server):

* an ambience bed for the whole clip: soft band-passed noise ("air") and a slow chord pad whose
  root, chord and brightness come from the plan's seed;
* for each move, the sound its kind makes (``kinds.py`` says which, and how):
  a whoosh for camera moves (zoom, pan, tilt, dolly, orbit, roll): noise through a band that
  sweeps up (pushing in, moving right/down...) or down (pulling back...), as loud as the camera
  is fast, so its envelope follows the move's easing; pans and orbits travel across the stereo
  field;
  an impact (a low thump with a falling pitch and a short click) at every moment a physical
  move hits its extreme (see :func:`impact_times`);
  a boing (a sine with a pitch bend and vibrato) for wobble, jiggle, inflate, deflate and spin;
  a rumble (low noise and a sub tone, throbbing at the shake rate) for shake;
  nothing for float and sway, slow and quiet motions the bed carries.

Every random choice is drawn from the plan's seed, so a plan always sounds the same and another
seed (a batch variation) sounds different.

The soundtrack is made while the frames render and x264 encodes them, on the same two cores, so
every millisecond of it adds to the task: oscillators and noise are computed in float32 (phases
are kept in float64 and reduced to a turn first, so long notes stay in tune), which NumPy's SIMD
sine runs 20 times faster than float64, and the noise bands are shaped with SciPy's float32 FFT.

``prepare_given_audio`` and ``replace_audio`` run the ffmpeg binary for the user's own audio.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path

import numpy as np
import scipy.fft

from reelsmith.media.probe import MediaInfo, ProbeError, ffmpeg_exe, probe
from reelsmith.pipelines.image2video.easing import Easing, ease
from reelsmith.pipelines.image2video.kinds import Boing, Impact, Rumble, Sound, Whoosh, kind_of
from reelsmith.pipelines.image2video.plan import MotionPlan, Move

SAMPLE_RATE = 44100
PEAK_DBFS = -1.0
EDGE_FADE_SECONDS = 0.05
TARGET_LUFS = -16.0

# Control-rate envelopes (one value per millisecond) are cheap to shape and smooth, then
# interpolated to audio rate.
_CONTROL_RATE = 1000
# An impact needs this much room before the end of the clip to be heard through the fade out.
_IMPACT_TAIL_SECONDS = 0.25
# Chord shapes for the pad, as semitones above the root, voiced open so the pad stays soft.
_CHORDS = (
    (0, 7, 16, 23),  # major 7
    (0, 7, 15, 22),  # minor 7
    (0, 7, 14, 19),  # sus2
    (0, 7, 16, 26),  # add9
    (0, 10, 15, 26),  # minor 9 without the fifth
    (0, 7, 14, 21),  # 6/9
)

_FFMPEG_TIMEOUT_SECONDS = 600
_AAC_SUFFIXES = (".m4a", ".aac", ".mp4")
_LOUDNORM = f"loudnorm=I={TARGET_LUFS:g}:TP=-1.5:LRA=20"


class AudioError(Exception):
    """The audio could not be used; the message says why in words a user can act on."""


# --- the designed soundtrack -------------------------------------------------------------------


def design_soundtrack(
    plan: MotionPlan, seconds: float, sample_rate: int = SAMPLE_RATE, bed: np.ndarray | None = None
) -> np.ndarray:
    """A stereo float32 soundtrack ``(round(seconds * sample_rate), 2)`` timed to ``plan``.

    The result peaks at about -1 dBFS, has no DC and fades in and out over 50 ms. ``bed`` is
    ``soundtrack_bed(plan.seed, seconds, sample_rate)`` when the caller made it already (it
    needs only the seed, so a task makes it while the picture is still being looked at).
    """
    if seconds <= 0 or sample_rate <= 0:
        raise ValueError(f"need a positive length and sample rate, got {seconds} s at {sample_rate} Hz")
    count = round(seconds * sample_rate)
    # One independent stream per sound, so that adding a move does not change the others.
    streams = np.random.SeedSequence(plan.seed % 2**64).spawn(len(plan.moves) + 1)
    if bed is None or bed.shape != (count, 2):
        bed = ambience(np.random.default_rng(streams[0]), count, sample_rate)
    mix = bed.copy()
    for move, stream in zip(plan.moves, streams[1:], strict=True):
        _add_move(mix, move, seconds, sample_rate, np.random.default_rng(stream))
    return _master(mix, sample_rate)


def soundtrack_bed(seed: int, seconds: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The ambience under any soundtrack of a plan with this seed (see :func:`design_soundtrack`)."""
    if seconds <= 0 or sample_rate <= 0:
        raise ValueError(f"need a positive length and sample rate, got {seconds} s at {sample_rate} Hz")
    # The first of the streams design_soundtrack spawns: a seed sequence's first child does not
    # depend on how many are spawned.
    stream = np.random.SeedSequence(seed % 2**64).spawn(1)[0]
    return ambience(np.random.default_rng(stream), round(seconds * sample_rate), sample_rate)


def _add_move(mix: np.ndarray, move: Move, seconds: float, sample_rate: int, rng: np.random.Generator) -> None:
    """Mix the sound of ``move``'s kind into ``mix``, timed and placed where the move happens."""
    sound = kind_of(move.kind).sound
    start = round(move.start * seconds * sample_rate)
    length = max(1, round((move.end - move.start) * seconds * sample_rate))
    pan = _target_pan(move)
    if isinstance(sound, Whoosh):
        samples, pan_curve = whoosh(rng, move, sound, length, sample_rate)
        _place(mix, samples, start, pan_curve)
    elif isinstance(sound, Rumble):
        _place(mix, rumble(rng, move, sound, length, sample_rate, seconds), start, pan)
    elif isinstance(sound, Boing):
        _place(mix, boing(rng, move, sound, length, sample_rate, seconds), start, pan)
    elif isinstance(sound, Impact):
        latest = max(0.0, seconds - _IMPACT_TAIL_SECONDS)
        for at in impact_times(move, seconds):
            hit = impact(rng, sample_rate, _strength(move, sound) * sound.level, soft=sound.soft)
            _place(mix, hit, round(min(at, latest) * sample_rate), pan)


def impact_times(move: Move, seconds: float) -> list[float]:
    """When (in seconds) a physical move hits its extreme; empty for moves that make no impact.

    These rules are the contract with the renderer's curves (``kinds.Impact.cycle_phase`` says
    which a kind follows): a squish or a pulse peaks in the middle of each of its cycles
    (``frequency`` cycles per clip; one cycle over the move when it is 0), a bounce lands at the
    end of each hop (one hop over the move when ``frequency`` is 0), and a melt lands at its end.
    """
    sound = kind_of(move.kind).sound
    if not isinstance(sound, Impact):
        return []
    if sound.cycle_phase is None:
        return [move.end * seconds]
    return [at * seconds for at in _cycle_points(move, sound.cycle_phase)]


def _cycle_points(move: Move, phase: float) -> list[float]:
    span = move.end - move.start
    period = span if move.frequency <= 0 else min(span, 1.0 / move.frequency)
    points = []
    cycle = 0
    # A small tolerance keeps the last point when rounding puts it a hair past the end.
    while move.start + (cycle + phase) * period <= move.end + 1e-9:
        points.append(move.start + (cycle + phase) * period)
        cycle += 1
    return points


def ambience(rng: np.random.Generator, count: int, sample_rate: int) -> np.ndarray:
    """The bed under the whole clip: slowly breathing air and a chord pad, stereo ``(count, 2)``."""
    seconds = count / sample_rate
    centre = rng.uniform(280.0, 650.0)
    air = np.stack([_band_noise(rng, count, sample_rate, np.full(count, centre), 1.2) for _ in range(2)], axis=1)
    # Two slow, unrelated swells make the air breathe instead of hiss.
    time = np.arange(count) / sample_rate
    breath = 0.75 + 0.15 * _sine(rng.uniform(0.05, 0.12) * time, rng.uniform(0, 2 * np.pi))
    breath += 0.1 * _sine(rng.uniform(0.15, 0.3) * time, rng.uniform(0, 2 * np.pi))
    bed = 0.035 * air * breath[:, None] + 0.045 * chord_pad(rng, count, sample_rate)
    swell = min(1.5, 0.3 * seconds)
    return bed * _fades(count, sample_rate, swell, swell)[:, None]


def chord_pad(rng: np.random.Generator, count: int, sample_rate: int) -> np.ndarray:
    """A soft, slowly shimmering chord, stereo ``(count, 2)`` at about unit peak per voice.

    The seed picks the root (A2 to E3), the chord and how bright the voices are.
    """
    root = 45 + int(rng.integers(0, 8))
    chord = _CHORDS[int(rng.integers(0, len(_CHORDS)))]
    rolloff = rng.uniform(1.6, 2.6)
    time = np.arange(count) / sample_rate
    # Each side summed on its own: adding into interleaved stereo costs twice as much.
    left, right = np.zeros(count, np.float32), np.zeros(count, np.float32)
    for index, interval in enumerate(chord):
        voice = _pad_voice(rng, _midi_hz(root + interval), rolloff, time, sample_rate)
        position = -0.6 + 1.2 * index / max(1, len(chord) - 1)
        gains = _pan_gains(position) / len(chord)
        left += np.float32(gains[0]) * voice
        right += np.float32(gains[1]) * voice
    return np.stack([left, right], axis=1)


def _pad_voice(rng: np.random.Generator, hz: float, rolloff: float, time: np.ndarray, sample_rate: int) -> np.ndarray:
    # Two oscillators a few cents apart beat slowly against each other: the pad's shimmer.
    detune = 2 ** (rng.uniform(3.0, 7.0) / 1200)
    # Each oscillator's place in its cycle (0 to 1), worked out once: its harmonics are whole
    # multiples of it.
    turns = {ratio: _steady_turns(hz * ratio, len(time), sample_rate) for ratio in (detune, 1 / detune)}
    voice = np.zeros(len(time), np.float32)
    for harmonic in range(1, 5):
        weight = np.float32(harmonic**-rolloff)
        for ratio in (detune, 1 / detune):
            angle = turns[ratio] * np.float32(2 * np.pi * harmonic) + np.float32(rng.uniform(0, 2 * np.pi))
            voice += weight * np.sin(angle)
    tremolo = 0.8 + 0.2 * _sine(rng.uniform(0.08, 0.25) * time, rng.uniform(0, 2 * np.pi))
    return voice * tremolo / np.float32(2.5)


def whoosh(
    rng: np.random.Generator, move: Move, sound: Whoosh, count: int, sample_rate: int
) -> tuple[np.ndarray, np.ndarray]:
    """Air rushing past during a camera move: mono samples and a stereo position per sample.

    Band-passed noise whose centre sweeps up or down with the move's eased progress and whose
    level follows the camera's speed (the slope of the easing curve).
    """
    progress, speed = _progress_and_speed(move.easing, count, sample_rate)
    low, high = rng.uniform(220.0, 420.0) * sound.band, rng.uniform(1800.0, 3400.0) * sound.band
    rising = _direction(move) > 0
    sweep = np.clip(progress if rising else 1.0 - progress, -0.25, 1.25)
    centre = low * (high / low) ** sweep
    air = _band_noise(rng, count, sample_rate, centre, 0.7)
    # A band an octave and a half lower gives the whoosh body, not just hiss.
    body = _band_noise(rng, count, sample_rate, centre / 2.8, 0.9)
    # A fast move rushes past; the same move spread over the whole clip only breathes.
    pace = _raw_strength(move, sound) / (count / sample_rate)
    level = 0.3 * _strength(move, sound) * float(np.clip(0.55 + 0.45 * pace, 0.55, 1.0)) * (0.05 + 0.95 * speed)
    # Even a constant-speed move swells a little in its middle, so a long one does not just hiss.
    level = level * (0.65 + 0.35 * np.sin(np.pi * np.linspace(0.0, 1.0, count, dtype=np.float32)))
    samples = (air + 0.5 * body) * level * _edge_envelope(count, sample_rate, 0.25)
    return samples, _whoosh_pan(move, sound, progress)


def _whoosh_pan(move: Move, sound: Whoosh, progress: np.ndarray) -> np.ndarray:
    if sound.travels:
        # The sound travels with the camera: left to right for a move to the right.
        sign = 1.0 if _direction(move) > 0 else -1.0
        return sign * (np.clip(progress, 0.0, 1.0) - 0.5) * 1.4
    return np.full(len(progress), _target_pan(move), np.float32)


def impact(rng: np.random.Generator, sample_rate: int, strength: float = 1.0, soft: bool = False) -> np.ndarray:
    """A hit: a thump whose pitch drops fast, with a short click on top; mono, onset at sample 0.

    ``soft`` (a melt landing) makes it a duller splat: lower, longer, with less click.
    """
    count = round(0.5 * sample_rate)
    time = np.arange(count) / sample_rate
    start_hz, end_hz = rng.uniform(110.0, 150.0), rng.uniform(45.0, 60.0)
    if soft:
        start_hz, end_hz = start_hz * 0.75, end_hz * 0.85
    pitch = end_hz + (start_hz - end_hz) * np.exp(-time / 0.03)
    thump = np.sin(2 * np.pi * np.cumsum(pitch) / sample_rate) * np.exp(-time / (0.2 if soft else 0.13))
    noise = rng.standard_normal(count)
    # The first difference of noise is a cheap high-pass: the click is all top end.
    click = np.diff(noise, prepend=0.0) * np.exp(-time / (0.002 if soft else 0.004))
    sound = 0.75 * thump + (0.08 if soft else 0.18) * click
    attack = min(count, round(0.002 * sample_rate))
    sound[:attack] *= _rise(attack)
    release = round(0.05 * sample_rate)
    sound[-release:] *= _rise(release)[::-1]
    return sound * strength


def boing(
    rng: np.random.Generator, move: Move, sound: Boing, count: int, sample_rate: int, seconds: float
) -> np.ndarray:
    """A cartoon spring: a sine that bends up into its note and wobbles with vibrato; mono.

    Inflate bends the note up over the move, deflate lets it sag an octave like a balloon; the
    vibrato runs at the move's own rate (its ``frequency`` cycles per clip, or turns per
    second for a spin) and settles as the spring does.
    """
    time = np.arange(count) / sample_rate
    progress, _ = _progress_and_speed(move.easing, count, sample_rate)
    base = rng.uniform(170.0, 300.0)
    settle = np.exp(-time / rng.uniform(0.3, 0.5))
    semitones = -5.0 * np.exp(-time / 0.03)  # the quick upward bend into the note
    vibrato_hz, depth = _vibrato(move, sound, count / sample_rate, seconds)
    if sound.bend:
        semitones = semitones + sound.bend * progress
    semitones = semitones + depth * (0.4 + 0.6 * settle) * _sine(vibrato_hz * time)
    turns = _turns(np.cumsum(base * 2 ** (semitones / 12)) / sample_rate) * np.float32(2 * np.pi)
    tone = np.sin(turns) + 0.3 * np.sin(2 * turns) + 0.1 * np.sin(3 * turns)
    envelope = (0.25 + 0.75 * settle) * _edge_envelope(count, sample_rate, 0.1, attack=0.005, release=0.08)
    return 0.22 * _strength(move, sound) * tone * envelope


def _vibrato(move: Move, sound: Boing, move_seconds: float, seconds: float) -> tuple[float, float]:
    """The vibrato's rate in Hz and depth in semitones for a boing."""
    if sound.vibrato_follows_turns:
        turns_per_second = abs(move.amount) / max(move_seconds, 1e-3)
        return float(np.clip(turns_per_second, 1.0, 12.0)), sound.vibrato_depth
    rate = move.frequency / seconds if move.frequency > 0 else sound.vibrato_hz
    return float(np.clip(rate, 2.0, 16.0)), sound.vibrato_depth


def rumble(
    rng: np.random.Generator, move: Move, sound: Rumble, count: int, sample_rate: int, seconds: float
) -> np.ndarray:
    """A camera shake's rumble: low noise and a sub tone throbbing at the shake rate; mono."""
    time = np.arange(count) / sample_rate
    rate = move.frequency / seconds if move.frequency > 0 else rng.uniform(6.0, 10.0)
    noise = _band_noise(rng, count, sample_rate, np.full(count, rng.uniform(55.0, 90.0)), 0.8)
    sub = _sine(rng.uniform(38.0, 50.0) * time)
    throb = 0.6 + 0.4 * np.abs(_sine(0.5 * rate * time))
    level = 0.35 * _strength(move, sound)
    return level * (noise + 0.5 * sub) * throb * _edge_envelope(count, sample_rate, 0.25)


# --- building blocks ---------------------------------------------------------------------------


def _band_noise(
    rng: np.random.Generator, count: int, sample_rate: int, centre_hz: np.ndarray, octaves: float
) -> np.ndarray:
    """Noise through a band centred on ``centre_hz`` (one value per sample), about unit RMS.

    Synthesised frame by frame in the frequency domain (random spectra shaped by a Gaussian in
    log-frequency, overlap-added by halves with a sine window, whose squares sum to a constant so
    the noise's level does not ripple): a moving band costs no per-sample loop, and shaping each
    frame to the same power keeps the level steady as the band sweeps.
    """
    frame = 1024
    hop = frame // 2
    frames = count // hop + 2
    bins = np.maximum(np.fft.rfftfreq(frame, 1.0 / sample_rate), 1.0)
    # Frame k is centred on output sample k*hop (the output starts half a frame in, where two
    # windows overlap fully).
    at = np.clip(np.arange(frames) * hop, 0, count - 1)
    centres = centre_hz[at]
    # A steady band (the ambience, a rumble) has one shape for every frame: shaped once.
    if np.all(centres == centres[0]):
        centres = centres[:1]
    distance = (np.log2(bins)[None, :] - np.log2(centres)[:, None]).astype(np.float32)
    shape = np.exp(np.float32(-0.5 / octaves**2) * distance**2)
    shape /= np.sqrt(np.sum(shape**2, axis=1, keepdims=True))
    spectra = _complex_gaussian(rng, (frames, len(bins)))
    spectra *= shape
    window = np.sin(np.pi * (np.arange(frame, dtype=np.float32) + 0.5) / frame)
    grains = scipy.fft.irfft(spectra, n=frame, axis=1) * window
    chunks = np.zeros((frames + 1, hop), np.float32)
    chunks[:frames] += grains[:, :hop]
    chunks[1:] += grains[:, hop:]
    signal = chunks.reshape(-1)[hop : hop + count]
    rms = np.sqrt(np.mean(signal**2))
    return signal / rms if rms > 0 else signal


def _progress_and_speed(easing: Easing, count: int, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """A move's eased progress per sample, and its speed scaled to peak at 1."""
    steps = max(2, round(count / sample_rate * _CONTROL_RATE))
    control = np.linspace(0.0, 1.0, steps)
    progress = ease(easing, control)
    speed = np.abs(np.gradient(progress, control))
    # A 10 ms average softens the corners of curves like "bounce" so the level never clicks.
    width = min(steps, 10)
    speed = np.convolve(speed, np.ones(width) / width, mode="same")
    speed /= max(float(speed.max()), 1e-9)
    positions = np.linspace(0.0, 1.0, count)
    progress = np.interp(positions, control, progress).astype(np.float32)
    return progress, np.interp(positions, control, speed).astype(np.float32)


def _direction(move: Move) -> int:
    """+1 when a move pushes in, right, down or clockwise; -1 the other way."""
    return 1 if move.amount >= kind_of(move.kind).neutral else -1


def _strength(move: Move, sound: Sound) -> float:
    """How hard a move is, 0.4 (gentle) to 1 (as strong as effects get), to scale its sound."""
    return float(np.clip(_raw_strength(move, sound), 0.4, 1.0))


def _raw_strength(move: Move, sound: Sound) -> float:
    """A move's amount on a common scale where 1 is a strong move of its kind (``sound.strong``)."""
    if kind_of(move.kind).unit == "scale":
        return abs(math.log(max(move.amount, 1e-3))) / math.log(sound.strong)
    return abs(move.amount) / sound.strong


def _target_pan(move: Move) -> float:
    """A sound sits where its move happens: left for a target on the left."""
    if move.target is None:
        return 0.0
    return float(np.clip((move.target[0] - 0.5) * 1.2, -0.6, 0.6))


def _pan_gains(position: float | np.ndarray) -> np.ndarray:
    """Equal-power left/right gains for positions from -1 (left) to 1 (right)."""
    angle = (np.clip(position, -1.0, 1.0) + 1.0) * np.pi / 4
    return np.stack([np.cos(angle), np.sin(angle)], axis=-1) * math.sqrt(2)


def _place(mix: np.ndarray, sound: np.ndarray, start: int, pan: float | np.ndarray) -> None:
    """Add a mono ``sound`` into the stereo ``mix`` from sample ``start``, cut at the clip's end."""
    room = len(mix) - start
    if room <= 0:
        return
    sound = sound[:room]
    gains = _pan_gains(pan[:room] if isinstance(pan, np.ndarray) else pan)
    mix[start : start + len(sound)] += sound[:, None] * gains


def _edge_envelope(
    count: int, sample_rate: int, share: float, attack: float = 0.06, release: float = 0.06
) -> np.ndarray:
    """Raised-cosine fades at both ends, at most ``share`` of the sound each."""
    seconds = count / sample_rate
    return _fades(count, sample_rate, min(attack, share * seconds), min(release, share * seconds))


def _fades(count: int, sample_rate: int, fade_in: float, fade_out: float) -> np.ndarray:
    envelope = np.ones(count, np.float32)
    rise = min(count, round(fade_in * sample_rate))
    fall = min(count, round(fade_out * sample_rate))
    if rise:
        envelope[:rise] *= _rise(rise)
    if fall:
        envelope[count - fall :] *= _rise(fall)[::-1]
    return envelope


def _rise(count: int) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.pi * np.arange(count) / count)


def _complex_gaussian(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Complex64 values whose real and imaginary parts are independent standard normals.

    Box-Muller from float32 uniforms: a third of the time of NumPy's normal generator, which
    was the soundtrack's largest cost.
    """
    uniform = rng.random((2, *shape), dtype=np.float32)
    radius = np.sqrt(np.float32(-2.0) * np.log1p(-uniform[0]))
    angle = uniform[1] * np.float32(2 * np.pi)
    values = np.empty(shape, np.complex64)
    values.real = radius * np.cos(angle)
    values.imag = radius * np.sin(angle)
    return values


def _turns(cycles: np.ndarray) -> np.ndarray:
    """How far into its cycle (0 to 1) each of ``cycles`` (float64) is, as float32.

    A float32 sine of the whole phase of a 5 s, 1 kHz note would be out by a few degrees;
    dropping the whole cycles first keeps it exact to about a millionth of a turn.
    """
    return (cycles - np.floor(cycles)).astype(np.float32)


def _steady_turns(hz: float, count: int, sample_rate: int) -> np.ndarray:
    """``_turns(hz * time)`` for a steady tone, in float32 throughout: one block of turns and
    each block's starting turn, added and wrapped (the float64 passes were the pad's main cost)."""
    block = 4096
    step = hz / sample_rate
    within = _turns(np.arange(block) * step)
    starts = _turns(np.arange(-(-count // block)) * (block * step))
    turns = (within[None, :] + starts[:, None]).reshape(-1)[:count]
    return turns - np.floor(turns)


def _sine(cycles: np.ndarray, phase: float = 0.0) -> np.ndarray:
    """``sin(2 pi cycles + phase)`` as float32, ``cycles`` (float64) counted in turns."""
    return np.sin(_turns(cycles) * np.float32(2 * np.pi) + np.float32(phase))


def _midi_hz(note: int) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def _master(mix: np.ndarray, sample_rate: int) -> np.ndarray:
    """High-pass away DC and rumble below hearing, tame peaks, normalise, fade the edges."""
    mix = mix.astype(np.float32)
    spectrum = scipy.fft.rfft(mix, axis=0)
    hz = np.fft.rfftfreq(len(mix), 1.0 / sample_rate)
    spectrum *= np.clip((hz - 15.0) / 15.0, 0.0, 1.0).astype(np.float32)[:, None]
    mix = scipy.fft.irfft(spectrum, n=len(mix), axis=0)
    peak = float(np.max(np.abs(mix)))
    if peak == 0:
        return mix.astype(np.float32)
    # A gentle tanh knee squeezes the loudest hits by a few dB, so normalising to the peak
    # does not leave the whooshes and the bed timid.
    drive = 1.5
    mix = np.tanh(np.float32(drive / peak) * mix) / np.float32(math.tanh(drive))
    mix *= np.float32(10 ** (PEAK_DBFS / 20) / float(np.max(np.abs(mix))))
    mix *= _fades(len(mix), sample_rate, EDGE_FADE_SECONDS, EDGE_FADE_SECONDS).astype(np.float32)[:, None]
    return mix


# --- the user's audio --------------------------------------------------------------------------


def prepare_given_audio(source: Path, seconds: float, out_path: Path) -> None:
    """Fit the user's audio to the clip: ``seconds`` long (cut, or padded with silence), 44.1 kHz
    stereo, loudness-normalised to -16 LUFS, faded in over 0.05 s and out over its last 0.5 s.

    Written as 16-bit PCM WAV, or as AAC when ``out_path`` ends in ``.m4a``, ``.aac`` or
    ``.mp4``. Any format ffmpeg reads is accepted; :class:`AudioError` says why one is not.
    """
    if seconds <= 0:
        raise ValueError(f"need a positive length, got {seconds} s")
    info = _require_audio(source, "the audio file")
    fit = f"aresample={SAMPLE_RATE},aformat=channel_layouts=stereo,apad=whole_dur={seconds:.6f},atrim=0:{seconds:.6f}"
    normalise = _loudnorm_filter(source, fit)
    # A short file fades out where it ends rather than where the clip does, so it never stops
    # with a click before the silence.
    content = min(seconds, info.duration) if info.duration > 0 else seconds
    fade_out = max(0.0, content - 0.5)
    shape = f"afade=t=in:d={min(0.05, content):.6f},afade=t=out:st={fade_out:.6f}:d={content - fade_out:.6f}"
    # loudnorm works at 192 kHz internally; bring it back to 44.1 kHz before the fades.
    chain = ",".join(part for part in (fit, normalise, f"aresample={SAMPLE_RATE}", shape) if part)
    codec = ["-c:a", "aac", "-b:a", "192k"] if out_path.suffix.lower() in _AAC_SUFFIXES else ["-c:a", "pcm_s16le"]
    _ffmpeg(
        ["-i", str(source), "-map", "0:a:0", "-vn", "-sn", "-dn", "-af", chain, "-ar", str(SAMPLE_RATE), "-ac", "2"]
        + ["-t", f"{seconds:.6f}", *codec, str(out_path)],
        "the audio file could not be converted",
    )


def _loudnorm_filter(source: Path, fit: str) -> str:
    """The second pass of a two-pass loudnorm, fed the first pass's measurement, so the gain is
    one linear change (the fades stay fades); empty for silence, which has no loudness to fix."""
    output = _ffmpeg(
        ["-i", str(source), "-map", "0:a:0", "-vn", "-af", f"{fit},{_LOUDNORM}:print_format=json", "-f", "null", "-"],
        "the audio file could not be measured",
        loglevel="info",
    )
    measured = _last_json(output)
    try:
        values = {key: float(measured[key]) for key in ("input_i", "input_lra", "input_tp", "input_thresh")}
    except (KeyError, TypeError, ValueError) as exc:
        raise AudioError("the audio file's loudness could not be measured") from exc
    if not all(math.isfinite(value) for value in values.values()) or values["input_i"] < -70:
        return ""
    return (
        f"{_LOUDNORM}:measured_I={values['input_i']}:measured_LRA={values['input_lra']}"
        f":measured_TP={values['input_tp']}:measured_thresh={values['input_thresh']}:linear=true"
    )


def _last_json(text: str) -> dict[str, str]:
    blocks = re.findall(r"\{[^{}]*\}", text)
    if not blocks:
        raise AudioError("the audio file's loudness could not be measured")
    try:
        return json.loads(blocks[-1])
    except json.JSONDecodeError as exc:
        raise AudioError("the audio file's loudness could not be measured") from exc


def replace_audio(video: Path, audio: Path, out_path: Path) -> None:
    """A copy of ``video`` with its sound replaced by ``audio`` (encoded as AAC), the video stream
    copied untouched and the audio cut, or padded with silence, to the video's length."""
    length = _video_seconds(video)
    _require_audio(audio, "the audio file")
    _ffmpeg(
        ["-i", str(video), "-i", str(audio), "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy"]
        + ["-af", "apad", "-c:a", "aac", "-b:a", "192k", "-ar", str(SAMPLE_RATE), "-t", f"{length:.6f}"]
        + ["-movflags", "+faststart", str(out_path)],
        "the audio could not be put into the video",
    )


def _video_seconds(video: Path) -> float:
    """The length of the video stream itself (the container may be longer because of its audio),
    measured on its frames: the header's duration is not trusted."""
    try:
        info = probe(video)
    except ProbeError as exc:
        raise AudioError(f"{video.name} could not be read as a video") from exc
    if not info.has_video:
        raise AudioError(f"{video.name} has no video stream")
    if info.video_seconds <= 0:
        raise AudioError(f"{video.name} holds no timed frames to measure")
    return info.video_seconds


def _require_audio(path: Path, what: str) -> MediaInfo:
    try:
        info = probe(path)
    except ProbeError as exc:
        raise AudioError(f"{what} could not be read as audio") from exc
    if not info.has_audio:
        raise AudioError(f"{what} has no audio stream")
    return info


def _ffmpeg(args: list[str], failure: str, loglevel: str = "error") -> str:
    """Run ffmpeg and return what it printed; :class:`AudioError` with its last words on failure."""
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", loglevel, "-y", *args]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, errors="replace", timeout=_FFMPEG_TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired as exc:
        raise AudioError(f"{failure}: ffmpeg took longer than {_FFMPEG_TIMEOUT_SECONDS} s") from exc
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        raise AudioError(f"{failure}: {lines[-1] if lines else f'ffmpeg exited with {result.returncode}'}")
    return result.stderr
