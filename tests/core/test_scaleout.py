"""The scale-out layout against real servers: PostgreSQL and Celery on Redis (the servers the
development and CI machines run on loopback), and S3 storage against moto's S3 server on
loopback (no real S3-compatible server installs here; moto is the stand-in at that edge).

API and workers run as real ``reelsmith`` processes, as in production; tasks use the stand-in
still-video engine so that their length is under the test's control.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from fastapi.testclient import TestClient
from kombu import Connection
from sqlalchemy import select, update

from reelsmith.api.app import create_app
from reelsmith.runtime import Runtime
from reelsmith.services.credits import charge_credits
from reelsmith.settings import Settings
from reelsmith.storage.s3 import S3Storage
from reelsmith.store.ids import now_ms
from reelsmith.store.models import Account, Task
from tests.conftest import make_settings, run_pending
from tests.support import backend
from tests.support.engines.still_video import STILL_ENGINE
from tests.support.processes import create_account, free_port, reelsmith, start, stop, wait_healthy
from tests.support.receiver import Receiver

_problem = backend.postgres_problem() or backend.redis_problem()
pytestmark = pytest.mark.skipif(_problem is not None, reason=f"scale-out tests need real servers: {_problem}")

CREATE = "/api/open/v4/image2Video/createBySourcePrompt"
RESULTS = "/api/open/v4/image2Video/resultsByIds"
BUCKET = "reelsmith-test"
RABBITMQ_URL = os.environ.get("REELSMITH_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.fixture
def servers() -> Iterator[backend.ScaleoutBackend]:
    """A fresh PostgreSQL database and queue namespace for one test."""
    scaleout = backend.ACTIVE or backend.ScaleoutBackend.create()
    try:
        yield scaleout
    finally:
        if scaleout is not backend.ACTIVE:
            scaleout.drop()


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    """moto's S3 server on a loopback port, with an empty bucket."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("moto's S3 server did not start") from None
            time.sleep(0.1)
    _s3_client(url).create_bucket(Bucket=BUCKET)
    yield url
    process.terminate()
    process.wait(10)


