"""Linked Data: every IRI of the graph has a page here, and the same URL gives RDF by content negotiation.

One rule maps IRIs to this server (README, « Linked Data »): an IRI under ``https://w3id.org/rkg/``
without a fragment is served at the same path here (``…/rkg/id/rncp31854-pif/block/BC01`` →
``/id/rncp31854-pif/block/BC01``); any other IRI (ontology terms with ``#``, external IRIs) at
``/resource?iri=<IRI>``. ``Accept`` chooses HTML (browsers), Turtle, JSON-LD, N-Triples or RDF/XML;
``?format=`` overrides it (``html``, ``turtle``, ``jsonld``, ``nt``, ``rdf``).

Every link target of the pages comes from the helpers here (template globals): ``href`` (this site's
page of any IRI), ``external`` (the IRI itself, only when it is an ``http``/``https`` IRI: any other
scheme — ``javascript:``, ``data:``, ``vbscript:``, ``file:``, ``urn:``, ``mailto:``… — stays text) and
``local_url`` (a URL of this site, never one that leaves it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request

from ..namespaces import BASE, DCTERMS, OWL, PREFIXES, RDF_TYPE, RDFS, SKOS, natural
from .. import formats
from ..formats import CONTENT_TYPES, HTML
from ..formats import ENTITY as OFFERS
from ..negotiation import negotiate
from . import reads
from .errors import HttpError
from .reads import Value
from .state import EndpointState

blueprint = Blueprint("linked_data", __name__)

LABEL_PROPERTIES = {SKOS + "prefLabel", RDFS + "label", DCTERMS + "title"}
NOTATION = SKOS + "notation"
TYPE = RDF_TYPE
OWL_ONTOLOGY = OWL + "Ontology"
FIRST = {p: i for i, p in enumerate([SKOS + "prefLabel", RDFS + "label", DCTERMS + "title", NOTATION, SKOS + "altLabel",
                                     RDFS + "comment"])}
"""Properties shown first on a page, in this order; the others follow by their prefixed name."""
LOCAL_ROOTS = ("id", "graph", "ontology")
"""First path segments of the IRIs under BASE that this server answers at the same path."""


WEB_IRI = re.compile(r"https?://[^\x00-\x20\x7f/?#\\]+([/?#][^\x00-\x20\x7f]*)?", re.IGNORECASE)
"""An ``http``/``https`` IRI with a host, without spaces or control characters (browsers drop tabs and
newlines inside a URL and strip control characters around it: ``" java\\tscript:…"`` is ``javascript:``)."""


@blueprint.app_template_global()
def href(iri: str) -> str:
    """Where this server shows ``iri``: a path of this site whatever the IRI (any scheme, any characters)."""
    if iri.startswith(BASE) and "#" not in iri and iri[len(BASE):].split("/", 1)[0] in LOCAL_ROOTS:
        return "/" + iri[len(BASE):]  # "/id/…", "/graph/…", "/ontology…": a path here, never "//host"
    return "/resource?iri=" + quote(iri, safe="")


@blueprint.app_template_global()
def external(iri: str) -> str | None:
    """``iri`` itself as a link target leaving this site when it is a web address (``http``, ``https``),
    else None: the page shows it as text, never as an ``href``."""
    return iri if WEB_IRI.fullmatch(iri) else None


@blueprint.app_template_global()
def local_url(url: str) -> str:
    """``url`` (a path of this site with its query, percent-escapes kept) as a link that cannot leave the
    site: leading slashes are one (``//host/…`` would be another host), and spaces, control characters
    and backslashes are escaped (browsers drop or turn some into ``/``)."""
    path, sep, query = url.partition("?")
    path = quote(path, safe="/%!$&'()*+,;=:@-._~")
    return "/" + path.lstrip("/") + sep + quote(query, safe="/?%!$&'()*+,;=:@-._~")


def curie(iri: str) -> str:
    """``skos:prefLabel`` for a known namespace, else the IRI."""
    best = max(((p, ns) for p, ns in PREFIXES.items() if iri.startswith(ns)), key=lambda x: len(x[1]), default=None)
    return f"{best[0]}:{iri[len(best[1]):]}" if best else iri


@dataclass
class Link:
    property: str
    property_labels: dict[str, str]
    value: Value
    labels: dict[str, str] = field(default_factory=dict)
    code: str = ""
    graphs: set[str] = field(default_factory=set)


@dataclass
class Interpretation:
    property: str
    property_labels: dict[str, str]
    value: str
    reasons: dict[str, str]
    derived_from: list[str]
    graph: str


@dataclass
class Term:
    iri: str
    type: str
    labels: dict[str, str]
    comments: dict[str, str]

    @property
    def anchor(self) -> str:
        return self.iri.rsplit("#", 1)[-1]


@dataclass
class Entity:
    iri: str
    labels: dict[str, str]
    codes: list[str]
    types: list[Link]
    out: dict[str, list[Link]]
    """Property IRI → its values (labels and codes shown in the header are kept here too)."""
    inward: dict[str, list[Link]]
    graphs: dict[str, str]
    """Named graphs stating something about the entity → their source file."""
    interpretations: list[Interpretation]
    terms: list[Term] = field(default_factory=list)
    """For an ontology: the terms of its hash namespace (the page hash IRIs resolve to)."""
    anonymous: dict[str, tuple[dict[str, str], int]] = field(default_factory=dict)
    """Property → (its labels, how many blank nodes link to the entity with it)."""

    @property
    def known(self) -> bool:
        return bool(self.types or self.out or self.inward or self.anonymous)


def _links(rows: list[dict[str, Value]], prop: str, target: str, target_label: str, target_code: str) -> dict[str, list[Link]]:
    grouped: dict[tuple[str, str, str, str, str], Link] = {}
    for r in rows:
        value = r[target]
        key = (r[prop].value, value.kind, value.value, value.lang, value.datatype)
        link = grouped.get(key)
        if link is None:
            link = grouped[key] = Link(r[prop].value, {}, value)
        if "plabel" in r:
            link.property_labels.setdefault(r["plabel"].lang, r["plabel"].value)
        if target_label in r:
            link.labels.setdefault(r[target_label].lang, r[target_label].value)
        if target_code in r:
            link.code = r[target_code].value
        link.graphs.add(r["g"].value)
    out: dict[str, list[Link]] = {}
    for link in sorted(grouped.values(), key=lambda x: (FIRST.get(x.property, len(FIRST)), curie(x.property))):
        out.setdefault(link.property, []).append(link)
    for links in out.values():
        links.sort(key=lambda x: (natural(x.code or x.value.value), x.value.lang))
    return out


def describe(state: EndpointState, iri: str) -> Entity:
    this = ox.NamedNode(iri)
    out_rows = reads.select(state, "entity-out", this=this)
    in_rows = reads.select(state, "entity-in", this=this)
    out = _links(out_rows, "p", "o", "olabel", "ocode")
    inward = _links(in_rows, "p", "s", "slabel", "scode")
    labels: dict[str, str] = {}
    for prop in LABEL_PROPERTIES:
        for link in out.get(prop, []):
            labels.setdefault(link.value.lang, link.value.value)
    codes = [link.value.value for link in out.get(NOTATION, [])]
    files = {r["graph"].value: r["file"].value for r in reads.select(state, "graphs") if "file" in r}
    used = {g for links in (*out.values(), *inward.values()) for link in links for g in link.graphs}
    interpretations: dict[str, Interpretation] = {}
    for r in reads.select(state, "entity-axioms", this=this):
        it = interpretations.setdefault(r["axiom"].value, Interpretation(
            r["p"].value, {}, r["o"].value, {}, [], r["g"].value))
        if "plabel" in r:
            it.property_labels.setdefault(r["plabel"].lang, r["plabel"].value)
        if "reason" in r:
            it.reasons.setdefault(r["reason"].lang, r["reason"].value)
        if "from" in r and r["from"].value not in it.derived_from:
            it.derived_from.append(r["from"].value)
    types = out.pop(TYPE, [])
    terms: dict[str, Term] = {}
    if any(t.value.value == OWL_ONTOLOGY for t in types):
        for r in reads.select(state, "ontology-terms", this=this):
            term = terms.setdefault(r["term"].value, Term(r["term"].value, r["type"].value, {}, {}))
            if "label" in r:
                term.labels.setdefault(r["label"].lang, r["label"].value)
            if "comment" in r:
                term.comments.setdefault(r["comment"].lang, r["comment"].value)
    anonymous: dict[str, tuple[dict[str, str], int]] = {}
    for r in reads.select(state, "entity-in-anonymous", this=this):
        labels_of, n = anonymous.get(r["p"].value, ({}, int(r["n"].value)))
        if "plabel" in r:
            labels_of.setdefault(r["plabel"].lang, r["plabel"].value)
        anonymous[r["p"].value] = (labels_of, n)
    return Entity(iri, labels, codes, types, out, inward, {g: files.get(g, "") for g in sorted(used)},
                  sorted(interpretations.values(), key=lambda i: (i.property, natural(i.value))),
                  sorted(terms.values(), key=lambda t: (t.type, t.anchor)), anonymous)


def _state() -> EndpointState:
    return current_app.extensions["rkg"]


def chosen(offers: dict[str, str]) -> str:
    """The format of the answer: ``?format=`` (a short name, checked: 400) or else ``Accept`` (406)."""
    asked = request.args.get("format")
    if asked and formats.from_short(asked, offers) is None:
        raise HttpError(400, f"format must be one of {', '.join(formats.short_names(offers))}")
    media = negotiate(request.headers.get("Accept"), offers, asked)
    if media is None:
        raise HttpError(406, "offered: " + ", ".join(offers))
    return media


def answer(iri: str) -> Response:
    try:
        ox.NamedNode(iri)
    except ValueError:
        raise HttpError(400, f"not an absolute IRI: {iri!r}")
    media = chosen(OFFERS)
    state = _state()
    if media != HTML.media:
        if not reads.select(state, "entity-known", this=ox.NamedNode(iri)):
            raise HttpError(404, f"nothing is known about <{iri}> in this graph")
        graph = reads.construct(state, "entity-describe", media, this=ox.NamedNode(iri))
        return Response(graph.body, headers={"Content-Type": CONTENT_TYPES[media], "Vary": "Accept",
                                             "Link": f'<{iri}>; rel="describes"'})
    entity = describe(state, iri)
    page = render_template("entity.html", entity=entity, formats=[("turtle", "Turtle"), ("jsonld", "JSON-LD"),
                                                                   ("nt", "N-Triples"), ("rdf", "RDF/XML")])
    return Response(page, 200 if entity.known else 404, headers={"Vary": "Accept, Accept-Language, Cookie"},
                    mimetype=HTML.media)


def _raw_path() -> str:
    """The request path as sent (percent-escapes kept), so that the IRI is the one minted."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        return raw.split("?", 1)[0].removeprefix(request.script_root)
    return quote(request.path, safe="/-._~!$&'()*+,;=:@%")


@blueprint.get("/id/<path:rest>")
@blueprint.get("/graph/<path:rest>")
@blueprint.get("/ontology", defaults={"rest": ""})
@blueprint.get("/ontology/<path:rest>")
def local(rest: str) -> Response:
    return answer(BASE + _raw_path().lstrip("/"))


@blueprint.get("/resource")
def resource() -> Response:
    iri = request.args.get("iri", "")
    if not iri:
        raise HttpError(400, "give the IRI to describe: /resource?iri=<IRI>")
    return answer(iri)
