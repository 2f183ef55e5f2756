"""Resource allocation in ICM: SIPs reserved by allocation key, VNIs, and bandwidth reserved per link.

Every function works inside the caller's session so a create either allocates everything or nothing.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from lso.icm.topology import AVAILABLE, IN_USE, LINKS, RESERVED, SIPS, Route, free_mbps
from lso.mef.errors import MefError
from lso.mef.store import Document, Store

VNIS = Store("icm.vni", "VNI")
# Sessions that allocate or release take this lock so concurrent ICM processes never hand out one port,
# VNI or megabit twice (see Database.session).
LOCK = "icm.resources"
FIRST_VNI = 5001
USED, FREE = "used", "free"


def allocate_sip(
    session: Session, site_id: str, allocation_key: str, speed_mbps: int, s_vlan_id: int | None = None
) -> Document:
    """A free UNI at ``site_id`` of at least ``speed_mbps`` — or, at an ENNI with ``s_vlan_id``, exactly
    that S-VLAN's SIP (both sides of the ENNI map the OVC to the S-VLAN their buyer stated); the same key
    always answers the same SIP."""
    held = SIPS.by_external_id(session, allocation_key)
    if held is not None and held["state"] in (RESERVED, IN_USE):
        if held["siteId"] != site_id:
            raise MefError(
                409, f"allocation key {allocation_key} holds a SIP at {held['siteId']}", code="conflict"
            )
        if s_vlan_id is not None and held.get("sVlanId") != s_vlan_id:
            raise MefError(
                409,
                f"allocation key {allocation_key} holds S-VLAN {held.get('sVlanId')} at {site_id}",
                code="conflict",
            )
        return held
    if s_vlan_id is not None:
        return _allocate_s_vlan(session, site_id, allocation_key, s_vlan_id)
    available = SIPS.children(session, site_id, state=AVAILABLE)
    free = sorted((s for s in available if s["speedMbps"] >= speed_mbps), key=_port_order)
    if not free and not SIPS.children(session, site_id):
        raise MefError(404, f"site {site_id} is not on-net")
    if not free:
        raise MefError(409, f"no free {speed_mbps} Mbit/s UNI port at {site_id}", code="conflict")
    return SIPS.put(session, {**free[0], "state": RESERVED, "externalId": allocation_key})


def _allocate_s_vlan(session: Session, enni_id: str, allocation_key: str, s_vlan_id: int) -> Document:
    """Reserve the SIP of ``s_vlan_id`` at ENNI ``enni_id``, or say why it cannot be had (409)."""
    at_enni = SIPS.children(session, enni_id)
    if not at_enni:
        raise MefError(404, f"ENNI {enni_id} is not known")
    sip = next((s for s in at_enni if s.get("sVlanId") == s_vlan_id), None)
    if sip is None:
        vlans = [int(s["sVlanId"]) for s in at_enni if s.get("sVlanId") is not None]
        span = f"{min(vlans)}-{max(vlans)}" if vlans else "none"
        raise MefError(
            409, f"S-VLAN {s_vlan_id} is outside the range of ENNI {enni_id} ({span})", code="conflict"
        )
    if sip["state"] != AVAILABLE:
        user = f"connectivity service {sip['serviceId']}" if sip.get("serviceId") else sip["externalId"]
        raise MefError(409, f"S-VLAN {s_vlan_id} at ENNI {enni_id} is taken by {user}", code="conflict")
    return SIPS.put(session, {**sip, "state": RESERVED, "externalId": allocation_key})


def release_sip(session: Session, allocation_key: str) -> None:
    """Give a reserved SIP back; an unknown or already released key is fine, one in use is not."""
    held = SIPS.by_external_id(session, allocation_key)
    if held is None or held["state"] == AVAILABLE:
        return
    if held["state"] == IN_USE:
        raise MefError(
            409, f"SIP {held['id']} is used by connectivity service {held['serviceId']}", code="conflict"
        )
    SIPS.put(session, _available(held))


def use_sip(session: Session, sip_id: str, service_id: str) -> Document:
    sip = SIPS.get(session, sip_id)
    if sip["state"] == IN_USE and sip.get("serviceId") != service_id:
        raise MefError(
            409, f"SIP {sip_id} is used by connectivity service {sip['serviceId']}", code="conflict"
        )
    return SIPS.put(session, {**sip, "state": IN_USE, "serviceId": service_id})


def return_sip(session: Session, sip_id: str, service_id: str) -> None:
    """After a service: back to its allocation (still reserved under its key) or to the free pool."""
    sip = SIPS.find(session, sip_id)
    if sip is None or sip.get("serviceId") != service_id:
        return
    back = {**sip, "state": RESERVED, "serviceId": None} if sip.get("externalId") else _available(sip)
    SIPS.put(session, back)


def count_free_sips(session: Session, site_id: str) -> tuple[bool, int]:
    at_site = SIPS.children(session, site_id)
    return bool(at_site), sum(s["state"] == AVAILABLE for s in at_site)


def allocate_vni(session: Session, service_id: str) -> int:
    """The lowest VNI no service holds; a VNI is unique per connectivity service."""
    rows = {int(v["id"]): v for v in VNIS.all(session)}
    mine = next((n for n, v in rows.items() if v["state"] == USED and v["serviceId"] == service_id), None)
    if mine is not None:
        return mine
    vni = next(n for n in range(FIRST_VNI, FIRST_VNI + len(rows) + 1) if rows.get(n, {}).get("state") != USED)
    doc = {"id": str(vni), "state": USED, "serviceId": service_id}
    VNIS.put(session, doc) if vni in rows else VNIS.add(session, doc)
    return vni


def release_vni(session: Session, vni: int, service_id: str) -> None:
    row = VNIS.find(session, str(vni))
    if row is not None and row["state"] == USED and row["serviceId"] == service_id:
        VNIS.put(session, {**row, "state": FREE, "serviceId": None})


def reserve_bandwidth(session: Session, route: Route, service_id: str, mbps: float) -> None:
    """Hold ``mbps`` on every link of the route (replacing this service's earlier hold), or fail whole."""
    links = [LINKS.get(session, ident) for ident in route.links]
    for link in links:
        others = free_mbps(link) + link["reservations"].get(service_id, 0)
        if others < mbps:
            raise MefError(409, f"link {link['id']} has only {others:g} Mbit/s free", code="conflict")
    for link in links:
        LINKS.put(session, {**link, "reservations": {**link["reservations"], service_id: mbps}})


def release_bandwidth(session: Session, links: list[str], service_id: str) -> None:
    for ident in links:
        link = LINKS.get(session, ident)
        if service_id in link["reservations"]:
            reservations = {k: v for k, v in link["reservations"].items() if k != service_id}
            LINKS.put(session, {**link, "reservations": reservations})


def _available(sip: Document) -> Document:
    return {**sip, "state": AVAILABLE, "externalId": None, "serviceId": None}


def _port_order(sip: Document) -> int:
    return int(sip["index"])
