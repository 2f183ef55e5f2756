"""The ``lso`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lso import alarm_cli, launch, partner_cli, sim_cli
from lso.domain import Domain, LayoutConflict
from lso.launch import PROCESS_LAYOUTS
from lso.settings import ENTITY_NAMES, Settings

app = typer.Typer(help="lso — MEF LSO lifecycle service orchestration", no_args_is_help=True)
app.add_typer(partner_cli.app, name="partner")
app.add_typer(sim_cli.app, name="sim")
app.add_typer(alarm_cli.app, name="alarm")


@app.callback()
def _root() -> None:
    """Commands of one lso deployment."""


DataDir = Annotated[Path, typer.Option("--data-dir", help="Where the embedded database and secrets live")]
Network = Annotated[
    str,
    typer.Option(
        "--network",
        envvar="LSO_NETWORK",
        help="Network driver: sim (modelled elements) or linux (namespaces of this host; root)",
    ),
]
lab = typer.Typer(help="The kernel objects of the linux network driver", no_args_is_help=True)
app.add_typer(lab, name="lab")


def _check_network(network: str) -> None:
    """Stop with the reason when the chosen driver cannot run here (before anything starts)."""
    if network not in ("sim", "linux"):
        raise typer.BadParameter(f"unknown network driver {network!r}: sim or linux", param_hint="--network")
    if network == "linux":
        from lso.ecm.drivers.linux import capabilities  # probes the kernel: only when asked for

        found = capabilities.detect()
        if not found.ok:
            typer.echo(found.explain(), err=True)
            raise typer.Exit(2)
        for note in found.notes:
            typer.echo(f"note: {note}", err=True)


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
    network: Network = "sim",
    enni_peer: Annotated[
        str,
        typer.Option(
            "--enni-peer",
            envvar="LSO_ENNI_PEERS",
            help="linux network: the partner's side of an ENNI, <element>/enni-N=<prefix>/<element>/enni-M "
            "(comma-separated; the partner's prefix: lso lab prefix --data-dir ITS_DIR)",
        ),
    ] = "",
    entities: Annotated[
        str,
        typer.Option(
            "--entities",
            help="Serve only these entities (comma-separated: bus, sof, icm, ecm); the others are served by "
            "processes named with --peer, on the same database",
        ),
    ] = "",
    peer: Annotated[
        list[str] | None,
        typer.Option("--peer", help="Where an entity not served here is: <entity>=<base URL> (repeatable)"),
    ] = None,
    processes: Annotated[
        int,
        typer.Option(
            "--processes",
            min=1,
            max=max(PROCESS_LAYOUTS),
            help="Serve the domain from this many processes, to use as many cores: 2 (BUS | SOF, ICM, "
            "ECM) or 3 (BUS | SOF | ICM, ECM); this one serves BUS on --port, the others free loopback ports",
        ),
    ] = 1,
) -> None:
    """Run a provider domain: CANTATA, SONATA, LEGATO, PRESTO and ADAGIO on one server (or some of its
    entities, with --entities; or spread over --processes)."""
    _check_network(network)
    served = tuple(name.strip() for name in entities.split(",") if name.strip())
    unknown = set(served) - set(ENTITY_NAMES)
    if unknown:
        known = ", ".join(ENTITY_NAMES)
        raise typer.BadParameter(f"unknown entities {sorted(unknown)}: {known}", param_hint="--entities")
    if processes > 1 and (served or peer):
        raise typer.BadParameter("--processes spreads the whole domain: not with --entities or --peer")
    options = ["--name", name, "--footprint", footprint, "--network", network, "--enni-peer", enni_peer]
    with launch.spread(data_dir, port, processes, options + ["--demo"] * demo) as spread:
        settings = Settings.load(
            data_dir,
            port=port,
            demo=demo,
            name=name,
            host=host,
            footprint=footprint,
            network=network,
            enni_peers=enni_peer,
            entities=served or spread.entities,
            peers=",".join(peer or ()) or spread.peers,
        )
        try:
            domain = Domain(settings)
        except LayoutConflict as exc:
            raise typer.BadParameter(str(exc), param_hint="--processes") from exc
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--peer") from exc
        typer.echo(f"lso domain {settings.name} at {settings.base_url}", err=False)
        for other in filter(None, spread.peers.split(",")):
            typer.echo(f"  {other.replace('=', ' at ', 1)}")
        domain.server().run()


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1 (0: a free one)")] = 0,
    orders: Annotated[int, typer.Option("--orders", help="How many EPLs the customers order")] = 4,
    keep_running: Annotated[
        bool, typer.Option("--keep-running", help="Leave the provider domain up after the summary")
    ] = False,
    network: Network = "sim",
) -> None:
    """Start a provider domain on loopback and let the demo customers order EPLs through CANTATA."""
    from lso import demo as demo_thread  # the demo's imports are only needed by this command

    _check_network(network)
    raise typer.Exit(demo_thread.run(port=port, orders=orders, keep_running=keep_running, network=network))


@lab.command("clean")
def lab_clean(
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="The domain whose kernel objects to remove")
    ] = None,
    prefix: Annotated[
        str | None, typer.Option("--prefix", help="Or the name prefix itself (lsoXXXX)")
    ] = None,
) -> None:
    """Remove every namespace, interface, eBPF pin and nftables table of a domain (also after kill -9)."""
    from lso.ecm.drivers.linux import lab as kernel_lab
    from lso.ecm.drivers.linux.plane import prefix_of

    if (data_dir is None) == (prefix is None):
        raise typer.BadParameter("give either --data-dir or --prefix")
    name = prefix or prefix_of((data_dir or Path()).expanduser())
    removed = kernel_lab.clean(name)
    typer.echo(f"{name}: removed {len(removed)} namespace(s)")


@lab.command("prefix")
def lab_prefix(data_dir: DataDir = Path("./lso-data")) -> None:
    """Print the name prefix of a domain's kernel objects (what a partner's --enni-peer names)."""
    from lso.ecm.drivers.linux.plane import prefix_of

    typer.echo(prefix_of(data_dir.expanduser()))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
