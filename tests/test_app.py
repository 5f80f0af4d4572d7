"""The app factory and what it logs (in-process WSGI; the HTTP behaviour is tested in tests/web/)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from rkg.build import NQUADS_NAME
from rkg.errors import InputError
from rkg.web import create_app
from rkg.web.config import Config

SECRET_QUERY = "SELECT ?secret WHERE { ?secret a <https://w3id.org/rkg/ontology#CompetencyBlock> }"


@pytest.fixture(scope="module")
def app(built_dir: Path):
    app = create_app(Config(nquads=built_dir / NQUADS_NAME, version="test"))
    yield app
    app.extensions["rkg"].close()


@pytest.mark.parametrize("config, message", [
    (Config(), "either a built graph"),
    (Config(nquads=Path("x.nq"), update_token="t"), "persistent store"),
    (Config(location=Path("s"), update_token=""), "must not be empty"),
    (Config(nquads=Path("x.nq"), time_limit=0), "positive"),
])
def test_bad_config_is_refused(config: Config, message: str) -> None:
    with pytest.raises(InputError, match=message):
        create_app(config)


def test_log_line_has_no_query_text(app, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="rkg.access"):
        r = app.test_client().get("/sparql", query_string={"query": SECRET_QUERY})
    assert r.status_code == 200
    (line,) = [rec.getMessage() for rec in caplog.records if rec.name == "rkg.access"]
    method, path, status, duration, size, request_id, qhash = line.split()
    assert (method, path, status) == ("GET", "/sparql", "200")
    assert duration.endswith("ms") and size == f"{len(r.data)}B" and qhash.startswith("q=")
    assert request_id == "id=" + r.headers["X-Request-Id"]
    assert "secret" not in line and "SELECT" not in line


def test_health_and_cache(app) -> None:
    client = app.test_client()
    health = client.get("/health").get_json()
    assert health["status"] == "ok" and health["triples"] > 2000 and health["version"] == "test"
    first = client.get("/sparql", query_string={"query": SECRET_QUERY})
    again = client.get("/sparql", query_string={"query": SECRET_QUERY}, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_nondeterministic_queries_are_not_cached(app) -> None:
    client = app.test_client()
    query = "SELECT (STRUUID() AS ?u) WHERE {}"
    first = client.get("/sparql", query_string={"query": query}).get_json()
    second = client.get("/sparql", query_string={"query": query}).get_json()
    assert first["results"]["bindings"][0]["u"]["value"] != second["results"]["bindings"][0]["u"]["value"]


def test_a_glued_from_names_the_dataset(app) -> None:
    """FROM is read from the parse, so ``FROM<g>`` and ``FROM:g`` (one prefixed name to a lexer) select
    their graph instead of the union default graph."""
    client = app.test_client()
    graph = "https://w3id.org/rkg/graph/rncp31854-pif/2024-2028/labels-en"

    def count(query: str) -> int:
        body = client.get("/sparql", query_string={"query": query}).get_json()
        return int(body["results"]["bindings"][0]["n"]["value"])

    union = count("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    spaced = count(f"SELECT (COUNT(*) AS ?n) FROM <{graph}> WHERE {{ ?s ?p ?o }}")
    assert 0 < spaced < union
    assert count(f"SELECT (COUNT(*) AS ?n) FROM<{graph}> WHERE {{ ?s ?p ?o }}") == spaced
    assert count(f"PREFIX g: <{graph.rsplit('/', 1)[0]}/> SELECT (COUNT(*) AS ?n) FROM g:labels-en WHERE {{ ?s ?p ?o }}") == spaced
    assert count(f"PREFIX : <{graph.rsplit('/', 1)[0]}/> SELECT (COUNT(*) AS ?n) FROM:labels-en WHERE {{ ?s ?p ?o }}") == spaced
    assert count("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o } # from <nowhere>") == union
