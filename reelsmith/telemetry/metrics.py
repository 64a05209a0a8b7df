"""Prometheus metrics: what each reelsmith process counts, and how a scrape reads them.

The embedded server is several processes (the API, its workers, the webhook sender), so
prometheus_client runs in its multiprocess mode there: each process writes its samples to files
of its own in one folder (:func:`use_folder`, ``REELSMITH_METRICS_DIR``) and a scrape merges the
folder. A process that was given no folder (a test, a one-off command) keeps its metrics in
memory and a scrape of it reports only its own.

Labels are bounded by the code, never by clients: route templates (not paths), products,
engines, stage names, outcomes. No task id, team or key is ever a label.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
    start_http_server,
    values,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

log = logging.getLogger("reelsmith.metrics")

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# A process whose exporter address is taken (another process of the host serves the same
# folder) tries again this often, so that one of them takes over when that one ends.
EXPORTER_RETRY_SECONDS = 30.0

WebhookOutcome = Literal["delivered", "retrying", "dead"]

_HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_TASK_BUCKETS = (1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0)
_STAGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
_WEBHOOK_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Methods a client may send are unbounded; anything else is counted as OTHER.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# The in-memory home of this process's metrics when it writes no folder; with a folder, the
# values live in the folder's files and this registry is never read.
_PROCESS_REGISTRY = CollectorRegistry(auto_describe=True)
# ``*_created`` series double every counter's series and mean nothing to our dashboards (the
# multiprocess mode has none either, so both modes expose the same names).
disable_created_metrics()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class _Metrics:
    requests: Histogram
    tasks_created: Counter
    tasks_completed: Counter
    tasks_failed: Counter
    task_seconds: Histogram
    stage_seconds: Histogram
    credits_charged: Counter
    credits_refunded: Counter
    webhook_attempts: Counter
    webhook_seconds: Histogram


@cache
def _metrics() -> _Metrics:
    """The metrics, made on first use: after :func:`use_folder` has chosen where they live."""
    registry = _PROCESS_REGISTRY
    return _Metrics(
        # One histogram, whose _count is the request counter: a request costs one observation,
        # which the poll path (most of the traffic) feels.
        requests=Histogram(
            "reelsmith_http_request_duration_seconds",
            "HTTP requests answered, by method, route template and status code, and the time from each "
            "one's arrival to the last byte of its answer.",
            ["method", "route", "status"],
            buckets=_HTTP_BUCKETS,
            registry=registry,
        ),
        tasks_created=Counter(
            "reelsmith_tasks_created", "Tasks created (charged and queued).", ["product", "engine"], registry=registry
        ),
        tasks_completed=Counter(
            "reelsmith_tasks_completed",
            "Tasks that ended with a result (status 3).",
            ["product", "engine"],
            registry=registry,
        ),
        tasks_failed=Counter(
            "reelsmith_tasks_failed",
            "Tasks that failed (status 4, refunded).",
            ["product", "engine"],
            registry=registry,
        ),
        task_seconds=Histogram(
            "reelsmith_task_duration_seconds",
            "Time from a task's creation to its result (queue wait included), for completed tasks.",
            ["product", "engine"],
            buckets=_TASK_BUCKETS,
            registry=registry,
        ),
        stage_seconds=Histogram(
            "reelsmith_stage_duration_seconds",
            "Wall time of each pipeline stage of a completed task.",
            ["product", "engine", "stage"],
            buckets=_STAGE_BUCKETS,
            registry=registry,
        ),
        credits_charged=Counter(
            "reelsmith_credits_charged", "Credits charged when tasks were created.", ["product"], registry=registry
        ),
        credits_refunded=Counter(
            "reelsmith_credits_refunded",
            "Credits given back (failed tasks, deleted queued tasks).",
            ["product"],
            registry=registry,
        ),
        webhook_attempts=Counter(
            "reelsmith_webhook_attempts",
            "Webhook delivery attempts, by what they led to: delivered, retrying (failed, tried again later) "
            "or dead (failed for good: retry window over, or a refused address).",
            ["outcome"],
            registry=registry,
        ),
        webhook_seconds=Histogram(
            "reelsmith_webhook_attempt_duration_seconds",
            "Time one webhook delivery attempt took.",
            buckets=_WEBHOOK_BUCKETS,
            registry=registry,
        ),
    )


# --- where the metrics live ----------------------------------------------------------------------


def use_folder(folder: Path, *, clean: bool) -> None:
    """Keep this process's metrics, and those of the processes it starts afterwards (they
    inherit the environment), in ``folder``, where a scrape of any of them finds all of them.
    ``clean`` empties it first: only a command that owns every process writing there (``serve``)
    may, since a live process's files would go with it."""
    if _metrics.cache_info().currsize:
        raise RuntimeError("metrics were counted before their folder was chosen")
    if clean:
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROCESS_ENV] = str(folder)
    # prometheus_client chooses where values live (memory or the folder) from the environment
    # when it is first imported, which in this process was before the folder was known.
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def folder_in_use() -> Path | None:
    """The folder this process writes its metrics to, if any."""
    folder = os.environ.get(MULTIPROCESS_ENV)
    return Path(folder) if folder else None


