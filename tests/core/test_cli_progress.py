"""Long local work on the command line (``swap run``, ``translate run``, ``effects
contact-sheet``) shows a progress bar naming the stage at work, on standard error; piped, it
stays plain text and standard output keeps only the result line. The commands run as real
processes; a terminal is what rich is told it writes to (``TTY_COMPATIBLE=1``)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.support.processes import command_env

# What rich reads to decide whether it writes to a terminal, and how wide one is.
TERMINAL_SETTINGS = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "TERM", "COLUMNS", "NO_COLOR")
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run(data_dir: Path, *args: str, terminal: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in command_env(data_dir).items() if k not in TERMINAL_SETTINGS}
    if terminal:
        env.update(TTY_COMPATIBLE="1", TERM="xterm-256color", COLUMNS="120")
    return subprocess.run(
        [sys.executable, "-m", "reelsmith.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def drawn(stream: str) -> str:
    """What a terminal shows, escape codes left out (each redraw stays a separate piece)."""
    return ESCAPES.sub("", stream)


def test_contact_sheet_shows_each_stage_in_a_terminal_and_plain_text_when_piped(tmp_path: Path) -> None:
    done = run(tmp_path, "effects", "contact-sheet", str(tmp_path / "sheet.png"), terminal=True)
    assert done.returncode == 0, done.stderr
    shown = drawn(done.stderr)
    for stage in ("look", "effect zoom_in", "effect orbit", "write", "done"):
        assert f"contact sheet: {stage}" in shown, shown
    assert "100%" in shown and "\x1b[" in done.stderr  # drawn live, with cursor moves

    piped = run(tmp_path, "effects", "contact-sheet", str(tmp_path / "piped.png"), terminal=False)
    assert piped.returncode == 0, piped.stderr
    # (rich wraps a long path at the console's width: compared without the line breaks)
    assert "".join(piped.stdout.split()) == f"wrote{tmp_path / 'piped.png'}"
    assert "\x1b" not in piped.stderr + piped.stdout
    # Piped, only the bar's last state is written, once.
    assert piped.stderr.count("contact sheet:") == 1 and "contact sheet: done" in piped.stderr


def test_swap_run_names_the_character_swap_stages(tmp_path: Path, media_dir: Path) -> None:
    out = tmp_path / "swapped.mp4"
    args = ("swap", "run", str(media_dir / "portrait.png"), str(media_dir / "talking.mp4"), str(out))
    done = run(tmp_path, *args, "--seconds", "1", "--resolution", "480p", terminal=True)
    assert done.returncode == 0, done.stderr
    shown = drawn(done.stderr)
    for stage in ("character", "swap", "sound", "done"):
        assert f"character swap: {stage}" in shown, shown
    assert f"wrote{out}:" in "".join(drawn(done.stdout).split()) and out.stat().st_size > 0
