"""The two IRPs on which BUS is a seller: CANTATA (to customers) and SONATA (to other providers).

Kylie's CANTATA and SONATA documents of the catalog, address, site, POQ, quote, order and inventory APIs
are the same apart from their IRP name and version numbers, so one implementation serves both: each
router takes the :class:`SellerIrp` it serves on, which gives its paths, its notification APIs, the
product offerings sold there and who may call it. A resource remembers its IRP through its ``href``
(:func:`irp_of`), so the events of an order placed over SONATA are published on SONATA's hub.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request

from lso.mef.errors import MefError
from lso.mef.notifications import NotificationApi
from lso.security.tokens import Caller, CallerDep

BUYER_ROLE = "buyer"
"""The role of a provider party that buys from this domain over SONATA (MEF 55.0.1 §10.2 steps 3d, 6)."""


@dataclass(frozen=True)
class SellerIrp:
    """One IRP BUS sells on: its name in paths, the versions of its APIs, what it sells and to whom."""

    name: str
    versions: dict[str, str]
    """Management or notification API name → path version (``productOrderingManagement`` → ``v6``)."""
    channel: str
    """The catalog ``channel`` of the offerings sold on this IRP."""
    roles: frozenset[str] | None
    """The caller roles admitted, or None for every authenticated party."""

    def path(self, api: str) -> str:
        """The path prefix of one API, e.g. ``/mefApi/sonata/productOrderingManagement/v11``."""
        return f"/mefApi/{self.name}/{api}/{self.versions[api]}"

    def notifications(self, api: str) -> NotificationApi:
        return NotificationApi(self.name, api, self.versions[api])

    def tag(self, api: str) -> str:
        return f"{self.name.upper()} {api}"

    def admission(self) -> Callable[..., Any]:
        """The dependency every route of this IRP runs first: the caller's role, then ``buyerId`` and
        ``sellerId`` (see :func:`check_parties`)."""
        irp = self

        def admit(request: Request, caller: CallerDep) -> None:
            if irp.roles is not None and caller.role not in irp.roles:
                raise MefError(
                    403,
                    f"{irp.name.upper()} serves {', '.join(sorted(irp.roles))} parties only",
                    code="accessDenied",
                )
            check_parties(request, caller)

        return admit

    def router(self, api: str, tag: str | None = None) -> APIRouter:
        """The router of one API on this IRP: its path prefix, its OpenAPI tag (``tag``, else the API
        name) and the admission every route runs first."""
        return APIRouter(
            prefix=self.path(api), tags=[self.tag(tag or api)], dependencies=[Depends(self.admission())]
        )


def check_parties(request: Request, caller: Caller) -> None:
    """MEF 123 §5.3 as the Kylie documents state it: ``buyerId`` is given "only when the requester
    represents more than one Buyer" and ``sellerId`` "only when the responding entity represents more than
    one Seller". Each credential of this domain acts for exactly one party, and the domain is exactly one
    seller (its name), so a request may name them — then they must be those — or leave them out."""
    buyer = request.query_params.get("buyerId")
    if buyer is not None and buyer != caller.party_id:
        raise MefError(
            403,
            f"buyerId {buyer!r}: these credentials act for buyer {caller.party_id!r} only",
            code="accessDenied",
        )
    seller = request.query_params.get("sellerId")
    own = request.app.state.domain.settings.name
    if seller is not None and seller != own:
        raise MefError(
            403, f"sellerId {seller!r}: this server represents seller {own!r} only", code="accessDenied"
        )


CANTATA = SellerIrp(
    name="cantata",
    versions={
        "productCatalog": "v4",
        "productCatalogNotification": "v4",
        "geographicAddressManagement": "v2",
        "geographicAddressNotification": "v2",
        "geographicSiteManagement": "v8",
        "productOfferingQualification": "v8",
        "productOfferingQualificationNotification": "v8",
        "quoteManagement": "v4",
        "quoteNotification": "v4",
        "productOrderingManagement": "v6",
        "productOrderingNotification": "v6",
        "productInventory": "v2",
    },
    channel="CANTATA",
    roles=None,
)

SONATA = SellerIrp(
    name="sonata",
    versions={
        "productCatalog": "v4",
        "productCatalogNotification": "v4",
        "geographicAddressManagement": "v8",
        "geographicAddressNotification": "v8",
        "geographicSiteManagement": "v8",
        "productOfferingQualification": "v8",
        "productOfferingQualificationNotification": "v8",
        "quoteManagement": "v10",
        "quoteNotification": "v10",
        "productOrderingManagement": "v11",
        "productOrderingNotification": "v11",
        "productInventory": "v8",
    },
    channel="SONATA",
    roles=frozenset({BUYER_ROLE}),
)

SELLER_IRPS = (CANTATA, SONATA)


def irp_of(href: str) -> SellerIrp:
    """The IRP a resource was created on, read from the ``href`` this seller gave it."""
    return next((irp for irp in SELLER_IRPS if f"/mefApi/{irp.name}/" in href), CANTATA)


def named(name: str) -> SellerIrp:
    """The IRP called ``name`` (what durable workflows carry, as their arguments must be plain data)."""
    return next(irp for irp in SELLER_IRPS if irp.name == name)
