"""The admin HTTP API (API.md section 7): the command line's account operations, for operators
who manage teams from their own tools. Off unless ``REELSMITH_ADMIN_TOKEN`` is set; the token
goes in ``Authorization: Bearer <token>``."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from reelsmith.api.auth import RuntimeDep
from reelsmith.api.envelope import ok
from reelsmith.errors import ApiError, Code
from reelsmith.services.accounts import describe_account

PREFIX = "/api/reelsmith/v1/admin/accounts"


async def require_admin(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer <REELSMITH_ADMIN_TOKEN>")] = None,
) -> None:
    expected = request.app.state.runtime.settings.admin_token
    if not expected:
        raise ApiError(Code.NO_PERMISSION, "the admin API is disabled: set REELSMITH_ADMIN_TOKEN to enable it")
    if not authorization:
        raise ApiError(Code.NO_AUTH, "authorization cannot be empty: send Authorization: Bearer <admin token>")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise ApiError(Code.BAD_AUTH, "invalid admin token")


router = APIRouter(prefix=PREFIX, tags=["reelsmith admin"], dependencies=[Depends(require_admin)])


class NewAccount(BaseModel):
    name: str = ""
    plan: str = Field(default="free", description="free or pro")
    credits: int = Field(default=0, ge=0)


class CreditChange(BaseModel):
    credits: int = Field(description="Credits to add; negative removes (the balance stays >= 0)")


class PlanChange(BaseModel):
    plan: str = Field(description="free or pro")


async def _admin_call(action: Callable[[], Any]) -> Any:
    try:
        return await asyncio.to_thread(action)
    except LookupError as exc:
        raise ApiError(Code.NOT_FOUND, str(exc).strip("'\"")) from exc
    except ValueError as exc:
        raise ApiError(Code.PARAMETER, str(exc)) from exc


@router.post("", summary="Create a team; the answer holds its API key, shown only now")
async def create_account(body: NewAccount, runtime: RuntimeDep) -> JSONResponse:
    account, creds = await _admin_call(lambda: runtime.accounts.create(body.name, body.plan, body.credits))
    return ok({**describe_account(account), "apiKey": creds.api_key})


@router.get("", summary="Every team")
async def list_accounts(runtime: RuntimeDep) -> JSONResponse:
    accounts = await _admin_call(runtime.accounts.list)
    return ok({"result": [describe_account(a) for a in accounts], "count": len(accounts)})


@router.get("/{ref}", summary="One team, by clientId, team_id or uid")
async def show_account(ref: str, runtime: RuntimeDep) -> JSONResponse:
    return ok(describe_account(await _admin_call(lambda: runtime.accounts.find(ref))))


@router.post("/{ref}/ban", summary="Refuse every request of a team (code 1200)")
async def ban(ref: str, runtime: RuntimeDep) -> JSONResponse:
    return ok(describe_account(await _admin_call(lambda: runtime.accounts.set_banned(ref, True))))


@router.post("/{ref}/unban", summary="Let a banned team in again")
async def unban(ref: str, runtime: RuntimeDep) -> JSONResponse:
    return ok(describe_account(await _admin_call(lambda: runtime.accounts.set_banned(ref, False))))


@router.post("/{ref}/topup", summary="Add or remove credits")
async def topup(ref: str, body: CreditChange, runtime: RuntimeDep) -> JSONResponse:
    return ok(describe_account(await _admin_call(lambda: runtime.accounts.top_up(ref, body.credits))))


@router.post("/{ref}/plan", summary="Move a team to the free or pro plan")
async def set_plan(ref: str, body: PlanChange, runtime: RuntimeDep) -> JSONResponse:
    return ok(describe_account(await _admin_call(lambda: runtime.accounts.set_plan(ref, body.plan))))


@router.post("/{ref}/rotate-key", summary="A new API key; the old key and its tokens stop working")
async def rotate_key(ref: str, runtime: RuntimeDep) -> JSONResponse:
    creds = await _admin_call(lambda: runtime.accounts.rotate_key(ref))
    return ok({"clientId": creds.client_id, "apiKey": creds.api_key})


# --- the operator's overview (docs/metrics.md) ---------------------------------------------------

OVERVIEW_PATH = "/api/reelsmith/v1/admin/overview"

operations_router = APIRouter(tags=["reelsmith admin"], dependencies=[Depends(require_admin)])


class _View(BaseModel):
    """Read from the service's dataclasses (services/operations.py)."""

    model_config = ConfigDict(from_attributes=True)


class QueueView(_View):
    engine: str
    queued: int
    running: int
    oldest_queued_seconds: float | None


class WorkerView(_View):
    id: str
    host: str
    pid: int
    engines: list[str]
    running_task: str | None
    last_seen_seconds: float


class FailureView(_View):
    reason: str
    count: int
    product: str


class CreditsView(_View):
    charged_last_day: int
    refunded_last_day: int
    charged_total: int
    refunded_total: int


class TasksView(_View):
    created: int
    completed: int
    failed: int


class OverviewView(_View):
    """What the operator's console shows: its shape is the console's contract."""

    queues: list[QueueView]
    workers: list[WorkerView]
    failures_last_day: list[FailureView]
    credits: CreditsView
    tasks_last_day: TasksView


@operations_router.get(
    OVERVIEW_PATH,
    summary="Queues per engine, live workers and their tasks, the last day's failures, credits and tasks",
)
async def overview(runtime: RuntimeDep) -> JSONResponse:
    found = await asyncio.to_thread(runtime.operations.overview)
    return ok(OverviewView.model_validate(found).model_dump(mode="json"))
