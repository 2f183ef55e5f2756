"""Step 6 end to end across two domains: a customer orders an EPL from an on-net site to an address only
the partner reaches; SOF builds our segment to the ENNI, the partner its Access E-Line OVC, and the
customer's order completes only when both are done, with the partner's order ids kept — with the
provider on SQLite and on PostgreSQL, in one process and spread over three (issue #3 item 8)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from lso.bus.partners.ordering import PARTNER_ORDERS
from lso.db import Database
from lso.settings import Settings
from tests.bus.partners.test_offnet_preorder import PARIS_BERCY
from tests.bus.partners.test_partner_order import onboarded, partner_orders
from tests.bus.test_order_bodies import ORDERING, epl_order
from tests.bus.test_order_fulfilment import _final
from tests.twodomains import PartnerDomain, admin_client, partner_domain


@pytest.fixture
def partner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PartnerDomain]:
    """A partner for each provider: the demo providers all buy as ``carrier-x`` over the same ENNI, which
    two real providers never would."""
    with partner_domain(tmp_path_factory.mktemp("partner")) as running:
        yield running


def test_an_off_net_epl_completes_with_the_partner_order_recorded(
    any_acme: httpx.Client, any_domain: Settings, sonata_partner: PartnerDomain
) -> None:
    """On SQLite and (marked postgres, required in CI) with the provider on PostgreSQL."""
    acme, domain = any_acme, any_domain
    with admin_client(domain) as admin:
        onboarded(admin, sonata_partner)
    body = epl_order("site-ldn-docklands", "site-ldn-city", 100)
    body["productOrderItem"][1]["product"]["place"][0]["place"] = PARIS_BERCY
    created = acme.post(f"{ORDERING}/productOrder", json=body)
    assert created.status_code == 201, created.text
    order = _final(acme, created.json()["id"])
    assert order["state"] == "completed", order
    assert {i["state"] for i in order["productOrderItem"]} == {"completed"}
    db = Database(domain.database_url)
    try:
        with db.read() as session:
            links, _ = PARTNER_ORDERS.list(
                session, party=None, filters={"productOrderId": order["id"]}, offset=0, limit=10
            )
    finally:
        db.dispose()
    assert [(link["productOrderItemId"], link["state"]) for link in links] == [("evc", "completed")]
    placed = partner_orders(sonata_partner, f"partnerOrder:{order['id']}:evc")
    assert [o["id"] for o in placed] == [links[0]["id"]]
