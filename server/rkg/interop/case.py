"""CASE out (1EdTech Competencies and Academic Standards Exchange 1.0): a ``CFPackage`` with the framework
as ``CFDocument``, blocks, competencies and critical learnings (a BUT: compétences, niveaux de
développement, critical learnings) as ``CFItems`` (``humanCodingScheme`` the code, ``fullStatement`` the
French text, ``CFItemType`` the kind — « Niveau de développement » for a niveau —, ``educationLevel`` the
years of study by their codes: M1, BUT2; ``listEnumeration`` the rank of a niveau or the position of a
critical learning), and ``isChildOf`` ``CFAssociations`` for the hierarchy (``sequenceNumber`` the same
rank or position). Identifiers are UUID 5 of the IRIs (stable).
Not carried: the English labels (``fullStatement`` is one string; the language is in ``language``),
evaluation modalities, teaching units, generic dimensions; a BUT's parcours and their selections,
composantes essentielles, situations professionnelles, SAÉ, ressources and coefficients, the periods'
IRIs and semesters."""

from __future__ import annotations

import json
from typing import Any

from .framework import Framework, Node

TYPES = {"block": "Bloc de compétences", "competency": "Compétence", "level": "Niveau de développement",
         "learning": "Apprentissage critique"}
STAMP = "2026-11-29T00:00:00+00:00"
"""lastChangeDateTime (required by CASE): the date of the transcription's version, the same on every run."""


def _link(node: Node, title: str) -> dict[str, str]:
    return {"title": title, "identifier": node.uuid, "uri": node.iri}


def export(fw: Framework, lang: str = "fr") -> str:
    doc = fw.programme
    items: list[dict[str, Any]] = []
    associations: list[dict[str, Any]] = []
    for top in fw.tops:
        if top.kind not in TYPES:
            continue
        for node, parent in [(top, doc), *fw.descendants(top, tuple(TYPES))]:
            item: dict[str, Any] = {"identifier": node.uuid, "uri": node.iri, "fullStatement": node.label(lang),
                                    "CFItemType": TYPES[node.kind], "language": lang,
                                    "lastChangeDateTime": STAMP, "CFDocumentURI": _link(doc, doc.label(lang))}
            if node.code:
                item["humanCodingScheme"] = node.code
            ordered = node.kind in ("level", "learning") and node.position is not None
            if ordered:
                item["listEnumeration"] = str(node.position)
            if node.levels:
                item["educationLevel"] = sorted(node.levels)
            items.append(item)
            key = f"{node.iri} isChildOf {parent.iri}"
            association = {"identifier": Node(key, "association").uuid, "associationType": "isChildOf",
                           "uri": f"{node.iri}#isChildOf", "lastChangeDateTime": STAMP,
                           "originNodeURI": _link(node, node.label(lang)),
                           "destinationNodeURI": _link(parent, parent.label(lang)),
                           "CFDocumentURI": _link(doc, doc.label(lang))}
            if ordered:
                association["sequenceNumber"] = node.position
            associations.append(association)
    package = {"CFDocument": {"identifier": doc.uuid, "uri": doc.iri, "creator": "rkg", "title": doc.label(lang),
                              "lastChangeDateTime": STAMP, "humanCodingScheme": doc.code, "language": lang},
               "CFItems": items, "CFAssociations": associations}
    return json.dumps(package, ensure_ascii=False, indent=1) + "\n"


def read_back(text: str) -> Framework:
    package = json.loads(text)
    doc = package["CFDocument"]
    kinds = {v: k for k, v in TYPES.items()}
    parents = {a["originNodeURI"]["uri"]: a["destinationNodeURI"]["uri"] for a in package["CFAssociations"]
               if a["associationType"] == "isChildOf"}
    nodes = {i["uri"]: Node(i["uri"], kinds[i["CFItemType"]], parents.get(i["uri"]), i.get("humanCodingScheme", ""),
                            {i.get("language", ""): i["fullStatement"]},
                            int(i["listEnumeration"]) if "listEnumeration" in i else None, set(i.get("educationLevel", [])))
             for i in package["CFItems"]}
    return Framework(Node(doc["uri"], "programme", code=doc.get("humanCodingScheme", ""), labels={doc.get("language", ""): doc["title"]}), nodes)
