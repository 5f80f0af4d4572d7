"""Référentiels as tables: the template, its reading (``.xlsx`` workbook or folder of CSV files), its
writing, and the two conversions graph → tables and tables → RDF.

The template has one sheet per table (``SHEETS``, documented in the README): programme, version,
sources, outcomes, blocks, level_column, competencies, critical_learnings, modalities, units,
unit_blocks, dimension_lists, dimensions, block_dimensions, interpretations. Every entity row has an
``id``: the IRI path under the programme (``block/BC01/ac/AC1``), filled by the IRI rule when left empty.
A cell refers to another entity by its id, to an ontology term as ``rkg:Name``, to anything else by its
full IRI; several values are separated by `` | ``. Labels and notes have a column per language; the
« uncertain » statements (read from the layout rather than written in the source) are rows of
``interpretations`` with their reasons, like the ``owl:Axiom`` annotations of the graph. So a
référentiel goes graph → tables → graph without loss (tested on the bundled one), and tables → graph →
tables unchanged.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..namespaces import RKG, mint, programme_iri
from ..store import Store

SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
OWL = "http://www.w3.org/2002/07/owl#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
PROV = "http://www.w3.org/ns/prov#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
SEP = " | "
STATEMENTS = (Path(__file__).parent / "sparql" / "programme-statements.rq").read_text(encoding="utf-8")
R = str(RKG)


class TableError(Exception):
    """A cell that cannot be read: names the sheet, the row (as a spreadsheet numbers it) and the column."""

    def __init__(self, sheet: str, row: int | None, column: str | None, message: str) -> None:
        where = sheet + (f", row {row}" if row else "") + (f", column {column}" if column else "")
        super().__init__(f"{where}: {message}")
        self.sheet, self.row, self.column = sheet, row, column


@dataclass(frozen=True)
class Col:
    name: str
    pred: str | None = None
    kind: str = "text"
    """``text``, ``fr``/``en`` (language-tagged), ``int``, ``ref`` (an IRI), ``class`` (UE/ECUE)."""
    multi: bool = False
    inverse: bool = False
    """The statement goes from the value to the row's entity (``block`` hasCompetency → competency)."""
    required: bool = False


@dataclass(frozen=True)
class Sheet:
    name: str
    classes: tuple[str, ...]
    cols: tuple[Col, ...]
    in_programme: bool = True
    mint: tuple[str, ...] = ()
    """How to fill an empty id: kind and key columns, e.g. ("competency", "code")."""


def _labels(*langs: str, prefix: str = "label", pred: str = SKOS + "prefLabel") -> tuple[Col, ...]:
    return tuple(Col(f"{prefix}_{lang}", pred, lang) for lang in langs)


NOTES = (Col("note_fr", SKOS + "editorialNote", "fr", multi=True), Col("note_en", SKOS + "editorialNote", "en", multi=True),
         Col("source", DCT + "source", "ref"))
SOURCE_TEXT = Col("source_text_fr", R + "sourceText", "fr")

