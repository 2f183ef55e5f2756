"""The durable fulfilment of a product order (MEF 55.0.1 §10.2 steps 5, 7, 13 and 14).

One DBOS workflow per order, id ``productOrder:<order id>``: start (``inProgress``), map the products to
services and place the LEGATO service order (SOF deduplicates it by ``externalId`` = the order id, so a
re-run step never orders twice), then wait durably for SOF. SOF's events only wake the workflow — after
every timeout, and every wake-up but one by an event naming a state it does not wait for, it reads the
service order over LEGATO, so a lost or forged event can neither stall nor mislead it. When SOF is done,
the order's items and products follow the service order's items.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from dbos import DBOS, SetWorkflowID

from lso.bus import context
from lso.bus.legato_client import LegatoError
from lso.bus.order import mapping
from lso.bus.order.inventory import install_products, product_id, realizing_services, settle_changes
from lso.bus.order.records import (
    ORDERS,
    PRODUCTS,
    REALIZATIONS,
    SERVICE_ORDER_LINKS,
    item_of,
    move_item,
    move_order,
    set_expected_completion,
)
from lso.bus.partners import enni_svlan, interlude, offnet_faults, offnet_order
from lso.bus.partners.ordering import start_partner_order
from lso.mef import runtime
from lso.mef.dates import now_iso
from lso.mef.notifications import dispatch
from lso.mef.store import Document, Store

log = logging.getLogger(__name__)

PLANS = Store("bus.fulfilmentPlan", "fulfilmentPlan")
"""The checked structure of each order (see :class:`lso.bus.order.structure.Plan`), stored with it."""
LEGATO_HUBS = Store("bus.legatoHub", "legatoHub")

WAKE_TOPIC = "legato"
# SOF's events are delivered durably (retried, and redelivered after a restart), so the timeout is only
# a safety net; each one costs the waiting order a read of the service order over LEGATO.
WAIT_S = 30.0
MAX_WAITS = 120  # an hour of silence from SOF fails the order rather than leaving it inProgress forever
FINAL_SERVICE_ORDER_STATES = {"completed", "failed", "partial", "rejected"}
PASSING_SERVICE_ORDER_STATES = {"acknowledged", "inProgress", "pending", "held"}
UNAWAITED_SERVICE_ORDER_STATES = PASSING_SERVICE_ORDER_STATES - {"acknowledged"}
"""States no wait of a fulfilment ends on (:func:`await_service_order` waits for acknowledgement or
for a final state)."""
_TERMINATION_CODES = {
    "missingProperty",
    "invalidValue",
    "invalidFormat",
    "referenceNotFound",
    "unexpectedProperty",
    "tooManyRecords",
    "otherIssue",
}

_hub_lock = threading.Lock()


def workflow_id(order_id: str) -> str:
    return f"productOrder:{order_id}"


def start_fulfilment(order_id: str) -> None:
    """Start (at most once) the fulfilment of an acknowledged order."""
    with SetWorkflowID(workflow_id(order_id)):
        DBOS.start_workflow(fulfil_product_order, order_id)


def wake(order_id: str, news: str) -> None:
    """Tell the fulfilment of ``order_id`` that its service order changed: ``news`` is the state the
    event names, else its event type. News of a state no wait ends on is dropped: waking the workflow
    only to wait again costs a message and two checkpoints."""
    if news not in UNAWAITED_SERVICE_ORDER_STATES:
        DBOS.send(workflow_id(order_id), news, topic=WAKE_TOPIC)


@DBOS.workflow()
def fulfil_product_order(order_id: str) -> str:
    # with the partner's part of an off-net EPL, ordered meanwhile
    state, deliveries, shares = check_inventory(order_id)
    dispatch(deliveries)
    if state != "acknowledged":
        return state
    # Over SONATA BUS buys the share; over INTERLUDE SOF orders it with our segment (bus/partners/interlude).
    sonata = [share for share in shares if not share.get("interlude")]
    # one S-VLAN at the ENNI for both networks, before either acts (an on-net order has no share to agree)
    vlans = enni_svlan.agree_for_order(order_id, sonata) if sonata else {}
    # A disconnect asks the partner first: when it refuses, our segment is left as it was.
    disconnects = {
        share["item_id"]: start_partner_order(order_id, **_without_uni(share))
        for share in sonata
        if share["action"] == "delete"
    }
    links = {item_id: handle.get_result() for item_id, handle in disconnects.items()}
    refusal = offnet_order.refused_disconnect(sonata, links)
    if refusal is not None:
        service_order = {"state": "failed", "reason": refusal}
    else:
        try:
            service_order = place_service_order(order_id, vlans)
        except Exception as exc:  # SOF unreachable after every retry: the seller cannot fulfil the order
            log.warning("product order %s: LEGATO service order not placed: %s", order_id, exc)
            service_order = {"state": "failed", "reason": f"the service order could not be placed: {exc}"}
    # SOF validates the service order after acknowledging it: that is still validation of this order.
    service_order = await_service_order(service_order, {"acknowledged"})
    if service_order["state"] == "rejected":
        state, deliveries = reject(order_id, service_order)
        dispatch(deliveries)
        return state
    dispatch(accept(order_id))
    handles = {
        share["item_id"]: start_partner_order(
            order_id, **_without_uni(share), s_vlan_id=vlans.get(share["item_id"])
        )
        for share in sonata
        if share["item_id"] not in links
    }
    service_order = await_service_order(service_order, FINAL_SERVICE_ORDER_STATES)
    links |= {item_id: handle.get_result() for item_id, handle in handles.items()}
    links |= interlude.outcomes(service_order, [share for share in shares if share.get("interlude")])
    links = offnet_faults.undo_lone_halves(order_id, service_order, shares, links)  # both parts or none
    service_order = offnet_order.with_partner_outcomes(service_order, shares, links)
    # An off-net EPL's EVC also ends at an ENNI, but its product shows the customer's two UNIs, no S-VLAN.
    added = added_services(service_order)
    vlans = {
        i: facts["sVlanId"] for i, facts in added.items() if facts["sVlanId"] is not None and i not in links
    }
    state, deliveries = finish(order_id, service_order, added, vlans)
    dispatch(deliveries)
    return state


def await_service_order(service_order: dict[str, Any], until: set[str]) -> dict[str, Any]:
    """Wait (durably) while the service order is in one of ``until``'s complement — or SOF goes silent.

    An event naming a state that would not end the wait is not worth a read (a lying one only delays
    the read to the next timeout); any other wake-up, and every timeout, reads the service order."""
    waits = 0
    while service_order["state"] not in until | FINAL_SERVICE_ORDER_STATES and waits < MAX_WAITS:
        news = DBOS.recv(WAKE_TOPIC, timeout_seconds=WAIT_S)
        waits += 1
        if news in PASSING_SERVICE_ORDER_STATES - until:
            continue
        service_order = read_service_order(service_order["id"])
    return service_order


def _without_uni(share: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in share.items() if k not in {"uni_item_id", "interlude", "enni_id"}}


@DBOS.step()
def check_inventory(order_id: str) -> tuple[str, list[str], list[dict[str, Any]]]:
    """Re-check what may have changed since acknowledgement: the inventory UNIs the order connects to.
    With the order's state and deliveries, the partner shares an off-net order buys (none once it is no
    longer acknowledged): read in the same transaction rather than in a step of their own."""
    with runtime.current().db.session() as session:
        order = ORDERS.get(session, order_id)
        if order["state"] != "acknowledged":
            return order["state"], [], []
        plan = PLANS.get(session, order_id)
        problems = _inventory_problems(session, ORDERS.party_of(session, order_id), order, plan)
        if problems:
            deliveries = _reject_items(session, order, problems)
            ORDERS.put(session, order)
            return order["state"], deliveries, []
        shares = offnet_order.share_requests(order, plan)
        return (
            order["state"],
            [],
            [{**share, "interlude": interlude.by_interlude(session, share)} for share in shares],
        )


@DBOS.step()
def reject(order_id: str, service_order: dict[str, Any]) -> tuple[str, list[str]]:
    """SOF found the mapped order invalid: the product order is rejected, with SOF's reasons per item."""
    with runtime.current().db.session() as session:
        order = ORDERS.get(session, order_id)
        outcome = _item_outcomes(order, service_order)
        refused = {i: e for i, e in outcome.items() if e is not None and _has_own_reason(service_order, i)}
        deliveries = _reject_items(session, order, refused or outcome)
        for item in order["productOrderItem"]:  # nothing was built: the S-VLANs agreed are free again
            enni_svlan.release(session, product_id(order_id, item["id"]))
        ORDERS.put(session, order)
        return order["state"], deliveries


