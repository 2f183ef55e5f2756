"""Every table of a domain, gathered for Alembic: importing the modules registers their tables."""

from lso.db import Base
from lso.mef import store as _store  # noqa: F401
from lso.security import audit as _audit  # noqa: F401
from lso.sof.assurance import measurement_store as _measurement_store  # noqa: F401

metadata = Base.metadata
