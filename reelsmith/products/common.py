"""What every product module shares: the rules of Akool's request fields (numbers that may come
as strings, one-of choices, lengths), typed JSON for what a task stores, the owner and file links
a presenter needs, prices in started 5-second blocks, and :class:`Product`, the one record that
says what a product is to the rest of the server."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from reelsmith.store.models import TaskRecord

JsonValue: TypeAlias = "str | int | float | bool | None | list[JsonValue] | dict[str, JsonValue]"
JsonObject: TypeAlias = "dict[str, JsonValue]"

PROMPT_MAX = 500

# --- request fields ---------------------------------------------------------------------------

_PLAIN_NUMBER = re.compile(r"^\s*-?[0-9]+(\.[0-9]+)?\s*$")
_PLAIN_INTEGER = re.compile(r"^\s*-?[0-9]+\s*$")


class Body(BaseModel):
    """A request body as Akool's clients send it: unknown fields are ignored (they send fields
    we do not use, such as ``merge_interval``)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def plain_number(value: Any) -> Any:
    """Numbers may come as JSON numbers or numeric strings ("3.5"), never as booleans or
    Python-only spellings like "1_0"."""
    if isinstance(value, bool) or (isinstance(value, str) and not _PLAIN_NUMBER.match(value)):
        raise ValueError("must be a number")
    return value


def plain_integer(value: Any) -> Any:
    """As :func:`plain_number`, for whole numbers ("2" as a string is fine, as Akool's clients
    send ``audio_type``)."""
    if isinstance(value, bool) or (isinstance(value, str) and not _PLAIN_INTEGER.match(value)):
        raise ValueError("must be an integer")
    return value


def one_of(value: Any, choices: tuple[Any, ...]) -> Any:
    if value not in choices:
        raise ValueError("must be one of " + ", ".join(str(c) for c in choices))
    return value


def required_text(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise ValueError("must not be empty")
    return value


def at_most(limit: int) -> Callable[[Any], Any]:
    """A validator: a string of at most ``limit`` characters."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and len(value) > limit:
            raise ValueError(f"must be at most {limit} characters (got {len(value)})")
        return value

    return check


def webhook_field() -> Any:
    """``webhookurl``, also spelled ``webhookUrl`` (Akool's pages disagree)."""
    return Field(default="", validation_alias=AliasChoices("webhookurl", "webhookUrl"), description="Webhook URL")


# --- what a task stores -----------------------------------------------------------------------

ParamsT = TypeVar("ParamsT")


def params_from_json(cls: type[ParamsT], value: Mapping[str, object]) -> ParamsT:
    """A params dataclass from what a task stored: known fields only (the task table also keeps
    its inputs and base URL there), missing ones at their defaults (older tasks). A class with
    nested values reads them itself, in a ``from_json`` class method."""
    reader = getattr(cls, "from_json", None)
    if reader is not None:
        return reader(value)  # type: ignore[no-any-return]
    names = {field.name for field in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{key: item for key, item in value.items() if key in names})


def params_to_json(params: object) -> JsonObject:
    """A params dataclass as the JSON a task stores (its own ``to_json`` where it has one)."""
    writer = getattr(params, "to_json", None)
    if writer is not None:
        return writer()  # type: ignore[no-any-return]
    return dataclasses.asdict(params)  # type: ignore[call-overload, no-any-return]


def started_blocks(seconds: float, block: float = 5) -> int:
    """Started ``block``-second blocks; a hair over a block (float noise) starts no new one."""
    return max(1, math.ceil(round(seconds, 3) / block))


# --- what a presenter needs -------------------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    """Whose tasks are shown: Akool's ``uid`` and ``team_id`` fields."""

    uid: int
    team_id: str


class Links(Protocol):
    """A task's result file ``name`` (``video``, ``cover``...) as a signed URL; empty when the
    task has no such file."""

    def __call__(self, task: TaskRecord, name: str) -> str: ...


def credit_of(task: TaskRecord) -> int:
    """``deduction_credit``: what the task costs now (0 once refunded)."""
    return 0 if task.refunded else task.credits_charged


@dataclass(frozen=True)
class Product:
    """What the rest of the server knows of a product: its names, where its pipeline is, how its
    params are read back, and its ``infobymodelid`` view."""

    name: str  # the task table's ``product``
    engine: str  # the worker queue and REELSMITH_ENGINES name
    title: str  # for people: "Image to Video"
    webhook_type: str  # the webhook payload's ``type``
    pipeline: str  # "module:Class" of the built-in pipeline
    params_type: type
    info: Callable[[TaskRecord, Owner, Links], Mapping[str, object]]

    def params_from(self, stored: Mapping[str, object]) -> object:
        """A task's stored params, typed (an instance of ``params_type``)."""
        return params_from_json(self.params_type, stored)
