"""Charging and refunding, inside the caller's transaction so a task and its charge are one."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from reelsmith.errors import ApiError, Code
from reelsmith.store.db import on_commit, rows_changed
from reelsmith.store.models import Account, Task
from reelsmith.telemetry import metrics


def charge_credits(session: Session, account_id: int, amount: int) -> None:
    """Take ``amount`` credits or raise 1104; a single conditional UPDATE, so concurrent
    charges can never take the balance below zero."""
    if amount <= 0:
        return
    done = session.execute(
        update(Account).where(Account.id == account_id, Account.credit >= amount).values(credit=Account.credit - amount)
    )
    if rows_changed(done) != 1:
        raise ApiError(Code.NO_CREDITS, f"insufficient credits: this request costs {amount}")


def refund_task(session: Session, task: Task) -> None:
    """Give a task's credits back, once: the ``refunded`` flag is flipped in the same UPDATE."""
    if task.credits_charged <= 0:
        return
    done = session.execute(update(Task).where(Task.id == task.id, Task.refunded.is_(False)).values(refunded=True))
    if rows_changed(done) == 1:
        session.execute(
            update(Account).where(Account.id == task.account_id).values(credit=Account.credit + task.credits_charged)
        )
        product, credits = task.product, task.credits_charged
        on_commit(session, lambda: metrics.credits_refunded(product, credits))
