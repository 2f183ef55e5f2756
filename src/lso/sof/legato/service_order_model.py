"""Kylie ``ServiceOrder_Create`` (LEGATO v6, INTERLUDE v1) as SOF keeps it: every property SOF stores and
answers back is validated here, nested content included, and whatever the model does not name is dropped.

A request is checked before SOF acknowledges it (a MEF 422 with the property path), so an order never
repeats a malformed property in its answers. What SOF does not support is refused at once rather than
kept: coordination with other orders or items, and a place other than a ``GeographicSiteRef`` (SOF
installs a UNI at one of its sites). The service configuration is the one open part (the document's
``MefServiceConfiguration``: an ``@type`` and the properties of that schema); the activation workflow
validates it against the MEF 101 schema and rejects an order whose configuration is invalid.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from lso.mef.store import Document


class _Model(BaseModel):
    """Properties the document does not define are dropped, never stored or echoed."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _SubUnit(_Model):
    subUnitNumber: str
    subUnitType: str


class _FieldedAddress(_Model):
    """Kylie ``FieldedAddressRepresentation`` (a contact's postal address)."""

    streetNr: str | None = None
    streetNrSuffix: str | None = None
    streetNrLast: str | None = None
    streetNrLastSuffix: str | None = None
    streetPreDirection: str | None = None
    streetName: str | None = None
    streetType: str | None = None
    streetPostDirection: str | None = None
    poBox: str | None = None
    locality: str | None = None
    city: str | None = None
    postcode: str | None = None
    postcodeExtension: str | None = None
    stateOrProvince: str | None = None
    countryCode: str | None = Field(default=None, min_length=2, max_length=2)
    subUnit: list[_SubUnit] | None = None
    buildingName: str | None = None
    privateStreetNumber: str | None = None
    privateStreetName: str | None = None
    language: str | None = Field(default=None, min_length=2, max_length=2)


class _RelatedContactInformation(_Model):
    role: str
    name: str
    emailAddress: str
    number: str
    numberExtension: str | None = None
    organization: str | None = None
    postalAddress: _FieldedAddress | None = None


class _Note(_Model):
    """Kylie ``Note_BusSof``."""

    id: str
    author: str
    date: AwareDatetime
    source: Literal["bus", "sof"]
    text: str


class _ServiceRef(_Model):
    id: str
    href: str | None = None


class _ServiceRelationship(_Model):
    relationshipType: str
    service: _ServiceRef


class _SiteRef(_Model):
    type: Literal["GeographicSiteRef"] = Field(alias="@type")
    id: str = Field(min_length=1)


class _RelatedPlace(_Model):
    role: str
    place: _SiteRef


class _Configuration(BaseModel):
    """``MefServiceConfiguration``: open by definition; the activation workflow validates its content."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    type: str = Field(alias="@type")


class _PartnerShare(_Model):
    """LEGATO only: the partner BUS chose for an off-net EVC; not an INTERLUDE property (dropped there)."""

    partnerId: str
    interludeUrl: str
    clientId: str
    clientSecret: str | None = None
    siteId: str
    partnerEnniId: str


class _ServiceValue(_Model):
    id: str | None = None
    name: str | None = None
    description: str | None = None
    externalId: str | None = None
    serviceType: str | None = None
    place: list[_RelatedPlace] | None = None
    serviceConfiguration: _Configuration | None = None
    serviceRelationship: list[_ServiceRelationship] | None = None


class _OrderItemRef(_Model):
    itemId: str


class _OrderItemRelationship(_Model):
    relationshipType: str
    orderItem: _OrderItemRef


class _ServiceOrderItemCreate(_Model):
    id: str = Field(min_length=1)
    action: Literal["add", "modify", "delete"]
    service: _ServiceValue
    serviceOrderItemRelationship: list[_OrderItemRelationship] | None = None
    note: list[_Note] | None = None
    relatedContactInformation: list[_RelatedContactInformation] | None = None
    # SOF fulfils each item when the order says so: coordinating items in time is not offered.
    coordinatedAction: list[Any] | None = Field(default=None, max_length=0)


class ServiceOrderCreate(_Model):
    """Kylie ``ServiceOrder_Create``: what must be there before SOF acknowledges an order; all it keeps."""

    externalId: str | None = None
    description: str | None = None
    note: list[_Note] | None = None
    relatedContactInformation: list[_RelatedContactInformation] | None = None
    # SOF fulfils each order on its own: coordinating with other orders is not offered.
    coordinatedAction: list[Any] | None = Field(default=None, max_length=0)
    orderRelationship: list[Any] | None = Field(default=None, max_length=0)
    requestedStartDate: datetime
    requestedCompletionDate: datetime
    serviceOrderItem: list[_ServiceOrderItemCreate] = Field(min_length=1)

    def kept(self) -> Document:
        """The order as SOF stores it: validated properties only (an empty coordination list says
        nothing and is not kept)."""
        exclude: Any = {
            "coordinatedAction": True,
            "orderRelationship": True,
            "serviceOrderItem": {"__all__": {"coordinatedAction": True}},
        }
        kept: Document = self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude=exclude)
        return kept


class _LegatoServiceValue(_ServiceValue):
    partnerShare: _PartnerShare | None = None


class _LegatoServiceOrderItemCreate(_ServiceOrderItemCreate):
    service: _LegatoServiceValue


class LegatoServiceOrderCreate(ServiceOrderCreate):
    """On LEGATO, BUS also names the partner share of an off-net EVC on its item (docs/interlude.md)."""

    serviceOrderItem: list[_LegatoServiceOrderItemCreate] = Field(min_length=1)  # type: ignore[assignment]
