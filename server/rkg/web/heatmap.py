"""Coverage matrices of a programme: blocks, competencies or generic dimensions × teaching units.

A cell holds the blocks that link its row and its unit (the evidence): the unit contributes to the block
and the block is the row, holds the competency, or mobilises the dimension. Every row and every unit
of the programme is shown, empty ones too: an empty row is a gap the analyst is looking for.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..namespaces import natural
from . import reads
from .i18n import pick
from .state import EndpointState

KINDS = ("block", "competency", "dimension")


@dataclass(frozen=True)
class Line:
    iri: str
    code: str
    labels: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass
class Matrix:
    kind: str
    programme: str
    rows: list[Line]
    units: list[Line]
    cells: dict[tuple[str, str], list[str]]
    """(row IRI, unit IRI) → IRIs of the blocks linking them, sorted."""
    blocks: dict[str, str]
    """Block IRI → its code."""

    def evidence(self, row: str, unit: str) -> list[str]:
        return self.cells.get((row, unit), [])

    def count(self, row: str, unit: str) -> int:
        return len(self.evidence(row, unit))

    @property
    def peak(self) -> int:
        return max((len(v) for v in self.cells.values()), default=0)

    def row_total(self, row: str) -> int:
        """Units linked to the row."""
        return sum(1 for u in self.units if (row, u.iri) in self.cells)

    def csv(self, lang: str) -> str:
        """The matrix as a table: one line per row, one column per unit, counts in the cells."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\r\n")
        w.writerow([self.kind, "label", *(u.code for u in self.units)])
        for r in self.rows:
            w.writerow([r.code, pick(r.labels, lang), *(self.count(r.iri, u.iri) for u in self.units)])
        return out.getvalue()


def matrix(state: EndpointState, programme: str, kind: str) -> Matrix:
    if kind not in KINDS:
        raise ValueError(f"unknown matrix '{kind}': choose one of {', '.join(KINDS)}")
    p, k = ox.NamedNode(programme), ox.Literal(kind)
    row_rows = reads.select(state, "heatmap-rows", programme=p, kind=k)
    row_labels = reads.labels(row_rows, "row", "label")
    rows = sorted({Line(r["row"].value, r["code"].value if "code" in r else "", row_labels[r["row"].value]) for r in row_rows},
                  key=lambda x: natural(x.code))
    units = sorted({Line(r["unit"].value, r["code"].value) for r in reads.select(state, "heatmap-units", programme=p)},
                   key=lambda x: natural(x.code))
    cells: dict[tuple[str, str], list[str]] = {}
    for r in reads.select(state, "heatmap-cells", programme=p, kind=k):
        cells.setdefault((r["row"].value, r["unit"].value), []).append(r["block"].value)
    block_rows = row_rows if kind == "block" else reads.select(state, "heatmap-rows", programme=p, kind=ox.Literal("block"))
    blocks = {r["row"].value: r["code"].value for r in block_rows if "code" in r}
    for v in cells.values():
        v.sort(key=lambda b: natural(blocks.get(b, b)))
    return Matrix(kind, programme, rows, units, cells, blocks)
