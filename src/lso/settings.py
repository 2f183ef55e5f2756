"""Settings of one domain deployment, read once from the command line and the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Everything a domain needs to start.

    ``database_url`` is the SQLAlchemy URL of the application database; DBOS keeps its system tables in
    the same PostgreSQL database (schema ``dbos``) or, embedded, in a sibling SQLite file so that its
    checkpoints do not queue behind the application's write lock.
    """

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    name: str = "lso"
    network: str = "sim"
    demo: bool = False
    footprint: str = "demo"
    """Which shipped footprint (:data:`lso.footprint.FOOTPRINTS`) the entities seed with ``--demo``."""
    database_url: str = ""
    jwt_secret: str = field(default="", repr=False)
    sls_period_s: float = 60.0
    """How often SOF assesses each active service against its SLS (MEF 55.0.1 §10.6 step 1)."""
    enni_peers: str = ""
    """linux network: the partner domains' side of our ENNIs, ``<element>/enni-N=<prefix>/<element>/enni-M``
    (comma-separated; :func:`lso.ecm.drivers.linux.plane.enni_peers`)."""

    @classmethod
    def load(cls, data_dir: Path, **overrides: object) -> Settings:
        data_dir = data_dir.expanduser().resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        url = os.environ.get("LSO_DATABASE_URL") or f"sqlite:///{data_dir / 'lso.sqlite'}"
        if "LSO_SLS_PERIOD_S" in os.environ:
            overrides.setdefault("sls_period_s", float(os.environ["LSO_SLS_PERIOD_S"]))
        return cls(
            data_dir=data_dir,
            database_url=_sqlalchemy_url(url),
            jwt_secret=os.environ.get("LSO_JWT_SECRET") or _persistent_secret(data_dir),
            **overrides,  # type: ignore[arg-type]
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def dbos_database_url(self) -> str:
        if self.is_sqlite:
            return f"sqlite:///{self.data_dir / 'dbos.sqlite'}"
        return self.database_url.replace("postgresql+psycopg://", "postgresql://", 1)

    @property
    def app_name(self) -> str:
        """DBOS application name: lowercase letters, digits, dashes and underscores only."""
        return "".join(c if c.isalnum() or c in "-_" else "_" for c in self.name.lower()) or "lso"


def _sqlalchemy_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever scheme the operator wrote."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _persistent_secret(data_dir: Path) -> str:
    """A signing secret that survives restarts, so tokens issued before a crash stay valid after it."""
    path = data_dir / "jwt.secret"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
