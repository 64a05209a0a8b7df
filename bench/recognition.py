"""Speech recognition: word error rate and speed of each Whisper model on the test clips.

The clips are those of the tests (``tests/support/speech.py``): carphone with three English
sentences spoken by espeak-ng over a quiet 5 kHz tone, and the same with three Spanish and
three French sentences (espeak-ng's French is so poorly understood that it is spoken slowly,
by its ``m2`` variant, for the clip to be recognisable at all). Each model (Whisper base
multilingual, Whisper tiny.en) recognises each clip as a task does (``WhisperRecognizer``:
beam 5, word times, Silero voice activity), with the language given and, for base, detecting
it, after one warm-up run.

Prints, per model and clip: the word error rate against the known sentences, the language
heard, the seconds taken and the real-time factor (seconds of work per second of sound).

    .venv/bin/python bench/recognition.py [--threads 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reelsmith.media.sound import read_audio  # noqa: E402
from reelsmith.models.interfaces import RECOGNITION_SAMPLE_RATE  # noqa: E402
from reelsmith.models.whisper import BUNDLED_SHA256, WhisperRecognizer, base_model_parts, bundled_model_dir  # noqa: E402
from tests.support.speech import FRENCH, SENTENCES, SPANISH, espeak, spoken_clip  # noqa: E402

# More English, in three voices: six longer sentences with numbers, names and rarer words.
LONGER = (
    "Our quarterly revenue grew by twelve percent compared with last year.",
    "The new engine runs quietly and uses less fuel than the old one.",
    "She asked whether the meeting could be moved to Thursday afternoon.",
    "Please remember to switch off the lights when you leave the office.",
    "The children built a castle of sand on the beach near the harbour.",
    "Scientists measured the temperature of the ocean at several depths.",
)


@dataclass(frozen=True)
class Clip:
    name: str
    language: str
    sentences: tuple[str, ...]
    voice: str  # espeak-ng's
    speed: int | None = None  # words a minute; None: espeak-ng's own (175)


CLIPS = (
    Clip("en", "en", SENTENCES, "en-us+m3"),  # the test clip
    Clip("es", "es", SPANISH, "es"),
    Clip("fr", "fr", FRENCH, "fr+m2", 110),
    Clip("en-m3", "en", LONGER, "en-us+m3"),
    Clip("en-f2", "en", LONGER, "en-us+f2"),
    Clip("en-gb", "en", LONGER, "en"),
)


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """The word-level edit distance and the reference's word count."""
    ref, hyp = _words(reference), _words(hypothesis)
    distance = np.arange(len(hyp) + 1)
    for i, word in enumerate(ref, 1):
        previous, distance[0] = distance.copy(), i
        for j, guess in enumerate(hyp, 1):
            distance[j] = min(previous[j] + 1, distance[j - 1] + 1, previous[j - 1] + (word != guess))
    return int(distance[-1]), len(ref)


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower()).split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for recognition")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per case; the fastest is shown")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        recognizers: dict[str, WhisperRecognizer] = {}
        parts, tiny = base_model_parts(), bundled_model_dir()
        if parts is not None:
            recognizers["base"] = WhisperRecognizer(parts, None, args.threads)
        if tiny is not None:
            recognizers["tiny.en"] = WhisperRecognizer(tiny, BUNDLED_SHA256, args.threads)
        audio: dict[str, np.ndarray] = {}
        for clip in CLIPS:
            path = folder / f"{clip.name}.mp4"
            spoken_clip(path, clip.sentences, voices=(clip.voice,), speak=functools.partial(espeak, speed=clip.speed))
            audio[clip.name] = read_audio(path, RECOGNITION_SAMPLE_RATE)

        print(f"{os.cpu_count()} cores, {args.threads} thread(s) for recognition, fastest of {args.repeat}")
        print(f"{'model':8} {'clip':6} {'asked':6} {'heard':5} {'WER':>6} {'seconds':>8} {'RTF':>6}  text")
        for name, recognizer in recognizers.items():
            known = recognizer.languages() or frozenset()
            recognizer.transcribe(audio["en"], "en")  # load and warm up
            english = [0, 0, 0.0, 0.0]  # word errors, words, seconds of work, seconds of sound
            for clip in CLIPS:
                for asked in (clip.language, None):
                    if clip.language not in known or (asked is None and len(known) == 1):
                        continue
                    seconds = []
                    for _ in range(args.repeat):
                        start = time.perf_counter()
                        transcript = recognizer.transcribe(audio[clip.name], asked)
                        seconds.append(time.perf_counter() - start)
                    errors, words = word_errors(" ".join(clip.sentences), transcript.text)
                    length = len(audio[clip.name]) / RECOGNITION_SAMPLE_RATE
                    if clip.language == "en" and asked:
                        english = [
                            english[0] + errors,
                            english[1] + words,
                            english[2] + min(seconds),
                            english[3] + length,
                        ]
                    print(
                        f"{name:8} {clip.name:6} {asked or 'detect':6} {transcript.language:5} {errors / words:6.1%} "
                        f"{min(seconds):8.2f} {min(seconds) / length:6.2f}  {transcript.text}"
                    )
            if english[1]:
                print(
                    f"{name:8} English in all: WER {english[0] / english[1]:.1%} ({english[0]}/{english[1]} words), "
                    f"{english[2]:.2f} s for {english[3]:.1f} s of sound (RTF {english[2] / english[3]:.2f})"
                )


if __name__ == "__main__":
    main()
