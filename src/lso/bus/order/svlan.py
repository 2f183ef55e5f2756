"""The S-VLAN ID a buyer provider states for its OVC at the ENNI (MEF 26.2 §16.5, Grace
``accessEline/accessElineOvcEpCommon`` ``ovcEndPointMap``, form ``EndPointMapFormE``).

At an ENNI both networks must map the OVC to the same S-VLAN ID, and "for a given ENNI, the values of all
of the OVC End Point Map Service Attributes … must be such that a Tagged ENNI Frame maps to at most one
OVC End Point" (the Grace schema's validation note). So the buyer states it in the Access E-Line OVC's
``enniEp.ovcEndPointMap`` and the seller checks, when the order is checked, that it is one S-VLAN ID, in
the ENNI's range and not mapped to another OVC there (nor twice in one order): a conflict is a 422 at the
map's property path.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from lso.bus.order.records import PRODUCTS
from lso.bus.products import ACCESS_ELINE_OVC, AccessElineOvcConfiguration
from lso.footprint import named_footprint
from lso.mef import runtime
from lso.mef.errors import Issue
from lso.mef.store import Document

_GONE = {"terminated", "cancelled"}


def check_requested(
    session: Session,
    party: str,
    configuration: AccessElineOvcConfiguration,
    enni_id: str,
    pointer: str,
    taken: dict[tuple[str, int], str],
    issues: list[Issue],
) -> None:
    """Check the S-VLAN ID the buyer stated (if any) for an OVC at ``enni_id``; ``pointer`` is the
    configuration's path and ``taken`` the S-VLANs earlier items of the order stated (enni, vlan → path)."""
    mapped = configuration.enniEp.ovcEndPointMap
    if mapped is None:
        return
    path = f"{pointer}/enniEp/ovcEndPointMap"
    vlans = mapped.ovcEndPointMapFormE or []
    if mapped.mapType == "FORM_U" or mapped.ovcEndPointMapFormU or len(vlans) != 1:
        issues.append(Issue(path, "at an ENNI the OVC End Point Map is FORM_E with exactly one S-VLAN ID"))
        return
    vlan, path = vlans[0], f"{path}/ovcEndPointMapFormE/0"
    enni = next(
        (e for e in named_footprint(runtime.current().settings.footprint).ennis if e.id == enni_id), None
    )
    if enni is not None and vlan not in enni.vlans:
        span = f"{min(enni.vlans)}-{max(enni.vlans)}" if enni.vlans else "empty"
        issues.append(Issue(path, f"S-VLAN {vlan} is outside the range of ENNI {enni_id} ({span})"))
        return
    user = taken.get((enni_id, vlan)) or mapped_to(session, party, enni_id, vlan)
    if user is not None:
        issues.append(
            Issue(path, f"S-VLAN {vlan} at ENNI {enni_id} is already mapped to {user}", "invalidValue")
        )
        return
    taken[(enni_id, vlan)] = path


def mapped_to(session: Session, party: str, enni_id: str, vlan: int) -> str | None:
    """The OVC product of ``party`` that maps ``vlan`` at ``enni_id`` (an ENNI belongs to one buyer)."""
    products, _ = PRODUCTS.list(session, party=party, filters={}, offset=0, limit=1_000_000)
    for product in products:
        if product.get("status") in _GONE or not _at_enni(product, enni_id):
            continue
        if vlan in s_vlans(product):
            return f"OVC product {product['id']}"
    return None


def s_vlans(product: Document) -> list[int]:
    """The S-VLAN IDs an OVC product is mapped to at its ENNI."""
    configuration = product.get("productConfiguration") or {}
    if configuration.get("@type") != ACCESS_ELINE_OVC:
        return []
    mapped = (configuration.get("enniEp") or {}).get("ovcEndPointMap") or {}
    return [int(v) for v in mapped.get("ovcEndPointMapFormE") or []]


def _at_enni(product: Document, enni_id: str) -> bool:
    return any(
        r["id"] == enni_id and r["relationshipType"] == "CONNECTS_TO_ENNI"
        for r in product.get("productRelationship", [])
    )
