"""What a request's inputs hold, found quickly before anything is charged, and warnings where
the result will be poor: the inspection half of a quote (services/quote.py).

Every look is bounded, so that a quote costs about what a create's own checks cost: pictures are
looked at with their long side at most :data:`LOOK_SIDE`, a video's faces in a few frames of its
first :data:`VIDEO_LOOK_SECONDS`, its speech in its first :data:`SPEECH_LOOK_SECONDS`, and the
spoken language is told from at most :data:`LANGUAGE_SPEECH_SECONDS` of speech. The functions
here are blocking (ffmpeg, MediaPipe, ONNX, CTranslate2): the quote service runs them on its own
bounded thread.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from reelsmith.faces.detection import FaceBox, find_faces
from reelsmith.languages import LANGUAGES
from reelsmith.media.decode import DecodeError, read_frames
from reelsmith.media.picture import load_picture
from reelsmith.media.probe import MediaInfo
from reelsmith.media.sound import SoundError, read_audio
from reelsmith.models.interfaces import RecognitionError, Recognizer
from reelsmith.pipelines.image2video.canvas import output_size
from reelsmith.pipelines.video_translation.captions import Line
from reelsmith.pipelines.video_translation.speakers import speaker_labels
from reelsmith.pipelines.video_translation.speech_activity import SAMPLE_RATE, speech_spans
from reelsmith.products.character_swap import CharacterSwapParams, CharacterSwapRequest
from reelsmith.products.image2video import Image2VideoParams
from reelsmith.products.video_translation import TranslationRequest

# Pictures are looked at with their long side at most this (as Character Swap's own check does):
# faces worth animating stay far above the detector's smallest.
LOOK_SIDE = 1024
# A video's faces: its first seconds (animate mode looks for its driving face there too), a few
# frames a second, at most this short side.
VIDEO_LOOK_SECONDS = 3.0
VIDEO_FRAMES_PER_SECOND = 2
VIDEO_LOOK_SHORT_SIDE = 360
# A video's speech: voice activity over its first seconds; the language from the first speech.
SPEECH_LOOK_SECONDS = 20.0
LANGUAGE_SPEECH_SECONDS = 4.0
# Below these, the result is likely poor and the quote says so.
SMALL_PICTURE_FACE_PX = 96  # a character or subject face across, in the picture's pixels
SMALL_VIDEO_FACE_PX = 48  # a face across in the video's own pixels
LITTLE_SPEECH_SECONDS = 2.0
LITTLE_SPEECH_SHARE = 0.1
# The sound between the speech this close to the speech's loudness is music or noise that stays.
LOUD_BACKGROUND_DB = -6.0
# An input enlarged more than this looks soft.
UPSCALE_WARNING = 1.5
_FRAME = 480  # 30 ms at 16 kHz: the loudness of the speech and of what is between it


@dataclass(frozen=True)
class PictureFacts:
    """A picture: its size as shown (EXIF orientation applied) and its faces."""

    width: int
    height: int
    faces: int
    largest_face_px: int  # the largest face's box, its longer side; 0 without a face


@dataclass(frozen=True)
class VideoFacts:
    """A video as the create's checks probed it."""

    duration: float
    width: int
    height: int
    fps: float
    has_audio: bool


@dataclass(frozen=True)
class VideoFaces:
    """The faces in a few frames of a video's first seconds."""

    looked_seconds: float
    frames_looked: int
    frames_with_face: int
    most_faces: int  # the most faces seen in one frame
    largest_face_px: int  # in the video's own pixels; 0 without a face


@dataclass(frozen=True)
class SpeechFacts:
    """The speech in a video's first seconds."""

    looked_seconds: float
    seconds: float  # of speech, by voice activity
    language: str | None  # as recognised from the first speech; None where it cannot be told here
    speakers: int  # voices told apart by their sound (rough: a quote does not transcribe)
    background_db: float | None  # the sound between the speech against the speech; None: too little of either


@dataclass(frozen=True)
class OutputFacts:
    """What the task makes."""

    width: int
    height: int
    seconds: float