def _s3_client(url: str) -> Any:
    return boto3.client(
        "s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )


def _s3_settings(url: str, prefix: str) -> dict[str, str]:
    return {
        "s3_bucket": BUCKET,
        "s3_endpoint_url": url,
        "s3_region": "us-east-1",
        "s3_access_key_id": "test",
        "s3_secret_access_key": "test",
        "s3_prefix": prefix,
    }


def _env(scaleout: backend.ScaleoutBackend, **extra: str) -> dict[str, str]:
    return {
        **scaleout.environment(),
        "REELSMITH_ENGINE_PLUGINS": STILL_ENGINE,
        "REELSMITH_ENGINES": "image2video",
        "REELSMITH_LEASE_SECONDS": "1.5",
        **extra,
    }


def _wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _runtime(data_dir: Path, scaleout: backend.ScaleoutBackend, **overrides: Any) -> Runtime:
    settings = make_settings(data_dir, **scaleout.settings(), **overrides)
    runtime = Runtime(settings)
    runtime.prepare()
    return runtime


def _tasks(runtime: Runtime, ids: list[str]) -> list[Task]:
    with runtime.db.read() as session:
        return list(session.scalars(select(Task).where(Task.id.in_(ids))))


class Cluster:
    """An API process and worker processes on one database and one broker."""

    def __init__(self, tmp_path: Path, media_url: str, env: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.data_dir = tmp_path / "data"
        self.env = env
        self.media_url = media_url
        self.team = create_account(self.data_dir, plan="pro", credits=1000, **env)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.api = self._start("api", "--port", str(self.port))
        self.workers: list[subprocess.Popen[bytes]] = []
        wait_healthy(self.base, self.api)

    def _start(self, *args: str, **extra: str) -> subprocess.Popen[bytes]:
        name = f"{args[0]}-{len(self.processes)}"
        process = start(self.data_dir, *args, log=self.tmp_path / f"{name}.log", **self.env, **extra)
        self.processes.append(process)
        return process

    def add_worker(self, **extra: str) -> subprocess.Popen[bytes]:
        worker = self._start("worker", **extra)
        self.workers.append(worker)
        return worker

    def create(self, count: int, webhook: str = "") -> list[str]:
        body = {"prompt": "zoom", "resolution": "720p", "video_length": 5, "audio_type": 3, "webhookUrl": webhook}
        body["image_url"] = f"{self.media_url}/face.png"
        ids = []
        for _ in range(count):
            answer = httpx.post(
                f"{self.base}{CREATE}", json=body, headers={"x-api-key": self.team["apiKey"]}, timeout=30
            ).json()
            assert answer["code"] == 1000, answer
            ids.append(answer["data"]["_id"])
        return ids

    def results(self, ids: list[str]) -> list[dict[str, Any]]:
        answer = httpx.post(
            f"{self.base}{RESULTS}", json={"_ids": ",".join(ids)}, headers={"x-api-key": self.team["apiKey"]}
        ).json()
        return answer["data"]["result"]  # type: ignore[no-any-return]

    def credit(self) -> int:
        quota = httpx.get(f"{self.base}/api/open/v3/faceswap/quota/info", headers={"x-api-key": self.team["apiKey"]})
        return int(quota.json()["data"]["credit"])

    def close(self) -> None:
        for process in self.processes:
            stop(process)


@pytest.fixture
def cluster(tmp_path: Path, media_url: str, servers: backend.ScaleoutBackend) -> Iterator[Any]:
    made: list[Cluster] = []

    def make(**extra: str) -> Cluster:
        made.append(Cluster(tmp_path, media_url, _env(servers, **extra)))
        return made[-1]

    yield make
    for one in made:
        one.close()


def _owner_pid(owner: str) -> int:
    return int(owner.split(":")[1])


def test_two_workers_share_the_load(cluster: Any, servers: backend.ScaleoutBackend, tmp_path: Path) -> None:
    one = cluster(REELSMITH_TEST_STEPS="4", REELSMITH_TEST_STEP_SECONDS="0.25")
    workers = [one.add_worker(), one.add_worker()]
    ids = one.create(6)

    def all_done() -> list[dict[str, Any]] | None:
        results = one.results(ids)
        return results if all(result["status"] == 3 for result in results) else None

    assert len(_wait_for(all_done, 90, "6 tasks")) == 6
    runtime = _runtime(tmp_path / "reader", servers)
    assert runtime.db.engine.dialect.name == "postgresql"
    tasks = _tasks(runtime, ids)
    pids = [_owner_pid(task.lease_owner or "") for task in tasks]
    per_worker = {worker.pid: pids.count(worker.pid) for worker in workers}
    assert all(count >= 1 for count in per_worker.values()), per_worker
    assert sum(per_worker.values()) == 6
    assert all(task.attempts == 1 for task in tasks)
    assert one.credit() == 1000 - 6 * 20


def _rabbitmq_problem() -> str | None:
    try:
        with Connection(RABBITMQ_URL, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:
        return f"RabbitMQ is not reachable at {RABBITMQ_URL} ({exc.__class__.__name__})"
    return None


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_env(request: pytest.FixtureRequest, servers: backend.ScaleoutBackend) -> Iterator[dict[str, str]]:
    """The broker to run on: Redis (as the rest of these tests) or RabbitMQ."""
    if request.param == "redis":
        yield {}
        return
    problem = _rabbitmq_problem()
    if problem:
        pytest.skip(problem)
    yield {"REELSMITH_BROKER_URL": RABBITMQ_URL}
    with Connection(RABBITMQ_URL) as connection:
        channel = connection.channel()
        channel.queue_delete(f"{servers.namespace}.image2video")


def test_two_webhook_senders_deliver_each_webhook_once(cluster: Any) -> None:
    receiver = Receiver().start()
    try:
        one = cluster()
        one.add_worker()
        one.add_worker()
        one._start("webhooks", "send")
        one._start("webhooks", "send")
        one.create(8, webhook=receiver.url)
        _wait_for(lambda: len(receiver.accepted) >= 8, 90, "8 webhooks")
        time.sleep(1.5)  # a second delivery of any of them would arrive by now
        assert len(receiver.received) == 8
    finally:
        receiver.stop()


def test_a_worker_killed_mid_task_loses_nothing_and_charges_once(
    cluster: Any, servers: backend.ScaleoutBackend, broker_env: dict[str, str], tmp_path: Path
) -> None:
    one = cluster(REELSMITH_TEST_STEPS="12", REELSMITH_TEST_STEP_SECONDS="0.25", **broker_env)
    first = one.add_worker()
    [task_id] = one.create(1)
    _wait_for(lambda: (r := one.results([task_id])[0])["status"] == 2 and r["progress"] > 0, 30, "progress")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(5)
    one.add_worker()
    done = _wait_for(lambda: (r := one.results([task_id])[0])["status"] in (3, 4) and r, 60, "completion")
    assert done["status"] == 3, done
    [task] = _tasks(_runtime(tmp_path / "reader", servers), [task_id])
    assert task.attempts == 2
    assert _owner_pid(task.lease_owner or "") != first.pid
    assert one.credit() == 1000 - 20


def test_concurrent_claims_and_charges_on_postgres(tmp_path: Path, servers: backend.ScaleoutBackend) -> None:
    """Many threads claiming the same tasks and charging the same balance at once: each task is
    taken once, and the balance never goes below zero."""
    runtime = _runtime(tmp_path / "data", servers)
    account, _ = runtime.accounts.create(name="race", plan="pro", credits=100)
    with runtime.db.write() as session:
        ids = [Task(account_id=account.id, product="image2video", engine="image2video") for _ in range(10)]
        session.add_all(ids)
    task_ids = [task.id for task in ids]
    claims: list[tuple[str, str]] = []
    charges: list[bool] = []
    barrier = threading.Barrier(8)

    def racer(n: int) -> None:
        barrier.wait()
        for task_id in task_ids:
            if runtime.lifecycle.claim(task_id, f"racer-{n}") is not None:
                claims.append((task_id, f"racer-{n}"))
        for _ in range(3):
            try:
                with runtime.db.write() as session:
                    charge_credits(session, account.id, 10)
                charges.append(True)
            except Exception:
                charges.append(False)

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(task_id for task_id, _ in claims) == sorted(task_ids)
    assert charges.count(True) == 10
    with runtime.db.read() as session:
        assert session.get(Account, account.id).credit == 0  # type: ignore[union-attr]


def test_the_reaper_publishes_a_lost_task_once(tmp_path: Path, servers: backend.ScaleoutBackend) -> None:
    """A queued task whose message was lost (the broker was emptied) and a running task whose
    worker died are each published again, once, however many reapers sweep."""
    from reelsmith.dispatch.reaper import DispatchReaper

    runtime = _runtime(tmp_path / "data", servers, engine_plugins=STILL_ENGINE, redispatch_after_seconds=1)
    account, _ = runtime.accounts.create(name="lost", plan="pro", credits=100)
    long_ago = now_ms() - 60_000
    with runtime.db.write() as session:
        lost = Task(account_id=account.id, product="image2video", engine="image2video", create_time=long_ago)
        dead = Task(account_id=account.id, product="image2video", engine="image2video", create_time=long_ago)
        session.add_all([lost, dead])
    with runtime.db.write() as session:
        session.execute(
            update(Task)
            .where(Task.id == dead.id)
            .values(status=2, lease_owner="gone:1:x", lease_expires=now_ms() - 1000, attempts=1, dispatched_at=long_ago)
        )
    reapers = [DispatchReaper(runtime.db, runtime.publisher, 1000) for _ in range(4)]
    published = []
    threads = [threading.Thread(target=lambda r=r: published.append(r.sweep())) for r in reapers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(published) == 2
    assert DispatchReaper(runtime.db, runtime.publisher, 60_000).sweep() == 0


def test_s3_storage_round_trip(s3_url: str, tmp_path: Path) -> None:
    storage = S3Storage(Settings(**_s3_settings(s3_url, "round-trip")))  # type: ignore[arg-type]
    assert storage.check() == "ok"
    source = tmp_path / "clip.mp4"
    source.write_bytes(os.urandom(100_000))
    stored = storage.put_file(source)
    assert source.exists()  # a copy, not a move
    assert storage.exists(stored.key) and storage.size(stored.key) == 100_000
    local = storage.local_path(stored.key, tmp_path / "scratch")
    assert local.read_bytes() == source.read_bytes()
    url = storage.direct_url(stored.key)
    assert url and "X-Amz-Signature" in url
    answer = httpx.get(url)
    assert answer.content == source.read_bytes()
    assert answer.headers["content-type"] == "video/mp4"
    objects = _s3_client(s3_url).list_objects_v2(Bucket=BUCKET, Prefix="round-trip/")["Contents"]
    assert [item["Key"] for item in objects] == [f"round-trip/{stored.key}"]
    moved = storage.put_file(source, move=True)
    assert not source.exists()
    assert storage.sweep(now_ms() - 60_000) == 0
    assert storage.sweep(now_ms() + 60_000) == 2
    assert not storage.exists(moved.key) and not storage.exists(stored.key)
    with pytest.raises(KeyError):
        storage.local_path(stored.key, tmp_path / "scratch2")
    with pytest.raises(KeyError):
        storage.size("../../etc/passwd")


def test_presigned_urls_use_the_public_endpoint(s3_url: str) -> None:
    settings = Settings(**_s3_settings(s3_url, ""), s3_public_endpoint_url="https://media.example.com")  # type: ignore[arg-type]
    url = S3Storage(settings).direct_url("2026/11/21/" + "a" * 32 + ".mp4")
    assert url and url.startswith(f"https://media.example.com/{BUCKET}/2026/11/21/")


def test_unreachable_bucket_is_reported(tmp_path: Path) -> None:
    storage = S3Storage(Settings(**_s3_settings(f"http://127.0.0.1:{free_port()}", "")))  # type: ignore[arg-type]
    assert storage.check().startswith("error: bucket reelsmith-test")


def test_a_task_end_to_end_on_postgres_celery_and_s3(
    cluster: Any, servers: backend.ScaleoutBackend, s3_url: str, tmp_path: Path
) -> None:
    """Inputs and results live in the bucket; the result link redirects to a presigned URL."""
    prefix = f"e2e-{servers.namespace}"
    s3_env = {f"REELSMITH_{name.upper()}": value for name, value in _s3_settings(s3_url, prefix).items()}
    one = cluster(**s3_env)
    one.add_worker()
    [task_id] = one.create(1)
    done = _wait_for(lambda: (r := one.results([task_id])[0])["status"] in (3, 4) and r, 60, "completion")
    assert done["status"] == 3, done
    link = httpx.get(done["video_url"])
    assert link.status_code == 307
    assert link.headers["location"].startswith(f"{s3_url}/{BUCKET}/{prefix}/")
    video = httpx.get(link.headers["location"])
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    keys = [item["Key"] for item in _s3_client(s3_url).list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]]
    assert len(keys) == 2 and {key.rsplit(".", 1)[1] for key in keys} == {"png", "mp4"}
    assert not list((one.data_dir / "files").rglob("*.*")), "nothing is stored on the API host's disk"


def test_doctor_checks_database_broker_bucket_and_engines(
    tmp_path: Path, servers: backend.ScaleoutBackend, s3_url: str
) -> None:
    s3_env = {f"REELSMITH_{name.upper()}": value for name, value in _s3_settings(s3_url, "doctor").items()}
    env = {
        **servers.environment(),
        **s3_env,
        "REELSMITH_ENGINE_PLUGINS": STILL_ENGINE,
        "REELSMITH_ENGINES": "image2video",
    }
    assert reelsmith(tmp_path / "d", "migrate", **env).returncode == 0
    healthy = reelsmith(tmp_path / "d", "doctor", "--json", **env)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "postgresql" in healthy.stdout and "redis" in healthy.stdout and "s3://reelsmith-test" in healthy.stdout
    broken = reelsmith(
        tmp_path / "d", "doctor", **{**env, "REELSMITH_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"}
    )
    assert broken.returncode == 1
    assert "FAIL broker" in broken.stdout


def test_an_unreachable_bucket_leaves_the_task_to_be_retried_not_failed(
    tmp_path: Path, servers: backend.ScaleoutBackend, s3_url: str, media_url: str
) -> None:
    """A worker that cannot reach the bucket (a network partition: its endpoint is a closed
    port) neither fails nor refunds the task; once its lease runs out, a worker that can reach
    the bucket runs it, and the team is charged once."""
    good = _s3_settings(s3_url, f"retry-{servers.namespace}")
    partitioned = {**good, "s3_endpoint_url": f"http://127.0.0.1:{free_port()}"}
    common = {"engine_plugins": STILL_ENGINE, "lease_seconds": 1}
    api = _runtime(tmp_path / "api", servers, **common, **good)
    cut_off = _runtime(tmp_path / "cut-off", servers, **common, **partitioned)
    healthy = _runtime(tmp_path / "healthy", servers, **common, **good)
    account, creds = api.accounts.create(name="retry", plan="pro", credits=100)
    with TestClient(create_app(api)) as client:
        body = {"image_url": f"{media_url}/face.png", "prompt": "zoom", "resolution": "720p", "video_length": 5}
        answer = client.post(CREATE, json={**body, "audio_type": 3}, headers={"x-api-key": creds.api_key}).json()
    assert answer["code"] == 1000, answer
    task_id = answer["data"]["_id"]

    assert run_pending(cut_off, owner="cut-off") == 1
    [task] = _tasks(api, [task_id])
    assert (task.status, task.attempts, task.refunded) == (2, 1, False)
    time.sleep(1.2)  # the cut-off worker's lease runs out
    assert run_pending(healthy, owner="healthy") == 1
    [task] = _tasks(api, [task_id])
    assert (task.status, task.attempts, task.lease_owner, task.refunded) == (3, 2, "healthy", False)
    with api.db.read() as session:
        assert session.get(Account, account.id).credit == 100 - 20  # type: ignore[union-attr]
