"""A domain spread over processes (``lso serve --processes``, ``--entities``/``--peer``): where each entity
is, whose tokens count, which durable state is whose. The spread domain at work — killed and restarted
mid-activation — is in test_crash_recovery.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lso import cli, launch
from lso.domain import Domain, LayoutConflict
from lso.settings import Settings, layout_conflicts

FRONT = "http://127.0.0.1:8080"
SOF = "http://127.0.0.1:8081"
ICM = "http://127.0.0.1:8082"


def _settings(tmp_path: Path, entities: tuple[str, ...], peers: str) -> Settings:
    port, database_url = int(FRONT.rpartition(":")[2]), f"sqlite:///{tmp_path / 'lso.sqlite'}"
    return Settings(data_dir=tmp_path, port=port, database_url=database_url, entities=entities, peers=peers)


def test_each_entity_is_reached_where_it_is_served(tmp_path: Path) -> None:
    front = _settings(tmp_path, ("bus",), f"sof={SOF}, icm={ICM}/,ecm={ICM}")
    sof = _settings(tmp_path, ("sof",), f"bus={FRONT},icm={ICM},ecm={ICM}")
    whole = _settings(tmp_path, (), "")

    assert [front.url_of(e) for e in ("bus", "sof", "icm", "ecm")] == [FRONT, SOF, ICM, ICM]
    assert sof.url_of("sof") == sof.base_url and sof.url_of("bus") == FRONT
    assert {whole.url_of(e) for e in ("bus", "sof", "icm", "ecm")} == {whole.base_url}
    # one issuer for the domain: tokens from its front are good in every process
    assert front.issuer == sof.issuer == FRONT


def test_a_process_serving_part_of_a_domain_must_know_where_the_rest_is(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--peer icm=URL"):
        _settings(tmp_path, ("sof",), f"bus={FRONT}").url_of("icm")
    result = CliRunner().invoke(cli.app, ["serve", "--data-dir", str(tmp_path), "--entities", "sof"])
    assert result.exit_code == 2 and "--peer bus=URL" in result.output
    result = CliRunner().invoke(cli.app, ["serve", "--data-dir", str(tmp_path), "--entities", "sof,oss"])
    assert result.exit_code == 2 and "oss" in result.output


def test_only_the_domains_own_addresses_are_its_own(tmp_path: Path) -> None:
    front = _settings(tmp_path, ("bus",), f"sof={SOF},icm={ICM},ecm={ICM}")
    assert front.is_domain_url(f"{FRONT}/mefApi/legato/x")
    assert front.is_domain_url(f"{SOF}/mefApi/legato/x") and front.is_domain_url(f"{ICM}/restconf/x")
    assert not front.is_domain_url("http://127.0.0.1:80811/mefApi/legato/x")  # a port that only starts alike
    assert not front.is_domain_url("http://partner.example/mefApi/sonata/x")


def test_each_process_keeps_its_own_durable_workflows(tmp_path: Path) -> None:
    whole = _settings(tmp_path, (), "")
    bus = _settings(tmp_path, ("bus",), f"sof={SOF},icm={ICM},ecm={ICM}")
    orchestration = _settings(tmp_path, ("sof", "icm", "ecm"), f"bus={FRONT}")
    assert whole.dbos_database_url.endswith("/dbos.sqlite") and whole.dbos_system_schema == "dbos"
    urls = {s.dbos_database_url for s in (whole, bus, orchestration)}
    schemas = {s.dbos_system_schema for s in (whole, bus, orchestration)}
    assert len(urls) == len(schemas) == 3


def test_a_restarted_child_answers_where_it_did(tmp_path: Path) -> None:
    groups = launch.PROCESS_LAYOUTS[3][1:]
    first = launch._child_ports(tmp_path, groups)
    assert len(set(first)) == len(groups)
    assert launch._child_ports(tmp_path, groups) == first
    # spread over two processes instead, the new group gets a port of its own, the old ones stay known
    [orchestration] = launch._child_ports(tmp_path, launch.PROCESS_LAYOUTS[2][1:])
    assert orchestration not in first
    assert launch._child_ports(tmp_path, groups) == first


def test_each_process_writes_its_own_embedded_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LSO_DATABASE_URL", raising=False)
    whole = Settings.load(tmp_path)
    bus, icm = Settings.load(tmp_path, entities=("bus",)), Settings.load(tmp_path, entities=("icm", "ecm"))
    assert whole.database_url.endswith("/lso.sqlite")
    assert bus.database_url.endswith("/lso-bus.sqlite") and icm.database_url.endswith("/lso-icm-ecm.sqlite")
    # one PostgreSQL database for all: row locks, not a file's one writer
    monkeypatch.setenv("LSO_DATABASE_URL", "postgresql://db.example/lso")
    assert Settings.load(tmp_path, entities=("bus",)).database_url == Settings.load(tmp_path).database_url


def test_a_data_directory_spread_another_way_is_refused(tmp_path: Path) -> None:
    for name in ("lso-bus.sqlite", "lso-sof.sqlite", "lso-icm-ecm.sqlite"):
        (tmp_path / name).touch()
    assert layout_conflicts(tmp_path, ("icm", "ecm")) == []
    assert layout_conflicts(tmp_path, ("sof", "icm", "ecm")) == [
        tmp_path / "lso-icm-ecm.sqlite",
        tmp_path / "lso-sof.sqlite",
    ]
    assert len(layout_conflicts(tmp_path, ())) == 3
    (tmp_path / "lso.sqlite").touch()
    assert layout_conflicts(tmp_path, ("bus",)) == [tmp_path / "lso.sqlite"]
    # as ``lso serve --entities sof`` would start it: refused before anything starts (the CLI: exit 2)
    sof = _settings(tmp_path, ("sof",), f"bus={FRONT},icm={ICM},ecm={ICM}")
    with pytest.raises(LayoutConflict, match=r"another way \(lso\.sqlite\)"):
        Domain(sof)
