"""SSSOM mapping sets (``*.sssom.tsv``: a YAML block of ``#`` lines, then a TSV table) → RDF, at build time.

The RDF is SSSOM/RDF as the SSSOM specification writes it (« The SSSOM/RDF serialisation format »): the
mapping set is the resource named by its ``mapping_set_id`` (a ``sssom:MappingSet``); each row is an
``owl:Axiom`` (a blank node) that the set links with ``sssom:mappings``, with ``owl:annotatedSource``,
``owl:annotatedProperty`` and ``owl:annotatedTarget`` for subject, predicate and object; every other slot
is one triple whose property is the slot's ``slot_uri`` in the SSSOM LinkML schema (``author_id`` →
``pav:authoredBy``, ``mapping_date`` → ``dcterms:created`` …) or ``sssom:`` + the slot's name, and whose
value is typed by the slot's range (an IRI, an ``xsd:date``, an ``xsd:double``, a string). Propagatable
slots of the set are written propagated (the specification's advice for RDF read by applications that do
not know SSSOM): copied onto every mapping and removed from the set, unless a row has its own value, in
which case the set keeps its value. As the specification allows, the build also states the mapping itself
(``subject predicate object``, the "direct triple"), except for a row whose object or subject is
``sssom:NoTermFound``, which records that no suitable concept exists.

``SLOTS`` lists the slots read, with their property and range; ``tests/test_sssom_tools.py`` checks it
against the schema sssom-py ships and checks that ``sssom convert`` writes the same triples. Columns and
keys outside ``SLOTS`` are not carried.

Why not sssom-py at build time: it brings pandas and linkml for what is here a YAML header and a TSV
table; this reader checks what the build needs (columns, CURIEs, SKOS predicates, confidence, dates) with
line and column in every error, like the Turtle sources. Dates and numbers are checked against the
``xsd:date`` and ``xsd:double`` lexical forms they are written as, then by value (a day of the calendar,
the schema's bounds). sssom-py is in the ``sssom`` test extra.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import yaml

from ..errors import InputError
from ..namespaces import DCTERMS as DCT
from ..namespaces import OWL, PAV, PROV, RDF_TYPE, RDFS, SEMAPV, SKOS, SSSOM, XSD

NO_TERM_FOUND = SSSOM + "NoTermFound"
PREDICATES = {SKOS + p for p in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")}
REQUIRED_COLUMNS = ("subject_id", "predicate_id", "object_id", "mapping_justification", "confidence")
REQUIRED_METADATA = ("curie_map", "mapping_set_id", "license")
BUILT_IN = {"sssom": str(SSSOM), "skos": str(SKOS), "owl": str(OWL), "rdfs": str(RDFS), "semapv": str(SEMAPV)}
MULTIVALUE_SEPARATOR = "|"
"""Several values in one TSV cell (SSSOM/TSV)."""
XSD_DATE = re.compile(r"-?(?P<year>[1-9][0-9]{4,}|[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
                      r"(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?")
"""The ``xsd:date`` lexical space (XSD 1.1 Part 2, « date »: dateLexicalRep), which ``date.fromisoformat``
is wider than (``20240101``, ``2024-W01-1``); month and day are checked against the calendar after."""
XSD_DOUBLE = re.compile(r"(\+|-)?([0-9]+(\.[0-9]*)?|\.[0-9]+)([Ee](\+|-)?[0-9]+)?|(\+|-)?INF|NaN")
"""The ``xsd:double`` lexical space (XSD 1.1 Part 2, « double »), which ``float`` is wider than (``nan``,
``inf``, ``Infinity``, ``1_0``, digits of other scripts)."""


@dataclass(frozen=True)
class Slot:
    """An SSSOM slot as its RDF form needs it. ``kind``: ``entity`` (an EntityReference: a CURIE),
    ``uri`` (a NonRelativeURI), ``string``, ``double`` or ``date``; ``on``: ``set``, ``mapping`` or both;
    ``minimum`` and ``maximum``: the schema's ``minimum_value`` and ``maximum_value`` of a number."""

    property: str
    kind: str
    multivalued: bool = False
    propagated: bool = False
    on: tuple[str, ...] = ("set", "mapping")
    minimum: float | None = None
    maximum: float | None = None


