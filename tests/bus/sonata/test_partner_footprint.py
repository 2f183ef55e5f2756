"""A partner domain (``lso serve --demo --footprint partner`` in a child process, its own database): its
SONATA seller serves the partner footprint — Paris and Lyon sites, its own ENNI with the buyer — and an
Access E-Line ordered from it is built in its own network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.bus.sonata.bodies import ENNI_ID, INVENTORY, ORDERING, SITES, access_eline_order
from tests.harness import party_client, wait_until
from tests.twodomains import PARTNER_BUYER, partner_domain


def test_a_partner_domain_sells_access_eline_from_its_own_footprint(tmp_path: Path) -> None:
    data_dir = tmp_path / "partner"
    data_dir.mkdir()
    with partner_domain(data_dir) as partner, party_client(partner.base_url, *PARTNER_BUYER) as buyer:
        assert buyer.get(f"{SITES}/geographicSite/site-par-bercy").status_code == 200
        assert buyer.get(f"{SITES}/geographicSite/site-ldn-city").status_code == 404  # not its footprint
        enni = buyer.get(f"{INVENTORY}/product/{ENNI_ID}").json()
        assert enni["place"][0]["place"]["id"] == "site-par-defense"

        order = buyer.post(f"{ORDERING}/productOrder", json=access_eline_order("site-par-bercy", 100))
        assert order.status_code == 201, order.text

        def final() -> dict[str, Any] | None:
            found: dict[str, Any] = buyer.get(f"{ORDERING}/productOrder/{order.json()['id']}").json()
            return found if found["state"] in {"completed", "failed", "partial", "rejected"} else None

        done = wait_until(final, timeout=120)
        assert done["state"] == "completed", [i.get("terminationError") for i in done["productOrderItem"]]
        [ovc] = [
            p
            for p in buyer.get(f"{INVENTORY}/product", params={"productOrderId": done["id"]}).json()
            if p["productSpecification"]["id"] == "access-eline-ovc"
        ]
        vlans = buyer.get(f"{INVENTORY}/product/{ovc['id']}").json()["productConfiguration"]["enniEp"]
        assert vlans["ovcEndPointMap"]["ovcEndPointMapFormE"][0] in range(100, 200)
