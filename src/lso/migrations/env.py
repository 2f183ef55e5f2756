"""Alembic environment: the URL comes from :func:`lso.db.migrate`, the metadata from every entity."""

from __future__ import annotations

from alembic import context

from lso.db import make_engine
from lso.tables import metadata

url: str = context.config.attributes["url"]
engine = make_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
