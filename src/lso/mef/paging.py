"""Paging of MEF list operations: ``offset``/``limit`` in, ``X-Total-Count``/``X-Result-Count`` out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from lso.db import Database
from lso.mef.errors import MefError
from lso.mef.http import MefResponse
from lso.mef.store import Store

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
_RESERVED = {"offset", "limit", "fields", "sort", "buyerId", "sellerId"}


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int
    filters: dict[str, str]


def page_of(request: Request, allowed: set[str]) -> Page:
    """The paging window and filters of a list request; an unknown filter is a 400 ``invalidQuery``."""
    params = request.query_params
    offset = _natural(params.get("offset"), "offset", 0)
    limit = _natural(params.get("limit"), "limit", DEFAULT_LIMIT)
    filters: dict[str, str] = {}
    for name, value in params.items():
        if name in _RESERVED:
            continue
        base = name[:-3] if name.endswith((".gt", ".lt")) else name
        if base not in allowed:
            raise MefError(400, f"Unknown query parameter {name}", code="invalidQuery")
        filters[name] = value
    return Page(offset=offset, limit=limit, filters=filters)


def page_response(items: list[Any], total: int, page: Page) -> MefResponse:
    """The list body with the MEF paging headers; throttled when the client asked for more than we give."""
    headers = {
        "X-Total-Count": str(total),
        "X-Result-Count": str(len(items)),
        "X-Pagination-Throttled": "true" if page.limit > MAX_LIMIT else "false",
    }
    return MefResponse(items, status_code=200, headers=headers)


def list_page(
    db: Database, store: Store, request: Request, party: str, fields: Mapping[str, str] | Iterable[str]
) -> MefResponse:
    """The whole of a plain MEF list operation over ``store``, scoped to ``party``.

    ``fields`` names the query parameters allowed; a mapping also says which document path each one
    filters on (``testJobId`` → ``testJob.id``).
    """
    paths = dict(fields) if isinstance(fields, Mapping) else {name: name for name in fields}
    page = page_of(request, set(paths))
    filters = {}
    for name, value in page.filters.items():
        base, operator = (name[:-3], name[-3:]) if name.endswith((".gt", ".lt")) else (name, "")
        filters[paths[base] + operator] = value
    with db.read() as session:
        items, total = store.list(session, party=party, filters=filters, offset=page.offset, limit=page.limit)
    return page_response(items, total, page)


def _natural(text: str | None, name: str, default: int) -> int:
    if text is None:
        return default
    if text == "":
        raise MefError(400, f"Query parameter {name} has no value", code="missingQueryValue")
    try:
        number = int(text)
    except ValueError as exc:
        raise MefError(400, f"Query parameter {name} must be an integer", code="invalidQuery") from exc
    if number < 0:
        raise MefError(400, f"Query parameter {name} must not be negative", code="invalidQuery")
    return min(number, MAX_LIMIT) if name == "limit" else number
