"""Service activation (MEF 55.0.1 §10.2 steps 8-13): one durable workflow per service order.

validate → design (a SIP per UNI — and per ENNI end of an OVC: an S-VLAN there —, then the EVC as a
PRESTO connectivity service) → service activation
test → performance monitoring → services active, items and order completed. Any refusal (ICM, an element,
a failed test, a partner) runs compensation so nothing stays configured — here, nor at an INTERLUDE
partner whose share of an off-net EVC had completed —, then fails the items with the reason.

Every PRESTO call is keyed by a business key (allocation key ``<order>:<item>``, connectivity service
uuid derived from the EVC item), so a step re-run after a crash finds what the first run made instead of
making it twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import httpx
from dbos import DBOS, SetWorkflowID
from dbos._error import DBOSMaxStepRetriesExceeded
from sqlalchemy.orm import Session

from lso.entity import EntityContext
from lso.mef import runtime
from lso.mef.client import MefApiError
from lso.mef.dates import now_iso
from lso.mef.notifications import dispatch
from lso.mef.store import Document
from lso.sof import records, testing
from lso.sof.configuration import (
    CONNECTS_TO_ENNI,
    CONNECTS_TO_UNI,
    UNI_TYPE,
    Decomposition,
    EvcComponent,
    Invalid,
    TerminationError,
    UniComponent,
    decompose,
)
from lso.sof.presto_client import BandwidthProfile, EndPoint, PrestoClient, PrestoError

_NAMESPACE = uuid.UUID("6c3f3a52-0d0e-4a43-9a0b-5f3b2f9d8e11")
_context: EntityContext | None = None
P = ParamSpec("P")
R = TypeVar("R")


class ActivationError(Exception):
    """A refusal that retrying will not cure; ``item_id`` is the item it is about."""

    def __init__(self, item_id: str, reason: str) -> None:
        super().__init__(item_id, reason)
        self.item_id = item_id
        self.reason = reason


@dataclass(frozen=True)
class Plan:
    """A validated order: its components, the SIPs of UNIs already in inventory (by service id) and, per
    EVC item whose partner share BUS named (policy INTERLUDE), that share and the item's service value."""

    components: Decomposition
    existing_sips: dict[str, str]
    partner_shares: dict[str, tuple[Document, Document]]


def install(ctx: EntityContext) -> None:
    """Keep SOF's context so workflow steps (module-level, recovered by id) can reach ICM over PRESTO."""
    global _context
    _context = ctx


def start(order_id: str) -> None:
    """Start the activation of ``order_id`` — at most once: the workflow id is the order's."""
    with SetWorkflowID(f"sof-activation:{order_id}"):
        DBOS.start_workflow(activate_service_order, order_id)


def service_id(order_id: str, item_id: str) -> str:
    """The inventory id of the service an order item makes (stable, so re-running a step finds it)."""
    return str(uuid.uuid5(_NAMESPACE, f"service:{order_id}:{item_id}"))


def connectivity_service_uuid(order_id: str, item_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"connectivity:{order_id}:{item_id}"))


def allocation_key(order_id: str, item_id: str) -> str:
    return f"{order_id}:{item_id}"


def enni_end(item_id: str, enni: str) -> str:
    """The allocation name of an OVC item's end at an ENNI (its S-VLAN there)."""
    return f"{item_id}@{enni}"


