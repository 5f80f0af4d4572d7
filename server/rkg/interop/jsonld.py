"""JSON-LD of the whole graph (the union of its named graphs), compacted with rkg's published context
(``rkg.context.jsonld``, served by ``rkg serve`` at ``/context.jsonld`` and named by its w3id IRI): the
prefixes of ``rkg.namespaces``, language maps for SKOS labels, and the types a JSON-LD 1.1 processor
needs to read the values back as the graph holds them.

Values are written with the lexical form the graph holds: the rdflib graph handed to the serializer is
built term by term from the store's N-Triples without rdflib's literal normalisation (which rewrites
``…Z`` times as ``…+00:00``); a typed value the context does not type is written ``{"@value": …,
"@type": …}``, a string kept as written. Doubles get a term typed ``xsd:double`` in the context
(``"confidence": "0.9"``): as a JSON number, a JSON-LD processor reads ``0.0`` as the integer ``0``
(JSON-LD 1.1, « Conversion of Native Data Types »). Integers stay JSON numbers, which JSON-LD reads as
``xsd:integer`` in their canonical form, the form the graph holds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from .. import formats
from ..namespaces import BASE, RDF_LANGSTRING, XSD
from ..store import EmbeddedStore

CONTEXT_FILE = Path(__file__).parent / "rkg.context.jsonld"
CONTEXT_IRI = BASE + "context.jsonld"
_PLAIN = {str(XSD.string), RDF_LANGSTRING}


def context() -> dict:
    return json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]


def _term(t: ox.NamedNode | ox.BlankNode | ox.Literal) -> Node:
    """The rdflib term of a pyoxigraph term, a literal's lexical form unchanged (``normalize=False``)."""
    if isinstance(t, ox.NamedNode):
        return URIRef(t.value)
    if isinstance(t, ox.BlankNode):
        return BNode(t.value)
    datatype = None if t.datatype.value in _PLAIN else URIRef(t.datatype.value)
    return Literal(t.value, lang=t.language, datatype=datatype, normalize=False)


def graph(store: EmbeddedStore) -> Graph:
    """The union of the store's graphs as an rdflib graph, literals as the store holds them."""
    g = Graph()
    for t in ox.parse(store.union_ntriples(), format=ox.RdfFormat.N_TRIPLES):
        g.add((_term(t.subject), _term(t.predicate), _term(t.object)))
    return g


def export(store: EmbeddedStore) -> str:
    doc = json.loads(graph(store).serialize(format=formats.JSON_LD, context=context(), auto_compact=True))
    doc["@context"] = CONTEXT_IRI  # the published context, not a copy of it
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
