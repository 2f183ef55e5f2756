"""The SLS of an off-net EPL across two real domains (MEF 55.0.1 §10.4 step 4.2, §10.6 steps 1.2 and 3).

The customer orders an EPL with an SLS from an on-net site to Lyon, which a partner on INTERLUDE
reaches. SOF keeps a proactive performance job on the partner's INTERLUDE performanceMonitoring for the
partner's OVC and judges the SLS on the concatenation of both segments. An impairment injected in the
PARTNER's network (``lso sim impair`` against the partner domain) breaks the end-to-end SLS although our
segment meets it: the degradation is the partner's — the partner tests its share, the test fails, a
trouble is raised to the partner, our network is not rerouted, and the customer still gets its incident.
An impairment on our segment of the same kind of EPL is rerouted as before.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from lso.cli import app
from lso.db import Database
from lso.mef.store import Store
from lso.settings import Settings
from lso.sof.assurance.degradation import DEGRADATIONS
from lso.sof.assurance.partner import SHARES
from lso.sof.assurance.sls import ASSESSMENTS
from tests.harness import wait_until
from tests.sof.assurance.assurance import INTERLUDE_PM
from tests.sof.assurance.sls_orders import epl_product_order_with_sls
from tests.sof.assurance.test_sls_customer import CIM, ordered_epl
from tests.sof.assurance.test_sls_remediation import degradation_in, impair, links
from tests.sof.orders import INVENTORY, delete_item
from tests.sof.test_activation import characteristic
from tests.sof.test_change import order_changes
from tests.sof.test_interlude import INTERLUDE_TESTING, LYON_PART_DIEU, _onboard_over_interlude, buyer
from tests.twodomains import PartnerDomain, partner_domain

__all__ = ["buyer", "impair"]  # fixtures, used below by name (``buyer`` of this module's partner)
INTERLUDE_INVENTORY = "/mefApi/interlude/serviceInventory/v2"
DELAY_OBJECTIVE_MS = 30  # both segments together stay well under it unimpaired


@pytest.fixture(scope="module")
def partner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PartnerDomain]:
    """A partner domain that measures every second, like the provider under test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(os.environ, "LSO_SLS_PERIOD_S", "1")
        with partner_domain(tmp_path_factory.mktemp("sls-partner")) as running:
            yield running


def _stored(database_url: str, store: Store, ident: str) -> dict[str, Any] | None:
    db = Database(database_url)
    try:
        with db.read() as session:
            return store.find(session, ident)
    finally:
        db.dispose()


def off_net_epl(acme: httpx.Client, bus: httpx.Client, partner: PartnerDomain, domain: Settings) -> Any:
    """acme's EPL with an SLS from London to Lyon (the partner's share over INTERLUDE): product, EVC."""
    _onboard_over_interlude(domain, partner)
    body = epl_product_order_with_sls(DELAY_OBJECTIVE_MS, "site-ldn-docklands", "site-ldn-city")
    body["productOrderItem"][1]["product"]["place"][0]["place"] = LYON_PART_DIEU
    return ordered_epl(acme, bus, body)


def assessed_end_to_end(domain: Settings, evc_id: str) -> dict[str, Any]:
    """The assessment once it judged the concatenation with the partner's share as meeting the SLS."""

    def met() -> dict[str, Any] | None:
        record = _stored(domain.database_url, ASSESSMENTS, evc_id) or {}
        last = record.get("lastAssessment") or {}
        return (
            last
            if last.get("verdict") == "met" and last.get("partnerShare", {}).get("verdict") == "met"
            else None
        )

    return wait_until(met, timeout=60)


def sim_partner(partner: PartnerDomain, *args: str) -> None:
    where = ["--url", partner.base_url, "--data-dir", str(partner.data_dir)]
    result = CliRunner().invoke(app, ["sim", "impair", *args, *where])
    assert result.exit_code == 0, result.output


