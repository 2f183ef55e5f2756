"""The partner's share of an off-net EPL after it was ordered over INTERLUDE (docs/interlude.md): modified,
deleted or withdrawn with our EVC, so the two providers never hold different halves of one service.

- **modify** (a LEGATO order changes our EVC's bandwidth profile, §10.3): once ICM has reconfigured our
  segment, the partner's OVC is modified the same way over INTERLUDE serviceOrdering. A partner that
  refuses fails our item with its reason, and our segment gets its old profile back.
- **delete**: the partner's OVC and UNI are deleted first (one INTERLUDE order), then our EVC. A partner
  that refuses fails our item and our EVC stays, as the partner's does.
- **withdraw**: the end-to-end activation test failed after the partner completed its share
  (:mod:`lso.sof.end_to_end`): its OVC and UNI are deleted before our segment is released.

Each partner order has an ``externalId`` derived from our order and item (``interludeModify:``,
``interludeDelete:``, ``interludeWithdraw:``), looked up before it is placed (:func:`interlude_client.
run_order`), so a re-run step never orders twice; the workflow that placed it waits for it to end.
"""

from __future__ import annotations

from collections.abc import Callable

from dbos import DBOS
from dbos._error import DBOSMaxStepRetriesExceeded  # not exported by dbos itself

from lso.mef import runtime
from lso.mef.store import Document
from lso.sof import interlude_client, records
from lso.sof.activation import ActivationError, fact
from lso.sof.configuration import ServiceChange, changes_of
from lso.sof.interlude_client import OVC_ITEM, UNI_ITEM, InterludeError, partner_step

SHARE_FACT = "partnerServiceOrder"
"""The EVC service's record of the partner's INTERLUDE order of its share (``lso.sof.end_to_end``)."""


def modify_partner_share(
    order_id: str, change: ServiceChange, restore: Callable[[ServiceChange], None]
) -> None:
    """In the change workflow, after our segment took the new profile: the partner's OVC takes it too,
    or ``restore`` gives our segment its old profile back and the item fails with the partner's reason."""
    link = share_link(change.service_id)
    if link is None:
        return
    old = current_change(change)
    configuration = {k: v for k, v in (change.configuration or {}).items() if k != "identifier"}

    def items(services: dict[str, str]) -> list[Document]:
        if OVC_ITEM not in services:
            raise LookupError(f"it shows no active OVC of its order {link['id']}")
        ovc = {"id": services[OVC_ITEM], "serviceConfiguration": configuration}
        return [{"id": OVC_ITEM, "action": "modify", "service": ovc}]

    key = f"interludeModify:{order_id}:{change.item_id}"
    ended = _order(link, (order_id, change.item_id), key, "sof-change", "Modification", items)
    if ended["state"] != "completed":
        restore(old)
        raise ActivationError(change.item_id, f"{_refusal(link, ended)}; our EVC keeps its bandwidth profile")


def delete_partner_share(order_id: str, change: ServiceChange) -> None:
    """In the change workflow, before our EVC is taken out of the network: the partner deletes its share,
    or the item fails with the partner's reason and our EVC stays."""
    link = share_link(change.service_id)
    if link is not None:
        key = f"interludeDelete:{order_id}:{change.item_id}"
        ended = _order(link, (order_id, change.item_id), key, "sof-change", "Deletion", deletion_items)
        if ended["state"] != "completed":
            raise ActivationError(change.item_id, f"{_refusal(link, ended)}; our EVC stays active")


def withdraw_share(order_id: str, item_id: str, link: Document) -> str:
    """In the activation workflow, when the share completed but the EVC fails: delete the partner's OVC
    and UNI; what became of that, for our item's reason."""
    key = f"interludeWithdraw:{order_id}:{item_id}"
    ended = _order(link, (order_id, item_id), key, "sof-activation", "Withdrawal", deletion_items)
    if ended["state"] == "completed":
        return f"its share is withdrawn (its order {ended['id']})" if ended["id"] else "it holds nothing"
    return f"withdrawing its share failed: {ended.get('reason') or ended['state']}"


def deletion_items(services: dict[str, str]) -> list[Document]:
    """The partner's OVC, then its UNI (a UNI is deleted only with, or after, the EVCs on it)."""
    return [
        {"id": name, "action": "delete", "service": {"id": services[name]}}
        for name in (OVC_ITEM, UNI_ITEM)
        if name in services
    ]


def _order(
    link: Document,
    serves: tuple[str, str],
    key: str,
    workflow: str,
    what: str,
    items_of: Callable[[dict[str, str]], list[Document]],
) -> Document:
    """One INTERLUDE order on the partner's share, its items made from the share's active services, and
    waited for; its final link (``completed`` at once when there is nothing left to change)."""
    try:
        services = share_services(link)
    except (InterludeError, DBOSMaxStepRetriesExceeded) as exc:  # refused, or silent after every retry
        return {"state": "failed", "reason": f"its services of order {link['id']} could not be read: {exc}"}
    try:
        items = items_of(services)
    except LookupError as exc:  # nothing there to change
        return {"state": "failed", "reason": str(exc)}
    if not items:
        return {"state": "completed", "id": None}
    body = interlude_client.change_body(key, f"{what} of {link['externalId']}", items)
    return interlude_client.run_order(link["partnerId"], f"{workflow}:{serves[0]}", key, body, serves)


def _refusal(link: Document, ended: Document) -> str:
    reason = ended.get("reason") or f"its order {ended.get('id')} ended {ended['state']}"
    return f"partner {link['partnerId']}: {reason}"


@DBOS.step(name="sof.interlude.share_link")
def share_link(service_id: str) -> Document | None:
    """The link of the INTERLUDE order that made the partner's share of our EVC ``service_id`` (None for
    an EVC without one)."""
    with runtime.current().db.read() as session:
        ordered = fact(records.SERVICES.get(session, service_id), SHARE_FACT)
        if not isinstance(ordered, dict):
            return None
        return interlude_client.LINKS.find(session, ordered["id"])


@partner_step("sof.interlude.share_services")
def share_services(link: Document) -> dict[str, str]:
    """The partner's service ids of the share ``link`` ordered, by item (uni, ovc); active ones only."""
    client = interlude_client.partner_client(link["partnerId"])
    try:
        services = client.share_services(link)
    finally:
        client.close()
    return {item: service["id"] for item, service in services.items() if service.get("state") != "terminated"}


@DBOS.step(name="sof.interlude.current_change")
def current_change(change: ServiceChange) -> ServiceChange:
    """``change`` undone: our EVC's configuration as inventory still holds it (before the modify)."""
    with runtime.current().db.read() as session:
        service = records.SERVICES.get(session, change.service_id)
    now = {"id": service["id"], "serviceConfiguration": service["serviceConfiguration"]}
    (old,) = changes_of({"serviceOrderItem": [{"id": change.item_id, "action": "modify", "service": now}]})
    return old
