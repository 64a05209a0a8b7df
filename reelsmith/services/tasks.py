"""Creating, reading and deleting tasks on behalf of a team."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, update

from reelsmith.broker.publisher import Publisher
from reelsmith.errors import ApiError, Code
from reelsmith.products.common import Product, params_to_json
from reelsmith.services.accounts import Caller
from reelsmith.services.credits import charge_credits, refund_task
from reelsmith.storage.base import Storage, StoredFile
from reelsmith.store.db import Database, rows_changed
from reelsmith.store.ids import is_object_id, new_object_id, now_ms
from reelsmith.store.models import Task, TaskRecord, task_inputs
from reelsmith.telemetry import metrics
from reelsmith.telemetry.logs import current_request_id


@dataclass
class NewTask:
    """A validated, priced request for one task; ``inputs`` are already in storage."""

    product: Product
    params: object  # an instance of the product's params_type
    inputs: dict[str, StoredFile]
    price: int
    webhook_url: str = ""
    batch_id: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    engine: str = ""  # the worker queue that runs it: the chosen model's; default, the product's


_ONE_TASK = select(Task.__table__).where(
    Task.id == bindparam("id"), Task.account_id == bindparam("account_id"), Task.deleted.is_(False)
)


class TaskService:
    def __init__(self, db: Database, storage: Storage, publisher: Publisher) -> None:
        self.db = db
        self.storage = storage
        self.publisher = publisher

    def create(
        self, caller: Caller, new_tasks: list[NewTask], base_url: str = "", created: int | None = None
    ) -> list[TaskRecord]:
        """Charge the total and insert every task in one transaction: all or nothing.
        ``base_url`` is where the client reached us: webhooks link results from there.
        ``created`` is the creation time when the caller already used it (in a file name)."""
        total = sum(item.price for item in new_tasks)
        created = created or now_ms()
        # The creating request's id goes with the task, so that its worker's log lines carry it.
        current = current_request_id()
        request_id = {"request_id": current} if current else {}
        tasks = [
            Task(
                id=new_object_id(),
                account_id=caller.account_id,
                product=item.product.name,
                engine=item.engine or item.product.engine,
                status=1,
                progress=0,
                params={
                    **params_to_json(item.params),
                    "inputs": {k: v.to_json() for k, v in item.inputs.items()},
                    "base_url": base_url,
                    **request_id,
                },
                result=item.result,
                credits_charged=item.price,
                refunded=False,
                webhook_url=item.webhook_url,
                batch_id=item.batch_id,
                deleted=False,
                create_time=created,
                update_time=created,
                attempts=0,
                dispatched_at=created,
            )
            for item in new_tasks
        ]
        try:
            with self.db.write() as session:
                charge_credits(session, caller.account_id, total)
                session.add_all(tasks)
        except ApiError:
            self._discard_inputs(new_tasks)
            raise
        records = [TaskRecord.from_row(task) for task in tasks]
        for record in records:
            metrics.task_created(record.product, record.engine, record.credits_charged)
        self.publisher.publish(records)
        return records

    def _discard_inputs(self, new_tasks: list[NewTask]) -> None:
        for item in new_tasks:
            for stored in item.inputs.values():
                self.storage.delete(stored.key)

    def get(self, caller: Caller, task_id: object, product: str | None = None) -> TaskRecord:
        """A task of the caller's team, or 1008 (also for other teams' tasks)."""
        if not isinstance(task_id, str) or not task_id:
            raise ApiError(Code.PARAMETER, "video_model_id is required")
        task = self._own(caller, [task_id]).get(task_id)
        if task is None or (product is not None and task.product != product):
            raise ApiError(Code.NOT_FOUND, f"the content {task_id} does not exist")
        return task

    def get_many(self, caller: Caller, task_ids: list[str], product: str | None = None) -> list[TaskRecord]:
        """The caller's tasks among ``task_ids``, in the order asked; unknown ids left out."""
        found = self._own(caller, task_ids)
        return [
            found[i] for i in dict.fromkeys(task_ids) if i in found and (product is None or found[i].product == product)
        ]

    def _own(self, caller: Caller, task_ids: list[str]) -> dict[str, TaskRecord]:
        wanted = [i for i in task_ids if is_object_id(i)]
        if not wanted:
            return {}
        if len(wanted) == 1:
            # The poll path: one row by primary key, with a statement compiled once.
            values = self.db.read_raw(_ONE_TASK, {"id": wanted[0], "account_id": caller.account_id})
            return {wanted[0]: TaskRecord.from_raw(values)} if values is not None else {}
        rows = self.db.read_all(
            select(Task.__table__).where(
                Task.id.in_(wanted), Task.account_id == caller.account_id, Task.deleted.is_(False)
            )
        )
        return {row.id: TaskRecord.from_row(row) for row in rows}

    def delete(self, caller: Caller, task_ids: list[str], product: str) -> tuple[list[str], list[dict[str, str]]]:
        """Delete finished tasks and their files; a queued task is cancelled and refunded.
        Returns (deleted ids, [{_id, msg}] for those that could not be deleted)."""
        deleted: list[str] = []
        refused: list[dict[str, str]] = []
        doomed_files: list[str] = []
        with self.db.write() as session:
            for task_id in dict.fromkeys(task_ids):
                task = (
                    session.scalars(
                        select(Task).where(
                            Task.id == task_id,
                            Task.account_id == caller.account_id,
                            Task.product == product,
                            Task.deleted.is_(False),
                        )
                    ).first()
                    if is_object_id(task_id)
                    else None
                )
                if task is None:
                    refused.append({"_id": task_id, "msg": "the content does not exist"})
                    continue
                # Conditional on the status just read: a worker that claimed the task in the
                # meantime (possible on PostgreSQL, where this read takes no lock) wins.
                done = session.execute(
                    update(Task)
                    .where(Task.id == task.id, Task.status == task.status, Task.status != 2, Task.deleted.is_(False))
                    .values(deleted=True, update_time=now_ms())
                )
                if rows_changed(done) != 1:
                    refused.append({"_id": task_id, "msg": "the task is still processing"})
                    continue
                if task.status == 1:
                    refund_task(session, task)
                doomed_files.extend(_file_keys(task))
                deleted.append(task_id)
        for key in doomed_files:
            self.storage.delete(key)
        return deleted, refused


def _file_keys(task: Task | TaskRecord) -> list[str]:
    keys = [value["key"] for value in task_inputs(task.params).values()]
    keys += [value["key"] for value in task.result.get("files", {}).values()]
    return keys
