"""The move kinds of Image to Video, each declared once.

A kind is everything the rest of the package knows about one motion: the words of prompts that
ask for it and how descriptions name it (``prompt.py``), its amounts, directions and rates, the
step that moves it frame by frame (``motion.py``, folded by ``render.py``) and the sound it makes
(``audio.py``). Those modules look a kind up here; none of them lists kinds of its own.

Adding a kind: its name in :data:`MoveKind`, one record in :data:`KINDS`, and (when it moves
unlike every kind here) its step in ``motion.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reelsmith.pipelines.image2video import motion
from reelsmith.pipelines.image2video.easing import Easing

MoveKind = Literal[
    "zoom",
    "pan",
    "tilt",
    "dolly",
    "orbit",
    "shake",
    "roll",
    "squish",
    "inflate",
    "deflate",
    "wobble",
    "jiggle",
    "spin",
    "pulse",
    "melt",
    "bounce",
    "float",
    "sway",
]
# What a move's amount measures (each record's comment says exactly what): a scale relative to
# the start (1 = no change), a fraction of the frame or of the subject, degrees, or whole turns.
Unit = Literal["scale", "fraction", "degrees", "turns"]
# Where a move goes, as prompts say it and descriptions repeat it.
Direction = Literal["left", "right", "up", "down", "in", "out", "cw", "ccw"]

_TURNING: frozenset[Direction] = frozenset({"left", "right", "cw", "ccw"})
_IN_OUT: frozenset[Direction] = frozenset({"in", "out"})


@dataclass(frozen=True)
class Said:
    """A word of prompts that asks for a kind, and how it colours the move.

    ``pattern`` is a regular expression a whole word must match; a phrase has one per word,
    separated by spaces ("dutch tilt(?:s|ed)?"). The rest overrides the kind's defaults.
    """

    pattern: str = ""
    direction: Direction | None = None  # the direction the word implies on its own ("crane": up)
    strength: float = 1.0  # scales the kind's base amount
    hz: float | None = None  # oscillations per second, for the words that set their own rate
    noun: str | None = None  # how the description names it ("earthquake shake", "breathes")
    pace: str | None = None  # the pace it implies (a pace name of prompt.py: "drift" is gentle)


# --- sounds (audio.py) ------------------------------------------------------------------------
# ``strong`` in each is the amount of a strong move of the kind (as loud as effects get); for a
# scale, the scale of a strong move.


@dataclass(frozen=True)
class Whoosh:
    """Air rushing past while the camera moves, sweeping up or down with it."""

    strong: float
    band: float = 1.0  # scales the frequencies it sweeps (a dolly's is lower, heavier)
    travels: bool = False  # it crosses the stereo field with the camera, else sits at the target


@dataclass(frozen=True)
class Rumble:
    """Low noise and a sub tone throbbing at the move's rate."""

    strong: float


@dataclass(frozen=True)
class Boing:
    """A cartoon spring: a note that bends into place and wobbles with vibrato."""

    strong: float = 0.3
    bend: float = 0.0  # semitones the note bends over the move (a balloon rises, a deflating one sags)
    vibrato_hz: float = 5.0  # when the move gives no frequency
    vibrato_depth: float = 0.7  # semitones
    vibrato_follows_turns: bool = False  # the vibrato runs at the move's turns per second (a spin)


@dataclass(frozen=True)
class Impact:
    """A thump (a splat when ``soft``) every time the move hits its extreme."""

    strong: float = 0.3
    # Where in each of its cycles the move hits (0.5 the middle, 1 the end; see
    # audio.impact_times); None: once, at the move's end.
    cycle_phase: float | None = None
    level: float = 1.0
    soft: bool = False


Sound = Whoosh | Rumble | Boing | Impact


