"""The command line, run as a real process: accounts and tasks for scripts."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.processes import create_account, reelsmith


def test_accounts_lifecycle(tmp_path: Path) -> None:
    data = tmp_path / "data"
    team = create_account(data, plan="pro", credits=1000)
    assert (
        len(team["clientId"]) == 16 and len(team["apiKey"]) == 32 and team["plan"] == "pro" and team["credit"] == 1000
    )

    [listed] = json.loads(reelsmith(data, "accounts", "list", "--json").stdout)
    assert listed["clientId"] == team["clientId"] and "apiKey" not in listed

    topped = json.loads(reelsmith(data, "accounts", "topup", team["clientId"], "50", "--json").stdout)
    assert topped["credit"] == 1050
    too_much = reelsmith(data, "accounts", "topup", team["clientId"], "--", "-2000")
    assert too_much.returncode == 1 and "cannot remove" in too_much.stdout

    banned = json.loads(reelsmith(data, "accounts", "ban", team["team_id"], "--json").stdout)
    assert banned["banned"] is True
    assert json.loads(reelsmith(data, "accounts", "unban", str(team["uid"]), "--json").stdout)["banned"] is False

    rotated = json.loads(reelsmith(data, "accounts", "rotate-key", team["clientId"], "--json").stdout)
    assert rotated["clientId"] == team["clientId"] and rotated["apiKey"] != team["apiKey"]

    missing = reelsmith(data, "accounts", "ban", "nobody")
    assert missing.returncode == 1 and "no account" in missing.stdout
    bad_plan = reelsmith(data, "accounts", "create", "--plan", "gold")
    assert bad_plan.returncode == 1 and "plan must be one of free, pro" in bad_plan.stdout


def test_tasks_commands_on_an_empty_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert json.loads(reelsmith(data, "tasks", "list", "--json").stdout) == []
    assert reelsmith(data, "tasks", "show", "0" * 24).returncode == 1
    # What a user typed is printed as text, never read as rich's markup (a "[/x]" once crashed it).
    odd = reelsmith(data, "tasks", "show", "[/oops]")
    assert odd.returncode == 1 and "no task [/oops]" in odd.stdout, odd.stdout + odd.stderr


def test_help_lists_the_commands(tmp_path: Path) -> None:
    out = reelsmith(tmp_path, "--help").stdout
    for command in ("serve", "api", "worker", "accounts", "tasks", "sweep"):
        assert command in out


def test_effects_list_and_contact_sheet(tmp_path: Path) -> None:
    from PIL import Image

    effects = json.loads(reelsmith(tmp_path, "effects", "list", "--json").stdout)
    assert len(effects) >= 16 and {"squish", "zoom_in", "orbit"} <= {e["effect_code"] for e in effects}
    done = reelsmith(tmp_path, "effects", "contact-sheet", str(tmp_path / "sheet.png"))
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "sheet.png") as sheet:
        assert sheet.height == 192 * len(effects) and sheet.width > 192 * 6


def test_swap_compare_makes_a_side_by_side_clip_in_one_command(tmp_path: Path, media_dir: Path) -> None:
    # (animate's comparison is the same command with --mode animate)
    from reelsmith.media.probe import probe

    out = tmp_path / "compare.mp4"
    done = reelsmith(
        tmp_path, "swap", "compare", str(media_dir / "portrait.png"), str(media_dir / "talking.mp4"), str(out),
        "--seconds", "1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    info = probe(out)
    # source (642 shown wide at 480) | character (320x320 at 480) | output (642x480)
    assert (info.width, info.height) == (642 + 480 + 642, 480)
    assert info.frame_count == 30 and info.has_audio
    bad = reelsmith(tmp_path, "swap", "compare", str(media_dir / "portrait.png"), str(media_dir / "talking.mp4"),
                    str(out), "--resolution", "4k")  # fmt: skip
    assert bad.returncode == 2 and "--resolution must be 480p, 720p or 1080p" in bad.stdout


def test_translate_compare_makes_a_side_by_side_clip_in_one_command(tmp_path: Path) -> None:
    from reelsmith.media.probe import probe
    from tests.support.speech import spoken_clip

    video = tmp_path / "spoken.mp4"
    spoken_clip(video, ("The weather is nice today.",), tone=False)
    out = tmp_path / "compare.mp4"
    done = reelsmith(tmp_path, "translate", "compare", str(video), str(out), "--language", "es")
    assert done.returncode == 0, done.stderr
    info, source = probe(out), probe(video)
    # original | dubbed | dubbed with lip-sync, each shown 192x144 (carphone's pixels are 12:11)
    assert (info.width, info.height) == (3 * 192, 144)
    assert abs(info.frame_count - source.frame_count) <= 1 and info.has_audio
