"""``lso partner``: register partners with a running domain and see what on-boarding learned.

The commands call the domain's admin API as ``lso-admin``, whose secret the domain keeps in its data
directory, so they run where the domain's data directory is readable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from lso.bus.partners.api import PREFIX
from lso.cli_http import call, print_rows
from lso.mef.client import authenticated
from lso.security.admin import ADMIN_CLIENT, ADMIN_SECRET_FILE

app = typer.Typer(help="Partners this domain buys from over SONATA (MEF 55.0.1 §10.1)", no_args_is_help=True)
console = Console()

Url = Annotated[str, typer.Option("--url", help="Base URL of the running domain")]
DataDir = Annotated[Path, typer.Option("--data-dir", help="The running domain's data directory")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")]


def admin_client(url: str, data_dir: Path) -> httpx.Client:
    """An HTTP client of the running domain's admin APIs, as ``lso-admin``."""
    secret_file = data_dir.expanduser() / ADMIN_SECRET_FILE
    if not secret_file.exists():
        raise typer.BadParameter(f"{secret_file} does not exist: is the domain's data directory right?")
    return authenticated(url, ADMIN_CLIENT, secret_file.read_text().strip())


def _ennis(values: list[str]) -> list[dict[str, str]]:
    ennis = []
    for value in values:
        ours, _, theirs = value.partition("=")
        element, _, port = ours.partition("/")
        if not (element and port and theirs):
            raise typer.BadParameter(f"--enni is OUR_ELEMENT/PORT=THEIR_ENNI_ID, not {value!r}")
        ennis.append({"element": element, "port": port, "partnerEnniId": theirs})
    return ennis


@app.command()
def add(
    name: Annotated[str, typer.Option("--name", help="The partner's name (its id here)")],
    sonata_url: Annotated[str, typer.Option("--sonata-url", help="Base URL of the partner's SONATA APIs")],
    client_id: Annotated[str, typer.Option("--client-id", help="Client id the partner issued to us")],
    client_secret: Annotated[str, typer.Option("--client-secret", help="Its secret")],
    enni: Annotated[list[str], typer.Option("--enni", help="OUR_ELEMENT/PORT=THEIR_ENNI_ID (repeatable)")],
    interlude_url: Annotated[
        str | None, typer.Option("--interlude-url", help="Partner INTERLUDE URL")
    ] = None,
    area: Annotated[
        list[str] | None, typer.Option("--area", help="COUNTRY/City it serves (repeatable)")
    ] = None,
    footprint_from_sites: Annotated[
        bool, typer.Option("--footprint-from-sites", help="Learn its sites in those areas on on-boarding")
    ] = False,
    price_ceiling: Annotated[
        float | None, typer.Option("--price-ceiling", help="Highest monthly charge we accept")
    ] = None,
    via: Annotated[str, typer.Option("--via", help="sonata or interlude")] = "sonata",
    url: Url = "http://127.0.0.1:8080",
    data_dir: DataDir = Path("./lso-data"),
    as_json: AsJson = False,
) -> None:
    """Register a partner and start its on-boarding."""
    body: dict[str, Any] = {
        "name": name,
        "sonataUrl": sonata_url,
        "clientId": client_id,
        "clientSecret": client_secret,
        "enni": _ennis(enni),
        "policies": {"via": via, "footprintFromSites": footprint_from_sites, "areas": area or []},
    }
    if interlude_url:
        body["interludeUrl"] = interlude_url
    if price_ceiling is not None:
        body["policies"]["priceCeiling"] = price_ceiling
    with admin_client(url, data_dir) as client:
        partner = call(console, client, "POST", PREFIX, json=body)
    if as_json:
        typer.echo(json.dumps(partner, indent=2))
    else:
        console.print(f"partner [bold]{partner['id']}[/bold] registered; on-boarding started")


@app.command("list")
def list_partners(
    url: Url = "http://127.0.0.1:8080", data_dir: DataDir = Path("./lso-data"), as_json: AsJson = False
) -> None:
    """The registered partners and how far their on-boarding went."""
    with admin_client(url, data_dir) as client:
        partners = call(console, client, "GET", PREFIX)
    columns = {
        "partner": lambda p: p["id"],
        "state": lambda p: p["state"],
        "SONATA": lambda p: p["sonataUrl"],
        "via": lambda p: p.get("policies", {}).get("via", "sonata"),
        "offerings": lambda p: len(p.get("productOffering", [])),
        "sites": lambda p: len(p.get("site", [])),
        "ENNIs": lambda p: ", ".join(f"{e['element']}/{e['port']}" for e in p.get("enni", [])),
    }
    print_rows(console, partners, as_json, columns)


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="The partner's name")],
    url: Url = "http://127.0.0.1:8080",
    data_dir: DataDir = Path("./lso-data"),
    as_json: AsJson = False,
) -> None:
    """What on-boarding learned about one partner: offerings, terms, quality objectives, sites, policies."""
    with admin_client(url, data_dir) as client:
        partner = call(console, client, "GET", f"{PREFIX}/{name}")
    if as_json:
        typer.echo(json.dumps(partner, indent=2))
        return
    console.print(f"[bold]{partner['id']}[/bold] {partner['state']} — {partner['sonataUrl']}")
    if partner.get("onboardingError"):
        console.print(f"[red]on-boarding failed: {partner['onboardingError']}[/red]")
    console.print(f"policies: {json.dumps(partner.get('policies', {}))}")
    offerings = Table("offering", "name", "product type", "status", "billing terms")
    for o in partner.get("productOffering", []):
        terms = ", ".join(str(t.get("name")) for t in o.get("billingTerms", []))
        offerings.add_row(
            o["id"], str(o.get("name")), str(o.get("productType")), str(o.get("lifecycleStatus")), terms
        )
    console.print(offerings)
    specifications = Table("specification", "name", "quality objectives (schema)")
    for s in partner.get("productSpecification", []):
        specifications.add_row(s["id"], str(s.get("name")), str(s.get("qualityObjectives", {}).get("schema")))
    console.print(specifications)
    sites = Table("site", "name", "area")
    for site in partner.get("site", []):
        sites.add_row(site["id"], str(site.get("name")), str(site.get("area")))
    console.print(sites)
    ennis = Table("our element", "our port", "partner ENNI")
    for e in partner.get("enni", []):
        ennis.add_row(e["element"], e["port"], e["partnerEnniId"])
    console.print(ennis)
