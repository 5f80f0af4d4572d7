"""Serialise query results in the SPARQL 1.1 result formats (JSON, XML, CSV, TSV) and RDF formats.

The executor first lets pyoxigraph write the whole answer (``QuerySolutions.serialize``) while it is
surely under the row and byte caps. A longer answer must be cut at a row, and pyoxigraph's serializer
takes only a ``QuerySolutions``, which Python cannot build from a list of rows; so a capped list of rows
is written here as SPARQL JSON (exact: every term keeps its lexical form, datatype, language tag or
blank-node label), and XML, CSV and TSV are that document read back by ``pyoxigraph.parse_query_results``
and written by pyoxigraph's own serializer — no hand-written XML, CSV or TSV writer, so NaN, INF,
decimals, custom datatypes and escaping are exactly Oxigraph's. Graphs go through ``pyoxigraph.serialize``
on a capped iterator. Media types and Content-Types come from :mod:`rkg.formats`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence

import pyoxigraph as ox

from . import formats
from .formats import CONTENT_TYPES, RDF_WRITERS as RDF_FORMATS  # noqa: F401  (re-exported)
from .namespaces import PREFIXES, XSD

TURTLE_PREFIXES = {k: v for k, v in PREFIXES.items() if k not in ("rkgid", "rkgg", "rncp")}
"""Prefixes written in Turtle and TriG answers: the vocabularies', not those of path-like instance IRIs
(``rkgid:rncp31854-pif\\/block\\/BC01`` is valid Turtle but reads worse than the IRI)."""

XSD_STRING = XSD + "string"

Row = Sequence[ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None]


def _json_term(t) -> dict:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        d = {"type": "literal", "value": t.value}
        if t.language:
            d["xml:lang"] = t.language
        elif t.datatype.value != XSD_STRING:
            d["datatype"] = t.datatype.value
        return d
    return {"type": "triple", "value": {"subject": _json_term(t.subject), "predicate": _json_term(t.predicate), "object": _json_term(t.object)}}


def select_json(variables: list[str], rows: Iterable[Row]) -> bytes:
    bindings = [{v: _json_term(t) for v, t in zip(variables, row) if t is not None} for row in rows]
    return json.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}}, ensure_ascii=False, separators=(",", ":")).encode()


def _pyoxigraph(fmt: ox.QueryResultsFormat) -> Callable[[list[str], Iterable[Row]], bytes]:
    def write(variables: list[str], rows: Iterable[Row]) -> bytes:
        solutions = ox.parse_query_results(select_json(variables, rows), format=ox.QueryResultsFormat.JSON)
        return solutions.serialize(format=fmt) or b""
    write.__doc__ = f"SELECT results as {fmt.name}, written by pyoxigraph (from the exact JSON document)."
    return write


select_xml = _pyoxigraph(ox.QueryResultsFormat.XML)
select_csv = _pyoxigraph(ox.QueryResultsFormat.CSV)
select_tsv = _pyoxigraph(ox.QueryResultsFormat.TSV)

SELECT_WRITERS: dict[str, Callable[[list[str], Iterable[Row]], bytes]] = {
    formats.SPARQL_JSON: select_json,
    formats.SPARQL_XML: select_xml,
    formats.SPARQL_CSV: select_csv,
    formats.SPARQL_TSV: select_tsv,
}

_XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'


def boolean(value: bool, media: str) -> bytes:
    if media == formats.SPARQL_JSON:
        return json.dumps({"head": {}, "boolean": value}).encode()
    if media == formats.SPARQL_XML:
        return f'{_XML_HEAD}<head/><boolean>{"true" if value else "false"}</boolean></sparql>\n'.encode()
    # SPARQL CSV/TSV have no boolean form. Oxigraph writes a bare ``true``; Jena a one-column table
    # headed ``_askResult``, which CSV readers (rdflib, pandas, spreadsheets) read as a table: answer as Jena.
    header = "_askResult" if media == formats.SPARQL_CSV else "?_askResult"
    return f"{header}\n{'true' if value else 'false'}\n".encode()


def graph(triples: Iterable[ox.Triple], media: str) -> bytes:
    fmt = RDF_FORMATS[media]
    if fmt in (ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS):
        triples = (ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG):  # readable: the project's prefixes
        return ox.serialize(triples, format=fmt, prefixes=TURTLE_PREFIXES) or b""
    return ox.serialize(triples, format=fmt) or b""
