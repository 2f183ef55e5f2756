"""An off-net EPL ordered across two domains that both run the linux network (MEF 55.0.1 §10.2 with the
partner's share over SONATA): the provider's segment reaches its ENNI, the partner's OVC its UNI, the two
meet on the veth between the ENNI elements, and the customer's CE hosts reach each other with no loss."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lso.ecm.drivers.linux import lab
from lso.ecm.drivers.linux.plane import prefix_of
from lso.ecm.drivers.linux.probe import Endpoint, run_probe
from lso.security.admin import ADMIN_CLIENT, admin_secret
from tests.bus.partners.test_offnet_preorder import PARIS_BERCY
from tests.bus.partners.test_partner_order import onboarded
from tests.bus.test_order_bodies import ORDERING, epl_order
from tests.ecm.linux.conftest import leftovers, require_linux
from tests.ecm.linux.test_order import _final
from tests.harness import domain_process, party_client, wait_until
from tests.twodomains import partner_domain


@pytest.fixture
def data_dirs(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    require_linux()
    dirs = (tmp_path / "provider", tmp_path / "partner")
    dirs[1].mkdir()
    yield dirs
    for path in dirs:
        lab.clean(prefix_of(path))
    assert [leftovers(prefix_of(path)) for path in dirs] == [[], []]


def customer_edge(prefix: str) -> Endpoint:
    """The domain's one UNI customer-edge host (the other hosts are the ENNI's test heads)."""
    [netns] = [name for name in leftovers(prefix) if "-ce-" in name and "-uni-" in name]
    shown = subprocess.run(
        ["ip", "-n", netns, "-4", "-o", "addr", "show", "dev", "eth0"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return Endpoint(netns, shown.split()[3].split("/")[0])


@pytest.mark.slow
def test_an_off_net_epl_across_two_linux_domains_carries_traffic_ce_to_ce(
    data_dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    provider_dir, partner_dir = data_dirs
    monkeypatch.setenv("LSO_NETWORK", "linux")  # the partner's process inherits the environment
    monkeypatch.setenv("LSO_ENNI_PEERS", f"pe-par-1/enni-1={prefix_of(provider_dir)}/pe-ldn-2/enni-1")
    to_partner = {"LSO_ENNI_PEERS": f"pe-ldn-2/enni-1={prefix_of(partner_dir)}/pe-par-1/enni-1"}
    with (
        partner_domain(partner_dir) as partner,
        domain_process(provider_dir, env=to_partner) as (_, base_url),
    ):
        with party_client(base_url, ADMIN_CLIENT, admin_secret(provider_dir)) as admin:
            onboarded(admin, partner)
        acme = party_client(base_url, "acme", "acme-secret")
        body = epl_order("site-ldn-docklands", "site-ldn-city", 50)
        body["productOrderItem"][1]["product"]["place"][0]["place"] = PARIS_BERCY
        created = acme.post(f"{ORDERING}/productOrder", json=body)
        assert created.status_code == 201, created.text

        order = wait_until(lambda: _final(acme, created.json()["id"]), timeout=300)

        assert order["state"] == "completed", order
        a, z = customer_edge(prefix_of(provider_dir)), customer_edge(prefix_of(partner_dir))
        result = run_probe(a, z, 2_000_000, 500, 0.5)
        assert result.frames_sent > 0
        assert result.loss_ratio == 0
