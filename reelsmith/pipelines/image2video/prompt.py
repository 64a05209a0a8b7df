"""Prompt-driven motion: camera and motion words in, a :class:`MotionPlan` out.

A rule-based reader, no model. The prompt is cut into words and each word (or short phrase) is
given a role: a move ("zoom", "orbit", "bounce"), a direction ("left", "into"), a pace ("slow",
"very fast"), a quantity ("50%", "2x", "30 degrees", "twice"), a target ("her face", "the cat"),
a joint ("then" and commas put moves one after another; "while", "as", "and" and "with" make
them happen together), a negation ("no shake") or filler. Moves are then sized from their
kind's tasteful base amount, clamped to the kind's safe range (where the renderer can show them
without exposing the picture's edges), and laid out in time: sequential steps share the clip
equally. The words, amounts, directions and rates of each kind are in ``kinds.py``; this module
only holds words of its own (travel, pace, direction, order, targets, negation).

``negative_prompt`` removes kinds of moves, ``extend_prompt`` fills in a tasteful default when the
prompt says little, and every fallback is written to the plan's ``notes`` so the user can see why
the clip moves the way it does.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from reelsmith.pipelines.image2video.easing import Easing
from reelsmith.pipelines.image2video.kinds import (
    CAMERA_MOVES,
    KINDS,
    SUBJECT_MOVES,
    CameraKind,
    Said,
    SubjectKind,
    is_kind,
    kind_of,
)
from reelsmith.pipelines.image2video.plan import MotionPlan, Move, Scene

# The API caps prompts at 500 characters; reading no further keeps the parser's work bounded
# whatever reaches it.
MAX_PROMPT_CHARS = 500
# More steps than this make each one too short to read on a 5 s clip.
MAX_STEPS = 6
MAX_MOVES = 12
_MAX_UNKNOWN_LISTED = 12

# Pseudo-kinds that become real kinds once the scene and direction are known.
_TRAVEL = "travel"  # "drift", "move", "push", "pull": pan, tilt or push-in/pull-back by direction
_KEN_BURNS = "ken_burns"  # a slow zoom with a gentle pan

# --- word roles ---------------------------------------------------------------------------------

MOVE, PACE, VERY, DIRECTION, SWING, QUANTITY = "move", "pace", "very", "direction", "swing", "quantity"
FACE, SUBJECT, CENTRE, CAMERA = "face", "subject", "centre", "camera"
CAMERA_MOTION, SUBJECT_MOTION, STATIC, HOLD = "camera_motion", "subject_motion", "static", "hold"
NEGATION, THEN, WHILE, FILLER, NOUN, UNKNOWN = "negation", "then", "while", "filler", "noun", "unknown"


@dataclass(frozen=True)
class _Word:
    """A motion word: the move it asks for and how it colours that move."""

    kind: str  # a MoveKind, _TRAVEL or _KEN_BURNS
    said: Said = Said()  # the word's own direction, strength, rate, noun and pace


@dataclass(frozen=True)
class _Pace:
    """A pace word: how it scales a move, the easing it suggests, and its name in descriptions."""

    factor: float
    easing: Easing | None
    name: str


@dataclass(frozen=True)
class _Quantity:
    unit: str  # "percent" (as a fraction), "times" or "degrees"
    value: float


@dataclass(frozen=True)
class _Lexeme:
    role: str
    words: tuple[str, ...]
    value: object = None


_PACES = {
    "slow": _Pace(0.6, "ease_in_out", "slow"),
    "gentle": _Pace(0.65, "ease_in_out", "gentle"),
    "subtle": _Pace(0.5, "ease_in_out", "subtle"),
    "fast": _Pace(1.6, "ease_in", "fast"),
    "dramatic": _Pace(1.8, "overshoot", "dramatic"),
    "strong": _Pace(1.5, None, "strong"),
    "slight": _Pace(0.5, "ease_in_out", "slight"),
}
_ADVERBS = {
    "slow": "slowly",
    "gentle": "gently",
    "subtle": "subtly",
    "fast": "quickly",
    "dramatic": "dramatically",
    "strong": "strongly",
    "slight": "slightly",
}
_PACE_WORDS: tuple[tuple[str, str], ...] = (
    (r"slow|slowly|slower|unhurried", "slow"),
    (r"gentle|gently|soft|softly|smooth|smoothly|calm|calmly|lazy|lazily|leisurely|easy|steady|steadily", "gentle"),
    (r"subtle|subtly|slight|slightly|light|lightly|little|bit|barely|tiny|small|minimal|faint|faintly", "subtle"),
    (r"fast|faster|quick|quickly|rapid|rapidly|swift|swiftly|speedy|energetic|brisk|briskly", "fast"),
    (
        r"dramatic|dramatically|sudden|suddenly|abrupt|abruptly|snap|snappy|crash|whip|punch|punchy|explosive"
        r"|violent|violently|wild|wildly|intense|intensely|extreme|aggressive|aggressively",
        "dramatic",
    ),
    (r"big|bigger|large|huge|strong|strongly|massive|wide|powerful|heavy|heavily", "strong"),
)

_PUSH = _Word(_TRAVEL, Said(direction="in"))
# The reader's own motion words, for moves it resolves once the scene and direction are known;
# the words of each move kind are in kinds.py. A phrase has a pattern per word.
_TRAVEL_WORDS: tuple[Said, ...] = (
    Said(r"drift(?:s|ed|ing)?", "right", noun="drift", pace="gentle"),
    Said(r"glid(?:e|es|ed|ing)|sweep(?:s|ing)?|swept", "right", strength=0.8),
    Said(r"mov(?:e|es|ed|ing)|slid(?:e|es|ing)|travel(?:s|led|ling|ed|ing)?|track(?:s|ed|ing)?"),
    Said(r"go|goes|going|went"),
    Said(r"ris(?:e|es|ing)|rose|ascend(?:s|ed|ing)?|lift(?:s|ed|ing)?|rais(?:e|es|ed|ing)", "up"),
    Said(r"descend(?:s|ed|ing)?|sink(?:s|ing)?|sank|lower(?:s|ed|ing)?", "down"),
    Said(r"push(?:es|ed|ing)?|approach(?:es|ed|ing)?", "in"),
    Said(r"pull(?:s|ed|ing)?|retreat(?:s|ed|ing)?|reced(?:e|es|ed|ing)", "out"),
    Said(r"close up|in", "in"),
    Said(r"get(?:s|ting)?|com(?:e|es|ing)|mov(?:e|es|ing) closer", "in"),
)
_MOVE_WORDS: tuple[_Word, ...] = (
    *(_Word(kind.name, said) for kind in KINDS for said in kind.words),
    *(_Word(_TRAVEL, said) for said in _TRAVEL_WORDS),
    _Word(_KEN_BURNS, Said("ken burns")),
)

_DIRECTIONS: tuple[tuple[str, str], ...] = (
    (r"left|leftward|leftwards", "left"),
    (r"right|rightward|rightwards", "right"),
    (r"up|upward|upwards|higher|skyward|skywards|overhead", "up"),
    (r"down|downward|downwards|downhill", "down"),
    (r"in|into|inward|inwards|closer|nearer|toward|towards|forward|forwards", "in"),
    (r"out|outward|outwards|back|backward|backwards|away|wider", "out"),
    (r"clockwise|cw", "cw"),
    (r"counterclockwise|anticlockwise|ccw", "ccw"),
)
_OPPOSITE = {"left": "right", "up": "down", "in": "out", "cw": "ccw"}
_OPPOSITE |= {second: first for first, second in _OPPOSITE.items()}

_OTHER_PHRASES: tuple[tuple[tuple[str, ...], str, object], ...] = (
    (("left", "and", "right"), SWING, ("left", "right")),
    (("right", "and", "left"), SWING, ("right", "left")),
    (("up", "and", "down"), SWING, ("up", "down")),
    (("down", "and", "up"), SWING, ("down", "up")),
    (("in", "and", "out"), SWING, ("in", "out")),
    (("out", "and", "in"), SWING, ("out", "in")),
    (("side", "to", "side"), SWING, ("left", "right")),
    ((r"back|forth", "and", r"forth|back"), SWING, None),
    (("to", "and", "fro"), SWING, None),
    ((r"counter|anti", "clockwise"), DIRECTION, "ccw"),
    (("and", "then"), THEN, None),
    (("after", r"that|this|which"), THEN, None),
    (("followed", "by"), THEN, None),
    (("at", "the", "same", "time"), WHILE, None),
    (("as", "well", "as"), WHILE, None),
    (("slow", r"motion|mo"), PACE, "slow"),
    (("motion", "blur"), FILLER, None),
    (("camera", r"movements?|motions?|moves?|moving|work"), CAMERA_MOTION, None),
    (("moving", "camera"), CAMERA_MOTION, None),
    ((r"subject|body|character", r"movements?|motions?"), SUBJECT_MOTION, None),
    (("still", r"camera|shot|frame|image|picture|photo"), STATIC, None),
    (("camera", r"stays|remains|is|holds|stands|kept|keeps", "still"), STATIC, None),
    (("camera", "still"), STATIC, None),
    ((r"fixed|locked|static|stationary", r"camera|shot|frame"), STATIC, None),
    ((r"lock|locked", r"off|down"), STATIC, None),
    (("do", "not"), NEGATION, None),
)
_OTHER_WORDS: tuple[tuple[str, str, object], ...] = (
    (r"static|stationary|tripod", STATIC, None),
    (r"hold|pause|freeze|wait|linger|rest", HOLD, None),
    (r"no|not|without|never|avoid|don't|dont|doesn't|nor|none", NEGATION, None),
    (r"then|finally|afterwards|afterward|next|later|lastly|subsequently|eventually", THEN, None),
    (r"while|whilst|as|and|with|plus|meanwhile|simultaneously|but|together", WHILE, None),
    (r"very|really|super|extremely|so|ultra|incredibly|truly|too|more", VERY, None),
    (r"faces?|facial|eyes?|head|smile|gaze|portrait|lips|mouth|nose", FACE, None),
    (r"subject|subjects|him|her|them|it|she|he|they|foreground|figure|figures|character", SUBJECT, None),
    (r"center|centre|middle|centered|centred", CENTRE, None),
    (r"camera|cam|lens|shot|view|pov|viewpoint|frame", CAMERA, None),
    (r"movements?|motions?|moving", CAMERA_MOTION, None),
)
# Words that name the thing in the picture: "the cat bounces" moves the subject, called "the cat".
_SUBJECT_NOUNS = frozenset(
    "person man woman girl boy child kid baby people guy lady model cat dog kitten puppy pet bird animal "
    "horse car object product toy statue flower body astronaut dancer player singer couple family robot".split()
)
_DETERMINERS = frozenset("the a an my your his her their its our this that these those".split())
_FILLERS = frozenset(
    """
    of to on at by for from onto upon over across through around round about along during until till
    after before or is are was were be being been am do does did has have had will would should can
    could may might must let lets make makes making get gets getting keep keeps keeping start starts
    starting begin begins end ends ending finish finishes stay stays staying remain remains look looks
    looking this that these those there here the a an my your his their its our video clip image
    picture photo photograph scene effect footage background same time just also again all both each
    one other whole entire first second seconds sec secs like some any who which where what when how
    than please gradually animate animated animation dynamic cinematic degree percent s
    """.split()
)
# Every word table in the order a token is tried against it; phrases are tried before words.
_PHRASE_RULES: tuple[tuple[tuple[re.Pattern[str], ...], str, object], ...] = (
    *(
        (tuple(map(re.compile, word.said.pattern.split())), MOVE, word)
        for word in _MOVE_WORDS
        if " " in word.said.pattern
    ),
    *((tuple(map(re.compile, patterns)), role, value) for patterns, role, value in _OTHER_PHRASES),
)
_WORD_RULES: tuple[tuple[re.Pattern[str], str, object], ...] = (
    *((re.compile(word.said.pattern), MOVE, word) for word in _MOVE_WORDS if " " not in word.said.pattern),
    *((re.compile(pattern), PACE, name) for pattern, name in _PACE_WORDS),
    *((re.compile(pattern), DIRECTION, direction) for pattern, direction in _DIRECTIONS),
    *((re.compile(pattern), role, value) for pattern, role, value in _OTHER_WORDS),
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+(?:'[^\W\d_]+)*|[%°×]|[,;:.!?\n—–]")
_PUNCTUATION = frozenset(",;:.!?\n—–")
_COUNT_WORDS = {"once": 1.0, "twice": 2.0, "thrice": 3.0, "double": 2.0, "triple": 3.0}

# --- amounts ------------------------------------------------------------------------------------

_MAX_HZ = 12.0  # well under half of 24 fps, so the motion never aliases into a flicker
# Easings that swing past the end; camera moves using them keep a margin inside the safe range.
_PAST_THE_END = frozenset({"overshoot", "anticipate", "elastic"})
_OVERSHOOT_MARGIN = 1.1
# Signs follow plan.Move and motion.py: pan + views right, tilt + views down, orbit + circles
# right, roll + turns the picture clockwise on screen (a kind's clockwise_sign says otherwise).
# Rotation words name what is seen.
_SIGN = {"right": 1.0, "down": 1.0, "cw": 1.0, "left": -1.0, "up": -1.0, "ccw": -1.0}
_ROTATION = {"cw": "clockwise", "ccw": "counterclockwise"}
# Kinds whose amount is a scale (zoom, dolly) are one family in words: "no zoom" rules out a
# push-in dolly too, and travel words ("push", "pull back") become them.
_ZOOM_FAMILY = frozenset(kind.name for kind in KINDS if kind.unit == "scale")
# What a travel word ("drift", "move", "push") becomes, by its direction.
_TRAVEL_KINDS = {"in": "zoom", "out": "zoom", "left": "pan", "right": "pan", "up": "tilt", "down": "tilt"}
_TRAVEL_DIRECTIONS = frozenset(_TRAVEL_KINDS)
# The frame axis a move "toward" a target travels along: its index, and the sides before and after the middle.
_AXES = {"x": (0, "left", "right"), "y": (1, "up", "down")}


def _accepts(kind: str) -> frozenset[str]:
    """The directions a move (or a travel word) takes; none for Ken Burns."""
    if kind == _TRAVEL:
        return _TRAVEL_DIRECTIONS
    return kind_of(kind).directions if is_kind(kind) else frozenset()


def _swings_back(kind: str) -> bool:
    """Whether "left and right" makes the move go there and back (oscillating moves swing anyway)."""
    if kind == _TRAVEL:
        return True
    move = kind_of(kind) if is_kind(kind) else None
    return isinstance(move, CameraKind) and move.swings_back


# --- reading words ------------------------------------------------------------------------------


def _tokens(text: str) -> list[str]:
    text = text.casefold().replace("’", "'").replace("‘", "'")
    return _TOKEN.findall(text)


def _fits(patterns: Sequence[re.Pattern[str]], tokens: Sequence[str], at: int) -> bool:
    if at + len(patterns) > len(tokens):
        return False
    return all(pattern.fullmatch(tokens[at + offset]) for offset, pattern in enumerate(patterns))


def _lex(text: str) -> list[_Lexeme]:
    """The prompt's words with their roles, longest phrase first at each position."""
    tokens = _tokens(text)
    lexemes: list[_Lexeme] = []
    at = 0
    while at < len(tokens):
        lexeme = _phrase_at(tokens, at) or _quantity_at(tokens, at) or _word_at(tokens, at, lexemes)
        lexemes.append(lexeme)
        at += len(lexeme.words)
    return lexemes