def test_an_impairment_in_the_partner_network_is_the_partners_trouble(
    acme: httpx.Client, bus: httpx.Client, buyer: httpx.Client, partner: PartnerDomain, domain: Settings
) -> None:
    epl, evc = off_net_epl(acme, bus, partner, domain)
    assessed_end_to_end(domain, evc["id"])
    # One proactive job on the partner's INTERLUDE, on its OVC, keyed by our service.
    (job,) = buyer.get(f"{INTERLUDE_PM}/performanceJob", params={"buyerJobId": f"sls:{evc['id']}"}).json()
    ovc = buyer.get(f"{INTERLUDE_INVENTORY}/service/{job['monitoredObject']['serviceId']}").json()
    assert job["performanceProfile"]["jobType"] == "proactive" and job["state"] == "inProgress"
    assert ovc["serviceOrderItem"][0]["itemId"] == "ovc"
    far_end = characteristic(ovc, "path")[-1]  # the partner's element at its UNI: no way around it

    sim_partner(partner, far_end, "--loss", "0.2")
    try:
        manual = wait_until(lambda: degradation_in(bus, evc["id"], "manualInterventionRequired"), timeout=90)
    finally:
        sim_partner(partner, far_end, "--clear")

    # The breach is the concatenation's, the partner's share: our segment alone met the SLS.
    assert {b["segment"] for b in manual["breach"]} == {"partner"}
    loss = next(b for b in manual["breach"] if b["metric"] == "oneWayFrameLossRatio")
    assert loss["measured"] > loss["objective"] >= loss["ourSegment"]
    trouble = manual["partnerTrouble"]
    assert trouble["partnerServiceId"] == ovc["id"]
    # The partner tested its share over INTERLUDE serviceFunctionTesting, and the test failed.
    tested = buyer.get(f"{INTERLUDE_TESTING}/testJob/{trouble['testJobId']}").json()
    assert tested["name"] == f"sls:{manual['id']}" and tested["verdict"] == "fail"
    # Our network was not rerouted.
    stored = _stored(domain.database_url, DEGRADATIONS, manual["id"]) or {}
    assert stored["cause"] == "partner"
    assert not {"rerouted", "rerouteRefused"} & {a["step"] for a in stored["activity"]}
    now = bus.get(f"{INVENTORY}/service/{evc['id']}").json()
    assert characteristic(now, "path") == characteristic(evc, "path")
    # The customer still gets its incident about the EPL.
    incidents = wait_until(
        lambda: acme.get(f"{CIM}/cimIncident", params={"relatedEntityId": epl}).json(), timeout=30
    )
    assert incidents[0]["relatedEntity"][0]["id"] == epl
    # Once the partner's network is repaired, the concatenation meets the SLS and the degradation ends.
    resolved = wait_until(lambda: degradation_in(bus, evc["id"], "resolved"), timeout=90)
    assert resolved["id"] == manual["id"]


def test_an_impairment_on_our_segment_of_an_off_net_epl_is_rerouted(
    acme: httpx.Client,
    bus: httpx.Client,
    buyer: httpx.Client,
    partner: PartnerDomain,
    domain: Settings,
    impair: Any,
) -> None:
    _, evc = off_net_epl(acme, bus, partner, domain)
    path = characteristic(evc, "path")
    first = "--".join(sorted(path[:2]))  # our network has another way from the on-net UNI to the ENNI
    assessed_end_to_end(domain, evc["id"])

    impair(first, extraDelayMs=2.0 * DELAY_OBJECTIVE_MS)

    resolved = wait_until(lambda: degradation_in(bus, evc["id"], "resolved"), timeout=90)
    assert "segment" not in resolved["breach"][0] and "partnerTrouble" not in resolved
    assert first not in links(characteristic(bus.get(f"{INVENTORY}/service/{evc['id']}").json(), "path"))

    # The EPL ends: SOF cancels its job on the partner's INTERLUDE.
    assert order_changes(bus, delete_item("d-evc", evc["id"]))["state"] == "completed"
    job_of = {"buyerJobId": f"sls:{evc['id']}"}
    wait_until(
        lambda: buyer.get(f"{INTERLUDE_PM}/performanceJob", params=job_of).json()[0]["state"] == "cancelled"
    )
    assert (_stored(domain.database_url, SHARES, evc["id"]) or {}).get("cancelled")
