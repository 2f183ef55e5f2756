"""``lso demo``: a provider domain on loopback and two customers ordering EPLs from it over CANTATA.

Everything goes through the customer SDK (:mod:`lso.customer.cantata_client`) exactly as a customer's
own software would: browse the catalog and the sites, validate an address, qualify (POQ), quote, order,
then watch the orders to completion and read the products from the inventory.
"""

from __future__ import annotations

import itertools
import os
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lso import demo_degradation, demo_offnet, launch
from lso.customer.cantata_client import ORDER_END_STATES, CantataClient, CantataError, Json
from lso.domain import DEMO_CUSTOMERS, Domain
from lso.footprint import demo_footprint
from lso.launch import free_port
from lso.mef.dates import later, parse
from lso.settings import Settings

EPL_EVC = "urn:mef:lso:spec:cantata-sonata:epl-evc:v1.0.0:all"
SUBSCRIBER_UNI = "urn:mef:lso:spec:cantata-sonata:carrier-ethernet-subscriber-uni:v1.0.0:all"
ACTIVATION_NOTE = "activation test"
"""Order notes whose text starts with this carry the seller's activation test result."""
ORDER_TIMEOUT_S = 300.0
REQUESTED_LEAD_TIME_DAYS = 14
EPL_OFFERING = "Ethernet Private Line"
UNI_OFFERING = "Carrier Ethernet Subscriber UNI"


@dataclass
class DemoOrder:
    customer: str
    site_a: str
    site_z: str
    order: Json = field(default_factory=dict)

    @property
    def state(self) -> str:
        return str(self.order.get("state", "-"))

    @property
    def time_to_active(self) -> str:
        if self.state != "completed" or "completionDate" not in self.order:
            return "-"
        seconds = (parse(self.order["completionDate"]) - parse(self.order["orderDate"])).total_seconds()
        return f"{seconds:.1f}s"

    @property
    def activation_test(self) -> str:
        """The seller's activation test note without its prefix and port names: verdict and metrics."""
        notes = [n.get("text", "") for n in self.order.get("note", [])]
        found = [t[len(ACTIVATION_NOTE) :].strip() for t in notes if t.lower().startswith(ACTIVATION_NOTE)]
        return "; ".join(re.sub(r"\S+→\S+ ", "", text) for text in found) or "-"


DEMO_SLS_PERIOD_S = 2.0
"""The demo assesses every SLS every two seconds so that a degradation is seen within the demo's time."""


@contextmanager
def provider_domain(
    data_dir: Path,
    port: int,
    network: str = "sim",
    sls_period_s: float = DEMO_SLS_PERIOD_S,
    processes: int = 1,
) -> Iterator[tuple[Settings, list[int]]]:
    """A demo provider domain served by uvicorn in a thread of this process, and the ids of the processes
    serving it. With ``processes`` 2 or 3, child processes serve some of its entities (see
    :func:`lso.launch.spread`), so the domain uses more than one core. On the linux network its
    namespaces are removed when it stops (its data directory is temporary, nothing could reuse them)."""
    port = port or free_port()
    options = ["--demo", "--name", "provider", "--network", network]
    env = {**os.environ, "LSO_SLS_PERIOD_S": str(sls_period_s)}
    with launch.spread(data_dir, port, processes, options, env) as spread:
        settings = Settings.load(
            data_dir,
            port=port,
            demo=True,
            name="provider",
            network=network,
            sls_period_s=sls_period_s,
            entities=spread.entities,
            peers=spread.peers,
        )
        server = Domain(settings).server()
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the provider domain did not start")
            time.sleep(0.05)
        try:
            yield settings, spread.pids
        finally:
            server.should_exit = True
            thread.join(timeout=60)
            if network == "linux":
                from lso.ecm.drivers.linux import lab
                from lso.ecm.drivers.linux.plane import prefix_of

                lab.clean(prefix_of(data_dir))


def _contact(customer: str) -> Json:
    return {
        "role": "productOrderContact",
        "name": f"{customer.title()} network team",
        "emailAddress": f"noc@{customer}.example",
        "number": "+44 20 7946 0000",
    }


def _uni(site_id: str, offering: str) -> Json:
    return {
        "productOffering": {"id": offering},
        "place": [{"role": "INSTALL_LOCATION", "place": {"@type": "GeographicSiteRef", "id": site_id}}],
        "productConfiguration": {
            "@type": SUBSCRIBER_UNI,
            "listOfPhyLinks": [{"id": "link-1", "physicalLink": "1000BASE_LX"}],
            "maximumServiceFrameSize": 1522,
        },
    }


