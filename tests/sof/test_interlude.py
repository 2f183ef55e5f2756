"""The INTERLUDE option across two real domains (MEF 55.0.1 §10.2 steps 9b-a, 12–13).

A customer orders an EPL from an on-net site to Lyon, which only the partner reaches; the partner's
policy says INTERLUDE. Our SOF builds our segment to the ENNI, orders the partner's share from the
partner's SOF over INTERLUDE serviceOrdering, and the EVC is active only when our activation test and the
partner's (read over INTERLUDE serviceFunctionTesting) both passed. The partner's BUS learns of the order
over its own LEGATO. Every INTERLUDE answer the test reads is checked against the Kylie documents.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lso.bus.partners.interlude_sales import SALES
from lso.bus.partners.offnet_faults import withdrawal_key
from lso.bus.partners.ordering import PARTNER_ORDERS
from lso.bus.sonata_client import SonataClient
from lso.db import Database
from lso.settings import Settings
from lso.sof import end_to_end, records
from tests.bus.partners.test_onboarding import PARTNERS_PATH, registration, settled
from tests.bus.partners.test_partner_order import partner_orders
from tests.bus.test_order_bodies import ORDERING, epl_order
from tests.bus.test_order_fulfilment import _final
from tests.harness import party_client, wait_until
from tests.network import held_by_elements
from tests.sof.orders import delete_item
from tests.sof.test_activation import characteristic
from tests.sof.test_change import order_changes
from tests.twodomains import PARTNER_BUYER, PartnerDomain, admin_client, partner_domain

INTERLUDE_ORDERING = "/mefApi/interlude/serviceOrderingManagement/v1"
INTERLUDE_TESTING = "/mefApi/interlude/serviceFunctionTesting/v3"
INTERLUDE_INVENTORY = "/mefApi/interlude/serviceInventory/v2"
LEGATO_INVENTORY = "/mefApi/legato/serviceInventory/v7"
ADAGIO = "/adagio/v1"
SONATA_INVENTORY = "/mefApi/sonata/productInventory/v8"
LYON_PART_DIEU = {
    "@type": "GeographicAddress_Query",
    "fieldedAddressRepresentation": [
        {
            "streetNr": "5",
            "streetName": "Part-Dieu",
            "streetType": "Boulevard",
            "city": "Lyon",
            "postcode": "69003",
            "countryCode": "FR",
        }
    ],
}


@pytest.fixture(scope="module")
def partner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PartnerDomain]:
    with partner_domain(tmp_path_factory.mktemp("interlude-partner")) as running:
        yield running


@pytest.fixture
def buyer(partner: PartnerDomain) -> Iterator[httpx.Client]:
    """Our SOF's view of the partner: the buyer provider carrier-x on the partner's INTERLUDE."""
    with party_client(partner.base_url, *PARTNER_BUYER) as client:
        yield client


def _onboard_over_interlude(
    domain: Settings, partner: PartnerDomain, partner_enni: str = "enni-carrier-x-1", via: str = "interlude"
) -> str:
    """A partner on INTERLUDE (or ``via`` SONATA); the newest partner serving a place is asked first."""
    # Lyon only: the other partner tests' Paris places are never asked of this partner.
    body = registration(partner, policies={"areas": ["FR/Lyon"], "via": via, "priceCeiling": 5000})
    if via == "interlude":
        body["interludeUrl"] = partner.base_url
    body["enni"][0]["partnerEnniId"] = partner_enni
    with admin_client(domain) as admin:
        assert admin.post(PARTNERS_PATH, json=body).status_code == 201
        assert settled(admin, body["name"])["state"] == "active"
    return str(body["name"])


def _order_to_lyon(acme: httpx.Client, cir_mbps: float = 100) -> dict[str, Any]:
    """An EPL from an on-net site to Lyon (only the partner reaches it), once its order has ended."""
    body = epl_order("site-ldn-docklands", "site-ldn-city", cir_mbps)
    body["productOrderItem"][1]["product"]["place"][0]["place"] = LYON_PART_DIEU
    created = acme.post(f"{ORDERING}/productOrder", json=body)
    assert created.status_code == 201, created.text
    return _final(acme, created.json()["id"])


def _order_to_lyon_with_our_segment_failing(acme: httpx.Client, icm: httpx.Client) -> dict[str, Any]:
    """The order to Lyon while frames are lost at the on-net UNI's element (ADAGIO's admin, as
    `lso sim impair` does): our segment fails its activation test."""
    impaired = icm.put(f"{ADAGIO}/admin/impairments/pe-ldn-1", json={"lossRatio": 0.5})
    assert impaired.status_code == 200, impaired.text
    try:
        return _order_to_lyon(acme)
    finally:
        icm.delete(f"{ADAGIO}/admin/impairments/pe-ldn-1")


def _our_evc(domain: Settings, order: dict[str, Any]) -> dict[str, Any]:
    (evc,) = _rows(domain.database_url, records.SERVICES, {"externalId": order["id"], "serviceType": "EVC"})
    return evc


def _share_services(buyer: httpx.Client, evc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The partner's services of the share our SOF ordered for ``evc``, by the item that made them."""
    key = f"interlude:{evc['serviceOrderItem'][0]['serviceOrderId']}:{evc['serviceOrderItem'][0]['itemId']}"
    found = buyer.get(f"{INTERLUDE_INVENTORY}/service", params={"externalId": key}).json()
    return {s["serviceOrderItem"][0]["itemId"]: s for s in found}