@DBOS.workflow(name="sof.activate_service_order")
def activate_service_order(order_id: str) -> str:
    plan, deliveries = take_order(order_id)
    dispatch(deliveries)
    if isinstance(plan, TerminationError):
        return "rejected"
    item_id = ""  # the item being worked on, blamed if ICM stops answering
    shared: list[str] = []  # the EVC items whose partner share completed: withdrawn if the order fails
    try:
        sips = dict(plan.existing_sips)
        if plan.components.unis:
            item_id = plan.components.unis[0].item_id
            sips |= allocate_sips(order_id, plan.components.unis)
        for evc in plan.components.evcs:
            item_id = evc.item_id
            ends = [sips[ref] for ref in evc.uni_items + evc.uni_services]
            ends += [allocate_enni_sip(order_id, evc, enni) for enni in evc.ennis]
            create_connectivity_service(order_id, evc, ends)
            passed = run_activation_test(order_id, evc)
            if not passed:
                raise ActivationError(evc.item_id, "the service activation test failed (see testJob)")
            if evc.item_id in plan.partner_shares:
                from lso.sof import end_to_end  # here, not at the top: it builds on this module's steps

                end_to_end.activate_partner_share(order_id, evc.item_id, *plan.partner_shares[evc.item_id])
                shared.append(evc.item_id)
            start_performance_monitoring(order_id, evc)
    except ActivationError as exc:
        withdrawn = compensate(order_id, plan, shared)
        dispatch(fail(order_id, exc.item_id, exc.reason + withdrawn))
        return "failed"
    except DBOSMaxStepRetriesExceeded as exc:
        withdrawn = compensate(order_id, plan, shared)
        reason = f"ICM did not answer: {exc.errors[-1] if exc.errors else exc}"
        dispatch(fail(order_id, item_id, reason + withdrawn))
        return "failed"
    dispatch(complete(order_id))
    from lso.sof.assurance import sls  # here, not at the top: the assessment builds on this module's steps

    sls.watch_order(order_id)
    return "completed"


def compensate(order_id: str, plan: Plan, shared: list[str]) -> str:
    """Undo the design in reverse: the partner shares of the ``shared`` EVC items first (they hang off
    our ENNI), then connectivity services (they use the SIPs), then the SIPs. What became of the partner
    shares, to add to the failure's reason."""
    withdrawn = "".join(f"; {withdraw_partner_share(order_id, item_id)}" for item_id in shared)
    for evc in plan.components.evcs:
        delete_connectivity_service(order_id, evc.item_id)
        for enni in evc.ennis:
            release_sip(order_id, enni_end(evc.item_id, enni))
    for uni in plan.components.unis:
        release_sip(order_id, uni.item_id)
    return withdrawn


def withdraw_partner_share(order_id: str, item_id: str) -> str:
    """In the activation workflow: the partner's completed share of EVC item ``item_id`` withdrawn with
    one INTERLUDE order (its ``externalId`` keyed by our order and item, so a re-run orders nothing
    twice); what became of it. A partner silent after every retry leaves its share, and says so."""
    from lso.sof import interlude_changes  # here, not at the top: it builds on this module's steps

    try:
        link = interlude_changes.share_link(service_id(order_id, item_id))
        if link is None:
            return f"item {item_id} has no partner share to withdraw"
        return f"partner {link['partnerId']}: {interlude_changes.withdraw_share(order_id, item_id, link)}"
    except (MefApiError, DBOSMaxStepRetriesExceeded) as exc:  # the partner refused, or stayed silent
        return f"withdrawing the partner share of item {item_id} failed: {exc}"


def presto() -> PrestoClient:
    if _context is None:
        raise RuntimeError("SOF is not started in this process")
    return PrestoClient(_context.client("icm"))


def _transient(error: BaseException) -> bool:
    """Retry what a retry can cure (transport errors, ICM 5xx); a refusal is final."""
    if isinstance(error, ActivationError):
        return False
    if isinstance(error, PrestoError):
        return error.status >= 500
    return isinstance(error, httpx.HTTPError)


