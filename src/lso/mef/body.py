"""Reading request bodies: JSON first, then the project's pydantic models, each failure a MEF error."""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from lso.mef.errors import MefError, from_validation_error

M = TypeVar("M", bound=BaseModel)


async def json_body(request: Request) -> Any:
    """The request body as JSON, or a MEF 400 ``invalidBody``."""
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except ValueError as exc:
        raise MefError(400, f"The request body is not valid JSON: {exc}", code="invalidBody") from exc


JsonBody = Annotated[Any, Depends(json_body)]
"""The JSON request body, parsed on the event loop so that the handler itself can be synchronous.

Handlers that touch the database or call another entity must be synchronous (``def``): FastAPI runs them
in worker threads, so a transaction waiting for the SQLite write lock never stalls the event loop.
"""


def parse_model(model: type[M], data: Any, prefix: str = "") -> M:
    """``data`` as ``model``, or a MEF 422 whose property paths start at ``prefix``."""
    if not isinstance(data, dict):
        raise MefError(400, "The request body must be a JSON object", code="invalidBody")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, prefix) from exc
