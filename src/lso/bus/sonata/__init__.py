"""BUS as a SONATA seller: what a domain needs beyond the shared seller APIs to be another provider's
partner (MEF 55.0.1 §10.2 steps 3d and 6, seen from the partner's side).

The SONATA APIs themselves are the seller modules of :mod:`lso.bus.cantata` served with
:data:`lso.bus.irp.SONATA` (see :mod:`lso.bus.api`). What is SONATA's own lives here: the ENNIs a buyer
provider has with our network, which its Access E-Line OVC orders name with ``CONNECTS_TO_ENNI``. Kylie
SONATA has no API that describes an ENNI by itself; MEF publishes the ENNI as an inventory product
(``carrierEthernetEnniSpSo/inventory``), so each ENNI is an active product in the buyer's SONATA
productInventory, placed at the site of the element that terminates it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lso.bus.cantata.product_catalog import ENNI_SPECIFICATION
from lso.bus.irp import SONATA
from lso.bus.order.records import PRODUCTS, product_href
from lso.bus.products import ENNI
from lso.entity import EntityContext
from lso.footprint import Enni, Footprint, named_footprint
from lso.mef.dates import now_iso
from lso.mef.store import Document


def seed_demo(session: Session, ctx: EntityContext) -> None:
    """An ENNI product for the partner of every ENNI in the footprint (kept as it is once there)."""
    footprint = named_footprint(ctx.settings.footprint)
    for enni in footprint.ennis:
        if PRODUCTS.find(session, enni.id) is None:
            PRODUCTS.add(session, enni_product(enni, footprint), party=enni.partner)


def enni_product(enni: Enni, footprint: Footprint) -> Document:
    now = now_iso()
    product: dict[str, Any] = {
        "id": enni.id,
        "href": product_href(enni.id, SONATA),
        "startDate": now,
        "lastUpdateDate": now,
        "status": "active",
        "statusChange": [{"changeDate": now, "status": "active"}],
        "productSpecification": {"id": ENNI_SPECIFICATION},
        "productConfiguration": {
            "@type": ENNI,
            "peeringIdentifier": enni.id,
            "listOfPhysicalLinks": [{"id": enni.port, "physicalLink": _phy(enni.capacity_mbps)}],
            "linkAggregation": "NONE",
            "sVlanIdControl": "FULL",
            "maximumNumberOfOvcs": len(enni.vlans),
            "maximumNumberOfOvcEndPointsPerOvc": 1,
        },
    }
    site = footprint.site_of_element(enni.element)
    if site is not None:
        product["place"] = [
            {"role": "INSTALL_LOCATION", "place": {"@type": "GeographicSiteRef", "id": site.id}}
        ]
    return product


def _phy(capacity_mbps: int) -> str:
    return "10GBASE_LR" if capacity_mbps >= 10_000 else "1000BASE_LX"