_SET, _MAPPING = ("set",), ("mapping",)
SLOTS: dict[str, Slot] = {
    "mapping_set_version": Slot(OWL + "versionInfo", "string", on=_SET),
    "mapping_set_title": Slot(DCT + "title", "string", on=_SET),
    "mapping_set_description": Slot(DCT + "description", "string", on=_SET),
    "mapping_set_source": Slot(PROV + "wasDerivedFrom", "uri", multivalued=True, on=_SET),
    "mapping_set_confidence": Slot(SSSOM + "mapping_set_confidence", "double", on=_SET, minimum=0.0, maximum=1.0),
    "issue_tracker": Slot(SSSOM + "issue_tracker", "uri", on=_SET),
    "subject_label": Slot(SSSOM + "subject_label", "string", on=_MAPPING),
    "subject_category": Slot(SSSOM + "subject_category", "string", on=_MAPPING),
    "predicate_label": Slot(SSSOM + "predicate_label", "string", on=_MAPPING),
    "object_label": Slot(SSSOM + "object_label", "string", on=_MAPPING),
    "object_category": Slot(SSSOM + "object_category", "string", on=_MAPPING),
    "mapping_justification": Slot(SSSOM + "mapping_justification", "entity", on=_MAPPING),
    "author_id": Slot(PAV + "authoredBy", "entity", multivalued=True, on=_MAPPING),
    "author_label": Slot(SSSOM + "author_label", "string", multivalued=True, on=_MAPPING),
    "reviewer_id": Slot(SSSOM + "reviewer_id", "entity", multivalued=True, on=_MAPPING),
    "reviewer_label": Slot(SSSOM + "reviewer_label", "string", multivalued=True, on=_MAPPING),
    "mapping_source": Slot(SSSOM + "mapping_source", "entity", on=_MAPPING),
    "review_date": Slot(SSSOM + "review_date", "date", on=_MAPPING),
    "confidence": Slot(SSSOM + "confidence", "double", on=_MAPPING, minimum=0.0, maximum=1.0),
    "reviewer_agreement": Slot(SSSOM + "reviewer_agreement", "double", on=_MAPPING, minimum=-1.0, maximum=1.0),
    "similarity_score": Slot(SSSOM + "similarity_score", "double", on=_MAPPING, minimum=0.0, maximum=1.0),
    "match_string": Slot(SSSOM + "match_string", "string", multivalued=True, on=_MAPPING),
    "issue_tracker_item": Slot(SSSOM + "issue_tracker_item", "entity", on=_MAPPING),
    "creator_id": Slot(DCT + "creator", "entity", multivalued=True),
    "creator_label": Slot(SSSOM + "creator_label", "string", multivalued=True),
    "license": Slot(DCT + "license", "uri"),
    "publication_date": Slot(DCT + "issued", "date"),
    "see_also": Slot(RDFS + "seeAlso", "uri", multivalued=True),
    "other": Slot(SSSOM + "other", "string"),
    "comment": Slot(RDFS + "comment", "string"),
    "subject_source": Slot(SSSOM + "subject_source", "entity", propagated=True),
    "subject_source_version": Slot(SSSOM + "subject_source_version", "string", propagated=True),
    "object_source": Slot(SSSOM + "object_source", "entity", propagated=True),
    "object_source_version": Slot(SSSOM + "object_source_version", "string", propagated=True),
    "mapping_provider": Slot(SSSOM + "mapping_provider", "uri", propagated=True),
    "mapping_tool": Slot(SSSOM + "mapping_tool", "string", propagated=True),
    "mapping_tool_id": Slot(SSSOM + "mapping_tool_id", "entity", propagated=True),
    "mapping_tool_version": Slot(SSSOM + "mapping_tool_version", "string", propagated=True),
    "mapping_date": Slot(DCT + "created", "date", propagated=True),
    "similarity_measure": Slot(SSSOM + "similarity_measure", "string", propagated=True),
}
"""The slots read besides ``mapping_set_id``, ``curie_map`` and the mapping's subject, predicate and object,
as the SSSOM LinkML schema (sssom-schema 1.1) defines them: property (``slot_uri``), range, multivalued,
propagatable, bounds. Every number slot is bounded (confidences and scores 0–1, ``reviewer_agreement``
−1–1), so ``NaN`` and ``INF``, valid ``xsd:double`` forms, are refused as out of bounds. Enumerations
(``*_type``, ``mapping_cardinality``), ``record_id`` and extension slots are not read; a row with a
``predicate_modifier`` (``Not``: a negated mapping) is refused, since its mapping triple would say the
opposite."""


