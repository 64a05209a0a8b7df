"""Video Translation end to end, through the API, on carphone with English sentences spoken by
espeak-ng over a quiet 5 kHz tone (the "background"), dubbed in Kokoro's voices (Spanish's default).

Measured on what a client downloads: the recognised English against the known sentences (word
error rate), the Spanish track against the dub's voice saying each line in Spanish and in
English (cepstral distance after time alignment), the SRT files' times, burned-in captions (pixels in the caption
band), the background tone's level, held pictures, and the timing report.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pysubs2
import pytest
from fastapi.testclient import TestClient
from scipy.signal import resample_poly

from reelsmith.api.app import create_app
from reelsmith.media.decode import read_frames
from reelsmith.media.probe import probe
from reelsmith.media.sound import read_audio
from reelsmith.models.interfaces import Voice
from reelsmith.models.registry import Models, load_models
from reelsmith.pipelines.video_translation.speakers import cepstra
from reelsmith.pipelines.video_translation.studio_voice import STYLES
from reelsmith.runtime import Runtime
from tests.conftest import Team, make_settings, run_pending
from tests.support.speech import RATE, SENTENCES, TONE_HZ, SpokenLine, spoken_clip

CREATE = "/api/open/v3/content/video/createbytranslate"
INFO = "/api/open/v3/content/video/infobymodelid"
QUOTA = "/api/open/v3/faceswap/quota/info"
TWO_VOICES = (
    "The weather is nice today.",
    "Yes, it is sunny and warm.",
    "We are going to the park.",
    "I will bring some water.",
)
STUDIO = {
    "no_translate_words": ["park"],
    "fixed_words": {"lunch": "almuerzo"},
    "pronounced_words": {"amigos": "amigos y amigas, amigos y amigas"},
    "style": "sad",
}
# On-screen subtitles of the source, in the top band, saying something else than the speech.
SHOWN_ASS = """[Script Info]
ScriptType: v4.00+
PlayResX: 176
PlayResY: 144

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Top,DejaVu Sans,12,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,1,0,8,10,10,6,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.40,0:00:01.60,Top,,0,0,0,,The cat is black.
Dialogue: 0,0:00:02.50,0:00:04.50,Top,,0,0,0,,The dog is white.
Dialogue: 0,0:00:05.40,0:00:07.50,Top,,0,0,0,,The house is big.
"""  # noqa: E501


@dataclass
class Task:
    body: dict[str, Any]
    task_id: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def report(self) -> dict[str, Any]:
        return self.info["translation_report"]  # type: ignore[no-any-return]


@dataclass
class Run:
    team: Team
    lines: list[SpokenLine]
    two_voices: list[SpokenLine]
    source: Path
    tasks: dict[str, list[Task]]
    credits_before: int

    def one(self, name: str) -> Task:
        return self.tasks[name][0]


@pytest.fixture(scope="module")
def run(media_dir: Path, media_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    folder = tmp_path_factory.mktemp("translation")
    lines = spoken_clip(media_dir / "spoken.mp4")
    two_voices = spoken_clip(media_dir / "two_voices.mp4", TWO_VOICES, voices=("en-us+m3", "en-us+f2"), tone=False)
    (media_dir / "shown.ass").write_text(SHOWN_ASS)
    runtime = Runtime(make_settings(folder / "data"))
    runtime.prepare()
    spoken = f"{media_url}/spoken.mp4"
    bodies = {
        "es_fr": {"url": spoken, "language": "es,fr", "caption_type": 2},
        "captions": {"url": spoken, "language": "es", "caption_type": 3, "caption_url": f"{media_url}/shown.ass"},
        "no_background": {"url": spoken, "language": "es", "remove_bgm": True},
        "studio_held": {"url": spoken, "language": "es", "studio_voice": STUDIO, "dynamic_duration": True},
        "studio": {"url": spoken, "language": "es", "studio_voice": STUDIO},
        "speakers": {"url": f"{media_url}/two_voices.mp4", "language": "es"},
        # The held case again with lip-sync: the made picture must keep the holds.
        "lipsync": {"url": spoken, "language": "es", "lipsync": True, "studio_voice": STUDIO, "dynamic_duration": True},
    }
    with TestClient(create_app(runtime)) as client:
        account, creds = runtime.accounts.create(name="t", plan="pro", credits=1000)
        team = Team(client, creds.client_id, creds.api_key, account.id, account.team_id)
        tasks: dict[str, list[Task]] = {}
        for name, body in bodies.items():
            answer = team.post(CREATE, body)
            assert answer["code"] == 1000, answer
            tasks[name] = [Task(body, result["data"]["_id"]) for result in answer["all_results"]]
        credits_before = team.get(QUOTA)["data"]["credit"]
        run_pending(runtime)
        for name, group in tasks.items():
            for index, task in enumerate(group):
                task.info = team.get(INFO, video_model_id=task.task_id)["data"]
                if task.info["video_status"] != 3:
                    continue
                splits = task.info["audio_splits"]
                urls = {
                    "video.mp4": task.info["video"],
                    "no_caption.mp4": splits["no_caption_video_url"],
                    "original.srt": splits["original_srt_url"],
                    "translated.srt": splits["translated_srt_url"],
                }
                for file_name, url in urls.items():
                    task.files[file_name] = team.download(url, folder / f"{name}{index}-{file_name}")
        yield Run(team, lines, two_voices, media_dir / "spoken.mp4", tasks, credits_before)
    runtime.db.dispose()


def test_every_task_finished(run: Run) -> None:
    states = {name: [t.info["video_status"] for t in group] for name, group in run.tasks.items()}
    assert states == {name: [3] * len(group) for name, group in run.tasks.items()}


# --- recognition ------------------------------------------------------------------------------


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = _words(reference), _words(hypothesis)
    distance = np.arange(len(hyp) + 1)
    for i, word in enumerate(ref, 1):
        previous, distance[0] = distance.copy(), i
        for j, guess in enumerate(hyp, 1):
            distance[j] = min(previous[j] + 1, distance[j - 1] + 1, previous[j - 1] + (word != guess))
    return float(distance[-1]) / len(ref)


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower()).split()


def test_the_english_is_recognised_with_under_10_percent_word_errors(run: Run) -> None:
    spanish = run.one("es_fr")
    recognised = " ".join(event.plaintext for event in pysubs2.load(str(spanish.files["original.srt"])))
    assert word_error_rate(" ".join(SENTENCES), recognised) < 0.10, recognised
    assert spanish.report["source_language"] == "en"
    assert spanish.report["recognition"]["engine"] == "faster-whisper (base)"


def test_several_languages_make_several_tasks_sharing_one_recognition(run: Run) -> None:
    spanish, french = run.tasks["es_fr"]
    assert (spanish.info["language"], french.info["language"]) == ("es", "fr")
    assert spanish.files["original.srt"].read_text() == french.files["original.srt"].read_text()
    assert sorted([spanish.report["recognition"]["shared"], french.report["recognition"]["shared"]]) == [False, True]
    assert french.report["translation"]["route"] == ["en", "es", "fr"]  # through Spanish: no eng-fra pair
    assert "parc" in french.files["translated.srt"].read_text()
    assert "parque" in spanish.files["translated.srt"].read_text()


def test_caption_url_replaces_recognition(run: Run) -> None:
    task = run.one("captions")
    assert task.report["recognition"] == {"engine": "caption_url", "shared": False}
    original = [event.plaintext for event in pysubs2.load(str(task.files["original.srt"]))]
    assert original == ["The cat is black.", "The dog is white.", "The house is big."]
    translated = [event.plaintext for event in pysubs2.load(str(task.files["translated.srt"]))]
    assert translated == ["El gato es negro.", "El perro es blanco.", "La casa es grande."]


# --- the new voice ----------------------------------------------------------------------------


def _dtw(a: np.ndarray, b: np.ndarray) -> float:
    """Mean cepstral distance along the best time alignment of two frame sequences."""
    cost = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    total = np.full((len(a) + 1, len(b) + 1), np.inf)
    total[0, 0] = 0.0
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            total[i, j] = cost[i - 1, j - 1] + min(total[i - 1, j], total[i, j - 1], total[i - 1, j - 1])
    return float(total[-1, -1]) / (len(a) + len(b))


def _spoken(text: str, voice: Voice, models: Models) -> np.ndarray:
    """``text`` said by ``voice`` (in its own synthesiser, as the dub was), as cepstra at 16 kHz."""
    speech = models.synthesizer_for(voice).speak(text, voice, STYLES["professional"])
    return cepstra(resample_poly(speech.samples, 16_000, speech.sample_rate).astype(np.float32))


def test_the_new_track_is_spanish_speech_of_the_expected_length(run: Run, tmp_path: Path) -> None:
    task = run.one("es_fr")
    sound = read_audio(task.files["no_caption.mp4"], 16_000)
    # The dub's voice (Kokoro's, Spanish's default) saying the Spanish line and the English one.
    models = load_models(make_settings(tmp_path / "data"))
    voice = next(v for v in models.voices("es") if v.voice_id == task.report["speech"]["voices"]["0"])
    for line in task.report["lines"]:
        heard = cepstra(sound[int(line["output_start"] * 16_000) : int(line["output_end"] * 16_000)])
        spanish = _dtw(heard, _spoken(line["translation"], voice, models))
        english = _dtw(heard, _spoken(line["text"], voice, models))
        assert spanish < 0.7 * english, (line, spanish, english)
        # The line's speech lasts what it was synthesised as, over the stretch reported.
        assert line["output_end"] - line["output_start"] == pytest.approx(
            line["speech_seconds"] / line["stretch"], abs=0.01
        )
        assert line["stretch"] <= 1.3 and line["held_seconds"] == 0


def test_outputs_keep_the_sources_length_and_picture(run: Run) -> None:
    source = probe(run.source)
    for name in ("video.mp4", "no_caption.mp4"):
        output = probe(run.one("es_fr").files[name])
        assert output.has_audio and output.audio_codec == "aac"
        assert output.duration == pytest.approx(source.duration, abs=0.1)
        assert output.frame_count == source.frame_count
        assert (output.width, output.height) == (source.width, source.height)


def test_srt_times_are_monotonic_and_inside_the_video(run: Run) -> None:
    seconds = probe(run.source).duration
    for task in [*run.tasks["es_fr"], run.one("captions"), run.one("studio")]:
        for name in ("original.srt", "translated.srt"):
            events = list(pysubs2.load(str(task.files[name])))
            assert events and all(e.plaintext.strip() for e in events)
            starts = [e.start for e in events]
            assert starts == sorted(starts)
            assert all(0 <= e.start < e.end <= seconds * 1000 + 1 for e in events)
            assert all(a.end <= b.start + 1 for a, b in zip(events, events[1:], strict=False)), name


def _tone_level(sound: np.ndarray, start: float, end: float, rate: int = RATE) -> float:
    piece = sound[int(start * rate) : int(end * rate)]
    spectrum = np.abs(np.fft.rfft(piece * np.hanning(len(piece))))
    bin_hz = rate / len(piece)
    return float(spectrum[int(TONE_HZ / bin_hz) - 2 : int(TONE_HZ / bin_hz) + 3].max() / len(piece))


def test_background_plays_on_between_lines_and_sinks_under_the_voice(run: Run) -> None:
    source = read_audio(run.source, RATE)
    kept = read_audio(run.one("es_fr").files["no_caption.mp4"], RATE)
    removed = read_audio(run.one("no_background").files["no_caption.mp4"], RATE)
    lines = run.lines
    # The middle of the gap between the first two lines, and the middle of the second line.
    gap = ((lines[0].end + lines[1].start) / 2 - 0.15, (lines[0].end + lines[1].start) / 2 + 0.15)
    during = ((lines[1].start + lines[1].end) / 2 - 0.3, (lines[1].start + lines[1].end) / 2 + 0.3)
    level = _tone_level(source, *gap)
    assert _tone_level(kept, *gap) == pytest.approx(level, rel=0.25)
    assert _tone_level(kept, *during) < level * 10 ** (-18 / 20)  # ducked by 24 dB
    assert _tone_level(removed, *gap) < level * 0.02
    assert run.one("no_background").report["background"] == "removed"


# --- captions ---------------------------------------------------------------------------------


def _frames_at(path: Path, seconds: float, size: tuple[int, int]) -> np.ndarray:
    fps = probe(path).fps
    for index, frame in enumerate(read_frames(path, size)):
        if index >= round(seconds * fps):
            return frame.astype(np.int16)
    raise AssertionError(f"{path.name} is shorter than {seconds} s")


def test_captions_are_burned_only_into_the_captioned_video(run: Run) -> None:
    task = run.one("es_fr")
    size = (176, 144)
    moment = (run.lines[1].start + run.lines[1].end) / 2
    source = _frames_at(run.source, moment, size)
    plain = _frames_at(task.files["no_caption.mp4"], moment, size)
    captioned = _frames_at(task.files["video.mp4"], moment, size)
    band, above = slice(100, 144), slice(0, 90)
    # The caption-free video is the source's own picture (the stream is copied).
    assert np.abs(plain - source).max() == 0
    # Above the captions the captioned video differs only by re-encoding.
    noise = np.abs(captioned[above] - plain[above]).mean()
    assert noise < 4
    assert np.abs(captioned[band] - plain[band]).mean() > 3 * noise + 4
    gap = (run.lines[0].end + run.lines[1].start) / 2
    between = _frames_at(task.files["video.mp4"], gap, size)[band] - _frames_at(run.source, gap, size)[band]
    assert np.abs(between).mean() < 4


def test_caption_type_3_covers_the_on_screen_subtitles_where_they_were(run: Run) -> None:
    task = run.one("captions")
    size = (176, 144)
    moment = 3.5  # "The dog is white." is on screen at the top
    plain = _frames_at(task.files["no_caption.mp4"], moment, size)
    replaced = _frames_at(task.files["video.mp4"], moment, size)
    top, bottom = slice(0, 30), slice(110, 144)
    noise = np.abs(replaced[bottom] - plain[bottom]).mean()
    assert noise < 4
    assert np.abs(replaced[top] - plain[top]).mean() > 3 * noise + 4


# --- studio_voice, timing, speakers -------------------------------------------------------------


def _translated(task: Task) -> list[str]:
    return [event.plaintext for event in pysubs2.load(str(task.files["translated.srt"]))]


def test_studio_voice_words_are_kept_forced_and_pronounced(run: Run) -> None:
    plain, studio = run.one("es_fr"), run.one("studio")
    lines = _translated(studio)
    assert "park" in lines[1] and "parque" not in lines[1]  # no_translate_words
    assert "almuerzo" in lines[2]  # fixed_words
    # pronounced_words change what is said (much longer) but not the captions.
    assert "amigos" in lines[1] and "amigas" not in lines[1]
    assert studio.report["lines"][1]["speech_seconds"] > plain.report["lines"][1]["speech_seconds"] + 1.5
    assert studio.report["speech"]["style"] == "sad"


def test_speech_that_does_not_fit_is_sped_up_or_holds_the_picture(run: Run) -> None:
    source = probe(run.source)
    squeezed, held = run.one("studio"), run.one("studio_held")
    # Without dynamic_duration: the output keeps the source's length and the long line is
    # sped up past the comfortable 1.3x.
    assert probe(squeezed.files["video.mp4"]).duration == pytest.approx(source.duration, abs=0.1)
    assert squeezed.report["lines"][1]["stretch"] > 1.3
    # With it: the picture is held for the time the line still needs.
    long_line = held.report["lines"][1]
    assert long_line["stretch"] == pytest.approx(1.3) and long_line["held_seconds"] > 0.5
    added = sum(line["held_seconds"] for line in held.report["lines"])
    output = probe(held.files["video.mp4"])
    assert output.duration == pytest.approx(source.duration + added, abs=0.1)
    assert held.report["output_seconds"] == pytest.approx(source.duration + added, abs=0.01)
    # During the hold the frame stands still.
    hold_start = long_line["start"] + long_line["slot_seconds"] + long_line["borrowed_seconds"]
    size = (176, 144)
    first = _frames_at(held.files["no_caption.mp4"], hold_start + 0.1, size)
    later = _frames_at(held.files["no_caption.mp4"], hold_start + long_line["held_seconds"] - 0.1, size)
    assert np.abs(first - later).mean() < 1.0
    # The captions follow the longer timeline (a line may start where voice activity does,
    # whose spans are padded by 0.1 s).
    last = list(pysubs2.load(str(held.files["translated.srt"])))[-1]
    assert last.start / 1000 > run.lines[2].start + added - 0.1


def _pitch(sound: np.ndarray, start: float, end: float) -> float:
    from reelsmith.pipelines.video_translation.speakers import voice_features

    return float(np.exp(voice_features(sound[int(start * 16_000) : int(end * 16_000)])[-1]))


def test_each_speaker_gets_a_voice_of_their_own(run: Run) -> None:
    task = run.one("speakers")
    assert task.report["speakers"] == 2
    assert [line["speaker"] for line in task.report["lines"]] == [0, 1, 0, 1]
    voices = task.report["speech"]["voices"]
    assert voices["0"] != voices["1"]
    sound = read_audio(task.files["no_caption.mp4"], 16_000)
    pitches = [_pitch(sound, line["output_start"], line["output_end"]) for line in task.report["lines"]]
    assert min(pitches[1], pitches[3]) > 1.4 * max(pitches[0], pitches[2]), pitches


def test_lipsync_is_charged_double_when_it_succeeds(run: Run) -> None:
    task, plain = run.one("lipsync"), run.one("studio_held")
    assert task.info["lipsync"] is True
    # The same source: the same locked seconds, twice the credits.
    assert task.info["deduction_lock_duration"] == plain.info["deduction_lock_duration"]
    assert task.info["deduction_credit"] == 2 * plain.info["deduction_credit"]
    assert task.info["deduction_duration"] == task.info["deduction_lock_duration"]
    charged = sum(t.info["deduction_credit"] for group in run.tasks.values() for t in group)
    assert charged == sum(
        t.info["deduction_lock_duration"] * (2 if t.info["lipsync"] else 1) for g in run.tasks.values() for t in g
    )
    assert run.credits_before == 1000 - charged
    assert run.team.get(QUOTA)["data"]["credit"] == 1000 - charged  # nothing refunded


def test_lipsync_keeps_the_held_timeline_and_sound(run: Run) -> None:
    task, plain = run.one("lipsync"), run.one("studio_held")
    report = task.report["lipsync"]
    assert report["engine"] == "reelsmith-visemes" and report["source"] == "kokoro-82m phonemes"
    assert 0 < report["frames_with_face"] <= report["frames"]
    for name in ("video.mp4", "no_caption.mp4"):
        synced, held = probe(task.files[name]), probe(plain.files[name])
        assert synced.duration == pytest.approx(held.duration, abs=0.05)
        assert abs(synced.frame_count - held.frame_count) <= 1
        assert (synced.width, synced.height) == (held.width, held.height)
    assert report["frames"] == probe(task.files["no_caption.mp4"]).frame_count
    # The same soundtrack: lip-sync changes only the picture.
    ours, theirs = read_audio(task.files["no_caption.mp4"], 16_000), read_audio(plain.files["no_caption.mp4"], 16_000)
    length = min(len(ours), len(theirs))
    assert abs(len(ours) - len(theirs)) <= 160
    assert np.abs(ours[:length] - theirs[:length]).max() < 0.02
