"""Subtitle lines: made from recognised words or read from the user's SRT/ASS, written as SRT
for download and as ASS for libass to burn into the picture."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pysubs2

from reelsmith.models.interfaces import Word

# Netflix's limit is 42 characters a row and two rows; a line of speech is one subtitle.
MAX_LINE_CHARS = 84
MAX_LINE_SECONDS = 7.0
# A pause this long between words starts a new line.
PAUSE_SECONDS = 0.5
# Where SRT captions, which carry no position, are assumed to sit: the bottom band of the frame.
_SRT_BAND = (0.06, 0.78, 0.88, 0.2)
_SRT_TOP_BAND = (0.06, 0.02, 0.88, 0.2)
_POS = re.compile(r"\\pos\(\s*([-\d.]+)\s*,\s*([-\d.]+)\s*\)")
_ALIGN = re.compile(r"\\an([1-9])")
_CJK_FONTS = {"ja": "Noto Sans CJK JP", "ko": "Noto Sans CJK KR", "zh-TW": "Noto Sans CJK TC"}
_CJK = ("zh", "zh-CN", "zh-TW", "ja", "ko")


class CaptionError(ValueError):
    """The caption file cannot be read as SRT or ASS, or has no lines; says why."""


@dataclass(frozen=True)
class Box:
    """A region of the frame, as fractions of its width and height."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Line:
    """One subtitle: what is said between ``start`` and ``end`` (seconds), by which speaker,
    and where it was shown on screen when the source's own captions say so."""

    start: float
    end: float
    text: str
    speaker: int = 0
    box: Box | None = None

    @property
    def seconds(self) -> float:
        return self.end - self.start


def lines_from_words(words: Sequence[Word]) -> list[Line]:
    """Group recognised words into subtitle lines: a sentence's end, a pause of
    :data:`PAUSE_SECONDS`, or the length limits start a new line."""
    lines: list[Line] = []
    current: list[Word] = []
    for word in words:
        if current:
            text = " ".join(w.text for w in [*current, word])
            pause = word.start - current[-1].end
            sentence_end = current[-1].text.endswith((".", "?", "!"))
            too_long = len(text) > MAX_LINE_CHARS or word.end - current[0].start > MAX_LINE_SECONDS
            if sentence_end or pause >= PAUSE_SECONDS or too_long:
                lines.append(_line(current))
                current = []
        current.append(word)
    if current:
        lines.append(_line(current))
    return lines


def _line(words: Sequence[Word]) -> Line:
    return Line(words[0].start, max(words[-1].end, words[0].start + 0.1), " ".join(w.text for w in words))


def read_captions(path: Path) -> list[Line]:
    """The lines of an SRT or ASS file in time order, tags removed; ASS lines keep where they
    were shown (their style's alignment and margins, or ``\\pos``)."""
    try:
        subtitles = pysubs2.load(str(path), encoding="utf-8-sig")
    except (pysubs2.exceptions.Pysubs2Error, UnicodeDecodeError, ValueError) as exc:
        raise CaptionError(f"caption_url could not be read as SRT or ASS ({exc})") from exc
    positioned = subtitles.format in ("ass", "ssa")
    lines = []
    for event in sorted(subtitles, key=lambda e: e.start):
        text = " ".join(event.plaintext.split())
        if event.is_comment or not text or event.end <= event.start:
            continue
        box = _event_box(subtitles, event) if positioned else _srt_box(event)
        lines.append(Line(event.start / 1000, event.end / 1000, text, box=box))
    if not lines:
        raise CaptionError("caption_url has no caption lines with text and times")
    return lines


def _srt_box(event: pysubs2.SSAEvent) -> Box:
    # SRT has no positions, but players honour an {\an8}-style override for the top.
    alignment = _ALIGN.search(event.text)
    return Box(*_SRT_TOP_BAND) if alignment and int(alignment.group(1)) >= 7 else Box(*_SRT_BAND)