def _phrase_at(tokens: list[str], at: int) -> _Lexeme | None:
    for patterns, role, value in _PHRASE_RULES:
        if _fits(patterns, tokens, at):
            return _Lexeme(role, tuple(tokens[at : at + len(patterns)]), value)
    return None


def _quantity_at(tokens: list[str], at: int) -> _Lexeme | None:
    token = tokens[at]
    if token in _COUNT_WORDS:
        return _Lexeme(QUANTITY, (token,), _Quantity("times", _COUNT_WORDS[token]))
    if not _NUMBER.fullmatch(token):
        return None
    number = float(token.replace(",", "."))
    unit = tokens[at + 1] if at + 1 < len(tokens) else ""
    if unit in ("%", "percent", "pct"):
        return _Lexeme(QUANTITY, (token, unit), _Quantity("percent", number / 100.0))
    if unit in ("x", "×", "times", "time"):
        return _Lexeme(QUANTITY, (token, unit), _Quantity("times", number))
    if unit in ("°", "degrees", "degree", "deg", "degs"):
        return _Lexeme(QUANTITY, (token, unit), _Quantity("degrees", number))
    return _Lexeme(FILLER, (token,))


def _word_at(tokens: list[str], at: int, before: list[_Lexeme]) -> _Lexeme:
    token = tokens[at]
    if token in _PUNCTUATION:
        return _Lexeme(THEN, (token,))
    for pattern, role, value in _WORD_RULES:
        if pattern.fullmatch(token):
            return _Lexeme(role, (token,), value)
    return _noun_or_unknown(token, before)


