"""CTDL-ASN out (Credential Engine): the framework as a ``ceasn:CompetencyFramework`` and its blocks,
competencies and critical learnings (a BUT: compétences, niveaux de développement, critical learnings) as
``ceasn:Competency`` (JSON-LD with an inline context, so it reads offline). Hierarchy by
``ceasn:isTopChildOf``/``hasTopChild`` (blocks, a BUT's compétences) and ``isChildOf``/``hasChild``;
every competency has the properties CTDL-ASN requires: ``ceasn:competencyText`` (a language map),
``ceasn:inLanguage``, ``ceasn:isPartOf`` and ``ceterms:ctid`` (``ce-`` + a UUID 5 of the IRI, stable).
The kind is in ``ceasn:competencyCategory`` (« Niveau de développement » for a niveau); years of study in
``ceasn:educationLevelType`` (the period's IRI: ``rkg:M1``, ``…/period/BUT2``); the rank of a niveau and
the position of a critical learning in ``ceasn:listID``.
Not carried: evaluation modalities, teaching units, generic dimensions (CTDL-ASN has no place for them in
a framework); a BUT's parcours and which niveaux they select, composantes essentielles, situations
professionnelles, SAÉ, ressources and coefficients."""

from __future__ import annotations

import json
from typing import Any

from rdflib import Graph, Literal

from .. import formats
from ..namespaces import CEASN, CETERMS, RDF, RKG
from .framework import Framework, Node

CONTEXT = {"ceasn": str(CEASN), "ceterms": str(CETERMS), "rkg": str(RKG),
           "ceasn:competencyText": {"@container": "@language"}, "ceasn:name": {"@container": "@language"},
           "ceasn:competencyCategory": {"@container": "@language"},
           "ceasn:isPartOf": {"@type": "@id"}, "ceasn:isChildOf": {"@type": "@id"}, "ceasn:hasChild": {"@type": "@id", "@container": "@set"},
           "ceasn:isTopChildOf": {"@type": "@id"}, "ceasn:hasTopChild": {"@type": "@id", "@container": "@set"},
           "ceasn:educationLevelType": {"@type": "@id", "@container": "@set"}, "ceasn:inLanguage": {"@container": "@set"}}
CATEGORY = {"block": {"fr": "Bloc de compétences", "en": "Competency block"},
            "competency": {"fr": "Compétence", "en": "Competency"},
            "level": {"fr": "Niveau de développement", "en": "Development level"},
            "learning": {"fr": "Apprentissage critique", "en": "Critical learning"}}
CARRIED = ("block", "competency", "level", "learning")


def _ctid(node: Node) -> str:
    return "ce-" + node.uuid


def export(fw: Framework) -> str:
    langs = fw.languages
    tops = [t for t in fw.tops if t.kind in CARRIED]
    graph: list[dict[str, Any]] = [{
        "@id": fw.programme.iri, "@type": "ceasn:CompetencyFramework", "ceterms:ctid": _ctid(fw.programme),
        "ceasn:name": {k: v for k, v in fw.programme.labels.items() if k}, "ceasn:inLanguage": langs,
        "ceasn:codedNotation": fw.programme.code, "ceasn:hasTopChild": [t.iri for t in tops]}]
    for top in tops:
        graph.append(_competency(fw, top, langs, top=True))
        graph += [_competency(fw, node, langs, parent=parent.iri) for node, parent in fw.descendants(top, CARRIED)]
    return json.dumps({"@context": CONTEXT, "@graph": graph}, ensure_ascii=False, indent=1) + "\n"


def _competency(fw: Framework, node: Node, langs: list[str], top: bool = False, parent: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"@id": node.iri, "@type": "ceasn:Competency", "ceterms:ctid": _ctid(node),
                           "ceasn:competencyText": {k: v for k, v in node.labels.items() if k},
                           "ceasn:inLanguage": langs, "ceasn:isPartOf": fw.programme.iri,
                           "ceasn:codedNotation": node.code, "ceasn:competencyCategory": CATEGORY[node.kind]}
    if node.kind in ("level", "learning") and node.position is not None:
        out["ceasn:listID"] = str(node.position)
    if top:
        out["ceasn:isTopChildOf"] = fw.programme.iri
    children = [c.iri for c in fw.children(node.iri) if c.kind in CARRIED]
    if top or children:
        out["ceasn:hasChild"] = children
    if parent:
        out["ceasn:isChildOf"] = parent
    if node.levels:
        out["ceasn:educationLevelType"] = [fw.period_iri(level) for level in sorted(node.levels)]
    return out


def read_back(text: str) -> Framework:
    """The framework a CTDL-ASN document describes (for round-trip and loss checks)."""
    g = Graph().parse(data=text, format=formats.JSON_LD)
    kinds = {v["en"]: k for k, v in CATEGORY.items()}
    fw_iri = next(g.subjects(RDF.type, CEASN.CompetencyFramework))
    programme = Node(str(fw_iri), "programme", code=str(g.value(fw_iri, CEASN.codedNotation) or ""),
                     labels={o.language or "": str(o) for o in g.objects(fw_iri, CEASN.name)})
    nodes = {}
    for c in g.subjects(RDF.type, CEASN.Competency):
        kind = next(kinds[str(o)] for o in g.objects(c, CEASN.competencyCategory) if isinstance(o, Literal) and o.language == "en")
        parent = g.value(c, CEASN.isChildOf) or g.value(c, CEASN.isTopChildOf)
        position = g.value(c, CEASN.listID)
        nodes[str(c)] = Node(str(c), kind, str(parent), str(g.value(c, CEASN.codedNotation) or ""),
                             {o.language or "": str(o) for o in g.objects(c, CEASN.competencyText)},
                             int(position) if position is not None else None,
                             levels={str(o).rsplit("#", 1)[-1].rsplit("/", 1)[-1] for o in g.objects(c, CEASN.educationLevelType)})
    return Framework(programme, nodes)
