"""``lso demo``'s off-net scene: a second domain as the partner, on-boarded, and an EPL across both.

The partner is ``lso serve --demo --footprint partner`` in a child process (DBOS is one per process), with
its own data directory, database and port — an access provider in Paris and Lyon. The provider on-boards it
through its admin API as ``lso partner add`` would; a customer then orders, over CANTATA through the
customer SDK, an EPL from one of the provider's London sites to an address in Paris only the partner
reaches. The provider buys the partner's share over SONATA; the order completes when both parts are up,
and the EPL's product in inventory ``RELIES_ON`` the partner's product (docs/partners.md).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lso import demo
from lso.bus.partners.api import PREFIX
from lso.customer.cantata_client import ORDER_END_STATES, CantataClient, Json
from lso.launch import ServeProcess, free_port, serve_process
from lso.mef.client import authenticated
from lso.mef.dates import later, parse
from lso.security.admin import ADMIN_CLIENT, admin_secret
from lso.settings import Settings

PARTNER_NAME = "paris-access"
PARTNER_BUYER = ("carrier-x", "carrier-x-secret")
"""The buyer party a demo domain seeds for providers that order from it over SONATA (docs/sonata.md)."""
OUR_ENNI = {"element": "pe-ldn-2", "port": "enni-1", "partnerEnniId": "enni-carrier-x-1"}
"""The ENNI between the demo networks: our pe-ldn-2/enni-1, the partner's enni-carrier-x-1."""
PARTNER_ADDRESS = {
    "@type": "GeographicAddress_Query",
    "fieldedAddressRepresentation": [
        {"streetNr": "40", "streetName": "Bercy", "streetType": "Quai", "city": "Paris", "postcode": "75012",
         "countryCode": "FR"}
    ],
}  # fmt: skip
"""Paris Bercy: a site of the partner's footprint, which the provider does not reach."""
ON_NET_SITE = "site-ldn-docklands"
ONBOARDING_TIMEOUT_S = 60.0
ORDER_TIMEOUT_S = 300.0


@contextmanager
def partner_domain(data_dir: Path, port: int = 0) -> Iterator[ServeProcess]:
    """``lso serve --demo --name partner --footprint partner`` on ``port`` (0: a free one), stopped on
    exit; its log is ``<data_dir>/partner.log``."""
    options = ["--demo", "--name", "partner", "--footprint", "partner"]
    env = {k: v for k, v in os.environ.items() if k != "LSO_DATABASE_URL"}  # its own embedded database
    log = data_dir / "partner.log"
    with serve_process(data_dir, port or free_port(), options, log, env) as partner:
        yield partner


def onboard(provider: Settings, partner: ServeProcess, name: str = PARTNER_NAME) -> Json:
    """Register the partner with the provider (its admin API, as ``lso partner add``) and wait until
    on-boarding has learned its catalog and sites; returns the partner record (``active`` or ``failed``)."""
    client_id, secret = PARTNER_BUYER
    registration = {
        "name": name,
        "sonataUrl": partner.base_url,
        "clientId": client_id,
        "clientSecret": secret,
        "enni": [OUR_ENNI],
        "policies": {"areas": ["FR/Paris", "FR/Lyon"], "footprintFromSites": True, "priceCeiling": 5000},
    }
    with authenticated(provider.base_url, ADMIN_CLIENT, admin_secret(provider.data_dir)) as admin:
        response = admin.post(PREFIX, json=registration)
        if response.status_code not in (201, 409):
            raise RuntimeError(f"on-boarding refused: {response.status_code} {response.text}")
        deadline = time.monotonic() + ONBOARDING_TIMEOUT_S
        while True:
            record: Json = admin.get(f"{PREFIX}/{name}").json()
            if record.get("state") in {"active", "failed"} or time.monotonic() > deadline:
                return record
            time.sleep(0.3)


def offnet_epl_order(
    client: CantataClient, customer: str, offerings: demo.Offerings, cir_mbps: float = 50
) -> Json:
    """An EPL from our London Docklands site to the partner's Paris Bercy address, over CANTATA."""
    requested = later(days=demo.REQUESTED_LEAD_TIME_DAYS)
    items = []
    for item_id, product, unis in demo.epl_products(ON_NET_SITE, ON_NET_SITE, offerings, cir_mbps):
        if item_id == "uni-z":
            product = {**product, "place": [{"role": "INSTALL_LOCATION", "place": PARTNER_ADDRESS}]}
        item: Json = {
            "id": item_id,
            "action": "add",
            "requestedCompletionDate": requested,
            "product": product,
        }
        if unis:
            item["productOrderItemRelationship"] = [
                {"id": u, "relationshipType": "CONNECTS_TO_UNI"} for u in unis
            ]
        items.append(item)
    return client.create_product_order(
        {
            "externalId": f"{customer}-offnet-{time.monotonic_ns()}",
            "relatedContactInformation": [demo._contact(customer)],
            "productOrderItem": items,
        }
    )


def _wait(client: CantataClient, order_id: str) -> Json:
    deadline = time.monotonic() + ORDER_TIMEOUT_S
    while True:
        order = client.retrieve_product_order(order_id)
        if order["state"] in ORDER_END_STATES or time.monotonic() > deadline:
            return order
        time.sleep(0.3)


def _relied_on(client: CantataClient, order_id: str) -> str:
    """The partner product our EPL relies on, as the customer's inventory shows it."""
    for summary in client.list_products(productOrderId=order_id):
        product = client.retrieve_product(summary["id"])
        for relation in product.get("productRelationship", []):
            if relation.get("relationshipType") == "RELIES_ON":
                return f"{relation['id'][:8]} at {relation.get('href', '?').split('/mefApi')[0]}"
    return "-"


def play(console: Console, provider: Settings, client: CantataClient, customer: str) -> bool:
    """Start the partner, on-board it, order one off-net EPL and show the outcome; True when it completed."""
    offerings = demo.Offerings.from_catalog(client.list_product_offerings())
    with partner_domain(provider.data_dir / "partner") as partner:
        console.print(f"[bold]Partner domain[/] at {partner.base_url} (footprint partner: Paris, Lyon)")
        record = onboard(provider, partner)
        console.print(
            f"On-boarded partner {record['name']}: {record['state']}, "
            f"{len(record.get('productOffering', []))} offerings, {len(record.get('site', []))} sites"
        )
        if record["state"] != "active":
            console.print(f"[red]On-boarding failed:[/] {record.get('onboardingError')}")
            return False
        created = offnet_epl_order(client, customer, offerings)
        console.print(
            f"{customer}: off-net order {created['id']} {created['state']} ({ON_NET_SITE} → Paris Bercy)"
        )
        order = _wait(client, created["id"])
        console.print(summary(order, _relied_on(client, order["id"])))
        return bool(order["state"] == "completed")


def summary(order: Json, relied_on: str) -> Table:
    table = Table(title="Off-net EPL (provider + partner)")
    for column in ("order", "state", "time to active", "partner order", "relies on partner product"):
        table.add_column(column)
    notes = [n["text"] for n in order.get("note", []) if n.get("id", "").startswith("partner-order-")]
    elapsed = "-"
    if order["state"] == "completed" and order.get("completionDate"):
        elapsed = f"{(parse(order['completionDate']) - parse(order['orderDate'])).total_seconds():.1f}s"
    partner_order = next((n.split("product order ")[1].split(" ")[0][:8] for n in notes), "-")
    table.add_row(order["id"][:8], order["state"], elapsed, partner_order, relied_on)
    return table
