"""Coverage matrices of a programme: its rows (blocks, competencies, generic dimensions, development
levels or critical learnings) × the units it teaches in (its columns).

One code path for every family of référentiel; what changes is what the rows and columns are and what
links them (``web/sparql/heatmap-*.rq``):

- the Master (columns: UE and ECUE) — a cell holds the blocks that link its row and its unit (the
  evidence): the unit contributes to the block and the block is the row, holds the competency or the AC,
  or mobilises the dimension;
- a BUT with its référentiel de formation (columns: SAÉ and ressources, by semester) — the « matrice
  croisée »: a cell holds the ACs the SAÉ or ressource mobilises that are the row, belong to the niveau,
  or to the competency's niveaux; a competency cell also carries the coefficient the formation gives
  (``rkg:mobilisesCompetency`` with its ``rkg:CompetencyCoefficient``).

Every row and every unit of the programme is shown, empty ones too: an empty row is a gap the analyst
is looking for.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from functools import cached_property

import pyoxigraph as ox

from ..interop.workbook import Sheet
from ..namespaces import natural
from . import reads
from .i18n import pick
from .state import EndpointState

KINDS = ("block", "competency", "dimension", "level", "ac")
"""Row kinds, each of the class whose instances are the rows."""
ROW_CLASSES = {"block": "CompetencyBlock", "competency": "Competency", "dimension": "GenericDimension",
               "level": "DevelopmentLevel", "ac": "CriticalLearning"}
COLUMN_KINDS = ("ue", "ecue", "sae", "resource")
"""Column kinds: UE and ECUE (the Master's course units), SAÉ and ressources (a BUT's)."""
_COLUMN_RANK = {"sae": 0, "resource": 1}
LEVELS = 4
"""A linked cell's shade: ``ceil(count × LEVELS / peak)``, 0 for a link without evidence (a BUT's
coefficient alone)."""
LEVEL_COLOURS = ("ffffff", "dbe9f7", "a9c9ea", "5f9bd6", "1f5fa8")
"""The background of each level, as ``td.level1``… of ``static/rkg.css`` paint the page (a test checks they
agree); level 0 is white, like the page's background of a cell."""
GAP_COLOUR = "fde8e6"
"""The background of a row no unit covers (``tr.gap th.rowhead``)."""


def kinds_of(counts: dict[str, int]) -> list[str]:
    """The row kinds a programme has rows of, from its entity counts by class."""
    return [k for k in KINDS if counts.get(ROW_CLASSES[k])]


@dataclass(frozen=True)
class Line:
    iri: str
    code: str
    labels: dict[str, str] = field(default_factory=dict, compare=False)
    kind: str = field(default="", compare=False)
    """A column's kind (``ue``, ``ecue``, ``sae``, ``resource``); empty for rows."""
    period: str = field(default="", compare=False)
    """A column's semester code (BUT), empty when it has none."""


