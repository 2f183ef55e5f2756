"""The operator's partner API (``/admin/partners``) and our listeners of partners' notifications.

The admin API is not a MEF API — MEF leaves partner on-boarding to be defined — so it lives outside
``/mefApi`` and answers only the domain's administrator: the ``lso-admin`` client, whose secret BUS writes
to ``<data dir>/admin.secret`` on start (readable by whoever may operate the domain, as ``lso partner``
does). Errors are still MEF error bodies, so one client-side handler reads them all.
"""

from __future__ import annotations

from fastapi import APIRouter

from lso.bus.partners import onboarding, ordering
from lso.bus.partners.registry import PARTNERS, PartnerRegistration, new_partner, public
from lso.entity import EntityContext
from lso.mef.body import JsonBody, parse_model
from lso.mef.errors import MefError
from lso.mef.http import MefResponse
from lso.mef.notifications import NotificationApi, listener_router
from lso.mef.store import Document
from lso.security.admin import ADMIN_CLIENT, AdminDep

PREFIX = "/admin/partners"

CATALOG_NOTIFICATIONS = NotificationApi("sonata", "productCatalogNotifications", "v4")
CATALOG_EVENTS = (
    "productOfferingCreateEvent",
    "productOfferingAttributeValueChangeEvent",
    "productOfferingStateChangeEvent",
    "productSpecificationCreateEvent",
    "productSpecificationAttributeValueChangeEvent",
    "productSpecificationStateChangeEvent",
)


def router(ctx: EntityContext) -> APIRouter:
    api = APIRouter(prefix=PREFIX, tags=["lso partners (admin)"])

    @api.post("", status_code=201)
    def add_partner(body: JsonBody, _admin: AdminDep) -> MefResponse:
        registration = parse_model(PartnerRegistration, body)
        with ctx.db.session() as session:
            partner = PARTNERS.add(session, new_partner(registration), actor=ADMIN_CLIENT)
        onboarding.start_onboarding(partner["id"], 1)
        return MefResponse(public(partner), status_code=201)

    @api.get("")
    def list_partners(_admin: AdminDep) -> MefResponse:
        with ctx.db.read() as session:
            return MefResponse([public(p) for p in PARTNERS.all(session)])

    @api.get("/{partner_id}")
    def get_partner(partner_id: str, _admin: AdminDep) -> MefResponse:
        with ctx.db.read() as session:
            return MefResponse(public(PARTNERS.get(session, partner_id)))

    @api.post("/{partner_id}/onboard", status_code=202)
    def onboard_again(partner_id: str, _admin: AdminDep) -> MefResponse:
        """Run on-boarding again (after a failure, or to re-read everything): a new attempt each time."""
        with ctx.db.read() as session:
            partner = PARTNERS.get(session, partner_id)
        if partner["state"] == "onboarding":
            raise MefError(409, f"partner {partner_id} is being on-boarded", code="conflict")
        attempt = sum(1 for change in partner.get("stateChange", []) if change["state"] == "onboarding")
        onboarding.start_onboarding(partner_id, attempt + 1)
        return MefResponse(public(partner), status_code=202)

    return api


def listeners() -> APIRouter:
    """Our listeners of partners' notifications: catalog changes and the orders we placed with them."""
    router = APIRouter()
    router.include_router(
        listener_router(CATALOG_NOTIFICATIONS, dict.fromkeys(CATALOG_EVENTS, on_catalog_event))
    )
    router.include_router(ordering.order_listener())
    return router


def on_catalog_event(body: Document) -> None:
    """Re-read what changed from the partner that sent it; an event from no known partner is ignored."""
    if not isinstance(body.get("event"), dict):
        return
    for partner_id in onboarding.partners_of_event(body):
        onboarding.start_catalog_sync(partner_id, body)
