"""Our listener on a partner's INTERLUDE performance notifications (MEF 55.0.1 §10.6 step 1.2: the
partner's share measured and pushed up): a report of the job SOF keeps on the partner's share
(:mod:`partner`) runs the SLS assessment of that EVC at once instead of at the next period.

The partner delivers to ``LISTENER_BASE/<partner id>/<secret>`` + the MEF listener path: the secret was
given to that partner alone when SOF registered the hub (:func:`partner.listen`), and a partner's
deliveries carry no credentials of ours, so the secret is what tells the partner's events from anyone
else's. An event is only a hint (``lso.mef.notifications`` drops repeats by eventId): the assessment
reads the partner's reports itself, so a late or repeated event changes nothing but the time of a run.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends

from lso.mef import runtime
from lso.mef.errors import not_found
from lso.mef.notifications import listener_router
from lso.mef.store import Document
from lso.sof.assurance import partner, sls


def _from_partner(partner_id: str, key: str) -> None:
    """Only the partner we registered with knows its callback's secret; anyone else finds nothing."""
    with runtime.current().db.read() as session:
        hub = partner.HUBS.find(session, partner_id)
    if hub is None or hub.get("state") == "deleted" or not hmac.compare_digest(key, str(hub["key"])):
        raise not_found("listener", partner_id)


def router() -> APIRouter:
    listened = APIRouter(
        prefix=f"{partner.LISTENER_BASE}/{{partner_id}}/{{key}}", dependencies=[Depends(_from_partner)]
    )
    listened.include_router(listener_router(partner.EVENTS, {partner.REPORT_READY: on_report_ready}))
    return listened


def on_report_ready(body: Document) -> None:
    """A new report of a share's job: assess that EVC now (a job that is not a share's is ignored)."""
    event = body.get("event")
    job_id = event.get("id") if isinstance(event, dict) else None
    if not isinstance(job_id, str):
        return
    with runtime.current().db.read() as session:
        found, _ = partner.SHARES.list(
            session, party=None, filters={"performanceJobId": job_id}, offset=0, limit=1
        )
    if found and not found[0].get("cancelled"):
        sls.trigger(found[0]["id"])