def _has_own_reason(service_order: dict[str, Any], item_id: str) -> bool:
    return bool(service_order.get("item", {}).get(item_id, {}).get("terminationError"))


def _reject_items(session: Any, order: Document, problems: dict[str, Any]) -> list[str]:
    deliveries: list[str] = []
    for item in order["productOrderItem"]:
        error = problems.get(item["id"])
        if error:
            item["terminationError"] = [error]
        deliveries += move_item(session, order, item, "rejected" if error else "rejected.validated")
    settle_changes(session, order, PLANS.get(session, order["id"]), done=set())
    return deliveries + move_order(session, order, "rejected")


@DBOS.step()
def accept(order_id: str) -> list[str]:
    """Validated by BUS and SOF: the order and its items are inProgress, each with an expected date."""
    with runtime.current().db.session() as session:
        order = ORDERS.get(session, order_id)
        deliveries = move_order(session, order, "inProgress")
        for item in order["productOrderItem"]:
            deliveries += move_item(session, order, item, "inProgress")
            deliveries += set_expected_completion(session, order, item, item["requestedCompletionDate"])
        ORDERS.put(session, order)
        return deliveries


def _inventory_problems(
    session: Any, party: str | None, order: Document, plan: Document
) -> dict[str, Document]:
    problems = {}
    for step in plan["item"]:
        for uni in step["uni"]:
            product = PRODUCTS.find(session, uni["productId"], party) if uni.get("productId") else None
            if uni.get("productId") and (
                product is None
                or product.get("status") != "active"
                or REALIZATIONS.find(session, uni["productId"]) is None
            ):
                index = [i["id"] for i in order["productOrderItem"]].index(step["id"])
                problems[step["id"]] = {
                    "code": "referenceNotFound",
                    "propertyPath": f"/productOrderItem/{index}/product/productRelationship",
                    "value": f"UNI product {uni['productId']} is no longer active",
                }
    return problems


