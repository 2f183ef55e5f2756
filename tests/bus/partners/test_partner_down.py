"""A partner that is down when we order: the order step is retried with backoff and completes once the
partner is back, with one partner order, not two (issue #3 item 6) — for the partner order alone and for a
customer's whole off-net EPL order across both domains."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from lso.bus.partners.ordering import start_partner_order, workflow_id
from tests.bus.partners.test_onboarding import registration
from tests.bus.partners.test_partner_order import DUE, PARTNER_SITE, onboarded, partner_orders, registered
from tests.bus.test_order_bodies import ORDERING, epl_order, with_uni_z_at
from tests.bus.test_order_fulfilment import _final
from tests.harness import free_port, wait_until
from tests.twodomains import partner_domain

LA_DEFENSE = {"@type": "GeographicSiteRef", "id": "site-par-defense"}
"""A partner site in Puteaux: only the partner on-boarded here serves that area."""


def test_an_order_placed_while_the_partner_is_down_completes_once_it_returns(
    admin: httpx.Client, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data_dir: Path = tmp_path_factory.mktemp("partner-down")
    port = free_port()
    with partner_domain(data_dir, port) as partner:
        partner_id = onboarded(admin, partner)
    order_id = f"order-{uuid.uuid4()}"
    handle = start_partner_order(order_id, "evc", partner_id, PARTNER_SITE, 100.0, 0.0, DUE)
    with partner_domain(data_dir, port) as partner:  # the same partner, back on its address
        link = handle.get_result()
        assert link["state"] == "completed", link
        assert [o["id"] for o in partner_orders(partner, workflow_id(order_id, "evc"))] == [link["id"]]


def test_a_customer_order_completes_across_a_partner_outage(
    acme: httpx.Client, admin: httpx.Client, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The whole order across two domains: the partner stops after on-boarding, the customer orders an EPL
    to its site (known from on-boarding, so the order is checked without it), our segment is built, the
    partner order is retried until the partner is back, then the order completes with one partner order."""
    data_dir: Path = tmp_path_factory.mktemp("partner-outage")
    port = free_port()
    with partner_domain(data_dir, port) as partner:
        registered(
            admin, registration(partner, policies={"areas": ["FR/Puteaux"], "footprintFromSites": True})
        )
    created = acme.post(f"{ORDERING}/productOrder", json=with_uni_z_at(epl_order(cir_mbps=40), LA_DEFENSE))
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    # the partner order's first attempts meet a stopped partner while SOF builds our segment
    wait_until(lambda: acme.get(f"{ORDERING}/productOrder/{order_id}").json()["state"] == "inProgress")
    with partner_domain(data_dir, port) as partner:  # back on its address
        order = _final(acme, order_id)
        assert order["state"] == "completed", order
        assert len(partner_orders(partner, workflow_id(order_id, "evc"))) == 1
