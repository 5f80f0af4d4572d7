"""The named-query API: listing, running every question with checked parameters, bad parameters for
every question, formats, OpenAPI. Against the app in-process (``app_server``), the listing also over
real HTTP."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import requests
from openapi_spec_validator import validate

from rkg.catalog import Catalog

from support.expected import answer_rows, read_case
from support.paths import ROOT
from support.server import AppServer, Server

CASES = sorted(p for p in (ROOT / "tests" / "queries").glob("*.json") if "store" not in json.loads(p.read_text()))
CATALOG = Catalog.from_folder(ROOT / "queries")
TIMEOUT = 30


class Client:
    """GET requests to a server (real or in-process), answered as requests' responses."""

    def __init__(self, server: Server | AppServer) -> None:
        self.server = server

    def get(self, url: str, query_string: dict | None = None, headers: dict | None = None) -> requests.Response:
        return self.server.request("GET", self.server.base + url, params=query_string, headers=headers, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def client(app_server: AppServer) -> Client:
    return Client(app_server)


def media(r: requests.Response) -> str:
    return r.headers["Content-Type"].split(";")[0]


@pytest.mark.parametrize("over", ["in-process", pytest.param("http", marks=pytest.mark.server)])
def test_list(client, over: str, request: pytest.FixtureRequest) -> None:
    if over == "http":  # the same answer from a real rkg serve
        client = Client(request.getfixturevalue("endpoint"))
    listed = {q["name"]: q for q in client.get("/api/queries").json()}
    assert {"uncovered-dimensions", "ues-covering-dimension", "qc/entity-without-source"} <= set(listed)
    ues = listed["ues-covering-dimension"]
    assert [(p["name"], p["required"]) for p in ues["parameters"]] == [("programme", False), ("dimension", True)]
    assert ues["columns"] == ["unit", "block"] and ues["summary"]["fr"].startswith("Unités")


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_same_answers_as_the_catalogue(client, case: Path) -> None:
    """Every case of tests/queries, through HTTP: same rows (compared as sets)."""
    name, spec = read_case(case)
    r = client.get(f"/api/queries/{name}", query_string=spec["params"])
    assert r.status_code == 200, r.text
    got, expected = answer_rows(spec, r.json())
    assert set(got) == expected


def test_csv_and_html(client) -> None:
    r = client.get("/api/queries/uncovered-dimensions", headers={"Accept": "text/csv"})
    assert media(r) == "text/csv"
    assert {row["dimension"] for row in csv.DictReader(io.StringIO(r.text))} == {"5", "10"}
    r = client.get("/api/queries/uncovered-dimensions?format=html")
    assert media(r) == "text/html" and "<td>Contribuer à la transformation en contexte professionnel</td>" in r.text


@pytest.mark.parametrize("url, status, message", [
    ("/api/queries/units-by-block?rollup=maybe", 400, "allowed values: false, true"),
    ("/api/queries/ues-covering-dimension", 400, "needs parameter 'dimension'"),
    ("/api/queries/uncovered-dimensions?programme=not%20an%20iri", 400, "not an absolute IRI"),
    ("/api/queries/uncovered-dimensions?colour=red", 400, "has no parameter 'colour'"),
    ("/api/queries/no-such-query", 404, "no named query"),
])
def test_errors(client, url: str, status: int, message: str) -> None:
    r = client.get(url)
    assert r.status_code == status and message in r.json()["error"]


def test_406(client) -> None:
    assert client.get("/api/queries/uncovered-dimensions", headers={"Accept": "image/png"}).status_code == 406


def test_openapi_is_valid_and_covers_every_query(client) -> None:
    spec = client.get("/api/openapi.json").json()
    validate(spec)  # raises on an invalid OpenAPI 3 document
    names = {q["name"] for q in client.get("/api/queries").json()}
    assert {f"/api/queries/{n}" for n in names} | {"/api/queries"} == set(spec["paths"])
    rollup = next(p for p in spec["paths"]["/api/queries/units-by-block"]["get"]["parameters"] if p["name"] == "rollup")
    assert rollup["schema"]["enum"] == ["false", "true"] and rollup["schema"]["default"] == "false"


def bad_values(name: str) -> list[tuple[dict[str, str], str]]:
    """Requests that break the header of query ``name``, with a piece of the 400 message each must get."""
    q = CATALOG.queries[name]
    known = ", ".join(sorted(p.name for p in q.parameters)) or "none"
    cases = [({"nonsense": "1"}, f"its parameters: {known}")]
    for p in q.parameters:
        if p.allowed:
            cases.append(({p.name: "no-such-value"}, "allowed values: " + ", ".join(p.allowed)))
        elif p.type == "iri":
            cases.append(({p.name: "not an iri"}, "not an absolute IRI"))
        elif p.type in ("integer", "number"):
            cases.append(({p.name: "many"}, "not an integer"))
    return cases


@pytest.mark.parametrize("name", sorted(CATALOG.queries))
def test_every_question_refuses_bad_parameters(client, name: str) -> None:
    required = {p.name: "https://w3id.org/rkg/id/rncp31854-pif/dimension/1" for p in CATALOG.queries[name].parameters
                if p.required and p.default is None}
    for params, message in bad_values(name):
        r = client.get(f"/api/queries/{name}", query_string={**required, **params})
        assert r.status_code == 400 and message in r.json()["error"], (params, r.text)


JSON_ROUTES = ["/api/queries", "/api/queries/block-summary", "/api/queries/uncovered-dimensions", "/api/openapi.json", "/health"]
ACCEPTS = {"application/json": "application/json", "*/*": "*/*", "none": None}
"""What fetch, requests and curl send: each must get JSON on every JSON route (not 406, not SPARQL JSON)."""


@pytest.mark.parametrize("accept", sorted(ACCEPTS))
@pytest.mark.parametrize("route", JSON_ROUTES)
def test_json_routes_answer_json(client, route: str, accept: str) -> None:
    r = client.get(route, headers={"Accept": ACCEPTS[accept]})  # None: requests sends no Accept at all
    assert r.status_code == 200, r.text
    assert media(r) == "application/json"
    assert r.json() is not None
