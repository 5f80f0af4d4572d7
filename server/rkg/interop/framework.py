"""One programme's framework as the exporters see it: a tree read from the Store with one query
(``sparql/framework.rq``), and compared with what a format reads back (the loss tests).

A Master's tree: programme → blocks → competencies, critical learnings, evaluation modalities. A BUT's
(``rkg import orebut``): programme → compétences → niveaux de développement (``level``, ``position`` its
rank) → critical learnings. Years of study are codes (``M1``, ``BUT2``); ``Framework.periods`` gives each
one's IRI and labels."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from ..catalog import UnknownProgramme, programmes
from ..namespaces import RKG, natural, programme_id, programme_iri, prologue
from ..store import Store

QUERY = (Path(__file__).parent / "sparql" / "framework.rq").read_text(encoding="utf-8")
PERIOD_LABELS = prologue("skos") + """SELECT ?label WHERE { ?period skos:prefLabel ?label }"""
KINDS = ("block", "competency", "level", "learning", "modality")


@dataclass
class Node:
    iri: str
    kind: str
    """``programme``, ``block``, ``competency``, ``level`` (niveau de développement), ``learning`` (critical
    learning) or ``modality``."""
    parent: str | None = None
    code: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    position: int | None = None
    """Source number (critical learnings, modalities), position in the niveau (a BUT's ACs), rank (niveaux)."""
    levels: set[str] = field(default_factory=set)
    """Years of study of a critical learning or a niveau (``M1``, ``M2``, ``BUT1``), as the graph states them."""

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
    periods: dict[str, Node] = field(default_factory=dict)
    """The years of study the nodes name, by code: their IRI and labels (``kind`` ``period``)."""

    def children(self, parent: str, kind: str | None = None) -> list[Node]:
        found = [n for n in self.nodes.values() if n.parent == parent and (kind is None or n.kind == kind)]
        return sorted(found, key=lambda n: (KINDS.index(n.kind), n.position or 0, natural(n.code), n.iri))

    @property
    def blocks(self) -> list[Node]:
        return self.children(self.programme.iri, "block")

    @property
    def tops(self) -> list[Node]:
        """The programme's children: its blocks (a Master), its compétences (a BUT)."""
        return self.children(self.programme.iri)

    def descendants(self, node: Node, kinds: tuple[str, ...] = KINDS) -> list[tuple[Node, Node]]:
        """(node, parent) below ``node``, depth first in the tree's order, of the ``kinds`` given (the
        others and what is below them left out)."""
        out = []
        for child in self.children(node.iri):
            if child.kind in kinds:
                out.append((child, node))
                out += self.descendants(child, kinds)
        return out

    def period_iri(self, code: str) -> str:
        return self.periods[code].iri if code in self.periods else str(RKG) + code

    @property
    def languages(self) -> list[str]:
        return sorted({lang for n in self.nodes.values() for lang in n.labels if lang})


def read(store: Store, programme: str) -> Framework:
    """The framework of ``programme`` (IRI or short id); :class:`rkg.catalog.UnknownProgramme` when the graph
    has no such programme."""
    iri = programme_iri(programme)
    table = store.select(QUERY, {"programme": ox.NamedNode(iri)})
    nodes: dict[str, Node] = {}
    periods: dict[str, Node] = {}
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
        if values["level"] is not None and values["level"].value:
            node.levels.add(values["level"].value)
            periods.setdefault(values["level"].value, Node(values["period"].value, "period", code=values["level"].value))
    if iri not in nodes:
        known = ", ".join(sorted(programme_id(p) for p in programmes(store))) or "none"
        raise UnknownProgramme(f"no programme <{iri}> in the graph; known programmes: {known}")
    for period in periods.values():
        for (label,) in store.select(PERIOD_LABELS, {"period": ox.NamedNode(period.iri)}).rows:
            period.labels.setdefault(label.language or "", label.value)
    return Framework(nodes.pop(iri), nodes, periods)
