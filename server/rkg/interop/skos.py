"""SKOS out: the framework as a ``skos:ConceptScheme`` (the programme) whose top concepts are the blocks,
with the competencies and critical learnings ``skos:narrower`` of their block; labels in every language,
codes as ``skos:notation``, and the SKOS mappings the graph holds for them (ESCO, data/mappings). Turtle.
A BUT: its compétences are the top concepts, their niveaux narrower, each niveau's critical learnings
narrower still.
Not carried: the kinds (all are concepts), years of study, evaluation modalities, teaching units; a BUT's
parcours, niveau ranks, composantes, situations, SAÉ, ressources, coefficients."""

from __future__ import annotations

import pyoxigraph as ox

from ..namespaces import PREFIXES, RDF_TYPE, SKOS, prologue
from ..store import Store
from .framework import Framework

MATCHES = ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")
CARRIED = ("block", "competency", "level", "learning")
MAPPINGS = prologue("skos") + """SELECT ?p ?o WHERE { ?s ?p ?o . VALUES ?p { skos:exactMatch skos:closeMatch skos:broadMatch skos:narrowMatch skos:relatedMatch } }"""


def triples(fw: Framework, store: Store | None = None) -> list[ox.Triple]:
    def t(s: str, p: str, o) -> ox.Triple:
        return ox.Triple(ox.NamedNode(s), ox.NamedNode(SKOS + p if ":" not in p else p), o)

    scheme = fw.programme.iri
    out = [t(scheme, RDF_TYPE, ox.NamedNode(SKOS + "ConceptScheme"))]
    out += [t(scheme, "prefLabel", ox.Literal(v, language=k or None)) for k, v in fw.programme.labels.items()]
    if fw.programme.code:
        out.append(t(scheme, "notation", ox.Literal(fw.programme.code)))
    nodes = [n for n in fw.nodes.values() if n.kind in CARRIED]
    for n in nodes:
        out += [t(n.iri, RDF_TYPE, ox.NamedNode(SKOS + "Concept")), t(n.iri, "inScheme", ox.NamedNode(scheme))]
        out += [t(n.iri, "notation", ox.Literal(n.code))] if n.code else []
        out += [t(n.iri, "prefLabel", ox.Literal(v, language=k or None)) for k, v in n.labels.items()]
        if n.parent == scheme:  # a block (a Master), a compétence (a BUT)
            out += [t(n.iri, "topConceptOf", ox.NamedNode(scheme)), t(scheme, "hasTopConcept", ox.NamedNode(n.iri))]
        else:
            out += [t(n.iri, "broader", ox.NamedNode(n.parent or scheme)), t(n.parent or scheme, "narrower", ox.NamedNode(n.iri))]
    if store is not None:
        for n in nodes:
            table = store.select(MAPPINGS, {"s": ox.NamedNode(n.iri)})
            out += [ox.Triple(ox.NamedNode(n.iri), p, o) for p, o in table.rows]
    return out


def export(fw: Framework, store: Store | None = None) -> str:
    return ox.serialize(triples(fw, store), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES).decode()
