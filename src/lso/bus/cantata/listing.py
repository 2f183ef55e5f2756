"""What the list operations of BUS's seller APIs share: the base name of a ``.gt``/``.lt`` filter, query
dates in the stored format, filters on arrays matched on the documents, and the summary shape of items.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from sqlalchemy.orm import Session

from lso.mef.dates import normalise
from lso.mef.errors import MefError
from lso.mef.http import MefResponse
from lso.mef.paging import Page, page_response
from lso.mef.store import Document, Store

_ALL = 1_000_000


def base_name(name: str) -> str:
    """The property a query parameter filters on: ``orderDate.gt`` → ``orderDate``."""
    return name[:-3] if name.endswith((".gt", ".lt")) else name


def query_date(name: str, value: str) -> str:
    """Dates are compared as text in the stored format, so a query date is rewritten in it."""
    try:
        return normalise(value)
    except ValueError as exc:
        raise MefError(400, f"{name} must be an RFC 3339 date-time", code="invalidQuery") from exc


def matching_page(
    session: Session,
    store: Store,
    party: str,
    filters: dict[str, str],
    matches: Callable[[Document], bool] | None,
    page: Page,
) -> tuple[list[Document], int]:
    """A page of ``store`` for ``party``: ``filters`` run in the database; ``matches`` (for filters on
    arrays such as items or places, which the row index cannot express) runs on the documents."""
    if matches is None:
        return store.list(session, party=party, filters=filters, offset=page.offset, limit=page.limit)
    every, _ = store.list(session, party=party, filters=filters, offset=0, limit=_ALL)
    found = [doc for doc in every if matches(doc)]
    return found[page.offset : page.offset + page.limit], len(found)


def summary_page(docs: list[Document], total: int, page: Page, fields: Collection[str]) -> MefResponse:
    """The list answer: each document trimmed to the summary ``fields`` of its list operation."""
    return page_response([{k: v for k, v in doc.items() if k in fields} for doc in docs], total, page)
