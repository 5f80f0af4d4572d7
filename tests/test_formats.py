"""One table of formats (rkg.formats), and SELECT results written through the executor in every SPARQL
results format, read back by pyoxigraph's and rdflib's parsers to the same terms."""

from __future__ import annotations

import csv
import io
import math

import pyoxigraph as ox
import pytest
from rdflib import BNode, Literal, URIRef, Variable
from rdflib.query import Result

from rkg import executor, formats
from rkg.executor import run_query
from rkg.jobs import Kind, QueryJob
from rkg.negotiation import negotiate

XSD = "http://www.w3.org/2001/XMLSchema#"
EX = "https://example.org/"
TERMS = {
    "decimal": ox.Literal("1.5", datatype=ox.NamedNode(XSD + "decimal")),
    "integer": ox.Literal("1", datatype=ox.NamedNode(XSD + "integer")),
    "double": ox.Literal("1.5E0", datatype=ox.NamedNode(XSD + "double")),
    "nan": ox.Literal("NaN", datatype=ox.NamedNode(XSD + "double")),
    "inf": ox.Literal("INF", datatype=ox.NamedNode(XSD + "double")),
    "minus_inf": ox.Literal("-INF", datatype=ox.NamedNode(XSD + "double")),
    "lang": ox.Literal('un "mot",\ttab\nligne', language="fr"),
    "custom": ox.Literal("42 km", datatype=ox.NamedNode(EX + "length")),
    "string": ox.Literal("plain, \"quoted\""),
    "iri": ox.NamedNode(EX + "x?a=1&b=é"),
    "bnode": ox.BlankNode("b1"),
}
QUERY = "SELECT ?kind ?o WHERE { ?s <%sp> ?o . BIND(STRAFTER(STR(?s), '%s') AS ?kind) }" % (EX, EX)
RDFLIB_FORMATS = {formats.SPARQL_JSON: "json", formats.SPARQL_XML: "xml", formats.SPARQL_CSV: "csv", formats.SPARQL_TSV: "tsv"}


@pytest.fixture(scope="module")
def store() -> ox.Store:
    s = ox.Store()
    s.extend(ox.Quad(ox.NamedNode(EX + k), ox.NamedNode(EX + "p"), t, ox.DefaultGraph()) for k, t in TERMS.items())
    return s


@pytest.fixture(params=["pyoxigraph", "capped"])
def path(request, monkeypatch) -> str:
    """``pyoxigraph``: the whole answer written by pyoxigraph; ``capped``: the rows taken and cut in Python."""
    if request.param == "capped":
        monkeypatch.setattr(executor, "MIN_ROW_BYTES", dict.fromkeys(executor.MIN_ROW_BYTES, 0))
    return request.param


@pytest.fixture(scope="module")
def expected(store) -> dict[str, ox.Term]:
    """The terms as the store answers them (Oxigraph writes doubles in canonical form: ``1.5E0`` as ``1.5``)."""
    got = {sol["kind"].value: sol["o"] for sol in store.query(QUERY)}
    assert got.keys() == TERMS.keys() and got["nan"] == TERMS["nan"] and got["custom"] == TERMS["custom"]
    return got


def _csv(terms: dict) -> dict[str, str]:
    return {k: ("_:" + t.value if isinstance(t, ox.BlankNode) else t.value) for k, t in terms.items()}


def _answer(store: ox.Store, media: str) -> bytes:
    out = run_query(store, QueryJob(QUERY, media, None))
    assert out.kind is Kind.ANSWER and out.media == media and not out.truncated
    return out.body


def _rdflib(t) -> tuple:
    """A pyoxigraph term as comparable with :func:`_from_rdflib` (lexical form kept: rdflib's ``Literal``
    would normalise ``NaN`` to ``nan``)."""
    if isinstance(t, ox.NamedNode):
        return "uri", t.value
    if isinstance(t, ox.BlankNode):
        return "bnode",  # rdflib may relabel blank nodes
    plain = t.language or t.datatype.value == XSD + "string"
    return "literal", _double(t.value, t.datatype.value), t.language, None if plain else t.datatype.value


def _double(lexical: str, datatype: str | None) -> str | float:
    """Doubles by value: rdflib's parsers write ``NaN`` as ``nan`` and ``INF`` as ``inf`` when they
    normalise literals (the lexical forms are checked exactly with pyoxigraph)."""
    if datatype != XSD + "double":
        return lexical
    value = float(lexical)
    return "NaN" if math.isnan(value) else value