def _event_box(subtitles: pysubs2.SSAFile, event: pysubs2.SSAEvent) -> Box:
    width = float(subtitles.info.get("PlayResX") or 384)
    height = float(subtitles.info.get("PlayResY") or 288)
    style = subtitles.styles.get(event.style, pysubs2.SSAStyle())
    rows = event.plaintext.count("\n") + 1
    box_height = min(rows * style.fontsize * 1.3 / height, 1.0)
    override = _ALIGN.search(event.text)
    alignment = int(override.group(1)) if override else int(style.alignment)
    position = _POS.search(event.text)
    if position:
        x, y = float(position.group(1)) / width, float(position.group(2)) / height
        # \pos anchors the text by its alignment point: bottom, top or middle.
        top = y - box_height if alignment in (1, 2, 3) else y if alignment in (7, 8, 9) else y - box_height / 2
        return _clamped(Box(max(x - 0.4, 0.0), top, 0.8, box_height))
    margin = (event.marginv or style.marginv) / height
    if alignment in (7, 8, 9):
        top = margin
    elif alignment in (4, 5, 6):
        top = 0.5 - box_height / 2
    else:
        top = 1.0 - margin - box_height
    return _clamped(Box(0.06, top, 0.88, box_height))


def _clamped(box: Box) -> Box:
    y = min(max(box.y - 0.01, 0.0), 1.0 - box.height)
    x = min(max(box.x, 0.0), 1.0 - box.width)
    return Box(x, y, box.width, min(box.height + 0.02, 1.0 - y))


def write_srt(lines: Sequence[Line], path: Path) -> None:
    """The lines as an SRT file (UTF-8)."""
    subtitles = pysubs2.SSAFile()
    for line in lines:
        subtitles.append(pysubs2.SSAEvent(start=_ms(line.start), end=_ms(line.end), text=_as_text(line.text)))
    subtitles.save(str(path), format_="srt", encoding="utf-8")


def write_burn_in(
    lines: Sequence[Line], size: tuple[int, int], language: str, path: Path, place: str = "bottom"
) -> None:
    """The lines as an ASS file for libass at the video's ``size``: white text with a dark
    outline in a font that covers ``language``'s script, at the ``bottom``, at the ``top``, or
    each over the box where the line was shown (``boxed``, on an opaque backing)."""
    width, height = size
    subtitles = pysubs2.SSAFile()
    subtitles.info.update({"PlayResX": str(width), "PlayResY": str(height), "WrapStyle": "0"})
    style = pysubs2.SSAStyle(
        fontname=caption_font(language),
        fontsize=max(round(height * 0.055), 10),
        primarycolor=pysubs2.Color(255, 255, 255),
        outlinecolor=pysubs2.Color(0, 0, 0),
        backcolor=pysubs2.Color(0, 0, 0, 96),
        outline=max(height / 240, 1.0),
        shadow=0.0,
        alignment=pysubs2.Alignment.TOP_CENTER if place == "top" else pysubs2.Alignment.BOTTOM_CENTER,
        marginl=round(width * 0.05),
        marginr=round(width * 0.05),
        marginv=round(height * 0.05),
        borderstyle=3 if place == "boxed" else 1,
    )
    subtitles.styles["Default"] = style
    for line in lines:
        text = _as_text(line.text.replace("\n", " "))
        if place == "boxed" and line.box is not None:
            centre_x = round((line.box.x + line.box.width / 2) * width)
            bottom = round((line.box.y + line.box.height) * height)
            text = f"{{\\an2\\pos({centre_x},{bottom})}}{text}"
        subtitles.append(pysubs2.SSAEvent(start=_ms(line.start), end=_ms(line.end), text=text))
    subtitles.save(str(path), format_="ass", encoding="utf-8")


def caption_font(language: str) -> str:
    """A font installed with the server that has the glyphs of ``language``'s script."""
    if language in _CJK:
        return _CJK_FONTS.get(language, "Noto Sans CJK SC")
    return "DejaVu Sans"


def shifted(lines: Sequence[Line], to_output: Callable[[float], float]) -> list[Line]:
    """The lines with their times moved onto the output's timeline."""
    return [replace(line, start=to_output(line.start), end=to_output(line.end)) for line in lines]


def _as_text(text: str) -> str:
    # Braces would open an override block in ASS (and pysubs2's SRT writer): keep them as text.
    return text.replace("{", "(").replace("}", ")")


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
