"""A full disk (issue 17), made real: the data folder on a small tmpfs. Uploads and creates that
run out of space answer 1015 saying so (never HTTP 500, and the connection stays usable),
creates are refused before anything is charged while the disk is nearly full, readiness says
so, and a task that cannot write its output fails with a plain reason and a refund."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from reelsmith.api.app import create_app
from reelsmith.runtime import Runtime
from tests.conftest import Team, make_settings, run_pending
from tests.support.media import ffmpeg
from tests.support.processes import create_account, free_port, reelsmith, start, stop, wait_healthy

UPLOAD = "/api/reelsmith/v1/upload"
CREATE = "/api/open/v4/image2Video/createBySourcePrompt"
TRANSLATE = "/api/open/v3/content/video/createbytranslate"
QUOTA = "/api/open/v3/faceswap/quota/info"
FULL = "the server's storage is full; try again later"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs mounted for the test (mounting needs root, as on CI's machine)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(folder: Path) -> None:
    """Take every free byte of the disk under ``folder``."""
    with (folder / "filler.bin").open("wb") as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError:
            pass


def _runtime(small_disk: Path, tmp_path: Path, **overrides: object) -> Runtime:
    # The database lives elsewhere: only the files fill up.
    settings = make_settings(small_disk / "data", database_url=f"sqlite:///{tmp_path / 'reelsmith.db'}", **overrides)
    return Runtime(settings)


def _team(runtime: Runtime, client: TestClient) -> Team:
    _, creds = runtime.accounts.create(plan="pro", credits=1000)
    return Team(client, creds.client_id, creds.api_key, 0, "")


def test_an_upload_that_fills_the_disk_is_1015_and_the_connection_lives_on(small_disk: Path, tmp_path: Path) -> None:
    data_dir = small_disk / "data"
    env = {"REELSMITH_DATABASE_URL": f"sqlite:///{tmp_path / 'reelsmith.db'}", "REELSMITH_STORAGE_MIN_FREE_MB": "0"}
    team = create_account(data_dir, **env)
    port = free_port()
    server = start(data_dir, "api", "--port", str(port), log=tmp_path / "api.log", **env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, server)
        headers = {"x-api-key": team["apiKey"]}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            answer = client.post(UPLOAD, content=b"\x89PNG\r\n\x1a\n" + bytes(4 * 1024 * 1024))
            assert answer.status_code == 200 and answer.json() == {"code": 1015, "msg": FULL}
            # The same keep-alive connection still answers.
            assert client.get(QUOTA).json()["data"]["credit"] == 1000
        assert not list((data_dir / "work").glob("upload-*")), "the partial upload was left behind"
    finally:
        stop(server)
    assert "Traceback" in (tmp_path / "api.log").read_text()  # the details went to the log


def test_a_create_whose_input_fills_the_disk_is_1015_and_charges_nothing(
    small_disk: Path, tmp_path: Path, media_dir: Path, media_url: str
) -> None:
    noisy = media_dir / "noisy.mp4"
    if not noisy.exists():
        ffmpeg(
            "-f", "lavfi", "-i", "nullsrc=s=320x240:r=10,geq=random(1)*255:128:128", "-f", "lavfi",
            "-i", "sine=frequency=440", "-t", "4", "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p",
            "-c:a", "aac", str(noisy),
        )  # fmt: skip
    assert noisy.stat().st_size > 4 * 1024 * 1024
    runtime = _runtime(small_disk, tmp_path, storage_min_free_mb=0)
    with TestClient(create_app(runtime)) as client:
        team = _team(runtime, client)
        answer = team.post(TRANSLATE, {"url": f"{media_url}/noisy.mp4", "language": "es"})
        assert answer == {"code": 1015, "msg": FULL}
        assert team.get(QUOTA)["data"]["credit"] == 1000
    assert not [p for p in (small_disk / "data").rglob("*") if p.is_file()], "a refused create left files"


def test_while_the_disk_is_nearly_full_creates_are_refused_and_readiness_says_so(
    small_disk: Path, tmp_path: Path, media_url: str
) -> None:
    runtime = _runtime(small_disk, tmp_path, storage_min_free_mb=200)
    with TestClient(create_app(runtime)) as client:
        team = _team(runtime, client)
        answer = team.post(CREATE, {"image_url": f"{media_url}/face.png", "prompt": "zoom in"})
        assert answer["code"] == 1015, answer
        assert answer["msg"].startswith("the server's storage is nearly full (")
        assert "below the 200 MB minimum" in answer["msg"] and str(small_disk) not in answer["msg"]
        assert team.get(QUOTA)["data"]["credit"] == 1000
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["data"]["disk"].startswith("error: ")


def test_a_task_that_cannot_write_its_output_fails_plainly_and_is_refunded(
    small_disk: Path, tmp_path: Path, media_url: str
) -> None:
    runtime = _runtime(small_disk, tmp_path, storage_min_free_mb=0)
    with TestClient(create_app(runtime)) as client:
        team = _team(runtime, client)
        task_id = team.post(CREATE, {"image_url": f"{media_url}/coffee.jpg", "prompt": "zoom in"})["data"]["_id"]
        _fill(small_disk)
        run_pending(runtime)
        [task] = team.post("/api/open/v4/image2Video/resultsByIds", {"_ids": task_id})["data"]["result"]
    assert task["status"] == 4
    assert task["error_reason"] == "the server ran out of storage space while making the result; try again later"
    assert task["deduction_credit"] == 0


def test_doctor_fails_on_a_nearly_full_disk(small_disk: Path, tmp_path: Path) -> None:
    env = {"REELSMITH_DATABASE_URL": f"sqlite:///{tmp_path / 'reelsmith.db'}"}
    assert reelsmith(small_disk / "data", "migrate", **env).returncode == 0
    done = reelsmith(small_disk / "data", "doctor", **env)
    assert done.returncode == 1 and "FAIL disk" in done.stdout and "below the 200 MB minimum" in done.stdout
    assert reelsmith(small_disk / "data", "doctor", REELSMITH_STORAGE_MIN_FREE_MB="1", **env).returncode == 0
