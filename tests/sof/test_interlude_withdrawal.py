"""A failure of an off-net EPL's activation after the INTERLUDE partner completed its share, other than
the end-to-end test (tests/sof/test_interlude.py covers that one), withdraws the partner's share as well
as releasing our segment: the two providers never keep half of a service nobody bought."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lso.settings import Settings
from lso.sof.presto_client import PrestoClient, PrestoError
from tests.harness import party_client
from tests.network import held_by_elements
from tests.sof.test_activation import characteristic
from tests.sof.test_interlude import (
    _onboard_over_interlude,
    _order_to_lyon,
    _our_evc,
    _partner_holds_nothing,
    _partner_orders,
)
from tests.twodomains import PARTNER_BUYER, PartnerDomain, partner_domain


@pytest.fixture(scope="module")
def partner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PartnerDomain]:
    with partner_domain(tmp_path_factory.mktemp("withdrawal-partner")) as running:
        yield running


def test_performance_monitoring_failing_withdraws_the_completed_partner_share(
    acme: httpx.Client,
    icm: httpx.Client,
    partner: PartnerDomain,
    domain: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    partner_id = _onboard_over_interlude(domain, partner)

    def refusing(self: PrestoClient, uuid: str, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        """ICM refusing to start the EVC's PM sessions (an injected fault), after both tests passed."""
        body = {"code": "conflict", "message": f"injected: no OAM session for {uuid}"}
        raise PrestoError(409, body, "lso-start-performance-monitoring")

    monkeypatch.setattr(PrestoClient, "start_performance_monitoring", refusing)
    order = _order_to_lyon(acme)
    monkeypatch.undo()

    assert order["state"] == "failed", order
    reason = next(i for i in order["productOrderItem"] if i["id"] == "evc")["terminationError"][0]["value"]
    assert "injected" in reason and f"partner {partner_id}" in reason and "withdrawn" in reason, reason
    evc = _our_evc(domain, order)
    assert evc["state"] == "terminated"
    assert held_by_elements(icm, characteristic(evc, "connectivityService")) == {}

    item = evc["serviceOrderItem"][0]
    with party_client(partner.base_url, *PARTNER_BUYER) as buyer:
        # The partner had completed its share (and passed its test) before our PM failed ...
        (share,) = _partner_orders(buyer, f"interlude:{item['serviceOrderId']}:{item['itemId']}")
        assert share["state"] == "completed"
        # ... and deleted it on our one withdrawal order: it holds nothing.
        (withdrawal,) = _partner_orders(buyer, f"interludeWithdraw:{item['serviceOrderId']}:{item['itemId']}")
        assert withdrawal["state"] == "completed"
        assert _partner_holds_nothing(buyer, evc)
