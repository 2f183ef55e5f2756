"""The products a completed order puts in the buyer's product inventory (MEF 55.0.1 §10.2 step 14).

Product ids derive from the order and item ids, so a completion step that runs again finds the products
it already created instead of creating them twice. ``startDate`` is the moment the product became active:
the date billing starts from (§10.2 step 15a).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from lso.bus.cantata.product_catalog import offering_for, specification_for
from lso.bus.irp import irp_of
from lso.bus.order.records import PRODUCTS, REALIZATIONS, product_href
from lso.mef.dates import now_iso
from lso.mef.store import Document

_PRODUCT_IDS = uuid.UUID("6d1f0c1e-93c4-4f59-9a53-2f0d1c7b5e10")


def product_id(order_id: str, item_id: str) -> str:
    return str(uuid.uuid5(_PRODUCT_IDS, f"{order_id}/{item_id}"))


def install_products(
    session: Session,
    party: str,
    order: Document,
    plan: Document,
    services: dict[str, str],
    vlans: dict[str, int],
) -> list[Document]:
    """Create the active product of every item of ``order``; ``services`` maps item id → service id,
    ``vlans`` OVC item id → the S-VLAN ID it was given on its ENNI."""
    items = {item["id"]: item for item in order["productOrderItem"]}
    installed = []
    for step in plan["item"]:
        ident = product_id(order["id"], step["id"])
        existing = PRODUCTS.find(session, ident)
        if existing is not None:
            installed.append(existing)
            continue
        product = _product(ident, order, items[step["id"]], step, vlans.get(step["id"]))
        PRODUCTS.add(session, product, party=party, parent_id=order["id"])
        if step["id"] in services:
            REALIZATIONS.add(session, {"id": ident, "serviceId": services[step["id"]]}, party=party)
        installed.append(product)
    return installed


def realizing_services(session: Session, plan: Document) -> dict[str, str]:
    """The services that realise the inventory products ``plan`` refers to — the UNIs it connects to and
    the products it modifies or deletes (product id → service id). A UNI at a partner's site has none:
    the partner's product realises it (lso.bus.partners.offnet_order)."""
    found = {}
    for step in plan["item"]:
        for product in [uni.get("productId") for uni in step["uni"]] + [step.get("productId")]:
            realization = REALIZATIONS.find(session, product) if product else None
            if realization is not None:
                found[realization["id"]] = realization["serviceId"]
    return found


_PENDING = {"modify": "active.pendingChange", "delete": "pendingTerminate"}


def mark_changing(session: Session, plan: Document) -> None:
    """The products an acknowledged order modifies or deletes leave ``active`` until it is done, so no
    other order changes them meanwhile (Kylie MEFProductStatusType)."""
    for step in plan["item"]:
        if step.get("action", "add") in _PENDING:
            product = PRODUCTS.get(session, step["productId"])
            _move(product, _PENDING[step["action"]])
            PRODUCTS.put(session, product)


def settle_changes(session: Session, order: Document, plan: Document, done: set[str]) -> None:
    """The products the order modifies or deletes, once it ends: items in ``done`` took effect (new
    configuration, or ``terminated`` with its ``terminationDate``); the others leave the product as it was."""
    items = {item["id"]: item for item in order["productOrderItem"]}
    for step in plan["item"]:
        action = step.get("action", "add")
        if action not in _PENDING:
            continue
        product = PRODUCTS.get(session, step["productId"])
        if product["status"] not in _PENDING.values():  # settled by an earlier run of this step
            continue
        if step["id"] in done and action == "delete":
            _move(product, "terminated")
            product["terminationDate"] = product["lastUpdateDate"]
        else:
            if step["id"] in done:
                new = items[step["id"]]["product"]["productConfiguration"]
                product["productConfiguration"] = _keeping_enni_map(product["productConfiguration"], new)
            _move(product, "active")
        if step["id"] in done:
            product.setdefault("productOrderItem", []).append(
                {
                    "productOrderId": order["id"],
                    "productOrderHref": order["href"],
                    "productOrderItemId": step["id"],
                }
            )
        PRODUCTS.put(session, product)


def _keeping_enni_map(old: Document, new: Document) -> Document:
    """A modified OVC keeps the S-VLAN the seller assigned at the ENNI: the network did not change it."""
    assigned = old.get("enniEp", {}).get("ovcEndPointMap")
    if assigned is None or "enniEp" not in new:
        return new
    return {**new, "enniEp": {**new["enniEp"], "ovcEndPointMap": assigned}}


def _move(product: Document, status: str) -> None:
    now = now_iso()
    product["status"] = status
    product["lastUpdateDate"] = now
    product.setdefault("statusChange", []).append({"changeDate": now, "status": status})


def _product(ident: str, order: Document, item: Document, step: Document, vlan: int | None) -> Document:
    ordered = item["product"]
    now = now_iso()
    irp = irp_of(order["href"])
    product: dict[str, Any] = {
        "id": ident,
        "href": product_href(ident, irp),
        "startDate": now,
        "lastUpdateDate": now,
        "status": "active",
        "statusChange": [{"changeDate": now, "status": "active"}],
        "productConfiguration": ordered["productConfiguration"],
        "productOrderItem": [
            {
                "productOrderId": order["id"],
                "productOrderHref": order["href"],
                "productOrderItemId": item["id"],
            }
        ],
    }
    if vlan is not None:  # the S-VLAN the seller mapped the OVC End Point at the ENNI to
        configuration = product["productConfiguration"]
        end_point = {
            **configuration["enniEp"],
            "ovcEndPointMap": {"mapType": "FORM_E", "ovcEndPointMapFormE": [vlan]},
        }
        product["productConfiguration"] = {**configuration, "enniEp": end_point}
    schema = ordered["productConfiguration"]["@type"]
    offering = ordered.get("productOffering") or {"id": offering_for(schema, irp)}
    if offering["id"]:
        product["productOffering"] = {"id": offering["id"]}
    specification = specification_for(schema)
    if specification:
        product["productSpecification"] = {"id": specification}
    if step.get("siteId"):
        # The install location as resolved when the order was checked: always the seller's site.
        product["place"] = [
            {"role": "INSTALL_LOCATION", "place": {"@type": "GeographicSiteRef", "id": step["siteId"]}}
        ]
    relations = [
        {
            "id": uni["productId"] or product_id(order["id"], uni["itemId"]),
            "relationshipType": "CONNECTS_TO_UNI",
        }
        for uni in step["uni"]
    ] + [{"id": enni, "relationshipType": "CONNECTS_TO_ENNI"} for enni in step.get("enni", [])]
    if relations:
        product["productRelationship"] = [{**r, "href": product_href(r["id"], irp)} for r in relations]
    for name in ("billingAccount", "relatedContactInformation", "agreementName"):
        if item.get(name):
            product[name] = item[name]
    if item.get("requestedItemTerm"):
        product["productTerm"] = [item["requestedItemTerm"]]
    return product