@dataclass(frozen=True)
class CharacterSwapInputs:
    image: PictureFacts
    video: VideoFacts
    video_faces: VideoFaces
    seconds_used: float  # of the video: ``duration``, or its length


@dataclass(frozen=True)
class TranslationInputs:
    video: VideoFacts
    speech: SpeechFacts


@dataclass(frozen=True)
class Image2VideoInputs:
    image: PictureFacts
    last_image: PictureFacts | None
    output: OutputFacts


Inputs = CharacterSwapInputs | TranslationInputs | Image2VideoInputs


@dataclass(frozen=True)
class Inspection:
    """What the inputs hold, and what will make the result poor."""

    inputs: Inputs
    warnings: tuple[str, ...]


# --- the products ---------------------------------------------------------------------------------


def inspect_character_swap(
    request: CharacterSwapRequest,
    params: CharacterSwapParams,
    files: Mapping[str, Path],
    media: Mapping[str, MediaInfo],
) -> Inspection:
    """The character picture's faces, the video's facts and the faces of its first seconds."""
    image = picture_facts(files["image"])
    info = media["video"]
    faces = video_faces(files["video"], info)
    warnings = _picture_face_warnings(image, "the largest ({px} px) is the character")
    if faces.frames_looked and not faces.frames_with_face:
        if params.mode == "animate":
            warnings.append(
                f"no face was found in the video's first {faces.looked_seconds:g} s: animate mode needs a driving "
                "face there, so the task would fail (and its credits come back)"
            )
        else:
            warnings.append(
                f"no face was found in the video's first {faces.looked_seconds:g} s: replace mode changes only the "
                "frames that show a face"
            )
    if faces.most_faces > 1:
        role = "the largest is swapped" if params.mode == "replace" else "the largest drives the character"
        warnings.append(f"the video shows up to {faces.most_faces} faces at once; {role}")
    if 0 < faces.largest_face_px < SMALL_VIDEO_FACE_PX:
        warnings.append(
            f"the face in the video is only {faces.largest_face_px} px across (under {SMALL_VIDEO_FACE_PX} px): "
            "its motion is read less precisely"
        )
    if request.duration is not None and info.duration > params.duration + 0.5:
        warnings.append(
            f"the video is {info.duration:.1f} s long; only its first {params.duration:g} s are used (duration)"
        )
    # replace keeps the video's frame, animate shows the picture: whichever is shown is enlarged.
    short = int(params.resolution.removesuffix("p"))
    if params.mode == "replace":
        shown, what = (round(info.display_width), info.height), "video"
    else:
        shown, what = (image.width, image.height), "picture"
    enlarged = short / max(1, min(shown))
    if enlarged > UPSCALE_WARNING:
        warnings.append(
            f"the {what} is {shown[0]}x{shown[1]}: the {params.resolution} output enlarges it {enlarged:.1f}x, "
            "so it will look soft"
        )
    inputs = CharacterSwapInputs(image, _video(info), faces, params.duration)
    return Inspection(inputs, tuple(warnings))


