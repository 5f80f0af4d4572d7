"""SPARQL 1.1 Service Description and VoID description of the served dataset."""

from __future__ import annotations

import pyoxigraph as ox

from .. import formats
from ..formats import GRAPHS, RESULTS
from ..namespaces import DCTERMS as DCT, RKG, RDF_TYPE as _RDF_TYPE, SD, VOID, XSD

RDF_TYPE = ox.NamedNode(_RDF_TYPE)
XSD_INT = ox.NamedNode(XSD + "integer")
def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _int(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=XSD_INT)


def service_description(endpoint: str, stats: dict, writable: bool, version: str, federation: bool) -> list[ox.Triple]:
    s = _n(endpoint)
    t: list[ox.Triple] = [
        ox.Triple(s, RDF_TYPE, _n(SD + "Service")),
        ox.Triple(s, _n(SD + "endpoint"), s),
        ox.Triple(s, _n(SD + "supportedLanguage"), _n(SD + "SPARQL11Query")),
        ox.Triple(s, _n(SD + "feature"), _n(SD + "UnionDefaultGraph")),
        ox.Triple(s, _n(DCT + "description"), ox.Literal(
            "rkg SPARQL endpoint. The default graph is the union of all named graphs. Graph version " + version, language="en")),
    ]
    if writable:
        t.append(ox.Triple(s, _n(SD + "supportedLanguage"), _n(SD + "SPARQL11Update")))
    if federation:  # SERVICE is refused unless an allow-list is configured
        t.append(ox.Triple(s, _n(SD + "feature"), _n(SD + "BasicFederatedQuery")))
    for media in (*RESULTS, *GRAPHS):
        t.append(ox.Triple(s, _n(SD + "resultFormat"), _n(formats.iri(media))))
    dataset, default = ox.BlankNode(), ox.BlankNode()
    t += [
        ox.Triple(s, _n(SD + "defaultDataset"), dataset),
        ox.Triple(dataset, RDF_TYPE, _n(SD + "Dataset")),
        ox.Triple(dataset, _n(SD + "defaultGraph"), default),
        ox.Triple(default, RDF_TYPE, _n(SD + "Graph")),
        ox.Triple(default, RDF_TYPE, _n(VOID + "Dataset")),
        ox.Triple(default, _n(VOID + "triples"), _int(stats["triples"])),
    ]
    for g, n in sorted(stats["graphs"].items()):
        named, graph = ox.BlankNode(), ox.BlankNode()
        t += [
            ox.Triple(dataset, _n(SD + "namedGraph"), named),
            ox.Triple(named, RDF_TYPE, _n(SD + "NamedGraph")),
            ox.Triple(named, _n(SD + "name"), _n(g)),
            ox.Triple(named, _n(SD + "graph"), graph),
            ox.Triple(graph, RDF_TYPE, _n(SD + "Graph")),
            ox.Triple(graph, _n(VOID + "triples"), _int(n)),
        ]
    return t


def void_description(base: str, endpoint: str, stats: dict, version: str) -> list[ox.Triple]:
    d = _n(base + "/.well-known/void#dataset")
    t = [
        ox.Triple(d, RDF_TYPE, _n(VOID + "Dataset")),
        ox.Triple(d, _n(DCT + "title"), ox.Literal("rkg: knowledge graph of competency frameworks", language="en")),
        ox.Triple(d, _n(DCT + "hasVersion"), ox.Literal(version)),
        ox.Triple(d, _n(VOID + "sparqlEndpoint"), _n(endpoint)),
        ox.Triple(d, _n(VOID + "triples"), _int(stats["triples"])),
        ox.Triple(d, _n(VOID + "uriSpace"), ox.Literal("https://w3id.org/rkg/id/")),
        ox.Triple(d, _n(VOID + "vocabulary"), _n(str(RKG))),
    ]
    for g, n in sorted(stats["graphs"].items()):
        sub = _n(g)
        t += [
            ox.Triple(d, _n(VOID + "subset"), sub),
            ox.Triple(sub, RDF_TYPE, _n(VOID + "Dataset")),
            ox.Triple(sub, _n(SD + "name"), sub),
            ox.Triple(sub, _n(VOID + "triples"), _int(n)),
        ]
    return t
