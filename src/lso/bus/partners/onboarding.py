"""Partner on-boarding as a durable workflow (MEF 55.0.1 §10.1, which the standard leaves to define).

``onboard:<partner>:<n>`` runs: check the credentials (a token from the partner), import the partner's
product offerings and specifications through its SONATA productCatalog, learn the sites it serves through
its geographicSite API (per the ``areas`` policy), then register our listeners on its catalog and ordering
hubs. Every step reads the partner over HTTP and writes only the partner record, so a re-run step
repeats a read, never a purchase; a hub already recorded is not registered again.

Catalog notifications start ``partnerCatalogEvent:<partner>:<eventId>``, which re-reads the one offering or
specification the event names: duplicates of an event are the same workflow, so they change nothing.
"""

from __future__ import annotations

import logging

import httpx
from dbos import DBOS, SetWorkflowID

from lso.bus.partners.catalog import offering_record, replace_record, specification_record
from lso.bus.partners.registry import PARTNER_STATES, PARTNERS, active_partners
from lso.bus.sonata_client import CATALOG, ORDERING, SonataClient, SonataError
from lso.mef import runtime
from lso.mef.store import Document

log = logging.getLogger(__name__)

ORDER_EVENTS = "eventType=productOrderStateChangeEvent"
"""The partner order events we ask for: the order's own states are all the ordering workflow acts on."""


def retryable(exc: BaseException) -> bool:
    """Retry what time may cure (the partner down or failing); a refusal (4xx) will not change."""
    return not isinstance(exc, SonataError) or exc.retryable


def sonata(partner: Document) -> SonataClient:
    """A SONATA client of ``partner`` with the credentials it issued to us."""
    return SonataClient.connect(partner["sonataUrl"], partner["clientId"], partner["clientSecret"])


def start_onboarding(partner_id: str, attempt: int) -> str:
    """Start (once per attempt number) the on-boarding workflow; returns its id."""
    workflow_id = f"onboard:{partner_id}:{attempt}"
    with SetWorkflowID(workflow_id):
        DBOS.start_workflow(onboard, partner_id)
    return workflow_id


@DBOS.workflow()
def onboard(partner_id: str) -> str:
    begin_onboarding(partner_id)
    try:
        check_credentials(partner_id)
        import_catalog(partner_id)
        learn_footprint(partner_id)
        register_partner_hub(partner_id, "productCatalog", CATALOG, None)
        register_partner_hub(partner_id, "productOrdering", ORDERING, ORDER_EVENTS)
    except Exception as exc:  # every retry failed: record why, an operator can run on-boarding again
        log.warning("partner %s: on-boarding failed: %s", partner_id, exc)
        return finish_onboarding(partner_id, "failed", str(exc))
    return finish_onboarding(partner_id, "active", None)


def _partner(partner_id: str) -> Document:
    with runtime.current().db.read() as session:
        return PARTNERS.get(session, partner_id)


def _update(partner_id: str, changes: Document) -> None:
    with runtime.current().db.session() as session:
        partner = PARTNERS.get(session, partner_id)
        PARTNERS.put(session, {**partner, **changes})


@DBOS.step()
def begin_onboarding(partner_id: str) -> None:
    with runtime.current().db.session() as session:
        partner = PARTNERS.get(session, partner_id)
        if PARTNER_STATES.move(partner, "onboarding"):
            PARTNERS.put(session, partner)


@DBOS.step(retries_allowed=True, max_attempts=6, interval_seconds=0.5, should_retry=retryable)
def check_credentials(partner_id: str) -> None:
    """Obtain a token with the partner's credentials: wrong credentials fail here, before anything else."""
    partner = _partner(partner_id)
    try:
        response = httpx.post(
            f"{partner['sonataUrl']}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(partner["clientId"], partner["clientSecret"]),
            timeout=10,
        )
    except httpx.HTTPError as exc:
        raise SonataError(0, str(exc)) from exc
    if response.status_code >= 300:
        raise SonataError(response.status_code, "the partner refused our client credentials")


