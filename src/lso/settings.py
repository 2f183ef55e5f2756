"""Settings of one domain deployment, read once from the command line and the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

ENTITY_NAMES = ("bus", "sof", "icm", "ecm")
"""The management entities of a domain; a process serves all of them or those ``entities`` names."""


@dataclass(frozen=True)
class Settings:
    """Everything a domain needs to start.

    ``database_url`` is the SQLAlchemy URL of the application database; DBOS keeps its system tables in
    the same PostgreSQL database (schema ``dbos``) or, embedded, in a sibling SQLite file so that its
    checkpoints do not queue behind the application's write lock. Embedded, a domain spread over processes
    has an application database per process too (:func:`sqlite_file`): SQLite lets one writer at a time
    into a file, and the entities never read each other's data, they ask each other over their IRPs.
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
    entities: tuple[str, ...] = ()
    """The entities this process serves (``bus``, ``sof``, ``icm``, ``ecm``); empty: all of them."""
    peers: str = ""
    """Where the entities served by other processes are: ``<entity>=<base URL>``, comma-separated."""
    enni_peers: str = ""
    """linux network: the partner domains' side of our ENNIs, ``<element>/enni-N=<prefix>/<element>/enni-M``
    (comma-separated; :func:`lso.ecm.drivers.linux.plane.enni_peers`)."""

    @classmethod
    def load(cls, data_dir: Path, **overrides: object) -> Settings:
        data_dir = data_dir.expanduser().resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        entities: tuple[str, ...] = overrides.get("entities", ())  # type: ignore[assignment]
        url = os.environ.get("LSO_DATABASE_URL") or f"sqlite:///{sqlite_file(data_dir, 'lso', entities)}"
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

    def serves(self, entity: str) -> bool:
        return not self.entities or entity in self.entities

    def url_of(self, entity: str) -> str:
        """The base URL of the process serving ``entity`` (IRP clients call it there)."""
        if self.serves(entity):
            return self.base_url
        for peer in filter(None, self.peers.split(",")):
            name, _, url = peer.partition("=")
            if name.strip() == entity:
                return url.strip().rstrip("/")
        raise ValueError(f"{entity} is not served here and no peer names its URL (--peer {entity}=URL)")

    @property
    def issuer(self) -> str:
        """The domain's token issuer, whichever of its processes issues or verifies: where BUS is served,
        the domain's front (its customers' CANTATA and token endpoint)."""
        return self.url_of("bus")

    def is_domain_url(self, url: str) -> bool:
        """Whether ``url`` is served by one of this domain's processes."""
        return any(url.startswith(f"{self.url_of(entity)}/") for entity in ENTITY_NAMES)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def dbos_database_url(self) -> str:
        if self.is_sqlite:
            # processes serving different entities run different workflows: each has its own system
            # database, so none recovers another's
            return f"sqlite:///{sqlite_file(self.data_dir, 'dbos', self.entities)}"
        return self.database_url.replace("postgresql+psycopg://", "postgresql://", 1)

    @property
    def dbos_system_schema(self) -> str:
        """On PostgreSQL: one DBOS schema per set of entities served (see ``dbos_database_url``)."""
        return "_".join(("dbos", *self.entities))

    @property
    def app_name(self) -> str:
        """DBOS application name: lowercase letters, digits, dashes and underscores only."""
        return "".join(c if c.isalnum() or c in "-_" else "_" for c in self.name.lower()) or "lso"


def sqlite_file(data_dir: Path, kind: str, entities: tuple[str, ...]) -> Path:
    """The embedded ``kind`` database (``lso``: the application's, ``dbos``: the workflows') of the
    process serving ``entities`` (empty: all of them), e.g. ``lso-icm-ecm.sqlite``."""
    return data_dir / f"{kind}{''.join(f'-{entity}' for entity in entities)}.sqlite"


def layout_conflicts(data_dir: Path, entities: tuple[str, ...]) -> list[Path]:
    """The application databases in ``data_dir`` that hold some of ``entities``' data but are not the
    database of a process serving exactly them: the data directory of a domain once spread over processes
    another way. A process started on it would not see what its entities hold there."""
    served = set(entities or ENTITY_NAMES)
    own = sqlite_file(data_dir, "lso", entities)
    conflicts = []
    for path in sorted(data_dir.glob("lso*.sqlite")):
        names = path.name.removesuffix(".sqlite").split("-")[1:] or list(ENTITY_NAMES)
        if path != own and served & set(names):
            conflicts.append(path)
    return conflicts


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
