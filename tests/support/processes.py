"""Running reelsmith's own commands as real processes, for tests that need them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support import backend

ROOT = Path(__file__).resolve().parent.parent.parent


def command_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELSMITH_")}
    env.update(
        {
            "REELSMITH_DATA_DIR": str(data_dir),
            "REELSMITH_SECRET_KEY": "test-secret",
            "REELSMITH_ALLOW_NETWORKS": "127.0.0.0/8",
            "PYTHONPATH": str(ROOT),
            **backend.environment(),
            **extra,
        }
    )
    return env


def reelsmith(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run one CLI command to completion."""
    return subprocess.run(
        [sys.executable, "-m", "reelsmith.cli", *args],
        env=command_env(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def create_account(data_dir: Path, plan: str = "pro", credits: int = 1000, **env: str) -> dict[str, Any]:
    done = reelsmith(data_dir, "accounts", "create", "--plan", plan, "--credits", str(credits), "--json", **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(data_dir: Path, *args: str, log: Path, **env: str) -> subprocess.Popen[bytes]:
    """Start a long-running command (serve, api, worker) in the background."""
    handle = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "reelsmith.cli", *args],
        env=command_env(data_dir, **env),
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{base_url} did not become healthy")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