@DBOS.step(retries_allowed=True, max_attempts=8, interval_seconds=0.5, backoff_rate=2.0)
def register_legato_hub() -> None:
    """Subscribe BUS to SOF's service order events once per domain (lazily: the server must be up).

    Only order state changes: the workflow reads the whole service order when woken, so item events
    would only wake it more often. The lock keeps concurrent first orders from registering a hub each
    (every extra hub doubles SOF's deliveries); no transaction is held across the call to SOF.
    """
    _ensure_legato_hub()


def _ensure_legato_hub() -> None:
    rt = runtime.current()
    with _hub_lock:
        with rt.db.read() as session:
            if LEGATO_HUBS.find(session, "serviceOrderingNotification") is not None:
                return
        hub = context.legato().register_hub(rt.settings.base_url, "eventType=serviceOrderStateChangeEvent")
        with rt.db.session() as session:
            if LEGATO_HUBS.find(session, "serviceOrderingNotification") is None:
                LEGATO_HUBS.add(session, {"id": "serviceOrderingNotification", "hubId": hub["id"]})


@DBOS.step(retries_allowed=True, max_attempts=8, interval_seconds=0.5, backoff_rate=2.0)
def place_service_order(order_id: str, vlans: dict[str, int]) -> dict[str, Any]:
    """POST the LEGATO service order (safe to repeat) and remember which product order it fulfils; BUS
    subscribes to SOF's events first, unless it already has (a step of its own would cost every order a
    checkpoint for a registration made once)."""
    _ensure_legato_hub()
    rt = runtime.current()
    with rt.db.read() as session:
        order = ORDERS.get(session, order_id)
        plan = PLANS.get(session, order_id)
        customer = ORDERS.party_of(session, order_id)
        on_net = offnet_order.on_net(plan)  # SOF builds our part only (docs/partners.md)
        body = mapping.service_order(order, on_net, realizing_services(session, plan), customer, vlans)
        body = interlude.with_partner_shares(session, body, offnet_order.share_requests(order, plan))
    try:
        created = context.legato().create_service_order(body)
    except LegatoError as error:
        if error.status in (400, 422):  # SOF judged the mapped order invalid: found after acknowledgement
            return {"state": "rejected", "reason": f"the service order was refused: {error.body}"}
        raise
    with rt.db.session() as session:
        if SERVICE_ORDER_LINKS.find(session, created["id"]) is None:
            SERVICE_ORDER_LINKS.add(session, {"id": created["id"], "productOrderId": order_id})
    return _summary(created)


