"""Changes to services in inventory (MEF 55.0.1 §10.3): one durable workflow per service order whose items
modify or delete services; orders that only add services go to :mod:`lso.sof.activation`.

validate against inventory → order and items inProgress → per item, in a safe order (modifies, then EVC
deletes, then UNI deletes, so no SIP is released while a connectivity service still uses it): ask ICM over
PRESTO, then record the outcome. Items are independent: a refused modify fails its own item (the service
keeps its old configuration) and the order ends ``partial`` or ``failed``.

Every PRESTO call is idempotent (update to the same profile, delete or release of what is already gone),
and the workflow id derives from the order id, so a step re-run after a crash acts once.
"""

from __future__ import annotations

from dbos import DBOS, SetWorkflowID
from dbos._error import DBOSMaxStepRetriesExceeded
from sqlalchemy.orm import Session

from lso.entity import EntityContext
from lso.mef import runtime
from lso.mef.notifications import dispatch
from lso.mef.store import Document
from lso.sof import activation, interlude_changes, records
from lso.sof.activation import (
    ActivationError,
    allocation_key,
    bandwidth_of,
    enni_end,
    fact,
    presto,
    refusals_fail,
    remote_step,
)
from lso.sof.configuration import (
    CONNECTS_TO_ENNI,
    CONNECTS_TO_UNI,
    EVC_TYPE,
    UNI_TYPE,
    Invalid,
    ServiceChange,
    TerminationError,
    changes_of,
)
from lso.sof.legato.service_inventory import publish_service_event
from lso.sof.presto_client import PrestoError

_UNCHANGEABLE = ("evcType", "maximumFrameSize", "listOfCosNames")
"""EVC properties a modify must leave as they are: ICM reconfigures only the bandwidth profile."""


def start(order_id: str) -> None:
    """Run ``order_id`` once: by the activation workflow when it only adds services, else by this one."""
    with runtime.current().db.read() as session:
        order = records.ORDERS.get(session, order_id)
    if all(item.get("action") == "add" for item in order["serviceOrderItem"]):
        activation.start(order_id)
        return
    with SetWorkflowID(f"sof-change:{order_id}"):
        DBOS.start_workflow(change_service_order, order_id)


def recover(_ctx: EntityContext) -> None:
    """Run every order a crash left between its storage and the start of its workflow."""
    with runtime.current().db.read() as session:
        waiting = [
            order["id"]
            for state in ("acknowledged", "inProgress")
            for order in records.ORDERS.list(
                session, party=None, filters={"state": state}, offset=0, limit=100_000
            )[0]
        ]
    for order_id in waiting:
        start(order_id)


@DBOS.workflow(name="sof.change_service_order")
def change_service_order(order_id: str) -> str:
    checked = validate(order_id)
    if isinstance(checked, TerminationError):
        dispatch(activation.reject(order_id, checked))
        return "rejected"
    dispatch(begin(order_id))
    for change in checked:
        try:
            if change.action == "modify":
                update_connectivity_service(change)
                # an off-net EVC's partner share over INTERLUDE follows (docs/interlude.md)
                interlude_changes.modify_partner_share(order_id, change, update_connectivity_service)
                dispatch(record_modification(order_id, change))
            else:
                interlude_changes.delete_partner_share(order_id, change)
                remove_from_network(change)
                dispatch(record_termination(order_id, change))
        except ActivationError as exc:
            dispatch(fail_item(order_id, change, exc.reason))
        except DBOSMaxStepRetriesExceeded as exc:
            dispatch(
                fail_item(order_id, change, f"ICM did not answer: {exc.errors[-1] if exc.errors else exc}")
            )
    state, deliveries = conclude(order_id)
    dispatch(deliveries)
    return state


@DBOS.step(name="sof.validate_changes")
def validate(order_id: str) -> list[ServiceChange] | TerminationError:
    """The changes in the order they must run, or why the order is rejected."""
    with runtime.current().db.session() as session:
        order = records.ORDERS.get(session, order_id)
        try:
            changes = changes_of(order)
            _check_against_inventory(session, records.party_of(session, order), changes)
        except Invalid as exc:
            return exc.error
        kinds = {c.service_id: _kind(records.SERVICES.get(session, c.service_id)) for c in changes}
    rank = {("modify", EVC_TYPE): 0, ("delete", EVC_TYPE): 1, ("delete", UNI_TYPE): 2}
    return sorted(changes, key=lambda c: rank[(c.action, kinds[c.service_id])])


def _kind(service: Document) -> str:
    return str(service["serviceConfiguration"]["@type"])


def _check_against_inventory(session: Session, party: str | None, changes: list[ServiceChange]) -> None:
    """Each named service is the orderer's, active, named once; a modify keeps all but the bandwidth
    profile; a UNI is deleted only when no EVC that stays active connects to it."""
    deleted = {c.service_id for c in changes if c.action == "delete"}
    seen: set[str] = set()
    for change in changes:
        pointer = f"{change.path}/service/id"
        service = records.SERVICES.find(session, change.service_id, party)
        if service is None:
            _invalid(change, pointer, f"no service {change.service_id!r} in inventory", "referenceNotFound")
        elif change.service_id in seen:
            _invalid(change, pointer, f"service {change.service_id!r} is changed by two items")
        elif service["state"] != "active":
            _invalid(change, pointer, f"service {change.service_id!r} is {service['state']}, not active")
        elif change.action == "modify":
            _check_modification(change, service)
        elif _kind(service) == UNI_TYPE:
            users = [e for e in _active_evcs_on(session, party, change.service_id) if e not in deleted]
            if users:
                _invalid(change, pointer, f"UNI {change.service_id!r} still carries EVC {users[0]!r}")
        seen.add(change.service_id)