# --- the records ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Kind:
    """One kind of move: the fields every kind has (see :class:`CameraKind`, :class:`SubjectKind`)."""

    name: MoveKind
    # Prompts.
    words: tuple[Said, ...]  # the words that ask for it, the more specific first
    called: str  # how descriptions name it (a subject move's verb: "bounces"); a word's noun overrides it
    # The description, formatted by prompt.py with {noun} (the word's noun, else ``called``),
    # {direction}, {side} (a turn as a side), {rotation} ("clockwise"), {back} (" and back" for a
    # swing), {returning} (" and back out"), {toward} (" toward the face", going in) and {around}.
    phrase: str = "{noun}"
    # Amounts, in ``unit``.
    unit: Unit = "fraction"
    base: float  # the amount at a neutral pace; for a scale, the step beyond 1x
    limits: tuple[float, float]  # the safe range: beyond it the picture's edges show or the subject tears
    easing: Easing = "ease_in_out"  # anything else is the point of the move (anticipation, overshoot)
    # Repetition: whether "3 times" counts cycles, and the rate a prompt's move swings at.
    repeatable: bool = False
    prompt_hz: float | None = None
    # Directions.
    directions: frozenset[Direction] = frozenset()  # those it takes; none: it has no direction
    default_direction: Direction | None = None
    turns: bool = False  # "left" and "right" mean counter-clockwise and clockwise
    clockwise_sign: float = 1.0  # the sign of a clockwise amount (what is seen turns clockwise)
    aims: bool = True  # it centres on a target (a face, the subject)
    # Rendering: the rate a plan's move without a frequency swings at.
    render_hz: float | None = None
    # Sound.
    sound: Sound | None = None

    @property
    def neutral(self) -> float:
        """The amount that does nothing: 1 for a scale, else 0."""
        return 1.0 if self.unit == "scale" else 0.0


@dataclass(frozen=True, kw_only=True)
class CameraKind(Kind):
    """A camera move: it transforms the whole picture (each layer alike, but for parallax)."""

    step: motion.CameraStep
    aims: bool = False
    swings_back: bool = True  # "left and right" makes it go there and back
    follows: Literal["x", "y"] | None = None  # "toward her face" travels along this axis to the target's side
    parallax: bool = False  # it moves the subject against the background, so needs them apart

    @property
    def needs_subject_layer(self) -> bool:
        """Whether its move needs the subject apart from the background (for parallax)."""
        return self.parallax


@dataclass(frozen=True, kw_only=True)
class SubjectKind(Kind):
    """A subject move: it deforms or moves the subject layer only; the background stays."""

    step: motion.SubjectStep

    @property
    def needs_subject_layer(self) -> bool:
        """Always: it moves the subject apart from the background."""
        return True


