"""How an off-net EPL's plan is split between SOF and the partner, and how the partner's outcome decides
the customer's items: a partner that fails fails our EVC and the partner's UNI with its reason."""

from __future__ import annotations

from typing import Any

from lso.bus.partners.offnet_order import on_net, with_partner_outcomes
from lso.bus.products import EPL_EVC, SUBSCRIBER_UNI

PARTNER = {"partnerId": "paris", "siteId": "site-par-bercy", "enni": "enni-carrier-x-1"}
PLAN = {
    "id": "o-1",
    "item": [
        {
            "id": "uni-a",
            "schema": SUBSCRIBER_UNI,
            "siteId": "site-ldn-docklands",
            "uni": [],
            "enni": [],
            "partner": None,
        },
        {"id": "uni-z", "schema": SUBSCRIBER_UNI, "siteId": None, "uni": [], "enni": [], "partner": PARTNER},
        {
            "id": "evc",
            "schema": EPL_EVC,
            "siteId": None,
            "uni": [{"itemId": "uni-a", "productId": None}, {"itemId": "uni-z", "productId": None}],
            "enni": ["enni-carrier-x-1"],
            "partner": {**PARTNER, "uniItemId": "uni-z"},
        },
    ],
}
SHARES = [{"item_id": "evc", "partner_id": "paris", "uni_item_id": "uni-z"}]
SOF_DONE: dict[str, Any] = {
    "state": "completed",
    "item": {
        "uni-a": {"state": "completed", "action": "add", "serviceId": "s-uni"},
        "evc": {"state": "completed", "action": "add", "serviceId": "s-evc"},
    },
}


def test_sof_builds_the_on_net_uni_and_the_evc_to_the_enni() -> None:
    steps = {step["id"]: step for step in on_net(PLAN)["item"]}
    assert set(steps) == {"uni-a", "evc"}
    assert steps["evc"]["uni"] == [{"itemId": "uni-a", "productId": None}]
    assert steps["evc"]["enni"] == ["enni-carrier-x-1"]


def test_a_completed_partner_order_completes_the_partner_uni() -> None:
    folded = with_partner_outcomes(SOF_DONE, SHARES, {"evc": {"id": "p-1", "state": "completed"}})
    assert {k: v["state"] for k, v in folded["item"].items()} == dict.fromkeys(
        ("uni-a", "evc", "uni-z"), "completed"
    )


def test_a_failed_partner_order_fails_our_evc_and_its_uni_with_the_partners_reason() -> None:
    link = {"id": "p-2", "state": "failed", "reason": "no port left at site-par-bercy"}
    folded = with_partner_outcomes(SOF_DONE, SHARES, {"evc": link})["item"]
    assert folded["uni-a"]["state"] == "completed"
    for item_id in ("evc", "uni-z"):
        assert folded[item_id]["state"] == "failed"
        assert "no port left at site-par-bercy" in folded[item_id]["terminationError"][0]["value"]