SHEETS: tuple[Sheet, ...] = (
    Sheet("programme", (R + "Programme",), (*_labels("fr", "en"), Col("mention_fr", R + "mention", "fr"), Col("mention_en", R + "mention", "en"),
          Col("parcours_fr", R + "parcours", "fr"), Col("parcours_en", R + "parcours", "en"), Col("rncp_number", R + "rncpNumber"), Col("rncp_certification", R + "rncpCertification", "ref"),
          Col("eqf_level", R + "eqfLevel", "ref"), Col("nqf_level", R + "nqfLevel", "ref"), Col("isced_field", R + "iscedField", "ref"),
          Col("source_headings_fr", R + "sourceHeading", "fr", multi=True), Col("outcomes_lead_in_fr", R + "outcomesLeadIn", "fr"),
          Col("dimension_list", R + "dimensionList", "ref"), *NOTES), in_programme=False),
    Sheet("version", (R + "FrameworkVersion",), (*_labels("fr", "en"), Col("offer_period", R + "offerPeriod"),
          Col("version_of", R + "versionOf", "ref"), Col("transcribed_from", R + "transcribedFrom", "ref"),
          Col("source_headings_fr", R + "sourceHeading", "fr", multi=True), *NOTES), in_programme=False),
    Sheet("sources", (R + "SourceDocument",), (*_labels("fr", "en", prefix="title", pred=DCT + "title"),
          Col("identifier", DCT + "identifier"), Col("format", DCT + "format"),
          *_labels("fr", "en", prefix="rights", pred=DCT + "rights"), *NOTES[:2]), in_programme=False),
    Sheet("outcomes", (R + "ProgrammeOutcome",), (Col("programme", R + "hasOutcome", "ref", inverse=True),
          Col("number", R + "sourceNumber", "int", required=True), *_labels("fr", "en"), SOURCE_TEXT, *NOTES), mint=("outcome", "number")),
    Sheet("blocks", (R + "CompetencyBlock",), (Col("programme", R + "hasBlock", "ref", inverse=True),
          Col("code", SKOS + "notation", required=True), *_labels("fr", "en"), Col("rncp_block", R + "rncpBlock", "ref"),
          Col("assessment_lead_in_fr", R + "assessmentLeadIn", "fr"), Col("level_note_fr", R + "levelNote", "fr"),
          Col("level_note_en", R + "levelNote", "en"), SOURCE_TEXT, *NOTES), mint=("block", "code")),
    Sheet("level_column", (R + "LevelColumnEntry",), (Col("block", R + "hasLevelColumnEntry", "ref", inverse=True, required=True),
          Col("position", R + "position", "int", required=True), Col("value_as_written", R + "valueAsWritten"),
          Col("denotes", R + "denotesStudyLevel", "ref", multi=True), *NOTES), mint=("level", "block", "position")),
    Sheet("competencies", (R + "Competency",), (Col("block", R + "hasCompetency", "ref", inverse=True),
          Col("code", SKOS + "notation", required=True), *_labels("fr", "en"), SOURCE_TEXT, *NOTES), mint=("competency", "code")),
    Sheet("critical_learnings", (R + "CriticalLearning",), (Col("block", R + "hasCriticalLearning", "ref", inverse=True, required=True),
          Col("code", SKOS + "notation", required=True), Col("number", R + "sourceNumber", "int"), *_labels("fr", "en"),
          Col("levels", R + "atStudyLevel", "ref", multi=True), Col("level_status", R + "levelStatus", "ref"),
          Col("level_entry", R + "levelFromEntry", "ref"), SOURCE_TEXT, *NOTES), mint=("ac", "block", "code")),
    Sheet("modalities", (R + "EvaluationModality",), (Col("block", R + "assessedBy", "ref", inverse=True, required=True),
          Col("number", R + "sourceNumber", "int", required=True), *_labels("fr", "en"),
          Col("assesses", R + "assessesCompetency", "ref", multi=True), SOURCE_TEXT, *NOTES), mint=("modality", "block", "number")),
    Sheet("units", (R + "TeachingUnit", R + "TeachingUnitElement"), (Col("kind", None, "class", required=True),
          Col("code", SKOS + "notation", required=True), *_labels("fr", "en"), Col("parent_ue", R + "isPartOfUnit", "ref"), *NOTES),
          mint=("unit", "kind", "code")),
    Sheet("dimension_lists", (R + "GenericDimensionList",), (*_labels("fr", "en"), Col("headings_fr", R + "sourceHeading", "fr", multi=True),
          Col("announced_count", R + "announcedDimensionCount", "int"), Col("top_concepts", SKOS + "hasTopConcept", "ref", multi=True), *NOTES)),
    Sheet("dimensions", (R + "GenericDimension",), (Col("number", R + "sourceNumber", "int", required=True), *_labels("fr", "en"),
          Col("alt_labels_fr", SKOS + "altLabel", "fr", multi=True), Col("scheme", SKOS + "inScheme", "ref"), SOURCE_TEXT, *NOTES),
          mint=("dimension", "number")),
)
RELATIONS = {"unit_blocks": (("unit", "units"), R + "contributesTo", ("block", "blocks")),
             "block_dimensions": (("block", "blocks"), R + "mobilisesDimension", ("dimension", "dimensions"))}
INTERPRETATIONS = ("subject", "property", "value", "reason_fr", "reason_en", "derived_from", "citation")
UNIT_KINDS = {"UE": R + "TeachingUnit", "ECUE": R + "TeachingUnitElement"}
ORDER = [s.name for s in SHEETS] + list(RELATIONS) + ["interpretations"]