@DBOS.step(retries_allowed=True, max_attempts=6, interval_seconds=0.5, should_retry=retryable)
def import_catalog(partner_id: str) -> int:
    partner = _partner(partner_id)
    client = sonata(partner)
    try:
        offerings = [offering_record(o) for o in client.product_offerings()]
        specifications = [specification_record(s) for s in client.product_specifications()]
    finally:
        client.close()
    _update(partner_id, {"productOffering": offerings, "productSpecification": specifications})
    return len(offerings)


@DBOS.step(retries_allowed=True, max_attempts=6, interval_seconds=0.5, should_retry=retryable)
def learn_footprint(partner_id: str) -> int:
    """The partner's sites in each area of its policy (none asked when the policy names no areas)."""
    partner = _partner(partner_id)
    policies = partner.get("policies", {})
    if not policies.get("footprintFromSites"):
        return 0
    client = sonata(partner)
    sites: dict[str, Document] = {}
    try:
        for area in policies.get("areas") or []:
            country, _, city = area.partition("/")
            query = {
                "@type": "GeographicAddress_Query",
                "fieldedAddressRepresentation": [{"city": city, "countryCode": country}],
            }
            for site in client.sites_at(query):
                sites[site["id"]] = _site_record(site, area)
    finally:
        client.close()
    _update(partner_id, {"site": sorted(sites.values(), key=lambda s: str(s["id"]))})
    return len(sites)


def _site_record(site: Document, area: str) -> Document:
    return {
        "id": site["id"],
        "name": site.get("name"),
        "area": area,
        "place": site.get("place"),
        "networkType": site.get("networkType"),
    }


@DBOS.step(retries_allowed=True, max_attempts=6, interval_seconds=0.5, should_retry=retryable)
def register_partner_hub(partner_id: str, name: str, api_prefix: str, query: str | None) -> str:
    partner = _partner(partner_id)
    known = partner.get("hub", {}).get(name)
    if known:
        return str(known)
    client = sonata(partner)
    try:
        hub = client.register_hub(api_prefix, runtime.current().settings.base_url, query)
    finally:
        client.close()
    _update(partner_id, {"hub": {**partner.get("hub", {}), name: hub["id"]}})
    return str(hub["id"])


@DBOS.step()
def finish_onboarding(partner_id: str, state: str, reason: str | None) -> str:
    with runtime.current().db.session() as session:
        partner = PARTNERS.get(session, partner_id)
        PARTNER_STATES.move(partner, state, reason=reason)
        if reason:
            partner["onboardingError"] = reason
        else:
            partner.pop("onboardingError", None)
        PARTNERS.put(session, partner)
    return state


# -- keeping the catalog in sync --


def partners_of_event(body: Document) -> list[str]:
    """The active partners whose seller sent this event: its ``href`` starts with their base URL."""
    event = body.get("event")
    href = str(event.get("href") or "") if isinstance(event, dict) else ""
    with runtime.current().db.read() as session:
        partners = active_partners(session)
    return [p["id"] for p in partners if href.startswith(p["sonataUrl"] + "/")]


def start_catalog_sync(partner_id: str, body: Document) -> None:
    event = body["event"]
    kind = (
        "specification" if str(body.get("eventType", "")).startswith("productSpecification") else "offering"
    )
    with SetWorkflowID(f"partnerCatalogEvent:{partner_id}:{body['eventId']}"):
        DBOS.start_workflow(sync_catalog_entry, partner_id, kind, str(event.get("id")))


@DBOS.workflow()
def sync_catalog_entry(partner_id: str, kind: str, entry_id: str) -> str:
    return refresh_entry(partner_id, kind, entry_id)


@DBOS.step(retries_allowed=True, max_attempts=6, interval_seconds=0.5, should_retry=retryable)
def refresh_entry(partner_id: str, kind: str, entry_id: str) -> str:
    partner = _partner(partner_id)
    client = sonata(partner)
    try:
        if kind == "specification":
            record = specification_record(client.product_specification(entry_id))
        else:
            record = offering_record(client.product_offering(entry_id))
    finally:
        client.close()
    key = "productSpecification" if kind == "specification" else "productOffering"
    with runtime.current().db.session() as session:
        partner = PARTNERS.get(session, partner_id)
        partner[key] = replace_record(partner.get(key, []), record)
        PARTNERS.put(session, partner)
    return str(record.get("lastUpdate"))
