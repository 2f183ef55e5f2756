"""How the ``lso`` sub-commands that drive a running domain call it: one error handling for all of them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.table import Table


def call(console: Console, client: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    """The JSON answer (None when empty); an unreachable domain or an error answer ends the command."""
    try:
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        console.print(f"[red]cannot reach the domain: {exc}[/red]")
        raise typer.Exit(1) from exc
    if response.status_code >= 300:
        console.print(f"[red]{response.status_code}[/red] {response.text}")
        raise typer.Exit(1)
    return response.json() if response.content else None


def print_rows(
    console: Console, rows: list[Any], as_json: bool, columns: dict[str, Callable[[Any], object]]
) -> None:
    """``rows`` as JSON (``--json``) or as a table with one column per entry of ``columns``."""
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*(str(cell(row)) for cell in columns.values()))
    console.print(table)