@DBOS.step(retries_allowed=True, max_attempts=8, interval_seconds=0.5, backoff_rate=2.0)
def read_service_order(service_order_id: str) -> dict[str, Any]:
    summary = _summary(context.legato().get_service_order(service_order_id))
    if summary["state"] in {"completed", "partial"}:
        _add_realizing_services(summary)
    return summary


def _add_realizing_services(summary: dict[str, Any]) -> None:
    """Which service realises each item, and what SOF recorded on it: SOF's service inventory lists the
    services of an order by its ``externalId`` (the product order id), whole (LEGATO's ``Service``), each
    naming the service order item it came from — one request instead of a read per service."""
    if all(item["serviceId"] and item["action"] != "add" for item in summary["item"].values()):
        return  # a change or disconnect of known services: nothing added to learn about
    for service in context.legato().find_services(summary["externalId"]):
        for ref in service.get("serviceOrderItem", []):
            item = summary["item"].get(ref.get("itemId"))
            if ref.get("serviceOrderId") == summary["id"] and item is not None:
                item["serviceId"] = item["serviceId"] or service["id"]
                item["facts"] = _recorded_facts(service)


def _recorded_facts(service: Document) -> dict[str, Any]:
    """Of SOF's characteristics of a service, ``testJob``, the service activation test that gated it
    (passed or not), and ``sVlanId``, the S-VLAN ID allocated for an OVC on the ENNI — the buyer provider
    maps the OVC to it on its side of the ENNI, so its product shows it (``enniEp`` End Point Map,
    FORM_E)."""
    characteristics = {c["name"]: c["value"] for c in service.get("serviceCharacteristic", [])}
    vlan = characteristics.get("sVlanId")
    return {"sVlanId": int(vlan) if vlan is not None else None, "testJob": characteristics.get("testJob")}


def _summary(service_order: Document) -> dict[str, Any]:
    """What the fulfilment needs of a service order: its state and, per item, state, service and errors."""
    return {
        "id": service_order["id"],
        "externalId": service_order.get("externalId"),
        "state": service_order["state"],
        "item": {
            item["id"]: {
                "state": item.get("state"),
                "action": item.get("action", "add"),
                "serviceId": (item.get("service") or {}).get("id"),
                "terminationError": item.get("terminationError") or [],
            }
            for item in service_order.get("serviceOrderItem", [])
        },
    }


