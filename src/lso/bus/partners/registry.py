"""The partners this provider buys from (MEF 55.0.1 §10.1), kept in BUS's store.

A partner record holds what the operator registered — the partner's SONATA (and INTERLUDE) base URLs, the
client credentials it issued to us, the ENNIs between our networks and the policies that decide when it
serves us — and what on-boarding learned from the partner itself: its product offerings and
specifications, their billing terms and quality objectives, the sites it serves and the hubs we hold.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from lso.mef.dates import now_iso
from lso.mef.statemachine import StateMachine
from lso.mef.store import Document, Store

PARTNERS = Store("bus.partner", "partner")

# registered → onboarding → active; a failed on-boarding may be retried, an active partner re-synced.
PARTNER_STATES = StateMachine(
    "partner",
    {
        "registered": {"onboarding"},
        "onboarding": {"active", "failed"},
        "failed": {"onboarding"},
        "active": {"onboarding"},
    },
)


class Enni(BaseModel):
    """One ENNI between the two networks: our side (element and port) and the partner's id for it."""

    model_config = ConfigDict(extra="forbid")
    element: str = Field(min_length=1)
    port: str = Field(min_length=1)
    partnerEnniId: str = Field(min_length=1)


class Policies(BaseModel):
    """When this partner serves us: where, up to what price, over which reference point."""

    model_config = ConfigDict(extra="forbid")
    via: Literal["sonata", "interlude"] = "sonata"
    priceCeiling: float | None = Field(default=None, gt=0)
    footprintFromSites: bool = False
    areas: list[str] = Field(default_factory=list)
    """``CC/City`` areas the partner serves (``FR/Paris``); sites there are asked of the partner."""

    @field_validator("areas")
    @classmethod
    def _area_shape(cls, areas: list[str]) -> list[str]:
        for area in areas:
            country, _, city = area.partition("/")
            if len(country) != 2 or not city:
                raise ValueError(f"an area is COUNTRY/City, e.g. FR/Paris, not {area!r}")
        return areas


class PartnerRegistration(BaseModel):
    """The body of ``POST /admin/partners`` (and what ``lso partner add`` sends)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    sonataUrl: str = Field(pattern=r"^https?://")
    interludeUrl: str | None = Field(default=None, pattern=r"^https?://")
    clientId: str = Field(min_length=1)
    clientSecret: str = Field(min_length=1)
    enni: list[Enni] = Field(min_length=1)
    policies: Policies = Field(default_factory=Policies)


def new_partner(registration: PartnerRegistration) -> Document:
    doc: Document = {
        "id": registration.name,
        **registration.model_dump(exclude_none=True),
        "sonataUrl": registration.sonataUrl.rstrip("/"),
        "registrationDate": now_iso(),
        "productOffering": [],
        "productSpecification": [],
        "site": [],
        "hub": {},
    }
    PARTNER_STATES.move(doc, "registered")
    return doc


def public(doc: Document) -> Document:
    """A partner as the admin API shows it: everything but the secret the partner gave us."""
    return {k: v for k, v in doc.items() if k != "clientSecret"}


def active_partners(session: Session) -> list[Document]:
    found, _ = PARTNERS.list(session, party=None, filters={"state": "active"}, offset=0, limit=1000)
    return found


def serves_area(partner: Document, place: dict[str, Any]) -> bool:
    """Whether ``place`` (an address query) is in one of the partner's areas; no areas: anywhere."""
    areas = partner.get("policies", {}).get("areas") or []
    if not areas:
        return True
    fielded = (place.get("fieldedAddressRepresentation") or [{}])[0]
    country = str(fielded.get("countryCode", "")).upper()
    city = str(fielded.get("city", "")).strip().lower()
    return any(
        area.split("/", 1)[0].upper() == country and area.split("/", 1)[1].strip().lower() == city
        for area in areas
    )
