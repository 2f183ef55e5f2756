"""Storage of MEF resources: one row per resource with indexed columns for what lists filter on, and the
resource's JSON document.

Each entity owns the ``kind`` values it writes (``bus.productOrder``, ``sof.serviceOrder``…); no entity
reads another's kinds — they ask each other over their IRPs. Every write appends to the audit trail.

Reads by key and every write go to the database driver's own cursor, past SQLAlchemy: they are most of
what entities do with the store, and through the ORM each cost three to five times the driver's, all of
it in statement handling and flushes (the model's writes were most of an EVC's setup on the ``linux``
data plane). Lists keep SQLAlchemy's query building; they select documents, not ORM objects, so no
session caches a row that a later write would leave stale.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, Session, mapped_column

from lso.db import Base
from lso.mef.dates import utcnow
from lso.mef.errors import MefError, not_found

Document = dict[str, Any]


class ResourceRow(Base):
    __tablename__ = "resource"

    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    party_id: Mapped[str | None] = mapped_column(String(128))
    state: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(256))
    parent_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    doc: Mapped[Document] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_resource_party", "kind", "party_id", "created_at"),
        Index("ix_resource_state", "kind", "state"),
        Index("ix_resource_external", "kind", "external_id"),
        Index("ix_resource_parent", "kind", "parent_id"),
    )


# Query parameters that map to indexed columns; anything else filters on the document itself.
_COLUMNS = {"state": ResourceRow.state, "externalId": ResourceRow.external_id}


class Store:
    """The resources of one kind.

    ``party`` arguments scope reads and writes to a party: a resource of another party is reported as
    absent, never as forbidden, so ids do not leak across parties.
    """

    def __init__(self, kind: str, label: str | None = None) -> None:
        self.kind = kind
        self.label = label or kind.rsplit(".", 1)[-1]

    def new_id(self) -> str:
        return str(uuid.uuid4())

    def add(
        self,
        session: Session,
        doc: Document,
        *,
        party: str | None = None,
        parent_id: str | None = None,
        actor: str | None = None,
    ) -> Document:
        """Insert ``doc`` (its ``id`` is assigned when missing); a duplicate id is a 409."""
        doc.setdefault("id", self.new_id())
        sql = _sql(session)
        now = sql.at(utcnow())
        row = (self.kind, doc["id"], party, doc.get("state"), doc.get("externalId"), parent_id, now, now)
        try:
            sql.execute(session, _INSERT, (*row, sql.json(doc)))
        except sql.integrity_error as exc:
            raise MefError(409, f"{self.label} {doc['id']} already exists", code="conflict") from exc
        sql.audit(session, (actor or party, "create", self.kind, doc["id"], doc.get("state")))
        return doc

    def find(self, session: Session, ident: str, party: str | None = None) -> Document | None:
        found = _read(session, self.kind, ident)
        if found is None or (party is not None and found[0] != party):
            return None
        return found[1]

    def get(self, session: Session, ident: str, party: str | None = None) -> Document:
        """The resource or a MEF 404."""
        doc = self.find(session, ident, party)
        if doc is None:
            raise not_found(self.label, ident)
        return doc

    def put(self, session: Session, doc: Document, actor: str | None = None) -> Document:
        """Replace the stored document of ``doc['id']``."""
        sql = _sql(session)
        params = (
            sql.json(doc),
            doc.get("state"),
            doc.get("externalId"),
            sql.at(utcnow()),
            self.kind,
            doc["id"],
        )
        found = sql.execute(session, _UPDATE, params)
        if found is None:
            raise not_found(self.label, doc["id"])
        sql.audit(session, (actor or found[0], "update", self.kind, doc["id"], doc.get("state")))
        return doc

    def delete(self, session: Session, ident: str, actor: str | None = None) -> bool:
        """Remove the resource; False when there was none (deleting twice is harmless)."""
        sql = _sql(session)
        found = sql.execute(session, _DELETE, (self.kind, ident))
        if found is None:
            return False
        sql.audit(session, (actor or found[0], "delete", self.kind, ident, None))
        return True

    def party_of(self, session: Session, ident: str) -> str | None:
        found = _read(session, self.kind, ident)
        return None if found is None else found[0]

    def by_external_id(self, session: Session, external_id: str, party: str | None = None) -> Document | None:
        found = _sql(session).execute(session, _BY_EXTERNAL_ID, (self.kind, external_id), every=True)
        return next((_document(doc) for owner, doc in found if party is None or owner == party), None)

    def children(self, session: Session, parent_id: str, state: str | None = None) -> list[Document]:
        docs = _sql(session).documents(session, _CHILDREN, (self.kind, parent_id))
        return docs if state is None else [doc for doc in docs if doc.get("state") == state]

    def all(self, session: Session, party: str | None = None) -> list[Document]:
        """Every resource of this kind (of ``party`` only, when given), oldest first."""
        if party is None:
            return _sql(session).documents(session, _ALL, (self.kind,))
        return _sql(session).documents(session, _ALL_OF_PARTY, (self.kind, party))

    def list(
        self,
        session: Session,
        *,
        party: str | None,
        filters: dict[str, str],
        offset: int,
        limit: int,
    ) -> tuple[list[Document], int]:
        """A page of resources, newest first, and how many match in all.

        ``filters`` hold MEF query parameters: ``attr=value``, ``attr.gt=value``, ``attr.lt=value``; a
        dotted ``attr`` (``productOffering.id``) descends into the document.
        """
        query = select(ResourceRow.doc).where(ResourceRow.kind == self.kind)
        if party is not None:
            query = query.where(ResourceRow.party_id == party)
        for name, value in filters.items():
            query = query.where(_condition(name, value))
        docs = list(
            session.scalars(
                query.order_by(ResourceRow.created_at.desc(), ResourceRow.id).offset(offset).limit(limit)
            )
        )
        if len(docs) < limit and (docs or offset == 0):
            return docs, offset + len(docs)  # this page holds the end of the result: no need to count
        return docs, session.scalar(select(func.count()).select_from(query.subquery())) or 0


_READ = "SELECT party_id, doc FROM resource WHERE kind = {p} AND id = {p}"
_ALL = "SELECT doc FROM resource WHERE kind = {p} ORDER BY created_at"
_ALL_OF_PARTY = "SELECT doc FROM resource WHERE kind = {p} AND party_id = {p} ORDER BY created_at"
_CHILDREN = "SELECT doc FROM resource WHERE kind = {p} AND parent_id = {p} ORDER BY created_at"
_BY_EXTERNAL_ID = "SELECT party_id, doc FROM resource WHERE kind = {p} AND external_id = {p}"
_INSERT = (
    "INSERT INTO resource (kind, id, party_id, state, external_id, parent_id, created_at, updated_at, "
    "version, doc) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, 1, {json})"
)
_UPDATE = (
    "UPDATE resource SET doc = {json}, state = {p}, external_id = {p}, updated_at = {p}, "
    "version = version + 1 WHERE kind = {p} AND id = {p} RETURNING party_id"
)
_DELETE = "DELETE FROM resource WHERE kind = {p} AND id = {p} RETURNING party_id"
_AUDIT = (
    "INSERT INTO audit (at, actor, action, kind, resource_id, state) VALUES ({p}, {p}, {p}, {p}, {p}, {p})"
)


_STATEMENTS = (_READ, _ALL, _ALL_OF_PARTY, _CHILDREN, _BY_EXTERNAL_ID, _INSERT, _UPDATE, _DELETE, _AUDIT)


class _Sql:
    """A session's connection as the database driver sees it, in the dialect's terms: its placeholders,
    its JSON and timestamps written as SQLAlchemy's column types write them (both paths read each other's
    rows)."""

    def __init__(self, dialect: Dialect) -> None:
        columns = ResourceRow.__table__.c
        self.at: Callable[[datetime], Any] = columns.created_at.type.bind_processor(dialect) or _same
        self.json: Callable[[Document], Any] = columns.doc.type.bind_processor(dialect) or json.dumps
        self.integrity_error: type[Exception] = dialect.dbapi.IntegrityError  # type: ignore[union-attr]
        placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
        # PostgreSQL takes a text parameter for a json column only when told so.
        json_placeholder = "?" if dialect.name == "sqlite" else "%s::json"
        self.statements = {sql: sql.format(p=placeholder, json=json_placeholder) for sql in _STATEMENTS}

    def execute(
        self, session: Session, statement: str, params: tuple[Any, ...], *, every: bool = False
    ) -> Any:
        """Run ``statement`` (one of the above) in the session's transaction; its first row, if any (or
        all its rows: ``every``)."""
        connection = session.connection()
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.statements[statement], params)
            if every:
                return cursor.fetchall()
            return cursor.fetchone() if cursor.description else None
        finally:
            cursor.close()

    def documents(self, session: Session, statement: str, params: tuple[Any, ...]) -> list[Document]:
        """The documents a ``SELECT doc`` statement finds."""
        return [_document(doc) for (doc,) in self.execute(session, statement, params, every=True)]

    def audit(self, session: Session, entry: tuple[str | None, str, str, str, str | None]) -> None:
        """Append (actor, action, kind, resource id, state) to the audit trail (lso.security.audit)."""
        self.execute(session, _AUDIT, (self.at(utcnow()), *entry))


def _same(value: Any) -> Any:
    return value


_BY_DIALECT: dict[type[Dialect], _Sql] = {}  # statements and converters depend on the dialect's kind only


def _sql(session: Session) -> _Sql:
    dialect = session.get_bind().dialect
    if type(dialect) not in _BY_DIALECT:
        _BY_DIALECT[type(dialect)] = _Sql(dialect)
    return _BY_DIALECT[type(dialect)]


def _read(session: Session, kind: str, ident: str) -> tuple[str | None, Document] | None:
    """One resource's party and document."""
    row = _sql(session).execute(session, _READ, (kind, ident))
    if row is None:
        return None
    party, doc = row
    return party, _document(doc)


def _document(stored: Any) -> Document:
    return stored if isinstance(stored, dict) else json.loads(stored)  # PostgreSQL's driver decodes JSON


def _condition(name: str, value: str) -> Any:
    path, operator = (name[:-3], name[-2:]) if name.endswith((".gt", ".lt")) else (name, "")
    column = _COLUMNS.get(path)
    if column is None:
        column = ResourceRow.doc[tuple(path.split("."))].as_string()
    if operator == "gt":
        return column > value
    if operator == "lt":
        return column < value
    return column == value
