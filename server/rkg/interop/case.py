"""CASE out (1EdTech Competencies and Academic Standards Exchange 1.0): a ``CFPackage`` with the framework
as ``CFDocument``, blocks, competencies and critical learnings as ``CFItems`` (``humanCodingScheme`` the
code, ``fullStatement`` the French text, ``CFItemType`` the kind, ``educationLevel`` the years of study),
and ``isChildOf`` ``CFAssociations`` for the hierarchy. Identifiers are UUID 5 of the IRIs (stable).
Not carried: the English labels (``fullStatement`` is one string; the language is in ``language``),
evaluation modalities, teaching units, generic dimensions."""

from __future__ import annotations

import json
from typing import Any

from .framework import Framework, Node

TYPES = {"block": "Bloc de compétences", "competency": "Compétence", "learning": "Apprentissage critique"}
STAMP = "2026-11-29T00:00:00+00:00"
"""lastChangeDateTime (required by CASE): the date of the transcription's version, the same on every run."""


def _link(node: Node, title: str) -> dict[str, str]:
    return {"title": title, "identifier": node.uuid, "uri": node.iri}


def export(fw: Framework, lang: str = "fr") -> str:
    doc = fw.programme
    items: list[dict[str, Any]] = []
    associations: list[dict[str, Any]] = []
    for block in fw.blocks:
        for node, parent in [(block, doc), *((c, block) for c in fw.children(block.iri) if c.kind in TYPES)]:
            item: dict[str, Any] = {"identifier": node.uuid, "uri": node.iri, "fullStatement": node.label(lang),
                                    "humanCodingScheme": node.code, "CFItemType": TYPES[node.kind], "language": lang,
                                    "lastChangeDateTime": STAMP, "CFDocumentURI": _link(doc, doc.label(lang))}
            if node.levels:
                item["educationLevel"] = sorted(node.levels)
            items.append(item)
            key = f"{node.iri} isChildOf {parent.iri}"
            associations.append({"identifier": Node(key, "association").uuid, "associationType": "isChildOf",
                                 "uri": f"{node.iri}#isChildOf", "lastChangeDateTime": STAMP,
                                 "originNodeURI": _link(node, node.label(lang)),
                                 "destinationNodeURI": _link(parent, parent.label(lang)),
                                 "CFDocumentURI": _link(doc, doc.label(lang))})
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
                            {i.get("language", ""): i["fullStatement"]}, levels=set(i.get("educationLevel", [])))
             for i in package["CFItems"]}
    return Framework(Node(doc["uri"], "programme", code=doc.get("humanCodingScheme", ""), labels={doc.get("language", ""): doc["title"]}), nodes)
