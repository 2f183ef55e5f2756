"""The project's models of the product configurations it sells, keyed by their ``@type`` URN.

A MEF product carries its configuration as ``productConfiguration: {"@type": <schema URN>, ...}``; this
package is the one place that knows which URNs we accept and what a valid configuration of each is (MEF
Grace product schemas for EPL, EVPL and the Carrier Ethernet Subscriber UNI sold over CANTATA, the Access
E-Line OVC and the Carrier Ethernet Operator UNI sold over SONATA). Ordering, POQ and quote all
validate through :func:`validate_configuration`, so a configuration is judged the same way everywhere.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from lso.bus.products.evc import (
    EPL_EVC,
    EVPL_EVC,
    EplEvcConfiguration,
    EvcConfiguration,
    EvplEvcConfiguration,
)
from lso.bus.products.ovc import (
    ACCESS_ELINE_OVC,
    ENNI,
    OPERATOR_UNI,
    AccessElineOvcConfiguration,
    OperatorUniConfiguration,
)
from lso.bus.products.uni import SUBSCRIBER_UNI, SubscriberUniConfiguration
from lso.mef.errors import Issue, from_validation_error, unprocessable

ProductConfiguration = (
    EplEvcConfiguration
    | EvplEvcConfiguration
    | SubscriberUniConfiguration
    | AccessElineOvcConfiguration
    | OperatorUniConfiguration
)
UniConfiguration = SubscriberUniConfiguration | OperatorUniConfiguration

CONFIGURATIONS: dict[str, type[ProductConfiguration]] = {
    EPL_EVC: EplEvcConfiguration,
    EVPL_EVC: EvplEvcConfiguration,
    SUBSCRIBER_UNI: SubscriberUniConfiguration,
    ACCESS_ELINE_OVC: AccessElineOvcConfiguration,
    OPERATOR_UNI: OperatorUniConfiguration,
}
EVC_TYPES = frozenset({EPL_EVC, EVPL_EVC})
UNI_TYPES = frozenset({SUBSCRIBER_UNI, OPERATOR_UNI})


def validate_configuration(data: Any, pointer: str) -> ProductConfiguration:
    """``data`` as the configuration model of its ``@type``, or a MEF 422 whose property paths start at
    ``pointer`` (the JSON pointer of ``data`` in the request, e.g. ``/productOrderItem/0/product/
    productConfiguration``)."""
    if not isinstance(data, dict):
        raise unprocessable(Issue(pointer, f"{pointer}: a product configuration is an object"))
    schema = data.get("@type")
    model = CONFIGURATIONS.get(schema) if isinstance(schema, str) else None
    if model is None:
        known = ", ".join(sorted(CONFIGURATIONS))
        raise unprocessable(
            Issue(
                f"{pointer}/@type",
                f"{pointer}/@type: unknown product configuration {schema!r}; known: {known}",
            )
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, pointer) from exc


def configuration_json(configuration: ProductConfiguration) -> dict[str, Any]:
    """The configuration as MEF JSON (``@type`` and the buyer's properties, nulls left out)."""
    return configuration.model_dump(mode="json", by_alias=True, exclude_none=True)


__all__ = [
    "ACCESS_ELINE_OVC",
    "CONFIGURATIONS",
    "ENNI",
    "EPL_EVC",
    "EVC_TYPES",
    "EVPL_EVC",
    "OPERATOR_UNI",
    "SUBSCRIBER_UNI",
    "UNI_TYPES",
    "AccessElineOvcConfiguration",
    "EplEvcConfiguration",
    "EvcConfiguration",
    "EvplEvcConfiguration",
    "OperatorUniConfiguration",
    "ProductConfiguration",
    "SubscriberUniConfiguration",
    "UniConfiguration",
    "configuration_json",
    "validate_configuration",
]
