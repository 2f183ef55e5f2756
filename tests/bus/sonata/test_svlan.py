"""The S-VLAN ID a buyer states for its OVC at the ENNI (``enniEp.ovcEndPointMap``, FORM_E) is checked by
the seller before the order is acknowledged: one S-VLAN ID, in the ENNI's range, mapped to no other OVC
there and not twice in one order — else a 422 at the map's property path, and nothing stored."""

from __future__ import annotations

from typing import Any

import httpx

from tests.bus.sonata.bodies import INVENTORY, ORDERING, access_eline_order
from tests.bus.test_order_fulfilment import _final

MAP = "/productOrderItem/1/product/productConfiguration/enniEp/ovcEndPointMap"


def stating(vlans: list[int]) -> dict[str, Any]:
    """An Access E-Line order whose OVC states ``vlans`` at the ENNI."""
    order = access_eline_order("site-ldn-docklands", 20)
    end_point = order["productOrderItem"][1]["product"]["productConfiguration"]["enniEp"]
    end_point["ovcEndPointMap"] = {"mapType": "FORM_E", "ovcEndPointMapFormE": vlans}
    return order


def refusal(carrier_x: httpx.Client, body: dict[str, Any]) -> tuple[str, str]:
    before = carrier_x.get(f"{ORDERING}/productOrder").headers["X-Total-Count"]
    refused = carrier_x.post(f"{ORDERING}/productOrder", json=body)
    assert refused.status_code == 422, refused.text
    assert carrier_x.get(f"{ORDERING}/productOrder").headers["X-Total-Count"] == before
    [issue] = refused.json()
    return issue["propertyPath"], issue["message"]


def test_an_s_vlan_mapped_to_another_ovc_at_the_enni_is_refused(carrier_x: httpx.Client) -> None:
    created = carrier_x.post(f"{ORDERING}/productOrder", json=access_eline_order("site-ldn-docklands", 20))
    assert created.status_code == 201, created.text
    assert _final(carrier_x, created.json()["id"])["state"] == "completed"
    products = carrier_x.get(f"{INVENTORY}/product", params={"productOrderId": created.json()["id"]}).json()
    [ovc] = [
        p
        for p in (carrier_x.get(f"{INVENTORY}/product/{p['id']}").json() for p in products)
        if "enniEp" in p["productConfiguration"]
    ]
    [vlan] = ovc["productConfiguration"]["enniEp"]["ovcEndPointMap"]["ovcEndPointMapFormE"]

    path, message = refusal(carrier_x, stating([vlan]))
    assert path == f"{MAP}/ovcEndPointMapFormE/0"
    assert f"S-VLAN {vlan}" in message and ovc["id"] in message


def test_a_stated_s_vlan_is_one_id_in_the_enni_range(carrier_x: httpx.Client) -> None:
    path, message = refusal(carrier_x, stating([5]))
    assert path == f"{MAP}/ovcEndPointMapFormE/0" and "outside the range" in message and "100-199" in message
    path, message = refusal(carrier_x, stating([150, 151]))
    assert path == MAP and "exactly one S-VLAN ID" in message