Tables = dict[str, list[dict[str, str]]]


def columns(sheet: str) -> list[str]:
    """The template's columns of ``sheet``, in order."""
    if sheet in RELATIONS:
        return [RELATIONS[sheet][0][0], RELATIONS[sheet][2][0]]
    if sheet == "interpretations":
        return list(INTERPRETATIONS)
    spec = next(s for s in SHEETS if s.name == sheet)
    return ["id", *(c.name for c in spec.cols)]


# ---------------------------------------------------------------- cells ↔ terms


@dataclass
class _Names:
    base: str

    def cell(self, term: ox.NamedNode | ox.Literal | ox.BlankNode) -> str:
        if isinstance(term, ox.Literal):
            return term.value
        v = term.value
        if v == self.base:
            return "."
        if v.startswith(self.base + "/"):
            return v[len(self.base) + 1:]
        if v.startswith(R):
            return "rkg:" + v[len(R):]
        return v

    def term(self, cell: str, sheet: str, row: int, column: str) -> ox.NamedNode:
        cell = cell.strip()
        iri = self.base if cell == "." else R + cell[4:] if cell.startswith("rkg:") else cell if "://" in cell else f"{self.base}/{cell}"
        try:
            return ox.NamedNode(iri)
        except ValueError:
            raise TableError(sheet, row, column, f"{cell!r} is not an id, an rkg: term or an IRI") from None


# ---------------------------------------------------------------- graph → tables


def from_graph(store: Store, programme: str) -> Tables:
    """The tables of one programme, from the graph (the statements about its entities and their
    interpretations; the build's search keys and the mapping sets are left to the build)."""
    base = programme_iri(programme)
    names = _Names(base)
    quads = store.select(STATEMENTS, {"programme": ox.NamedNode(base)}).rows
    by_subject: dict[str, list[tuple]] = {}
    for s, p, o in quads:
        by_subject.setdefault(s.value if not isinstance(s, ox.BlankNode) else "_:" + s.value, []).append((p, o))
    inverse: dict[tuple[str, str], list] = {}
    for s, p, o in quads:
        if isinstance(o, ox.NamedNode):
            inverse.setdefault((o.value, p.value), []).append(s)
    tables: Tables = {name: [] for name in ORDER}
    for subject, props in by_subject.items():
        types = {o.value for p, o in props if p.value == RDF_TYPE}
        if OWL + "Axiom" in types:
            row = _interpretation(props, names)
            if not row["subject"].startswith("http"):  # about this programme's entities (ids are relative)
                tables["interpretations"].append(row)
            continue
        sheet = next((s for s in SHEETS if types & set(s.classes)), None)
        if sheet is None:
            continue
        row = {"id": names.cell(ox.NamedNode(subject))}
        for col in sheet.cols:
            if col.kind == "class":
                row[col.name] = next(k for k, v in UNIT_KINDS.items() if v in types)
                continue
            if col.inverse:
                values = [names.cell(t) for t in inverse.get((subject, col.pred), [])]
            else:
                values = [names.cell(o) for p, o in props if p.value == col.pred and _fits(o, col)]
            row[col.name] = SEP.join(sorted(values, key=_natural))
        tables[sheet.name].append(row)
    for name, (left, pred, right) in RELATIONS.items():
        ids = {r["id"] for r in tables[left[1]]}
        for s, p, o in quads:
            if p.value == pred and names.cell(s) in ids:
                tables[name].append({left[0]: names.cell(s), right[0]: names.cell(o)})
    for name in tables:
        tables[name].sort(key=lambda r: [_natural(v) for v in r.values()])
    return tables


def _fits(term, col: Col) -> bool:
    if col.kind in ("fr", "en"):
        return isinstance(term, ox.Literal) and term.language == col.kind
    if col.kind == "ref":
        return isinstance(term, ox.NamedNode)
    return isinstance(term, ox.Literal) and not term.language


