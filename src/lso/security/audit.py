"""The append-only audit trail: who changed which resource, when, into which state.

The store (lso.mef.store) appends an entry with every write, in the write's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lso.db import Base
from lso.mef.dates import utcnow


class AuditRecord(Base):
    __tablename__ = "audit"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(64), index=True)
    resource_id: Mapped[str] = mapped_column(String(128), index=True)
    state: Mapped[str | None] = mapped_column(String(64))


def trail(session: Session, kind: str, resource_id: str) -> list[AuditRecord]:
    query = select(AuditRecord).where(AuditRecord.kind == kind, AuditRecord.resource_id == resource_id)
    return list(session.scalars(query.order_by(AuditRecord.seq)))
