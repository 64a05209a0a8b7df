"""Video Translation on a CPU: a video's speech recognised, translated, re-voiced and captioned.

Stages, top to bottom (each a module of this package or a model adapter in ``reelsmith.models``):
  1. probe      - the source's length, size and sound;
  2. audio      - its sound at 16 kHz for listening and 44.1 kHz stereo for the mix;
  3. speech     - where someone speaks (Silero voice activity);
  4. recognise  - the words and their times (faster-whisper), shared by the request's tasks;
                  or the lines of ``caption_url`` instead;
  5. segment    - words grouped into subtitle lines;
  6. speakers   - who says each line (voice features, clustered);
  7. translate  - each line into the target language, ``studio_voice`` words kept or forced;
  8. synthesise - each line spoken in its speaker's voice and the requested style;
  9. fit        - each line's speech fitted into its slot (stretch, borrow silence, hold);
 10. mix        - the new voice over the ducked (or removed) source sound;
 11. captions   - SRT files of both languages, and the burn-in file for ``caption_type``;
 12. lipsync    - with ``lipsync``: the speaker's mouth moved to the new speech (phonemes to
                  visemes, ``visemes.py``; the face tracked and its lower face warped,
                  ``lipsync.py``), the picture made frame by frame;
 13. encode     - the caption-free video and the captioned one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from reelsmith.languages import LANGUAGES
from reelsmith.media.decode import DecodeError
from reelsmith.media.encode import EncodeError, encode_mp3
from reelsmith.media.probe import probe
from reelsmith.media.sound import SoundError, read_audio, write_wav
from reelsmith.models.interfaces import (
    RECOGNITION_SAMPLE_RATE,
    Phoneme,
    RecognitionError,
    Speech,
    SynthesisError,
    TranslationError,
    Voice,
)
from reelsmith.models.registry import load_models
from reelsmith.pipelines.base import EngineUnavailable, Job, PipelineError, PipelineResult, Stage, StageProgress
from reelsmith.pipelines.video_translation.assemble import Cover, captioned_video, plain_video
from reelsmith.pipelines.video_translation.captions import (
    CaptionError,
    Line,
    lines_from_words,
    read_captions,
    shifted,
    write_burn_in,
    write_srt,
)
from reelsmith.pipelines.video_translation.casting import Casting, cast, speaker_pitches
from reelsmith.pipelines.video_translation.lipsync import render_lipsync
from reelsmith.pipelines.video_translation.mixing import MIX_RATE, mix, with_holds
from reelsmith.pipelines.video_translation.speakers import speaker_labels
from reelsmith.pipelines.video_translation.speech_activity import speech_spans, trimmed_to_speech
from reelsmith.pipelines.video_translation.studio_voice import STYLES, StudioVoice, restore_tokens
from reelsmith.pipelines.video_translation.timing import Placement, Timeline, fit_lines
from reelsmith.pipelines.video_translation.transcripts import shared_transcript, transcript_key
from reelsmith.pipelines.video_translation.visemes import MouthTrack, envelope_track, phoneme_track, segments_of
from reelsmith.products.catalog import Catalog, LanguageEntry, TranslationPair, VoiceEntry
from reelsmith.products.video_translation import TranslationParams
from reelsmith.settings import Settings

STAGES = [
    Stage("probe", 0.1),
    Stage("audio", 0.3),
    Stage("speech", 0.3),
    Stage("recognise", 3),
    Stage("segment", 0.1),
    Stage("speakers", 0.2),
    Stage("translate", 0.5),
    Stage("synthesise", 1.5),
    Stage("fit", 0.5),
    Stage("mix", 0.3),
    Stage("captions", 0.1),
    Stage("lipsync", 8),
    Stage("encode", 3),
]
# caption_type: which lines are burned in, and where.
_BURN_IN = {
    1: ("original", "bottom"),
    2: ("translated", "bottom"),
    3: ("translated", "boxed"),
    4: ("translated", "top"),
}

_PREVIEW_SENTENCES = {
    "en": "Hello, this is how I sound. I will speak your video in English.",
    "es": "Hola, así suena mi voz. Voy a hablar tu vídeo en español.",
    "fr": "Bonjour, voici ma voix. Je vais dire votre vidéo en français.",
    "pt": "Olá, esta é a minha voz. Vou falar o seu vídeo em português.",
    "ca": "Hola, així sona la meva veu. Parlaré el teu vídeo en català.",
    "eo": "Saluton, tiel sonas mia voĉo. Mi parolos vian videon en Esperanto.",
    "it": "Ciao, questa è la mia voce. Dirò il tuo video in italiano.",
    "hi": "नमस्ते, यह मेरी आवाज़ है। मैं आपका वीडियो हिंदी में बोलूँगा।",
}


@dataclass(frozen=True)
class Heard:
    """What the source says, however it was found out."""

    lines: list[Line]
    language: str
    recognition: dict[str, Any]


class VideoTranslationPipeline:
    engine = "video-translation"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.models = load_models(settings)
        if not self.models.translation_pairs():
            raise EngineUnavailable(
                "the Video Translation engine is not installed on this server: no translation engine "
                "(install Apertium and its language pairs, or set REELSMITH_TRANSLATION_OPENAI_URL); "
                "the credits were refunded"
            )
        if not self.models.spoken_languages():
            raise EngineUnavailable(
                "the Video Translation engine is not installed on this server: no speech synthesiser "
                "(install espeak-ng); the credits were refunded"
            )

    # --- catalog -------------------------------------------------------------------------------

    def targets(self) -> list[str]:
        """Languages it can both translate into and speak."""
        spoken = self.models.spoken_languages()
        pairs = self.models.translation_pairs()
        return sorted({target for _, target in pairs if target in spoken and target in LANGUAGES})

    def catalog(self) -> Catalog:
        targets = self.targets()
        recognisable = self.models.recognisable()
        return Catalog(
            languages=tuple(LanguageEntry(code, bool(self.models.voices(code))) for code in targets),
            voices=tuple(_voice_entry(voice) for code in targets for voice in self.models.voices(code)),
            translation_pairs=tuple(TranslationPair(s, t) for s, t in sorted(self.models.translation_pairs())),
            recognition_languages=frozenset(recognisable) if recognisable else None,
        )

    def render_voice_preview(self, voice_id: str, folder: Path) -> Path:
        """An MP3 of the voice saying a sample sentence in its language (browsers play it as
        ``audio/mpeg``), made once and kept; raises KeyError for a voice that is not in the list."""
        voice = next((v for code in self.targets() for v in self.models.voices(code) if v.voice_id == voice_id), None)
        if voice is None:
            raise KeyError(voice_id)
        path = folder / f"{voice.voice_id}.mp3"
        if not path.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            spoken = folder / f"{voice.voice_id}.{os.getpid()}.wav"
            partial = folder / f"{voice.voice_id}.{os.getpid()}.part.mp3"
            sample = _PREVIEW_SENTENCES.get(voice.language, LANGUAGES.get(voice.language, voice.language))
            try:
                speech = self.models.synthesizer_for(voice).speak(sample, voice, STYLES["professional"])
                write_wav(speech.samples, speech.sample_rate, spoken)
                encode_mp3(spoken, partial)
            finally:
                spoken.unlink(missing_ok=True)
            os.replace(partial, path)
        return path

    # --- run -----------------------------------------------------------------------------------

    def run(self, job: Job[TranslationParams]) -> PipelineResult:
        params = job.params
        lipsync = params.lipsync
        # Without lip-sync its stage (half the work) is not there: progress would jump over it.
        progress = StageProgress(job, STAGES if lipsync else [stage for stage in STAGES if stage.name != "lipsync"])
        target = params.language
        studio = StudioVoice.of(params.studio_voice)
        source = job.inputs["video"]
        work = job.work_dir

        info = probe(source)
        size = (info.width, info.height)
        progress.update("probe", 1.0)

        try:
            listening = read_audio(source, RECOGNITION_SAMPLE_RATE)
            original = read_audio(source, MIX_RATE, channels=2)
        except SoundError as exc:
            raise PipelineError(str(exc)) from exc
        # Only the probed length (measured on the streams, and what was priced) is heard and
        # mixed: decoded samples may outlast it where a file's timing understates its sound.
        if info.duration > 0:
            listening = listening[: int(round(info.duration * RECOGNITION_SAMPLE_RATE))]
            original = original[: int(round(info.duration * MIX_RATE))]
        progress.update("audio", 1.0)

        spans = speech_spans(listening)
        progress.update("speech", 1.0)

        heard = self._hear(job, listening, spans)
        progress.update("recognise", 1.0)
        if heard.language == target:
            name = LANGUAGES.get(target, target)
            raise PipelineError(f"the video is already in {name} ({target}); there is nothing to translate")
        progress.update("segment", 1.0)

        labels = speaker_labels(listening, heard.lines, params.speaker_num)
        lines = [replace(line, speaker=label) for line, label in zip(heard.lines, labels, strict=True)]
        progress.update("speakers", 1.0)

        translated, translation_report = self._translate(lines, heard.language, target, studio)
        progress.update("translate", 1.0)

        casting = self._cast(target, params.voices.get(target, ""), listening, lines, max(labels) + 1)
        voices = [part.voice for part in casting]
        spoken = self._synthesise(translated, lines, voices, studio, work, progress)
        synthesizer_names = " + ".join(dict.fromkeys(self.models.synthesizer_for(voice).name for voice in voices))
        speech = [line.clip for line in spoken]

        placements = fit_lines(
            [(line.start, line.end) for line in lines],
            [len(clip) / MIX_RATE for clip in speech],
            info.duration,
            params.dynamic_duration,
        )
        timeline = Timeline.of(placements)
        seconds = info.duration + timeline.added
        voice = _voice_track(speech, placements, timeline, seconds, work)
        progress.update("fit", 1.0)

        original_speech = [(timeline.output_time(a), timeline.output_time(b)) for a, b in (spans or _spans(lines))]
        soundtrack = work / "soundtrack.wav"
        mixed = mix(with_holds(original, timeline), voice, original_speech, params.remove_bgm)
        write_wav(mixed, MIX_RATE, soundtrack)
        progress.update("mix", 1.0)

        original_out = shifted(lines, timeline.output_time)
        translated_out = [
            _spoken_line(line, placement, text, timeline)
            for line, placement, text in zip(lines, placements, translated, strict=True)
        ]
        files = {"original_srt": work / "original.srt", "translated_srt": work / "translated.srt"}
        write_srt(original_out, files["original_srt"])
        write_srt(translated_out, files["translated_srt"])
        progress.update("captions", 1.0)

        # With lip-sync the picture is made first, on the output's timeline; it then stands in
        # for the source's picture, with nothing left to hold.
        picture, picture_timeline = source, timeline
        lipsync_report = None
        if lipsync:
            if not info.has_video or info.fps <= 0:
                raise PipelineError("lipsync needs a picture with a face, and the video has no readable picture")
            mouth = self._mouth_track(spoken, placements, timeline, seconds, voice, f"{synthesizer_names} phonemes")
            picture, picture_timeline = work / "lipsync.mp4", Timeline()
            try:
                lipsync_report = render_lipsync(
                    source, size, info.fps, timeline, mouth, picture, lambda done: progress.update("lipsync", done)
                )
            except (DecodeError, EncodeError) as exc:
                raise PipelineError(f"the lip-synced picture could not be made: {exc}") from exc
            progress.update("lipsync", 1.0)

        files["no_caption_video"] = work / "no_caption.mp4"
        files["video"] = work / "video.mp4"
        try:
            plain_video(picture, soundtrack, picture_timeline, seconds, files["no_caption_video"])
            progress.update("encode", 0.3)
            caption_type = params.caption_type
            if caption_type in _BURN_IN:
                which, place = _BURN_IN[caption_type]
                burned = original_out if which == "original" else translated_out
                ass = work / "captions.ass"
                write_burn_in(burned, size, heard.language if which == "original" else target, ass, place)
                boxed = [line for line in original_out if line.box] if place == "boxed" else []
                covers = [Cover(line.box, line.start, line.end) for line in boxed if line.box]
                captioned_video(picture, soundtrack, picture_timeline, seconds, size, ass, covers, files["video"])
            else:
                os.link(files["no_caption_video"], files["video"])
        except EncodeError as exc:
            raise PipelineError(f"the translated video could not be encoded: {exc}") from exc
        progress.update("encode", 1.0)

        report = {
            "source_language": heard.language,
            "target_language": target,
            "recognition": heard.recognition,
            "translation": translation_report,
            "speech": {"engine": synthesizer_names, "style": studio.style,
                       "voices": {str(k): v.voice_id for k, v in enumerate(voices)},
                       "casting": [part.report() for part in casting]},
            "speakers": max(labels) + 1,
            "background": "removed" if params.remove_bgm else "kept, ducked by 24 dB under speech",
            "output_seconds": round(seconds, 3),
            "lines": [
                {**p.report(index + 1, timeline), "speaker": line.speaker, "text": line.text, "translation": text}
                for index, (line, p, text) in enumerate(zip(lines, placements, translated, strict=True))
            ],
        }  # fmt: skip
        if lipsync_report is not None:
            report["lipsync"] = lipsync_report.as_dict()
        report["stage_seconds"] = {stage: round(seconds, 2) for stage, seconds in progress.seconds.items()}
        return PipelineResult(files=files, fields={"translation_report": report})

    # --- stages --------------------------------------------------------------------------------

    def _hear(self, job: Job[TranslationParams], listening: np.ndarray, spans: list[tuple[float, float]]) -> Heard:
        asked = job.params.source_language or "DEFAULT"
        given = job.inputs.get("captions")
        if given is not None:
            try:
                lines = read_captions(given)
            except CaptionError as exc:
                raise PipelineError(str(exc)) from exc
            text = " ".join(line.text for line in lines)
            language = asked if asked != "DEFAULT" else self.models.language_identifier.identify(text).language
            return Heard(lines, language, {"engine": "caption_url", "shared": False})
        wanted = None if asked == "DEFAULT" else asked
        recognizer = self.models.recognizer_for(wanted)
        if recognizer is None:
            raise PipelineError(
                "no speech recognition model is installed on this server; send caption_url with what is said"
            )
        if not spans:
            raise PipelineError("no speech was found in the video's sound, so there is nothing to translate")
        key = transcript_key(listening, recognizer.signature, wanted)
        try:
            transcript, shared = shared_transcript(
                self.settings.work_dir / "transcripts", key, lambda: recognizer.transcribe(listening, wanted)
            )
        except RecognitionError as exc:
            raise PipelineError(str(exc)) from exc
        lines = trimmed_to_speech(lines_from_words(transcript.words), spans)
        if not lines:
            raise PipelineError("no words could be recognised in the video's speech")
        return Heard(lines, transcript.language, {"engine": recognizer.name, "shared": shared})

    def _translate(
        self, lines: Sequence[Line], source: str, target: str, studio: StudioVoice
    ) -> tuple[list[str], dict[str, Any]]:
        """The lines translated, ``studio_voice`` terms kept or forced, and the report's
        ``translation`` (the translator and the route)."""
        translator = self.models.translator_for(source, target)
        if translator is None:
            raise PipelineError(
                f"the installed translation engine cannot translate {LANGUAGES.get(source, source)} ({source}) "
                f"into {LANGUAGES.get(target, target)} ({target})"
            )
        protected = [studio.protect(line.text) for line in lines]
        try:
            texts = translator.translate([text for text, _ in protected], source, target)
        except TranslationError as exc:
            raise PipelineError(str(exc)) from exc
        restored = [restore_tokens(text, restore) for text, (_, restore) in zip(texts, protected, strict=True)]
        return restored, {"engine": translator.name, "route": translator.route(source, target)}

    def _cast(
        self, language: str, chosen: str, listening: np.ndarray, lines: Sequence[Line], speakers: int
    ) -> list[Casting]:
        """A voice per speaker, fitted to how each was heard (see ``casting.py``)."""
        available = self.models.voices(language)
        if not available:
            raise PipelineError(f"no installed voice speaks {LANGUAGES.get(language, language)} ({language})")
        if chosen and all(voice.voice_id != chosen for voice in available):
            # Checked at creation against the API's list; this worker's may lack it (its files).
            raise PipelineError(f"the voice {chosen!r} asked for in voices_map is not installed on this server")
        default = self.models.synthesizer_for(available[0])
        best = [voice for voice in available if self.models.synthesizer_for(voice) is default]
        return cast(available, speaker_pitches(listening, lines, speakers), chosen, best)

    def _synthesise(
        self,
        texts: Sequence[str],
        lines: Sequence[Line],
        voices: Sequence[Voice],
        studio: StudioVoice,
        work: Path,
        progress: StageProgress,
    ) -> list[SpokenLine]:
        spoken = []
        for index, (text, line) in enumerate(zip(texts, lines, strict=True)):
            path = work / f"line{index:04d}.wav"
            said, voice = studio.pronounce(text), voices[line.speaker]
            try:
                speech = self.models.synthesizer_for(voice).speak(said, voice, studio.speaking)
                samples = _at_mix_rate(speech, path)
            except (SynthesisError, SoundError) as exc:
                raise PipelineError(f"line {index + 1} could not be spoken: {exc}") from exc
            clip, lead = _trimmed(samples)
            # The phonemes' times, like the clip, from the first sound on.
            spoken.append(SpokenLine(clip, [Phoneme(p.symbol, p.start - lead, p.end - lead) for p in speech.phonemes]))
            progress.update("synthesise", (index + 1) / len(texts))
        return spoken

    def _mouth_track(
        self,
        spoken: Sequence[SpokenLine],
        placements: Sequence[Placement],
        timeline: Timeline,
        seconds: float,
        voice: np.ndarray,
        source: str,
    ) -> MouthTrack:
        """The mouth's targets over the output: from the synthesiser's phonemes (``source``
        names them in the report) where every line that makes a sound has them, else from the
        loudness of the new voice."""
        if any(len(line.clip) and not line.phonemes for line in spoken):
            return envelope_track(voice, MIX_RATE, seconds)
        segments = []
        for line, placement in zip(spoken, placements, strict=True):
            start = timeline.output_time(placement.start)
            segments += segments_of(line.phonemes, start, placement.stretch, until=len(line.clip) / MIX_RATE)
        return phoneme_track(segments, seconds, source)


def _voice_entry(voice: Voice) -> VoiceEntry:
    # studio_voice.style works with every voice (rate and pitch): each offers them all.
    return VoiceEntry(
        voice.voice_id, voice.language, voice.name, voice.gender, voice.age, voice.scenario, tuple(sorted(STYLES))
    )


@dataclass(frozen=True)
class SpokenLine:
    """One line's synthesised speech (trimmed, at MIX_RATE) and, when the synthesiser knows
    them, its phonemes (IPA) with times from the clip's start."""

    clip: np.ndarray
    phonemes: list[Phoneme]


