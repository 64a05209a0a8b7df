"""The Image to Video sound: the designed soundtrack measured against its plan, and the
user's audio fitted, normalised and muxed with the ffmpeg binary."""

from __future__ import annotations

import re
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from reelsmith.media.probe import ffmpeg_exe, probe
from reelsmith.media.sound import write_wav
from reelsmith.pipelines.image2video.audio import (
    AudioError,
    _sine,
    _steady_turns,
    design_soundtrack,
    impact_times,
    prepare_given_audio,
    replace_audio,
    soundtrack_bed,
)
from reelsmith.pipelines.image2video.plan import MotionPlan, Move
from tests.support.media import ffmpeg, make_video

RATE = 44100
WINDOW = 0.005  # seconds per RMS frame when looking for onsets


def plan_of(*moves: Move, seed: int = 7) -> MotionPlan:
    return MotionPlan(moves=moves, source="prompt", description="test plan", seed=seed)


def rms(samples: np.ndarray, start: float, end: float) -> float:
    window = samples[round(start * RATE) : round(end * RATE)]
    return float(np.sqrt(np.mean(window.astype(np.float64) ** 2)))


def onset_after(samples: np.ndarray, start: float, quiet_until: float) -> float:
    """The first moment after ``quiet_until`` where the level jumps well above the level
    measured from ``start`` to ``quiet_until``."""
    mono = samples.astype(np.float64).mean(axis=1)
    size = round(WINDOW * RATE)
    frames = mono[: len(mono) // size * size].reshape(-1, size)
    levels = np.sqrt(np.mean(frames**2, axis=1))
    first, last = round(start / WINDOW), round(quiet_until / WINDOW)
    floor = float(np.median(levels[first:last]))
    louder = np.nonzero(levels[last:] > 3 * floor)[0]
    assert len(louder), "no onset found"
    return (last + louder[0]) * WINDOW


@pytest.mark.parametrize(("seconds", "rate"), [(5.0, 44100), (2.5, 22050), (10 / 3, 48000)])
def test_soundtrack_has_the_exact_length_and_shape(seconds: float, rate: int) -> None:
    samples = design_soundtrack(plan_of(Move("zoom", 0.0, 1.0, 1.2)), seconds, rate)
    assert samples.shape == (round(seconds * rate), 2)
    assert samples.dtype == np.float32


def test_soundtrack_is_normalised_without_clipping_dc_or_clicks() -> None:
    plan = plan_of(
        Move("zoom", 0.0, 0.5, 1.4),
        Move("squish", 0.3, 0.6, 0.5),
        Move("bounce", 0.0, 1.0, 0.2, frequency=3),
        Move("shake", 0.6, 0.9, 0.03),
        Move("wobble", 0.2, 1.0, 0.2, frequency=10),
        Move("melt", 0.5, 1.0, 0.4),
    )
    samples = design_soundtrack(plan, 4.0)
    peak_db = 20 * np.log10(np.max(np.abs(samples)))
    assert -6.0 < peak_db < 0.0
    assert np.all(np.abs(samples.mean(axis=0)) < 1e-3)
    # Faded in and out: the very first and last samples are next to silence.
    assert np.max(np.abs(samples[:10])) < 0.01
    assert np.max(np.abs(samples[-10:])) < 0.01


def test_a_camera_move_whooshes_above_the_bed() -> None:
    samples = design_soundtrack(plan_of(Move("zoom", 0.1, 0.6, 1.3)), 4.0)
    # The move runs from 0.4 s to 2.4 s and is fastest in its middle (ease_in_out).
    bed = rms(samples, 0.1, 0.38)
    whoosh = rms(samples, 1.2, 1.6)
    assert whoosh > 3 * bed


def test_a_fast_camera_move_whooshes_louder_than_a_slow_one() -> None:
    fast = design_soundtrack(plan_of(Move("pan", 0.4, 0.6, 0.25)), 5.0)
    slow = design_soundtrack(plan_of(Move("pan", 0.2, 1.0, 0.25)), 5.0)
    # The same seed gives both the same bed, which the clips are normalised differently against.
    assert rms(fast, 2.4, 2.6) / rms(fast, 0.6, 0.95) > 1.5 * rms(slow, 2.4, 2.6) / rms(slow, 0.6, 0.95)


def test_a_pan_travels_across_the_stereo_field() -> None:
    samples = design_soundtrack(plan_of(Move("pan", 0.0, 1.0, 0.25, easing="linear")), 4.0)
    early = rms(samples[:, 0:1], 0.3, 0.8) / rms(samples[:, 1:2], 0.3, 0.8)
    late = rms(samples[:, 0:1], 3.2, 3.7) / rms(samples[:, 1:2], 3.2, 3.7)
    assert early > 1.5 > 1 / 1.5 > late


def test_the_squish_impact_lands_on_its_extreme() -> None:
    move = Move("squish", 0.3, 0.7, 0.3)
    (extreme,) = impact_times(move, 4.0)
    assert extreme == pytest.approx(2.0)
    samples = design_soundtrack(plan_of(move), 4.0)
    assert onset_after(samples, extreme - 0.5, extreme - 0.1) == pytest.approx(extreme, abs=0.03)


def test_every_pulse_peak_and_bounce_landing_gets_an_impact() -> None:
    pulse = Move("pulse", 0.0, 1.0, 0.3, frequency=3)
    bounce = Move("bounce", 0.2, 0.8, 0.2, frequency=5)
    assert impact_times(pulse, 6.0) == pytest.approx([1.0, 3.0, 5.0])
    assert impact_times(bounce, 6.0) == pytest.approx([2.4, 3.6, 4.8])
    samples = design_soundtrack(plan_of(pulse), 6.0)
    for extreme in impact_times(pulse, 6.0):
        assert onset_after(samples, extreme - 0.4, extreme - 0.1) == pytest.approx(extreme, abs=0.03)


def test_a_melt_lands_at_its_end_and_a_boing_starts_with_its_move() -> None:
    assert impact_times(Move("melt", 0.2, 0.6), 5.0) == pytest.approx([3.0])
    assert impact_times(Move("zoom", 0.2, 0.6), 5.0) == []
    samples = design_soundtrack(plan_of(Move("wobble", 0.5, 0.9, 0.2, frequency=12)), 4.0)
    assert onset_after(samples, 1.5, 1.9) == pytest.approx(2.0, abs=0.03)


def test_the_seed_decides_the_sound() -> None:
    moves = (Move("zoom", 0.0, 0.5, 1.3), Move("squish", 0.5, 0.8), Move("spin", 0.2, 0.6))
    first = design_soundtrack(plan_of(*moves, seed=11), 3.0)
    again = design_soundtrack(plan_of(*moves, seed=11), 3.0)
    other = design_soundtrack(plan_of(*moves, seed=12), 3.0)
    assert np.array_equal(first, again)
    assert np.max(np.abs(first - other)) > 0.1


def test_a_bed_made_ahead_gives_the_same_soundtrack() -> None:
    moves = (Move("orbit", 0.0, 1.0, 20.0), Move("squish", 0.5, 0.8))
    plan = plan_of(*moves, seed=5)
    made_ahead = design_soundtrack(plan, 2.0, RATE, soundtrack_bed(5, 2.0, RATE))
    assert np.array_equal(design_soundtrack(plan, 2.0, RATE), made_ahead)


def test_float32_oscillators_stay_in_tune_over_a_long_note() -> None:
    """Phases are reduced to a turn in float64 before the float32 sine: after 10 s a 3 kHz
    tone is still within a millionth of the float64 one."""
    time = np.arange(10 * RATE) / RATE
    exact = np.sin(2 * np.pi * 3000.0 * time + 0.3)
    assert np.max(np.abs(_sine(3000.0 * time, 0.3) - exact)) < 1e-5
    steady = np.sin(2 * np.pi * _steady_turns(3000.0, len(time), RATE).astype(np.float64))
    assert np.max(np.abs(steady - np.sin(2 * np.pi * 3000.0 * time))) < 1e-4


def test_write_wav_writes_16_bit_stereo(tmp_path: Path) -> None:
    samples = design_soundtrack(plan_of(Move("tilt", 0.0, 1.0, 0.1)), 1.5)
    path = tmp_path / "sound.wav"
    write_wav(samples, RATE, path)
    with wave.open(str(path), "rb") as read:
        assert (read.getnchannels(), read.getsampwidth(), read.getframerate()) == (2, 2, RATE)
        assert read.getnframes() == len(samples)
        pcm = np.frombuffer(read.readframes(read.getnframes()), "<i2").reshape(-1, 2)
    assert np.max(np.abs(pcm / 32767 - samples)) < 1e-4


@pytest.fixture(scope="module")
def sine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three seconds of a quiet 440 Hz tone in MP3, mono and at 22.05 kHz, as users send."""
    path = tmp_path_factory.mktemp("audio") / "tone.mp3"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050", "-t", "3", "-af", "volume=0.3", str(path))
    return path


def loudness(path: Path) -> float:
    """Integrated loudness in LUFS, measured by ffmpeg's EBU R128 meter."""
    result = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", result.stderr)[-1])


@pytest.mark.parametrize("seconds", [5.0, 2.0])
def test_given_audio_is_fitted_to_the_clip_and_normalised(sine: Path, tmp_path: Path, seconds: float) -> None:
    out = tmp_path / "fitted.wav"
    prepare_given_audio(sine, seconds, out)
    info = probe(out)
    assert info.has_audio and not info.has_video
    assert info.duration == pytest.approx(seconds, abs=0.02)
    with wave.open(str(out), "rb") as read:
        assert (read.getnchannels(), read.getframerate()) == (2, RATE)
    assert loudness(out) == pytest.approx(-16.0, abs=1.0)


def test_given_audio_is_padded_with_silence_and_faded(sine: Path, tmp_path: Path) -> None:
    out = tmp_path / "fitted.wav"
    prepare_given_audio(sine, 5.0, out)
    with wave.open(str(out), "rb") as read:
        pcm = np.frombuffer(read.readframes(read.getnframes()), "<i2").reshape(-1, 2) / 32768
    assert rms(pcm, 0.0, 0.01) < rms(pcm, 1.0, 2.0) / 4  # fading in
    assert rms(pcm, 2.75, 2.98) < rms(pcm, 1.0, 2.0) / 2  # fading out where the tone ends
    assert np.max(np.abs(pcm[round(3.05 * RATE) :])) == 0  # then silence


def test_given_audio_can_be_written_as_aac(sine: Path, tmp_path: Path) -> None:
    out = tmp_path / "fitted.m4a"
    prepare_given_audio(sine, 2.0, out)
    info = probe(out)
    assert info.audio_codec == "aac"
    assert info.duration == pytest.approx(2.0, abs=0.05)


def test_files_without_audio_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("this is not audio\n" * 20)
    with pytest.raises(AudioError, match="audio"):
        prepare_given_audio(text, 5.0, tmp_path / "out.wav")
    silent_video = make_video(tmp_path / "silent.mp4", 1, audio=False)
    with pytest.raises(AudioError, match="no audio stream"):
        prepare_given_audio(silent_video, 5.0, tmp_path / "out.wav")


@pytest.mark.parametrize("audio_seconds", [1.0, 4.0])
def test_replace_audio_keeps_the_video_and_its_length(sine: Path, tmp_path: Path, audio_seconds: float) -> None:
    video = make_video(tmp_path / "clip.mp4", 2, fps=10)
    audio = tmp_path / "new.wav"
    prepare_given_audio(sine, audio_seconds, audio)
    out = tmp_path / "replaced.mp4"
    replace_audio(video, audio, out)
    before, after = probe(video), probe(out)
    assert after.video_codec == "h264" and after.audio_codec == "aac"
    assert after.frame_count == before.frame_count
    assert after.duration == pytest.approx(2.0, abs=0.05)


def test_replace_audio_refuses_what_is_not_audio(tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", 1)
    text = tmp_path / "notes.txt"
    text.write_text("not audio")
    with pytest.raises(AudioError):
        replace_audio(video, text, tmp_path / "out.mp4")