def inspect_translation(
    request: TranslationRequest,
    targets: tuple[str, ...],
    files: Mapping[str, Path],
    media: Mapping[str, MediaInfo],
    recognizer: Recognizer | None,
) -> Inspection:
    """The video's facts and the speech of its first seconds: how much, which language, voices."""
    info = media["video"]
    warnings: list[str] = []
    try:
        speech = speech_facts(files["video"], info, recognizer)
    except SoundError as exc:
        speech = SpeechFacts(0.0, 0.0, None, 0, None)
        warnings.append(f"the video's sound could not be read: {exc}")
    look = speech.looked_seconds
    whole = look >= info.duration - 0.05
    where = "in the video" if whole else f"in the video's first {look:g} s"
    if look and not speech.seconds:
        consequence = ": the task would fail, with nothing to translate" if whole and not request.caption_url else ""
        warnings.append(f"no speech was found {where}{consequence}")
    elif look and (speech.seconds < LITTLE_SPEECH_SECONDS or speech.seconds < LITTLE_SPEECH_SHARE * look):
        warnings.append(f"only {speech.seconds:.1f} s of speech was found {where}")
    heard = speech.language
    source = request.source_language
    if heard is not None and source != "DEFAULT" and not _same_language(heard, source):
        warnings.append(f"the speech sounds like {_name(heard)}, but source_language is {_name(source)}")
    already = [target for target in targets if heard is not None and _same_language(heard, target)]
    if source == "DEFAULT" and already:
        warnings.append(f"the speech already sounds like {_name(already[0])}, one of the target languages")
    if speech.background_db is not None and speech.background_db > LOUD_BACKGROUND_DB and not request.remove_bgm:
        warnings.append(
            f"the sound between the speech is loud ({speech.background_db:+.0f} dB against the speech): music or "
            "noise stays under the dub; remove_bgm drops it"
        )
    return Inspection(TranslationInputs(_video(info), speech), tuple(warnings))


def inspect_image2video(params: Image2VideoParams, files: Mapping[str, Path]) -> Inspection:
    """The picture (and last frame) with their faces, and the video that will be made of them."""
    image = picture_facts(files["image"])
    last = picture_facts(files["last_image"]) if "last_image" in files else None
    width, height = output_size(params.resolution, image.width, image.height)
    output = OutputFacts(width, height, float(params.video_length))
    warnings: list[str] = []
    if not image.faces:
        warnings.append(
            "no face was found in the picture: the motion centres on its main subject, and what a prompt or "
            "effect asks of a face has no face to act on"
        )
    warnings += _picture_face_warnings(image, "the motion follows the largest ({px} px)")
    enlarged = min(width / image.width, height / image.height)
    if enlarged > UPSCALE_WARNING:
        warnings.append(
            f"the picture is {image.width}x{image.height}: the {params.resolution} video ({width}x{height}) "
            f"enlarges it {enlarged:.1f}x, so it will look soft"
        )
    return Inspection(Image2VideoInputs(image, last, output), tuple(warnings))


# --- what media hold ------------------------------------------------------------------------------


def picture_facts(path: Path) -> PictureFacts:
    """A picture's size and faces (found on a copy at most :data:`LOOK_SIDE` on its long side)."""
    picture = load_picture(path)
    height, width = picture.shape[:2]
    scale = LOOK_SIDE / max(height, width)
    if scale < 1.0:
        picture = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    faces = find_faces(picture)
    largest = _across(faces[0], width, height) if faces else 0
    return PictureFacts(width, height, len(faces), largest)


def video_faces(path: Path, info: MediaInfo) -> VideoFaces:
    """The faces in :data:`VIDEO_FRAMES_PER_SECOND` frames a second of the video's first
    :data:`VIDEO_LOOK_SECONDS` (all of a shorter video)."""
    look = round(min(VIDEO_LOOK_SECONDS, info.duration), 3)
    shown_width, height = info.display_width, info.height
    if not info.has_video or shown_width <= 0 or height <= 0:
        return VideoFaces(look, 0, 0, 0, 0)
    scale = min(1.0, VIDEO_LOOK_SHORT_SIDE / min(shown_width, height))
    size = (max(2, round(shown_width * scale / 2) * 2), max(2, round(height * scale / 2) * 2))
    step = max(1, round(info.fps / VIDEO_FRAMES_PER_SECOND)) if info.fps > 0 else 1
    looked = with_face = most = largest = 0
    try:
        for index, frame in enumerate(read_frames(path, size, look)):
            if index % step:
                continue
            faces = find_faces(frame)
            looked += 1
            with_face += bool(faces)
            most = max(most, len(faces))
            if faces:
                largest = max(largest, _across(faces[0], round(shown_width), height))
    except DecodeError:
        pass  # what was decoded is what the quote saw; the create's checks already read its streams
    return VideoFaces(look, looked, with_face, most, largest)