class SssomError(InputError):
    """A mapping set that cannot be read: ``file:line:column: reason``; ``field`` names the TSV column."""

    def __init__(self, path: str, message: str, line: int | None = None, column: int | None = None,
                 field: str | None = None) -> None:
        self.path, self.line, self.column, self.field = path, line, column, field
        self.message = f"column {field}: {message}" if field else message
        where = path + (f":{line}:{column or 1}" if line else "")
        super().__init__(f"{where}: {self.message}")


def is_xsd_date(text: str) -> bool:
    """``text`` is an ``xsd:date`` lexical form of a day that exists (proleptic Gregorian calendar, year 0
    allowed and a leap year, as XSD 1.1 has it)."""
    m = XSD_DATE.fullmatch(text)
    if not m:
        return False
    year, month, day = int(m["year"]), int(m["month"]), int(m["day"])
    year = -year if text.startswith("-") else year
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    return 1 <= month <= 12 and 1 <= day <= days[month - 1]


def xsd_double(text: str) -> float | None:
    """The value of an ``xsd:double`` lexical form (``NaN``, ``INF`` included), or ``None`` if ``text`` is
    not one."""
    if not XSD_DOUBLE.fullmatch(text):
        return None
    return float(text.replace("INF", "inf"))


def _split(text: str, name: str) -> tuple[dict, list[str], int]:
    """(metadata, table lines, line number of the table's header)."""
    lines = text.splitlines()
    header = [ln[1:] for ln in lines if ln.startswith("#")]
    start = next((i for i, ln in enumerate(lines) if not ln.startswith("#")), len(lines))
    try:
        meta = yaml.safe_load("\n".join(header)) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise SssomError(name, f"metadata block is not YAML: {getattr(e, 'problem', e)}",
                         mark.line + 1 if mark else None, mark.column + 2 if mark else None) from None
    if not isinstance(meta, dict):
        raise SssomError(name, "metadata block must be a YAML mapping", 1, 1)
    return meta, lines[start:], start + 1


