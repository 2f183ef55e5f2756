"""The partner pushes its share's reports up (MEF 55.0.1 §10.6 step 1.2): between two of our assessment
periods, the partner's INTERLUDE ``performanceJobReportReadyEvent`` runs the SLS assessment of the
off-net EPL at once, so an impairment in the partner's network opens a degradation attributed to the
partner long before our next period would have. Set-up as in :mod:`test_sls_partner`.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from lso.settings import Settings
from lso.sof.assurance import sls
from lso.sof.assurance.partner import HUBS, SHARES
from tests.harness import wait_until
from tests.sof.assurance.assurance import INTERLUDE_PM
from tests.sof.assurance.test_sls_partner import (
    _stored,
    assessed_end_to_end,
    off_net_epl,
    partner,
    sim_partner,
)
from tests.sof.assurance.test_sls_remediation import degradation_in
from tests.sof.orders import delete_item
from tests.sof.test_activation import characteristic
from tests.sof.test_change import order_changes
from tests.sof.test_interlude import buyer
from tests.twodomains import PartnerDomain

__all__ = ["buyer", "partner"]  # fixtures, used below by name
BETWEEN_RUNS_S = 600.0
"""Our wait between two assessment runs during the test: far longer than any deadline below."""
LISTENER = "/mefApi/interlude/performanceNotification/v5/listener/performanceJobReportReadyEvent"


def test_the_partners_report_triggers_the_assessment_between_periods(
    acme: httpx.Client,
    bus: httpx.Client,
    buyer: httpx.Client,
    partner: PartnerDomain,
    domain: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Only a push can run the EPL's assessment after its first run (ICM's TCAs are about our segment,
    # which stays healthy).
    monkeypatch.setattr(sls, "between_runs_s", lambda: BETWEEN_RUNS_S)
    _, evc = off_net_epl(acme, bus, partner, domain)
    assessed_end_to_end(domain, evc["id"])  # judged on the partner's reports, which its events announced

    share: dict[str, Any] = _stored(domain.database_url, SHARES, evc["id"]) or {}
    hub: dict[str, Any] = _stored(domain.database_url, HUBS, share["partnerId"]) or {}
    registered = buyer.get(f"{INTERLUDE_PM}/hub/{hub['hubId']}").json()
    assert registered["callback"].startswith(f"{domain.base_url}/sof/partnerPerformance/")
    assert registered["query"] == "eventType=performanceJobReportReadyEvent"
    # Anyone without the partner's secret finds no listener.
    forged = {"eventId": "forged", "eventType": "performanceJobReportReadyEvent", "event": {"id": "x"}}
    knock = httpx.post(
        f"{domain.base_url}/sof/partnerPerformance/{share['partnerId']}/guess{LISTENER}", json=forged
    )
    assert knock.status_code == 404

    ovc = buyer.get(f"/mefApi/interlude/serviceInventory/v2/service/{share['ovcServiceId']}").json()
    far_end = characteristic(ovc, "path")[-1]
    sim_partner(partner, far_end, "--loss", "0.2")
    try:
        found = wait_until(lambda: degradation_in(bus, evc["id"], "manualInterventionRequired"), timeout=90)
    finally:
        sim_partner(partner, far_end, "--clear")
    assert {b["segment"] for b in found["breach"]} == {"partner"}
    assert found["partnerTrouble"]["partnerServiceId"] == share["ovcServiceId"]

    # The EPL ends: the partner's share goes with it, so no report announces the run that notices the
    # end; with our long wait it is triggered here. The job is cancelled and, the partner's last, the hub.
    assert order_changes(bus, delete_item("d-evc", evc["id"]))["state"] == "completed"
    assert sls.trigger(evc["id"])
    job_of = {"buyerJobId": f"sls:{evc['id']}"}
    wait_until(
        lambda: buyer.get(f"{INTERLUDE_PM}/performanceJob", params=job_of).json()[0]["state"] == "cancelled"
    )
    wait_until(lambda: buyer.get(f"{INTERLUDE_PM}/hub/{hub['hubId']}").json().get("state") == "deleted")
