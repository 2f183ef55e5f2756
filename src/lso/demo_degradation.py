"""The ``lso demo`` scene of MEF 55.0.1 §10.6: an impaired link breaks an EPL's SLS and the provider fixes it.

The operator impairs a core link (ADAGIO admin API, as ``lso sim impair`` does) on the path of one of the
EPLs the customers just ordered; SOF's periodic SLS assessment notices, tests and reroutes the service; the
customer follows it as a CANTATA CIM incident that closes when the SLS is met again. The scene shows the
incident's status changes as the customer sees them and then SOF's record of each step.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from lso.customer.cantata_client import CantataClient
from lso.settings import Settings
from lso.sim_cli import ADMIN, internal_client

CIM = "/mefApi/cantata/cimIncident/v1"
SERVICES = "/mefApi/legato/serviceInventory/v7/service"
EXTRA_DELAY_MS = 25.0
TIMEOUT_S = 120.0
_PAIR = [{"fromCarrierEthernetServiceEndPoint": "A", "toCarrierEthernetServiceEndPoint": "Z"}]
SLS = {
    "slsCosNameEntry": [
        {
            "cosName": "H",
            "oneWayMeanFrameDelayPmMetric": [
                {
                    "orderedPairList": _PAIR,
                    "oneWayMfdObjective": {"timeDurationValue": 10, "timeDurationUnits": "MS"},
                }
            ],
            "oneWayFrameLossRatioPmMetric": [{"orderedPairList": _PAIR, "oneWayFlrObjective": 0.1}],
        }
    ]
}
"""The EPLs' SLS: what SOF's SLS assessment holds every service to (mean delay 10 ms, FLR 0.1 %)."""


def play(
    console: Console, settings: Settings, clients: dict[str, CantataClient], orders: list[tuple[str, str]]
) -> bool:
    """Impair a core link on one of the (customer, product order id) EPLs and follow the degradation to
    its end; True when it was resolved."""
    with (
        internal_client(settings.base_url, settings.data_dir) as operator,
        internal_client(settings.base_url, settings.data_dir, "bus") as bus,
    ):
        chosen = _pick(bus, orders)
        if chosen is None:
            console.print("[yellow]SLS scene skipped: no EPL crosses a core link[/]")
            return False
        customer, evc = chosen
        path = _fact(evc, "path")
        link = "--".join(sorted(path[1:3]))
        operator.put(f"{ADMIN}/impairments/{link}", json={"extraDelayMs": EXTRA_DELAY_MS}).raise_for_status()
        console.print(
            f"\n[bold]SLS assessment[/] — the operator impairs link [bold]{link}[/] (+{EXTRA_DELAY_MS:g} ms) "
            f"on the path {' > '.join(path)} of {customer}'s EPL"
        )
        try:
            closed = _follow(console, clients[customer], customer)
        finally:
            operator.delete(f"{ADMIN}/impairments/{link}")
        service = bus.get(f"{SERVICES}/{evc['id']}").json()
    console.print(_summary(_fact(service, "slsDegradation") or {}, _fact(service, "path") or []))
    return closed


def _pick(bus: httpx.Client, orders: list[tuple[str, str]]) -> tuple[str, dict[str, Any]] | None:
    """The first EPL whose path crosses a core link (one the network can route around)."""
    for customer, order_id in orders:
        services = bus.get(SERVICES, params={"externalId": order_id}).json()
        evc = next((s for s in services if s.get("serviceType") == "EVC"), None)
        if evc is not None and len(_fact(evc, "path") or []) >= 4:
            return customer, evc
    return None


def _follow(console: Console, client: CantataClient, customer: str) -> bool:
    """Print each step noted on the customer's CIM incident as the customer sees it, until it is closed."""
    seen: set[str] = set()
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        for incident in client.http.get(f"{CIM}/cimIncident").json()[:1]:
            for note in incident.get("note", []):
                if note["id"] not in seen:
                    seen.add(note["id"])
                    status = incident["status"]
                    console.print(
                        f"  {customer} sees CIM incident {incident['id'][:8]} ({status}): {note['text']}"
                    )
            if incident["status"] == "closed":
                return True
        time.sleep(0.5)
    console.print("[red]the degradation was not resolved in time[/]")
    return False


def _summary(degradation: dict[str, Any], path: list[str]) -> Table:
    table = Table(title="SLS degradation, as SOF reports it to BUS over LEGATO")
    for column in ("degradation", "state", "opened", "resolved", "breach", "EPL path now"):
        table.add_column(column)
    breach = "; ".join(
        f"{b['metric']} {b['measured']:.2f} > {b['objective']:g}"
        for b in degradation.get("breach", [])
        if "measured" in b
    )
    table.add_row(
        str(degradation.get("id", "-"))[:8],
        str(degradation.get("state", "-")),
        str(degradation.get("openedDate", "-")),
        str(degradation.get("resolvedDate", "-")),
        breach,
        " > ".join(path),
    )
    return table


def _fact(service: dict[str, Any], name: str) -> Any:
    return next((c["value"] for c in service.get("serviceCharacteristic", []) if c["name"] == name), None)