def _noun_or_unknown(token: str, before: list[_Lexeme]) -> _Lexeme:
    singular = token[:-1] if token.endswith("s") else token
    if token in _SUBJECT_NOUNS or singular in _SUBJECT_NOUNS:
        return _Lexeme(SUBJECT, (token,), singular if singular in _SUBJECT_NOUNS else token)
    if token in _FILLERS:
        return _Lexeme(FILLER, (token,))
    # "the <something>" names a thing in the picture: not motion, but not a misunderstanding either.
    if before and before[-1].words[-1] in _DETERMINERS:
        return _Lexeme(NOUN, (token,))
    return _Lexeme(UNKNOWN, (token,))


# --- negations ----------------------------------------------------------------------------------


def _kinds_named(lexeme: _Lexeme, following: _Lexeme | None) -> frozenset[str]:
    """The move kinds a word names, for removing them ("no zoom" also rules out a dolly)."""
    if lexeme.role == CAMERA_MOTION:
        return frozenset(CAMERA_MOVES)
    if lexeme.role == SUBJECT_MOTION:
        return frozenset(SUBJECT_MOVES)
    word = lexeme.value
    if not isinstance(word, _Word):
        return frozenset()
    if word.kind == _KEN_BURNS:
        return _ZOOM_FAMILY | {"pan"}
    kind = word.kind
    if kind == _TRAVEL:
        said = following.value if following is not None and following.role == DIRECTION else None
        direction = said if said in _TRAVEL_KINDS else word.said.direction
        if direction is None:
            return frozenset(CAMERA_MOVES)
        kind = _TRAVEL_KINDS[direction]
    return _ZOOM_FAMILY if kind in _ZOOM_FAMILY else frozenset({kind})


def _named_kinds(lexemes: list[_Lexeme]) -> frozenset[str]:
    """Every kind a negative prompt names, whatever its grammar."""
    kinds: set[str] = set()
    for at, lexeme in enumerate(lexemes):
        if lexeme.role in (MOVE, CAMERA_MOTION, SUBJECT_MOTION):
            kinds |= _kinds_named(lexeme, lexemes[at + 1] if at + 1 < len(lexemes) else None)
    return frozenset(kinds)


def _take_negations(lexemes: list[_Lexeme]) -> tuple[list[_Lexeme], frozenset[str]]:
    """The prompt without its negated words ("zoom in, no shake"), and the kinds they rule out.

    A negation reaches over filler ("no fast camera zoom", "no zoom or pan") up to a few words;
    "not static" only cancels the "static".
    """
    kept = list(lexemes)
    banned: set[str] = set()
    for at, lexeme in enumerate(lexemes):
        if lexeme.role != NEGATION:
            continue
        kept[at] = _Lexeme(FILLER, lexeme.words)
        after_move = False
        for ahead in range(at + 1, min(at + 7, len(lexemes))):
            target = lexemes[ahead]
            if after_move and target.words != ("or",):
                break  # "no shake, slow zoom": the negation ends with its move
            if target.role in (MOVE, CAMERA_MOTION, SUBJECT_MOTION):
                banned |= _kinds_named(target, lexemes[ahead + 1] if ahead + 1 < len(lexemes) else None)
            elif target.role not in (FILLER, CAMERA, PACE, VERY, NOUN, STATIC):
                break
            after_move = target.role in (MOVE, CAMERA_MOTION, SUBJECT_MOTION)
            kept[ahead] = _Lexeme(FILLER, target.words)
    return kept, frozenset(banned)