def _from_rdflib(t) -> tuple:
    if isinstance(t, URIRef):
        return "uri", str(t)
    if isinstance(t, BNode):
        return "bnode",
    assert isinstance(t, Literal)
    return "literal", _double(str(t), t.datatype and str(t.datatype)), t.language, str(t.datatype) if t.datatype else None


def _label(t) -> str:
    return str(t) if not isinstance(t, BNode) or str(t).startswith("_:") else "_:" + t


@pytest.mark.parametrize("media", sorted(formats.RESULTS))
def test_select_read_back_by_pyoxigraph(store, expected, path, media: str) -> None:
    body = _answer(store, media)
    if media == formats.SPARQL_CSV:  # lossy by design of SPARQL CSV: pyoxigraph refuses to parse it
        rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
        assert rows[0] == ["kind", "o"]
        assert dict(rows[1:]) == _csv(expected)
        return
    parsed = ox.parse_query_results(io.BytesIO(body), format=formats.BY_MEDIA[media].results)
    assert {sol["kind"].value: sol["o"] for sol in parsed} == expected


@pytest.mark.parametrize("media", sorted(formats.RESULTS))
def test_select_read_back_by_rdflib(store, expected, path, media: str) -> None:
    result = Result.parse(io.BytesIO(_answer(store, media)), format=RDFLIB_FORMATS[media])
    got = {str(b[Variable("kind")]): b[Variable("o")] for b in result.bindings}
    if media == formats.SPARQL_CSV:  # SPARQL CSV keeps lexical values only, by design
        assert {k: _label(t) for k, t in got.items()} == _csv(expected)
    else:
        assert {k: _from_rdflib(t) for k, t in got.items()} == {k: _rdflib(t) for k, t in expected.items()}


def test_integer_division_keeps_its_datatype(path) -> None:
    out = run_query(ox.Store(), QueryJob("SELECT (2/2 AS ?r) {}", formats.SPARQL_TSV, None))
    (row,) = ox.parse_query_results(io.BytesIO(out.body), format=ox.QueryResultsFormat.TSV)
    assert row["r"] == ox.Literal("1", datatype=ox.NamedNode(XSD + "decimal"))


@pytest.mark.parametrize("media", sorted(formats.RESULTS))
def test_row_cap(store, path, media: str) -> None:
    out = run_query(store, QueryJob(QUERY, media, None, max_rows=3))
    if media == formats.SPARQL_CSV:
        rows = list(csv.reader(io.StringIO(out.body.decode(), newline="")))[1:]
    else:
        rows = list(ox.parse_query_results(io.BytesIO(out.body), format=formats.BY_MEDIA[media].results))
    assert len(rows) == 3 and out.truncated


@pytest.mark.parametrize("accept, offer, short, expected", [
    ("application/json", formats.API, None, "application/json"),
    ("*/*", formats.API, None, "application/json"),
    (None, formats.API, None, "application/json"),
    ("text/csv", formats.API, None, "text/csv"),
    ("application/json", formats.API, "csv", "text/csv"),
    ("application/json", formats.RESULTS, None, formats.SPARQL_JSON),
    ("text/xml", formats.RESULTS, None, formats.SPARQL_XML),
    ("text/plain", formats.GRAPHS, None, formats.N_TRIPLES),
    ("text/*", formats.GRAPHS, None, formats.TURTLE),  # an alias is never reached through a wildcard
    ("application/x-turtle", formats.GRAPHS, None, formats.TURTLE),
    (None, formats.GRAPHS, "nq", formats.N_QUADS),
    (None, formats.GRAPHS, "jsonld", formats.JSON_LD),
    (None, formats.ENTITY, "rdf", formats.RDF_XML),
    (None, formats.RESULTS, "application/sparql-results+xml", formats.SPARQL_XML),
])
def test_negotiation_over_the_tables(accept, offer, short, expected) -> None:
    assert negotiate(accept, offer, short) == expected


@pytest.mark.parametrize("fmt", [*formats.RESULT_FORMATS, *formats.RDF_FORMATS_TABLE], ids=lambda f: f.media)
def test_table_agrees_with_pyoxigraph(fmt: formats.Format) -> None:
    native = fmt.results or fmt.rdf
    assert native.media_type.partition(";")[0] == fmt.media
    assert "." + native.file_extension in fmt.extensions
    assert fmt.iri and fmt.iri.startswith(formats.W3C_FORMATS)
    assert formats.BY_MEDIA[fmt.media] is fmt
    assert formats.CONTENT_TYPES[fmt.media].startswith(fmt.media)
