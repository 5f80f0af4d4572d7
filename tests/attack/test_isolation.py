"""The second layer on its own: the sandboxes that run SPARQL cannot open a network connection, whatever
the guard lets through. Each test gives a sandbox an operation that would contact a listener on loopback
and checks that the listener got nothing; the positive controls (a sandbox whose network is left open)
prove that the listener sees connections when one is made."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from rkg import guard
from rkg.executor import Pool
from rkg.jobs import Kind, QueryJob, StoreSpec, UpdateJob
from support.hostile import _QUERIES, _UPDATES, spelled
from support.listener import listening

JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def nquads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("isolation") / "g.nq"
    path.write_text("<http://ex/a> <http://ex/b> <http://ex/c> <http://ex/g> .\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def closed(nquads: Path):
    pool = Pool(StoreSpec("memory", str(nquads)), 1)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def open_network(nquads: Path):
    pool = Pool(StoreSpec("memory", str(nquads), network=True), 1)
    yield pool
    pool.close()


def test_the_filter_refuses_ip_sockets_in_a_child() -> None:
    from rkg.executor import run_isolated
    from rkg.isolation import probe

    assert "AF_UNIX" in run_isolated(probe, timeout=60)


@pytest.mark.parametrize("name", sorted(_QUERIES))
def test_service_the_guard_missed_reaches_nothing(closed: Pool, name: str) -> None:
    """The query goes straight to the sandbox, as if the guard had missed it."""
    with listening() as listener:
        text = spelled(_QUERIES, listener.host)[name]
        out = closed.run(QueryJob(text, JSON, "application/n-triples"), 20)
        assert listener.accepted == 0
    # 403: the engine's socket() was refused; 400: it does not parse; 200: SILENT, or a pattern the
    # engine proved empty without calling the endpoint. Never a crash, never a connection.
    assert out.kind in (Kind.ANSWER, Kind.BAD_INPUT, Kind.REFUSED), out


def test_positive_control_an_open_sandbox_reaches_the_listener(open_network: Pool) -> None:
    with listening() as listener:
        out = open_network.run(QueryJob(f"SELECT * WHERE {{ SERVICE <http://{listener.host}/sparql> {{ ?s ?p ?o }} }}",
                                        JSON, None), 20)
        assert listener.accepted >= 1, out
    assert out.kind is Kind.ANSWER


@pytest.mark.parametrize("name", sorted(_UPDATES))
def test_load_the_guard_missed_reaches_nothing(tmp_path: Path, name: str) -> None:
    """LOAD and SERVICE in updates, given straight to a read-write sandbox (no shapes: validation is
    not reached when nothing can be fetched)."""
    location = tmp_path / "store"
    ox.Store(str(location)).flush()
    pool = Pool(StoreSpec("readwrite", str(location)), 1)
    try:
        with listening() as listener:
            out = pool.run(UpdateJob(spelled(_UPDATES, listener.host)[name]), 20)
            assert listener.accepted == 0
    finally:
        pool.close()
    assert out.kind in (Kind.APPLIED, Kind.BAD_INPUT, Kind.REFUSED), out


def test_guard_bypassed_in_the_app_still_reaches_nothing(monkeypatch: pytest.MonkeyPatch, nquads: Path) -> None:
    """The whole app with its guard switched off (the test hook is a monkeypatch, not a setting): the
    answer is a 403 from the sandbox, and nothing reaches the listener."""
    from rkg.web import create_app
    from rkg.web.config import Config

    monkeypatch.setattr(guard, "mentions", lambda text, update: [])
    app = create_app(Config(nquads=nquads, version="t", sandboxes=1))
    try:
        client = app.test_client()
        with listening() as listener:
            for text in spelled(_QUERIES, listener.host).values():
                r = client.get("/sparql", query_string={"query": text}, headers={"Accept": JSON})
                assert r.status_code in (200, 400, 403, 406), r.data  # 406: CONSTRUCT asked as JSON
            assert listener.accepted == 0
    finally:
        app.extensions["rkg"].close()
