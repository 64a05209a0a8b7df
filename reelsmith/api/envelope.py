"""The envelope every answer shares (``{"code", "msg", "data"}``, HTTP 200) and the handlers
that turn every refusal, including malformed requests, into one."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from reelsmith.api.catch_all import failure_message, request_id_of
from reelsmith.errors import ApiError, Code

_RULES = {
    "missing": "is required",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "list_type": "must be a list",
    "finite_number": "must be a finite number",
    "model_attributes_type": "must be an object",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "greater_than": "must be more than {gt}",
    "less_than": "must be less than {lt}",
    "string_too_long": "must be at most {max_length} characters",
    "too_long": "must have at most {max_length} items",
}


def success_body(data: Any = None, **siblings: Any) -> dict[str, Any]:
    """A success envelope; ``siblings`` are top-level keys beside ``data`` (``all_results``,
    ``token``)."""
    body: dict[str, Any] = {"code": int(Code.OK), "msg": "OK"}
    if data is not None:
        body["data"] = data
    body.update(siblings)
    return body


def ok(data: Any = None, **siblings: Any) -> JSONResponse:
    """A success, as a response (see :func:`success_body`)."""
    return JSONResponse(success_body(data, **siblings))


def fail(code: Code, msg: str) -> JSONResponse:
    return JSONResponse({"code": int(code), "msg": msg})


def describe_validation_errors(errors: list[dict[str, Any]]) -> str:
    """``"resolution must be one of 480p, 720p, 1080p; duration must be a number"``."""
    parts = []
    for error in errors:
        kind = error.get("type", "")
        if kind == "json_invalid":
            parts.append("the request body is not valid JSON")
            continue
        location = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "header")]
        field = ".".join(location)
        if not field and kind in ("missing", "model_attributes_type", "dict_type", "model_type"):
            parts.append("the request body must be a JSON object")
            continue
        template = _RULES.get(kind)
        if template is not None:
            rule = template.format(**error.get("ctx", {}))
        else:
            rule = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        parts.append(f"{field} {rule}" if field else rule)
    return "; ".join(dict.fromkeys(parts)) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return fail(exc.code, exc.msg)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return fail(Code.PARAMETER, describe_validation_errors(list(exc.errors())))

    @app.exception_handler(Exception)
    async def _unhandled(_: Request, exc: Exception) -> JSONResponse:
        # FastAPI raises it again after this answer; CatchAll logs it there, with the same id.
        return fail(Code.CREATE_FAILED, failure_message(exc, request_id_of(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI could not read the body as JSON for a reason other than its syntax.
            return fail(Code.PARAMETER, unreadable_body(exc.__cause__))
        # Unknown paths and wrong methods keep their HTTP status: they are not business outcomes.
        # A 405 names the allowed methods in ``Allow``.
        return JSONResponse(
            {"code": exc.status_code, "msg": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
        )


def unreadable_body(cause: BaseException | None) -> str:
    """Why a body could not be read as JSON, in words a client can act on."""
    if isinstance(cause, UnicodeDecodeError):
        return "the request body is not valid JSON: it must be UTF-8 text"
    if isinstance(cause, RecursionError):
        return "the request body is not valid JSON: it is nested too deeply"
    return "the request body is not valid JSON"
