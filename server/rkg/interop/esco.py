"""ESCO in: the official CSV files, or an RDF dump, into ESCO's own RDF model, as one N-Triples file.

Streaming: rows are read one at a time and written as they come (memory stays flat whatever the size of
the classification, but for the occupations' codes, kept to link each occupation to its parent), with
progress every ``PROGRESS_EVERY`` records. The file is written to a temporary
name and renamed, so an import that fails leaves nothing behind.

The CSV model (``tests/reference/esco.md``): every concept is a ``skos:Concept``; occupations are
``esco:Occupation`` and ``esco:MemberConcept``, skills ``esco:Skill`` and ``esco:MemberConcept``; labels are
``skos:prefLabel``/``altLabel``/``hiddenLabel`` in the file's language; the hierarchy is ``skos:broader``;
an occupation's ISCO group is ``http://data.europa.eu/esco/isco/C<iscoGroup>``, reached by ``skos:broader``
from the occupations directly under it (code ``2424.2`` under ISCO ``2424``) and, deeper down, through the
parent occupation named by the code (``2654.1.7`` under ``2654.1``); skill relations are
``esco:relatedEssentialSkill``/``relatedOptionalSkill`` and, for occupations, ``esco:isEssentialSkillFor``/
``isOptionalSkillFor`` on the skill as well. Only what a file states is written: ISCO groups get no label
(``ISCOGroups_en.csv`` is not read), skills met only in relation files get their type and nothing else.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from .. import formats
from ..errors import InputError
from ..files import atomic_file
from ..namespaces import DCTERMS as DCT
from ..namespaces import ESCO as MODEL
from ..namespaces import ESCO_DATA as ESCO
from ..namespaces import RDF_TYPE, SKOS, XSD

PROGRESS_EVERY = 5000

SKILL_TYPES = {"knowledge": ESCO + "skill-type/knowledge", "skill/competence": ESCO + "skill-type/skill",
               "skill": ESCO + "skill-type/skill"}
REUSE_LEVELS = {"transversal", "cross-sector", "sector-specific", "occupation-specific"}
RELATIONS = {"essential": ("relatedEssentialSkill", "isEssentialSkillFor"),
             "optional": ("relatedOptionalSkill", "isOptionalSkillFor")}
FILES = ("occupations", "skills", "skillGroups", "broaderRelationsSkillPillar", "broaderRelationsOccPillar",
         "skillSkillRelations", "occupationSkillRelations")
"""CSV tables read, in this order, as ``<table>_<lang>.csv``; absent ones are skipped (and reported)."""
RDF_FORMATS = formats.suffixes(formats.TURTLE, formats.N_TRIPLES, formats.N_QUADS, formats.RDF_XML)

Progress = Callable[[str], None]


class EscoError(InputError):
    """A file does not have the shape of the ESCO download: says which file, row and column."""


@dataclass
class Report:
    tables: dict[str, int] = field(default_factory=dict)
    """Records read per table (CSV) or triples read (dump)."""
    missing: list[str] = field(default_factory=list)
    triples: int = 0


def _iri(value: str, where: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(value.strip())
    except ValueError:
        raise EscoError(f"{where}: not an IRI: {value!r}") from None


def _lines(value: str) -> list[str]:
    """A multi-valued cell: values on separate lines (inScheme also ends them with commas)."""
    return [v.strip().rstrip(",").strip() for v in value.splitlines() if v.strip().rstrip(",").strip()]


class _Writer:
    """Triples to an open N-Triples file, in batches."""

    def __init__(self, file: BinaryIO) -> None:
        self.file, self.batch, self.count = file, [], 0

    def add(self, s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> None:
        self.triple(ox.Triple(s, ox.NamedNode(p), o))

    def triple(self, t: ox.Triple) -> None:
        self.batch.append(t)
        if len(self.batch) >= 10_000:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            ox.serialize(self.batch, self.file, ox.RdfFormat.N_TRIPLES)
            self.count += len(self.batch)
            self.batch = []


def _rows(path: Path, required: Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV table, after checking its header names the required columns."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise EscoError(f"{path.name}:1: missing column(s) {', '.join(missing)}; found {', '.join(reader.fieldnames or [])}")
        for row in reader:
            yield reader.line_num, row


def _concept(w: _Writer, node: ox.NamedNode, row: dict[str, str], lang: str) -> None:
    """What every concept row carries: labels, notes, schemes, status, modification date."""
    w.add(node, RDF_TYPE, ox.NamedNode(SKOS + "Concept"))
    if row.get("preferredLabel", "").strip():
        w.add(node, SKOS + "prefLabel", ox.Literal(row["preferredLabel"].strip(), language=lang))
    for column, prop in (("altLabels", "altLabel"), ("hiddenLabels", "hiddenLabel")):
        for label in _lines(row.get(column, "")):
            w.add(node, SKOS + prop, ox.Literal(label, language=lang))
    for column, prop in (("scopeNote", SKOS + "scopeNote"), ("definition", SKOS + "definition"), ("description", DCT + "description")):
        if row.get(column, "").strip():
            w.add(node, prop, ox.Literal(row[column].strip(), language=lang))
    for scheme in _lines(row.get("inScheme", "")):
        w.add(node, SKOS + "inScheme", ox.NamedNode(scheme))
    if row.get("status", "").strip():
        w.add(node, MODEL + "status", ox.Literal(row["status"].strip()))
    if row.get("modifiedDate", "").strip():
        w.add(node, DCT + "modified", ox.Literal(row["modifiedDate"].strip(), datatype=ox.NamedNode(XSD + "dateTime")))
    if row.get("code", "").strip():
        w.add(node, SKOS + "notation", ox.Literal(row["code"].strip()))


def _occupations(w: _Writer, path: Path, lang: str, tick: Callable[[], None]) -> int:
    codes: dict[str, ox.NamedNode] = {}
    pending: list[tuple[ox.NamedNode, str, str]] = []
    n = 0
    for line, row in _rows(path, ("conceptUri", "iscoGroup", "preferredLabel", "code")):
        where = f"{path.name}:{line}"
        node = _iri(row["conceptUri"], where)
        _concept(w, node, row, lang)
        w.add(node, RDF_TYPE, ox.NamedNode(MODEL + "Occupation"))
        w.add(node, RDF_TYPE, ox.NamedNode(MODEL + "MemberConcept"))
        if row.get("regulatedProfessionNote", "").strip():
            w.add(node, MODEL + "regulatedProfessionNote", _iri(row["regulatedProfessionNote"], where))
        isco = row["iscoGroup"].strip()
        if not isco.isdigit():
            raise EscoError(f"{where}: column iscoGroup: {isco!r} is not an ISCO code")
        code = row["code"].strip()
        codes[code] = node
        pending.append((node, code, isco))
        n += 1
        tick()
    for isco in sorted({isco for _, _, isco in pending}):
        group = ox.NamedNode(f"{ESCO}isco/C{isco}")
        w.add(group, RDF_TYPE, ox.NamedNode(SKOS + "Concept"))
        w.add(group, SKOS + "notation", ox.Literal(isco))
    for node, code, isco in pending:  # the parent is named by the code: the occupation one level up, else the ISCO group
        parent = codes.get(code.rsplit(".", 1)[0]) if "." in code else None
        w.add(node, SKOS + "broader", parent if parent is not None and parent != node else ox.NamedNode(f"{ESCO}isco/C{isco}"))
    return n


def _skills(w: _Writer, path: Path, lang: str, tick: Callable[[], None]) -> int:
    n = 0
    for line, row in _rows(path, ("conceptUri", "skillType", "preferredLabel")):
        where = f"{path.name}:{line}"
        node = _iri(row["conceptUri"], where)
        _concept(w, node, row, lang)
        w.add(node, RDF_TYPE, ox.NamedNode(MODEL + "Skill"))
        w.add(node, RDF_TYPE, ox.NamedNode(MODEL + "MemberConcept"))
        kind = row["skillType"].strip()
        if kind:
            if kind not in SKILL_TYPES:
                raise EscoError(f"{where}: column skillType: {kind!r} is not one of {', '.join(SKILL_TYPES)}")
            w.add(node, MODEL + "skillType", ox.NamedNode(SKILL_TYPES[kind]))
        level = row.get("reuseLevel", "").strip()
        if level:
            if level not in REUSE_LEVELS:
                raise EscoError(f"{where}: column reuseLevel: {level!r} is not one of {', '.join(sorted(REUSE_LEVELS))}")
            w.add(node, MODEL + "skillReuseLevel", ox.NamedNode(f"{ESCO}skill-reuse-level/{level}"))
        n += 1
        tick()
    return n


def _skill_groups(w: _Writer, path: Path, lang: str, tick: Callable[[], None]) -> int:
    n = 0
    for line, row in _rows(path, ("conceptUri", "preferredLabel")):
        _concept(w, _iri(row["conceptUri"], f"{path.name}:{line}"), row, lang)
        n += 1
        tick()
    return n


def _broader(w: _Writer, path: Path, _lang: str, tick: Callable[[], None]) -> int:
    n = 0
    for line, row in _rows(path, ("conceptType", "conceptUri", "broaderUri")):
        where = f"{path.name}:{line}"
        node = _iri(row["conceptUri"], where)
        w.add(node, SKOS + "broader", _iri(row["broaderUri"], where))
        if row["conceptType"].strip() == "KnowledgeSkillCompetence":
            w.add(node, RDF_TYPE, ox.NamedNode(MODEL + "Skill"))
        n += 1
        tick()
    return n


def _relation(kind: str, where: str) -> tuple[str, str]:
    if kind.strip() not in RELATIONS:
        raise EscoError(f"{where}: column relationType: {kind!r} is not one of {', '.join(RELATIONS)}")
    return RELATIONS[kind.strip()]


def _skill_relations(w: _Writer, path: Path, _lang: str, tick: Callable[[], None]) -> int:
    n = 0
    for line, row in _rows(path, ("originalSkillUri", "originalSkillType", "relationType", "relatedSkillType", "relatedSkillUri")):
        where = f"{path.name}:{line}"
        a, b = _iri(row["originalSkillUri"], where), _iri(row["relatedSkillUri"], where)
        related, _ = _relation(row["relationType"], where)
        w.add(a, MODEL + related, b)
        for node, kind in ((a, row["originalSkillType"].strip()), (b, row["relatedSkillType"].strip())):
            if kind in SKILL_TYPES:
                w.add(node, MODEL + "skillType", ox.NamedNode(SKILL_TYPES[kind]))
        n += 1
        tick()
    return n


def _occupation_skills(w: _Writer, path: Path, _lang: str, tick: Callable[[], None]) -> int:
    n = 0
    for line, row in _rows(path, ("occupationUri", "relationType", "skillUri")):
        where = f"{path.name}:{line}"
        occupation, skill = _iri(row["occupationUri"], where), _iri(row["skillUri"], where)
        related, inverse = _relation(row["relationType"], where)
        w.add(occupation, MODEL + related, skill)
        w.add(skill, MODEL + inverse, occupation)
        n += 1
        tick()
    return n


_READERS = {"occupations": _occupations, "skills": _skills, "skillGroups": _skill_groups,
            "broaderRelationsSkillPillar": _broader, "broaderRelationsOccPillar": _broader,
            "skillSkillRelations": _skill_relations, "occupationSkillRelations": _occupation_skills}


def import_csv(folder: Path, target: Path, lang: str = "en", progress: Progress | None = None) -> Report:
    """The ESCO CSV tables of ``folder`` (``<table>_<lang>.csv``) → N-Triples at ``target``."""
    present = [t for t in FILES if (folder / f"{t}_{lang}.csv").is_file()]
    if not present:
        raise EscoError(f"{folder}: no ESCO CSV table found (expected e.g. occupations_{lang}.csv)")
    report = Report(missing=[t for t in FILES if t not in present])
    try:
        with atomic_file(target) as f:
            w = _Writer(f)
            for table in present:
                path = folder / f"{table}_{lang}.csv"
                count = 0

                def tick() -> None:
                    nonlocal count
                    count += 1
                    if progress and count % PROGRESS_EVERY == 0:
                        progress(f"{path.name}: {count} records")

                report.tables[table] = _READERS[table](w, path, lang, tick)
                if progress:
                    progress(f"{path.name}: {report.tables[table]} records")
            w.flush()
    except csv.Error as e:
        raise EscoError(f"{folder}: CSV error: {e}") from None
    report.triples = w.count
    return report


def import_rdf(path: Path, target: Path, progress: Progress | None = None) -> Report:
    """An ESCO RDF dump (Turtle, N-Triples, N-Quads or RDF/XML) → N-Triples at ``target``, streamed."""
    fmt = RDF_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise EscoError(f"{path}: unknown RDF format; use one of {', '.join(RDF_FORMATS)}")
    report = Report()
    try:
        with atomic_file(target) as out, path.open("rb") as f:
            w = _Writer(out)
            for i, t in enumerate(ox.parse(f, format=fmt), 1):
                w.triple(ox.Triple(t.subject, t.predicate, t.object))
                if progress and i % (PROGRESS_EVERY * 20) == 0:
                    progress(f"{path.name}: {i} triples")
            w.flush()
    except SyntaxError as e:
        raise EscoError(f"{path.name}:{getattr(e, 'lineno', '?')}:{getattr(e, 'offset', '?')}: {e}") from None
    report.triples = report.tables["triples"] = w.count
    return report
