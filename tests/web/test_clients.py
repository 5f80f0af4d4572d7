"""Real SPARQL clients against ``rkg serve``, each with its defaults: SPARQLWrapper (GET, XML unless told,
format=/output=/results= parameters beside Accept) and rdflib's SPARQLStore (GET, Accept for XML results
and RDF/XML)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, POSTDIRECTLY, RDFXML, TSV, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from support.server import Server

pytestmark = [pytest.mark.server, pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib"),  # parsers of rdflib and SPARQLWrapper still
              pytest.mark.filterwarnings("ignore::DeprecationWarning:SPARQLWrapper"),  # use ConjunctiveGraph
              # SPARQLWrapper's notice that JSON for a graph makes it send Accept: */* (format=json still says it)
              pytest.mark.filterwarnings("ignore:Sending Accept header:RuntimeWarning")]

PIF = URIRef("https://w3id.org/rkg/id/rncp31854-pif")
PROGRAMME = URIRef("https://w3id.org/rkg/ontology#Programme")
G = "https://w3id.org/rkg/graph/rncp31854-pif/2024-2028/"
LABELS_EN = URIRef(G + "labels-en")
SELECT = f"SELECT ?label WHERE {{ <{PIF}> <{SKOS.prefLabel}> ?label }} ORDER BY ?label"
ASK = f"ASK {{ <{PIF}> a <{PROGRAMME}> }}"
CONSTRUCT = f"CONSTRUCT {{ <{PIF}> ?p ?o }} WHERE {{ <{PIF}> ?p ?o }}"
DESCRIBE = f"DESCRIBE <{PIF}>"


def wrapper(server: Server, query: str, fmt: str | None = None) -> SPARQLWrapper:
    sparql = SPARQLWrapper(server.sparql)
    sparql.setQuery(query)
    if fmt is not None:
        sparql.setReturnFormat(fmt)
    return sparql


# ---------------------------------------------------------------- SPARQLWrapper


def test_sparqlwrapper_defaults_select_xml(endpoint: Server) -> None:
    sparql = wrapper(endpoint, SELECT)
    assert sparql.method == "GET" and sparql.returnFormat == XML
    result = sparql.query()
    assert "format=xml" in result.response.geturl() and "output=xml" in result.response.geturl()
    assert result.response.headers["Content-Type"].startswith("application/sparql-results+xml")
    doc = result.convert()  # xml.dom.minidom document
    literals = doc.getElementsByTagName("literal")
    assert sorted(lit.getAttribute("xml:lang") for lit in literals) == ["en", "fr"]


@pytest.mark.parametrize("method, request_method", [("GET", None), (POST, None), (POST, POSTDIRECTLY)])
def test_sparqlwrapper_select_json(endpoint: Server, method: str, request_method) -> None:
    sparql = wrapper(endpoint, SELECT, JSON)
    sparql.setMethod(method)
    if request_method:
        sparql.setRequestMethod(request_method)
    out = sparql.queryAndConvert()
    assert out["head"]["vars"] == ["label"]
    assert sorted(b["label"]["xml:lang"] for b in out["results"]["bindings"]) == ["en", "fr"]


@pytest.mark.parametrize("fmt, delimiter, header", [(CSV, ",", "label"), (TSV, "\t", "?label")])
def test_sparqlwrapper_select_csv_tsv(endpoint: Server, fmt: str, delimiter: str, header: str) -> None:
    result = wrapper(endpoint, SELECT, fmt).query()
    table = list(csv.reader(io.StringIO(result.convert().decode("utf-8")), delimiter=delimiter))
    assert table[0] == [header] and len(table) == 3
    assert any("ingénieur de formation" in row[0] for row in table[1:])


@pytest.mark.parametrize("fmt", [None, XML, JSON])
def test_sparqlwrapper_ask(endpoint: Server, fmt) -> None:
    out = wrapper(endpoint, ASK, fmt).queryAndConvert()
    if fmt == JSON:
        assert out["boolean"] is True
    else:
        assert out.getElementsByTagName("boolean")[0].firstChild.data == "true"


@pytest.mark.parametrize("query", [CONSTRUCT, DESCRIBE], ids=["construct", "describe"])
@pytest.mark.parametrize("fmt, content_type", [
    (None, "application/rdf+xml"),  # XML, the default, is RDF/XML for graphs
    (RDFXML, "application/rdf+xml"),
    (TURTLE, "text/turtle"),
    (N3, "text/turtle"),
    (JSONLD, "application/ld+json"),
    (JSON, "application/ld+json"),  # JSON for a graph: JSON-LD
])
def test_sparqlwrapper_graphs(endpoint: Server, query: str, fmt, content_type: str) -> None:
    result = wrapper(endpoint, query, fmt).query()
    assert result.response.headers["Content-Type"].split(";")[0] == content_type
    out = result.convert()
    if isinstance(out, (list, dict)):  # JSON: SPARQLWrapper only decodes it
        out = Graph().parse(data=json.dumps(out), format="json-ld")
    g = out if isinstance(out, Graph) else Graph().parse(data=out, format="turtle")
    assert (PIF, RDF.type, PROGRAMME) in g
    assert {o.language for o in g.objects(PIF, SKOS.prefLabel)} == {"fr", "en"}


def test_sparqlwrapper_default_graph_parameter(endpoint: Server) -> None:
    sparql = wrapper(endpoint, SELECT, JSON)
    sparql.addParameter("default-graph-uri", str(LABELS_EN))
    out = sparql.queryAndConvert()
    assert [b["label"]["xml:lang"] for b in out["results"]["bindings"]] == ["en"]


def test_sparqlwrapper_syntax_error(endpoint: Server) -> None:
    with pytest.raises(QueryBadFormed, match="error at 1:"):
        wrapper(endpoint, "SELECT * WHERE { ?s ?p }").query()


def test_sparqlwrapper_update_refused(endpoint: Server) -> None:
    sparql = SPARQLWrapper(endpoint.sparql)
    sparql.setMethod(POST)
    sparql.setQuery("INSERT DATA { <http://example.org/s> <http://example.org/p> 1 }")
    assert sparql.isSparqlUpdateRequest()
    with pytest.raises(Exception) as info:  # SPARQLWrapper has no class of its own for 403
        sparql.query()
    assert "403" in str(info.value) or getattr(info.value, "code", None) == 403


# ---------------------------------------------------------------- rdflib SPARQLStore


@pytest.fixture()
def store(endpoint: Server) -> SPARQLStore:
    return SPARQLStore(endpoint.sparql)


def test_sparqlstore_query(store: SPARQLStore) -> None:
    g = Graph(store)
    labels = sorted(row.label.language for row in g.query(SELECT))
    assert labels == ["en", "fr"]
    assert g.query(ASK).askAnswer is True
    built = g.query(CONSTRUCT).graph
    assert (PIF, RDF.type, PROGRAMME) in built


def test_sparqlstore_triples(store: SPARQLStore) -> None:
    g = Graph(store)
    assert (PIF, RDF.type, PROGRAMME) in g
    triples = list(g.triples((PIF, None, None)))
    assert len(triples) > 20 and (PIF, URIRef("https://w3id.org/rkg/ontology#rncpNumber"), Literal("RNCP31854")) in triples
    assert set(g.objects(PIF, SKOS.prefLabel)) == {o for s, p, o in triples if p == SKOS.prefLabel}
    assert len(list(g.subjects(RDF.type, PROGRAMME))) == 1


def test_sparqlstore_len_matches_health(store: SPARQLStore, endpoint: Server) -> None:
    import requests

    assert len(Graph(store)) == requests.get(endpoint.base + "/health", timeout=30).json()["triples"]


def test_sparqlstore_named_graphs(store: SPARQLStore) -> None:
    ds = Dataset(store)
    names = set(ds.store.contexts())
    assert LABELS_EN in names and len(names) == 8  # seven source files (mappings and profile included) and the build graph
    en = Graph(store, identifier=LABELS_EN)  # sent as default-graph-uri
    assert {o.language for o in en.objects(PIF, SKOS.prefLabel)} == {"en"}
    assert len(en) == int(next(iter(Graph(store).query(
        f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{LABELS_EN}> {{ ?s ?p ?o }} }}"))).n)


def test_sparqlstore_is_read_only(store: SPARQLStore) -> None:
    with pytest.raises(TypeError):
        Graph(store).add((PIF, RDF.type, PROGRAMME))
