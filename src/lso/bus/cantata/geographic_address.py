"""CANTATA Geographic Address Management v2 and SONATA v8: validate a buyer's address against the
provider's known addresses (exact and fuzzy matches), immediately or deferred, and read a known address."""

from __future__ import annotations

from typing import Any, Literal

from dbos import DBOS, SetWorkflowID
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from lso.bus import places
from lso.bus.irp import SellerIrp, named
from lso.entity import EntityContext
from lso.mef import runtime
from lso.mef.body import JsonBody, parse_model
from lso.mef.http import MefResponse
from lso.mef.notifications import dispatch, hub_router, publish
from lso.mef.statemachine import StateMachine
from lso.mef.store import Document, Store
from lso.security.tokens import CallerDep

EVENT = "geographicAddressValidationStateChangeEvent"

validations = Store("bus.geographicAddressValidation", "geographicAddressValidation")
VALIDATION = StateMachine(
    "geographicAddressValidation",
    {"acknowledged": ["inProgress", "rejected"], "inProgress": ["ready", "rejected"]},
)


class FieldedAddress(BaseModel):
    model_config = ConfigDict(extra="allow")
    countryCode: str | None = Field(default=None, min_length=2, max_length=2)


class FormattedAddress(BaseModel):
    model_config = ConfigDict(extra="allow")
    formattedAddress: str


class AddressQuery(BaseModel):
    """GeographicAddress_Query: ``@type`` and at least one representation (``minProperties: 2``)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    type: Literal["GeographicAddress_Query"] = Field(alias="@type")
    fieldedAddressRepresentation: list[FieldedAddress] | None = None
    formattedAddressRepresentation: list[FormattedAddress] | None = None
    geographicPointRepresentation: list[dict[str, Any]] | None = None
    labelRepresentation: list[dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _has_a_representation(self) -> AddressQuery:
        if not (
            self.fieldedAddressRepresentation
            or self.formattedAddressRepresentation
            or self.geographicPointRepresentation
            or self.labelRepresentation
        ):
            raise ValueError("an address query needs at least one representation of the address")
        return self


class ValidationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    submittedGeographicAddress: AddressQuery
    instantSyncValidation: bool


def router(ctx: EntityContext, irp: SellerIrp) -> APIRouter:
    api = irp.router("geographicAddressManagement")
    url = ctx.settings.base_url

    @api.post("/geographicAddressValidation")
    def create_geographic_address_validation(body: JsonBody, caller: CallerDep) -> MefResponse:
        create = parse_model(ValidationCreate, body)
        submitted = body["submittedGeographicAddress"]
        with ctx.db.session() as session:
            if create.instantSyncValidation:
                return MefResponse(_validated(session, {"submittedGeographicAddress": submitted}, url, irp))
            doc = {
                "id": validations.new_id(),
                "instantSyncValidation": False,
                "submittedGeographicAddress": submitted,
                "state": "acknowledged",
                "alternateGeographicAddress": [],
            }
            validations.add(session, doc, party=caller.party_id)
        with SetWorkflowID(f"geographicAddressValidation:{doc['id']}"):
            DBOS.start_workflow(validate_deferred, doc["id"], url, irp.name)
        return MefResponse(_served(doc, url, irp), status_code=201)

    @api.get("/geographicAddressValidation/{validation_id}")
    def retrieve_geographic_address_validation(validation_id: str, caller: CallerDep) -> MefResponse:
        with ctx.db.read() as session:
            doc = validations.get(session, validation_id, caller.party_id)
        return MefResponse(_served(doc, url, irp))

    @api.get("/geographicAddress/{address_id}")
    def retrieve_geographic_address(address_id: str, _caller: CallerDep) -> MefResponse:
        with ctx.db.read() as session:
            doc = places.addresses.get(session, address_id)
        return MefResponse(places.with_href(doc, url, irp))

    notifications = irp.notifications("geographicAddressNotification")
    api.include_router(hub_router(notifications, irp.tag("geographicAddressManagement")))
    return api


def _validated(session: Session, doc: Document, url: str, irp: SellerIrp) -> Document:
    """``doc`` with the match of its submitted address and state ``ready`` (an immediate answer)."""
    match = places.match_address(session, doc["submittedGeographicAddress"])
    result = {**doc, "instantSyncValidation": doc.get("instantSyncValidation", True), "state": "ready"}
    result["alternateGeographicAddress"] = [places.with_href(a, url, irp) for a in match.alternates]
    if match.best is not None:
        result["bestMatchGeographicAddress"] = places.with_href(match.best, url, irp)
    return result


def _served(doc: Document, base_url: str, irp: SellerIrp) -> Document:
    path = irp.path("geographicAddressManagement")
    return {**doc, "href": f"{base_url}{path}/geographicAddressValidation/{doc['id']}"}


@DBOS.workflow()
def validate_deferred(validation_id: str, base_url: str, irp_name: str) -> None:
    dispatch(advance_validation(validation_id, "inProgress", base_url, irp_name))
    dispatch(advance_validation(validation_id, "ready", base_url, irp_name))


@DBOS.step()
def advance_validation(validation_id: str, state: str, base_url: str, irp_name: str) -> list[str]:
    """Move the validation to ``state`` (matching the address on ``ready``); notify the buyer's hubs."""
    irp = named(irp_name)
    with runtime.current().db.session() as session:
        doc = validations.get(session, validation_id)
        party = validations.party_of(session, validation_id)
        if state == "ready" and doc["state"] != "ready":
            doc = {**_validated(session, doc, base_url, irp), "state": doc["state"]}
        if not VALIDATION.move(doc, state, history=None):
            return []
        validations.put(session, doc)
        event = {"id": validation_id, "href": _served(doc, base_url, irp)["href"], "state": state}
        notifications = irp.notifications("geographicAddressNotification")
        return publish(session, notifications, party, EVENT, event, f"{validation_id}:{state}")