def added_services(service_order: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per ``add`` item with a service, what SOF recorded on it (see :func:`_recorded_facts`; read with
    the final service order); ``sVlanId`` only for a completed item."""
    found = {}
    for item_id, item in service_order["item"].items():
        if item["action"] != "add" or not item.get("serviceId"):
            continue
        facts = item.get("facts") or {"sVlanId": None, "testJob": None}
        vlan = facts["sVlanId"] if item["state"] == "completed" else None
        found[item_id] = {"sVlanId": vlan, "testJob": facts["testJob"]}
    return found


@DBOS.step(retries_allowed=True, max_attempts=5, interval_seconds=0.5, backoff_rate=2.0)
def finish(
    order_id: str, service_order: dict[str, Any], added: dict[str, dict[str, Any]], vlans: dict[str, int]
) -> tuple[str, list[str]]:
    """Items follow their service order items; completed ones become active products in inventory, or
    change the products they modify or delete (failed ones leave them as they were). The report of the
    ``added`` services' activation tests becomes a seller's note on the order (§10.2 step 14: the
    customer is told); read first, in this step (retried while SOF does not answer), as no transaction
    may be held across a request."""
    report = activation_report(added)
    with runtime.current().db.session() as session:
        order = ORDERS.get(session, order_id)
        if report and not any(note["id"] == "activation-test" for note in order.get("note", [])):
            note = {
                "id": "activation-test",
                "author": "lso",
                "date": now_iso(),
                "source": "seller",
                "text": report,
            }
            order.setdefault("note", []).append(note)
        plan = PLANS.get(session, order_id)
        party = ORDERS.party_of(session, order_id)
        outcome = _item_outcomes(order, service_order)
        done = {item_id for item_id, error in outcome.items() if error is None}
        services = {
            i: service_order["item"][i]["serviceId"] for i in done if service_order["item"][i]["serviceId"]
        }
        installed = [s for s in plan["item"] if s["id"] in done and s.get("action", "add") == "add"]
        install_products(session, party or "", order, {**plan, "item": installed}, services, vlans)
        offnet_order.relate_partner_products(session, order, service_order)
        settle_changes(session, order, plan, done)
        deliveries: list[str] = []
        for item_id, error in outcome.items():
            item = item_of(order, item_id)
            if error is not None:
                item["terminationError"] = [error]
                enni_svlan.release(session, product_id(order_id, item_id))  # its segment was not built
            deliveries += move_item(session, order, item, "completed" if error is None else "failed")
        for step in plan["item"]:  # a disconnected EPL gives its S-VLAN at the ENNI back
            if step["id"] in done and step.get("action") == "delete":
                enni_svlan.release(session, step["productId"])
        state = "completed" if len(done) == len(outcome) else "partial" if done else "failed"
        deliveries += move_order(session, order, state)
        ORDERS.put(session, order)
        return state, deliveries


def activation_report(added: dict[str, dict[str, Any]]) -> str | None:
    """The results of the service activation tests SOF ran for the ``added`` services (LEGATO
    serviceFunctionTesting), in words. A changed service keeps the test of its activation: not news."""
    legato = context.legato()
    lines = []
    for facts in added.values():
        job_id = facts["testJob"]
        if job_id is None:
            continue
        for result in legato.list_test_results(job_id):
            lines.append(_result_line(result["serviceSpecificTestResultConfiguration"]))
    return "Activation test " + "; ".join(lines) if lines else None


def _result_line(measured: dict[str, Any]) -> str:
    return (
        f"{measured['aEnd']}→{measured['zEnd']} {measured['verdict']}: "
        f"FD {measured['frameDelayMs']:.3f} ms, FDV {measured['frameDelayVariationMs']:.3f} ms, "
        f"FLR {measured['frameLossRatio']:.2%}, {measured['throughputMbps']:g} Mbit/s"
    )


def _item_outcomes(order: Document, service_order: dict[str, Any]) -> dict[str, Document | None]:
    """Per product order item: None when its service is active, else the terminationError to report."""
    outcome: dict[str, Document | None] = {}
    for index, item in enumerate(order["productOrderItem"]):
        pointer = f"/productOrderItem/{index}"
        service_item = service_order.get("item", {}).get(item["id"])
        if service_item and service_item["state"] == "completed":
            outcome[item["id"]] = None
            continue
        reasons = [e.get("value") or e.get("code") for e in (service_item or {}).get("terminationError", [])]
        reason = "; ".join(str(r) for r in reasons if r) or service_order.get("reason")
        if reason is None:
            state = service_item["state"] if service_item else service_order["state"]
            reason = f"the service realising this item ended {state}"
        codes = [e.get("code") for e in (service_item or {}).get("terminationError", [])]
        code = next((c for c in codes if c in _TERMINATION_CODES), "otherIssue")
        outcome[item["id"]] = {"code": code, "propertyPath": pointer, "value": reason}
    return outcome
