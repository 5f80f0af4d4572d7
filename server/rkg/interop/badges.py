"""Open Badges 3.0 out: one ``Achievement`` per block (JSON-LD), as the Master validates competencies with
open badges. ``criteria.narrative`` lists the block's evaluation modalities; ``alignment`` points at the
block's IRI, at each of its competencies, and at the ESCO concepts they are mapped to (data/mappings).
A BUT: one ``Achievement`` per compétence (its numero, short name, and the alignment to it).
Not carried: critical learnings and their years of study, teaching units, generic dimensions; a BUT's
niveaux, parcours, SAÉ, ressources, coefficients."""

from __future__ import annotations

import json
from typing import Any

import pyoxigraph as ox

from ..namespaces import ESCO_DATA, prologue
from ..store import Store
from .framework import Framework

CONTEXT = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
MAPPINGS = prologue("skos", "owl", "sssom") + f"""SELECT ?concept ?label WHERE {{
  ?entity skos:exactMatch|skos:closeMatch|skos:relatedMatch|skos:broadMatch|skos:narrowMatch ?concept .
  FILTER(STRSTARTS(STR(?concept), "{ESCO_DATA}"))
  OPTIONAL {{ ?ax owl:annotatedSource ?entity ; owl:annotatedTarget ?concept ; sssom:object_label ?label }}
}}"""


def achievements(fw: Framework, store: Store | None = None, lang: str = "fr") -> list[dict[str, Any]]:
    out = []
    for block in fw.tops:  # the blocks (a Master), the compétences (a BUT)
        modalities = [m.label(lang) for m in fw.children(block.iri, "modality")]
        alignment = [_align(block.label(lang), block.iri, fw.programme.label(lang), block.code, "ceasn:Competency")]
        for c in fw.children(block.iri, "competency"):
            alignment.append(_align(c.label(lang), c.iri, fw.programme.label(lang), c.code, "ceasn:Competency"))
            if store is not None:
                for concept, label in store.select(MAPPINGS, {"entity": ox.NamedNode(c.iri)}).values():
                    alignment.append(_align(label or concept, concept, "ESCO", concept.rsplit("/", 1)[-1], "ext:ESCO"))
        out.append({
            "@context": CONTEXT, "id": block.iri, "type": ["Achievement"], "achievementType": "Competency",
            "name": block.label(lang), "description": f"{block.code} — {block.label(lang)}",
            "humanCode": block.code, "inLanguage": lang,
            "criteria": {"narrative": "\n".join(f"- {m}" for m in modalities) or block.label(lang)},
            "alignment": _unique(alignment),
        })
    return out


def _align(name: str, url: str, framework: str, code: str, kind: str) -> dict[str, str]:
    return {"type": ["Alignment"], "targetName": name, "targetUrl": url, "targetFramework": framework,
            "targetCode": code, "targetType": kind}


def _unique(items: list[dict[str, str]]) -> list[dict[str, str]]:
    seen, out = set(), []
    for a in items:
        if a["targetUrl"] not in seen:
            seen.add(a["targetUrl"])
            out.append(a)
    return out


def export(fw: Framework, store: Store | None = None) -> str:
    return json.dumps(achievements(fw, store), ensure_ascii=False, indent=1) + "\n"
