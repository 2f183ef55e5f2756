"""CANTATA Geographic Address Management v2: validate a buyer's address against the provider's known
addresses (exact and fuzzy matches), immediately or deferred, and read a known address."""

from __future__ import annotations

from typing import Any, Literal

from dbos import DBOS, SetWorkflowID
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from lso.bus import places
from lso.entity import EntityContext
from lso.mef import runtime
from lso.mef.body import JsonBody, parse_model
from lso.mef.http import MefResponse
from lso.mef.notifications import NotificationApi, dispatch, hub_router, publish
from lso.mef.statemachine import StateMachine
from lso.mef.store import Document, Store
from lso.security.tokens import CallerDep

PREFIX = "/mefApi/cantata/geographicAddressManagement/v2"
NOTIFICATIONS = NotificationApi("cantata", "geographicAddressNotification", "v2")
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


def router(ctx: EntityContext) -> APIRouter:
    api = APIRouter(prefix=PREFIX, tags=["CANTATA geographicAddressManagement"])

    @api.post("/geographicAddressValidation")
    def create_geographic_address_validation(body: JsonBody, caller: CallerDep) -> MefResponse:
        create = parse_model(ValidationCreate, body)
        submitted = body["submittedGeographicAddress"]
        with ctx.db.session() as session:
            if create.instantSyncValidation:
                return MefResponse(
                    _validated(session, {"submittedGeographicAddress": submitted}, ctx.settings.base_url)
                )
            doc = {
                "id": validations.new_id(),
                "instantSyncValidation": False,
                "submittedGeographicAddress": submitted,
                "state": "acknowledged",
                "alternateGeographicAddress": [],
            }
            validations.add(session, doc, party=caller.party_id)
        with SetWorkflowID(f"geographicAddressValidation:{doc['id']}"):
            DBOS.start_workflow(validate_deferred, doc["id"], ctx.settings.base_url)
        return MefResponse(_served(doc, ctx.settings.base_url), status_code=201)

    @api.get("/geographicAddressValidation/{validation_id}")
    def retrieve_geographic_address_validation(validation_id: str, caller: CallerDep) -> MefResponse:
        with ctx.db.read() as session:
            doc = validations.get(session, validation_id, caller.party_id)
        return MefResponse(_served(doc, ctx.settings.base_url))

    @api.get("/geographicAddress/{address_id}")
    def retrieve_geographic_address(address_id: str, _caller: CallerDep) -> MefResponse:
        with ctx.db.read() as session:
            doc = places.addresses.get(session, address_id)
        return MefResponse(places.with_href(doc, ctx.settings.base_url))

    api.include_router(hub_router(NOTIFICATIONS, "CANTATA geographicAddressManagement"))
    return api


def _validated(session: Session, doc: Document, url: str) -> Document:
    """``doc`` with the match of its submitted address and state ``ready`` (an immediate answer)."""
    match = places.match_address(session, doc["submittedGeographicAddress"])
    result = {**doc, "instantSyncValidation": doc.get("instantSyncValidation", True), "state": "ready"}
    result["alternateGeographicAddress"] = [places.with_href(a, url) for a in match.alternates]
    if match.best is not None:
        result["bestMatchGeographicAddress"] = places.with_href(match.best, url)
    return result


def _served(doc: Document, base_url: str) -> Document:
    return {**doc, "href": f"{base_url}{PREFIX}/geographicAddressValidation/{doc['id']}"}


@DBOS.workflow()
def validate_deferred(validation_id: str, base_url: str) -> None:
    dispatch(advance_validation(validation_id, "inProgress", base_url))
    dispatch(advance_validation(validation_id, "ready", base_url))


@DBOS.step()
def advance_validation(validation_id: str, state: str, base_url: str) -> list[str]:
    """Move the validation to ``state`` (matching the address on ``ready``); notify the buyer's hubs."""
    with runtime.current().db.session() as session:
        doc = validations.get(session, validation_id)
        party = validations.party_of(session, validation_id)
        if state == "ready" and doc["state"] != "ready":
            doc = {**_validated(session, doc, base_url), "state": doc["state"]}
        if not VALIDATION.move(doc, state, history=None):
            return []
        validations.put(session, doc)
        event = {"id": validation_id, "href": _served(doc, base_url)["href"], "state": state}
        return publish(session, NOTIFICATIONS, party, EVENT, event, f"{validation_id}:{state}")
