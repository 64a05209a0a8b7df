"""The prompt reader of Image to Video: words in, a motion plan out (pure Python, no media)."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reelsmith.pipelines.image2video.kinds import CAMERA_MOVES, SUBJECT_MOVES
from reelsmith.pipelines.image2video.plan import Face, MotionPlan, Move, Scene
from reelsmith.pipelines.image2video.prompt import MAX_PROMPT_CHARS, MAX_STEPS, plan_from_prompt

FACE_AT = (0.6, 0.35)
SUBJECT_AT = (0.45, 0.6)
# A portrait: a face and a separated subject (the person).
PORTRAIT = Scene(1280, 720, faces=(Face(FACE_AT, 0.12, 0.2),), has_subject=True, subject_center=SUBJECT_AT)
FACE_ONLY = Scene(1280, 720, faces=(Face(FACE_AT, 0.12, 0.2),))
SUBJECT_ONLY = Scene(1280, 720, has_subject=True, subject_center=SUBJECT_AT)
BARE = Scene(1280, 720)

# Safe ranges the renderer relies on (see prompt.py).
SAFE = {
    "zoom": (0.6, 2.0),
    "dolly": (0.7, 1.6),
    "pan": (-0.25, 0.25),
    "tilt": (-0.25, 0.25),
    "orbit": (-30.0, 30.0),
    "roll": (-15.0, 15.0),
    "shake": (0.0, 0.03),
    "squish": (0.0, 0.5),
    "inflate": (0.0, 0.6),
    "deflate": (0.0, 0.5),
    "pulse": (0.0, 0.25),
    "wobble": (0.0, 0.2),
    "jiggle": (0.0, 0.2),
    "sway": (0.0, 0.15),
    "spin": (-3.0, 3.0),
    "melt": (0.0, 0.8),
    "bounce": (0.0, 0.15),
    "float": (0.0, 0.08),
}


def plan(
    prompt: str,
    negative: str = "",
    extend: bool = False,
    scene: Scene = PORTRAIT,
    seed: int = 0,
    seconds: int = 5,
) -> MotionPlan:
    return plan_from_prompt(prompt, negative, extend, scene, seed, seconds)


def kinds(result: MotionPlan) -> list[str]:
    return [move.kind for move in result.moves]


def only(result: MotionPlan, kind: str) -> Move:
    matching = [move for move in result.moves if move.kind == kind]
    assert len(matching) == 1, result
    return matching[0]


def notes_text(result: MotionPlan) -> str:
    return " ".join(result.notes).lower()


def assert_safe(result: MotionPlan, seconds: int = 5) -> None:
    for move in result.moves:
        low, high = SAFE[move.kind]
        assert low <= move.amount <= high, move
        assert 0.0 <= move.start < move.end <= 1.0, move
        assert 0.0 <= move.frequency <= 12 * seconds, move


# --- vocabulary ------------------------------------------------------------------------------------

# (prompt, kind, sign of the amount: +1 / -1 against neutral, 1.0 for zoom-like kinds, 0 otherwise)
VOCABULARY = [
    ("zoom in", "zoom", +1),
    ("zoom out", "zoom", -1),
    ("zooming into the scene", "zoom", +1),
    ("push in", "dolly", +1),
    ("pull back", "dolly", -1),
    ("pull out", "dolly", -1),
    ("dolly in", "dolly", +1),
    ("dolly out", "dolly", -1),
    ("pan left", "pan", -1),
    ("pan right", "pan", +1),
    ("camera pans to the left", "pan", -1),
    ("truck left", "pan", -1),
    ("truck right", "pan", +1),
    ("tilt up", "tilt", -1),
    ("tilt down", "tilt", +1),
    ("crane up", "tilt", -1),
    ("crane down", "tilt", +1),
    ("orbit left", "orbit", -1),
    ("orbit right", "orbit", +1),
    ("circle around her to the left", "orbit", -1),
    ("arc around the subject to the right", "orbit", +1),
    ("the camera rotates around her", "orbit", +1),
    ("roll clockwise", "roll", +1),
    ("roll counter-clockwise", "roll", -1),
    ("dutch tilt", "roll", +1),
    ("camera shake", "shake", +1),
    ("handheld", "shake", +1),
    ("hand-held look", "shake", +1),
    ("earthquake", "shake", +1),
    ("bounce", "bounce", +1),
    ("the cat is bouncing", "bounce", +1),
    ("float", "float", +1),
    ("she hovers", "float", +1),
    ("sway", "sway", +1),
    ("wobble", "wobble", +1),
    ("jelly", "wobble", +1),
    ("jiggle", "jiggle", +1),
    # A positive spin turns the subject counter-clockwise (render.py); clockwise is the default.
    ("spin", "spin", -1),
    ("rotate counterclockwise", "spin", +1),
    ("he turns around", "spin", -1),
    ("pulse", "pulse", +1),
    ("breathe", "pulse", +1),
    ("heartbeat", "pulse", +1),
    ("squish", "squish", +1),
    ("squash", "squish", +1),
    ("inflate", "inflate", +1),
    ("puff up", "inflate", +1),
    ("deflate", "deflate", +1),
    ("melt", "melt", +1),
]


@pytest.mark.parametrize(("prompt", "kind", "sign"), VOCABULARY)
def test_each_word_becomes_its_move(prompt: str, kind: str, sign: int) -> None:
    result = plan(prompt)
    move = only(result, kind)
    neutral = 1.0 if kind in ("zoom", "dolly") else 0.0
    assert (move.amount - neutral) * sign > 0, move
    assert result.source == "prompt"
    assert_safe(result)


@pytest.mark.parametrize("prompt", ["push in", "pull back", "close up"])
def test_push_and_pull_are_zooms_without_a_subject_layer(prompt: str) -> None:
    # A dolly's parallax needs a separated subject; without one the same move is a zoom.
    assert kinds(plan(prompt, scene=FACE_ONLY)) == ["zoom"]
    assert kinds(plan(prompt, scene=PORTRAIT)) == ["dolly"]


def test_ken_burns_is_a_slow_zoom_with_a_gentle_pan_together() -> None:
    result = plan("ken burns")
    zoom, pan = only(result, "zoom"), only(result, "pan")
    assert 1.0 < zoom.amount < plan("zoom in").moves[0].amount
    assert 0 < abs(pan.amount) < plan("pan right").moves[0].amount
    assert (zoom.start, zoom.end) == (pan.start, pan.end) == (0.0, 1.0)


@pytest.mark.parametrize("prompt", ["static camera, the cat bounces", "locked-off shot, she bounces", "tripod, bounce"])
def test_a_static_camera_keeps_only_subject_moves(prompt: str) -> None:
    assert kinds(plan(prompt, extend=True)) == ["bounce"]


def test_a_static_camera_with_nothing_else_holds_the_picture() -> None:
    result = plan("static camera")
    assert result.moves == ()
    assert result.source == "prompt"
    assert "still" in result.description.lower()


def test_static_rules_out_the_camera_moves_it_contradicts() -> None:
    result = plan("static camera, zoom in while she bounces")
    assert kinds(result) == ["bounce"]
    assert "zoom" in notes_text(result)


def test_one_motion_said_two_ways_is_one_move() -> None:
    assert kinds(plan("jelly wobble")) == ["wobble"]
    assert kinds(plan("heartbeat pulse")) == ["pulse"]


# --- paces ---------------------------------------------------------------------------------------


def test_pace_words_scale_the_amount() -> None:
    def zoom(prompt: str) -> float:
        return only(plan(prompt), "zoom").amount

    assert 1.0 < zoom("very slow zoom in") < zoom("slow zoom in") < zoom("zoom in")
    assert zoom("zoom in") < zoom("fast zoom in") < zoom("very fast zoom in")
    assert zoom("subtle zoom in") < zoom("zoom in")
    assert zoom("gently zoom in") < zoom("zoom in")


@pytest.mark.parametrize(
    ("prompt", "easing"),
    [
        ("slow pan left", "ease_in_out"),
        ("gentle pan left", "ease_in_out"),
        ("pan left", "ease_in_out"),
        ("fast pan left", "ease_in"),
        ("quick pan left", "ease_in"),
        ("rapid pan left", "ease_in"),
        ("dramatic pan left", "overshoot"),
        ("sudden pan left", "overshoot"),
        ("whip pan left", "overshoot"),
    ],
)
def test_pace_words_choose_the_easing(prompt: str, easing: str) -> None:
    assert only(plan(prompt), "pan").easing == easing


def test_physical_moves_keep_their_physical_easing() -> None:
    assert only(plan("fast squish"), "squish").easing == "anticipate"
    assert only(plan("slow bounce"), "bounce").easing == "bounce"
    assert only(plan("wobble"), "wobble").easing == "elastic"


def test_pace_changes_oscillation_rate() -> None:
    slow, fast = only(plan("slow wobble"), "wobble"), only(plan("fast wobble"), "wobble")
    assert slow.frequency < fast.frequency


# --- quantities ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "kind", "amount"),
    [
        ("zoom in 50%", "zoom", 1.5),
        ("zoom in by 20 percent", "zoom", 1.2),
        ("zoom in 2x", "zoom", 2.0),
        ("zoom 1.5x", "zoom", 1.5),
        ("zoom out 25%", "zoom", 0.8),
        ("pan left 20%", "pan", -0.2),
        ("tilt down 10%", "tilt", 0.1),
        ("roll 10 degrees", "roll", 10.0),
        ("orbit left 20°", "orbit", -20.0),
        ("spin 720 degrees", "spin", -2.0),
        ("the cat spins twice counterclockwise", "spin", 2.0),
    ],
)
def test_quantities_set_the_amount(prompt: str, kind: str, amount: float) -> None:
    assert only(plan(prompt), kind).amount == pytest.approx(amount, abs=1e-3)


def test_counts_set_the_number_of_cycles() -> None:
    assert only(plan("bounce 3 times"), "bounce").frequency == pytest.approx(3.0)
    # Three bounces in the first half of the clip are six cycles per clip.
    first = plan("bounce 3 times, then zoom in")
    assert only(first, "bounce").frequency == pytest.approx(6.0)


# --- clamping ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "kind", "amount"),
    [
        ("zoom in 1000%", "zoom", 2.0),
        ("zoom in 10x", "zoom", 2.0),
        ("zoom out 10x", "zoom", 0.6),
        ("pan left 90%", "pan", -0.25),
        ("tilt up 80%", "tilt", -0.25),
        ("roll 90 degrees", "roll", 15.0),
        ("orbit 180 degrees", "orbit", 30.0),
        ("spin 10 times", "spin", -3.0),
        ("inflate 300%", "inflate", 0.6),
    ],
)
def test_amounts_are_clamped_to_safe_ranges_with_a_note(prompt: str, kind: str, amount: float) -> None:
    result = plan(prompt)
    assert only(result, kind).amount == pytest.approx(amount)
    assert "limited" in notes_text(result)


def test_extreme_paces_stay_in_range() -> None:
    result = plan("extremely extremely fast dramatic zoom in, very very fast pan left, violent earthquake")
    assert_safe(result)


def test_overshooting_camera_moves_keep_a_margin() -> None:
    # An overshoot passes its end by about 9%; the zoom must still stay inside 2.0 on the way.
    zoom = only(plan("dramatic zoom in 10x"), "zoom")
    assert zoom.easing == "overshoot"
    assert 1.0 + (zoom.amount - 1.0) * 1.1 <= 2.0


# --- time ----------------------------------------------------------------------------------------


def test_the_example_zoom_into_her_face_then_drift_left() -> None:
    result = plan("slow zoom into her face, camera drifts left")
    zoom, pan = only(result, "zoom"), only(result, "pan")
    assert zoom.target == FACE_AT
    assert 1.0 < zoom.amount < 1.3  # slow: modest
    assert pan.amount < 0
    assert zoom.end <= pan.start  # a comma puts them one after the other
    assert "zoom in toward the face" in result.description
    assert "left" in result.description


def test_pull_back_then_pan_right_fast() -> None:
    result = plan("pull back then pan right fast", scene=BARE)
    pull, pan = result.moves
    assert (pull.kind, pull.start, pull.end) == ("zoom", 0.0, 0.5)
    assert pull.amount < 1.0
    assert (pan.kind, pan.start, pan.end) == ("pan", 0.5, 1.0)
    assert pan.amount > only(plan("pan right"), "pan").amount > 0
    assert pan.easing == "ease_in"
    assert "then" in result.description


def test_the_subject_bounces_while_the_camera_orbits() -> None:
    result = plan("the subject bounces while the camera orbits")
    bounce, orbit = only(result, "bounce"), only(result, "orbit")
    assert (bounce.start, bounce.end) == (orbit.start, orbit.end) == (0.0, 1.0)
    assert bounce.target == SUBJECT_AT
    assert bounce.frequency > 0
    assert "bounces" in result.description and "orbit" in result.description


@pytest.mark.parametrize(
    "prompt",
    [
        "zoom in and pan left",
        "zoom in while panning left",
        "zoom in as the camera pans left",
        "zoom in with a pan to the left",
        "while the camera pans left, zoom in",
    ],
)
def test_joined_moves_happen_together(prompt: str) -> None:
    result = plan(prompt)
    zoom, pan = only(result, "zoom"), only(result, "pan")
    assert (zoom.start, zoom.end) == (pan.start, pan.end) == (0.0, 1.0)
    assert pan.amount < 0 < zoom.amount - 1


@pytest.mark.parametrize(
    "prompt",
    [
        "zoom in, then pan left, finally tilt up",
        "zoom in. pan left. tilt up.",
        "zoom in and then pan left; after that tilt up",
        "ZOOM IN!!! PAN LEFT??? TILT UP...",
    ],
)
def test_ordering_words_share_the_clip(prompt: str) -> None:
    result = plan(prompt)
    assert [(m.kind, m.start, m.end) for m in result.moves] == [
        ("zoom", 0.0, 0.3333),
        ("pan", 0.3333, 0.6667),
        ("tilt", 0.6667, 1.0),
    ]


def test_a_bare_new_direction_repeats_the_move() -> None:
    result = plan("tilt up, then down")
    assert [(m.kind, m.amount > 0) for m in result.moves] == [("tilt", False), ("tilt", True)]


def test_a_hold_takes_its_share_of_the_clip() -> None:
    result = plan("zoom in, hold, then pan left")
    zoom, pan = result.moves
    assert (zoom.start, zoom.end, pan.start, pan.end) == (0.0, 0.3333, 0.6667, 1.0)
    assert "pause" in result.description


@pytest.mark.parametrize(("prompt", "kind"), [("pan left and right", "pan"), ("zoom in and out", "zoom")])
def test_back_and_forth_goes_there_and_back(prompt: str, kind: str) -> None:
    there, back = plan(prompt).moves
    assert there.kind == back.kind == kind
    assert there.end == back.start == 0.5
    if kind == "zoom":
        assert there.amount * back.amount == pytest.approx(1.0, abs=1e-3)
    else:
        assert there.amount == pytest.approx(-back.amount)


def test_modifiers_in_their_own_clause_join_their_move() -> None:
    assert kinds(plan("slow, gentle zoom in")) == ["zoom"]
    assert only(plan("pan right, fast"), "pan").easing == "ease_in"
    assert only(plan("zoom in, toward her face"), "zoom").target == FACE_AT


def test_too_many_steps_are_cut_with_a_note() -> None:
    result = plan(", ".join(["zoom in", "pan left"] * 10))
    assert len(result.moves) == MAX_STEPS
    assert "steps" in notes_text(result)


# --- targets -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt",
    ["zoom into her face", "zoom in on his face", "zoom to the face", "zoom on their faces", "zoom on the eyes"],
)
def test_face_words_target_the_main_face(prompt: str) -> None:
    assert only(plan(prompt), "zoom").target == FACE_AT


def test_the_largest_face_is_the_main_face() -> None:
    faces = (Face((0.2, 0.3), 0.05, 0.08), Face((0.7, 0.4), 0.2, 0.3))
    scene = Scene(1280, 720, faces=faces)
    assert only(plan("zoom into her face", scene=scene), "zoom").target == (0.7, 0.4)


@pytest.mark.parametrize(
    "prompt", ["zoom toward the subject", "zoom toward the person", "zoom toward him", "zoom to her", "zoom on the cat"]
)
def test_subject_words_target_the_subject(prompt: str) -> None:
    result = plan(prompt)
    assert only(result, "zoom").target == SUBJECT_AT
    assert not result.notes


def test_subject_words_without_a_subject_fall_back_to_the_face_then_the_centre() -> None:
    with_face = plan("orbit around the subject", scene=FACE_ONLY)
    assert only(with_face, "orbit").target == FACE_AT
    assert "no separate subject" in notes_text(with_face)
    assert only(plan("orbit around the subject", scene=BARE), "orbit").target is None


def test_face_words_without_a_face_fall_back_with_a_note() -> None:
    to_subject = plan("slow zoom into her face", scene=SUBJECT_ONLY)
    assert only(to_subject, "zoom").target == SUBJECT_AT
    assert "face" in notes_text(to_subject) and "subject" in notes_text(to_subject)
    to_centre = plan("slow zoom into her face", scene=BARE)
    assert only(to_centre, "zoom").target is None
    assert "centre" in notes_text(to_centre)


def test_untargeted_moves_aim_at_what_the_picture_is_about() -> None:
    # A push in reads best toward a face; moves of the subject layer centre on the subject.
    assert only(plan("zoom in"), "zoom").target == FACE_AT
    assert only(plan("zoom in", scene=SUBJECT_ONLY), "zoom").target == SUBJECT_AT
    assert only(plan("zoom in", scene=BARE), "zoom").target is None
    assert only(plan("orbit"), "orbit").target == SUBJECT_AT
    assert only(plan("spin"), "spin").target == SUBJECT_AT
    assert only(plan("zoom into the centre"), "zoom").target is None


def test_camera_only_moves_have_no_target() -> None:
    result = plan("pan left toward her face while the camera shakes")
    assert only(result, "pan").target is None
    assert only(result, "shake").target is None


# --- negative prompt -------------------------------------------------------------------------------


@pytest.mark.parametrize("negative", ["no zoom", "zoom", "zooming", "Zoom!", "no zoom in or out"])
def test_negative_prompt_removes_the_kinds_it_names(negative: str) -> None:
    result = plan("zoom in and pan left", negative)
    assert kinds(result) == ["pan"]
    assert "zoom" in notes_text(result)


def test_no_zoom_also_rules_out_push_ins() -> None:
    assert kinds(plan("push in while she floats", "no zoom")) == ["float"]
    assert kinds(plan("zoom in while she floats", "dolly")) == ["float"]


@pytest.mark.parametrize("negative", ["no camera movement", "camera motion", "moving camera", "no movement"])
def test_generic_camera_movement_removes_every_camera_kind(negative: str) -> None:
    result = plan("zoom in, pan left, orbit, shake while she bounces", negative)
    assert kinds(result) == ["bounce"]


@pytest.mark.parametrize("negative", ["shaky", "no shake", "camera shake", "jittery, blurry, low quality"])
def test_shake_words_remove_shake(negative: str) -> None:
    assert kinds(plan("handheld zoom in", negative)) == ["zoom"]


def test_quality_words_in_the_negative_prompt_remove_nothing() -> None:
    negative = "blurry, distorted, deformed, low quality, watermark, motion blur"
    result = plan("zoom in while she bounces", negative)
    assert sorted(kinds(result)) == ["bounce", "zoom"]


def test_negations_inside_the_prompt_rule_kinds_out() -> None:
    assert kinds(plan("zoom in, no shake, then earthquake")) == ["zoom"]
    assert kinds(plan("don't zoom, pan left")) == ["pan"]
    assert kinds(plan("pan left without zoom", extend=True)) == ["pan", "tilt"]
    assert kinds(plan("no shake slow zoom in")) == ["zoom"]


def test_a_static_camera_in_the_negative_prompt_asks_for_camera_motion() -> None:
    result = plan("she bounces", "static camera")
    assert "bounce" in kinds(result)
    assert any(kind in CAMERA_MOVES for kind in kinds(result))
    assert "static" in notes_text(result)


def test_everything_ruled_out_leaves_a_still_picture_with_a_note() -> None:
    result = plan("", "camera movement", extend=False, scene=BARE)
    assert result.moves == ()
    assert "ruled out" in notes_text(result)


# --- extend_prompt and defaults ----------------------------------------------------------------------


def test_extend_fills_an_empty_prompt_with_a_push_in_and_a_light_float() -> None:
    result = plan("", extend=True)
    push, float_ = only(result, "dolly"), only(result, "float")
    assert 1.0 < push.amount < 1.25
    assert push.target == FACE_AT
    assert 0 < float_.amount <= 0.01
    assert result.source == "default"
    assert "extend_prompt" in notes_text(result)


def test_extend_without_a_subject_skips_the_float() -> None:
    result = plan("", extend=True, scene=BARE)
    assert kinds(result) == ["zoom"]


@pytest.mark.parametrize(
    ("prompt", "added"),
    [("pan left", "zoom"), ("tilt up", "zoom"), ("orbit left", "zoom"), ("zoom in", "pan"), ("push in", "pan")],
)
def test_extend_complements_a_single_camera_move(prompt: str, added: str) -> None:
    alone = plan(prompt)
    result = plan(prompt, extend=True)
    assert len(result.moves) == len(alone.moves) + 1
    extra = only(result, added) if added not in kinds(alone) else result.moves[-1]
    assert extra.kind == added
    neutral = 1.0 if added == "zoom" else 0.0
    assert 0 < abs(extra.amount - neutral) <= 0.1  # subtle
    assert (extra.start, extra.end) == (alone.moves[0].start, alone.moves[0].end)


def test_extend_leans_the_complementary_pan_toward_the_target() -> None:
    result = plan("zoom into her face", extend=True)
    assert only(result, "pan").amount > 0  # the face is right of centre


def test_extend_leaves_a_prompt_with_several_camera_moves_alone() -> None:
    prompt = "zoom in, then pan left"
    assert plan(prompt, extend=True) == plan(prompt)


def test_extend_adds_a_subtle_camera_move_to_subject_motion() -> None:
    result = plan("she bounces, then melts", extend=True)
    push = only(result, "dolly")
    assert (push.start, push.end) == (0.0, 1.0)
    assert 1.0 < push.amount < 1.1
    assert "throughout" in result.description


def test_extend_never_contradicts_the_negative_prompt() -> None:
    assert kinds(plan("", "zoom, float", extend=True)) == ["pan"]
    assert kinds(plan("pan left", "zoom, tilt", extend=True)) == ["pan"]
    assert kinds(plan("", "camera movement", extend=True)) == ["float"]
    assert kinds(plan("she bounces", "camera motion", extend=True)) == ["bounce"]


def test_nothing_recognised_gives_a_gentle_default_zoom() -> None:
    result = plan("")
    zoom = only(result, "zoom")
    assert 1.0 < zoom.amount < 1.25
    assert zoom.easing == "ease_in_out"
    assert result.source == "default"
    assert "default" in notes_text(result)


def test_the_default_respects_the_negative_prompt() -> None:
    assert kinds(plan("", "zoom")) == ["pan"]


def test_generic_camera_movement_in_the_prompt_asks_for_a_gentle_push() -> None:
    result = plan("Animate this image with smooth camera movement")
    push = only(result, "dolly")
    assert 1.0 < push.amount < 1.25
    assert result.source == "prompt"
    assert kinds(plan("the camera moves left")) == ["pan"]


# --- descriptions, notes and robustness ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "words"),
    [
        ("zoom in", ["zoom in"]),
        ("slow zoom into her face, then pan right", ["slow zoom in toward the face", "then", "pan to the right"]),
        ("the cat bounces while the camera orbits left", ["the cat bounces", "orbit to the left"]),
        ("she squishes and bounces", ["squishes and bounces"]),
        ("spin clockwise fast", ["quickly spins clockwise"]),
        ("dutch tilt", ["dutch tilt"]),
        ("earthquake", ["earthquake"]),
    ],
)
def test_the_description_says_what_will_happen(prompt: str, words: list[str]) -> None:
    description = plan(prompt).description
    assert description[0].isupper() and description.endswith(".")
    for word in words:
        assert word in description.lower()


def test_the_description_is_one_sentence() -> None:
    description = plan("zoom in, pan left, tilt up while she floats, then melt").description
    assert description.count(".") == 1 and description.endswith(".")


def test_unknown_words_are_noted() -> None:
    result = plan("slowly zoom in while the robot dances gracefully")
    assert kinds(result) == ["zoom"]
    assert '"dances"' in notes_text(result) and '"gracefully"' in notes_text(result)
    assert '"zoom"' not in notes_text(result)


@pytest.mark.parametrize("prompt", ["une femme qui sourit", "慢慢放大", "Кошка прыгает", "🙂🙂🙂"])
def test_other_languages_fall_back_to_the_default_with_notes(prompt: str) -> None:
    result = plan(prompt)
    assert kinds(result) == ["zoom"]
    assert result.source == "default"
    assert result.notes


@pytest.mark.parametrize("prompt", ["", "   ", ",,,;;;...", "!!!", "\n\n", "-", "0", "50%", "2x", "the", "no", "then"])
def test_empty_and_punctuation_prompts_give_the_default(prompt: str) -> None:
    result = plan(prompt)
    assert kinds(result) == ["zoom"]
    assert result.source == "default"


def test_long_garbage_does_not_crash() -> None:
    rng = random.Random(4)
    for _ in range(50):
        garbage = "".join(chr(rng.randint(1, 0x2FFF)) for _ in range(MAX_PROMPT_CHARS))
        result = plan(garbage, garbage[:200], extend=rng.random() < 0.5)
        assert_safe(result)
        json.dumps(result.to_json())


def test_prompts_past_the_limit_are_cut_with_a_note() -> None:
    result = plan("zoom in " + "x" * 1000)
    assert kinds(result) == ["zoom"]
    assert str(MAX_PROMPT_CHARS) in notes_text(result)


def test_the_plan_is_json_friendly() -> None:
    result = plan("slow zoom into her face while she bounces 3 times, then pan left 20%", "shake", extend=True)
    data = json.loads(json.dumps(result.to_json()))
    assert data["source"] == "prompt" and data["description"] == result.description
    assert [move["kind"] for move in data["moves"]] == kinds(result)


# --- determinism and seeds -------------------------------------------------------------------------


def test_the_same_inputs_give_the_same_plan() -> None:
    prompt = "slow zoom into her face while she wobbles, then handheld pan left fast"
    first = plan(prompt, "no tilt", True, PORTRAIT, 7, 10)
    again = plan(prompt, "no tilt", True, PORTRAIT, 7, 10)
    assert first == again
    assert first.to_json() == again.to_json()


def test_the_seed_only_nudges_oscillation_rates() -> None:
    prompt = "shake while she wobbles, then zoom in"
    one, other = plan(prompt, seed=1), plan(prompt, seed=2)
    assert one.seed == 1 and other.seed == 2
    assert [(m.kind, m.amount, m.start, m.end, m.target) for m in one.moves] == [
        (m.kind, m.amount, m.start, m.end, m.target) for m in other.moves
    ]
    shakes = [only(p, "shake").frequency for p in (one, other)]
    assert shakes[0] != shakes[1]
    assert shakes[0] == pytest.approx(shakes[1], rel=0.2)


def test_oscillation_rates_are_per_clip() -> None:
    five, ten = only(plan("wobble", seconds=5), "wobble"), only(plan("wobble", seconds=10), "wobble")
    assert ten.frequency == pytest.approx(2 * five.frequency, rel=0.01)


WORDS = [word for prompt, _, _ in VOCABULARY for word in prompt.split()] + (
    "then while and , . ; no not very slow fast dramatic gentle 50% 2x 30 degrees twice her face the cat subject "
    "left right up down in out clockwise hold static camera movement back and forth ken burns 慢 é ! ? 0% 0x".split()
)
SCENES = [PORTRAIT, FACE_ONLY, SUBJECT_ONLY, BARE]


@settings(max_examples=300, deadline=None)
@given(
    prompt=st.lists(st.sampled_from(WORDS), max_size=80).map(" ".join),
    negative=st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join),
    extend=st.booleans(),
    scene=st.sampled_from(SCENES),
    seed=st.integers(0, 2**31),
    seconds=st.sampled_from([5, 10]),
)
def test_any_mix_of_words_gives_a_safe_deterministic_plan(
    prompt: str, negative: str, extend: bool, scene: Scene, seed: int, seconds: int
) -> None:
    result = plan_from_prompt(prompt[:MAX_PROMPT_CHARS], negative, extend, scene, seed, seconds)
    assert_safe(result, seconds)
    assert result.description[0].isupper() and result.description.endswith(".")
    assert result.source in ("prompt", "default")
    assert all(move.kind in CAMERA_MOVES or move.kind in SUBJECT_MOVES for move in result.moves)
    assert result == plan_from_prompt(prompt[:MAX_PROMPT_CHARS], negative, extend, scene, seed, seconds)


def test_variations_stay_the_same_motion_but_differ() -> None:
    from reelsmith.pipelines.image2video.plan import vary

    scene = Scene(width=1280, height=720)
    plan = plan_from_prompt("slow zoom in then pan left", "", False, scene, 0, 5)
    one, two = vary(plan, 1), vary(plan, 2)
    assert [m.kind for m in one.moves] == [m.kind for m in plan.moves] == [m.kind for m in two.moves]
    assert one.moves != two.moves and vary(plan, 1) == one
    for original, varied in zip(plan.moves, one.moves, strict=True):
        assert 0 <= varied.start < varied.end <= 1
        assert (
            (varied.amount - 1) * (original.amount - 1) > 0
            if original.kind == "zoom"
            else varied.amount * original.amount > 0
        )
