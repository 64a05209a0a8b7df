"""Kokoro-82M's voices (``reelsmith/models/kokoro.py``): its files are used only when present
with their recorded sha256s, it speaks each of its languages at a sane length and loudness, its
phonemes (IPA, timed by the model's own durations) cover the audio in order, the style's rate
and pitch are kept, it is the default voice where it has the language, and a voice preview plays
it. English comes back word for word through Whisper tiny.en."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy.signal import resample_poly

from reelsmith.api.app import create_app
from reelsmith.media.sound import read_audio
from reelsmith.models.interfaces import PAUSE, SynthesisError, Voice, ipa_letters
from reelsmith.models.kokoro import (
    MAX_TOKENS,
    SAMPLE_RATE,
    VOCAB,
    VOICES,
    KokoroSynthesizer,
    bundled_model_parts,
    default_voices_dir,
    split_tokens,
    threads_for,
    timed_phonemes,
    tokens_of,
)
from reelsmith.models.registry import load_models
from reelsmith.models.whisper import bundled_model_dir
from reelsmith.pipelines.video_translation.pipeline import _PREVIEW_SENTENCES
from reelsmith.pipelines.video_translation.speakers import median_pitch
from reelsmith.pipelines.video_translation.studio_voice import STYLES
from reelsmith.runtime import Runtime
from tests.conftest import Team, make_settings, run_pending
from tests.support.speech import spoken_clip

SENTENCES = {
    "en": "The weather is nice today.",
    "es": "Hoy hace muy buen tiempo.",
    "fr": "Il fait très beau aujourd'hui.",
    "it": "Oggi fa molto bel tempo.",
    "pt": "Hoje o tempo está muito bom.",
    "hi": "आज मौसम बहुत अच्छा है।",
}
CREATE = "/api/open/v3/content/video/createbytranslate"
INFO = "/api/open/v3/content/video/infobymodelid"
QUOTA = "/api/open/v3/faceswap/quota/info"


@pytest.fixture(scope="module")
def kokoro() -> KokoroSynthesizer:
    synthesizer = KokoroSynthesizer(bundled_model_parts(), default_voices_dir(), threads_for(0))
    assert synthesizer.unavailable is None, synthesizer.unavailable
    assert synthesizer.voice_problems() == {}
    return synthesizer


def _voice(synthesizer: KokoroSynthesizer, voice_id: str) -> Voice:
    return next(v for code in synthesizer.languages() for v in synthesizer.voices(code) if v.voice_id == voice_id)


def _frames_rms(samples: np.ndarray, size: int = SAMPLE_RATE // 40) -> np.ndarray:
    count = len(samples) // size
    return np.sqrt(np.mean(samples[: count * size].reshape(count, size) ** 2, axis=1))


# --- what is offered ---------------------------------------------------------------------------


def test_the_voices_of_each_language_default_first(kokoro: KokoroSynthesizer) -> None:
    assert kokoro.languages() == {"en", "es", "fr", "it", "pt", "hi"}
    english = kokoro.voices("en")
    assert english[0].voice_id == "kokoro-af_heart" and english[0].name == "Heart (American English, female, Kokoro)"
    # American voices before British ones.
    accents = ["British" in voice.name for voice in english]
    assert accents == sorted(accents) and any(accents)
    spanish = kokoro.voices("es")
    assert [v.voice_id for v in spanish] == ["kokoro-ef_dora", "kokoro-em_alex", "kokoro-em_santa"]
    assert [v.gender for v in spanish] == ["Female", "Male", "Male"]
    assert spanish[1].name == "Alex (Spanish, male, Kokoro)" and spanish[2].age == ("Old",)
    assert kokoro.voices("pt")[0].name == "Dora (Brazilian Portuguese, female, Kokoro)"
    assert kokoro.voices("de") == [] and kokoro.voices("ja") == []
    ids = [v.voice_id for code in kokoro.languages() for v in kokoro.voices(code)]
    assert len(ids) == len(set(ids)) == len(VOICES)


def test_kokoro_is_the_default_voice_where_it_has_the_language(tmp_path: Path) -> None:
    models = load_models(make_settings(tmp_path / "data"))
    assert models.voices("es")[0].voice_id == "kokoro-ef_dora"
    assert {v.voice_id.split("-")[0] for v in models.voices("es")} == {"kokoro", "espeak"}
    # espeak-ng keeps the languages Kokoro has no voice for.
    assert models.voices("de") and all(v.voice_id.startswith("espeak-") for v in models.voices("de"))
    assert models.synthesizer_for(models.voices("es")[0]).name == "kokoro-82m"


# --- files checked before use ----------------------------------------------------------------


def test_a_changed_or_missing_model_is_refused_with_the_reason(tmp_path: Path) -> None:
    damaged = tmp_path / "kokoro-v1.0.int8.onnx"
    damaged.write_bytes(b"\x08\x07" + bytes(4094))  # a tiny corrupted copy
    synthesizer = KokoroSynthesizer([damaged], default_voices_dir(), 1)
    assert synthesizer.unavailable and "sha256" in synthesizer.unavailable
    assert synthesizer.languages() == frozenset() and synthesizer.voices("es") == []
    voice = next(entry.voice for entry in VOICES if entry.stem == "ef_dora")
    with pytest.raises(SynthesisError, match="sha256"):
        synthesizer.speak("Hola.", voice, STYLES["professional"])
    missing = KokoroSynthesizer(None, default_voices_dir(), 1)
    assert missing.unavailable and "not installed" in missing.unavailable
    assert "is missing" in (KokoroSynthesizer([tmp_path / "none.onnx"], default_voices_dir(), 1).unavailable or "")
    # Without Kokoro, espeak-ng speaks every language.
    models = load_models(make_settings(tmp_path / "data", kokoro_model_file=damaged))
    assert models.voices("es") and all(v.voice_id.startswith("espeak-") for v in models.voices("es"))


def test_a_changed_or_missing_voice_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    voices = tmp_path / "voices"
    voices.mkdir()
    shutil.copy(default_voices_dir() / "ef_dora.bin", voices / "ef_dora.bin")
    (voices / "em_alex.bin").write_bytes(bytes(1024))  # a tiny corrupted copy
    synthesizer = KokoroSynthesizer(bundled_model_parts(), voices, 1)
    assert synthesizer.unavailable is None
    assert [v.voice_id for v in synthesizer.voices("es")] == ["kokoro-ef_dora"]
    assert synthesizer.languages() == {"es"}
    problems = synthesizer.voice_problems()
    assert "sha256" in problems["kokoro-em_alex"] and "missing" in problems["kokoro-em_santa"]
    alex = next(entry.voice for entry in VOICES if entry.stem == "em_alex")
    with pytest.raises(SynthesisError, match="sha256"):
        synthesizer.speak("Hola.", alex, STYLES["professional"])


def test_a_voice_file_changed_after_it_was_listed_is_not_used(tmp_path: Path) -> None:
    voices = tmp_path / "voices"
    voices.mkdir()
    shutil.copy(default_voices_dir() / "ef_dora.bin", voices / "ef_dora.bin")
    synthesizer = KokoroSynthesizer(bundled_model_parts(), voices, 1)
    dora = synthesizer.voices("es")[0]
    with (voices / "ef_dora.bin").open("r+b") as stream:
        stream.write(bytes(16))
    with pytest.raises(SynthesisError, match="changed since it was checked"):
        synthesizer.speak("Hola.", dora, STYLES["professional"])


# --- speech ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_each_language_is_spoken_with_its_phonemes_covering_the_audio(kokoro: KokoroSynthesizer, language: str) -> None:
    text = SENTENCES[language]
    speech = kokoro.speak(text, kokoro.voices(language)[0], STYLES["professional"])
    samples = speech.samples
    assert speech.sample_rate == SAMPLE_RATE and samples.dtype == np.float32
    # A sane length: the sentences take 1.5 to 2.5 s to say, padding included.
    assert 0.8 < speech.seconds < 4.0, speech.seconds
    assert 0.03 < speech.seconds / len(text) < 0.2
    # A sane loudness: clear speech, not clipped, sounding most of the time.
    frames = _frames_rms(samples)
    assert 0.02 < np.sqrt(np.mean(samples**2)) < 0.5 and np.abs(samples).max() <= 1.0
    assert np.mean(frames > 0.01) > 0.5

    phonemes = speech.phonemes
    assert phonemes[0].start == 0.0 and phonemes[-1].end == pytest.approx(speech.seconds, abs=1e-3)
    for before, after in zip(phonemes, phonemes[1:], strict=False):
        assert after.start == pytest.approx(before.end, abs=1e-6)  # in order, no gap, no overlap
    assert all(p.end > p.start for p in phonemes)
    assert all(p.symbol == PAUSE or ipa_letters(p.symbol) for p in phonemes)
    spoken = [p for p in phonemes if p.symbol != PAUSE]
    assert len(spoken) >= 10
    # The padding at either end is a pause; the sound starts with the first phoneme (within
    # 60 ms: Kokoro's sound leads its frames by 0 to 50 ms) and ends before the last pause.
    assert phonemes[0].symbol == PAUSE and phonemes[-1].symbol == PAUSE
    envelope = _frames_rms(samples, SAMPLE_RATE // 200)
    sounding = np.flatnonzero(envelope > 0.05 * envelope.max())
    assert sounding[0] / 200 == pytest.approx(spoken[0].start, abs=0.06)
    assert (sounding[-1] + 1) / 200 < phonemes[-1].start + 0.06


def test_english_comes_back_word_for_word_through_whisper(kokoro: KokoroSynthesizer) -> None:
    from faster_whisper import WhisperModel

    model_dir = bundled_model_dir()
    assert model_dir is not None
    whisper = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads_for(0))
    for voice_id in ("kokoro-af_heart", "kokoro-bm_george"):
        speech = kokoro.speak(
            "We are going to the park with our friends.", _voice(kokoro, voice_id), STYLES["professional"]
        )
        audio = resample_poly(speech.samples, 2, 3).astype(np.float32)
        segments, _ = whisper.transcribe(audio, language="en", beam_size=5)
        heard = " ".join(segment.text for segment in segments)
        assert heard.strip().lower().rstrip(".") == "we are going to the park with our friends", (voice_id, heard)


def test_the_style_sets_rate_and_pitch(kokoro: KokoroSynthesizer) -> None:
    alex = _voice(kokoro, "kokoro-em_alex")
    text = "Vamos al parque con nuestros amigos, y traemos agua."
    plain = kokoro.speak(text, alex, STYLES["professional"])
    for name in ("excited", "sad"):
        style = STYLES[name]
        styled = kokoro.speak(text, alex, style)
        assert plain.seconds / styled.seconds == pytest.approx(style.rate, rel=0.03), name
        assert styled.phonemes[-1].end == pytest.approx(styled.seconds, abs=1e-3)
        assert [p.symbol for p in styled.phonemes] == [p.symbol for p in plain.phonemes]
        heard = median_pitch(resample_poly(styled.samples, 2, 3).astype(np.float32))
        base = median_pitch(resample_poly(plain.samples, 2, 3).astype(np.float32))
        assert (heard > 1.05 * base) if style.pitch > 0 else (heard < 0.97 * base), (name, heard, base)


# --- text to tokens, durations to phonemes -------------------------------------------------------


def test_phonemes_are_espeaks_ipa_as_kokoro_reads_it(kokoro: KokoroSynthesizer) -> None:
    # Tied pairs become Kokoro's own symbols outside English; English keeps kokoro-js's spelling.
    assert kokoro.phonemize("Hoy", "es") == "ˈoɪ"
    assert "ʧ" in kokoro.phonemize("Ciao", "it") and "^" not in kokoro.phonemize("Ciao", "it")
    assert kokoro.phonemize("Hello, my friend.", "en-us") == "həlˈoʊ, maɪ fɹˈɛnd."
    # Punctuation stays between the pieces; a decimal point stays inside its number.
    assert kokoro.phonemize("Uno, dos; tres.", "es").count(",") == 1
    assert "," not in kokoro.phonemize("3,5", "es")
    assert all(symbol in VOCAB for symbol in kokoro.phonemize("Bonjour, comment allez-vous ?", "fr-fr"))


def test_durations_time_the_phonemes_in_ipa() -> None:
    tokens = tokens_of("ˈaː b ˈi.")  # ˈ a ː _ b _ ˈ i .
    # In frames, the padding tokens' included: 0-4 padding, 4-5 ˈ, 5-8 a, 8-10 ː, 10-11 space,
    # 11-13 b, 13-14 space, 14-15 ˈ, 15-18 i, 18-20 full stop, 20-23 padding.
    durations = np.array([4, 1, 3, 2, 1, 2, 1, 1, 3, 2, 3], np.int64)
    phonemes = timed_phonemes(tokens, durations, offset=1.0)
    assert [p.symbol for p in phonemes] == [PAUSE, "ˈaː", "b", "ˈi", PAUSE]
    # The stress mark's frame joins the vowel after it, the length mark the vowel before it, a
    # space between words is shared by its neighbours, the full stop joins the padding's pause;
    # everything is a frame early (the sound leads the frames), the ends still the audio's.
    frame = 0.025
    edges = [(p.start - 1.0) / frame for p in phonemes] + [(phonemes[-1].end - 1.0) / frame]
    assert edges == pytest.approx([0, 4 - 1, 10.5 - 1, 13.5 - 1, 18 - 1, 23])


def test_long_lines_are_cut_at_punctuation_within_the_models_context() -> None:
    clause = tokens_of("ˈuno dˈos tɾˈes kwˈatɾo θˈinko, ")
    tokens = clause * 40  # about 1200 tokens
    pieces = split_tokens(tokens)
    assert len(pieces) >= 3 and all(0 < len(piece) <= MAX_TOKENS for piece in pieces)
    assert all(piece[-1] == VOCAB[","] for piece in pieces[:-1])
    assert sum(len(piece) for piece in pieces) >= len(tokens) - len(pieces)  # only spaces dropped
    assert split_tokens(tokens_of("a" * 1200)) == [tokens_of("a" * 510), tokens_of("a" * 510), tokens_of("a" * 180)]


# --- through the API -------------------------------------------------------------------------------


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[Runtime, Team]]:
    runtime = Runtime(make_settings(tmp_path / "data"))
    runtime.prepare()
    with TestClient(create_app(runtime)) as client:
        account, creds = runtime.accounts.create(name="t", plan="pro", credits=1000)
        yield runtime, Team(client, creds.client_id, creds.api_key, account.id, account.team_id)
    runtime.db.dispose()


def test_the_spanish_voice_preview_plays_kokoro(
    api: tuple[Runtime, Team], kokoro: KokoroSynthesizer, tmp_path: Path
) -> None:
    _, team = api
    voices = team.get("/api/open/v4/voice/videoTranslation", language_code="es", page=1, size=100)["data"]["result"]
    dora = voices[0]
    assert dora["voice_id"] == "kokoro-ef_dora" and dora["name"] == "Dora (Spanish, female, Kokoro)"
    response = team.client.get(dora["preview"])
    assert response.status_code == 200 and response.headers["content-type"] == "audio/mpeg"
    mp3 = tmp_path / "preview.mp3"
    mp3.write_bytes(response.content)
    heard = read_audio(mp3, SAMPLE_RATE)
    said = kokoro.speak(_PREVIEW_SENTENCES["es"], _voice(kokoro, "kokoro-ef_dora"), STYLES["professional"]).samples
    # The MP3 is that speech: its length, and its loudness over time (after the encoder's delay).
    assert len(heard) / SAMPLE_RATE == pytest.approx(len(said) / SAMPLE_RATE, abs=0.1)
    a, b = _frames_rms(heard), _frames_rms(said)
    best = max(np.corrcoef(a[lag : lag + len(b) - 4], b[: len(b) - 4])[0, 1] for lag in range(0, 4))
    assert best > 0.95


def test_a_task_whose_kokoro_model_changed_fails_with_the_reason_and_a_refund(
    tmp_path: Path, media_dir: Path, media_url: str
) -> None:
    model = tmp_path / "kokoro-v1.0.int8.onnx"
    parts = bundled_model_parts()
    assert parts is not None
    with model.open("wb") as out:
        for part in parts:
            out.write(part.read_bytes())
    spoken_clip(media_dir / "kokoro_source.mp4", ("The weather is nice today.",), tone=False)
    runtime = Runtime(make_settings(tmp_path / "data", kokoro_model_file=model))
    runtime.prepare()
    with TestClient(create_app(runtime)) as client:
        account, creds = runtime.accounts.create(name="t", plan="pro", credits=100)
        team = Team(client, creds.client_id, creds.api_key, account.id, account.team_id)
        body = {
            "url": f"{media_url}/kokoro_source.mp4",
            "language": "es",
            "caption_url": f"{media_url}/captions.srt",
            "voices_map": {"es": {"voice_id": "kokoro-em_alex"}},
        }
        answer = team.post(CREATE, body)
        assert answer["code"] == 1000, answer
        # The model file is damaged after the voice was accepted, before the task runs.
        with model.open("r+b") as stream:
            stream.seek(1 << 20)
            stream.write(bytes(64))
        run_pending(runtime)
        failed = team.get(INFO, video_model_id=answer["data"]["_id"])["data"]
        assert failed["video_status"] == 4
        assert "Kokoro's model changed" in failed["error_reason"], failed["error_reason"]
        assert team.get(QUOTA)["data"]["credit"] == 100
    runtime.db.dispose()
