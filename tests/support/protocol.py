"""Speaking the SPARQL 1.1 protocol to a server under test (a real one or the app in-process) and reading
its answers with rdflib's parsers; the content-negotiation matrices, run in-process by
tests/test_negotiation.py and, a few rows, over HTTP by tests/web/test_protocol.py."""

from __future__ import annotations

import csv
import io

import requests
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.query import Result

from .paths import PIF
from .server import AppServer, Server

SKOS = "http://www.w3.org/2004/02/skos/core#"
G = "https://w3id.org/rkg/graph/rncp31854-pif/2024-2028/"
REFERENTIEL, LABELS_EN = G + "referentiel", G + "labels-en"

SELECT = f"SELECT ?label WHERE {{ <{PIF}> <{SKOS}prefLabel> ?label }} ORDER BY ?label"
ASK = f"ASK {{ <{PIF}> a <https://w3id.org/rkg/ontology#Programme> }}"
CONSTRUCT = f"CONSTRUCT {{ <{PIF}> ?p ?o }} WHERE {{ <{PIF}> ?p ?o }}"
DESCRIBE = f"DESCRIBE <{PIF}>"
RESULT_TYPES = {"application/sparql-results+json": "json", "application/sparql-results+xml": "xml",
                "text/csv": "csv", "text/tab-separated-values": "tsv"}
GRAPH_TYPES = {"text/turtle": "turtle", "application/n-triples": "nt", "application/ld+json": "json-ld",
               "application/rdf+xml": "xml", "application/trig": "trig", "application/n-quads": "nquads"}
TIMEOUT = 30




def send(server: Server | AppServer, query: str | None = None, *, method: str = "GET", accept: str | None = None,
         params: list[tuple[str, str]] = (), key: str = "query", **kw) -> requests.Response:
    """One protocol request to ``server`` (real or in-process). ``method``: GET, HEAD, POST-form (parameters in the body) or POST-direct
    (the operation as the body, other parameters in the URL)."""
    headers = {"Accept": accept, **kw.pop("headers", {})}  # None: no Accept header at all (requests drops it)
    fields = [*([(key, query)] if query is not None else []), *params]
    if method in ("GET", "HEAD"):
        return server.request(method, server.sparql, params=fields, headers=headers, timeout=TIMEOUT, **kw)
    if method == "POST-form":
        return server.request("POST", server.sparql, data=fields, headers=headers, timeout=TIMEOUT, **kw)
    if method == "POST-direct":
        headers["Content-Type"] = "application/sparql-query" if key == "query" else "application/sparql-update"
        return server.request("POST", server.sparql, params=list(params), data=(query or "").encode(), headers=headers,
                              timeout=TIMEOUT, **kw)
    raise ValueError(method)


def media(r: requests.Response) -> str:
    return r.headers.get("Content-Type", "").split(";")[0].strip()


def rows(r: requests.Response) -> list[dict[str, str]]:
    """SELECT results in any of the four formats, parsed by rdflib's result parsers, as {var: str}."""
    fmt = RESULT_TYPES[media(r)]
    result = Result.parse(io.BytesIO(r.content), format=fmt)
    assert result.type == "SELECT"
    return [{str(v): str(b[v]) for v in result.vars if b.get(v) is not None} for b in result.bindings]


def boolean(r: requests.Response) -> bool:
    fmt = RESULT_TYPES[media(r)]
    if fmt in ("json", "xml"):
        result = Result.parse(io.BytesIO(r.content), format=fmt)
        assert result.type == "ASK"
        return bool(result.askAnswer)
    (header, value), = [list(csv.reader(io.StringIO(r.text), delimiter="," if fmt == "csv" else "\t"))]
    assert len(header) == 1 and header[0].lstrip("?") == "_askResult"
    return {"true": True, "false": False}[value[0]]


def graph(r: requests.Response) -> Graph:
    """CONSTRUCT/DESCRIBE results parsed by rdflib (the quad formats' default graph)."""
    fmt = GRAPH_TYPES[media(r)]
    if fmt in ("trig", "nquads"):
        ds = Dataset()
        ds.parse(data=r.content, format=fmt)
        g = Graph()
        for s, p, o, _ in ds.quads((None, None, None, None)):
            g.add((s, p, o))
        return g
    return Graph().parse(data=r.content, format=fmt)


# ---------------------------------------------------------------- content negotiation