def _partner_holds_nothing(buyer: httpx.Client, evc: dict[str, Any]) -> bool:
    states = {item: service["state"] for item, service in _share_services(buyer, evc).items()}
    return states == {"uni": "terminated", "ovc": "terminated"}


def _active_off_net_epl(
    acme: httpx.Client, buyer: httpx.Client, partner: PartnerDomain, domain: Settings
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A completed off-net EPL (CIR 40 Mbit/s) over INTERLUDE: our EVC and the partner's share of it."""
    _onboard_over_interlude(domain, partner)
    order = _order_to_lyon(acme, cir_mbps=40)
    assert order["state"] == "completed", order
    evc = _our_evc(domain, order)
    share = _share_services(buyer, evc)
    assert {i: s["state"] for i, s in share.items()} == {"uni": "active", "ovc": "active"}
    return evc, share


def _modify_item(evc: dict[str, Any], cir_mbps: float) -> dict[str, Any]:
    """A LEGATO modify of ``evc``'s CIR as BUS sends it (no identifier: SOF keeps the service's)."""
    configuration = {k: v for k, v in evc["serviceConfiguration"].items() if k != "identifier"}
    configuration["ingressBwp"] = {
        **configuration["ingressBwp"],
        "cir": {"irValue": cir_mbps, "irUnits": "MBPS"},
    }
    return {
        "id": "m",
        "action": "modify",
        "service": {"id": evc["id"], "serviceConfiguration": configuration},
    }


def _partner_orders(buyer: httpx.Client, external_id: str) -> list[dict[str, Any]]:
    return list(buyer.get(f"{INTERLUDE_ORDERING}/serviceOrder", params={"externalId": external_id}).json())


def _rows(url: str, store: Any, filters: dict[str, str]) -> list[dict[str, Any]]:
    db = Database(url)
    try:
        with db.read() as session:
            found, _ = store.list(session, party=None, filters=filters, offset=0, limit=10)
            return list(found)
    finally:
        db.dispose()


def test_an_off_net_epl_over_interlude_is_active_after_both_shares_passed_the_test(
    acme: httpx.Client, buyer: httpx.Client, partner: PartnerDomain, domain: Settings
) -> None:
    partner_id = _onboard_over_interlude(domain, partner)
    order = _order_to_lyon(acme)
    assert order["state"] == "completed", order
    assert {i["state"] for i in order["productOrderItem"]} == {"completed"}

    # BUS bought nothing over SONATA: our SOF ordered the partner's share over INTERLUDE.
    assert _rows(domain.database_url, PARTNER_ORDERS, {"productOrderId": order["id"]}) == []
    evc = _our_evc(domain, order)
    facts = {c["name"]: c["value"] for c in evc["serviceCharacteristic"]}
    assert facts["partnerServiceOrder"]["partnerId"] == partner_id
    test = facts["endToEndActivationTest"]
    assert test["verdict"] == "pass" and test["testJobId"] == facts["testJob"]

    # The partner's SOF holds the INTERLUDE order, completed, and its activation test of the OVC passed.
    placed = buyer.get(f"{INTERLUDE_ORDERING}/serviceOrder/{facts['partnerServiceOrder']['id']}")
    assert placed.status_code == 200, placed.text
    assert placed.json()["state"] == "completed"
    assert placed.json()["externalId"].startswith("interlude:")
    job = buyer.get(f"{INTERLUDE_TESTING}/testJob/{test['partnerTestJobId']}").json()
    assert job["state"] == "completed" and job["verdict"] == "pass"
    # a test job our SOF created after both parts were active, of the partner's OVC
    assert job["name"] == f"end-to-end:{evc['serviceOrderItem'][0]['serviceOrderId']}:evc"
    ovc = job["serviceSpecificTestJobConfiguration"]["evcServiceId"]
    assert job["relatedServiceTo"]["id"] == ovc != evc["id"]
    results = buyer.get(f"{INTERLUDE_TESTING}/testResult", params={"testJobId": job["id"]}).json()
    assert sorted(r["id"] for r in results) == sorted(test["partnerTestResult"])
    assert all(r["serviceSpecificTestResultConfiguration"]["verdict"] == "pass" for r in results)

    # The partner's BUS learned of the order over its own LEGATO and keeps it for billing.
    partner_db = f"sqlite:///{Path(partner.data_dir) / 'lso.sqlite'}"
    sale = wait_until(
        lambda: next(
            (
                s
                for s in _rows(partner_db, SALES, {})
                if s["id"] == placed.json()["id"] and s["state"] == "completed"
            ),
            None,
        )
    )
    assert {i["id"]: i["state"] for i in sale["serviceOrderItem"]} == {"uni": "completed", "ovc": "completed"}


def test_interlude_serves_buyer_providers_their_own_orders_only(
    buyer: httpx.Client, partner: PartnerDomain
) -> None:
    with party_client(partner.base_url, "acme", "acme-secret") as customer:
        refused = customer.get(f"{INTERLUDE_ORDERING}/serviceOrder")
        assert refused.status_code == 403 and refused.json()["code"] == "accessDenied"
    assert buyer.get(f"{INTERLUDE_ORDERING}/serviceOrder/no-such-order").status_code == 404
    # The partner's own BUS orders (LEGATO) are not the buyer's: none is listed to it.
    listed = buyer.get(f"{INTERLUDE_ORDERING}/serviceOrder").json()
    assert all(o["externalId"].startswith("interlude:") for o in listed)
    # A test job names a service of the caller's: anything else is a 422 at the reference.
    job = {
        "name": "probe",
        "requestedEndDateTime": "2030-01-01T00:00:00Z",
        "testProfile": {"@type": "TestProfileRef", "id": "lso-y1564-activation"},
        "relatedServiceFrom": {"id": "no-such-service"},
        "relatedServiceTo": {"id": "no-such-service"},
        "serviceSpecificTestJobConfiguration": {
            "@type": "lso:y1564-activation",
            "evcServiceId": "no-such-service",
        },
    }
    refused = buyer.post(f"{INTERLUDE_TESTING}/testJob", json=job)
    assert refused.status_code == 422, refused.text
    assert refused.json()[0]["propertyPath"] == "/serviceSpecificTestJobConfiguration/evcServiceId"


def test_a_partner_refusing_its_share_fails_the_evc_and_rolls_our_segment_back(
    acme: httpx.Client, partner: PartnerDomain, domain: Settings
) -> None:
    # The partner does not know this ENNI: its SOF refuses the OVC of the INTERLUDE order.
    partner_id = _onboard_over_interlude(domain, partner, partner_enni="enni-unknown")
    order = _order_to_lyon(acme)
    assert order["state"] == "failed", order
    evc_item = next(i for i in order["productOrderItem"] if i["id"] == "evc")
    assert f"partner {partner_id}" in evc_item["terminationError"][0]["value"]
    # Our segment is taken down again: the EVC service SOF built is terminated, its S-VLAN released.
    assert _our_evc(domain, order)["state"] == "terminated"


def test_modify_and_delete_of_an_off_net_epl_change_the_partner_share_too(
    acme: httpx.Client, bus: httpx.Client, buyer: httpx.Client, partner: PartnerDomain, domain: Settings
) -> None:
    evc, share = _active_off_net_epl(acme, buyer, partner, domain)

    # BUS changes our EVC's bandwidth over LEGATO (as for an on-net EPL); SOF changes the partner's OVC.
    modified = order_changes(bus, _modify_item(evc, cir_mbps=60))
    assert modified["state"] == "completed", modified
    ours = bus.get(f"{LEGATO_INVENTORY}/service/{evc['id']}").json()
    theirs = buyer.get(f"{INTERLUDE_INVENTORY}/service/{share['ovc']['id']}").json()
    for service in (ours, theirs):
        assert service["state"] == "active"
        assert service["serviceConfiguration"]["ingressBwp"]["cir"]["irValue"] == 60
    assert len(_partner_orders(buyer, f"interludeModify:{modified['id']}:m")) == 1

    deleted = order_changes(bus, delete_item("d", evc["id"]))
    assert deleted["state"] == "completed", deleted
    assert bus.get(f"{LEGATO_INVENTORY}/service/{evc['id']}").json()["state"] == "terminated"
    (deletion,) = _partner_orders(buyer, f"interludeDelete:{deleted['id']}:d")
    assert deletion["state"] == "completed"
    assert _partner_holds_nothing(buyer, evc)


def test_a_partner_refusing_a_modify_leaves_our_segment_as_it_was(
    acme: httpx.Client,
    bus: httpx.Client,
    buyer: httpx.Client,
    icm: httpx.Client,
    partner: PartnerDomain,
    domain: Settings,
) -> None:
    evc, share = _active_off_net_epl(acme, buyer, partner, domain)
    # The partner's share is gone behind our back (its buyer deleted it): the partner cannot modify it.
    gone = {
        "externalId": f"gone:{uuid.uuid4()}",
        "requestedStartDate": "2030-01-01T00:00:00Z",
        "requestedCompletionDate": "2030-01-01T00:00:00Z",
        "serviceOrderItem": [
            delete_item("d-ovc", share["ovc"]["id"]),
            delete_item("d-uni", share["uni"]["id"]),
        ],
    }
    deleted = buyer.post(f"{INTERLUDE_ORDERING}/serviceOrder", json=gone)
    assert deleted.status_code == 201, deleted.text
    wait_until(lambda: _partner_holds_nothing(buyer, evc))

    modified = order_changes(bus, _modify_item(evc, cir_mbps=60))
    assert modified["state"] == "failed", modified
    reason = modified["serviceOrderItem"][0]["terminationError"][0]["value"]
    assert "partner" in reason and "keeps its bandwidth profile" in reason, reason
    ours = bus.get(f"{LEGATO_INVENTORY}/service/{evc['id']}").json()
    assert ours["state"] == "active" and ours["serviceConfiguration"]["ingressBwp"]["cir"]["irValue"] == 40
    held = held_by_elements(icm, characteristic(evc, "connectivityService"))
    assert held and all(
        p["ingressBandwidthProfile"]["cir"] == 40_000_000 for c in held.values() for p in c["uniPorts"]
    )
    # With nothing left at the partner, deleting our EVC orders nothing from it.
    removed = order_changes(bus, delete_item("d", evc["id"]))
    assert removed["state"] == "completed", removed
    assert _partner_orders(buyer, f"interludeDelete:{removed['id']}:d") == []


def test_a_share_that_fails_the_end_to_end_test_is_withdrawn_and_our_segment_released(
    acme: httpx.Client,
    buyer: httpx.Client,
    icm: httpx.Client,
    partner: PartnerDomain,
    domain: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    partner_id = _onboard_over_interlude(domain, partner)
    real = end_to_end.read_partner_test

    def failed(partner_id: str, job_id: str) -> dict[str, Any]:
        """The partner's test job as it really ended, said to have failed (an injected fault)."""
        return {**real(partner_id, job_id), "verdict": "fail", "reason": "injected: the OVC lost frames"}

    monkeypatch.setattr(end_to_end, "read_partner_test", failed)
    order = _order_to_lyon(acme)
    monkeypatch.undo()

    assert order["state"] == "failed", order
    reason = next(i for i in order["productOrderItem"] if i["id"] == "evc")["terminationError"][0]["value"]
    assert f"partner {partner_id}" in reason and "injected" in reason and "withdrawn" in reason, reason
    evc = _our_evc(domain, order)
    assert evc["state"] == "terminated"
    assert held_by_elements(icm, characteristic(evc, "connectivityService")) == {}
    # The partner completed its share, then deleted it on our one withdrawal order: it holds nothing.
    item = evc["serviceOrderItem"][0]
    (withdrawal,) = _partner_orders(buyer, f"interludeWithdraw:{item['serviceOrderId']}:{item['itemId']}")
    assert withdrawal["state"] == "completed"
    assert _partner_holds_nothing(buyer, evc)


def test_our_segment_failing_fails_the_customer_item_and_orders_nothing_from_the_partner(
    acme: httpx.Client, buyer: httpx.Client, icm: httpx.Client, partner: PartnerDomain, domain: Settings
) -> None:
    _onboard_over_interlude(domain, partner)
    order = _order_to_lyon_with_our_segment_failing(acme, icm)

    assert order["state"] == "failed", order
    evc_item = next(i for i in order["productOrderItem"] if i["id"] == "evc")
    assert "activation test failed" in evc_item["terminationError"][0]["value"]
    evc = _our_evc(domain, order)
    assert evc["state"] == "terminated"
    assert held_by_elements(icm, characteristic(evc, "connectivityService")) == {}
    # SOF orders the partner's share only once our segment passed its test: the partner holds nothing.
    item = evc["serviceOrderItem"][0]
    assert _partner_orders(buyer, f"interlude:{item['serviceOrderId']}:{item['itemId']}") == []


def test_our_segment_failing_withdraws_a_share_bought_over_sonata_with_one_delete_order(
    acme: httpx.Client, icm: httpx.Client, partner: PartnerDomain, domain: Settings
) -> None:
    """The same fault with a partner on SONATA: BUS bought the share while SOF built our segment, so the
    partner completed it; once our segment failed, BUS deletes it with one SONATA order."""
    _onboard_over_interlude(domain, partner, via="sonata")
    order = _order_to_lyon_with_our_segment_failing(acme, icm)

    evc_item = next(i for i in order["productOrderItem"] if i["id"] == "evc")
    assert evc_item["state"] == "failed", order
    assert "activation test failed" in evc_item["terminationError"][0]["value"], evc_item
    evc = _our_evc(domain, order)
    assert evc["state"] == "terminated"
    assert held_by_elements(icm, characteristic(evc, "connectivityService")) == {}
    assert len(partner_orders(partner, withdrawal_key(order["id"], "evc"))) == 1  # one delete order
    (placed,) = _rows(domain.database_url, PARTNER_ORDERS, {"productOrderId": order["id"]})
    products = [i["productId"] for i in placed["partnerOrderItem"]]
    client = SonataClient.connect(partner.base_url, *PARTNER_BUYER)
    try:
        wait_until(
            lambda: (
                {client.http.get(f"{SONATA_INVENTORY}/product/{p}").json()["status"] for p in products}
                == {"terminated"}
            )
        )
    finally:
        client.close()
