"""Storage of MEF resources: one row per resource with indexed columns for what lists filter on, and the
resource's JSON document.

Each entity owns the ``kind`` values it writes (``bus.productOrder``, ``sof.serviceOrder``…); no entity
reads another's kinds — they ask each other over their IRPs. Every write appends to the audit trail.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from lso.db import Base
from lso.mef.dates import utcnow
from lso.mef.errors import MefError, not_found
from lso.security.audit import record

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
        row = ResourceRow(kind=self.kind, id=doc["id"], party_id=party, parent_id=parent_id, doc=doc)
        _index(row, doc)
        session.add(row)
        try:
            session.flush()
        except IntegrityError as exc:
            raise MefError(409, f"{self.label} {doc['id']} already exists", code="conflict") from exc
        record(session, actor or party, "create", self.kind, doc["id"], doc.get("state"))
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
        row = self._row(session, doc["id"], for_update=True)
        if row is None:
            raise not_found(self.label, doc["id"])
        row.doc = dict(doc)
        row.version += 1
        _index(row, doc)
        record(session, actor or row.party_id, "update", self.kind, doc["id"], doc.get("state"))
        session.flush()  # reads (_read) go past the ORM: they must see this write
        return doc

    def delete(self, session: Session, ident: str, actor: str | None = None) -> bool:
        """Remove the resource; False when there was none (deleting twice is harmless)."""
        row = self._row(session, ident, for_update=True)
        if row is None:
            return False
        session.delete(row)
        record(session, actor or row.party_id, "delete", self.kind, ident, None)
        session.flush()  # reads (_read) go past the ORM: they must see this write
        return True

    def party_of(self, session: Session, ident: str) -> str | None:
        found = _read(session, self.kind, ident)
        return None if found is None else found[0]

    def by_external_id(self, session: Session, external_id: str, party: str | None = None) -> Document | None:
        query = select(ResourceRow).where(
            ResourceRow.kind == self.kind, ResourceRow.external_id == external_id
        )
        if party is not None:
            query = query.where(ResourceRow.party_id == party)
        row = session.scalars(query.limit(1)).first()
        return None if row is None else row.doc

    def children(self, session: Session, parent_id: str, state: str | None = None) -> list[Document]:
        query = select(ResourceRow).where(ResourceRow.kind == self.kind, ResourceRow.parent_id == parent_id)
        if state is not None:
            query = query.where(ResourceRow.state == state)
        return [row.doc for row in session.scalars(query.order_by(ResourceRow.created_at))]

    def all(self, session: Session) -> list[Document]:
        query = select(ResourceRow).where(ResourceRow.kind == self.kind).order_by(ResourceRow.created_at)
        return [row.doc for row in session.scalars(query)]

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
        query = select(ResourceRow).where(ResourceRow.kind == self.kind)
        if party is not None:
            query = query.where(ResourceRow.party_id == party)
        for name, value in filters.items():
            query = query.where(_condition(name, value))
        rows = session.scalars(
            query.order_by(ResourceRow.created_at.desc(), ResourceRow.id).offset(offset).limit(limit)
        )
        docs = [row.doc for row in rows]
        if len(docs) < limit and (docs or offset == 0):
            return docs, offset + len(docs)  # this page holds the end of the result: no need to count
        return docs, session.scalar(select(func.count()).select_from(query.subquery())) or 0

    def _row(self, session: Session, ident: str, for_update: bool = False) -> ResourceRow | None:
        """The row to change (the ORM tracks it and writes it back)."""
        return session.get(ResourceRow, (self.kind, ident), with_for_update=for_update)


_READ = "SELECT party_id, doc FROM resource WHERE kind = {0} AND id = {0}"
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _read(session: Session, kind: str, ident: str) -> tuple[str | None, Document] | None:
    """One resource's party and document, read with the database driver's own cursor.

    Reading by key is most of what entities do with the store; through SQLAlchemy (ORM or Core) each read
    cost four to five times the driver's, all of it in statement handling. Writes stay with the ORM, which
    flushes them before returning so that these reads, in the same transaction, see them.
    """
    connection = session.connection()
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_READ.format(_PLACEHOLDERS[connection.dialect.paramstyle]), (kind, ident))
        row = cursor.fetchone()
    finally:
        cursor.close()
    if row is None:
        return None
    party, doc = row
    return party, doc if isinstance(doc, dict) else json.loads(doc)  # PostgreSQL's driver decodes JSON


def _index(row: ResourceRow, doc: Document) -> None:
    row.state = doc.get("state")
    row.external_id = doc.get("externalId")


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