def process_exited(pid: int) -> None:
    """Bookkeeping for a child that wrote to the folder and ended (prometheus_client drops its
    live gauges; its counters stay, so that sums never go backwards)."""
    folder = folder_in_use()
    if folder is not None:
        multiprocess.mark_process_dead(pid, str(folder))  # type: ignore[no-untyped-call]


class _Forward:
    """Another registry's metrics, as one collector of a scrape's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterable[Metric]:
        return self._registry.collect()


def _scrape_registry(extra: Iterable[Collector]) -> CollectorRegistry:
    registry = CollectorRegistry()
    folder = folder_in_use()
    if folder is not None:
        multiprocess.MultiProcessCollector(registry, str(folder))  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward(_PROCESS_REGISTRY))
    for collector in extra:
        registry.register(collector)
    return registry


def exposition(extra: Iterable[Collector] = ()) -> bytes:
    """Every process's metrics (this one's alone without a folder) and ``extra``'s, in
    Prometheus' text format (:data:`CONTENT_TYPE`)."""
    return generate_latest(_scrape_registry(extra))


def start_exporter(listen: str) -> threading.Thread:
    """Serve the folder's metrics at ``http://<listen>/metrics`` (``host:port``) from a
    background thread, for hosts that run workers but no API. Every process of such a host may
    ask: the first to bind the address serves the whole folder, the others keep trying, so one
    takes over when it ends."""
    host, _, port = listen.rpartition(":")

    def serve() -> None:
        while True:
            try:
                start_http_server(int(port), host or "0.0.0.0", registry=_scrape_registry(()))
            except OSError:
                time.sleep(EXPORTER_RETRY_SECONDS)
                continue
            log.info("serving this host's metrics at http://%s/metrics", listen)
            return

    thread = threading.Thread(target=serve, name="metrics-exporter", daemon=True)
    thread.start()
    return thread


# --- counting --------------------------------------------------------------------------------------

_request_children: dict[tuple[str, str, int], Histogram] = {}


def request_served(method: str, route: str, status: int, seconds: float) -> None:
    """One HTTP request answered. ``route`` is its route template, never its raw path."""
    key = (method, route, status)
    child = _request_children.get(key)
    if child is None:
        label = method if method in _METHODS else "OTHER"
        child = _request_children[key] = _metrics().requests.labels(label, route, str(status) if status else "none")
    child.observe(seconds)


def task_created(product: str, engine: str, credits: int) -> None:
    """A task was created and charged ``credits``."""
    metrics = _metrics()
    metrics.tasks_created.labels(product, engine).inc()
    if credits > 0:
        metrics.credits_charged.labels(product).inc(credits)


def task_completed(product: str, engine: str, seconds: float) -> None:
    """A task ended with its result, ``seconds`` after it was created."""
    metrics = _metrics()
    metrics.tasks_completed.labels(product, engine).inc()
    metrics.task_seconds.labels(product, engine).observe(max(0.0, seconds))


def task_failed(product: str, engine: str) -> None:
    """A task failed (its refund is counted by :func:`credits_refunded`)."""
    _metrics().tasks_failed.labels(product, engine).inc()


def credits_refunded(product: str, credits: int) -> None:
    """``credits`` went back to a team for a task of ``product``."""
    if credits > 0:
        _metrics().credits_refunded.labels(product).inc(credits)


def stages_timed(product: str, engine: str, seconds: Mapping[str, float]) -> None:
    """The wall time of each stage a task's pipeline went through."""
    histogram = _metrics().stage_seconds
    for stage, spent in seconds.items():
        histogram.labels(product, engine, stage).observe(spent)


def webhook_attempted(outcome: WebhookOutcome, seconds: float) -> None:
    """One webhook delivery attempt, and what it led to."""
    metrics = _metrics()
    metrics.webhook_attempts.labels(outcome).inc()
    metrics.webhook_seconds.observe(seconds)
