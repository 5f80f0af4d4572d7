"""JSON-LD of the whole graph (the union of its named graphs), compacted with rkg's published context
(``rkg.context.jsonld``, served by ``rkg serve`` at ``/context.jsonld`` and named by its w3id IRI): the
prefixes of ``rkg.namespaces`` and language maps for SKOS labels."""

from __future__ import annotations

import json
from pathlib import Path

from rdflib import Graph

from .. import formats
from ..namespaces import BASE
from ..store import EmbeddedStore

CONTEXT_FILE = Path(__file__).parent / "rkg.context.jsonld"
CONTEXT_IRI = BASE + "context.jsonld"


def context() -> dict:
    return json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]


def export(store: EmbeddedStore) -> str:
    g = Graph().parse(data=store.union_ntriples(), format=formats.N_TRIPLES)
    doc = json.loads(g.serialize(format=formats.JSON_LD, context=context(), auto_compact=True))
    doc["@context"] = CONTEXT_IRI  # the published context, not a copy of it
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