def _at_mix_rate(speech: Speech, path: Path) -> np.ndarray:
    """The speech's samples at MIX_RATE, resampled by ffmpeg through a WAV file at ``path``."""
    write_wav(speech.samples, speech.sample_rate, path)
    return read_audio(path, MIX_RATE)


def _trimmed(samples: np.ndarray, threshold: float = 1e-3) -> tuple[np.ndarray, float]:
    """The clip without the silence a synthesiser leaves at its start and end, and the
    seconds cut from its start."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    if not len(loud):
        return samples[:0], 0.0
    return samples[loud[0] : loud[-1] + 1], loud[0] / MIX_RATE


def _spoken_line(line: Line, placement: Placement, text: str, timeline: Timeline) -> Line:
    """The translated line, shown from when its speech starts until it and the slot are over."""
    start = timeline.output_time(placement.start)
    return replace(line, start=start, end=max(timeline.output_time(line.end), start + placement.spoken), text=text)


def _spans(lines: Sequence[Line]) -> list[tuple[float, float]]:
    return [(line.start, line.end) for line in lines]


def _voice_track(
    clips: Sequence[np.ndarray], placements: Sequence[Placement], timeline: Timeline, seconds: float, work: Path
) -> np.ndarray:
    """Every line's speech, tempo-changed where its placement says, at its place in the output."""
    track = np.zeros(int(round(seconds * MIX_RATE)), dtype=np.float32)
    for index, (clip, placement) in enumerate(zip(clips, placements, strict=True)):
        if placement.stretch > 1.001:
            path = work / f"line{index:04d}.wav"
            write_wav(clip, MIX_RATE, path)
            clip = read_audio(path, MIX_RATE, filters=f"rubberband=tempo={placement.stretch:.4f}")
        # A line may start past the end (a caption_url line after the video's last frame): it
        # is not heard, rather than failing the task.
        start = min(int(round(timeline.output_time(placement.start) * MIX_RATE)), len(track))
        end = min(start + len(clip), len(track))
        track[start:end] += clip[: end - start]
    return track


