"""``lso alarm``: the operator sees every party's alarms on a running domain and acknowledges them.

Acknowledging tells the parties that may see the alarm (its ``alarmStateChangeEvent``, Kylie's
alarmAcknowledgeEvent operation) that the provider's operator has taken note; ICM still clears it when the
fault is repaired. The commands call the domain's admin API as ``lso-admin`` (as ``lso partner`` does), so
they run where the domain's data directory is readable.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from lso.cli_http import call, print_rows
from lso.partner_cli import admin_client
from lso.sof.assurance.alarm_admin import PREFIX

app = typer.Typer(help="Alarms on the services of a running domain (operator)", no_args_is_help=True)
console = Console()

Url = Annotated[str, typer.Option("--url", help="Base URL of the running domain")]
DataDir = Annotated[Path, typer.Option("--data-dir", help="The running domain's data directory")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")]


@app.command("list")
def list_alarms(
    state: Annotated[
        str | None, typer.Option("--state", help="Only unAcknowledged, acknowledged or cleared")
    ] = None,
    url: Url = "http://127.0.0.1:8080",
    data_dir: DataDir = Path("./lso-data"),
    as_json: AsJson = False,
) -> None:
    """Every party's alarms, newest first: one per ICM alarm and party that may see it."""
    with admin_client(url, data_dir) as client:
        found = call(console, client, "GET", PREFIX, params={"state": state} if state else {})
    columns = {
        "alarm": lambda a: a["id"],
        "party": lambda a: a.get("party"),
        "state": lambda a: a["state"],
        "severity": lambda a: a["perceivedSeverity"],
        "cause": lambda a: a.get("probableCause"),
        "raised": lambda a: a["alarmRaisedTime"],
        "services": lambda a: ", ".join(s["id"] for s in a.get("affectedService", [])),
    }
    print_rows(console, found, as_json, columns)


@app.command()
def ack(
    alarm_id: Annotated[str, typer.Argument(help="The alarm's id (lso alarm list)")],
    by: Annotated[str | None, typer.Option("--by", help="Who acknowledges (default: your login)")] = None,
    url: Url = "http://127.0.0.1:8080",
    data_dir: DataDir = Path("./lso-data"),
) -> None:
    """Acknowledge an alarm (and its copies for the other parties); again changes nothing."""
    body = {"userIdentifier": by or getpass.getuser()}
    with admin_client(url, data_dir) as client:
        alarm = call(console, client, "POST", f"{PREFIX}/{alarm_id}/acknowledge", json=body)
    console.print(f"alarm [bold]{alarm['id']}[/bold] {alarm['state']}")
