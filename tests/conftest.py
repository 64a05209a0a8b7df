"""Shared fixtures: generated media on a loopback HTTP server, a data folder per test, the
real app behind an HTTP client, and accounts."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reelsmith.api.app import create_app
from reelsmith.broker.celery_app import RUN_TASK, make_celery, queue_for
from reelsmith.dispatch.reaper import DispatchReaper
from reelsmith.dispatch.run_task import run_task_settled
from reelsmith.runtime import Runtime
from reelsmith.settings import Settings
from tests.support import backend
from tests.support.media import make_media


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("media")
    make_media(folder)
    return folder


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


class _MediaServer(http.server.ThreadingHTTPServer):
    # socketserver's listen backlog of 5 drops the SYNs of a burst of downloads (the concurrency
    # test's 100 creates), which the kernel retries 1, 3 and 7 s later.
    request_queue_size = 128


@pytest.fixture(scope="session")
def media_url(media_dir: Path) -> Iterator[str]:
    """Base URL of a loopback server that serves the generated media."""
    handler = functools.partial(_QuietHandler, directory=str(media_dir))
    server = _MediaServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session", autouse=True)
def _backend() -> Iterator[None]:
    """In a scale-out run (REELSMITH_TEST_SCALEOUT=1), this session's PostgreSQL database and
    queue namespace; in the default run, nothing (SQLite per test, no broker)."""
    if not backend.SCALEOUT:
        yield
        return
    problem = backend.postgres_problem() or backend.redis_problem()
    if problem:
        pytest.exit(f"skipped the scale-out run: it needs PostgreSQL and Redis, and {problem}", returncode=0)
    backend.ACTIVE = backend.ScaleoutBackend.create()
    try:
        yield
    finally:
        backend.ACTIVE.drop()
        backend.ACTIVE = None


@pytest.fixture(autouse=True)
def _empty_backend() -> Iterator[None]:
    """Each test starts from an empty database and empty queues, as with a fresh SQLite file."""
    yield
    if backend.ACTIVE:
        backend.ACTIVE.empty()


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "secret_key": "test-secret",
        "allow_networks": ["127.0.0.0/8"],
        "workers": 0,
        "lease_seconds": 5,
        "poll_interval_seconds": 0.05,
        **backend.settings_overrides(),
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    runtime = Runtime(settings)
    runtime.prepare()
    yield runtime
    runtime.db.dispose()


@dataclass
class Team:
    """A team and a client that calls the API as it."""

    client: TestClient
    client_id: str
    api_key: str
    uid: int
    team_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"x-api-key": self.api_key}

    def post(self, path: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
        response = self.client.post(path, json=body, headers=self.headers, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.client.get(path, params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def download(self, url: str, path: Path) -> Path:
        """Fetch a signed file URL (no key needed) into ``path``."""
        response = self.client.get(url)
        assert response.status_code == 200, response.text
        path.write_bytes(response.content)
        return path


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as client:
        yield client


@pytest.fixture
def make_team(runtime: Runtime, client: TestClient) -> Any:
    def make(plan: str = "pro", credits: int = 1000) -> Team:
        account, creds = runtime.accounts.create(name="test", plan=plan, credits=credits)
        return Team(client, creds.client_id, creds.api_key, account.id, account.team_id)

    return make


@pytest.fixture
def pro(make_team: Any) -> Team:
    return make_team("pro", 1000)  # type: ignore[no-any-return]


@pytest.fixture
def free(make_team: Any) -> Team:
    return make_team("free", 1000)  # type: ignore[no-any-return]


def run_pending(runtime: Runtime, owner: str = "test-worker") -> int:
    """Run queued tasks in this process as the workers do (``run_task_settled``); returns how many.

    In embedded mode the tasks come from the task table, as a worker claims them. In scale-out
    mode they come from the broker: the dispatch reaper sweeps first (as it does every half
    lease in the API and the workers), then each message on the engines' queues is taken,
    run and acknowledged, as a Celery worker does."""
    if runtime.settings.broker_url:
        return _run_queued_messages(runtime, owner)
    count = 0
    while (task_id := runtime.lifecycle.next_claimable(runtime.registry.engines)) is not None:
        run_task_settled(runtime, task_id, owner)
        count += 1
    return count


def _run_queued_messages(runtime: Runtime, owner: str) -> int:
    settings = runtime.settings
    DispatchReaper(runtime.db, runtime.publisher, int(settings.redispatch_after_seconds * 1000)).sweep()
    ran = 0
    with make_celery(settings).connection_for_read() as connection:
        for engine in runtime.registry.engines:
            queue = connection.SimpleQueue(queue_for(settings, engine))
            try:
                while True:
                    try:
                        message = queue.get(block=False)
                    except queue.Empty:
                        break
                    assert message.headers["task"] == RUN_TASK, message.headers
                    (task_id,), _, _ = message.decode()
                    if runtime.lifecycle.is_claimable(task_id):
                        run_task_settled(runtime, task_id, owner)
                        ran += 1
                    message.ack()
            finally:
                queue.close()
    return ran


def with_fields(body: dict[str, Any], fields: dict[str, Any], media_url: str) -> dict[str, Any]:
    """``body`` with ``fields`` set; ``{media}`` in a string stands for the media server."""
    merged = dict(body)
    for key, value in fields.items():
        merged[key] = value.replace("{media}", media_url) if isinstance(value, str) else value
    return merged


def assert_refused(runtime: Runtime, team: Team, path: str, body: dict[str, Any], code: int, words: str) -> None:
    """The request gets ``code`` and a message with ``words``, and leaves no trace: no
    charge, no task, no stored file."""
    balance = team.get("/api/open/v3/faceswap/quota/info")["data"]["credit"]
    answer = team.post(path, body)
    assert answer["code"] == code, answer
    assert words in answer["msg"], answer["msg"]
    assert team.get("/api/open/v3/faceswap/quota/info")["data"]["credit"] == balance
    assert run_pending(runtime) == 0
    assert not any(runtime.storage.root.rglob("*.*")), "a refused request left files behind"
