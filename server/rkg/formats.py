"""Every media type the project reads or writes, in one table.

One :class:`Format` per format: its media type, the other media types clients send for it (aliases),
the short names of the ``format=``/``output=``/``results=`` parameters, its file extensions, the
``Content-Type`` it is sent with, and its IRI in the W3C format registry (``http://www.w3.org/ns/formats/``,
used by the Service Description). pyoxigraph's :class:`~pyoxigraph.QueryResultsFormat` and
:class:`~pyoxigraph.RdfFormat` give the media type, extension and IRI where they know them; the rest is
written here. Every other module takes its tables from this one (``offered``, ``short_names``,
``content_type``, ``RDF_SUFFIXES``…).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

W3C_FORMATS = "http://www.w3.org/ns/formats/"


@dataclass(frozen=True)
class Format:
    media: str
    """The media type, without parameters."""
    kind: str
    """``results`` (SELECT/ASK), ``graph`` (RDF triples), ``dataset`` (RDF quads) or ``document`` (JSON,
    CSV, HTML answers of the API and pages)."""
    short: tuple[str, ...] = ()
    """Names accepted by ``format=``/``output=``/``results=``."""
    aliases: tuple[str, ...] = ()
    """Other media types clients send for this format."""
    extensions: tuple[str, ...] = ()
    """File extensions, with the dot; the first is the one written."""
    charset: bool = False
    """``; charset=utf-8`` in the Content-Type (text formats whose media type has no fixed encoding)."""
    iri: str | None = None
    """IRI of the format in the W3C registry."""
    rdf: ox.RdfFormat | None = None
    results: ox.QueryResultsFormat | None = None

    @property
    def content_type(self) -> str:
        return self.media + "; charset=utf-8" if self.charset else self.media


def _results(fmt: ox.QueryResultsFormat, short: tuple[str, ...], aliases: tuple[str, ...] = (), charset: bool = True) -> Format:
    return Format(fmt.media_type.partition(";")[0].strip(), "results", short, aliases, ("." + fmt.file_extension,),
                  charset, fmt.iri, results=fmt)


def _rdf(fmt: ox.RdfFormat, kind: str, short: tuple[str, ...], aliases: tuple[str, ...] = (), extra: tuple[str, ...] = (),
         charset: bool = False, iri: str | None = None) -> Format:
    return Format(fmt.media_type, kind, short, aliases, ("." + fmt.file_extension, *extra), charset, iri or fmt.iri, rdf=fmt)


RESULT_FORMATS: tuple[Format, ...] = (
    # application/json and application/xml name SPARQL results only where no plain JSON/XML is offered
    _results(ox.QueryResultsFormat.JSON, ("json", "srj"), ("application/json",), charset=False),
    _results(ox.QueryResultsFormat.XML, ("xml", "srx"), ("application/xml", "text/xml")),
    _results(ox.QueryResultsFormat.CSV, ("csv",)),
    _results(ox.QueryResultsFormat.TSV, ("tsv",)),
)
"""SPARQL 1.1 query results formats (SELECT and ASK); the first is the default."""

RDF_FORMATS_TABLE: tuple[Format, ...] = (
    _rdf(ox.RdfFormat.TURTLE, "graph", ("turtle", "ttl", "n3"), ("application/x-turtle",), charset=True),
    _rdf(ox.RdfFormat.N_TRIPLES, "graph", ("nt", "ntriples", "n-triples"), ("text/plain",)),
    # pyoxigraph gives https://www.w3.org/ns/formats/data/JSON-LD; the registry's IRI is this one
    _rdf(ox.RdfFormat.JSON_LD, "graph", ("jsonld", "json-ld", "json"), (), (".json",), iri=W3C_FORMATS + "JSON-LD"),
    _rdf(ox.RdfFormat.RDF_XML, "graph", ("rdfxml", "rdf", "rdf+xml", "xml"), (), (".owl",), charset=True),
    _rdf(ox.RdfFormat.TRIG, "dataset", ("trig",), ("application/x-trig",), charset=True),
    _rdf(ox.RdfFormat.N_QUADS, "dataset", ("nq", "nquads", "n-quads"), ("text/x-nquads",)),
)
"""RDF syntaxes (CONSTRUCT/DESCRIBE answers, graph store, files); the first is the default."""

JSON = Format("application/json", "document", ("json",), (), (".json",))
CSV = Format("text/csv", "document", ("csv",), (), (".csv",), charset=True)
HTML = Format("text/html", "document", ("html",), ("application/xhtml+xml",), (".html",), charset=True)
TEXT = Format("text/plain", "document", (), (), (".txt",), charset=True)
"""Error messages and other plain text."""
MARKDOWN = Format("text/markdown", "document", ("markdown", "md"), (), (".md",), charset=True)
"""Markdown (RFC 7763): the release notes of ``rkg diff`` and ``/diff``."""
XLSX = Format("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "document", ("xlsx",), (), (".xlsx",))
ODS = Format("application/vnd.oasis.opendocument.spreadsheet", "document", ("ods",), (), (".ods",))
"""Workbooks: Office Open XML (Excel) and OpenDocument (LibreOffice) spreadsheets."""
WORKBOOKS: dict[str, Format] = {"xlsx": XLSX, "ods": ODS}
"""The workbook formats by extension (without the dot): the tabular template, question answers, heat maps."""

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
"""Bodies of SPARQL protocol POSTs (read, never written)."""
XML = "application/xml"
"""Plain XML documents (the Orébut exports ``rkg import orebut`` reads); never offered in negotiation."""

ALL: tuple[Format, ...] = (*RESULT_FORMATS, *RDF_FORMATS_TABLE, JSON, CSV, HTML, TEXT, MARKDOWN, XLSX, ODS)
BY_MEDIA: dict[str, Format] = {f.media: f for f in reversed(ALL)}
"""Format of a media type (CSV: the SPARQL results format, which has the same type as the API's CSV)."""

SHORT_PARAMETERS = ("format", "output", "results")
"""Query parameters that name a format by short name or media type (SPARQLWrapper sends format=json…)."""

# Media types, by name, for the modules that pass them around as strings.
SPARQL_JSON = ox.QueryResultsFormat.JSON.media_type
SPARQL_XML = RESULT_FORMATS[1].media
SPARQL_CSV = RESULT_FORMATS[2].media
SPARQL_TSV = RESULT_FORMATS[3].media
TURTLE = ox.RdfFormat.TURTLE.media_type
N_TRIPLES = ox.RdfFormat.N_TRIPLES.media_type
JSON_LD = ox.RdfFormat.JSON_LD.media_type
RDF_XML = ox.RdfFormat.RDF_XML.media_type
TRIG = ox.RdfFormat.TRIG.media_type
N_QUADS = ox.RdfFormat.N_QUADS.media_type


def offered(formats: Iterable[Format | str]) -> dict[str, str]:
    """An offer for :func:`rkg.negotiation.negotiate`: media type → first short name, in preference order."""
    out = {}
    for f in formats:
        f = BY_MEDIA[f] if isinstance(f, str) else f
        out[f.media] = f.short[0] if f.short else f.media
    return out


RESULTS: dict[str, str] = offered(RESULT_FORMATS)
"""SELECT/ASK answers of the SPARQL protocol; the first is the default."""
GRAPHS: dict[str, str] = offered(RDF_FORMATS_TABLE)
"""CONSTRUCT/DESCRIBE answers and graph store GETs; the first is the default."""
SERVICE_DESCRIPTION: dict[str, str] = offered([TURTLE, RDF_XML, N_TRIPLES, JSON_LD])
"""Formats of the Service Description and VoID (the triple formats rdflib and browsers read)."""
ENTITY: dict[str, str] = offered([HTML, TURTLE, JSON_LD, N_TRIPLES, RDF_XML])
"""Linked-data pages: HTML for browsers, or the entity's description in RDF."""
API: dict[str, str] = offered([JSON, CSV, HTML, XLSX, ODS])
"""Answers of the named-query API (``/api/queries/NAME``); the first is the default."""
API_RESULTS: dict[str, str] = {JSON.media: SPARQL_JSON, CSV.media: SPARQL_CSV, HTML.media: SPARQL_JSON,
                               XLSX.media: SPARQL_JSON, ODS.media: SPARQL_JSON}
"""The SPARQL results format the executor writes for each API answer format."""
REPORTS: dict[str, str] = offered([JSON, TURTLE])
"""Formats of the 422 validation report; the first is the default."""

UPLOADS: dict[str, ox.RdfFormat] = {
    m: f.rdf for f in RDF_FORMATS_TABLE if f.kind == "graph" and f.rdf is not None for m in (f.media, *f.aliases)}
"""Media types accepted as Graph Store request bodies (RDF graphs; datasets are refused)."""

RDF_WRITERS: dict[str, ox.RdfFormat] = {f.media: f.rdf for f in RDF_FORMATS_TABLE if f.rdf is not None}
"""RDF formats pyoxigraph writes, by media type."""

RDF_SUFFIXES: dict[str, ox.RdfFormat] = {
    e: f.rdf for f in RDF_FORMATS_TABLE if f.rdf is not None for e in f.extensions if e != ".json"}
"""RDF files by extension (``.ttl``, ``.nt``, ``.nq``, ``.trig``, ``.rdf``, ``.owl``, ``.jsonld``)."""

CONTENT_TYPES: dict[str, str] = {f.media: f.content_type for f in (*RESULT_FORMATS, *RDF_FORMATS_TABLE)}
"""Content-Type header of each SPARQL results and RDF answer."""


def suffixes(*media: str) -> dict[str, ox.RdfFormat]:
    """The RDF file extensions of the given formats (e.g. the sources ``rkg build`` reads)."""
    return {e: fmt for e, fmt in RDF_SUFFIXES.items() if fmt.media_type in media}


def content_type(media: str) -> str:
    f = BY_MEDIA.get(media)
    return f.content_type if f else media


def aliases(offer: Iterable[str]) -> dict[str, str]:
    """Other media types clients send → the offered type they mean, for aliases that are not offered
    themselves (``application/json`` means SPARQL JSON results only where plain JSON is not offered)."""
    offer = list(offer)
    return {a: m for m in offer if m in BY_MEDIA for a in BY_MEDIA[m].aliases if a not in offer}


def from_short(name: str, offer: Iterable[str]) -> str | None:
    """The offered media type a ``format=`` value names: a short name, a media type or an alias."""
    name = name.strip().lower()
    offer = list(offer)
    if name in offer:
        return name
    alias = aliases(offer).get(name)
    if alias:
        return alias
    return next((m for m in offer if m in BY_MEDIA and name in BY_MEDIA[m].short), None)


def short_names(offer: Iterable[str]) -> list[str]:
    """Every ``format=`` short name of the offered media types."""
    return [s for m in offer if m in BY_MEDIA for s in BY_MEDIA[m].short]


def iri(media: str) -> str | None:
    f = BY_MEDIA.get(media)
    return f.iri if f else None
