"""What the operator sees (issue 21): ``/metrics`` in Prometheus' format, whose counters move with
real tasks run by real workers (in this process, and across the processes of a live ``serve``),
the admin overview (queues, live workers, failures, credits, tasks), and JSON log lines that
carry a request's id into its task's worker."""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from reelsmith.api.app import create_app
from reelsmith.dispatch.embedded import worker_loop
from reelsmith.runtime import Runtime
from reelsmith.settings import Settings
from tests.conftest import Team, make_settings, run_pending
from tests.support import backend
from tests.support.engines.still_video import STILL_ENGINE
from tests.support.processes import free_port, start, stop, wait_healthy

CREATE = "/api/open/v4/image2Video/createBySourcePrompt"
RESULTS = "/api/open/v4/image2Video/resultsByIds"
INFO = "/api/open/v3/content/video/infobymodelid"
OVERVIEW = "/api/reelsmith/v1/admin/overview"
ADMIN_TOKEN = "admin-secret-token"
METRICS_TOKEN = "scrape-secret-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}
PRODUCT = {"product": "image2video", "engine": "image2video"}
FAILURE = "the prompt asked this test engine to fail"
PRICE = 20  # 5 s at 720p
REQUESTS = "reelsmith_http_request_duration_seconds_count"  # the request counter

Samples = list[tuple[str, dict[str, str], float]]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path / "data",
        engine_plugins={"image2video": STILL_ENGINE.split("=", 1)[1]},
        admin_token=ADMIN_TOKEN,
        metrics_token=METRICS_TOKEN,
        worker_heartbeat_seconds=0.2,
        **_own_queues(),
    )


def _own_queues() -> dict[str, str]:
    """In scale-out, queues of the test's own: a worker process started here must not first
    work through what earlier tests left queued on the session's (the rate-limit tests leave
    hundreds)."""
    namespace = backend.settings_overrides().get("broker_namespace")
    return {"broker_namespace": f"{namespace}-{uuid.uuid4().hex[:8]}"} if namespace else {}


