"""`reelsmith models make-tiny` and `reelsmith models check`, run as real processes: an operator's
first test of a host. Tiny random weights (the videos they make are noise) in every engine's
layout, pointed at by the settings make-tiny prints, load on this CPU; a broken file is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.processes import reelsmith

pytest.importorskip("diffusers")

ENGINES = {
    "wan2.2-ti2v-5b",
    "wan2.2-i2v-a14b",
    "ltx-video-i2v",
    "wan2.2-animate-14b",
    "reelsmith-face-swapper",
}


def _check(data: Path, **settings: str) -> tuple[int, dict[str, dict[str, object]]]:
    done = reelsmith(data, "models", "check", "--json", **settings)
    rows = json.loads(done.stdout)
    return done.returncode, {str(row["name"]).split()[1]: row for row in rows}


def test_tiny_weights_written_by_make_tiny_load_and_a_broken_file_is_named(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, rows = _check(data)
    assert code == 0 and set(rows) == ENGINES
    assert all(row["ok"] and "not configured (REELSMITH_" in str(row["detail"]) for row in rows.values())

    made = reelsmith(data, "models", "make-tiny", str(tmp_path / "tiny"))
    assert made.returncode == 0, made.stderr
    settings = dict(line.split("=", 1) for line in made.stdout.splitlines())
    assert set(settings) == {
        "REELSMITH_WAN_TI2V_DIR",
        "REELSMITH_WAN_I2V_DIR",
        "REELSMITH_LTX_I2V_DIR",
        "REELSMITH_WAN_ANIMATE_DIR",
        "REELSMITH_FACE_SWAPPER_MODEL",
        "REELSMITH_FACE_EMBEDDER_MODEL",
    }
    assert all(Path(path).exists() for path in settings.values())

    code, rows = _check(data, **settings)
    assert code == 0, rows
    for name, row in rows.items():
        assert row["ok"] and "loaded on cpu, float32" in str(row["detail"]), (name, row)

    Path(settings["REELSMITH_FACE_SWAPPER_MODEL"]).write_bytes(b"not an onnx graph")
    code, rows = _check(data, **settings)
    assert code == 1
    broken = rows["reelsmith-face-swapper"]
    assert not broken["ok"] and "is not an ONNX model" in str(broken["detail"]), broken
    assert "Traceback" not in str(broken["detail"])
    assert all(row["ok"] for name, row in rows.items() if name != "reelsmith-face-swapper")


def test_check_prints_paths_and_advice_as_they_are(tmp_path: Path) -> None:
    """Square brackets in a path or in advice (".[models]") are text, not rich's markup."""
    missing = tmp_path / "swapper[v2].onnx"
    done = reelsmith(
        tmp_path / "data",
        "models",
        "check",
        REELSMITH_FACE_SWAPPER_MODEL=str(missing),
        REELSMITH_FACE_EMBEDDER_MODEL=str(tmp_path / "embedder.onnx"),
    )
    assert done.returncode == 1
    assert f"{missing} does not exist" in done.stdout.replace("\n", ""), done.stdout
