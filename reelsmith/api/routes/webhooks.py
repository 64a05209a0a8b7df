"""Webhook deliveries of a team's tasks (API.md section 7): see every attempt, redeliver."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from reelsmith.api.auth import CallerDep, RedelivererDep, RuntimeDep
from reelsmith.api.envelope import ok
from reelsmith.services.webhooks import describe_delivery

router = APIRouter(prefix="/api/reelsmith/v1", tags=["reelsmith extensions"])


@router.get("/tasks/{task_id}/deliveries", summary="A task's webhook deliveries, with every attempt")
async def task_deliveries(task_id: str, caller: CallerDep, runtime: RuntimeDep) -> JSONResponse:
    deliveries = await asyncio.to_thread(runtime.deliveries.for_task, caller, task_id)
    return ok({"result": [describe_delivery(d) for d in deliveries], "count": len(deliveries)})


@router.post("/deliveries/{delivery_id}/redeliver", summary="Send a delivery again (a new delivery, due now)")
async def redeliver(delivery_id: int, caller: RedelivererDep, runtime: RuntimeDep) -> JSONResponse:
    delivery = await asyncio.to_thread(runtime.deliveries.redeliver, caller, delivery_id)
    return ok(describe_delivery(delivery))