def _epl(cir_mbps: float, offering: str) -> Json:
    flow = {
        "cir": {"irValue": cir_mbps, "irUnits": "MBPS"},
        "cbs": {"dataSizeValue": 64, "dataSizeUnits": "KBYTES"},
        "eir": {"irValue": 0, "irUnits": "MBPS"},
        "ebs": {"dataSizeValue": 0, "dataSizeUnits": "KBYTES"},
    }
    end_point = {
        "ingressBandwidthProfilePerClassofServiceName": [{"classOfServiceName": "H", "bwpFlow": flow}]
    }
    return {
        "productOffering": {"id": offering},
        "productConfiguration": {
            "@type": EPL_EVC,
            "listOfCosNames": ["H"],
            "maximumFrameSize": 1522,
            "evcEndPointA": end_point,
            "evcEndPointZ": end_point,
            "carrierEthernetSls": [demo_degradation.SLS],
        },
    }


@dataclass(frozen=True)
class Offerings:
    """The catalog's product offering ids of the two products an EPL is made of."""

    uni: str
    epl: str

    @classmethod
    def from_catalog(cls, offerings: list[Json]) -> Offerings:
        by_name = {o.get("name", ""): o["id"] for o in offerings}
        return cls(uni=by_name[UNI_OFFERING], epl=by_name[EPL_OFFERING])


def epl_products(
    site_a: str, site_z: str, offerings: Offerings, cir_mbps: float = 100
) -> list[tuple[str, Json, list[str]]]:
    """The three products of an EPL — (item id, product, UNI item ids it connects to)."""
    return [
        ("uni-a", _uni(site_a, offerings.uni), []),
        ("uni-z", _uni(site_z, offerings.uni), []),
        ("evc", _epl(cir_mbps, offerings.epl), ["uni-a", "uni-z"]),
    ]


def _epl_items(sites: tuple[str, str], offerings: Offerings, relationship: str, **fields: str) -> list[Json]:
    """The items of an EPL POQ, quote or order: the same three products; only the name of the item
    relationship (``relationship``) and the extra item ``fields`` differ between the three bodies."""
    return [
        {
            "id": item_id,
            "action": "add",
            **fields,
            "product": product,
            **(
                {relationship: [{"id": u, "relationshipType": "CONNECTS_TO_UNI"} for u in unis]}
                if unis
                else {}
            ),
        }
        for item_id, product, unis in epl_products(*sites, offerings)
    ]


def qualify(client: CantataClient, customer: str, sites: tuple[str, str], offerings: Offerings) -> Json:
    items = _epl_items(sites, offerings, "qualificationItemRelationship")
    return client.create_poq(
        {
            "instantSyncQualification": True,
            "provideAlternative": False,
            "relatedContactInformation": [_contact(customer)],
            "productOfferingQualificationItem": items,
        }
    )


def quote(client: CantataClient, customer: str, sites: tuple[str, str], offerings: Offerings) -> Json:
    items = _epl_items(sites, offerings, "quoteItemRelationship")
    return client.create_quote(
        {
            "instantSyncQuote": True,
            "buyerRequestedQuoteLevel": "budgetary",
            "relatedContactInformation": [_contact(customer)],
            "quoteItem": items,
        }
    )


def order(client: CantataClient, customer: str, sites: tuple[str, str], offerings: Offerings) -> Json:
    requested = later(days=REQUESTED_LEAD_TIME_DAYS)
    items = _epl_items(sites, offerings, "productOrderItemRelationship", requestedCompletionDate=requested)
    return client.create_product_order(
        {
            "externalId": f"{customer}-{uuid.uuid4().hex[:10]}",
            "relatedContactInformation": [_contact(customer)],
            "productOrderItem": items,
        }
    )


def browse(console: Console, client: CantataClient) -> tuple[Offerings, list[Json]]:
    """Show the catalog and the sites; return the EPL offerings and the sites."""
    offerings = client.list_product_offerings()
    table = Table(title="Product catalog")
    for column in ("offering", "name", "status"):
        table.add_column(column)
    for offering in offerings:
        table.add_row(offering.get("id", ""), offering.get("name", ""), offering.get("lifecycleStatus", ""))
    console.print(table)
    try:
        sites = client.list_geographic_sites()
    except CantataError as error:
        if error.status != 501:  # listing sites is optional for a seller; reading a known one is not
            raise
        sites = [client.retrieve_geographic_site(site.id) for site in demo_footprint().sites]
    table = Table(title="On-net sites")
    for column in ("site", "name", "network"):
        table.add_column(column)
    for site in sites:
        table.add_row(site["id"], site.get("name", ""), site.get("networkType", ""))
    console.print(table)
    return Offerings.from_catalog(offerings), sites


