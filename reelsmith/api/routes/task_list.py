"""A team's own tasks, newest first (a reelsmith extension: Akool lists none), for the web
console's task list and for any client that lost its ids. Each row carries the few fields a
list shows and the task as ``infobymodelid`` shows it (``info``), so that a client reads one
shape per product whichever endpoint it came from."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from reelsmith.api.auth import PollerDep, RuntimeDep
from reelsmith.api.envelope import ok
from reelsmith.api.presenters import Presenter, presenter_for
from reelsmith.products import UnknownProduct, product_named
from reelsmith.products.common import credit_of
from reelsmith.services.task_list import MAX_PAGE_SIZE, list_tasks
from reelsmith.store.models import TaskRecord

TASKS_PATH = "/api/reelsmith/v1/tasks"

router = APIRouter(tags=["reelsmith extensions"])


def task_row(presenter: Presenter, task: TaskRecord) -> dict[str, Any]:
    """One task as the list shows it: status (Akool's 1-4), progress, cost, the result files as
    signed links once done, the failure reason once failed, and its ``infobymodelid`` view."""
    row: dict[str, Any] = {
        "_id": task.id,
        "product": task.product,
        "status": task.status,
        "progress": task.progress,
        "deduction_credit": credit_of(task),
        "create_time": task.create_time,
        "update_time": task.update_time,
        "model_name": str(task.params.get("model_name") or ""),
        "results": {name: presenter.link(task, name) for name in task.result.get("files", {})}
        if task.status == 3
        else {},
    }
    if task.status == 4:
        row["error_reason"] = task.fail_reason or ""
    try:
        product = product_named(task.product)
    except UnknownProduct:
        # A task of a product this server does not have is still listed (its owner paid for it),
        # only without a product's view.
        row.update(title=task.product, info=None)
        return row
    row.update(title=product.title, info=product.info(task, presenter.owner, presenter.link))
    return row


@router.get(
    TASKS_PATH,
    summary="Your team's tasks, newest first (every product)",
    description="Each row: `_id`, `product`, `title`, `status` (1 queued, 2 processing, 3 done, 4 failed), "
    "`progress`, `deduction_credit`, `create_time`, `update_time`, `model_name`, `results` (signed links to "
    "the result files, once done), `error_reason` (once failed) and `info`, the task as `infobymodelid` "
    "shows it. `count` is how many tasks the team has in all.",
)
async def list_own_tasks(
    request: Request,
    caller: PollerDep,
    runtime: RuntimeDep,
    page: Annotated[int, Query(ge=1, description="From 1")] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Tasks per page")] = 20,
) -> JSONResponse:
    found = await asyncio.to_thread(list_tasks, runtime.db, caller, page, size)
    presenter = presenter_for(runtime, request, caller)
    return ok(
        {
            "result": [task_row(presenter, task) for task in found.tasks],
            "count": found.total,
            "page": found.page,
            "size": found.size,
        }
    )
