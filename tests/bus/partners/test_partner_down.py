"""A partner that is down when we order: the order step is retried with backoff and completes once the
partner is back, with one partner order, not two (issue #3 item 6)."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from lso.bus.partners.ordering import start_partner_order, workflow_id
from tests.bus.partners.test_partner_order import DUE, PARTNER_SITE, onboarded, partner_orders
from tests.harness import free_port
from tests.twodomains import partner_domain


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
