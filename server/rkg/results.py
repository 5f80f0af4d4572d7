"""Serialise query results in the SPARQL 1.1 result formats (JSON, XML, CSV, TSV) and RDF formats.

pyoxigraph serialises a whole ``QuerySolutions`` and cannot stop at a row cap, so SELECT results are
written here from a capped list of solutions; graphs go through ``pyoxigraph.serialize`` on a capped
iterator. Both follow the W3C result-format specifications (escaping included).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from .namespaces import PREFIXES

TURTLE_PREFIXES = {k: v for k, v in PREFIXES.items() if k not in ("rkgid", "rkgg", "rncp")}
"""Prefixes written in Turtle and TriG answers: the vocabularies', not those of path-like instance IRIs
(``rkgid:rncp31854-pif\/block\/BC01`` is valid Turtle but reads worse than the IRI)."""

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

RDF_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}
CONTENT_TYPES: dict[str, str] = {
    "application/sparql-results+json": "application/sparql-results+json",
    "application/sparql-results+xml": "application/sparql-results+xml; charset=utf-8",
    "text/csv": "text/csv; charset=utf-8",
    "text/tab-separated-values": "text/tab-separated-values; charset=utf-8",
    "text/turtle": "text/turtle; charset=utf-8",
    "application/n-triples": "application/n-triples",
    "application/ld+json": "application/ld+json",
    "application/rdf+xml": "application/rdf+xml; charset=utf-8",
    "application/trig": "application/trig; charset=utf-8",
    "application/n-quads": "application/n-quads",
}

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


def _xml_term(t) -> str:
    if isinstance(t, ox.NamedNode):
        return f"<uri>{escape(t.value)}</uri>"
    if isinstance(t, ox.BlankNode):
        return f"<bnode>{escape(t.value)}</bnode>"
    if isinstance(t, ox.Literal):
        if t.language:
            return f"<literal xml:lang={quoteattr(t.language)}>{escape(t.value)}</literal>"
        if t.datatype.value != XSD_STRING:
            return f"<literal datatype={quoteattr(t.datatype.value)}>{escape(t.value)}</literal>"
        return f"<literal>{escape(t.value)}</literal>"
    return (f"<triple><subject>{_xml_term(t.subject)}</subject><predicate>{_xml_term(t.predicate)}</predicate>"
            f"<object>{_xml_term(t.object)}</object></triple>")


_XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'


def select_xml(variables: list[str], rows: Iterable[Row]) -> bytes:
    out = [_XML_HEAD, "<head>", *(f"<variable name={quoteattr(v)}/>" for v in variables), "</head><results>"]
    for row in rows:
        out.append("<result>")
        out += [f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>" for v, t in zip(variables, row) if t is not None]
        out.append("</result>")
    out.append("</results></sparql>\n")
    return "".join(out).encode()


def _csv_cell(t) -> str:
    if t is None:
        return ""
    if isinstance(t, ox.BlankNode):
        v = "_:" + t.value
    elif isinstance(t, (ox.NamedNode, ox.Literal)):
        v = t.value
    else:
        v = str(t)
    if any(c in v for c in ',"\r\n'):
        v = '"' + v.replace('"', '""') + '"'
    return v


def select_csv(variables: list[str], rows: Iterable[Row]) -> bytes:
    lines = [",".join(variables)] + [",".join(_csv_cell(t) for t in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode()


def _tsv_cell(t) -> str:
    if t is None:
        return ""
    if isinstance(t, ox.Literal):
        dt = t.datatype.value
        if dt in ("http://www.w3.org/2001/XMLSchema#integer", "http://www.w3.org/2001/XMLSchema#decimal",
                  "http://www.w3.org/2001/XMLSchema#double", "http://www.w3.org/2001/XMLSchema#boolean"):
            return t.value
    return str(t).replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")  # N-Triples syntax


def select_tsv(variables: list[str], rows: Iterable[Row]) -> bytes:
    lines = ["\t".join("?" + v for v in variables)] + ["\t".join(_tsv_cell(t) for t in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


SELECT_WRITERS = {
    "application/sparql-results+json": select_json,
    "application/sparql-results+xml": select_xml,
    "text/csv": select_csv,
    "text/tab-separated-values": select_tsv,
}


def boolean(value: bool, media: str) -> bytes:
    if media == "application/sparql-results+json":
        return json.dumps({"head": {}, "boolean": value}).encode()
    if media == "application/sparql-results+xml":
        return f'{_XML_HEAD}<head/><boolean>{"true" if value else "false"}</boolean></sparql>\n'.encode()
    # CSV/TSV have no boolean form in the spec; answer the same way as Jena and Oxigraph do.
    header = "_askResult" if media == "text/csv" else "?_askResult"
    return f"{header}\n{'true' if value else 'false'}\n".encode()


def graph(triples: Iterable[ox.Triple], media: str) -> bytes:
    fmt = RDF_FORMATS[media]
    if fmt in (ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS):
        triples = (ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG):  # readable: the project's prefixes
        return ox.serialize(triples, format=fmt, prefixes=TURTLE_PREFIXES) or b""
    return ox.serialize(triples, format=fmt) or b""
