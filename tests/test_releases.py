"""Releases: pyproject's version is the ontology's owl:versionInfo, its owl:versionIRI resolves on the server
(``/ontology/<version>`` answers the ontology file of that release, Turtle by default, other RDF formats by
negotiation), an unknown version is a 404, and CHANGELOG.md has a section for the version."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL

from support.paths import ROOT
from rkg.build import NQUADS_NAME, build, write
from rkg.web import create_app
from rkg.web.config import Config

ONTOLOGY = URIRef("https://w3id.org/rkg/ontology")
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib")  # rdflib's JSON-LD parser

FORMATS = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/n-triples": "nt",
           "application/rdf+xml": "xml"}


@pytest.fixture(scope="module")
def source() -> Graph:
    return Graph().parse(ROOT / "ontology" / "rkg.ttl", format="turtle")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("releases-build")
    write(build(ROOT, []), out)
    app = create_app(Config(nquads=out / NQUADS_NAME, queries=ROOT / "queries", shapes=ROOT / "shapes", version="test"))
    yield app.test_client()
    app.extensions["rkg"].close()


def test_version_info_and_iri_follow_pyproject(source: Graph) -> None:
    assert list(source.objects(ONTOLOGY, OWL.versionInfo)) == [Literal(VERSION)]
    assert list(source.objects(ONTOLOGY, OWL.versionIRI)) == [URIRef(f"{ONTOLOGY}/{VERSION}")]


def test_changelog_has_the_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in text
    assert re.search(rf"^## \[{re.escape(VERSION)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", text, re.MULTILINE)


@pytest.mark.parametrize("accept", [None, "*/*", "text/turtle", "application/json;q=0.9,*/*;q=0.1"])
def test_version_iri_answers_the_file_in_turtle(client, source: Graph, accept: str | None) -> None:
    r = client.get(f"/ontology/{VERSION}", headers={"Accept": accept} if accept else {})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.mimetype == "text/turtle" and "Accept" in r.headers["Vary"]
    assert isomorphic(Graph().parse(data=r.get_data(as_text=True), format="turtle"), source)


@pytest.mark.parametrize("media", sorted(FORMATS))
def test_version_iri_by_negotiation(client, source: Graph, media: str) -> None:
    r = client.get(f"/ontology/{VERSION}", headers={"Accept": media})
    assert r.status_code == 200 and r.mimetype == media
    assert isomorphic(Graph().parse(data=r.get_data(as_text=True), format=FORMATS[media]), source)


def test_format_parameter(client, source: Graph) -> None:
    r = client.get(f"/ontology/{VERSION}?format=nt", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.mimetype == "application/n-triples"
    assert client.get(f"/ontology/{VERSION}?format=csv").status_code == 400
    assert client.get(f"/ontology/{VERSION}", headers={"Accept": "text/csv"}).status_code == 406


@pytest.mark.parametrize("url, accept", [(f"/ontology/{VERSION}", BROWSER), (f"/ontology/{VERSION}?format=html", "text/turtle")])
def test_browsers_get_the_version_iris_page(client, url: str, accept: str) -> None:
    r = client.get(url, headers={"Accept": accept})
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert f'<code id="entity-iri">{ONTOLOGY}/{VERSION}</code>' in r.get_data(as_text=True)


@pytest.mark.parametrize("version", ["9.9.9", "0.0.1", "0.1", "10.0.0rc1"])
def test_unknown_version_is_404(client, version: str) -> None:
    assert version != VERSION
    r = client.get(f"/ontology/{version}")
    assert r.status_code == 404 and version in r.get_data(as_text=True)
    assert client.get(f"/ontology/{version}", headers={"Accept": BROWSER}).status_code == 404


def test_unversioned_ontology_still_served_as_before(client) -> None:
    assert client.get("/ontology", headers={"Accept": BROWSER}).mimetype == "text/html"
    r = client.get("/ontology", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.mimetype == "text/turtle"
    assert client.get("/ontology/not-a-version", headers={"Accept": "text/turtle"}).status_code == 404
