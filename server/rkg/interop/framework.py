"""One programme's framework as the exporters see it: a tree read from the Store with one query
(``sparql/framework.rq``), and compared with what a format reads back (the loss tests)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from ..namespaces import natural, programme_iri
from ..store import Store

QUERY = (Path(__file__).parent / "sparql" / "framework.rq").read_text(encoding="utf-8")
KINDS = ("block", "competency", "learning", "modality")


@dataclass
class Node:
    iri: str
    kind: str
    """``programme``, ``block``, ``competency``, ``learning`` (critical learning) or ``modality``."""
    parent: str | None = None
    code: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    position: int | None = None
    levels: set[str] = field(default_factory=set)
    """Years of study of a critical learning (``M1``, ``M2``), as the graph states them."""

    @property
    def uuid(self) -> str:
        """A stable UUID for formats that want one (CASE identifiers, CTDL CTIDs): UUID 5 of the IRI."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, self.iri))

    def label(self, lang: str = "fr") -> str:
        return self.labels.get(lang) or self.labels.get("fr") or self.labels.get("en") or next(iter(self.labels.values()), "")


@dataclass
class Framework:
    programme: Node
    nodes: dict[str, Node]

    def children(self, parent: str, kind: str | None = None) -> list[Node]:
        found = [n for n in self.nodes.values() if n.parent == parent and (kind is None or n.kind == kind)]
        return sorted(found, key=lambda n: (KINDS.index(n.kind), n.position or 0, natural(n.code), n.iri))

    @property
    def blocks(self) -> list[Node]:
        return self.children(self.programme.iri, "block")

    @property
    def languages(self) -> list[str]:
        return sorted({lang for n in self.nodes.values() for lang in n.labels if lang})


def read(store: Store, programme: str) -> Framework:
    """The framework of ``programme`` (IRI or short id); ValueError when the graph has no such programme."""
    iri = programme_iri(programme)
    table = store.select(QUERY, {"programme": ox.NamedNode(iri)})
    nodes: dict[str, Node] = {}
    for row in table.rows:
        values = dict(zip(table.columns, row))
        entity = values["entity"].value
        node = nodes.setdefault(entity, Node(entity, values["kind"].value, values["parent"].value if values["parent"] else None))
        if values["code"] is not None:
            node.code = values["code"].value
        if values["label"] is not None:
            node.labels.setdefault(values["label"].language or "", values["label"].value)
        if values["position"] is not None:
            node.position = int(values["position"].value)
        if values["level"] is not None:
            node.levels.add(values["level"].value)
    if iri not in nodes:
        raise ValueError(f"no programme <{iri}> in the graph")
    return Framework(nodes.pop(iri), nodes)