# --- clauses and phrases ------------------------------------------------------------------------


@dataclass
class _Draft:
    """A move as read from the words, before it is sized and placed in time."""

    word: _Word
    at: int
    kind: str
    direction: str | None = None
    swing: tuple[str | None, str | None] | None = None
    quantity: _Quantity | None = None
    pace: _Pace | None = None
    pace_name: str | None = None
    target: str | None = None  # FACE, SUBJECT, CENTRE, or None for the move's natural point
    noun: str | None = None  # "cat" in "the cat bounces"


def _split(lexemes: list[_Lexeme], role: str) -> list[list[_Lexeme]]:
    parts: list[list[_Lexeme]] = [[]]
    for lexeme in lexemes:
        if lexeme.role == role:
            parts.append([])
        else:
            parts[-1].append(lexeme)
    return parts


def _has_move(lexemes: list[_Lexeme]) -> bool:
    return any(lexeme.role == MOVE for lexeme in lexemes)


def _merge_moveless(parts: list[list[_Lexeme]], keep: str | None = None) -> list[list[_Lexeme]]:
    """Parts without a move lend their words to a neighbour: "slow, gentle zoom" is one zoom.

    A part goes with the move part before it ("pan right, fast"), or with the next one when it
    leads ("slow, gentle zoom"). Parts holding a lexeme of role ``keep`` stay on their own.
    """
    merged: list[list[_Lexeme]] = []
    carried: list[_Lexeme] = []
    for part in parts:
        alone = keep is not None and any(lexeme.role == keep for lexeme in part)
        if _has_move(part) or alone:
            merged.append(carried + part)
            carried = []
        elif merged and _has_move(merged[-1]):
            merged[-1] = merged[-1] + part
        else:
            carried += part
    if carried and merged:
        merged[-1] = merged[-1] + carried
    return merged


def _join_leading_while(lexemes: list[_Lexeme]) -> list[list[_Lexeme]]:
    """Clauses, where "while the camera orbits, the cat bounces" stays one clause."""
    joined: list[list[_Lexeme]] = []
    pending: list[_Lexeme] | None = None
    for clause in _split(lexemes, THEN):
        if not clause:
            continue  # "zoom in!!! pan left"
        if pending is not None:
            joined.append(pending + [_Lexeme(WHILE, ("while",))] + clause)
            pending = None
        elif clause and clause[0].role == WHILE and clause[0].words[0] in ("while", "whilst", "as"):
            pending = clause
        else:
            joined.append(clause)
    if pending is not None:
        joined.append(pending)
    return joined


def _repeat_for_new_directions(clauses: list[list[_Lexeme]]) -> list[list[_Lexeme]]:
    """ "tilt up, then down": a clause with only a new direction repeats the move before it.

    A direction the earlier clause already has ("zoom in, toward her face") stays a modifier.
    """
    repeated: list[list[_Lexeme]] = []
    for clause in clauses:
        earlier = repeated[-1] if repeated else []
        moves = [lexeme for lexeme in earlier if lexeme.role == MOVE and isinstance(lexeme.value, _Word)]
        if moves and not _has_move(clause):
            last = moves[-1]
            known = {lexeme.value for lexeme in earlier if lexeme.role == DIRECTION}
            takes = _accepts(last.value.kind) if isinstance(last.value, _Word) else frozenset()
            if any(x.role == DIRECTION and x.value not in known and x.value in takes for x in clause):
                clause = [last] + clause
        repeated.append(clause)
    return repeated


def _read_steps(lexemes: list[_Lexeme]) -> list[list[_Draft] | None]:
    """One entry per step in time: the drafts that happen together, or None for a hold."""
    steps: list[list[_Draft] | None] = []
    clauses = _repeat_for_new_directions(_join_leading_while(lexemes))
    for clause in _merge_moveless(clauses, keep=HOLD):
        if not _has_move(clause):
            steps.append(None)
            continue
        phrases = _merge_moveless(_split(clause, WHILE))
        steps.append([draft for phrase in phrases for draft in _read_phrase(phrase)])
    return steps


def _read_phrase(lexemes: list[_Lexeme]) -> list[_Draft]:
    """The moves of words that happen together, with their directions, pace and target."""
    drafts: list[_Draft] = []
    for at, lexeme in enumerate(lexemes):
        if lexeme.role == MOVE and isinstance(lexeme.value, _Word):
            parts = _KEN_BURNS_PARTS if lexeme.value.kind == _KEN_BURNS else (lexeme.value,)
            drafts.extend(_Draft(word=part, at=at, kind=part.kind) for part in parts)
    drafts = _one_per_kind(drafts)
    directions = [(at, x.value) for at, x in enumerate(lexemes) if x.role == DIRECTION and isinstance(x.value, str)]
    swings = [(at, x.value) for at, x in enumerate(lexemes) if x.role == SWING]
    quantities = [(at, x.value) for at, x in enumerate(lexemes) if isinstance(x.value, _Quantity)]
    _attach(drafts, directions, _takes_direction, _set_direction)
    _attach(drafts, swings, _takes_swing, _set_swing)
    _attach(drafts, quantities, lambda draft, _: draft.quantity is None, _set_quantity)
    pace, pace_name = _read_pace(lexemes)
    target, noun = _read_target(lexemes)
    camera_words = any(lexeme.role == CAMERA for lexeme in lexemes)
    around = any(lexeme.words[-1] in ("around", "round") for lexeme in lexemes)
    for draft in drafts:
        draft.pace, draft.pace_name, draft.target, draft.noun = pace, pace_name, target, noun
        # "the camera rotates (around her)" is a camera move, not the subject spinning.
        if draft.kind == "spin" and camera_words:
            draft.kind = "orbit" if around else "roll"
    return drafts


def _one_per_kind(drafts: list[_Draft]) -> list[_Draft]:
    """ "jelly wobble", "heartbeat pulse": two words for one move; the more specific word wins."""
    kept: dict[str, _Draft] = {}
    for draft in drafts:
        first = kept.get(draft.kind)
        if first is None:
            kept[draft.kind] = draft
        elif first.word.said.noun is None and draft.word.said.noun is not None:
            kept[draft.kind] = replace(draft, at=first.at)
    return list(kept.values())


