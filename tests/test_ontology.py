"""The ontology's header and the house rules for its terms."""

from __future__ import annotations

import re
import tomllib

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, VANN

from support.paths import ROOT

ONT = URIRef("https://w3id.org/rkg/ontology")
NS = "https://w3id.org/rkg/ontology#"
GRAPH = Graph().parse(ROOT / "ontology" / "rkg.ttl")
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
KINDS = {OWL.Class: "class", OWL.ObjectProperty: "property", OWL.DatatypeProperty: "property"}
TERMS = sorted({(str(s), KINDS[k]) for k in KINDS for s in GRAPH.subjects(RDF.type, k) if str(s).startswith(NS)})


def test_header() -> None:
    assert (ONT, RDF.type, OWL.Ontology) in GRAPH
    assert str(GRAPH.value(ONT, OWL.versionInfo)) == VERSION
    assert str(GRAPH.value(ONT, OWL.versionIRI)) == f"{ONT}/{VERSION}"
    for p in (DCTERMS.title, DCTERMS.description):
        assert {o.language for o in GRAPH.objects(ONT, p)} >= {"fr", "en"}
    assert str(GRAPH.value(ONT, DCTERMS.license)) == "https://creativecommons.org/licenses/by/4.0/"
    assert GRAPH.value(ONT, DCTERMS.created) is not None
    assert str(GRAPH.value(ONT, VANN.preferredNamespacePrefix)) == "rkg"
    assert str(GRAPH.value(ONT, VANN.preferredNamespaceUri)) == NS


@pytest.mark.parametrize("term, kind", TERMS, ids=[t.removeprefix(NS) for t, _ in TERMS])
def test_term_labels_comments_and_case(term: str, kind: str) -> None:
    name = term.removeprefix(NS)
    pattern = r"[A-Z][A-Za-z0-9]*" if kind == "class" else r"[a-z][A-Za-z0-9]*"
    assert re.fullmatch(pattern, name), f"{name}: classes are UpperCamel, properties lowerCamel"
    for p in (RDFS.label, RDFS.comment):
        langs = {o.language for o in GRAPH.objects(URIRef(term), p) if isinstance(o, Literal)}
        assert {"fr", "en"} <= langs, f"{name}: {p.n3(GRAPH.namespace_manager)} needs fr and en"


def test_every_term_used_in_data_is_declared() -> None:
    data = Graph()
    for path in (ROOT / "data").rglob("*.ttl"):
        data.parse(path)
    used = {str(p) for p in data.predicates() if str(p).startswith(NS)} | {str(o) for o in data.objects(None, RDF.type) if str(o).startswith(NS)}
    declared = {str(s) for s in GRAPH.subjects() if str(s).startswith(NS)}
    assert used - declared == set()


def test_no_xsd_date_for_the_reasoner() -> None:
    dates = [o for o in GRAPH.objects() if isinstance(o, Literal) and o.datatype == URIRef("http://www.w3.org/2001/XMLSchema#date")]
    assert dates == []