def translate_file(
    video: Path,
    out: Path,
    language: str,
    lipsync: bool = False,
    settings: Settings | None = None,
    on_stage: Callable[[str, int], None] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Video Translation outside the server (the command line, the benchmark): ``video`` into
    ``language``, the finished video (captions burned in when ``caption_type`` asks) written to
    ``out``; returns the task's ``translation_report``. ``params`` are the API's other fields;
    ``on_stage`` is told the stage at work and the 0-99 progress."""
    import shutil
    import tempfile

    settings = settings or Settings()
    body = TranslationParams.from_json({"url": str(video), "language": language, "lipsync": lipsync, **params})
    with tempfile.TemporaryDirectory(prefix="reelsmith-translate-") as work:
        job = Job(
            task_id="local",
            product="video_translation",
            params=body,
            inputs={"video": video},
            work_dir=Path(work),
            report_progress=lambda _: None,
            check_cancelled=lambda: None,
            report_stage=on_stage,
        )
        result = VideoTranslationPipeline(settings).run(job)
        shutil.move(result.files["video"], out)
    return dict(result.fields["translation_report"])


def compare_dub_file(video: Path, out: Path, language: str, settings: Settings | None = None, **params: Any) -> Path:
    """A side-by-side clip (the source | dubbed without lip-sync | dubbed with lip-sync) of
    ``video`` translated into ``language``, with the lip-synced dub's sound; written to
    ``out``. The speech is recognised once: the second run reads the first's transcript."""
    import tempfile

    from reelsmith.media.compose import side_by_side

    settings = settings or Settings()
    with tempfile.TemporaryDirectory(prefix="reelsmith-compare-") as work:
        plain, synced = Path(work) / "dubbed.mp4", Path(work) / "lipsync.mp4"
        translate_file(video, plain, language, False, settings, **params)
        report = translate_file(video, synced, language, True, settings, **params)
        height = probe(video).height
        return side_by_side([video, plain, synced], out, report["output_seconds"], height=height - height % 2)