_KEN_BURNS_PARTS = (
    _Word("zoom", Said(direction="in", pace="slow")),
    _Word("pan", Said(pace="gentle")),
)


def _read_pace(lexemes: list[_Lexeme]) -> tuple[_Pace | None, str | None]:
    """The phrase's pace: the product of its pace words, each strengthened by "very"."""
    factor, easing, name = 1.0, None, None
    intensity = 0
    for lexeme in lexemes:
        if lexeme.role == VERY:
            intensity += 1
            continue
        if lexeme.role == PACE:
            pace = _PACES[str(lexeme.value)]
            factor *= pace.factor ** (1.0 + 0.6 * intensity)
            easing = easing or pace.easing
            name = name or ("very " if intensity else "") + pace.name
        intensity = 0
    if name is None:
        return None, None
    return _Pace(min(2.5, max(0.3, factor)), easing, name), name


def _read_target(lexemes: list[_Lexeme]) -> tuple[str | None, str | None]:
    roles = [lexeme.role for lexeme in lexemes]
    nouns = [str(lexeme.value) for lexeme in lexemes if lexeme.role == SUBJECT and lexeme.value]
    if FACE in roles:
        return FACE, None
    if SUBJECT in roles:
        return SUBJECT, nouns[0] if nouns else None
    if CENTRE in roles:
        return CENTRE, None
    return None, None


def _attach(
    drafts: list[_Draft],
    items: Sequence[tuple[int, object]],
    takes: Callable[[_Draft, object], bool],
    give: Callable[[_Draft, object], None],
) -> None:
    """Give each modifier word to a move that takes it.

    Words usually follow their move ("pan left", "zoom in 50%"), so the nearest move before a
    word is served first; words left over go to the nearest move after them ("left pan").
    """
    left_over = []
    for at, value in items:
        draft = _nearest([d for d in drafts if d.at < at and takes(d, value)], at)
        if draft is None:
            left_over.append((at, value))
        else:
            give(draft, value)
    for at, value in left_over:
        draft = _nearest([d for d in drafts if d.at > at and takes(d, value)], at)
        if draft is not None:
            give(draft, value)


def _nearest(drafts: list[_Draft], at: int) -> _Draft | None:
    return min(drafts, key=lambda draft: abs(draft.at - at), default=None)


def _takes_direction(draft: _Draft, direction: object) -> bool:
    return draft.direction is None and direction in _accepts(draft.kind)


def _set_direction(draft: _Draft, direction: object) -> None:
    draft.direction = str(direction)


def _takes_swing(draft: _Draft, swing: object) -> bool:
    if draft.swing is not None or not _swings_back(draft.kind):
        return False  # "sways side to side": oscillating moves swing anyway
    return swing is None or (isinstance(swing, tuple) and swing[0] in _accepts(draft.kind))


def _set_swing(draft: _Draft, swing: object) -> None:
    if isinstance(swing, tuple):
        draft.swing = swing
        draft.direction = swing[0]
    else:
        draft.swing = (None, None)


def _set_quantity(draft: _Draft, quantity: object) -> None:
    if isinstance(quantity, _Quantity):
        draft.quantity = quantity


# --- from drafts to moves -----------------------------------------------------------------------