def remote_step(
    name: str,
    *,
    attempts: int = 5,
    interval_s: float = 0.5,
    should_retry: Callable[[BaseException], bool] = _transient,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A step that calls another entity (ICM, by default) or a partner: retried with backoff, at most
    ``attempts`` times, while ``should_retry`` finds the failure transient (the call must be safe to
    repeat)."""
    return DBOS.step(
        name=name,
        retries_allowed=True,
        max_attempts=attempts,
        interval_seconds=interval_s,
        backoff_rate=2.0,
        should_retry=should_retry,
    )


def refused(item_id: str, error: PrestoError) -> ActivationError:
    return ActivationError(item_id, f"ICM refused {error.rpc}: {error.reason or error.code or error.status}")


def bandwidth_of(evc: EvcComponent) -> BandwidthProfile:
    """The EVC's ingress profile as ICM takes it; unstated bursts get a default of 12,176 bytes."""
    return BandwidthProfile(evc.cir_mbps, evc.eir_mbps, evc.cbs_bytes or 12_176, evc.ebs_bytes or 12_176)


@contextmanager
def refusals_fail(item_id: str) -> Iterator[None]:
    """ICM answering 5xx is passing trouble (the step retries); any other refusal fails the item."""
    try:
        yield
    except PrestoError as exc:
        if exc.status >= 500:
            raise
        raise refused(item_id, exc) from None


@DBOS.step(name="sof.take_order")
def take_order(order_id: str) -> tuple[Plan | TerminationError, list[str]]:
    """Validate the order, then reject it or set it and its items in progress with one inventory service
    per item: one transaction and one checkpoint. A re-run finds the moves made (no-ops) and the
    services there; the deliveries of a first run that committed are sent by ``redeliver_pending``."""
    with runtime.current().db.session() as session:
        order = records.ORDERS.get(session, order_id)
        party = records.party_of(session, order)
        plan = _validate(session, order, party)
        if isinstance(plan, TerminationError):
            return plan, _reject(session, order, plan)
        ids: list[str] = []
        for item in order["serviceOrderItem"]:
            ids += records.move_item(session, order, item["id"], "inProgress")
            ids += records.add_service(session, party, _service_of(order, item, plan))
        ids += records.move_order(session, order, "inProgress")
        records.ORDERS.put(session, order)
        return plan, ids


def _validate(session: Session, order: Document, party: str | None) -> Plan | TerminationError:
    known: dict[str, UniComponent] = {}
    sips: dict[str, str] = {}
    for service in _referenced_unis(session, order, party):
        sip = fact(service, "serviceInterfacePoint")
        if sip is not None:
            site = service["place"][0]["place"]["id"]
            frame = service["serviceConfiguration"].get("maximumFrameSize", 1522)
            known[service["id"]] = UniComponent(service["id"], site, 0, frame)
            sips[service["id"]] = sip
    try:
        components = decompose(order, known)
    except Invalid as exc:
        return exc.error
    from lso.sof.interlude_client import share_of  # here, not at the top: it builds on this module

    used = {ref for evc in components.evcs for ref in evc.uni_services}
    shares = {}
    for evc in components.evcs:
        share = share_of(order, evc.item_id)
        if share is not None:
            item = next(i for i in order["serviceOrderItem"] if i["id"] == evc.item_id)
            shares[evc.item_id] = (share, item["service"])
    return Plan(components, {ref: sips[ref] for ref in used}, shares)


@DBOS.step(name="sof.reject")
def reject(order_id: str, error: TerminationError) -> list[str]:
    with runtime.current().db.session() as session:
        return _reject(session, records.ORDERS.get(session, order_id), error)


def _reject(session: Session, order: Document, error: TerminationError) -> list[str]:
    ids: list[str] = []
    for item in order["serviceOrderItem"]:
        ids += records.move_item(
            session, order, item["id"], "rejected", error.body() if item["id"] == error.item_id else None
        )
    ids += records.move_order(session, order, "rejected")
    records.ORDERS.put(session, order)
    return ids


def _service_of(order: Document, item: Document, plan: Plan) -> Document:
    given = item["service"]
    service: Document = {
        "id": service_id(order["id"], item["id"]),
        "state": "feasibilityChecked",
        "externalId": given.get("externalId") or order.get("externalId"),
        "name": given.get("name"),
        "description": given.get("description"),
        "serviceType": given.get("serviceType")
        or ("UNI" if given["serviceConfiguration"]["@type"] == UNI_TYPE else "EVC"),
        "serviceDate": now_iso(),
        "place": given.get("place"),
        "serviceConfiguration": given["serviceConfiguration"],
        "serviceOrderItem": [
            {"serviceOrderId": order["id"], "serviceOrderHref": order["href"], "itemId": item["id"]}
        ],
    }
    evc = next((e for e in plan.components.evcs if e.item_id == item["id"]), None)
    if evc is not None:
        related = [service_id(order["id"], ref) for ref in evc.uni_items] + list(evc.uni_services)
        service["serviceRelationship"] = [
            {"relationshipType": CONNECTS_TO_UNI, "service": {"id": ref, "href": records.service_href(ref)}}
            for ref in related
        ] + [{"relationshipType": CONNECTS_TO_ENNI, "service": {"id": enni}} for enni in evc.ennis]
    return service


@remote_step("sof.allocate_sips")
def allocate_sips(order_id: str, unis: list[UniComponent]) -> dict[str, str]:
    """A SIP per new UNI, by item. One step for all: each allocation is keyed by its item, so a re-run
    finds what an interrupted one made, and a step less is a checkpoint less (about 3 ms of CPU)."""
    return {uni.item_id: _allocate_sip(order_id, uni) for uni in unis}


def _allocate_sip(order_id: str, uni: UniComponent) -> str:
    with refusals_fail(uni.item_id):
        sip = presto().allocate_sip(uni.site_id, allocation_key(order_id, uni.item_id), uni.port_speed_mbps)
    with runtime.current().db.session() as session:
        service = records.SERVICES.get(session, service_id(order_id, uni.item_id))
        records.characteristic(service, "serviceInterfacePoint", sip.uuid)
        records.characteristic(service, "element", sip.element)
        records.characteristic(service, "port", sip.port)
        records.SERVICES.put(session, service)
    return sip.uuid


@remote_step("sof.allocate_enni_sip")
def allocate_enni_sip(order_id: str, evc: EvcComponent, enni: str) -> str:
    """The S-VLAN ID the order names for the OVC's end on the ENNI (else a free one), recorded on the
    OVC's service; ICM's refusal of a named one (taken, out of range) fails the item with its reason."""
    with refusals_fail(evc.item_id):
        key = allocation_key(order_id, enni_end(evc.item_id, enni))
        sip = presto().allocate_sip(enni, key, max(1, round(evc.cir_mbps)), evc.s_vlan_id)
    with runtime.current().db.session() as session:
        service = records.SERVICES.get(session, service_id(order_id, evc.item_id))
        records.characteristic(service, "enniServiceInterfacePoint", sip.uuid)
        records.characteristic(service, "enniElement", sip.element)
        records.characteristic(service, "enniPort", sip.port)
        if sip.s_vlan_id is not None:
            records.characteristic(service, "sVlanId", sip.s_vlan_id)
        records.SERVICES.put(session, service)
    return sip.uuid


@remote_step("sof.create_connectivity_service")
def create_connectivity_service(order_id: str, evc: EvcComponent, sips: list[str]) -> str:
    uuid_ = connectivity_service_uuid(order_id, evc.item_id)
    bandwidth = bandwidth_of(evc)
    with refusals_fail(evc.item_id):
        created = presto().create_connectivity_service(
            uuid_, [EndPoint(sip) for sip in sips], bandwidth, name=f"{order_id}:{evc.item_id}"
        )
    with runtime.current().db.session() as session:
        service = records.SERVICES.get(session, service_id(order_id, evc.item_id))
        records.characteristic(service, "connectivityService", created.uuid)
        records.characteristic(service, "vni", created.vni)
        records.characteristic(service, "path", list(created.route))
        records.characteristic(service, "serviceInterfacePoints", list(created.end_points))
        service["note"] = [
            {
                "id": "design",
                "author": "SOF",
                "date": now_iso(),
                "source": "sof",
                "text": f"connectivity service {created.uuid}, VNI {created.vni}, "
                f"path {' > '.join(created.route)}, SIPs {', '.join(created.end_points)}",
            }
        ]
        records.SERVICES.put(session, service)
    return created.uuid


@remote_step("sof.run_activation_test")
def run_activation_test(order_id: str, evc: EvcComponent) -> bool:
    """The Y.1564-style test as a LEGATO testJob whose results BUS can read."""
    evc_service = service_id(order_id, evc.item_id)
    with runtime.current().db.session() as session:
        service = records.SERVICES.get(session, evc_service)
        ends = [
            rel["service"]["id"]
            for rel in service.get("serviceRelationship", [])
            if rel["relationshipType"] == CONNECTS_TO_UNI
        ]
        job = testing.open_activation_test(session, evc_service, ends, evc)
        records.characteristic(service, "testJob", job["id"])
        records.SERVICES.put(session, service)
    try:
        results = presto().run_service_activation_test(
            connectivity_service_uuid(order_id, evc.item_id), evc.cir_mbps, evc.eir_mbps
        )
    except PrestoError as exc:
        if exc.status >= 500:
            raise
        with runtime.current().db.session() as session:
            testing.abandon(session, job["id"], exc.reason or str(exc))
        raise refused(evc.item_id, exc) from None
    with runtime.current().db.session() as session:
        return testing.record_results(session, job["id"], results)


@remote_step("sof.start_performance_monitoring")
def start_performance_monitoring(order_id: str, evc: EvcComponent) -> None:
    """Open the PM sessions measuring by the SLS's profiles, so the service is measured from now on."""
    from lso.sof.assurance import measurements  # here, not at the top: it builds on this module

    with runtime.current().db.read() as session:
        service = records.SERVICES.get(session, service_id(order_id, evc.item_id))
    profiles = measurements.wire(measurements.profiles_of(service)) or None
    with refusals_fail(evc.item_id):
        presto().start_performance_monitoring(connectivity_service_uuid(order_id, evc.item_id), profiles)


@remote_step("sof.delete_connectivity_service")
def delete_connectivity_service(order_id: str, item_id: str) -> None:
    try:
        presto().delete_connectivity_service(connectivity_service_uuid(order_id, item_id))
    except PrestoError as exc:
        if not exc.not_found:  # never created: nothing to undo
            raise


@remote_step("sof.release_sip")
def release_sip(order_id: str, item_id: str) -> None:
    try:
        presto().release_sip(allocation_key(order_id, item_id))
    except PrestoError as exc:
        if not exc.not_found:
            raise


@DBOS.step(name="sof.complete")
def complete(order_id: str) -> list[str]:
    with runtime.current().db.session() as session:
        order = records.ORDERS.get(session, order_id)
        ids: list[str] = []
        for item in order["serviceOrderItem"]:
            service = records.SERVICES.get(session, service_id(order_id, item["id"]))
            ids += records.move_service(session, service, "reserved", "active")
            ids += records.move_item(session, order, item["id"], "completed")
        ids += records.move_order(session, order, "completed")
        records.ORDERS.put(session, order)
        return ids


@DBOS.step(name="sof.fail")
def fail(order_id: str, item_id: str, reason: str) -> list[str]:
    """Every item failed (nothing of the order stays in the network); the culprit says why."""
    with runtime.current().db.session() as session:
        order = records.ORDERS.get(session, order_id)
        ids: list[str] = []
        for item in order["serviceOrderItem"]:
            own = item["id"] == item_id
            error = {
                "code": "otherIssue",
                "propertyPath": f"/serviceOrderItem/{order['serviceOrderItem'].index(item)}",
                "value": reason if own else f"not activated because item {item_id} failed: {reason}",
            }
            service = records.SERVICES.get(session, service_id(order_id, item["id"]))
            ids += records.move_service(session, service, "terminated")
            ids += records.move_item(session, order, item["id"], "failed", error)
        ids += records.move_order(session, order, "failed")
        records.ORDERS.put(session, order)
        return ids


def _referenced_unis(session: Session, order: Document, party: str | None) -> list[Document]:
    """The party's active UNI services the order's items relate to (read by id: listing every active UNI
    made each order's cost grow with the inventory)."""
    refs = {
        rel["service"]["id"]
        for item in order["serviceOrderItem"]
        for rel in (item.get("service") or {}).get("serviceRelationship") or []
        if rel.get("relationshipType") == CONNECTS_TO_UNI
    }
    found = (records.SERVICES.find(session, ref, party) for ref in sorted(refs))
    return [s for s in found if s and s.get("state") == "active" and s.get("serviceType") == "UNI"]


def fact(service: Document, name: str) -> Any:
    return next((c["value"] for c in service.get("serviceCharacteristic", []) if c["name"] == name), None)
