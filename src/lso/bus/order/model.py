"""The CANTATA ``ProductOrder_Create`` request as pydantic models (Kylie productOrderingManagement v6).

Only the shape is checked here — types, required properties, enums. What the items mean together (actions,
relationships, places, configurations) is judged by :mod:`lso.bus.order.structure`, which reports every
problem with its JSON pointer. ``productConfiguration`` stays a plain object: its ``@type`` decides which
model validates it (:func:`lso.bus.products.validate_configuration`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ProductActionType = Literal["add", "modify", "delete"]


class Shape(BaseModel):
    """A MEF request object; a property the Kylie document does not define is a 422 ``unexpectedProperty``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RelatedContactInformation(Shape):
    emailAddress: str
    name: str
    number: str
    numberExtension: str | None = None
    organization: str | None = None
    postalAddress: dict[str, Any] | None = None
    role: str


class Note(Shape):
    author: str
    date: datetime
    id: str
    source: Literal["buyer", "seller"]
    text: str


class GeographicSiteRef(Shape):
    type: Literal["GeographicSiteRef"] = Field(alias="@type")
    id: str
    href: str | None = None


class GeographicAddressRef(Shape):
    type: Literal["GeographicAddressRef"] = Field(alias="@type")
    id: str
    href: str | None = None


class GeographicAddressQuery(Shape):
    type: Literal["GeographicAddress_Query"] = Field(alias="@type")
    fieldedAddressRepresentation: list[dict[str, Any]] | None = None
    formattedAddressRepresentation: list[dict[str, Any]] | None = None
    geographicPointRepresentation: list[dict[str, Any]] | None = None
    labelRepresentation: list[dict[str, Any]] | None = None


PlaceRefOrQuery = Annotated[
    GeographicSiteRef | GeographicAddressRef | GeographicAddressQuery, Field(discriminator="type")
]


class SubUnit(Shape):
    subUnitNumber: str
    subUnitType: str


class RelatedPlace(Shape):
    place: PlaceRefOrQuery
    role: str
    subUnit: list[SubUnit] | None = None
    contact: list[dict[str, Any]] | None = None


class ProductOfferingRef(Shape):
    id: str
    href: str | None = None


class ProductRelationship(Shape):
    id: str
    relationshipType: str
    href: str | None = None


class OrderItemRelationship(Shape):
    id: str
    relationshipType: str


class ProductRefOrValue(Shape):
    id: str | None = None
    href: str | None = None
    place: list[RelatedPlace] | None = None
    productConfiguration: dict[str, Any] | None = None
    productOffering: ProductOfferingRef | None = None
    productRelationship: list[ProductRelationship] | None = None


class Duration(Shape):
    amount: int = Field(ge=0)
    units: Literal[
        "seconds",
        "minutes",
        "businessHours",
        "calendarHours",
        "businessDays",
        "calendarDays",
        "months",
        "years",
    ]


class ItemTerm(Shape):
    name: str
    description: str | None = None
    duration: Duration
    endOfTermAction: Literal["roll", "autoDisconnect", "autoRenew"]
    rollInterval: Duration | None = None


class ProductOrderItemCreate(Shape):
    id: str = Field(min_length=1)
    action: ProductActionType
    product: ProductRefOrValue
    requestedCompletionDate: datetime
    agreementName: str | None = None
    billingAccount: dict[str, Any] | None = None
    coordinatedAction: list[dict[str, Any]] | None = None
    endCustomerName: str | None = None
    expediteIndicator: bool | None = None
    note: list[Note] | None = None
    productOfferingQualificationItem: dict[str, Any] | None = None
    productOrderItemRelationship: list[OrderItemRelationship] | None = None
    quoteItem: dict[str, Any] | None = None
    relatedBuyerPON: str | None = None
    relatedContactInformation: list[RelatedContactInformation] | None = None
    requestedItemTerm: ItemTerm | None = None
    tspRestorationPriority: str | None = None


class ProductOrderCreate(Shape):
    externalId: str | None = None
    note: list[Note] | None = None
    projectId: str | None = None
    relatedContactInformation: list[RelatedContactInformation] = Field(min_length=1)
    productOrderItem: list[ProductOrderItemCreate] = Field(min_length=1)