def _check_modification(change: ServiceChange, service: Document) -> None:
    current = service["serviceConfiguration"]
    if _kind(service) != EVC_TYPE:
        _invalid(change, f"{change.path}/service/id", "only an EVC service can be modified")
    new = change.configuration or {}
    for name in _UNCHANGEABLE:
        if name in new and new[name] != current.get(name):
            _invalid(
                change,
                f"{change.path}/service/serviceConfiguration/{name}",
                f"{name} cannot be modified: only the bandwidth profile (ingressBwp) can",
            )


def _active_evcs_on(session: Session, party: str | None, uni_service_id: str) -> list[str]:
    evcs, _ = records.SERVICES.list(
        session, party=party, filters={"state": "active", "serviceType": "EVC"}, offset=0, limit=10_000
    )
    return [
        evc["id"]
        for evc in evcs
        if any(
            rel.get("relationshipType") == CONNECTS_TO_UNI and rel["service"]["id"] == uni_service_id
            for rel in evc.get("serviceRelationship", [])
        )
    ]


def _invalid(change: ServiceChange, pointer: str, reason: str, code: str = "invalidValue") -> None:
    raise Invalid(TerminationError(change.item_id, pointer, reason, code))


@DBOS.step(name="sof.begin_changes")
def begin(order_id: str) -> list[str]:
    with runtime.current().db.session() as session:
        order = records.ORDERS.get(session, order_id)
        ids: list[str] = []
        for item in order["serviceOrderItem"]:
            ids += records.move_item(session, order, item["id"], "inProgress")
        ids += records.move_order(session, order, "inProgress")
        records.ORDERS.put(session, order)
        return ids


@remote_step("sof.update_connectivity_service")
def update_connectivity_service(change: ServiceChange) -> None:
    """ICM re-reserves the route for the new profile and reconfigures every element (or refuses)."""
    assert change.evc is not None
    with runtime.current().db.read() as session:
        service = records.SERVICES.get(session, change.service_id)
    evc = change.evc
    with refusals_fail(change.item_id):
        sips = fact(service, "serviceInterfacePoints") or []
        presto().update_bandwidth(
            str(fact(service, "connectivityService")), bandwidth_of(evc), sips[0] if sips else None
        )


@remote_step("sof.remove_from_network")
def remove_from_network(change: ServiceChange) -> None:
    """An EVC: delete its connectivity service (and give back the S-VLAN of an OVC's end at an ENNI). A
    UNI: give its SIP back (under the key it was taken)."""
    with runtime.current().db.read() as session:
        service = records.SERVICES.get(session, change.service_id)
    made_by = service["serviceOrderItem"][0]
    try:
        if _kind(service) == EVC_TYPE:
            presto().delete_connectivity_service(str(fact(service, "connectivityService")))
        else:
            presto().release_sip(allocation_key(made_by["serviceOrderId"], made_by["itemId"]))
    except PrestoError as exc:
        if not exc.not_found:  # already gone: a re-run after a crash
            raise
    for relation in service.get("serviceRelationship", []):
        if relation["relationshipType"] == CONNECTS_TO_ENNI:  # releasing twice is fine
            end = enni_end(made_by["itemId"], relation["service"]["id"])
            presto().release_sip(allocation_key(made_by["serviceOrderId"], end))


@DBOS.step(name="sof.record_modification")
def record_modification(order_id: str, change: ServiceChange) -> list[str]:
    """The service takes the new configuration (its identifier kept unless a new one is given)."""
    with runtime.current().db.session() as session:
        order = records.ORDERS.get(session, order_id)
        service = records.SERVICES.get(session, change.service_id)
        current = service["serviceConfiguration"]
        service["serviceConfiguration"] = {
            **current,
            **(change.configuration or {}),
            "identifier": (change.configuration or {}).get("identifier", current.get("identifier")),
        }
        if service["serviceConfiguration"]["identifier"] is None:
            service["serviceConfiguration"].pop("identifier")
        records.SERVICES.put(session, service)
        ids = publish_service_event(
            session,
            service,
            "serviceAttributeValueChangeEvent",
            f"{service['id']}:modified:{order_id}:{change.item_id}",
        )
        ids += records.move_item(session, order, change.item_id, "completed")
        records.ORDERS.put(session, order)
        return ids


@DBOS.step(name="sof.record_termination")
def record_termination(order_id: str, change: ServiceChange) -> list[str]:
    with runtime.current().db.session() as session:
        order = records.ORDERS.get(session, order_id)
        service = records.SERVICES.get(session, change.service_id)
        ids = records.move_service(session, service, "terminated")
        ids += records.move_item(session, order, change.item_id, "completed")
        records.ORDERS.put(session, order)
        return ids


@DBOS.step(name="sof.fail_change")
def fail_item(order_id: str, change: ServiceChange, reason: str) -> list[str]:
    """One item failed; its service stays as it was (ICM refused before changing anything)."""
    with runtime.current().db.session() as session:
        order = records.ORDERS.get(session, order_id)
        error = {"code": "otherIssue", "propertyPath": change.path, "value": reason}
        ids = records.move_item(session, order, change.item_id, "failed", error)
        records.ORDERS.put(session, order)
        return ids


@DBOS.step(name="sof.conclude_changes")
def conclude(order_id: str) -> tuple[str, list[str]]:
    with runtime.current().db.session() as session:
        order = records.ORDERS.get(session, order_id)
        states = {item["state"] for item in order["serviceOrderItem"]}
        state = "completed" if states == {"completed"} else "failed" if states == {"failed"} else "partial"
        ids = records.move_order(session, order, state)
        records.ORDERS.put(session, order)
        return state, ids