class _Notes:
    """Notes in the order they were made, each once."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, note: str) -> None:
        if note not in self.items:
            self.items.append(note)


@dataclass(frozen=True)
class _Step:
    """A planned move with its words for the description."""

    moves: tuple[Move, ...]
    words: str  # a camera move's noun phrase ("a slow zoom in"), a subject move's predicate ("floats")
    subject: str | None = None  # who does a subject move ("the cat")

    @property
    def text(self) -> str:
        return f"{self.subject} {self.words}" if self.subject else self.words


@dataclass(frozen=True)
class _Context:
    scene: Scene
    seed: int
    seconds: int
    notes: _Notes = field(default_factory=_Notes)


def _resolve_kind(draft: _Draft, scene: Scene) -> _Draft | None:
    """Turn travel words into pan, tilt, push-in or pull-back; None when no direction was given."""
    if draft.kind != _TRAVEL:
        return draft
    swing_first = draft.swing[0] if draft.swing else None
    direction = draft.direction or swing_first or draft.word.said.direction
    if direction is None:
        if draft.swing is None:
            return None
        direction = "right"  # "move back and forth": a sideways swing
    kind = _TRAVEL_KINDS[direction]
    if kind == "zoom" and scene.has_subject:
        kind = "dolly"  # a push-in with a separated subject gets parallax
    return replace(draft, kind=kind, direction=direction)


def _point(draft: _Draft, context: _Context) -> tuple[tuple[float, float] | None, str | None]:
    """Where a move centres and how the description names it (None: the frame's centre)."""
    scene, notes = context.scene, context.notes
    face = scene.main_face
    subject_name = f"the {draft.noun}" if draft.noun else "the subject"
    if draft.target == CENTRE:
        return None, None
    if draft.target == FACE:
        if face is not None:
            return face.center, "the face"
        fallback = "the subject" if scene.has_subject else "the centre of the frame"
        notes.add(f"The prompt names a face but none was found in the picture; the move aims at {fallback}.")
        return (scene.subject_center, subject_name) if scene.has_subject else (None, None)
    if draft.target == SUBJECT and not scene.has_subject:
        fallback = "the face" if face is not None else "the centre of the frame"
        notes.add(f"No separate subject was found in the picture; the move aims at {fallback}.")
    # A push toward a face reads better than one toward the middle of a body; moves of the
    # subject layer centre on the subject.
    face_first = draft.target is None and draft.kind in _ZOOM_FAMILY
    if face_first and face is not None:
        return face.center, "the face"
    if scene.has_subject:
        return scene.subject_center, subject_name
    if face is not None:
        return face.center, "the face"
    return None, None


def _direction(draft: _Draft, point: tuple[float, float] | None) -> str | None:
    kind = kind_of(draft.kind)
    if kind.default_direction is None:
        return None
    chosen = draft.direction or draft.word.said.direction
    if chosen is not None:
        return {"left": "ccw", "right": "cw"}.get(chosen, chosen) if kind.turns else chosen
    # "pan toward her face": travel to the side the target is on.
    if draft.target in (FACE, SUBJECT) and point is not None and isinstance(kind, CameraKind) and kind.follows:
        axis, before, after = _AXES[kind.follows]
        if abs(point[axis] - 0.5) > 0.02:
            return after if point[axis] > 0.5 else before
    return kind.default_direction


def _factor(draft: _Draft) -> float:
    """How much stronger than the base amount: the word's own strength times the pace."""
    pace = draft.pace or (_PACES[draft.word.said.pace] if draft.word.said.pace else None)
    return draft.word.said.strength * (pace.factor if pace else 1.0)


def _easing(draft: _Draft) -> Easing:
    own = kind_of(draft.kind).easing
    if own != "ease_in_out":
        return own  # physical easings (anticipation, overshoot, settle) are the point of these moves
    return draft.pace.easing if draft.pace and draft.pace.easing else own


def _scale(draft: _Draft, direction: str, factor: float) -> float:
    """Zoom and dolly: the final scale ("2x" -> 2.0, "50%" -> 1.5; out is the inverse)."""
    scale = 1.0 + kind_of(draft.kind).base * factor
    quantity = draft.quantity
    if quantity is not None and quantity.value > 0:
        if quantity.unit == "percent":
            scale = 1.0 + quantity.value
        elif quantity.unit == "times" and quantity.value != 1.0:
            scale = max(quantity.value, 1.0 / quantity.value)
    return scale if direction == "in" else 1.0 / scale


def _magnitude(draft: _Draft, factor: float) -> float:
    kind, quantity = kind_of(draft.kind), draft.quantity
    if kind.unit == "turns":
        # Whole turns, so the subject ends the way it started.
        magnitude = float(max(1, round(factor)))
    else:
        magnitude = kind.base * factor
    if quantity is None or quantity.value <= 0:
        return magnitude
    if quantity.unit == "percent" and kind.unit == "fraction":
        return quantity.value
    if quantity.unit == "degrees" and kind.unit == "degrees":
        return quantity.value
    if quantity.unit == "degrees" and kind.unit == "turns":
        return quantity.value / 360.0
    if quantity.unit == "times" and kind.unit == "turns":
        return quantity.value
    if quantity.unit == "times" and not kind.repeatable:
        return kind.base * quantity.value
    return magnitude


def _clamped(name: str, amount: float, easing: Easing, notes: _Notes) -> float:
    """``amount`` inside the kind's safe range (with a note when it was not), to 4 decimals."""
    kind = kind_of(name)
    margin = _OVERSHOOT_MARGIN if isinstance(kind, CameraKind) and easing in _PAST_THE_END else 1.0
    # The margin pulls both bounds towards the amount that does nothing.
    low, high = (_inward(kind.neutral + (bound - kind.neutral) / margin, kind.neutral) for bound in kind.limits)
    safe = min(high, max(low, amount))
    if kind.unit != "scale" and abs(safe) < high * 0.02:
        safe = math.copysign(high * 0.02, safe)
    if abs(safe - amount) > 1e-9:
        notes.add(f"The {name} was limited to {safe:.3g} (asked {amount:.3g}) to stay within the safe range.")
    return round(safe, 4)


def _inward(bound: float, neutral: float) -> float:
    # Bounds are rounded to 4 decimals toward the neutral amount, so that rounding an amount
    # never steps past them.
    scaled = bound * 1e4
    return (math.floor(scaled) if bound > neutral else math.ceil(scaled)) / 1e4


def _frequency(draft: _Draft, span: float, factor: float, index: int, context: _Context) -> float:
    """Cycles per clip: a count the prompt gave ("bounces 3 times"), else a natural rate."""
    kind = kind_of(draft.kind)
    if not kind.repeatable:
        return 0.0
    quantity = draft.quantity
    if quantity is not None and quantity.unit == "times" and quantity.value >= 1:
        cycles = quantity.value / span
    elif kind.prompt_hz is not None:
        # The seed only nudges the rate, so variations of one prompt differ a little.
        nudge = random.Random(f"{context.seed}:{index}:{kind.name}").uniform(-0.08, 0.08)
        hz = (draft.word.said.hz or kind.prompt_hz) * factor**0.5
        cycles = hz * context.seconds * (1.0 + nudge)
    else:
        return 0.0
    return round(min(_MAX_HZ * context.seconds, max(0.5, cycles)), 3)


def _build(draft: _Draft, start: float, end: float, index: int, context: _Context) -> _Step:
    """A draft as one move (two for a swing: there and back), with its description."""
    point, label = _point(draft, context)
    direction = _direction(draft, point)
    factor = _factor(draft)
    easing = _easing(draft)
    kind = draft.kind
    target = point if kind_of(kind).aims else None
    frequency = _frequency(draft, end - start, factor, index, context)
    legs = [(direction, start, end)]
    if draft.swing is not None and direction is not None:
        middle = round((start + end) / 2, 4)
        legs = [(direction, start, middle), (_OPPOSITE[direction], middle, end)]
    moves = tuple(
        Move(
            kind=kind,  # type: ignore[arg-type]
            start=round(leg_start, 4),
            end=round(leg_end, 4),
            amount=_amount(draft, leg_direction, factor, easing, context.notes),
            target=target,
            easing=easing,
            frequency=frequency,
        )
        for leg_direction, leg_start, leg_end in legs
    )
    if isinstance(kind_of(kind), SubjectKind):
        named = f"the {draft.noun}" if draft.noun else "the subject"
        subject = label if draft.target == FACE and label else named
        return _Step(moves, _predicate(draft, direction), subject)
    return _Step(moves, _camera_phrase(draft, direction, label))


def _amount(draft: _Draft, direction: str | None, factor: float, easing: Easing, notes: _Notes) -> float:
    kind = kind_of(draft.kind)
    if kind.unit == "scale":
        return _clamped(draft.kind, _scale(draft, direction or "in", factor), easing, notes)
    sign = _SIGN.get(direction or "", 1.0)
    if direction in _ROTATION:
        sign *= kind.clockwise_sign
    return _clamped(draft.kind, sign * _magnitude(draft, factor), easing, notes)


# --- descriptions -------------------------------------------------------------------------------


def _pace_name(draft: _Draft) -> str | None:
    return draft.pace_name or draft.word.said.pace


def _predicate(draft: _Draft, direction: str | None) -> str:
    """What a subject move does, in words: "gently floats", "spins counterclockwise"."""
    pace = _pace_name(draft)
    adverb = ""
    if pace:
        very, _, name = pace.rpartition(" ")
        adverb = f"{very} {_ADVERBS[name]} ".lstrip()
    return adverb + _phrase(draft, direction, None)


def _camera_phrase(draft: _Draft, direction: str | None, label: str | None) -> str:
    """A camera move in words: "a slow zoom in toward the face"."""
    pace = _pace_name(draft)
    noun = _phrase(draft, direction, label)
    adjective = f"{pace} " if pace else ""
    article = "an" if (adjective or noun)[0] in "aeiou" else "a"
    return f"{article} {adjective}{noun}"


def _phrase(draft: _Draft, direction: str | None, label: str | None) -> str:
    """The move in its kind's words (``kinds.Kind.phrase``): "pan to the left and back", "spins
    clockwise"; ``label`` names its target ("the face")."""
    kind = kind_of(draft.kind)
    shown = direction or kind.default_direction or ""
    swing = draft.swing is not None
    noun = draft.word.said.noun or kind.called
    words = shown
    if draft.word.kind == _TRAVEL and kind.unit == "scale":
        noun, words = ("push", "in") if shown == "in" else ("pull", "back")  # the travel word names it
    return kind.phrase.format(
        noun=noun,
        direction=words,
        side={"cw": "right", "ccw": "left"}.get(shown, shown),
        rotation=_ROTATION.get(shown, "clockwise"),
        back=" and back" if swing else "",
        returning=f" and back {_OPPOSITE[shown]}" if swing and shown in _OPPOSITE else "",
        toward=f" toward {label}" if direction == "in" and label else "",
        around=f" around {label}" if label else "",
    )


def _group_text(steps: Sequence[_Step]) -> str:
    """Moves that happen together: "the cat squishes and bounces with a slow orbit"."""
    text = steps[0].text
    for previous, step in zip(steps, steps[1:], strict=False):
        if step.subject is not None and step.subject == previous.subject:
            text += f" and {step.words}"
        else:
            text += (" while " if step.subject else " with ") + step.text
    return text


def _sentence(groups: Sequence[Sequence[_Step]], throughout: Sequence[_Step]) -> str:
    if not groups and not throughout:
        return "The picture stays still."
    parts = [_group_text(group) if group else "a pause" for group in groups]
    text = ", then ".join(parts)
    if throughout:
        extra = _group_text(throughout)
        text = f"{text}, {'while' if throughout[0].subject else 'with'} {extra} throughout" if text else extra
    for article in ("a ", "an "):
        text = text.removeprefix(article)
    return text[0].upper() + text[1:] + "."


# --- defaults and extensions ----------------------------------------------------------------------


def _synthetic(word: _Word) -> _Draft:
    return _Draft(word=word, at=0, kind=word.kind)


def _camera_fallbacks(pace: str, push: bool, strength: float = 1.0) -> list[_Draft]:
    """Camera moves to try in turn when a default is needed and some kinds are ruled out."""
    first = _Word(_TRAVEL if push else "zoom", Said(direction="in", strength=strength, pace=pace))
    others = (
        _Word("pan", Said(strength=strength, pace=pace)),
        _Word("tilt", Said(direction="up", strength=strength, pace=pace)),
    )
    return [_synthetic(word) for word in (first, *others)]


def _first_allowed(candidates: Iterable[_Draft], banned: frozenset[str], scene: Scene) -> _Draft | None:
    for candidate in candidates:
        resolved = _resolve_kind(candidate, scene)
        if resolved is not None and resolved.kind not in banned:
            return resolved
    return None


def _light_float(banned: frozenset[str], scene: Scene) -> list[_Draft]:
    # Without a separated subject a float would move nothing.
    if not scene.has_subject or "float" in banned:
        return []
    return [_synthetic(_Word("float", Said(strength=0.5, pace="subtle")))]


def _complement(camera: _Draft, banned: frozenset[str], scene: Scene) -> _Draft | None:
    """A subtle second camera move for a prompt with a single one: a pan gets a slight zoom, a
    zoom a slight pan; the other axis when that is ruled out."""
    pan = _Word("pan", Said(strength=0.6, pace="slight"))
    tilt = _Word("tilt", Said(direction="up", strength=0.6, pace="slight"))
    if camera.kind in _ZOOM_FAMILY:
        candidates = [pan, tilt]
    else:
        candidates = [
            _Word("zoom", Said(direction="in", strength=0.5, pace="subtle")),
            tilt if camera.kind == "pan" else pan,
        ]
    chosen = _first_allowed((_synthetic(word) for word in candidates), banned, scene)
    if chosen is not None and camera.target in (FACE, SUBJECT):
        chosen.target, chosen.noun = camera.target, camera.noun  # lean toward what the prompt is about
    return chosen


def _kind_names(drafts: list[_Draft]) -> str:
    """ "a slow push in and a subtle float", for notes."""
    names = ["push in" if d.word.kind == _TRAVEL and d.kind in _ZOOM_FAMILY else d.kind for d in drafts]
    return " and ".join(f"a {_pace_name(d) or 'subtle'} {name}" for d, name in zip(drafts, names, strict=True))


# --- the plan -----------------------------------------------------------------------------------


def plan_from_prompt(
    prompt: str,
    negative_prompt: str,
    extend_prompt: bool,
    scene: Scene,
    seed: int,
    seconds: int,
) -> MotionPlan:
    """The motion plan a prompt asks for, read with rules (no model).

    ``prompt`` names camera moves (zoom, pan, tilt, orbit, push in, pull back, shake, ...) and
    subject moves (bounce, float, spin, squish, ...), with paces ("slow", "very fast"),
    directions, quantities ("50%", "2x", "30 degrees") and targets ("her face", "the cat").
    "then" and commas make moves follow each other; "while", "as", "and" and "with" make them
    happen together. ``negative_prompt`` removes the kinds it names; with ``extend_prompt`` a
    prompt that says little gets a tasteful default added. Nothing recognised and no extension
    gives a gentle slow zoom in (source ``"default"``). The same inputs always give the same
    plan; ``seed`` only nudges oscillation rates. Words not understood and every fallback are
    listed in the plan's ``notes``.
    """
    context = _Context(scene=scene, seed=seed, seconds=max(1, int(seconds)))
    notes = context.notes
    prompt, negative_prompt = prompt or "", negative_prompt or ""
    if len(prompt) > MAX_PROMPT_CHARS:
        notes.add(f"Only the first {MAX_PROMPT_CHARS} characters of the prompt were read.")
    lexemes = _lex(prompt[:MAX_PROMPT_CHARS])
    _note_unknown(lexemes, notes)
    negative = _lex(negative_prompt[:MAX_PROMPT_CHARS])

    lexemes, negated = _take_negations(lexemes)
    static_asked = any(lexeme.role == STATIC for lexeme in lexemes)
    static_unwanted = any(lexeme.role == STATIC for lexeme in negative) and not static_asked
    banned = _named_kinds(negative) | negated | (frozenset(CAMERA_MOVES) if static_asked else frozenset())
    steps = _resolved_steps(_read_steps(_generic_camera_motion(lexemes)), scene, banned, static_asked, notes)
    steps = _capped(steps, notes)

    from_prompt = any(steps)
    throughout: list[_Draft] = []
    if not from_prompt:
        steps = [_default_drafts(extend_prompt, scene, banned, static_asked, notes)]
    elif extend_prompt:
        throughout = _extend(steps, scene, banned, notes)
    if static_unwanted and not _has_camera(steps, throughout):
        push = _first_allowed(_camera_fallbacks("slow", push=True), banned, scene)
        if push is not None:
            throughout.append(push)
            notes.add("The negative prompt rules out a static camera, so a slow push in was added.")
    groups, extra = _place([step for step in steps if step is None or step], throughout, context)
    moves = tuple(move for group in [*groups, extra] for step in group for move in step.moves)
    source = "prompt" if from_prompt or static_asked else "default"
    return MotionPlan(moves, source, _sentence(groups, extra), seed, tuple(notes.items))


def _generic_camera_motion(lexemes: list[_Lexeme]) -> list[_Lexeme]:
    """ "Smooth camera movement" with no camera move named asks for one: a push in by default,
    or the way its direction words say ("the camera moves left")."""
    named = any(
        lexeme.role == MOVE and isinstance(lexeme.value, _Word) and lexeme.value.kind not in SUBJECT_MOVES
        for lexeme in lexemes
    )
    result: list[_Lexeme] = []
    for lexeme in lexemes:
        if lexeme.role == CAMERA_MOTION:
            asks = not named
            named = True  # one generic mention is one move, however often it is repeated
            lexeme = _Lexeme(MOVE, lexeme.words, _PUSH) if asks else _Lexeme(FILLER, lexeme.words)
        result.append(lexeme)
    return result


def _note_unknown(lexemes: list[_Lexeme], notes: _Notes) -> None:
    unknown = list(dict.fromkeys(lexeme.words[0] for lexeme in lexemes if lexeme.role == UNKNOWN))
    if unknown:
        shown = ", ".join(f'"{_shorten(word)}"' for word in unknown[:_MAX_UNKNOWN_LISTED])
        more = f" and {len(unknown) - _MAX_UNKNOWN_LISTED} more" if len(unknown) > _MAX_UNKNOWN_LISTED else ""
        notes.add(f"Not understood: {shown}{more}.")


def _shorten(word: str) -> str:
    return word if len(word) <= 24 else word[:23] + "…"


def _resolved_steps(
    steps: list[list[_Draft] | None], scene: Scene, banned: frozenset[str], static_asked: bool, notes: _Notes
) -> list[list[_Draft] | None]:
    """Steps with travel words resolved and ruled-out kinds removed (saying which and why)."""
    resolved: list[list[_Draft] | None] = []
    removed: list[str] = []
    for step in steps:
        if step is None:
            resolved.append(None)
            continue
        drafts = [draft for draft in (_resolve_kind(d, scene) for d in step) if draft is not None]
        removed += [draft.kind for draft in drafts if draft.kind in banned]
        kept = [draft for draft in drafts if draft.kind not in banned]
        if kept:
            resolved.append(kept)
    if removed:
        why = "a static camera, or ruled out" if static_asked else "ruled out"
        notes.add(f"Left out ({why}): {', '.join(dict.fromkeys(removed))}.")
    # A hold only means something between moves.
    while resolved and resolved[-1] is None:
        resolved.pop()
    while resolved and resolved[0] is None:
        resolved.pop(0)
    return resolved


def _capped(steps: list[list[_Draft] | None], notes: _Notes) -> list[list[_Draft] | None]:
    """At most MAX_STEPS steps and MAX_MOVES moves, saying so when the prompt asked for more."""
    if len(steps) > MAX_STEPS:
        notes.add(f"Only the first {MAX_STEPS} steps of the prompt were used.")
        steps = steps[:MAX_STEPS]
    capped: list[list[_Draft] | None] = []
    room = MAX_MOVES
    for step in steps:
        if step is not None and len(step) > room:
            notes.add(f"Only the first {MAX_MOVES} moves of the prompt were used.")
            if room:
                capped.append(step[:room])
            break
        capped.append(step)
        room -= len(step or [])
    while capped and capped[-1] is None:
        capped.pop()
    return capped


def _default_drafts(
    extend_prompt: bool, scene: Scene, banned: frozenset[str], static_asked: bool, notes: _Notes
) -> list[_Draft]:
    """What to do when the prompt names no move: a slow push in and a light float when the
    prompt may be extended, a gentle slow zoom in otherwise; never a kind that is ruled out."""
    if extend_prompt:
        push = _first_allowed(_camera_fallbacks("slow", push=True), banned, scene)
        drafts = ([push] if push else []) + _light_float(banned, scene)
        if drafts:
            notes.add(f"The prompt names no motion; extend_prompt added {_kind_names(drafts)}.")
    elif static_asked:
        drafts = []
    else:
        zoom = _first_allowed(_camera_fallbacks("slow", push=False), banned, scene)
        drafts = [zoom] if zoom else []
        if zoom:
            notes.add(f"No camera or motion words were recognised; used a gentle default: {_kind_names(drafts)}.")
    if not drafts and not static_asked:
        notes.add("The prompt names no motion and every default move is ruled out; the picture stays still.")
    if not drafts and static_asked:
        notes.add("The prompt asks for a static camera and names no subject motion; the picture stays still.")
    return drafts


def _extend(steps: list[list[_Draft] | None], scene: Scene, banned: frozenset[str], notes: _Notes) -> list[_Draft]:
    """Add a subtle move to a prompt that says little; returns moves that span the whole clip.

    A single camera move gets a complementary one at the same time (added to its step); subject
    moves alone get a subtle push in over the whole clip. Prompts with two or more camera moves are left alone.
    """
    camera = [(step, draft) for step in steps if step for draft in step if draft.kind in CAMERA_MOVES]
    if not camera:
        push = _first_allowed(_camera_fallbacks("subtle", push=True, strength=0.6), banned, scene)
        if push is None:
            return []
        notes.add(f"extend_prompt added {_kind_names([push])} over the whole clip.")
        return [push]
    if len(camera) == 1:
        step, draft = camera[0]
        extra = _complement(draft, banned, scene)
        if extra is not None:
            step.append(extra)
            notes.add(f"extend_prompt added {_kind_names([extra])} to the {draft.kind}.")
    return []


def _has_camera(steps: list[list[_Draft] | None], throughout: list[_Draft]) -> bool:
    drafts = [draft for step in steps if step for draft in step] + throughout
    return any(draft.kind in CAMERA_MOVES for draft in drafts)


def _place(
    steps: list[list[_Draft] | None], throughout: list[_Draft], context: _Context
) -> tuple[list[list[_Step]], list[_Step]]:
    """Lay the steps out in time, the clip shared equally between them."""
    groups: list[list[_Step]] = []
    index = 0
    for number, step in enumerate(steps):
        start, end = number / len(steps), (number + 1) / len(steps)
        group = [_build(draft, start, end, index + offset, context) for offset, draft in enumerate(step or [])]
        index += len(group)
        groups.append(group)
    extra = [_build(draft, 0.0, 1.0, index + offset, context) for offset, draft in enumerate(throughout)]
    return groups, extra
