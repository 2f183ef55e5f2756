"""``lso partner add/list/show`` against the running provider domain and a partner domain."""

from __future__ import annotations

import json
import uuid

from typer.testing import CliRunner

from lso.partner_cli import app
from lso.settings import Settings
from tests.harness import wait_until
from tests.twodomains import PARTNER_BUYER, PartnerDomain

runner = CliRunner()


def test_add_then_list_and_show_what_onboarding_learned(
    domain: Settings, sonata_partner: PartnerDomain
) -> None:
    target = ["--url", domain.base_url, "--data-dir", str(domain.data_dir)]
    name = f"cli-{uuid.uuid4().hex[:8]}"
    client_id, secret = PARTNER_BUYER
    added = runner.invoke(
        app,
        ["add", "--name", name, "--sonata-url", sonata_partner.base_url, "--client-id", client_id,
         "--client-secret", secret, "--enni", "pe-ldn-2/enni-1=enni-carrier-x-1", "--area", "FR/Paris",
         "--footprint-from-sites", "--price-ceiling", "2000", *target],
    )  # fmt: skip
    assert added.exit_code == 0, added.output

    def shown() -> dict[str, object] | None:
        result = runner.invoke(app, ["show", name, "--json", *target])
        assert result.exit_code == 0, result.output
        partner: dict[str, object] = json.loads(result.output)
        return partner if partner["state"] == "active" else None

    partner = wait_until(shown)
    assert partner["policies"] == {
        "via": "sonata",
        "priceCeiling": 2000.0,
        "footprintFromSites": True,
        "areas": ["FR/Paris"],
    }
    assert partner["enni"] == [{"element": "pe-ldn-2", "port": "enni-1", "partnerEnniId": "enni-carrier-x-1"}]
    assert "clientSecret" not in partner
    table = runner.invoke(app, ["show", name, *target])
    assert "access-eline-ovc" in table.output and "site-par-bercy" in table.output
    assert runner.invoke(app, ["list", *target]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["list", "--json", *target]).output)
    assert {"id": name, "state": "active"}.items() <= next(p for p in listed if p["id"] == name).items()


def test_a_bad_enni_is_refused_before_anything_is_sent(domain: Settings) -> None:
    result = runner.invoke(
        app,
        ["add", "--name", "x", "--sonata-url", "http://127.0.0.1:1", "--client-id", "a",
         "--client-secret", "b", "--enni", "pe-ldn-2=enni-1",
         "--url", domain.base_url, "--data-dir", str(domain.data_dir)],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "OUR_ELEMENT/PORT=THEIR_ENNI_ID" in result.output