def validate_typed_address(console: Console, client: CantataClient) -> None:
    """Validate an address as a customer would type it (abbreviated street type) against the seller's."""
    site = demo_footprint().sites[1]
    typed = {
        "@type": "GeographicAddress_Query",
        "fieldedAddressRepresentation": [
            {
                "streetNr": site.address.street_nr,
                "streetName": site.address.street_name,
                "streetType": "St",
                "city": site.address.city,
                "postcode": site.address.postcode,
                "countryCode": site.address.country,
            }
        ],
    }
    validation = client.validate_address(typed)
    best = (validation.get("bestMatchGeographicAddress") or {}).get("id", "none")
    console.print(f"Address validation: {validation.get('validationResult', '?')}, best match {best}")


def _site_pairs(sites: list[Json]) -> Iterator[tuple[str, str]]:
    ids = [site["id"] for site in sites]
    return itertools.cycle(itertools.combinations(ids, 2))


def _watch(console: Console, clients: dict[str, CantataClient], orders: list[DemoOrder]) -> None:
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[state]}"))
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        tasks = {
            o.order["id"]: progress.add_task(f"{o.customer} {o.site_a} → {o.site_z}", total=1, state=o.state)
            for o in orders
        }
        deadline = time.monotonic() + ORDER_TIMEOUT_S
        while time.monotonic() < deadline and any(o.state not in ORDER_END_STATES for o in orders):
            for o in orders:
                if o.state not in ORDER_END_STATES:
                    o.order = clients[o.customer].retrieve_product_order(o.order["id"])
                    done = o.state in ORDER_END_STATES
                    progress.update(tasks[o.order["id"]], state=o.state, completed=int(done))
            time.sleep(0.3)


def summary(orders: list[DemoOrder]) -> Table:
    table = Table(title="Orders")
    for column in ("order", "customer", "A site", "Z site", "state", "time to active", "activation test"):
        table.add_column(column)
    for o in orders:
        table.add_row(
            o.order.get("id", "-")[:8],
            o.customer,
            o.site_a,
            o.site_z,
            o.state,
            o.time_to_active,
            o.activation_test,
        )
    return table


def run(
    port: int = 0,
    orders: int = 4,
    keep_running: bool = False,
    console: Console | None = None,
    network: str = "sim",
) -> int:
    """Play the ordering thread; 0 when every order completed."""
    console = console or Console(width=max(Console().width, 150))
    with (
        tempfile.TemporaryDirectory(prefix="lso-demo-") as tmp,
        provider_domain(Path(tmp), port, network) as (settings, _),
    ):
        console.print(f"[bold]Provider domain[/] at {settings.base_url} ({network} network, data in {tmp})")
        clients = {
            name: CantataClient(settings.base_url, name, secret) for name, secret in DEMO_CUSTOMERS.items()
        }
        try:
            placed = _place_orders(console, clients, orders)
            _watch(console, clients, placed)
            console.print(summary(placed))
            completed = [(o.customer, o.order["id"]) for o in placed if o.state == "completed"]
            remediated = demo_degradation.play(console, settings, clients, completed)
            offnet = demo_offnet.play(console, settings, clients["acme"], "acme")  # with a partner domain
            if keep_running:
                console.print(f"Serving at {settings.base_url} — Ctrl-C to stop")
                _wait_for_interrupt()
        except CantataError as error:
            console.print(f"[red]The provider refused a request:[/] {error}")
            return 1
        finally:
            for client in clients.values():
                client.close()
    return 0 if placed and all(o.state == "completed" for o in placed) and remediated and offnet else 1


def _place_orders(console: Console, clients: dict[str, CantataClient], count: int) -> list[DemoOrder]:
    offerings, sites = browse(console, clients["acme"])
    validate_typed_address(console, clients["globex"])
    pairs = _site_pairs(sites)
    customers = itertools.cycle(sorted(clients))
    placed = []
    for _ in range(count):
        customer, (site_a, site_z) = next(customers), next(pairs)
        client = clients[customer]
        poq = qualify(client, customer, (site_a, site_z), offerings)
        offer = quote(client, customer, (site_a, site_z), offerings)
        created = order(client, customer, (site_a, site_z), offerings)
        console.print(
            f"{customer}: POQ {poq['id']} {poq.get('state')}, quote {offer['id']} {offer.get('state')}, "
            f"order {created['id']} {created['state']} ({site_a} → {site_z})"
        )
        placed.append(DemoOrder(customer, site_a, site_z, created))
    return placed


def _wait_for_interrupt() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return