def parse(text: str) -> Samples:
    """Every sample of a scrape; prometheus-client's own parser must read it."""
    return [
        (sample.name, dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(value for found, have, value in samples if found == name and labels.items() <= have.items())


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics", headers=SCRAPER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def _create(team: Team, media_url: str, prompt: str) -> str:
    body = {"image_url": f"{media_url}/face.png", "prompt": prompt, "resolution": "720p", "video_length": 5}
    answer = team.post(CREATE, body)
    assert answer["code"] == 1000, answer
    return str(answer["data"]["_id"])


def test_counters_move_with_real_tasks(runtime: Runtime, pro: Team, media_url: str) -> None:
    before = scrape(pro.client)
    done = _create(pro, media_url, "slow zoom")
    failed = _create(pro, media_url, "please fail")
    assert run_pending(runtime) == 2
    video = pro.post(RESULTS, {"_ids": done})["data"]["result"][0]["video_url"]
    assert pro.client.get(video).status_code == 200
    assert pro.get(INFO, video_model_id=failed)["data"]["video_status"] == 4
    assert pro.client.get(f"/api/no/such/{done}").status_code == 404
    after = scrape(pro.client)

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("reelsmith_tasks_created_total", **PRODUCT) == 2
    assert moved("reelsmith_tasks_completed_total", **PRODUCT) == 1
    assert moved("reelsmith_tasks_failed_total", **PRODUCT) == 1
    assert moved("reelsmith_credits_charged_total", product="image2video") == 2 * PRICE
    assert moved("reelsmith_credits_refunded_total", product="image2video") == PRICE
    assert moved("reelsmith_task_duration_seconds_count", **PRODUCT) == 1
    # The still engine's two stages, timed for the task that completed (the failing one has none).
    for stage in ("wait", "encode"):
        assert moved("reelsmith_stage_duration_seconds_count", stage=stage, **PRODUCT) == 1
        assert moved("reelsmith_stage_duration_seconds_sum", stage=stage, **PRODUCT) > 0

    # Requests by route template and code: the fast poll path, file links and 404s included.
    assert moved(REQUESTS, method="POST", route=CREATE, status="200") == 2
    assert moved(REQUESTS, method="GET", route=INFO, status="200") == 1
    assert moved(REQUESTS, method="GET", route="/files/{key:path}", status="200") == 1
    assert moved(REQUESTS, method="GET", route="unmatched", status="404") == 1
    assert moved("reelsmith_http_request_duration_seconds_sum", method="POST", route=CREATE) > 0
    # No task id, file key or team in any label.
    labels = {value for _, have, _ in after for value in have.values()}
    assert not [value for value in labels if done in value or failed in value or pro.team_id in value]
    assert not [value for value in labels if value.startswith("/files/2")]

    assert total(after, "reelsmith_database_up") == 1
    assert total(after, "reelsmith_queue_depth", engine="image2video") == 0


def test_metrics_are_for_the_token_holder_or_loopback(runtime: Runtime, tmp_path: Path) -> None:
    with TestClient(create_app(runtime)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/metrics", headers=SCRAPER).status_code == 200
    # Without a token: loopback clients only.
    open_runtime = Runtime(make_settings(tmp_path / "open"))
    open_runtime.prepare()
    with TestClient(create_app(open_runtime), client=("203.0.113.7", 40000)) as client:
        refused = client.get("/metrics")
        assert refused.status_code == 403 and "REELSMITH_METRICS_TOKEN" in refused.text
    with TestClient(create_app(open_runtime), client=("127.0.0.1", 40000)) as client:
        assert client.get("/metrics").status_code == 200
    open_runtime.db.dispose()


def test_requests_have_ids(client: TestClient) -> None:
    mine = client.get("/healthz", headers={"x-request-id": "proxy-id.42"})
    assert mine.headers["x-request-id"] == "proxy-id.42"
    forged = client.get("/healthz", headers={"x-request-id": "bad id\nINFO forged"})
    made = client.get("/healthz")
    ids = [forged.headers["x-request-id"], made.headers["x-request-id"]]
    assert all(re.fullmatch(r"[0-9a-f]{12}", made_id) for made_id in ids) and ids[0] != ids[1]


def test_the_dashboard_shows_only_metrics_that_exist(client: TestClient) -> None:
    families = list(text_string_to_metric_families(client.get("/metrics", headers=SCRAPER).text))
    suffixes = ("", "_total", "_bucket", "_sum", "_count")
    exposed = {family.name + suffix for family in families for suffix in suffixes}
    dashboard = (Path(__file__).resolve().parents[2] / "docs" / "grafana" / "reelsmith.json").read_text()
    used = set(re.findall(r"reelsmith_[a-z_]+", " ".join(re.findall(r'"expr": "([^"]*)"', dashboard))))
    assert used and used <= exposed, used - exposed
    json.loads(dashboard)


def _overview(client: TestClient) -> dict[str, Any]:
    answer = client.get(OVERVIEW, headers=ADMIN).json()
    assert answer["code"] == 1000 and answer["msg"] == "OK", answer
    data: dict[str, Any] = answer["data"]
    assert set(data) == {"queues", "workers", "failures_last_day", "credits", "tasks_last_day"}
    return data


def _queue(data: dict[str, Any], engine: str = "image2video") -> dict[str, Any]:
    (queue,) = [queue for queue in data["queues"] if queue["engine"] == engine]
    assert set(queue) == {"engine", "queued", "running", "oldest_queued_seconds"}
    return queue  # type: ignore[no-any-return]


def test_overview_shows_queues_failures_credits_and_tasks(runtime: Runtime, pro: Team, media_url: str) -> None:
    assert pro.client.get(OVERVIEW).json()["code"] == 1102
    assert pro.client.get(OVERVIEW, headers={"Authorization": "Bearer wrong"}).json()["code"] == 1101
    assert pro.client.get(OVERVIEW, headers=pro.headers).json()["code"] == 1102  # a team's key is no admin's

    empty = _overview(pro.client)
    assert _queue(empty) == {"engine": "image2video", "queued": 0, "running": 0, "oldest_queued_seconds": None}
    assert empty["workers"] == [] and empty["failures_last_day"] == []
    assert empty["credits"] == {"charged_last_day": 0, "refunded_last_day": 0, "charged_total": 0, "refunded_total": 0}

    _create(pro, media_url, "slow zoom")
    time.sleep(0.05)
    queue = _queue(_overview(pro.client))
    assert queue["queued"] == 1 and queue["running"] == 0 and queue["oldest_queued_seconds"] >= 0.05
    gauges = scrape(pro.client)
    assert total(gauges, "reelsmith_queue_depth", engine="image2video") == 1
    assert total(gauges, "reelsmith_queue_oldest_age_seconds", engine="image2video") >= 0.05

    _create(pro, media_url, "please fail")
    _create(pro, media_url, "fail again")
    assert run_pending(runtime) == 3
    data = _overview(pro.client)
    assert _queue(data) == {"engine": "image2video", "queued": 0, "running": 0, "oldest_queued_seconds": None}
    assert data["failures_last_day"] == [{"reason": FAILURE, "count": 2, "product": "image2video"}]
    assert data["credits"] == {
        "charged_last_day": 3 * PRICE,
        "refunded_last_day": 2 * PRICE,
        "charged_total": 3 * PRICE,
        "refunded_total": 2 * PRICE,
    }
    assert data["tasks_last_day"] == {"created": 3, "completed": 1, "failed": 2}
    assert pro.get("/api/open/v3/faceswap/quota/info")["data"]["credit"] == 1000 - PRICE


def _wait_for(what: str, found: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def worker(settings: Settings) -> Iterator[threading.Event]:
    """A real worker loop (the embedded worker's) in a thread of this process."""
    stop = threading.Event()
    thread = threading.Thread(target=worker_loop, args=(settings, stop), daemon=True)
    thread.start()
    yield stop
    stop.set()
    thread.join(30)


def test_overview_shows_live_workers_and_what_they_run(
    pro: Team, media_url: str, worker: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    (seen,) = _wait_for("the worker to report in", lambda: _overview(pro.client)["workers"])
    assert set(seen) == {"id", "host", "pid", "engines", "running_task", "last_seen_seconds"}
    assert seen["pid"] == os.getpid() and seen["host"] and "image2video" in seen["engines"]
    assert seen["running_task"] is None and 0 <= seen["last_seen_seconds"] < 5
    monkeypatch.setenv("REELSMITH_TEST_STEPS", "40")
    monkeypatch.setenv("REELSMITH_TEST_STEP_SECONDS", "0.05")
    task_id = _create(pro, media_url, "slow zoom")
    busy = _wait_for(
        "the worker to take the task",
        lambda: [w for w in _overview(pro.client)["workers"] if w["running_task"] == task_id],
    )
    assert busy[0]["id"] == seen["id"]
    assert _queue(_overview(pro.client))["running"] == 1
    _wait_for("the task to end", lambda: pro.get(INFO, video_model_id=task_id)["data"]["video_status"] == 3)
    assert total(scrape(pro.client), "reelsmith_workers_live", engine="image2video") == 1
    worker.set()
    _wait_for("the worker to sign off", lambda: _overview(pro.client)["workers"] == [])


def _wait_done(http: httpx.Client, headers: dict[str, str], task_id: str) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        answer = http.post(RESULTS, json={"_ids": task_id}, headers=headers).json()
        result: dict[str, Any] = answer["data"]["result"][0]
        return result if result["status"] in (3, 4) else None

    return _wait_for(f"task {task_id} to end", ended, timeout=90)  # type: ignore[no-any-return]


def test_a_live_serve_counts_across_its_processes_and_logs_json(tmp_path: Path, media_url: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    data_dir = tmp_path / "data"
    stale = data_dir / "metrics" / "counter_1.db"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left by an earlier run")
    server = start(
        data_dir,
        "serve",
        "--port",
        str(port),
        "--workers",
        "1",
        log=log,
        REELSMITH_ENGINE_PLUGINS=STILL_ENGINE,
        REELSMITH_ADMIN_TOKEN=ADMIN_TOKEN,
        REELSMITH_LOG_FORMAT="json",
        REELSMITH_WORKER_HEARTBEAT_SECONDS="0.5",
    )
    # A loaded machine (the workers starting at a low priority) answers slowly, never wrongly.
    http = httpx.Client(base_url=base, timeout=60)
    try:
        wait_healthy(base, server, timeout=60)
        key = re.search(r"API key : (\S{32})", log.read_text())
        assert key, log.read_text()
        headers = {"x-api-key": key[1]}
        body = {"image_url": f"{media_url}/face.png", "prompt": "zoom", "resolution": "720p", "video_length": 5}
        created = http.post(CREATE, json=body, headers={**headers, "x-request-id": "req-metrics-1"})
        assert created.headers["x-request-id"] == "req-metrics-1"
        done = created.json()["data"]["_id"]
        failed = http.post(CREATE, json={**body, "prompt": "fail"}, headers=headers).json()["data"]["_id"]
        assert _wait_done(http, headers, done)["status"] == 3
        assert _wait_done(http, headers, failed)["status"] == 4

        # From 127.0.0.1 no token is needed. The tasks ran in the worker process, yet the API's
        # scrape counts them: every process writes to the folder, the scrape merges it.
        samples = parse(http.get("/metrics").text)
        assert total(samples, "reelsmith_tasks_created_total", **PRODUCT) == 2
        assert total(samples, "reelsmith_tasks_completed_total", **PRODUCT) == 1
        assert total(samples, "reelsmith_tasks_failed_total", **PRODUCT) == 1
        assert total(samples, "reelsmith_credits_charged_total", product="image2video") == 2 * PRICE
        assert total(samples, "reelsmith_credits_refunded_total", product="image2video") == PRICE
        assert total(samples, "reelsmith_stage_duration_seconds_count", stage="encode", **PRODUCT) == 1
        assert total(samples, REQUESTS, method="POST", route=CREATE, status="200") == 2
        assert total(samples, "reelsmith_workers_live", engine="image2video") == 1
        parent = psutil.Process(server.pid)
        children = {child.pid for child in parent.children()}
        writers = {int(path.stem.rsplit("_", 1)[1]) for path in (data_dir / "metrics").glob("*.db")}
        assert server.pid in writers and writers & children, (writers, server.pid, children)
        assert not stale.exists()  # serve emptied the folder when it started

        answer = http.get(OVERVIEW, headers=ADMIN).json()
        (seen,) = answer["data"]["workers"]
        assert seen["pid"] in children and seen["running_task"] is None
        assert answer["data"]["tasks_last_day"] == {"created": 2, "completed": 1, "failed": 1}
    finally:
        http.close()
        stop(server)

    # JSON lines: the worker's lines about the task carry the id of the request that created it.
    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert records and all({"time", "level", "logger", "pid", "message"} <= set(r) for r in records)
    from_worker = [r for r in records if r.get("task_id") == done and r["pid"] != server.pid]
    assert from_worker and all(r.get("request_id") == "req-metrics-1" for r in from_worker), from_worker
    assert any(r["pid"] == server.pid and r.get("request_id") == "req-metrics-1" for r in records)


def test_a_host_without_an_api_serves_its_metrics_folder(runtime: Runtime, pro: Team, media_url: str) -> None:
    """Scale-out's worker hosts: `reelsmith worker` serves the host's folder at
    REELSMITH_METRICS_LISTEN, with what it counted while running a task the API created."""
    port = free_port()
    log = runtime.settings.data_dir.parent / "worker.log"
    worker = start(
        runtime.settings.data_dir,
        "worker",
        log=log,
        REELSMITH_ENGINE_PLUGINS=STILL_ENGINE,
        REELSMITH_METRICS_LISTEN=f"127.0.0.1:{port}",
        REELSMITH_BROKER_NAMESPACE=runtime.settings.broker_namespace,
    )
    try:
        task_id = _create(pro, media_url, "slow zoom")
        _wait_for(
            "the worker to run the task", lambda: pro.get(INFO, video_model_id=task_id)["data"]["video_status"] == 3
        )

        def scraped() -> Samples | None:
            try:
                return parse(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text)
            except httpx.HTTPError:
                return None

        samples: Samples = _wait_for("the worker's metrics", scraped)
        assert total(samples, "reelsmith_tasks_completed_total", **PRODUCT) == 1, log.read_text()
        assert total(samples, "reelsmith_stage_duration_seconds_count", stage="encode", **PRODUCT) == 1
        assert total(samples, "reelsmith_tasks_created_total", **PRODUCT) == 0  # the API counted that one
    finally:
        stop(worker)
