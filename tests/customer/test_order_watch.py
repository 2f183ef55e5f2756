"""The customer learns of a completed order from the seller's notification, not by polling."""

from __future__ import annotations

from lso.customer.cantata_client import CantataClient
from lso.customer.order_watch import watching
from lso.domain import DEMO_CUSTOMERS
from lso.settings import Settings
from tests.bus.test_order_bodies import epl_order


def test_the_watch_reports_the_final_state_the_seller_notifies(domain: Settings) -> None:
    with CantataClient(domain.base_url, "acme", DEMO_CUSTOMERS["acme"]) as client, watching(client) as watch:
        created = client.create_product_order(epl_order("site-man-central", "site-lds-park", 20))
        assert watch.wait(created["id"], timeout=60) == "completed"
        assert client.retrieve_product_order(created["id"])["state"] == "completed"
        assert watch.wait("an-order-never-placed", timeout=0.1) is None