def _interpretation(props: list[tuple], names: _Names) -> dict[str, str]:
    def one(pred: str) -> str:
        return next((names.cell(o) for p, o in props if p.value == pred), "")

    def lang(pred: str, code: str) -> str:
        return next((o.value for p, o in props if p.value == pred and isinstance(o, ox.Literal) and o.language == code), "")

    prop = one(OWL + "annotatedProperty")
    return {"subject": one(OWL + "annotatedSource"), "property": prop, "value": one(OWL + "annotatedTarget"),
            "reason_fr": lang(RDFS + "comment", "fr"), "reason_en": lang(RDFS + "comment", "en"),
            "derived_from": SEP.join(sorted(names.cell(o) for p, o in props if p.value == PROV + "wasDerivedFrom")),
            "citation": one(DCT + "bibliographicCitation")}


def _natural(text: str) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]


# ---------------------------------------------------------------- tables → graph


def to_rdf(tables: Tables, programme: str) -> list[ox.Triple]:
    """The référentiel the tables describe, under the programme ``programme`` (a short id). Raises
    TableError naming the sheet, row and column of the first bad cell."""
    base = mint(programme)
    names = _Names(base)
    out: list[ox.Triple] = []
    prog = ox.NamedNode(base)

    def add(s, p: str, o) -> None:
        out.append(ox.Triple(s, ox.NamedNode(p), o))

    for sheet in SHEETS:
        for i, row in enumerate(tables.get(sheet.name, []), 2):
            _check_columns(sheet.name, row, i)
            for col in sheet.cols:
                if col.required and not row.get(col.name, "").strip():
                    raise TableError(sheet.name, i, col.name, "empty; this column is required")
            node = ox.NamedNode(base) if sheet.name == "programme" else names.term(_id(sheet, row, i), sheet.name, i, "id")
            if sheet.name != "programme" and not node.value.startswith(base + "/"):
                raise TableError(sheet.name, i, "id", f"{row.get('id')!r} must be a path under the programme")
            for col in sheet.cols:
                raw = row.get(col.name, "").strip()
                if col.kind == "class":
                    if raw not in UNIT_KINDS:
                        raise TableError(sheet.name, i, col.name, f"{raw!r} is not one of {', '.join(UNIT_KINDS)}")
                    add(node, RDF_TYPE, ox.NamedNode(UNIT_KINDS[raw]))
                    continue
                if not raw:
                    continue
                for value in ([v.strip() for v in raw.split("|")] if col.multi else [raw]):
                    term = _term(value, col, names, sheet.name, i)
                    if col.inverse:
                        add(term, col.pred, node)
                    else:
                        add(node, col.pred, term)
            if sheet.classes and not (sheet.name == "units"):
                add(node, RDF_TYPE, ox.NamedNode(sheet.classes[0]))
            if sheet.in_programme:
                add(node, R + "inProgramme", prog)
    for name, (left, pred, right) in RELATIONS.items():
        for i, row in enumerate(tables.get(name, []), 2):
            _check_columns(name, row, i, [left[0], right[0]])
            add(names.term(row[left[0]], name, i, left[0]), pred, names.term(row[right[0]], name, i, right[0]))
    for i, row in enumerate(tables.get("interpretations", []), 2):
        _check_columns("interpretations", row, i, list(INTERPRETATIONS))
        axiom = ox.BlankNode()
        add(axiom, RDF_TYPE, ox.NamedNode(OWL + "Axiom"))
        for col, pred in (("subject", "annotatedSource"), ("property", "annotatedProperty"), ("value", "annotatedTarget")):
            if not row.get(col, "").strip():
                raise TableError("interpretations", i, col, "empty; this column is required")
            add(axiom, OWL + pred, names.term(row[col], "interpretations", i, col))
        for col, lang in (("reason_fr", "fr"), ("reason_en", "en")):
            if row.get(col, "").strip():
                add(axiom, RDFS + "comment", ox.Literal(row[col].strip(), language=lang))
        for value in filter(None, (v.strip() for v in row.get("derived_from", "").split("|"))):
            add(axiom, PROV + "wasDerivedFrom", names.term(value, "interpretations", i, "derived_from"))
        if row.get("citation", "").strip():
            add(axiom, DCT + "bibliographicCitation", ox.Literal(row["citation"].strip()))
    return out


