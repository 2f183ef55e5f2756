"""The S-VLAN ID at the ENNI of an off-net EPL, agreed before either network configures (MEF 26.2 §16.5).

Both networks must map the OVC to one S-VLAN ID at the ENNI. As the buyer, BUS chooses it when the order's
fulfilment starts, names it on our LEGATO EVC item (SOF has ICM reserve exactly that SIP) and states it in
the partner's SONATA order (``enniEp.ovcEndPointMap``, which the seller checks and allocates too). The
choice is held here per ENNI and S-VLAN, keyed by our EPL product id, so a re-run step answers the same
S-VLAN and two orders never state one twice; it is given back when the item fails or the EPL is
disconnected. BUS takes S-VLANs from the top of the ENNI's range down while ICM's pool hands out OVCs we
sell at that ENNI (no S-VLAN stated) from the bottom up, so the two rarely meet; when they do, ICM's 409
fails the item with its reason.
"""

from __future__ import annotations

from typing import Any

from dbos import DBOS
from sqlalchemy.orm import Session

from lso.bus.order.inventory import product_id
from lso.footprint import named_footprint
from lso.mef import runtime
from lso.mef.store import Store

S_VLANS = Store("bus.enniSvlan", "enniSvlan")
LOCK = "bus.enniSvlan"
HELD, FREE = "held", "free"


@DBOS.step()
def agree_for_order(order_id: str, shares: list[dict[str, Any]]) -> dict[str, int]:
    """Per off-net EVC item the order adds (``shares``: ``offnet_order.share_requests``), the S-VLAN at
    our ENNI that our LEGATO item names and the partner's order states; held per EPL product, so a re-run
    answers the same."""
    with runtime.current().db.session(serialize=LOCK) as session:
        agreed = {}
        for share in shares:
            if share["action"] != "add" or not share.get("enni_id"):
                continue
            vlan = agree(session, share["enni_id"], product_id(order_id, share["item_id"]))
            if vlan is not None:
                agreed[share["item_id"]] = vlan
        return agreed


def agree(session: Session, enni_id: str, holder: str) -> int | None:
    """The S-VLAN for ``holder`` (our EPL product id) at ``enni_id``: the one it holds, else the highest
    free one of the ENNI's range; None when none is free (then neither side is told one, and ICM's "no
    free S-VLAN" fails our segment). Run it in a session serialised on :data:`LOCK`."""
    held = S_VLANS.by_external_id(session, holder)
    if held is not None and held["state"] == HELD:
        return int(held["sVlanId"])
    enni = next(e for e in named_footprint(runtime.current().settings.footprint).ennis if e.id == enni_id)
    used = {int(row["sVlanId"]) for row in S_VLANS.children(session, enni_id, state=HELD)}
    vlan = next((v for v in sorted(enni.vlans, reverse=True) if v not in used), None)
    if vlan is None:
        return None
    ident = f"{enni_id}:{vlan}"
    row = {"id": ident, "state": HELD, "sVlanId": vlan, "enni": enni_id, "externalId": holder}
    if S_VLANS.find(session, ident) is None:
        S_VLANS.add(session, row, parent_id=enni_id)
    else:
        S_VLANS.put(session, row)
    return vlan


def release(session: Session, holder: str) -> None:
    """Give back the S-VLAN ``holder`` holds (none held is fine: releasing twice is harmless)."""
    held = S_VLANS.by_external_id(session, holder)
    if held is not None and held["state"] == HELD:
        S_VLANS.put(session, {**held, "state": FREE, "externalId": None})
