"""Who may ask about which service: the three IRPs that serve assurance, and the service's customer.

One implementation is mounted on ALLEGRO (the customer), LEGATO (this domain's BUS) and INTERLUDE (a
partner buyer). BUS owns the services SOF built for it; a customer or partner sees a service only when
BUS named it as the service order's customer (``relatedContactInformation`` of role ``customer`` whose
``organization`` is the party id — the one way the customer's identity reaches SOF over LEGATO).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends
from sqlalchemy.orm import Session

from lso.mef.errors import MefError, not_found
from lso.mef.store import Document
from lso.security.tokens import Caller, CallerDep, InternalDep
from lso.sof import records

CUSTOMER_ROLE = "customer"
_SCAN = 100_000


async def _customer_or_partner(caller: CallerDep) -> Caller:
    # A partner provider buying from this domain authenticates with role "buyer" (as on SONATA).
    if caller.role not in {"customer", "partner", "buyer"}:
        raise MefError(403, "This interface serves buyers (customers and partners)", code="accessDenied")
    return caller


async def _any(caller: CallerDep) -> Caller:
    return caller


async def _internal(caller: InternalDep) -> Caller:
    return caller


@dataclass(frozen=True)
class Irp:
    """One mount of the assurance APIs: its name in paths and who may call it."""

    name: str
    authorise: Callable[..., Awaitable[Caller]]

    @property
    def depends(self) -> Any:
        """The route parameter default that authenticates and authorises the caller of this mount."""
        return Depends(self.authorise)


ALLEGRO = Irp("allegro", _any)
LEGATO = Irp("legato", _internal)
INTERLUDE = Irp("interlude", _customer_or_partner)
IRPS = (ALLEGRO, LEGATO, INTERLUDE)


def customer_of(session: Session, service: Document) -> str | None:
    """The party BUS ordered ``service`` for, from the service order that added it."""
    for ref in service.get("serviceOrderItem", []):
        order = records.ORDERS.find(session, ref["serviceOrderId"])
        for contact in (order or {}).get("relatedContactInformation", []):
            if contact.get("role") == CUSTOMER_ROLE and contact.get("organization"):
                return str(contact["organization"])
    return None


def audience(session: Session, service: Document) -> set[str]:
    """The parties that may see the service's assurance data: its owner (BUS) and its customer."""
    parties = {records.SERVICES.party_of(session, service["id"]), customer_of(session, service)}
    return {p for p in parties if p}


def visible_service(session: Session, service_id: str, caller: Caller) -> Document:
    """The service, or a MEF 404 when ``caller`` may not see it (ids never leak across parties)."""
    service = records.SERVICES.find(session, service_id)
    if service is None or caller.party_id not in audience(session, service):
        raise not_found("service", service_id)
    return service


def visible_services(session: Session, caller: Caller, filters: dict[str, str]) -> list[Document]:
    """The services matching ``filters`` (MEF list parameters) that ``caller`` may see, newest first.

    Visibility is decided per service (owner or customer), so the match is scanned rather than paged by
    the database; the filters keep the scan to what the caller asked about."""
    found, _ = records.SERVICES.list(session, party=None, filters=filters, offset=0, limit=_SCAN)
    return [s for s in found if caller.party_id in audience(session, s)]
