"""The webhook sender: delivers the outbox, retrying with exponential backoff and jitter.

It runs apart from the workers (its own process in ``serve``, or ``reelsmith webhooks send``),
so a receiver that is slow, hangs or is down never holds back the processing of tasks: a
worker's only part in a delivery is the outbox row it writes with the status change.

A delivery succeeds only on HTTP 200. Anything else (another status, a redirect, a timeout, a
refused connection) is an attempt that failed; the next one comes after
``base x 2^(attempts-1)`` seconds (capped, with jitter) until the retry window is over, when the
delivery is marked dead. A target on a private address is refused at once (dead), under the
same rules as input fetching.

Teams share the sender fairly: each takes at most ``REELSMITH_WEBHOOK_CONCURRENCY_PER_TEAM``
of its slots, and due deliveries are taken round-robin across teams, oldest first within each,
so one team's slow or flooded receivers cannot hold up another's. Every attempt of a delivery
carries the same ``X-Reelsmith-Delivery-Id`` header, which a receiver can use to drop repeats
(an attempt that timed out may still have been processed). A deleted task's pending deliveries
are not sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select, update

from reelsmith.inputs.netguard import BlockedAddress, blocked_cause, guarded_client
from reelsmith.runtime import Runtime
from reelsmith.services.webhooks import seal_payload
from reelsmith.store.db import rows_changed
from reelsmith.store.ids import now_ms
from reelsmith.store.models import Account, Delivery, Task
from reelsmith.telemetry import metrics

log = logging.getLogger("reelsmith.webhooks")

HISTORY_KEPT = 50
DELIVERY_ID_HEADER = "x-reelsmith-delivery-id"


@dataclass(frozen=True)
class Outcome:
    """How one attempt went: ``status_code`` when the receiver answered."""

    status_code: int | None
    error: str | None
    blocked: bool
    elapsed_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code == 200


class WebhookSender:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self._in_flight: set[asyncio.Task[None]] = set()
        self._in_flight_by_team: dict[int, int] = {}

    # --- the outbox ----------------------------------------------------------------------------

    def _due_fairly(self, limit: int, now: int) -> list[int]:
        """Up to ``limit`` due deliveries: round-robin across teams (each team's oldest first),
        no team above its share of the slots counting what it already has in flight."""
        per_team = self.settings.webhook_concurrency_per_team
        rank = (
            func.row_number()
            .over(partition_by=Delivery.account_id, order_by=(Delivery.next_attempt_at, Delivery.id))
            .label("rank")
        )
        due = (
            select(Delivery.id, Delivery.account_id, rank)
            .join(Task, Task.id == Delivery.task_id)
            .where(Delivery.state == "pending", Delivery.next_attempt_at <= now, Task.deleted.is_(False))
            .subquery()
        )
        with self.runtime.db.read() as session:
            rows = session.execute(
                select(due.c.id, due.c.account_id)
                .where(due.c.rank <= per_team)
                .order_by(due.c.rank, due.c.id)
                .limit(limit + per_team * max(1, len(self._in_flight_by_team)))
            ).all()
        chosen: list[int] = []
        taken: dict[int, int] = {}
        for delivery_id, account_id in rows:
            count = self._in_flight_by_team.get(account_id, 0) + taken.get(account_id, 0)
            if count < per_team and len(chosen) < limit:
                chosen.append(delivery_id)
                taken[account_id] = taken.get(account_id, 0) + 1
        return chosen

    def _claim_due(self, limit: int) -> list[Delivery]:
        """Due pending deliveries, fairly across teams, each claimed (its due time pushed past
        this attempt's deadline) so that another sender does not send it at the same time."""
        now = now_ms()
        claim_until = now + int((self.settings.webhook_timeout_seconds + 30) * 1000)
        self._give_up_on_deleted_tasks(now)
        due = self._due_fairly(limit, now)
        claimed = []
        for delivery_id in due:
            with self.runtime.db.write() as session:
                done = session.execute(
                    update(Delivery)
                    .where(Delivery.id == delivery_id, Delivery.state == "pending", Delivery.next_attempt_at <= now)
                    .values(next_attempt_at=claim_until)
                )
                if rows_changed(done) == 1:
                    claimed.append(session.get(Delivery, delivery_id))
        return [delivery for delivery in claimed if delivery is not None]

    def _give_up_on_deleted_tasks(self, now: int) -> None:
        """A deleted task's pending deliveries end (dead): its results are gone."""
        deleted = select(Task.id).where(Task.deleted.is_(True))
        with self.runtime.db.write() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.state == "pending", Delivery.next_attempt_at <= now, Delivery.task_id.in_(deleted))
                .values(state="dead", last_error="the task was deleted", updated_at=now)
            )

    def _credentials(self, account_id: int) -> tuple[str, str]:
        with self.runtime.db.read() as session:
            account = session.get(Account, account_id)
            assert account is not None
            return account.client_id, self.runtime.accounts.api_key_of(account)

    def _record(self, delivery: Delivery, outcome: Outcome) -> None:
        now = now_ms()
        attempts = delivery.attempts + 1
        entry = {"at": now, "status_code": outcome.status_code, "error": outcome.error, "ms": outcome.elapsed_ms}
        values: dict[str, Any] = {
            "attempts": attempts,
            "updated_at": now,
            "last_status": outcome.status_code,
            "last_error": outcome.error,
            "history": [*delivery.history, entry][-HISTORY_KEPT:],
        }
        window_ends = delivery.created_at + int(self.settings.webhook_retry_window_hours * 3_600_000)
        counted: metrics.WebhookOutcome
        if outcome.delivered:
            values.update(state="delivered", delivered_at=now)
            counted = "delivered"
        elif outcome.blocked:
            values.update(state="dead")
            counted = "dead"
        else:
            next_at = now + int(self.backoff_seconds(attempts) * 1000)
            counted = "dead" if next_at > window_ends else "retrying"
            values.update(state="dead") if counted == "dead" else values.update(next_attempt_at=next_at)
        with self.runtime.db.write() as session:
            session.execute(update(Delivery).where(Delivery.id == delivery.id).values(**values))
        metrics.webhook_attempted(counted, outcome.elapsed_ms / 1000)

    def backoff_seconds(self, attempts: int) -> float:
        """Exponential, capped, with jitter (half to the full delay) so that many deliveries
        failing together do not all come back at the same moment."""
        delay = min(
            self.settings.webhook_retry_max_seconds,
            self.settings.webhook_retry_base_seconds * 2 ** (attempts - 1),
        )
        return delay * random.uniform(0.5, 1.0)

    # --- sending -------------------------------------------------------------------------------

    async def _attempt(self, client: httpx.AsyncClient, delivery: Delivery) -> Outcome:
        client_id, api_key = await asyncio.to_thread(self._credentials, delivery.account_id)
        body = json.dumps(seal_payload(delivery.payload, client_id, api_key)).encode()
        started = time.monotonic()

        def outcome(status: int | None, error: str | None, blocked: bool = False) -> Outcome:
            return Outcome(status, error, blocked, int((time.monotonic() - started) * 1000))

        try:
            headers = {"content-type": "application/json", DELIVERY_ID_HEADER: str(delivery.id)}
            response = await client.post(delivery.url, content=body, headers=headers)
        except httpx.TimeoutException:
            return outcome(None, f"no answer within {self.settings.webhook_timeout_seconds:g} s")
        except (BlockedAddress, httpx.HTTPError, OSError) as exc:
            blocked = blocked_cause(exc)
            if blocked is not None:
                return outcome(None, f"refused: {blocked}; set REELSMITH_ALLOW_NETWORKS to allow it", blocked=True)
            return outcome(None, f"could not connect: {exc.__class__.__name__}: {exc}")
        if response.is_redirect:
            return outcome(response.status_code, f"answered a redirect to {response.headers.get('location', '')!r}")
        if response.status_code != 200:
            return outcome(response.status_code, f"answered HTTP {response.status_code}")
        return outcome(200, None)

    async def _deliver(self, client: httpx.AsyncClient, delivery: Delivery) -> None:
        try:
            result = await self._attempt(client, delivery)
        except Exception as exc:  # a bug here must not kill the sender; the attempt counts
            log.exception("delivery %s failed unexpectedly", delivery.id)
            result = Outcome(None, f"internal error: {exc}", False, 0)
        await asyncio.to_thread(self._record, delivery, result)
        log.info("delivery %s of task %s to %s: %s", delivery.id, delivery.task_id, delivery.url, result.error or "200")

    async def run_once(self, client: httpx.AsyncClient) -> int:
        """Start the due deliveries that fit in the free slots; returns how many started."""
        free = self.settings.webhook_concurrency - len(self._in_flight)
        if free <= 0:
            return 0
        deliveries = await asyncio.to_thread(self._claim_due, free)
        for delivery in deliveries:
            team = delivery.account_id
            self._in_flight_by_team[team] = self._in_flight_by_team.get(team, 0) + 1
            task = asyncio.create_task(self._deliver(client, delivery))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
            task.add_done_callback(lambda _, team=team: self._release(team))  # type: ignore[misc]
        return len(deliveries)

    def _release(self, team: int) -> None:
        left = self._in_flight_by_team.get(team, 1) - 1
        if left > 0:
            self._in_flight_by_team[team] = left
        else:
            self._in_flight_by_team.pop(team, None)

    async def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set, then let the attempts in flight finish."""
        async with guarded_client(self.settings, timeout=self.settings.webhook_timeout_seconds) as client:
            while not stop.is_set():
                try:
                    started = await self.run_once(client)
                except Exception:
                    log.exception("webhook sender could not read the outbox")
                    started = 0
                if not started:
                    await asyncio.sleep(self.settings.webhook_poll_seconds)
            if self._in_flight:
                await asyncio.wait(self._in_flight)

    async def drain(self, until: float) -> None:
        """Deliver until nothing is pending or in flight, or ``until`` (monotonic) passes
        (for tests and one-off runs)."""
        async with guarded_client(self.settings, timeout=self.settings.webhook_timeout_seconds) as client:
            while time.monotonic() < until:
                await self.run_once(client)
                if not self._in_flight and not await asyncio.to_thread(self._pending):
                    return
                await asyncio.sleep(0.02)

    def _pending(self) -> bool:
        with self.runtime.db.read() as session:
            return session.scalars(select(Delivery.id).where(Delivery.state == "pending").limit(1)).first() is not None


def sender_loop(runtime: Runtime, stop: threading.Event) -> None:
    """The sender as a blocking call (for its own process)."""
    asyncio.run(WebhookSender(runtime).run(stop))