def speech_facts(path: Path, info: MediaInfo, recognizer: Recognizer | None) -> SpeechFacts:
    """Voice activity over the first :data:`SPEECH_LOOK_SECONDS`, the voices told apart by their
    sound, how loud the rest is, and the language of the first speech where ``recognizer``
    tells languages apart."""
    look = round(min(SPEECH_LOOK_SECONDS, info.duration), 3)
    if not info.has_audio:
        return SpeechFacts(0.0, 0.0, None, 0, None)
    audio = read_audio(path, SAMPLE_RATE, filters=f"atrim=end={look:.3f}")
    spans = speech_spans(audio)
    seconds = round(float(sum(end - start for start, end in spans)), 2)
    speakers = max(speaker_labels(audio, [Line(start, end, "") for start, end in spans], 0), default=-1) + 1
    return SpeechFacts(look, seconds, _language(audio, spans, recognizer), speakers, _background_db(audio, spans))


def _language(audio: np.ndarray, spans: list[tuple[float, float]], recognizer: Recognizer | None) -> str | None:
    """The language of the first speech, as the recogniser hears it; None where it cannot be
    told here (no recogniser, one that knows a single language, no speech)."""
    if recognizer is None or not spans:
        return None
    known = recognizer.languages()
    if known is not None and len(known) < 2:
        return None
    pieces, total = [], 0.0
    for start, end in spans:
        take = min(end - start, LANGUAGE_SPEECH_SECONDS - total)
        pieces.append(audio[int(start * SAMPLE_RATE) : int((start + take) * SAMPLE_RATE)])
        total += take
        if total >= LANGUAGE_SPEECH_SECONDS:
            break
    try:
        return recognizer.transcribe(np.concatenate(pieces).astype(np.float32), None).language
    except RecognitionError:
        return None


def _background_db(audio: np.ndarray, spans: list[tuple[float, float]]) -> float | None:
    """The sound between the speech (its median loudness) against the speech (its loud frames,
    the 90th percentile), in dB; None with under a second of either."""
    count = len(audio) // _FRAME
    if not count:
        return None
    levels = np.sqrt((audio[: count * _FRAME].reshape(count, _FRAME) ** 2).mean(axis=1))
    speaking = np.zeros(count, dtype=bool)
    for start, end in spans:
        speaking[int(start * SAMPLE_RATE) // _FRAME : int(end * SAMPLE_RATE) // _FRAME + 1] = True
    second = SAMPLE_RATE // _FRAME
    if speaking.sum() < second or (~speaking).sum() < second:
        return None
    speech = float(np.percentile(levels[speaking], 90))
    rest = float(np.median(levels[~speaking]))
    return round(20 * math.log10(max(rest, 1e-6) / max(speech, 1e-6)), 1)


# --- helpers --------------------------------------------------------------------------------------


def _video(info: MediaInfo) -> VideoFacts:
    return VideoFacts(
        round(info.duration, 3), round(info.display_width), info.height, round(info.fps, 3), info.has_audio
    )


def _across(face: FaceBox, width: int, height: int) -> int:
    """A face box's longer side in the picture's pixels."""
    return round(max(face.width * width, face.height * height))


def _picture_face_warnings(image: PictureFacts, which: str) -> list[str]:
    """Several faces (``which`` says which one counts, ``{px}`` its size), or a small one."""
    warnings = []
    if image.faces > 1:
        warnings.append(f"the picture shows {image.faces} faces; " + which.format(px=image.largest_face_px))
    if 0 < image.largest_face_px < SMALL_PICTURE_FACE_PX:
        warnings.append(
            f"the picture's face is only {image.largest_face_px} px across (under {SMALL_PICTURE_FACE_PX} px): "
            "it will look soft"
        )
    return warnings


def _same_language(heard: str, code: str) -> bool:
    """Whether a recognised language is the API's ``code`` (Whisper says ``zh`` for ``zh-CN``)."""
    return heard == code or code.split("-")[0] == heard.split("-")[0]


def _name(code: str) -> str:
    name = LANGUAGES.get(code)
    return f"{name} ({code})" if name else code
