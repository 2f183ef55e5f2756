"""The ``lso`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from lso import partner_cli
from lso.domain import Domain
from lso.settings import Settings

app = typer.Typer(help="lso — MEF LSO lifecycle service orchestration", no_args_is_help=True)
app.add_typer(partner_cli.app, name="partner")


@app.callback()
def _root() -> None:
    """Commands of one lso deployment."""


DataDir = Annotated[Path, typer.Option("--data-dir", help="Where the embedded database and secrets live")]


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1")] = 8080,
    data_dir: DataDir = Path("./lso-data"),
    demo: Annotated[bool, typer.Option("--demo", help="Seed demo catalog, footprint and customers")] = False,
    name: Annotated[str, typer.Option(help="Domain name (also the DBOS application name)")] = "lso",
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    footprint: Annotated[
        str, typer.Option(help="The demo footprint to seed: demo (the provider) or partner")
    ] = "demo",
) -> None:
    """Run a provider domain: CANTATA, SONATA, LEGATO, PRESTO and ADAGIO on one server."""
    settings = Settings.load(data_dir, port=port, demo=demo, name=name, host=host, footprint=footprint)
    domain = Domain(settings)
    typer.echo(f"lso domain {settings.name} at {settings.base_url}", err=False)
    uvicorn.run(domain.app(), host=host, port=port, log_level="warning")


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1 (0: a free one)")] = 0,
    orders: Annotated[int, typer.Option("--orders", help="How many EPLs the customers order")] = 4,
    keep_running: Annotated[
        bool, typer.Option("--keep-running", help="Leave the provider domain up after the summary")
    ] = False,
) -> None:
    """Start a provider domain on loopback and let the demo customers order EPLs through CANTATA."""
    from lso import demo as demo_thread  # the demo's imports are only needed by this command

    raise typer.Exit(demo_thread.run(port=port, orders=orders, keep_running=keep_running))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
