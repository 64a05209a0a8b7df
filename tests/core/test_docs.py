"""The documentation stays true: every setting is documented, and the README's commands exist."""

from __future__ import annotations

from pathlib import Path

from reelsmith.settings import Settings

ROOT = Path(__file__).resolve().parent.parent.parent


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    missing = [name for name in Settings.model_fields if f"`REELSMITH_{name.upper()}`" not in text]
    assert missing == []


def test_readme_names_the_two_setup_commands_and_ci_runs_one() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make serve" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