@dataclass
class Matrix:
    kind: str
    programme: str
    rows: list[Line]
    units: list[Line]
    cells: dict[tuple[str, str], list[str]]
    """(row IRI, unit IRI) → IRIs of the evidence linking them (blocks, or ACs for a BUT), sorted."""
    codes: dict[str, str]
    """Evidence IRI → its code."""
    via: dict[str, str] = field(default_factory=dict)
    """Evidence IRI → ``block`` (a unit contributes to it) or ``ac`` (a SAÉ or ressource mobilises it)."""
    coefficients: dict[tuple[str, str], str] = field(default_factory=dict)
    """(competency IRI, SAÉ or ressource IRI) → coefficient ('' when mobilised without one)."""

    @property
    def blocks(self) -> dict[str, str]:
        """The evidence codes (the Master's evidence is blocks)."""
        return self.codes

    @property
    def column_kinds(self) -> list[str]:
        return [k for k in COLUMN_KINDS if any(u.kind == k for u in self.units)]

    @property
    def family(self) -> str:
        """``but`` when the columns are SAÉ and ressources, ``master`` otherwise (UE and ECUE, or none)."""
        return "but" if any(u.kind in _COLUMN_RANK for u in self.units) else "master"

    def evidence(self, row: str, unit: str) -> list[str]:
        return self.cells.get((row, unit), [])

    def linked(self, row: str, unit: str) -> bool:
        """Whether the cell holds anything: evidence, or (a BUT's competency) a mobilisesCompetency statement."""
        return (row, unit) in self.cells

    def count(self, row: str, unit: str) -> int:
        return len(self.evidence(row, unit))

    def coefficient(self, row: str, unit: str) -> str | None:
        return self.coefficients.get((row, unit))

    @cached_property
    def peak(self) -> int:
        """The largest evidence count of a cell (computed once: the cells are not changed after the matrix is built)."""
        return max((len(v) for v in self.cells.values()), default=0)

    def row_total(self, row: str) -> int:
        """Units linked to the row."""
        return sum(1 for u in self.units if (row, u.iri) in self.cells)

    def level(self, row: str, unit: str) -> int:
        """The shade of a linked cell, from 0 to LEVELS (the page's ``level`` class, the workbook's fill)."""
        return math.ceil(self.count(row, unit) * LEVELS / self.peak) if self.peak else 0

    def sheet(self, lang: str) -> Sheet:
        """The matrix as one sheet of a workbook: the table ``csv`` writes (counts as numbers), every
        linked cell filled with its level's colour, the heads of rows no unit covers with GAP_COLOUR."""
        rows: list[list] = [[self.kind, "label", *(u.code for u in self.units)]]
        fills: dict[tuple[int, int], str] = {}
        for i, r in enumerate(self.rows, 1):
            rows.append([r.code, pick(r.labels, lang), *(self.count(r.iri, u.iri) for u in self.units)])
            for j, u in enumerate(self.units, 2):
                if self.linked(r.iri, u.iri):
                    fills[(i, j)] = LEVEL_COLOURS[self.level(r.iri, u.iri)]
            if not self.row_total(r.iri):
                fills[(i, 0)] = fills[(i, 1)] = GAP_COLOUR
        return Sheet(f"{self.kind}"[:31], rows, fills)

    def csv(self, lang: str) -> str:
        """The matrix as a table: one line per row, one column per unit, counts in the cells."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\r\n")
        w.writerow([self.kind, "label", *(u.code for u in self.units)])
        for r in self.rows:
            w.writerow([r.code, pick(r.labels, lang), *(self.count(r.iri, u.iri) for u in self.units)])
        return out.getvalue()


def _unit_key(u: Line, order: int) -> tuple:
    # the Master's UE and ECUE by code; a BUT's SAÉ then ressources of each semester
    return (order, _COLUMN_RANK.get(u.kind, 0), natural(u.code))


def matrix(state: EndpointState, programme: str, kind: str) -> Matrix:
    if kind not in KINDS:
        raise ValueError(f"unknown matrix '{kind}': choose one of {', '.join(KINDS)}")
    p, k = ox.NamedNode(programme), ox.Literal(kind)
    row_rows = reads.select(state, "heatmap-rows", programme=p, kind=k)
    row_labels = reads.labels(row_rows, "row", "label")
    rows = sorted({Line(r["row"].value, r["code"].value if "code" in r else "", row_labels[r["row"].value]) for r in row_rows},
                  key=lambda x: natural(x.code))
    unit_rows = reads.select(state, "heatmap-units", programme=p)
    unit_labels = reads.labels(unit_rows, "unit", "label")
    orders: dict[str, int] = {}
    found: dict[str, Line] = {}
    for r in unit_rows:
        iri = r["unit"].value
        found.setdefault(iri, Line(iri, r["code"].value, unit_labels[iri], r["column"].value,
                                   r["period"].value if "period" in r else ""))
        if "order" in r:
            orders[iri] = int(r["order"].value)
    units = sorted(found.values(), key=lambda u: _unit_key(u, orders.get(u.iri, 0)))
    cells: dict[tuple[str, str], list[str]] = {}
    codes: dict[str, str] = {}
    via: dict[str, str] = {}
    for r in reads.select(state, "heatmap-cells", programme=p, kind=k):
        e = r["evidence"].value
        cell = cells.setdefault((r["row"].value, r["unit"].value), [])
        if e not in cell:
            cell.append(e)
        via[e] = r["via"].value
        if "evidenceCode" in r:
            codes[e] = r["evidenceCode"].value
    coefficients: dict[tuple[str, str], str] = {}
    if kind == "competency":
        for r in reads.select(state, "heatmap-coefficients", programme=p):
            key = (r["row"].value, r["unit"].value)
            coefficients[key] = r["coefficient"].value if "coefficient" in r else coefficients.get(key, "")
            cells.setdefault(key, [])  # mobilised, even where no AC of the competency is named
    for v in cells.values():
        v.sort(key=lambda e: natural(codes.get(e, e)))
    return Matrix(kind, programme, rows, units, cells, codes, via, coefficients)
