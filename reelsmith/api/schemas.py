"""Request bodies of the endpoints that are not one product's (each product's own are in its
module under reelsmith/products)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from reelsmith.products.common import Body


def _split_ids(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        value = ",".join(value)
    if isinstance(value, str):
        ids = [part.strip() for part in value.split(",") if part.strip()]
        if not ids:
            raise ValueError("must list at least one id")
        if len(ids) > 100:
            raise ValueError("must list at most 100 ids")
        return ids
    return value


class IdsRequest(Body):
    ids: list[str] = Field(alias="_ids", description="Comma-separated ids (a list is accepted too)")

    _split = field_validator("ids", mode="before")(_split_ids)


class TokenRequest(Body):
    clientId: Any = None
    clientSecret: Any = None