KINDS: tuple[CameraKind | SubjectKind, ...] = (
    # amount: final scale relative to the start (1.3 = 30% closer; below 1 zooms out).
    CameraKind(
        name="zoom",
        words=(Said(r"zoom(?:s|ed|ing)?|zoomin|zoomout"),),
        called="zoom",
        phrase="{noun} {direction}{toward}{returning}",
        unit="scale",
        base=0.3,
        limits=(0.6, 2.0),
        directions=_IN_OUT,
        default_direction="in",
        aims=True,
        step=motion.zoom,
        sound=Whoosh(strong=1.5),
    ),
    # amount: travel in frame widths; + moves the view right (the picture slides left).
    CameraKind(
        name="pan",
        words=(Said(r"pan(?:s|ned|ning)?"), Said(r"truck(?:s|ed|ing)?", noun="truck")),
        called="pan",
        phrase="{noun} to the {direction}{back}",
        base=0.1,
        limits=(-0.25, 0.25),
        directions=frozenset({"left", "right"}),
        default_direction="right",
        follows="x",
        step=motion.pan,
        sound=Whoosh(strong=0.25, travels=True),
    ),
    # amount: travel in frame heights; + moves the view down.
    CameraKind(
        name="tilt",
        words=(Said(r"tilt(?:s|ed|ing)?"), Said(r"cran(?:e|es|ed|ing)", "up", noun="crane")),
        called="tilt",
        phrase="{noun} {direction}{back}",
        base=0.08,
        limits=(-0.25, 0.25),
        directions=frozenset({"up", "down"}),
        default_direction="up",
        follows="y",
        step=motion.tilt,
        sound=Whoosh(strong=0.25),
    ),
    # amount: like a zoom, but the subject scales more than the background (parallax).
    CameraKind(
        name="dolly",
        words=(Said(r"doll(?:y|ies|ied|ying)"),),
        called="dolly",
        phrase="{noun} {direction}{toward}{returning}",
        unit="scale",
        base=0.25,
        limits=(0.7, 1.6),
        directions=_IN_OUT,
        default_direction="in",
        aims=True,
        parallax=True,
        step=motion.dolly,
        sound=Whoosh(strong=1.5, band=0.7),
    ),
    # amount: degrees of apparent rotation around the subject (the background slides against it).
    CameraKind(
        name="orbit",
        words=(Said(r"orbit(?:s|ed|ing|al)?|circl(?:e|es|ed|ing)|arc(?:s|ed|ing)?|revolv(?:e|es|ed|ing)"),),
        called="orbit",
        phrase="{noun} to the {side}{back}{around}",
        unit="degrees",
        base=15.0,
        limits=(-30.0, 30.0),
        directions=_TURNING,
        default_direction="right",
        aims=True,
        parallax=True,
        step=motion.orbit,
        sound=Whoosh(strong=20.0, travels=True),
    ),
    # amount: peak displacement as a fraction of the frame's short side.
    CameraKind(
        name="shake",
        words=(
            Said("handheld", strength=0.5, hz=1.5, noun="handheld camera shake"),
            Said("hand held", strength=0.5, hz=1.5, noun="handheld camera shake"),
            Said(r"earthquakes?|quak(?:e|es|ing)", strength=2.5, hz=10.0, noun="earthquake shake"),
            Said(
                r"shak(?:e|es|ing|en|y)|shook|jitter(?:s|y|ing)?|trembl(?:e|es|ing)|vibrat(?:e|es|ing|ion)"
                r"|rumbl(?:e|es|ing)|judder(?:s|ing)?"
            ),
        ),
        called="camera shake",
        base=0.008,
        limits=(-0.03, 0.03),
        easing="linear",
        repeatable=True,
        prompt_hz=6.0,
        swings_back=False,
        render_hz=6.0,
        step=motion.shake,
        sound=Rumble(strong=0.03),
    ),
    # amount: degrees the camera turns; + turns the picture clockwise on screen.
    CameraKind(
        name="roll",
        words=(Said(r"roll(?:s|ed|ing)?"), Said(r"dutch tilt(?:s|ed|ing)?|angles?", strength=1.5, noun="dutch tilt")),
        called="camera roll",
        phrase="{noun} {rotation}{back}",
        unit="degrees",
        base=5.0,
        limits=(-15.0, 15.0),
        directions=_TURNING,
        default_direction="cw",
        turns=True,
        step=motion.roll,
        sound=Whoosh(strong=15.0, travels=True),
    ),
    # amount: peak relative squash of the subject (0.3 = 30%).
    SubjectKind(
        name="squish",
        words=(Said(r"squish(?:es|ed|ing|y)?|squash(?:es|ed|ing|y)?|squeez(?:e|es|ed|ing)"),),
        called="squishes",
        base=0.3,
        limits=(-0.5, 0.5),
        easing="anticipate",
        repeatable=True,
        step=motion.squish,
        sound=Impact(cycle_phase=0.5),
    ),
    # amount: peak relative growth of the subject.
    SubjectKind(
        name="inflate",
        words=(
            Said(r"inflat(?:e|es|ed|ing)|swell(?:s|ed|ing)?|expand(?:s|ed|ing)?|grow(?:s|ing)?|grew"),
            Said(r"puff(?:s|ed|ing)?|blow(?:s|ing)?|blew|pump(?:s|ed|ing)? up"),
        ),
        called="inflates",
        base=0.3,
        limits=(-0.6, 0.6),
        easing="overshoot",
        step=motion.inflate,
        sound=Boing(bend=7.0),
    ),
    # amount: peak relative sag of the subject.
    SubjectKind(
        name="deflate",
        words=(Said(r"deflat(?:e|es|ed|ing)|shrink(?:s|ing)?|shrank|shrunk|shrivel(?:s|ed|led|ing|ling)?"),),
        called="deflates",
        base=0.3,
        limits=(-0.5, 0.5),
        easing="ease_in",
        step=motion.deflate,
        sound=Boing(bend=-12.0),
    ),
    # amount: peak bend of the subject's top, a fraction of its height.
    SubjectKind(
        name="wobble",
        words=(
            Said(r"jell(?:y|o)|gelatinous", noun="wobbles like jelly"),
            Said(r"wobbl(?:e|es|ed|ing|y)|wiggl(?:e|es|ed|ing|y)"),
        ),
        called="wobbles",
        base=0.08,
        limits=(-0.2, 0.2),
        easing="elastic",
        repeatable=True,
        prompt_hz=1.5,
        render_hz=2.5,
        step=motion.wobble,
        sound=Boing(vibrato_hz=6.0, vibrato_depth=1.5),
    ),
    # amount: peak stretch of the subject, a fraction of its height.
    SubjectKind(
        name="jiggle",
        words=(Said(r"jiggl(?:e|es|ed|ing|y)"),),
        called="jiggles",
        base=0.06,
        limits=(-0.2, 0.2),
        easing="elastic",
        repeatable=True,
        prompt_hz=4.0,
        render_hz=5.0,
        step=motion.jiggle,
        sound=Boing(vibrato_hz=11.0, vibrato_depth=1.5),
    ),
    # amount: turns of the subject (1.0 = 360 degrees); + turns it counter-clockwise.
    SubjectKind(
        name="spin",
        words=(
            Said(r"spin(?:s|ning)?|spun|rotat(?:e|es|ed|ing|ion)|twirl(?:s|ed|ing)?|whirl(?:s|ed|ing)?"),
            Said(r"turn(?:s|ed|ing)? a?round"),
        ),
        called="spins",
        phrase="{noun} {rotation}",
        unit="turns",
        base=1.0,
        limits=(-3.0, 3.0),
        directions=_TURNING,
        default_direction="cw",
        turns=True,
        clockwise_sign=-1.0,  # motion.spin turns the subject counter-clockwise for a positive amount
        step=motion.spin,
        sound=Boing(strong=1.0, bend=4.0, vibrato_depth=3.0, vibrato_follows_turns=True),
    ),
    # amount: peak relative swelling of the subject on each beat.
    SubjectKind(
        name="pulse",
        words=(
            Said(r"breath(?:e|es|ed|ing)?", hz=0.3, noun="breathes"),
            Said(r"heartbeats?|heartbeating", strength=1.2, hz=1.2, noun="beats like a heart"),
            Said(r"puls(?:e|es|ed|ing|ate|ates|ated|ating)|throb(?:s|bed|bing)?"),
        ),
        called="pulses",
        base=0.08,
        limits=(-0.25, 0.25),
        repeatable=True,
        prompt_hz=1.0,
        render_hz=1.2,
        step=motion.pulse,
        sound=Impact(cycle_phase=0.5, level=0.6),
    ),
    # amount: the fraction of the subject's height that drips down by the end.
    SubjectKind(
        name="melt",
        words=(Said(r"melt(?:s|ed|ing)?|drip(?:s|ped|ping)?|liquef(?:y|ies|ied)|liquif(?:y|ies|ied)"),),
        called="melts",
        base=0.4,
        limits=(-0.8, 0.8),
        easing="ease_in",
        step=motion.melt,
        sound=Impact(soft=True),
    ),
    # amount: peak hop as a fraction of the picture's height.
    SubjectKind(
        name="bounce",
        words=(Said(r"bounc(?:e|es|ed|ing|y)|hop(?:s|ped|ping)?|jump(?:s|ed|ing)?"),),
        called="bounces",
        base=0.05,
        limits=(-0.15, 0.15),
        easing="bounce",
        repeatable=True,
        prompt_hz=1.0,
        render_hz=1.2,
        step=motion.bounce,
        sound=Impact(strong=0.15, cycle_phase=1.0),
    ),
    # amount: lift as a fraction of the picture's height.
    SubjectKind(
        name="float",
        words=(
            Said(r"hover(?:s|ed|ing)?", noun="hovers"),
            Said(r"float(?:s|ed|ing|y)?|levitat(?:e|es|ed|ing)|bob(?:s|bed|bing)?"),
        ),
        called="floats",
        base=0.02,
        limits=(-0.08, 0.08),
        repeatable=True,
        prompt_hz=0.25,
        render_hz=0.4,
        step=motion.float_,
        sound=None,  # slow and quiet: the ambience bed carries it
    ),
    # amount: peak lean of the subject's top, a fraction of its height.
    SubjectKind(
        name="sway",
        words=(Said(r"sway(?:s|ed|ing)?|rock(?:s|ed|ing)?"),),
        called="sways",
        base=0.05,
        limits=(-0.15, 0.15),
        repeatable=True,
        prompt_hz=0.5,
        render_hz=0.5,
        step=motion.sway,
        sound=None,  # slow and quiet: the ambience bed carries it
    ),
)

_BY_NAME: dict[str, CameraKind | SubjectKind] = {kind.name: kind for kind in KINDS}

# Camera moves transform the whole picture (with 2.5D parallax when a subject layer exists);
# subject moves deform or move the subject layer only, the background filled where it was.
CAMERA_MOVES: tuple[MoveKind, ...] = tuple(kind.name for kind in KINDS if isinstance(kind, CameraKind))
SUBJECT_MOVES: tuple[MoveKind, ...] = tuple(kind.name for kind in KINDS if isinstance(kind, SubjectKind))


def kind_of(name: str) -> CameraKind | SubjectKind:
    """The kind called ``name``; KeyError for a name that is not a move kind."""
    return _BY_NAME[name]


def is_kind(name: str) -> bool:
    """Whether ``name`` is a move kind (the prompt reader also has words for moves to be resolved)."""
    return name in _BY_NAME
