"""``lso sim``: impair or break the simulated network of a running domain (ADAGIO admin API).

Delay and loss on an element or a link make a service's SLS fail without any alarm — what SOF's SLS
assessment must notice by itself (MEF 55.0.1 §10.6); a fault takes a link, port or element down and raises
an alarm that ICM reacts to. The admin API is internal, so the commands authenticate as this domain's ICM
with the signing secret kept in the domain's data directory (or LSO_JWT_SECRET): run them where the
domain's data directory is readable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console

from lso.cli_http import call
from lso.mef.client import authenticated
from lso.security.tokens import internal_secret

app = typer.Typer(help="Impairments and faults of the simulated network (sim driver)", no_args_is_help=True)
console = Console()
ADMIN = "/adagio/v1/admin"

Url = Annotated[str, typer.Option("--url", help="Base URL of the running domain")]
DataDir = Annotated[Path, typer.Option("--data-dir", help="The running domain's data directory")]


def internal_client(url: str, data_dir: Path, entity: str = "icm") -> httpx.Client:
    """A client of the domain's internal reference points, authenticated as one of its entities."""
    secret = os.environ.get("LSO_JWT_SECRET")
    if not secret:
        path = data_dir.expanduser() / "jwt.secret"
        if not path.exists():
            raise typer.BadParameter(f"{path} does not exist: is the domain's data directory right?")
        secret = path.read_text().strip()
    return authenticated(url, f"lso-{entity}", internal_secret(secret, entity))


@app.command()
def impair(
    target: Annotated[str, typer.Argument(help="An element (pe-ldn-1) or a link (p-ldn--p-man)")],
    delay_ms: Annotated[float, typer.Option("--delay-ms", min=0, help="Extra one-way delay (ms)")] = 0.0,
    loss: Annotated[float, typer.Option("--loss", min=0, max=1, help="Frame loss ratio, 0 to 1")] = 0.0,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the target's impairment")] = False,
    url: Url = "http://127.0.0.1:8080",
    data_dir: DataDir = Path("./lso-data"),
) -> None:
    """Add delay and/or loss to every frame crossing TARGET (or --clear it)."""
    with internal_client(url, data_dir) as client:
        if clear:
            call(console, client, "DELETE", f"{ADMIN}/impairments/{target}")
            console.print(f"[green]cleared[/green] the impairment of [bold]{target}[/bold]")
            return
        if delay_ms == 0 and loss == 0:
            raise typer.BadParameter("give --delay-ms and/or --loss (or --clear)")
        body = {"extraDelayMs": delay_ms, "lossRatio": loss}
        call(console, client, "PUT", f"{ADMIN}/impairments/{target}", json=body)
    console.print(
        f"[yellow]impaired[/yellow] [bold]{target}[/bold]: +{delay_ms:g} ms, loss {loss:.2%} "
        "— SLS assessment will notice it on its next run"
    )


@app.command()
def fault(
    kind: Annotated[str, typer.Argument(help="link, element or port")],
    target: Annotated[str, typer.Argument(help="A--Z for a link, an element id, or element/port")],
    clear: Annotated[bool, typer.Option("--clear", help="Repair it (the alarm clears)")] = False,
    url: Url = "http://127.0.0.1:8080",
    data_dir: DataDir = Path("./lso-data"),
) -> None:
    """Take a link, port or element down (raising an alarm), or --clear the fault."""
    if kind not in ("link", "element", "port"):
        raise typer.BadParameter("KIND is link, element or port", param_hint="KIND")
    with internal_client(url, data_dir) as client:
        if clear:
            call(console, client, "DELETE", f"{ADMIN}/faults/{kind}/{target}")
            console.print(f"[green]repaired[/green] {kind} [bold]{target}[/bold]")
            return
        alarm = call(console, client, "PUT", f"{ADMIN}/faults/{kind}/{target}")
    cause = alarm.get("probableCause", "") if isinstance(alarm, dict) else ""
    console.print(f"[red]down[/red]: {kind} [bold]{target}[/bold] — alarm {cause} raised")
