"""Référentiels as tables: the template, its reading (``.xlsx`` workbook, ``.ods`` spreadsheet — both through
``rkg.interop.workbook`` — or folder of CSV files), its writing, and the two conversions graph → tables and
tables → RDF.

The template has one sheet per table (``SHEETS``, documented in the README): programme, version,
sources, outcomes, blocks, level_column, competencies, critical_learnings, modalities, units,
dimension_lists, dimensions; for a BUT (``rkg import orebut``) period_schemes, periods,
development_levels, essential_components, professional_situations, parcours, sae_resources,
coefficients; the relations unit_blocks, block_dimensions, parcours_levels; and interpretations. Every entity row has an
``id``: the IRI path under the programme (``block/BC01/ac/AC1``), filled by the IRI rule when left empty.
A cell refers to another entity by its id, to an ontology term as ``rkg:Name``, to anything else by its
full IRI; several values are separated by `` | ``. Labels and notes have a column per language; the
« uncertain » statements (read from the layout rather than written in the source) are rows of
``interpretations`` with their reasons, like the ``owl:Axiom`` annotations of the graph. So a
référentiel goes graph → tables → graph without loss (tested on the bundled Master and on two imported
BUTs), and tables → graph → tables unchanged. Text cells are kept as written (trailing spaces included).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..errors import RkgError
from ..namespaces import DCTERMS as DCT
from ..namespaces import OWL, PROV, RDF_TYPE, RDFS, RKG, SKOS, XSD, mint, programme_iri, segment
from ..store import Store
from .workbook import FORMATS, LIMITS, Limits, Sheet as WorkbookSheet, TableError, _cut, read_workbook, write_workbook
from .workbook import size_text as _size

XSD_INTEGER = XSD + "integer"
XSD_DECIMAL = XSD + "decimal"
SEP = " | "
STATEMENTS = (Path(__file__).parent / "sparql" / "programme-statements.rq").read_text(encoding="utf-8")
R = str(RKG)


@dataclass(frozen=True)
class Col:
    name: str
    pred: str | None = None
    kind: str = "text"
    """``text``, ``fr``/``en`` (language-tagged), ``int``, ``decimal``, ``ref`` (an IRI), ``class`` (the row's
    class, by one of the sheet's ``kinds``: UE/ECUE, year/semester, SAÉ/ressource)."""
    multi: bool = False
    inverse: bool = False
    """The statement goes from the value to the row's entity (``block`` hasCompetency → competency)."""
    required: bool = False
    or_col: str | None = None
    """With ``required``: the column may be empty when ``or_col`` is filled (an AC in a block or in a niveau)."""


@dataclass(frozen=True)
class Sheet:
    name: str
    classes: tuple[str, ...]
    cols: tuple[Col, ...]
    in_programme: bool = True
    mint: tuple[str, ...] = ()
    """How to fill an empty id: kind and key columns, e.g. ("competency", "code"); ``block|level`` takes the
    first column filled."""
    kinds: tuple[tuple[str, str], ...] = ()
    """For a sheet of several classes: the values of its ``kind`` column and the class each one names."""


def _labels(*langs: str, prefix: str = "label", pred: str = SKOS + "prefLabel") -> tuple[Col, ...]:
    return tuple(Col(f"{prefix}_{lang}", pred, lang) for lang in langs)


NOTES = (Col("note_fr", SKOS + "editorialNote", "fr", multi=True), Col("note_en", SKOS + "editorialNote", "en", multi=True),
         Col("source", DCT + "source", "ref", multi=True))
SOURCE_TEXT = Col("source_text_fr", R + "sourceText", "fr")

SHEETS: tuple[Sheet, ...] = (
    Sheet("programme", (R + "Programme",), (*_labels("fr", "en"), Col("code", SKOS + "notation"), Col("mention_fr", R + "mention", "fr"), Col("mention_en", R + "mention", "en"),
          Col("parcours_fr", R + "parcours", "fr"), Col("parcours_en", R + "parcours", "en"), Col("rncp_number", R + "rncpNumber"), Col("rncp_certification", R + "rncpCertification", "ref"),
          Col("eqf_level", R + "eqfLevel", "ref"), Col("nqf_level", R + "nqfLevel", "ref"), Col("isced_field", R + "iscedField", "ref"),
          Col("source_headings_fr", R + "sourceHeading", "fr", multi=True), Col("outcomes_lead_in_fr", R + "outcomesLeadIn", "fr"),
          Col("dimension_list", R + "dimensionList", "ref"), Col("conforms_to", DCT + "conformsTo", "ref", multi=True),
          Col("version_info", OWL + "versionInfo"), *NOTES),
          in_programme=False),
    Sheet("version", (R + "FrameworkVersion",), (*_labels("fr", "en"), Col("offer_period", R + "offerPeriod"),
          Col("version_of", R + "versionOf", "ref"), Col("transcribed_from", R + "transcribedFrom", "ref"),
          Col("source_headings_fr", R + "sourceHeading", "fr", multi=True), *NOTES), in_programme=False),
    Sheet("sources", (R + "SourceDocument",), (Col("title", DCT + "title"), *_labels("fr", "en", prefix="title", pred=DCT + "title"),
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
          Col("code", SKOS + "notation", required=True), *_labels("fr", "en"), *_labels("fr", "en", prefix="long_title", pred=R + "longTitle"),
          Col("colour", R + "colour"), Col("identifier", DCT + "identifier"),
          Col("specific_to_parcours", R + "specificToParcours", "ref", multi=True), SOURCE_TEXT, *NOTES), mint=("competency", "code")),
    Sheet("critical_learnings", (R + "CriticalLearning",), (
          Col("block", R + "hasCriticalLearning", "ref", inverse=True, required=True, or_col="development_level"),
          Col("development_level", R + "levelHasCriticalLearning", "ref", inverse=True),
          Col("code", SKOS + "notation", required=True), Col("number", R + "sourceNumber", "int"), Col("position", R + "position", "int"),
          *_labels("fr", "en"), Col("levels", R + "atStudyLevel", "ref", multi=True), Col("level_status", R + "levelStatus", "ref"),
          Col("level_entry", R + "levelFromEntry", "ref"), SOURCE_TEXT, *NOTES), mint=("ac", "block|development_level", "code")),
    Sheet("modalities", (R + "EvaluationModality",), (Col("block", R + "assessedBy", "ref", inverse=True, required=True),
          Col("number", R + "sourceNumber", "int", required=True), *_labels("fr", "en"),
          Col("assesses", R + "assessesCompetency", "ref", multi=True), SOURCE_TEXT, *NOTES), mint=("modality", "block", "number")),
    Sheet("units", (R + "TeachingUnit", R + "TeachingUnitElement"), (Col("kind", None, "class", required=True),
          Col("code", SKOS + "notation", required=True), *_labels("fr", "en"), Col("parent_ue", R + "isPartOfUnit", "ref"), *NOTES),
          mint=("unit", "kind", "code"), kinds=(("UE", R + "TeachingUnit"), ("ECUE", R + "TeachingUnitElement"))),
    Sheet("dimension_lists", (R + "GenericDimensionList",), (*_labels("fr", "en"), Col("headings_fr", R + "sourceHeading", "fr", multi=True),
          Col("announced_count", R + "announcedDimensionCount", "int"), Col("top_concepts", SKOS + "hasTopConcept", "ref", multi=True), *NOTES)),
    Sheet("dimensions", (R + "GenericDimension",), (Col("number", R + "sourceNumber", "int", required=True), *_labels("fr", "en"),
          Col("alt_labels_fr", SKOS + "altLabel", "fr", multi=True), Col("scheme", SKOS + "inScheme", "ref"), SOURCE_TEXT, *NOTES),
          mint=("dimension", "number")),
    # BUT (rkg import orebut): periods, niveaux de développement, composantes essentielles, situations
    # professionnelles, parcours, SAÉ and ressources, coefficients
    Sheet("period_schemes", (SKOS + "ConceptScheme",), (*_labels("fr", "en"), Col("top_concepts", SKOS + "hasTopConcept", "ref", multi=True),
          *NOTES)),
    Sheet("periods", (R + "StudyLevel", R + "StudyPeriod"), (Col("kind", None, "class", required=True),
          Col("code", SKOS + "notation", required=True), Col("order", R + "periodOrder", "int"), *_labels("fr", "en"),
          Col("scheme", SKOS + "inScheme", "ref"), Col("top_concept_of", SKOS + "topConceptOf", "ref"),
          Col("broader", SKOS + "broader", "ref", multi=True), Col("narrower", SKOS + "narrower", "ref", multi=True), *NOTES),
          mint=("period", "code"), kinds=(("year", R + "StudyLevel"), ("semester", R + "StudyPeriod"))),
    Sheet("development_levels", (R + "DevelopmentLevel",), (Col("competency", R + "hasDevelopmentLevel", "ref", inverse=True, required=True),
          Col("rank", R + "levelRank", "int", required=True), Col("year", R + "atStudyLevel", "ref", multi=True), *_labels("fr", "en"),
          *NOTES), mint=("level", "competency", "rank")),
    Sheet("essential_components", (R + "EssentialComponent",), (
          Col("competency", R + "hasEssentialComponent", "ref", inverse=True, required=True),
          Col("position", R + "position", "int", required=True), *_labels("fr", "en"), *NOTES), mint=("component", "competency", "position")),
    Sheet("professional_situations", (R + "ProfessionalSituation",), (
          Col("competency", R + "hasProfessionalSituation", "ref", inverse=True, required=True),
          Col("position", R + "position", "int", required=True), *_labels("fr", "en"), *NOTES), mint=("situation", "competency", "position")),
    Sheet("parcours", (R + "Parcours",), (Col("programme", R + "parcoursOf", "ref"), Col("code", SKOS + "notation", required=True),
          *_labels("fr", "en"), *NOTES), mint=("parcours", "code")),
    Sheet("sae_resources", (R + "LearningSituation", R + "Resource"), (Col("kind", None, "class", required=True),
          Col("code", SKOS + "notation", required=True), *_labels("fr", "en"),
          Col("description_fr", DCT + "description", "fr"), Col("keywords_fr", DCT + "subject", "fr"), Col("examples_fr", SKOS + "example", "fr"),
          Col("period", R + "inPeriod", "ref", multi=True), Col("hours_cm_td", R + "hoursCMTD", "decimal"), Col("hours_tp", R + "hoursTP", "decimal"),
          Col("hours_project", R + "hoursProject", "decimal"), Col("critical_learnings", R + "mobilisesCriticalLearning", "ref", multi=True),
          Col("competencies", R + "mobilisesCompetency", "ref", multi=True), Col("resources", R + "usesResource", "ref", multi=True), *NOTES),
          mint=("activity", "kind", "code"), kinds=(("SAÉ", R + "LearningSituation"), ("ressource", R + "Resource"))),
    Sheet("coefficients", (R + "CompetencyCoefficient",), (Col("activity", R + "hasCompetencyCoefficient", "ref", inverse=True, required=True),
          Col("competency", R + "coefficientForCompetency", "ref", required=True), Col("coefficient", R + "coefficient", "decimal", required=True),
          *NOTES), mint=("coefficient", "activity", "competency")),
)
RELATIONS = {"unit_blocks": (("unit", "units"), R + "contributesTo", ("block", "blocks")),
             "block_dimensions": (("block", "blocks"), R + "mobilisesDimension", ("dimension", "dimensions")),
             "parcours_levels": (("parcours", "parcours"), R + "parcoursIncludesLevel", ("development_level", "development_levels"))}
INTERPRETATIONS = ("subject", "property", "value", "reason_fr", "reason_en", "derived_from", "citation")
ACTIVITY_PATHS = {"SAÉ": "sae", "ressource": "resource"}
ORDER = [s.name for s in SHEETS] + list(RELATIONS) + ["interpretations"]

Tables = dict[str, list[dict[str, str]]]


class Line(int):
    """Where a CSV row was read: the line its record starts on (a record may span lines), not a sheet row."""


class Row(dict):
    """A row as read from a file, by column, with where it was read (``at``): its row in the sheet (the
    column names being row 1, blank rows counted) or, in a CSV file, the :class:`Line` its record starts on.
    A row made otherwise (a plain dict: ``from_graph``) is numbered by its place, from 2."""

    __slots__ = ("at",)

    def __init__(self, values: dict[str, str], at: int) -> None:
        super().__init__(values)
        self.at = at


def _at(row: dict[str, str], place: int) -> int:
    """Where ``row`` was read (:class:`Row`), else its ``place`` in the table (from 2)."""
    return getattr(row, "at", place)


def _bad(sheet: str, at: int, column: str | None, message: str) -> TableError:
    """The error about a cell of the row read at ``at``: a sheet's row, or a CSV file's line."""
    if isinstance(at, Line):
        return TableError(sheet, None, column, message, line=int(at))
    return TableError(sheet, at, column, message)


def columns(sheet: str) -> list[str]:
    """The template's columns of ``sheet``, in order."""
    if sheet in RELATIONS:
        return [RELATIONS[sheet][0][0], RELATIONS[sheet][2][0]]
    if sheet == "interpretations":
        return list(INTERPRETATIONS)
    spec = next(s for s in SHEETS if s.name == sheet)
    return ["id", *(c.name for c in spec.cols)]


# ---------------------------------------------------------------- cells ↔ terms


def _shown(value: str, width: int = 80) -> str:
    """A cell's value in a message: quoted, and cut (a hostile cell may hold a megabyte)."""
    return repr(value) if len(value) <= width else repr(value[:width]) + f"… ({len(value)} characters)"


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
            raise _bad(sheet, row, column, f"{_shown(cell)} is not an id, an rkg: term or an IRI") from None


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
                row[col.name] = next(k for k, v in sheet.kinds if v in types)
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
    if col.kind == "decimal":
        return isinstance(term, ox.Literal) and term.datatype.value == XSD_DECIMAL
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


def to_rdf(tables: Tables, programme: str, origins: dict[str, tuple[str, int]] | None = None) -> list[ox.Triple]:
    """The référentiel the tables describe, under the programme ``programme`` (a short id). Raises
    TableError naming the sheet, row and column of the first bad cell. ``origins``, when given, gets the
    sheet and row of each entity (IRI → (sheet, row)), for the written file to say where it was read.
    Rows as read (:class:`Row`) say where they were: the sheet's own row, blank rows counted, or a CSV
    record's first line (a :class:`Line`, which errors name as ``line N``); other rows count from 2."""
    base = mint(programme)
    names = _Names(base)
    out: list[ox.Triple] = []
    prog = ox.NamedNode(base)

    def add(s, p: str, o) -> None:
        out.append(ox.Triple(s, ox.NamedNode(p), o))

    for sheet in SHEETS:
        for n, row in enumerate(tables.get(sheet.name, []), 2):
            i = _at(row, n)
            _check_columns(sheet.name, row, i)
            for col in sheet.cols:
                if col.required and not row.get(col.name, "").strip() and not (col.or_col and row.get(col.or_col, "").strip()):
                    also = f" (or fill {col.or_col})" if col.or_col else ""
                    raise _bad(sheet.name, i, col.name, f"empty; this column is required{also}")
            node = ox.NamedNode(base) if sheet.name == "programme" else names.term(_id(sheet, row, i), sheet.name, i, "id")
            if sheet.name != "programme" and not node.value.startswith(base + "/"):
                raise _bad(sheet.name, i, "id", f"{_shown(row.get('id') or '')} must be a path under the programme")
            if origins is not None:
                origins.setdefault(node.value, (sheet.name, i))
            for col in sheet.cols:
                given = row.get(col.name, "")
                raw = given.strip()
                if col.kind == "class":
                    kinds = dict(sheet.kinds)
                    if raw not in kinds:
                        raise _bad(sheet.name, i, col.name, f"{_shown(raw)} is not one of {', '.join(kinds)}")
                    add(node, RDF_TYPE, ox.NamedNode(kinds[raw]))
                    continue
                if not raw:
                    continue
                # a text is kept as written (RT's labels end with a space); ids, numbers and lists are trimmed
                single = given if col.kind in ("text", "fr", "en") else raw
                for value in ([v.strip() for v in raw.split("|")] if col.multi else [single]):
                    term = _term(value, col, names, sheet.name, i)
                    if col.inverse:
                        add(term, col.pred, node)
                    else:
                        add(node, col.pred, term)
            if sheet.classes and not sheet.kinds:
                add(node, RDF_TYPE, ox.NamedNode(sheet.classes[0]))
            if sheet.in_programme:
                add(node, R + "inProgramme", prog)
    for name, (left, pred, right) in RELATIONS.items():
        for n, row in enumerate(tables.get(name, []), 2):
            i = _at(row, n)
            _check_columns(name, row, i, [left[0], right[0]])
            add(names.term(row[left[0]], name, i, left[0]), pred, names.term(row[right[0]], name, i, right[0]))
    for n, row in enumerate(tables.get("interpretations", []), 2):
        i = _at(row, n)
        _check_columns("interpretations", row, i, list(INTERPRETATIONS))
        axiom = ox.BlankNode()
        add(axiom, RDF_TYPE, ox.NamedNode(OWL + "Axiom"))
        for col, pred in (("subject", "annotatedSource"), ("property", "annotatedProperty"), ("value", "annotatedTarget")):
            if not row.get(col, "").strip():
                raise _bad("interpretations", i, col, "empty; this column is required")
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
        raise _bad(sheet, i, _cut(extra[0]), f"not a column of this sheet; its columns: {', '.join(columns(sheet))}")


def _id(sheet: Sheet, row: dict[str, str], i: int) -> str:
    given = row.get("id", "").strip()
    if given or not sheet.mint:
        if not given:
            raise _bad(sheet.name, i, "id", "empty, and this sheet has no rule to make one")
        return given
    kind, *keys = sheet.mint
    values = [next((row.get(k, "").strip() for k in key.split("|") if row.get(k, "").strip()), "") for key in keys]
    if not all(values):
        raise _bad(sheet.name, i, "id", f"empty; give it, or fill {', '.join(k.replace('|', ' or ') for k in keys)} to have it made")
    code = segment(unicodedata.normalize("NFC", values[-1]))  # the IRI rule: the code as written, made URL-safe
    if kind == "unit":
        return f"{values[0].lower()}/{values[1]}"
    if kind == "activity":
        if values[0] not in ACTIVITY_PATHS:
            raise _bad(sheet.name, i, "kind", f"{_shown(values[0])} is not one of {', '.join(ACTIVITY_PATHS)}")
        return f"{ACTIVITY_PATHS[values[0]]}/{code}"
    if kind == "coefficient":  # …/resource/R1.01/coefficient/Administrer: the compétence's last segment
        return f"{values[0]}/coefficient/{values[1].rstrip('/').rsplit('/', 1)[-1]}"
    if kind == "block":
        short = re.fullmatch(r"RNCP\d+(BC\d+)", values[0])
        return f"block/{short.group(1) if short else code}"
    if len(values) == 2:  # nested under its parent: block/BC01/ac/AC4, competency/Administrer/level/1
        return f"{values[0]}/{kind}/{code}"
    return f"{kind}/{code}"


def _term(value: str, col: Col, names: _Names, sheet: str, i: int) -> ox.NamedNode | ox.Literal:
    if col.kind in ("fr", "en"):
        return ox.Literal(value, language=col.kind)
    if col.kind == "int":
        if not re.fullmatch(r"[+-]?\d+", value):
            raise _bad(sheet, i, col.name, f"{_shown(value)} is not a whole number")
        return ox.Literal(value, datatype=ox.NamedNode(XSD_INTEGER))
    if col.kind == "decimal":
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", value):
            raise _bad(sheet, i, col.name, f"{_shown(value)} is not a number (digits, a dot for the decimals)")
        return ox.Literal(value, datatype=ox.NamedNode(XSD_DECIMAL))
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


def read_csv(folder: Path, limits: Limits = LIMITS) -> Tables:
    """The tables of a folder of ``<sheet>.csv`` files, one for every sheet of the template (UTF-8, a BOM
    allowed); files of other names are not read. Refused, naming the file, the line and the column: a file
    that is not UTF-8 or not CSV, a cell, a line or a sheet beyond ``limits``; and a folder whose CSV files
    hold more than ``limits.max_bytes``."""
    paths = {name: folder / f"{name}.csv" for name in ORDER}
    paths = {name: path for name, path in paths.items() if path.exists() or path.is_symlink()}
    for path in paths.values():
        if not path.is_file():  # a folder, a FIFO (reading it would wait forever), a broken link
            raise TableError(None, None, None, "not a regular file", file=path)
    total = sum(path.stat().st_size for path in paths.values())
    if total > limits.max_bytes:
        raise TableError(None, None, None, f"its CSV files hold {_size(total)}, more than the {_size(limits.max_bytes)} accepted",
                         file=folder)
    tables: Tables = {}
    with _field_size_limit(limits.max_cell_chars):
        for name, path in paths.items():
            header: list[str] = []
            try:
                records = _records(path, limits)
                first = next(records, None)
                header = first[1] if first else []
                _check_header(name, header, path)
                rows = []
                for line, cells in records:
                    if len(rows) >= limits.max_rows:
                        raise _Bad(line, None, f"more than {limits.max_rows} rows")
                    rows.append(Row({h: cells[i] if i < len(cells) else "" for i, h in enumerate(header)}, Line(line)))
            except _Bad as e:
                column = None if e.position is None else header[e.position - 1] if e.position <= len(header) else f"#{e.position}"
                raise TableError(None, None, column and _cut(column), e.message, file=path, line=e.line) from None
            tables[name] = rows
    _check_sheets(tables, folder, csv_files=True)
    return tables


@contextmanager
def _field_size_limit(limit: int) -> Iterator[None]:
    """The csv module's field size limit (one for the whole process) set to ``limit`` while reading,
    then put back."""
    previous = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


class _Bad(RkgError):
    """What is wrong in a CSV file, where: the line and the position of the column (from 1)."""

    def __init__(self, line: int, position: int | None, message: str) -> None:
        super().__init__(message)
        self.line, self.position, self.message = line, position, message


_FIELD = re.compile(r'"([^"]*(?:""[^"]*)*)"?|[^,\r\n]*')
_UNDECODABLE = re.compile("[\udc80-\udcff]")


def _fields(text: str) -> Iterator[tuple[int, int]]:
    """(offset, length as read) of each field of the CSV record ``text`` (comma-separated, ``"``-quoted)."""
    pos = 0
    while True:
        m = _FIELD.match(text, pos)
        inner = m.group(1)
        yield m.start(), len(inner) - inner.count('""') if inner is not None else m.end() - m.start()
        pos = m.end()
        if pos >= len(text) or text[pos] != ",":
            return
        pos += 1


def _records(path: Path, limits: Limits) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of each non-empty record of a CSV file. Lines are read one at a time, and no
    further than ``limits.max_line_chars``; the csv module's field size limit (set by the caller) stops
    a long cell. Raises _Bad with the line and the column's position."""
    record: list[str] = []  # the lines of the record being read
    count = start = 0

    def where(offset: int) -> tuple[int, int | None]:
        """The line and the column's position of the character at ``offset`` in the record."""
        text, line, end = "".join(record), start, 0
        for part in record:
            end += len(part)
            if offset < end:
                break
            line += 1
        position = None
        for n, (at, _) in enumerate(_fields(text), 1):
            if at > offset:
                break
            position = n
        return min(line, count), position

    def long_cell() -> _Bad | None:
        for n, (at, length) in enumerate(_fields("".join(record)), 1):
            if length > limits.max_cell_chars:
                return _Bad(where(at)[0], n, f"a cell longer than {limits.max_cell_chars:,} characters")
        return None

    def lines() -> Iterator[str]:
        nonlocal count
        while True:
            line = f.readline(limits.max_line_chars + 1)
            if not line:
                return
            count += 1
            record.append(line)
            if len(line) > limits.max_line_chars:
                raise long_cell() or _Bad(count, None, f"a line longer than {limits.max_line_chars:,} characters")
            bad = _UNDECODABLE.search(line)
            if bad:
                line_no, position = where(sum(map(len, record[:-1])) + bad.start())
                raise _Bad(line_no, position, f"not UTF-8 text (byte 0x{ord(bad.group()) - 0xDC00:02x}); save the file as UTF-8")
            yield line

    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
        reader = csv.reader(lines())
        while True:
            record.clear()
            start = count + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                if "field larger than field limit" in str(e):
                    raise long_cell() or _Bad(count, None, f"a cell longer than {limits.max_cell_chars:,} characters") from None
                raise _Bad(count, None, f"not CSV: {e}") from None
            if cells:
                yield start, cells


def write_workbook_file(tables: Tables, path: Path, fmt: str | None = None) -> None:
    """The tables as a workbook (``.xlsx`` or ``.ods``, from ``fmt`` or the file's extension): one sheet per
    table, header row bold and frozen, every cell text."""
    sheets = [WorkbookSheet(name, [columns(name), *([row.get(c, "") for c in columns(name)] for row in tables.get(name, []))])
              for name in ORDER]
    write_workbook(sheets, path, fmt or path.suffix.lower().lstrip("."))


def read_workbook_file(path: Path, fmt: str, limits: Limits = LIMITS) -> Tables:
    """The tables of a workbook (``.xlsx`` read by openpyxl, ``.ods`` by python-calamine), after the checks of
    ``rkg.interop.workbook`` (zip bomb, members, DTD; for ``.ods`` rows, columns and cells counted first).
    Anything the reader cannot read is refused with the file and the reader's reason."""
    tables: Tables = {}
    for title, rows in read_workbook(path, fmt, limits):
        if title not in ORDER:
            raise TableError(_cut(title), None, None, f"not a sheet of the template; its sheets: {', '.join(ORDER)}", file=path)
        tables[title] = _sheet(title, rows, path, limits)
    _check_sheets(tables, path)
    return tables


def _sheet(title: str, rows, path: Path, limits: Limits) -> list[dict[str, str]]:
    """The rows of one sheet, read as a stream, no further than ``limits``."""
    _, first = next(rows, (1, []))
    header = [_text(c).strip() for c in first]
    while header and not header[-1]:
        header.pop()
    _check_header(title, header, path)
    out = []
    for number, values in rows:
        if number > limits.max_rows + 1:
            raise TableError(title, None, None, f"more than {limits.max_rows} rows", file=path)
        if not any(v not in (None, "") for v in values):
            continue
        row = Row({}, number)
        for i, h in enumerate(header):
            row[h] = text = _text(values[i]) if i < len(values) else ""
            if len(text) > limits.max_cell_chars:
                raise TableError(title, number, h, f"a cell longer than {limits.max_cell_chars:,} characters", file=path)
        out.append(row)
    return out


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_header(sheet: str, header: list[str], file: Path) -> None:
    known = columns(sheet)
    unknown = [h for h in header if h not in known]
    if unknown:
        raise TableError(sheet, 1, _cut(unknown[0]), f"not a column of this sheet; its columns: {', '.join(known)}", file=file)
    twice = [h for i, h in enumerate(header) if h in header[:i]]
    if twice:
        raise TableError(sheet, 1, twice[0], "given twice", file=file)


def _check_sheets(tables: Tables, file: Path, csv_files: bool = False) -> None:
    """Every sheet of the template is there (a sheet deleted or misnamed would silently lose its rows),
    and the programme has one row."""
    missing = [name for name in ORDER if name not in tables]
    if missing:
        what = ", ".join(f"{n}.csv" if csv_files else n for n in missing)
        raise TableError(None, None, None, f"no {'file' if csv_files else 'sheet'}{'s' if len(missing) > 1 else ''} {what}: "
                         "every sheet of the template must be there, empty if unused", file=file)
    if len(tables["programme"]) != 1:
        raise TableError("programme", None, None, f"the sheet programme must have exactly one row; it has {len(tables['programme'])}",
                         file=file)


def read(path: Path, limits: Limits = LIMITS) -> Tables:
    """A filled template: an .xlsx workbook, an .ods spreadsheet or a folder of CSV files (one per sheet).
    Raises TableError naming the file and the reason for anything else, and for a file beyond ``limits``."""
    if path.is_dir():
        return read_csv(path, limits)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise TableError(None, None, None, "give an .xlsx workbook or a folder of <sheet>.csv files, or an .ods spreadsheet", file=path)
    if not path.exists():
        raise TableError(None, None, None, "no such file", file=path)
    if not path.is_file():  # a FIFO would make the reading wait forever
        raise TableError(None, None, None, "not a regular file", file=path)
    return read_workbook_file(path, fmt, limits)


def write(tables: Tables, path: Path) -> None:
    """An .xlsx or .ods file by its extension, otherwise a folder of CSV files."""
    if path.suffix.lower().lstrip(".") in FORMATS:
        write_workbook_file(tables, path)
    else:
        write_csv(tables, path)
