"""The named-query API (in-process WSGI): listing, running with checked parameters, formats, OpenAPI."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from conftest import ROOT
from rkg.build import NQUADS_NAME
from rkg.web import create_app
from rkg.web.config import Config

CASES = sorted(p for p in (ROOT / "tests" / "queries").glob("*.json") if json.loads(p.read_text()).get("store") != "multi")


@pytest.fixture(scope="module")
def client(built_dir: Path):
    app = create_app(Config(nquads=built_dir / NQUADS_NAME, queries=ROOT / "queries", version="test"))
    yield app.test_client()
    app.extensions["rkg"].close()


def test_list(client) -> None:
    listed = {q["name"]: q for q in client.get("/api/queries").get_json()}
    assert {"uncovered-dimensions", "ues-covering-dimension", "qc/entity-without-source"} <= set(listed)
    ues = listed["ues-covering-dimension"]
    assert [(p["name"], p["required"]) for p in ues["parameters"]] == [("programme", False), ("dimension", True)]
    assert ues["columns"] == ["unit", "block"] and ues["summary"]["fr"].startswith("Unités")


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_same_answers_as_the_catalogue(client, case: Path) -> None:
    """Every case of tests/queries, through HTTP: same rows (compared as sets)."""
    spec = json.loads(case.read_text())
    name = spec.get("query", case.stem.split("--")[0])
    r = client.get(f"/api/queries/{name}", query_string=spec["params"])
    assert r.status_code == 200, r.data
    data = r.get_json()
    columns = spec["columns"] or data["head"]["vars"]
    tokens = set(spec.get("token_sets", []))

    def norm(row):
        return tuple(" ".join(sorted((v or "").split())) if c in tokens else v for c, v in zip(columns, row))

    got = {norm(tuple(b.get(c, {}).get("value") for c in columns)) for b in data["results"]["bindings"]}
    assert got == {norm(tuple(row)) for row in spec["expected"]}


def test_csv_and_html(client) -> None:
    r = client.get("/api/queries/uncovered-dimensions", headers={"Accept": "text/csv"})
    assert r.mimetype == "text/csv"
    assert {row["dimension"] for row in csv.DictReader(io.StringIO(r.get_data(as_text=True)))} == {"5", "10"}
    r = client.get("/api/queries/uncovered-dimensions?format=html")
    assert r.mimetype == "text/html" and "<td>Contribuer à la transformation en contexte professionnel</td>" in r.get_data(as_text=True)


@pytest.mark.parametrize("url, status, message", [
    ("/api/queries/units-by-block?rollup=maybe", 400, "allowed values: false, true"),
    ("/api/queries/ues-covering-dimension", 400, "needs parameter 'dimension'"),
    ("/api/queries/uncovered-dimensions?programme=not%20an%20iri", 400, "not an absolute IRI"),
    ("/api/queries/uncovered-dimensions?colour=red", 400, "has no parameter 'colour'"),
    ("/api/queries/no-such-query", 404, "no named query"),
])
def test_errors(client, url: str, status: int, message: str) -> None:
    r = client.get(url)
    assert r.status_code == status and message in r.get_json()["error"]


def test_406(client) -> None:
    assert client.get("/api/queries/uncovered-dimensions", headers={"Accept": "image/png"}).status_code == 406


def test_openapi_is_valid_and_covers_every_query(client) -> None:
    spec = client.get("/api/openapi.json").get_json()
    validate(spec)  # raises on an invalid OpenAPI 3 document
    names = {q["name"] for q in client.get("/api/queries").get_json()}
    assert {f"/api/queries/{n}" for n in names} | {"/api/queries"} == set(spec["paths"])
    rollup = next(p for p in spec["paths"]["/api/queries/units-by-block"]["get"]["parameters"] if p["name"] == "rollup")
    assert rollup["schema"]["enum"] == ["false", "true"] and rollup["schema"]["default"] == "false"
