"""``GET /metrics``: every process's counters (docs/metrics.md), and gauges read from the task
and workers tables at scrape time (queue depth, oldest queued age, tasks running, live workers).

Who may scrape: with ``REELSMITH_METRICS_TOKEN`` set, whoever sends it as a bearer token;
without it, loopback clients only (a Prometheus or an agent on the same host), since the numbers
say how much business the server does.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from reelsmith.api.auth import RuntimeDep
from reelsmith.services.operations import Operations
from reelsmith.telemetry import metrics

log = logging.getLogger("reelsmith.api")

METRICS_PATH = "/metrics"

router = APIRouter()


class OperationsCollector:
    """The gauges a scrape reads from the database, whichever process ran the tasks."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("reelsmith_database_up", "Whether this scrape could read the task table (1) or not (0).")
        try:
            queues = self.operations.queues()
            workers = self.operations.live_workers_by_engine()
        except Exception:
            log.exception("metrics: could not read the task table")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        depth = GaugeMetricFamily("reelsmith_queue_depth", "Tasks waiting for a worker, per engine.", labels=["engine"])
        running = GaugeMetricFamily("reelsmith_tasks_running", "Tasks being run, per engine.", labels=["engine"])
        oldest = GaugeMetricFamily(
            "reelsmith_queue_oldest_age_seconds",
            "How long the oldest waiting task of an engine has waited (0 when none waits).",
            labels=["engine"],
        )
        for queue in queues:
            depth.add_metric([queue.engine], queue.queued)
            running.add_metric([queue.engine], queue.running)
            oldest.add_metric([queue.engine], queue.oldest_queued_seconds or 0.0)
        live = GaugeMetricFamily(
            "reelsmith_workers_live", "Workers that reported in lately, per engine they run.", labels=["engine"]
        )
        for engine, count in sorted(workers.items()):
            live.add_metric([engine], count)
        yield from (depth, running, oldest, live)


def _may_scrape(request: Request, token: str | None, authorization: str | None) -> Response | None:
    """None when the scrape is allowed, else the refusal."""
    if token:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return None
        return PlainTextResponse(
            "send Authorization: Bearer <REELSMITH_METRICS_TOKEN>\n",
            status_code=401,
            headers={"www-authenticate": "Bearer"},
        )
    host = request.client.host if request.client else ""
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    return PlainTextResponse("metrics are served to loopback clients only; set REELSMITH_METRICS_TOKEN\n", 403)


@router.get(METRICS_PATH, include_in_schema=False)
async def scrape(
    request: Request, runtime: RuntimeDep, authorization: Annotated[str | None, Header()] = None
) -> Response:
    refused = _may_scrape(request, runtime.settings.metrics_token, authorization)
    if refused is not None:
        return refused
    body = await asyncio.to_thread(metrics.exposition, [OperationsCollector(runtime.operations)])
    return Response(body, media_type=metrics.CONTENT_TYPE)