def _check_columns(sheet: str, row: dict[str, str], i: int, known: list[str] | None = None) -> None:
    allowed = set(known if known is not None else columns(sheet))
    extra = [c for c in row if c not in allowed and (row[c] or "").strip()]
    if extra:
        raise TableError(sheet, i, extra[0], f"not a column of this sheet; its columns: {', '.join(columns(sheet))}")


def _id(sheet: Sheet, row: dict[str, str], i: int) -> str:
    given = row.get("id", "").strip()
    if given or not sheet.mint:
        if not given:
            raise TableError(sheet.name, i, "id", "empty, and this sheet has no rule to make one")
        return given
    kind, *keys = sheet.mint
    values = [row.get(k, "").strip() for k in keys]
    if not all(values):
        raise TableError(sheet.name, i, "id", f"empty; give it, or fill {', '.join(keys)} to have it made")
    if kind == "unit":
        return f"{values[0].lower()}/{values[1]}"
    if kind == "block":
        short = re.fullmatch(r"RNCP\d+(BC\d+)", values[0])
        return f"block/{short.group(1) if short else values[0]}"
    if kind in ("ac", "modality", "level"):
        return f"{values[0]}/{kind}/{values[1]}"
    return f"{kind}/{values[0]}"


def _term(value: str, col: Col, names: _Names, sheet: str, i: int) -> ox.NamedNode | ox.Literal:
    if col.kind in ("fr", "en"):
        return ox.Literal(value, language=col.kind)
    if col.kind == "int":
        if not re.fullmatch(r"[+-]?\d+", value):
            raise TableError(sheet, i, col.name, f"{value!r} is not a whole number")
        return ox.Literal(value, datatype=ox.NamedNode(XSD_INTEGER))
    if col.kind == "ref":
        return names.term(value, sheet, i, col.name)
    return ox.Literal(value)


# ---------------------------------------------------------------- files


def write_csv(tables: Tables, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ORDER:
        with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=columns(name), lineterminator="\n")
            w.writeheader()
            w.writerows(tables.get(name, []))


def read_csv(folder: Path) -> Tables:
    tables: Tables = {}
    for name in ORDER:
        path = folder / f"{name}.csv"
        if not path.exists():
            continue
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            _check_header(name, reader.fieldnames or [])
            tables[name] = [{k: v or "" for k, v in row.items() if k is not None} for row in reader]
    _check_sheets(tables, folder.name)
    return tables


def write_xlsx(tables: Tables, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for name in ORDER:
        ws = wb.create_sheet(name)
        ws.append(columns(name))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in tables.get(name, []):
            ws.append([row.get(c, "") for c in columns(name)])
        ws.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def read_xlsx(path: Path) -> Tables:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    tables: Tables = {}
    for ws in wb.worksheets:
        if ws.title not in ORDER:
            raise TableError(ws.title, None, None, f"not a sheet of the template; its sheets: {', '.join(ORDER)}")
        rows = list(ws.iter_rows(values_only=True))
        header = [str(c).strip() if c is not None else "" for c in (rows[0] if rows else [])]
        while header and not header[-1]:
            header.pop()
        _check_header(ws.title, header)
        tables[ws.title] = [{h: _text(v) for h, v in zip(header, r)} for r in rows[1:] if any(v not in (None, "") for v in r)]
    _check_sheets(tables, path.name)
    return tables


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_header(sheet: str, header: Iterable[str]) -> None:
    header = list(header)
    unknown = [h for h in header if h not in columns(sheet)]
    if unknown:
        raise TableError(sheet, 1, unknown[0], f"not a column of this sheet; its columns: {', '.join(columns(sheet))}")


def _check_sheets(tables: Tables, where: str) -> None:
    if "programme" not in tables or len(tables["programme"]) != 1:
        raise TableError("programme", None, None, f"{where}: the sheet programme must have exactly one row")


def read(path: Path) -> Tables:
    """A filled template: an .xlsx workbook or a folder of CSV files (one per sheet)."""
    if path.is_dir():
        return read_csv(path)
    if path.suffix.lower() == ".xlsx":
        return read_xlsx(path)
    raise TableError(path.name, None, None, "give an .xlsx workbook or a folder of <sheet>.csv files")


def write(tables: Tables, path: Path) -> None:
    write_xlsx(tables, path) if path.suffix.lower() == ".xlsx" else write_csv(tables, path)