def read(path: Path, name: str, graph: ox.NamedNode) -> list[ox.Quad]:
    """The quads of one mapping set, in ``graph``. ``name`` is the file as reported in errors."""
    text = path.read_text(encoding="utf-8")
    meta, table, first = _split(text, name)
    raw = text.splitlines()
    missing = [k for k in REQUIRED_METADATA if not meta.get(k)]
    if missing:
        raise SssomError(name, f"metadata lacks {', '.join(missing)}", 1, 1)
    prefixes = {**BUILT_IN, **{str(k): str(v) for k, v in (meta["curie_map"] or {}).items()}}

    def where(line: int, field: str) -> tuple[int, int | None, str]:
        """(line, character column, field) of a cell: the column is where the field starts in the raw line.
        Line 0 stands for the metadata block: the line of the key is looked up."""
        if line == 0:
            found = next((i for i, ln in enumerate(raw[:first], 1) if ln[1:].lstrip().startswith(field + ":")), 1)
            return found, 1, field
        if line < first or field not in header:
            return line, None, field
        cells = table[line - first].split("\t")
        index = header.index(field)
        return line, sum(len(c) + 1 for c in cells[:index]) + 1, field

    def expand(value: str, line: int, field: str) -> ox.NamedNode:
        value = value.strip()
        prefix, sep, local = value.partition(":")
        iri = prefixes[prefix] + local if sep and prefix in prefixes else value
        if not sep or (prefix not in prefixes and "://" not in value):
            raise SssomError(name, f"{value!r} is neither a CURIE with a prefix of curie_map nor an IRI", *where(line, field))
        try:
            return ox.NamedNode(iri)
        except ValueError:
            raise SssomError(name, f"{value!r} does not expand to an IRI", *where(line, field)) from None

    def term(slot: Slot, value: object, line: int, field: str) -> ox.NamedNode | ox.Literal:
        """One value of a slot as its range types it (SSSOM/RDF, « Representation of slot values »)."""
        if isinstance(value, (datetime.date, datetime.datetime)):  # unquoted YAML dates
            value = value.isoformat()
        text = str(value).strip()
        if slot.kind in ("entity", "uri"):
            return expand(text, line, field)
        if slot.kind == "date":
            if not is_xsd_date(text):
                raise SssomError(name, f"{text!r} is not a date (YYYY-MM-DD)", *where(line, field))
            return ox.Literal(text, datatype=ox.NamedNode(XSD + "date"))
        if slot.kind == "double":
            number = xsd_double(text)
            if number is None:
                raise SssomError(name, f"{text!r} is not a number", *where(line, field))
            if slot.minimum is not None and slot.maximum is not None and not slot.minimum <= number <= slot.maximum:
                raise SssomError(name, f"{text!r} is not between {slot.minimum:g} and {slot.maximum:g}", *where(line, field))
            return ox.Literal(text, datatype=ox.NamedNode(XSD + "double"))
        return ox.Literal(text)

    def values(slot: Slot, value: object, line: int, field: str) -> list[ox.NamedNode | ox.Literal]:
        if isinstance(value, list):
            items = value
        elif slot.multivalued and isinstance(value, str):
            items = value.split(MULTIVALUE_SEPARATOR)
        else:
            items = [value]
        return [term(slot, v, line, field) for v in items if v is not None and str(v).strip()]

    def q(s, p: str, o) -> ox.Quad:
        return ox.Quad(s, ox.NamedNode(p), o, graph)

    # The mapping set: a NonRelativeURI in SSSOM; a CURIE of curie_map is expanded.
    mapping_set = expand(str(meta["mapping_set_id"]), 0, "mapping_set_id")
    on_set = {key: values(slot, meta[key], 0, key) for key, slot in SLOTS.items()
              if "set" in slot.on and meta.get(key) is not None}

    reader = csv.DictReader(io.StringIO("\n".join(table)), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = list(reader.fieldnames or [])
    absent = [c for c in REQUIRED_COLUMNS if c not in header]
    if absent:
        raise SssomError(name, f"missing column(s) {', '.join(absent)}", first, 1)
    columns = [c for c in header if c in SLOTS and "mapping" in SLOTS[c].on]
    mappings: list[tuple[ox.NamedNode, ox.NamedNode, ox.NamedNode, dict[str, list]]] = []
    for row in reader:
        line = first + reader.line_num - 1
        if not any((v or "").strip() for v in row.values()):
            continue
        for c in REQUIRED_COLUMNS:
            if not (row.get(c) or "").strip():
                raise SssomError(name, "empty cell", *where(line, c))
        subject = expand(row["subject_id"], line, "subject_id")
        predicate = expand(row["predicate_id"], line, "predicate_id")
        obj = expand(row["object_id"], line, "object_id")
        if predicate.value not in PREDICATES:
            raise SssomError(name, f"{row['predicate_id']!r} is not a SKOS mapping relation "
                                   "(skos:exactMatch, closeMatch, broadMatch, narrowMatch, relatedMatch)", *where(line, "predicate_id"))
        if (row.get("predicate_modifier") or "").strip():  # "Not": the mapping does NOT hold
            raise SssomError(name, f"predicate_modifier {row['predicate_modifier'].strip()!r}: negated mappings are "
                                   "not read (rkg would state the mapping triple); leave the row out of the set",
                             *where(line, "predicate_modifier"))
        confidence = xsd_double(row["confidence"].strip())
        if confidence is None or not 0.0 <= confidence <= 1.0:  # NaN included
            raise SssomError(name, f"{row['confidence']!r} is not a confidence between 0 and 1", *where(line, "confidence"))
        slots = {c: values(SLOTS[c], row[c], line, c) for c in columns if (row.get(c) or "").strip()}
        mappings.append((subject, predicate, obj, slots))
    if not mappings:
        raise SssomError(name, "no mapping rows", first, 1)

    # Propagation (SSSOM, « Propagation of mapping set slots »): only when no mapping has its own value.
    for key, vals in list(on_set.items()):
        slot = SLOTS[key]
        if slot.propagated and "mapping" in slot.on and not any(key in m[3] for m in mappings):
            for *_, slots in mappings:
                slots[key] = vals
            del on_set[key]

    out = [q(mapping_set, RDF_TYPE, ox.NamedNode(SSSOM + "MappingSet"))]
    out += [q(mapping_set, SLOTS[key].property, v) for key, vals in on_set.items() for v in vals]
    for subject, predicate, obj, slots in mappings:
        if NO_TERM_FOUND not in (subject.value, obj.value):
            out.append(q(subject, predicate.value, obj))  # the direct triple
        axiom = ox.BlankNode()
        out += [q(mapping_set, SSSOM + "mappings", axiom), q(axiom, RDF_TYPE, ox.NamedNode(OWL + "Axiom")),
                q(axiom, OWL + "annotatedSource", subject), q(axiom, OWL + "annotatedProperty", predicate),
                q(axiom, OWL + "annotatedTarget", obj)]
        out += [q(axiom, SLOTS[key].property, v) for key, vals in slots.items() for v in vals]
    return out
