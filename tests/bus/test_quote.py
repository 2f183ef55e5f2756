"""CANTATA quotes: catalog prices by bandwidth, distance and term; budgetary and firm; immediate and
deferred with notifications; cancel and decline; bad input and party isolation."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lso.bus import pricing
from lso.bus.products import EPL_EVC
from tests.bus.test_poq import site, uni_item
from tests.bus.test_products import epl, rate
from tests.harness import EventListener, running_listener, wait_until

API = "/mefApi/cantata/quoteManagement/v4"


@pytest.fixture
def event_listener() -> Iterator[EventListener]:
    with running_listener() as listener:
        yield listener


def epl_quote(
    a: str = "site-ldn-docklands", z: str = "site-man-central", *, level: str = "firm", instant: bool = True,
    cir: float = 100, months: int = 12,
) -> dict[str, Any]:  # fmt: skip
    items = [uni_item("uni-a", site(a)), uni_item("uni-z", site(z))]
    items.append(
        {
            "id": "evc",
            "action": "add",
            "product": {
                "productOffering": {"id": "lso-epl"},
                "productConfiguration": epl(rate(cir), rate(cir)),
            },
            "requestedQuoteItemTerm": pricing.item_term(months),
            "quoteItemRelationship": [
                {"id": "uni-a", "relationshipType": "CONNECTS_TO_UNI"},
                {"id": "uni-z", "relationshipType": "CONNECTS_TO_UNI"},
            ],
        }
    )
    return {
        "instantSyncQuote": instant,
        "buyerRequestedQuoteLevel": level,
        "externalId": "acme-q",
        "quoteItem": items,
    }


def items_by_id(quote: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in quote["quoteItem"]}


def charge(item: dict[str, Any], price_type: str) -> float:
    [price] = [p for p in item["quoteItemPrice"] if p["priceType"] == price_type]
    return float(price["price"]["dutyFreeAmount"]["value"])


def test_immediate_firm_quote_is_orderable_and_priced_by_the_rules(acme: httpx.Client) -> None:
    response = acme.post(f"{API}/quote", json=epl_quote(cir=200, months=36))
    assert response.status_code == 201, response.text
    quote = response.json()
    assert quote["state"] == "approved.orderable" and quote["quoteLevel"] == "firm"
    assert [c["state"] for c in quote["stateChange"]] == ["approved.orderable"]
    assert "endDateTime" in quote["validFor"] and "effectiveQuoteCompletionDate" in quote
    evc = items_by_id(quote)["evc"]
    assert evc["state"] == "approved.orderable"
    assert evc["quoteItemTerm"][0]["duration"] == {"amount": 36, "units": "months"}
    assert charge(evc, "nonRecurring") == 0.0  # 36 months waive installation
    rule = pricing.EVC_RULES[EPL_EVC]
    # the MRC is the rule's, at a distance that must be positive between London and Manchester
    distance_part = charge(evc, "recurring") / 0.8 - rule.base_mrc - rule.mrc_per_mbps * 200
    assert distance_part > 0
    assert charge(items_by_id(quote)["uni-a"], "recurring") == pricing.uni_charges(1000, 12).mrc


def test_more_bandwidth_distance_and_shorter_terms_cost_more(acme: httpx.Client) -> None:
    def mrc(**kwargs: Any) -> float:
        return charge(
            items_by_id(acme.post(f"{API}/quote", json=epl_quote(**kwargs)).json())["evc"], "recurring"
        )

    assert mrc(cir=500) > mrc(cir=100)
    assert mrc(z="site-man-central") > mrc(z="site-ldn-city")
    assert mrc(months=12) > mrc(months=24) > mrc(months=36)


def test_budgetary_quote_is_answered(acme: httpx.Client) -> None:
    quote = acme.post(f"{API}/quote", json=epl_quote(level="budgetary")).json()
    assert quote["state"] == "answered" and quote["quoteLevel"] == "budgetary"
    assert {i["state"] for i in quote["quoteItem"]} == {"answered"}


def test_off_net_item_is_unable_to_provide(acme: httpx.Client) -> None:
    body = epl_quote()
    body["quoteItem"][1]["product"]["place"][0]["place"] = {
        "@type": "GeographicSiteRef",
        "id": "site-atlantis",
    }
    quote = acme.post(f"{API}/quote", json=body).json()
    items = items_by_id(quote)
    assert items["uni-z"]["state"] == "unableToProvide" and items["evc"]["state"] == "unableToProvide"
    assert "off-net" in items["evc"]["terminationError"][0]["value"]
    assert quote["state"] == "approved.orderable"  # uni-a alone can still be delivered


def test_deferred_quote_reaches_its_answer_with_events(
    acme: httpx.Client, event_listener: EventListener
) -> None:
    hub = acme.post(
        f"{API}/hub", json={"callback": event_listener.url, "query": "eventType=quoteStateChangeEvent"}
    )
    created = acme.post(f"{API}/quote", json=epl_quote(instant=False))
    assert created.status_code == 201, created.text
    quote = created.json()
    assert quote["state"] == "acknowledged" and "expectedQuoteCompletionDate" in quote
    url = f"{API}/quote/{quote['id']}"
    done = wait_until(lambda: (q := acme.get(url).json())["state"] == "approved.orderable" and q)
    assert [c["state"] for c in done["stateChange"]] == ["acknowledged", "inProgress", "approved.orderable"]
    assert charge(items_by_id(done)["evc"], "recurring") > 0
    events = wait_until(
        lambda: len(e := event_listener.about("quoteStateChangeEvent", quote["id"])) == 2 and e
    )
    assert sorted(e["event"]["state"] for e in events) == ["approved.orderable", "inProgress"]
    assert event_listener.received("quoteItemStateChangeEvent") == []  # the hub's query selected quotes only
    decline = acme.post(f"{API}/declineQuote", json={"quoteId": quote["id"], "reason": "too dear"})
    assert decline.status_code == 200 and decline.json()["quoteId"] == quote["id"]
    assert acme.get(url).json()["state"] == "declined"
    again = acme.post(f"{API}/cancelQuote", json={"quoteId": quote["id"]})
    assert again.status_code == 422 and again.json()[0]["propertyPath"] == "/quoteId"
    acme.delete(f"{API}/hub/{hub.json()['id']}")


def test_party_isolation(acme: httpx.Client, globex: httpx.Client) -> None:
    quote = acme.post(f"{API}/quote", json=epl_quote()).json()
    assert globex.get(f"{API}/quote/{quote['id']}").status_code == 404
    foreign = globex.post(f"{API}/declineQuote", json={"quoteId": quote["id"]})
    assert foreign.status_code == 422 and foreign.json()[0]["code"] == "referenceNotFound"
    assert acme.get(f"{API}/quote/{quote['id']}").json()["state"] == "approved.orderable"
    assert quote["id"] not in [q["id"] for q in globex.get(f"{API}/quote").json()]
    listed = acme.get(f"{API}/quote", params={"quoteLevel": "firm", "externalId": "acme-q"})
    assert quote["id"] in [q["id"] for q in listed.json()]


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda b: b.pop("buyerRequestedQuoteLevel"), "/buyerRequestedQuoteLevel"),
        (lambda b: b.update(buyerRequestedQuoteLevel="firmish"), "/buyerRequestedQuoteLevel"),
        (
            lambda b: b["quoteItem"][2].update(requestedQuoteItemTerm=pricing.item_term(18)),
            "/quoteItem/2/requestedQuoteItemTerm/duration",
        ),
        (
            lambda b: b["quoteItem"][2]["product"]["productConfiguration"].pop("evcEndPointA"),
            "/quoteItem/2/product/productConfiguration/evcEndPointA",
        ),
        (lambda b: b["quoteItem"][0].update(action="delete"), "/quoteItem/0/action"),
    ],
)
def test_invalid_quote_is_a_422_and_nothing_is_stored(acme: httpx.Client, mutate: Any, path: str) -> None:
    before = acme.get(f"{API}/quote").headers["X-Total-Count"]
    body = copy.deepcopy(epl_quote())
    mutate(body)
    response = acme.post(f"{API}/quote", json=body)
    assert response.status_code == 422, response.text
    assert path in [issue["propertyPath"] for issue in response.json()]
    assert acme.get(f"{API}/quote").headers["X-Total-Count"] == before
