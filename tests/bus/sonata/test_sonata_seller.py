"""The domain as a SONATA seller (MEF 55.0.1 §10.2 steps 3d and 6, partner side): a buyer provider finds
our Access E-Line offering and its ENNI with us, qualifies and orders an OVC from an operator UNI to that
ENNI, and the OVC is active in our network with the UNI and an S-VLAN on the ENNI configured."""

from __future__ import annotations

from typing import Any

import httpx

from lso.bus.products import ACCESS_ELINE_OVC, ENNI, EPL_EVC
from lso.icm.topology import sip_uuid
from lso.settings import Settings
from tests.bus.sonata.bodies import (
    CATALOG,
    DUE,
    ENNI_ID,
    INVENTORY,
    ORDERING,
    POQ,
    QUOTE,
    SITES,
    access_eline,
    access_eline_order,
    access_eline_poq,
    access_eline_quote,
)
from tests.bus.test_order_bodies import change_order, delete_item, evc_item, uni_item
from tests.harness import wait_until
from tests.network import element_configurations, held_by_elements, sip_state

FINAL = {"completed", "failed", "partial", "rejected"}
LEGATO_INVENTORY = "/mefApi/legato/serviceInventory/v7"


def _final(client: httpx.Client, order_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        order: dict[str, Any] = client.get(f"{ORDERING}/productOrder/{order_id}").json()
        return order if order["state"] in FINAL else None

    found: dict[str, Any] = wait_until(done, timeout=120)
    return found


def test_the_sonata_catalog_sells_access_eline_and_operator_uni_only(
    carrier_x: httpx.Client, acme: httpx.Client
) -> None:
    sonata = {o["id"] for o in carrier_x.get(f"{CATALOG}/productOffering").json()}
    assert sonata == {"lso-access-eline", "lso-operator-uni"}
    offering = carrier_x.get(f"{CATALOG}/productOffering/lso-access-eline").json()
    assert offering["productOfferingSpecificationSchema"]["schemaLocation"] == ACCESS_ELINE_OVC
    assert offering["channel"] == ["SONATA"] and offering["href"].endswith(
        f"{CATALOG}/productOffering/lso-access-eline"
    )
    relations = {c["relationshipType"] for c in offering["productRelationshipConstraint"]}
    assert relations == {"CONNECTS_TO_UNI", "CONNECTS_TO_ENNI"}
    assert carrier_x.get(f"{CATALOG}/productOffering/lso-epl").status_code == 404
    cantata = {o["id"] for o in acme.get("/mefApi/cantata/productCatalog/v4/productOffering").json()}
    assert "lso-access-eline" not in cantata and "lso-epl" in cantata


def test_the_buyer_finds_its_enni_in_its_sonata_inventory(
    carrier_x: httpx.Client, carrier_y: httpx.Client
) -> None:
    [enni] = carrier_x.get(
        f"{INVENTORY}/product", params={"productSpecificationId": "carrier-ethernet-enni-sp-so"}
    ).json()
    assert enni["id"] == ENNI_ID and enni["status"] == "active"
    full = carrier_x.get(f"{INVENTORY}/product/{ENNI_ID}").json()
    assert full["productConfiguration"]["@type"] == ENNI
    assert full["place"][0]["place"]["id"] == "site-ldn-city"  # where pe-ldn-2 terminates it
    assert carrier_x.get(f"{CATALOG}/productSpecification/carrier-ethernet-enni-sp-so").status_code == 200
    assert carrier_y.get(f"{INVENTORY}/product/{ENNI_ID}").status_code == 404


def test_sonata_serves_buyer_providers_only(acme: httpx.Client) -> None:
    response = acme.get(f"{CATALOG}/productOffering")
    assert response.status_code == 403 and response.json()["code"] == "accessDenied"


def test_buyer_and_seller_ids_as_mef_123(carrier_x: httpx.Client, domain: Settings) -> None:
    """Optional; when given they must name the requester's own buyer and this seller (MEF 123 §5.3)."""
    offerings = f"{CATALOG}/productOffering"
    assert carrier_x.get(offerings, params={"buyerId": "carrier-x"}).status_code == 200
    assert carrier_x.get(offerings, params={"sellerId": domain.name}).status_code == 200
    for params in ({"buyerId": "globex"}, {"sellerId": "someone-else"}):
        refused = carrier_x.get(offerings, params=params)
        assert refused.status_code == 403 and refused.json()["code"] == "accessDenied", params
    order = carrier_x.post(
        f"{ORDERING}/productOrder", params={"buyerId": "acme"}, json=access_eline_order("site-ldn-city")
    )
    assert order.status_code == 403


def test_site_and_poq_for_an_access_eline(carrier_x: httpx.Client) -> None:
    site = carrier_x.get(f"{SITES}/geographicSite/site-ldn-city").json()
    assert site["href"].endswith(f"{SITES}/geographicSite/site-ldn-city")
    poq = carrier_x.post(f"{POQ}/productOfferingQualification", json=access_eline_poq("site-ldn-city", 200))
    assert poq.status_code == 201, poq.text
    body = poq.json()
    assert body["state"] == "done" and body["href"].startswith(f"{carrier_x.base_url}{POQ}/")
    answers = {i["id"]: i["serviceabilityConfidence"] for i in body["productOfferingQualificationItem"]}
    assert answers == {"uni": "green", "ovc": "green"}


def test_a_firm_quote_prices_the_access_eline_and_its_uni(carrier_x: httpx.Client) -> None:
    quote = carrier_x.post(f"{QUOTE}/quote", json=access_eline_quote("site-man-central", 200))
    assert quote.status_code == 201, quote.text
    body = quote.json()
    assert body["state"] == "approved.orderable" and body["href"].startswith(f"{carrier_x.base_url}{QUOTE}/")
    items = {item["id"]: item for item in body["quoteItem"]}
    ovc_mrc = next(p for p in items["ovc"]["quoteItemPrice"] if p["priceType"] == "recurring")
    # Wholesale rule: 150 base + 1.0/Mbit/s of CIR + 0.8/km between Manchester and the ENNI in London.
    assert ovc_mrc["price"]["dutyFreeAmount"]["value"] > 150 + 200
    assert {item["state"] for item in items.values()} == {"approved.orderable"}


def test_only_the_enni_s_own_buyer_can_qualify_an_ovc_to_it(carrier_y: httpx.Client) -> None:
    poq = carrier_y.post(f"{POQ}/productOfferingQualification", json=access_eline_poq("site-ldn-city"))
    assert poq.status_code == 201, poq.text
    answers = {i["id"]: i for i in poq.json()["productOfferingQualificationItem"]}
    assert answers["ovc"]["serviceabilityConfidence"] == "red"
    assert ENNI_ID in answers["ovc"]["serviceabilityConfidenceReason"]


def test_an_access_eline_order_completes_and_the_ovc_reaches_the_enni(
    carrier_x: httpx.Client, carrier_y: httpx.Client, icm: httpx.Client, bus: httpx.Client
) -> None:
    created = carrier_x.post(f"{ORDERING}/productOrder", json=access_eline_order("site-ldn-docklands", 150))
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["href"].endswith(f"{ORDERING}/productOrder/{order['id']}")
    assert carrier_y.get(f"{ORDERING}/productOrder/{order['id']}").status_code == 404

    done = _final(carrier_x, order["id"])
    assert done["state"] == "completed", [i.get("terminationError") for i in done["productOrderItem"]]

    products = carrier_x.get(f"{INVENTORY}/product", params={"productOrderId": order["id"]}).json()
    [ovc] = [p for p in products if p["productSpecification"]["id"] == "access-eline-ovc"]
    ovc = carrier_x.get(f"{INVENTORY}/product/{ovc['id']}").json()
    relations = {(r["relationshipType"], r["id"]) for r in ovc["productRelationship"]}
    assert ("CONNECTS_TO_ENNI", ENNI_ID) in relations and len(relations) == 2
    assert carrier_y.get(f"{INVENTORY}/product/{ovc['id']}").status_code == 404

    # In the network: the OVC's connectivity service (as SOF's service inventory names it) holds a UNI
    # port of pe-ldn-1 (Docklands) and an S-VLAN of the ENNI port of pe-ldn-2, which terminates the ENNI.
    [evc] = [
        s
        for s in bus.get(LEGATO_INVENTORY + "/service", params={"externalId": order["id"]}).json()
        if s.get("serviceType") == "EVC"
    ]
    evc = bus.get(f"{LEGATO_INVENTORY}/service/{evc['id']}").json()
    service = next(c["value"] for c in evc["serviceCharacteristic"] if c["name"] == "connectivityService")
    held = held_by_elements(icm, service)
    [enni_end] = [p for p in held["pe-ldn-2"]["uniPorts"] if p["port"] == "enni-1"]
    assert any(p["port"].startswith("uni-") for p in held["pe-ldn-1"]["uniPorts"])
    at_enni = {service: enni_end["sVlanId"]}
    assert 100 <= at_enni[service] <= 199  # the ENNI's S-VLAN range in the demo footprint
    # ... and the buyer learns that S-VLAN from its product, to map the OVC to it on its side.
    end_point_map = ovc["productConfiguration"]["enniEp"]["ovcEndPointMap"]
    assert end_point_map == {"mapType": "FORM_E", "ovcEndPointMapFormE": [at_enni[service]]}

    # A new bandwidth profile reaches the network; the OVC keeps its S-VLAN.
    faster: dict[str, Any] = {"id": "ovc", "action": "modify", "requestedCompletionDate": DUE}
    faster["product"] = {"id": ovc["id"], "productConfiguration": access_eline(300)["productConfiguration"]}
    modified = carrier_x.post(f"{ORDERING}/productOrder", json=change_order(faster))
    assert modified.status_code == 201, modified.text
    assert _final(carrier_x, modified.json()["id"])["state"] == "completed"
    ovc = carrier_x.get(f"{INVENTORY}/product/{ovc['id']}").json()
    assert ovc["productConfiguration"]["enniEp"]["ovcEndPointMap"] == end_point_map
    assert (
        ovc["productConfiguration"]["uniEp"]["ingressBandwidthProfilePerClassOfServiceName"][0]["bwpFlow"][
            "cir"
        ]["irValue"]
        == 300
    )
    [held_now] = [c for c in element_configurations(icm)["pe-ldn-1"] if c["serviceId"] == service]
    assert {p["ingressBandwidthProfile"]["cir"] for p in held_now["uniPorts"]} == {300_000_000}

    # Disconnecting the OVC (and its UNI) gives the S-VLAN on the ENNI back.
    enni_sip = sip_uuid("pe-ldn-2", f"enni-1.{at_enni[service]}")
    assert sip_state(icm, enni_sip) == "IN_USE"
    [uni] = [p["id"] for p in products if p["id"] != ovc["id"]]
    disconnect = change_order(delete_item("ovc", ovc["id"]), delete_item("uni", uni))
    deleted = carrier_x.post(f"{ORDERING}/productOrder", json=disconnect)
    assert deleted.status_code == 201, deleted.text
    assert _final(carrier_x, deleted.json()["id"])["state"] == "completed"
    assert carrier_x.get(f"{INVENTORY}/product/{ovc['id']}").json()["status"] == "terminated"
    assert sip_state(icm, enni_sip) == "AVAILABLE"


def test_bad_sonata_orders_are_refused_and_nothing_is_stored(
    carrier_x: httpx.Client, carrier_y: httpx.Client
) -> None:
    before = carrier_x.get(f"{ORDERING}/productOrder").headers["X-Total-Count"]

    epl = {
        **access_eline_order("site-ldn-city"),
        "productOrderItem": [
            uni_item("a", "site-ldn-city"),
            uni_item("z", "site-bir-hub"),
            evc_item("e", ("a", "z")),
        ],
    }
    refused = carrier_x.post(f"{ORDERING}/productOrder", json=epl)
    assert refused.status_code == 422
    paths = {issue["propertyPath"] for issue in refused.json()}
    assert "/productOrderItem/2/product/productConfiguration/@type" in paths
    assert EPL_EVC in refused.text

    no_enni = access_eline_order("site-ldn-city")
    no_enni["productOrderItem"][1]["product"].pop("productRelationship")
    refused = carrier_x.post(f"{ORDERING}/productOrder", json=no_enni)
    assert refused.status_code == 422
    assert {i["propertyPath"] for i in refused.json()} == {"/productOrderItem/1/product/productRelationship"}

    # Another buyer cannot name carrier-x's ENNI: to it, that product does not exist.
    foreign = carrier_y.post(f"{ORDERING}/productOrder", json=access_eline_order("site-ldn-city"))
    assert foreign.status_code == 422
    assert foreign.json()[0]["code"] == "referenceNotFound"

    assert carrier_x.get(f"{ORDERING}/productOrder").headers["X-Total-Count"] == before
    assert carrier_y.get(f"{ORDERING}/productOrder").headers["X-Total-Count"] == "0"