SELECT_NEGOTIATION = [
    # (Accept, extra parameters, expected media type)
    (None, [], "application/sparql-results+json"),
    ("", [], "application/sparql-results+json"),
    ("application/sparql-results+json", [], "application/sparql-results+json"),
    ("application/json", [], "application/sparql-results+json"),
    ("application/sparql-results+xml", [], "application/sparql-results+xml"),
    ("application/xml", [], "application/sparql-results+xml"),
    ("text/csv", [], "text/csv"),
    ("text/tab-separated-values", [], "text/tab-separated-values"),
    ("text/csv;q=0.5, application/sparql-results+xml", [], "application/sparql-results+xml"),
    ("text/csv, application/sparql-results+xml;q=0.5", [], "text/csv"),
    ("application/sparql-results+json;q=0.1, text/tab-separated-values;q=0.9", [], "text/tab-separated-values"),
    ("*/*", [], "application/sparql-results+json"),
    ("text/*", [], "text/csv"),
    ("text/*, text/csv;q=0", [], "text/tab-separated-values"),
    ("application/*;q=0.2, text/tab-separated-values;q=0.9", [], "text/tab-separated-values"),
    ("image/png, text/turtle, */*;q=0.1", [], "application/sparql-results+json"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", [], "application/sparql-results+xml"),
    # the format=/output=/results= parameters SPARQLWrapper and others send
    ("application/sparql-results+json", [("format", "csv")], "text/csv"),
    (None, [("output", "xml")], "application/sparql-results+xml"),
    (None, [("results", "tsv")], "text/tab-separated-values"),
    ("application/sparql-results+xml", [("format", "json"), ("output", "json")], "application/sparql-results+json"),
    ("text/csv", [("format", "application/sparql-results+xml")], "application/sparql-results+xml"),
    ("text/csv; charset=utf-8", [], "text/csv"),
    ("TEXT/TAB-SEPARATED-VALUES", [], "text/tab-separated-values"),
    ("text/*;q=0.1, application/sparql-results+xml;q=0.2, text/csv", [], "text/csv"),
    ("text/csv", [("format", "no-such-format")], "text/csv"),  # unknown value: Accept decides
    (None, [("format", "")], "application/sparql-results+json"),
]


def check_select_answer(r: requests.Response, expected: str) -> None:
    """A negotiated answer to ``SELECT``: 200 in the ``expected`` format, ``Vary: Accept``, both labels."""
    assert r.status_code == 200 and media(r) == expected
    assert "Accept" in r.headers["Vary"]
    assert len(rows(r)) == 2


GRAPH_NEGOTIATION = [
    (None, [], "text/turtle"),
    ("text/turtle", [], "text/turtle"),
    ("application/x-turtle", [], "text/turtle"),
    ("application/n-triples", [], "application/n-triples"),
    ("text/plain", [], "application/n-triples"),
    ("application/ld+json", [], "application/ld+json"),
    ("application/rdf+xml", [], "application/rdf+xml"),
    ("application/trig", [], "application/trig"),
    ("application/n-quads", [], "application/n-quads"),
    ("*/*", [], "text/turtle"),
    ("text/*", [], "text/turtle"),
    ("application/*", [], "application/n-triples"),
    ("application/rdf+xml;q=0.9, application/ld+json", [], "application/ld+json"),
    ("text/turtle;q=0.1, application/rdf+xml;q=0.5, */*;q=0.01", [], "application/rdf+xml"),
    # SPARQLStore's default Accept, either order
    ("application/sparql-results+xml, application/rdf+xml", [], "application/rdf+xml"),
    ("application/rdf+xml, application/sparql-results+xml", [], "application/rdf+xml"),
    ("text/turtle", [("format", "json-ld")], "application/ld+json"),
    (None, [("output", "xml")], "application/rdf+xml"),
    (None, [("format", "rdf")], "application/rdf+xml"),
    (None, [("format", "n3")], "text/turtle"),
    (None, [("results", "nt")], "application/n-triples"),
]


def check_graph_answer(r: requests.Response, expected: str) -> None:
    """A negotiated answer to ``CONSTRUCT`` or ``DESCRIBE``: 200 in the ``expected`` format, the programme in it."""
    assert r.status_code == 200 and media(r) == expected
    g = graph(r)
    assert (URIRef(PIF), RDF.type, URIRef("https://w3id.org/rkg/ontology#Programme")) in g
    assert Literal("RNCP31854") in set(g.objects(URIRef(PIF), None))
