"""Steps 3a-3e across two domains: a customer's POQ and quote for an EPL from an on-net site to an address
only the partner reaches. Our segment runs to our side of the ENNI (at London City, pe-ldn-2); the partner
qualifies and prices the rest over SONATA, and its price is folded into the customer's EVC price."""

from __future__ import annotations

from typing import Any

import httpx

from lso.bus.partners.offnet import PartnerSite, request_offer
from lso.bus.pricing import item_term
from tests.bus.partners.test_partner_order import onboarded
from tests.bus.test_poq import API as POQ_API
from tests.bus.test_poq import epl_poq, items_by_id, site
from tests.bus.test_quote import API as QUOTE_API
from tests.bus.test_quote import charge, epl_quote
from tests.twodomains import PartnerDomain

PARIS_BERCY = {
    "@type": "GeographicAddress_Query",
    "fieldedAddressRepresentation": [
        {"streetNr": "40", "streetName": "Bercy", "streetType": "Quai", "city": "Paris", "postcode": "75012",
         "countryCode": "FR"}
    ],
}  # fmt: skip
ENNI_SITE = "site-ldn-city"  # where our side of the ENNI towards the partner is (pe-ldn-2)


def off_net_quote(cir: float, months: int = 12) -> dict[str, Any]:
    quote = epl_quote("site-ldn-docklands", "site-ldn-city", cir=cir, months=months)
    quote["quoteItem"][1]["product"]["place"][0]["place"] = PARIS_BERCY
    return quote


def test_an_off_net_poq_is_qualified_by_the_partner(
    acme: httpx.Client, admin: httpx.Client, sonata_partner: PartnerDomain
) -> None:
    onboarded(admin, sonata_partner)
    response = acme.post(
        f"{POQ_API}/productOfferingQualification", json=epl_poq(site("site-ldn-docklands"), PARIS_BERCY)
    )
    assert response.status_code == 201, response.text
    items = items_by_id(response.json())
    assert {items[i]["serviceabilityConfidence"] for i in ("uni-a", "uni-z", "evc")} == {"green"}, items


def test_an_off_net_quote_includes_the_partner_price(
    acme: httpx.Client, admin: httpx.Client, sonata_partner: PartnerDomain
) -> None:
    partner_id = onboarded(admin, sonata_partner)
    on_net = acme.post(f"{QUOTE_API}/quote", json=epl_quote("site-ldn-docklands", ENNI_SITE, cir=200)).json()
    response = acme.post(f"{QUOTE_API}/quote", json=off_net_quote(200))
    assert response.status_code == 201, response.text
    quote = response.json()
    assert quote["state"] == "approved.orderable", quote
    ours = {k: charge(items_by_id_q(on_net)["evc"], k) for k in ("recurring", "nonRecurring")}
    theirs = partner_price(admin, sonata_partner, partner_id, 200)
    evc = items_by_id_q(quote)["evc"]
    assert charge(evc, "recurring") == round(ours["recurring"] + theirs["recurring"], 2)
    assert charge(evc, "nonRecurring") == round(ours["nonRecurring"] + theirs["nonRecurring"], 2)
    assert theirs["recurring"] > 0


def test_the_partner_is_quoted_the_customers_term(
    acme: httpx.Client, admin: httpx.Client, sonata_partner: PartnerDomain
) -> None:
    partner_id = onboarded(admin, sonata_partner)
    theirs = partner_price(admin, sonata_partner, partner_id, 200, months=36)
    assert theirs != partner_price(admin, sonata_partner, partner_id, 200, months=12)  # the term matters
    on_net = acme.post(
        f"{QUOTE_API}/quote", json=epl_quote("site-ldn-docklands", ENNI_SITE, cir=200, months=36)
    )
    quote = acme.post(f"{QUOTE_API}/quote", json=off_net_quote(200, months=36)).json()
    assert quote["state"] == "approved.orderable", quote
    evc, ours = items_by_id_q(quote)["evc"], items_by_id_q(on_net.json())["evc"]
    for kind in ("recurring", "nonRecurring"):
        assert charge(evc, kind) == round(charge(ours, kind) + theirs[kind], 2)


def items_by_id_q(quote: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in quote["quoteItem"]}


def partner_price(
    admin: httpx.Client, partner: PartnerDomain, partner_id: str, cir: float, months: int = 12
) -> dict[str, float]:
    """What the partner asks for its share, asked directly (its prices are rules: the same every time)."""
    record = admin.get(f"/admin/partners/{partner_id}").json()
    record["clientSecret"] = "carrier-x-secret"
    where = PartnerSite(record, {"id": "site-par-bercy"})
    offer = request_offer(where, cir, 0.0, item_term(months), "lso")
    return {"recurring": offer.mrc, "nonRecurring": offer.nrc}
