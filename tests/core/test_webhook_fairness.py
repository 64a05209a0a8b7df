"""Webhooks on a bad day (issue 17): one team's flood of slow deliveries does not hold up another
team's, every attempt of a delivery carries one id a receiver can drop repeats by, and a deleted
task's deliveries can be neither redelivered nor sent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelsmith.dispatch.webhook_sender import WebhookSender
from reelsmith.runtime import Runtime
from reelsmith.services.webhooks import pending_delivery
from reelsmith.settings import Settings
from reelsmith.store.ids import now_ms
from reelsmith.store.models import Delivery
from tests.conftest import Team, make_settings, run_pending
from tests.support.engines.still_video import STILL_ENGINE
from tests.support.receiver import Receiver

CREATE = "/api/open/v4/image2Video/createBySourcePrompt"
DELETE = "/api/open/v4/image2Video/delbyids"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path / "data",
        engine_plugins={"image2video": STILL_ENGINE.split("=", 1)[1]},
        webhook_retry_base_seconds=0.05,
        webhook_retry_max_seconds=0.1,
        webhook_timeout_seconds=1,
        webhook_poll_seconds=0.02,
        webhook_concurrency=8,
        webhook_concurrency_per_team=2,
    )


@pytest.fixture
def slow() -> Iterator[Receiver]:
    receiver = Receiver(hang_seconds=1.5).start()  # longer than the 1 s timeout
    yield receiver
    receiver.stop()


@pytest.fixture
def fast() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def _task(team: Team, media_url: str, webhook: str) -> str:
    body = {"image_url": f"{media_url}/face.png", "prompt": "zoom in", "webhookUrl": webhook}
    answer = team.post(CREATE, body)
    assert answer["code"] == 1000, answer
    return answer["data"]["_id"]  # type: ignore[no-any-return]


def _deliveries(runtime: Runtime, task_id: str) -> list[Delivery]:
    with runtime.db.read() as session:
        return list(session.query(Delivery).filter(Delivery.task_id == task_id).order_by(Delivery.id))


def _flood(runtime: Runtime, task_id: str, count: int) -> None:
    """``count`` more deliveries of the task's first one, due now (as redeliveries make them)."""
    [first] = _deliveries(runtime, task_id)
    with runtime.db.write() as session:
        for _ in range(count):
            session.add(pending_delivery(task_id, first.account_id, first.url, first.event, first.payload))


def test_one_teams_flood_of_slow_deliveries_does_not_hold_up_another_team(
    runtime: Runtime, make_team, media_url: str, slow: Receiver, fast: Receiver
) -> None:  # type: ignore[no-untyped-def]
    flooder, other = make_team(), make_team()
    flooded = _task(flooder, media_url, slow.url)
    run_pending(runtime)
    _flood(runtime, flooded, 40)  # 41 deliveries that each take the whole 1 s timeout
    waiting = _task(other, media_url, fast.url)
    run_pending(runtime)
    started = now_ms()
    asyncio.run(WebhookSender(runtime).drain(until=time.monotonic() + 3))
    [delivery] = _deliveries(runtime, waiting)
    assert delivery.state == "delivered", delivery.history
    # Without fairness the other team waits behind 41 one-second attempts, 8 at a time (5 s).
    assert (delivery.delivered_at or 0) - started < 1000
    assert sum(d.state == "pending" for d in _deliveries(runtime, flooded)) > 20  # the flood is still going


def test_every_attempt_of_a_delivery_carries_the_same_id(runtime: Runtime, pro: Team, media_url: str) -> None:
    receiver = Receiver(hang_seconds=1.2).start()  # each attempt times out, yet the receiver gets it
    try:
        task_id = _task(pro, media_url, receiver.url)
        run_pending(runtime)
        asyncio.run(WebhookSender(runtime).drain(until=time.monotonic() + 3.5))
    finally:
        receiver.stop()
    [delivery] = _deliveries(runtime, task_id)
    ids = [headers.get("x-reelsmith-delivery-id") for headers in receiver.received_headers]
    assert len(ids) >= 2 and set(ids) == {str(delivery.id)}


def test_a_deleted_tasks_deliveries_are_neither_redelivered_nor_sent(
    runtime: Runtime, pro: Team, media_url: str, fast: Receiver
) -> None:
    task_id = _task(pro, media_url, fast.url)
    run_pending(runtime)
    asyncio.run(WebhookSender(runtime).drain(until=time.monotonic() + 5))
    [delivered] = _deliveries(runtime, task_id)
    _flood(runtime, task_id, 1)  # a redelivery asked for just before the delete
    assert pro.post(DELETE, {"_ids": task_id})["data"]["successIds"] == [task_id]
    answer = pro.post(f"/api/reelsmith/v1/deliveries/{delivered.id}/redeliver")
    assert answer["code"] == 1008, answer
    asyncio.run(WebhookSender(runtime).drain(until=time.monotonic() + 2))
    assert len(fast.received) == 1
    [_, pending] = _deliveries(runtime, task_id)
    assert pending.state == "dead" and pending.last_error == "the task was deleted"
