"""SSSOM mapping sets (``*.sssom.tsv``: a YAML block of ``#`` lines, then a TSV table) → RDF, at build time.

Each row gives the SKOS mapping triple (``subject predicate object``) and, as SSSOM's own RDF form does, an
``owl:Axiom`` annotating that triple with the row's justification, confidence, author, date, comment and
the object source's version; the mapping set is a ``sssom:MappingSet`` with its metadata. A row whose object
is ``sssom:NoTermFound`` records that no suitable concept exists: it keeps its axiom (with the reason) but
states no mapping triple.

Why not sssom-py: it brings pandas and linkml-runtime for what is here a YAML header and a TSV table;
this reader checks what the build needs (columns, CURIEs, SKOS predicates, confidence) with line and
column in every error, like the Turtle sources.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyoxigraph as ox
import yaml

from ..errors import InputError
from ..namespaces import DCTERMS as DCT
from ..namespaces import OWL, RDF_TYPE, RDFS, SEMAPV, SKOS, SSSOM, XSD

NO_TERM_FOUND = SSSOM + "NoTermFound"
PREDICATES = {SKOS + p for p in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")}
REQUIRED_COLUMNS = ("subject_id", "predicate_id", "object_id", "mapping_justification", "confidence")
REQUIRED_METADATA = ("curie_map", "mapping_set_id", "license")
BUILT_IN = {"sssom": str(SSSOM), "skos": str(SKOS), "owl": str(OWL), "rdfs": str(RDFS), "semapv": str(SEMAPV)}
_SET_LITERALS = {"mapping_set_version": OWL + "versionInfo", "mapping_set_title": DCT + "title",
                 "mapping_set_description": DCT + "description", "mapping_date": DCT + "created",
                 "object_source_version": SSSOM + "object_source_version"}
_SET_IRIS = {"license": DCT + "license", "object_source": SSSOM + "object_source",
             "subject_source": SSSOM + "subject_source"}
_ROW_IRIS = ("mapping_justification", "author_id")


class SssomError(InputError):
    """A mapping set that cannot be read: ``file:line:column: reason``; ``field`` names the TSV column."""

    def __init__(self, path: str, message: str, line: int | None = None, column: int | None = None,
                 field: str | None = None) -> None:
        self.path, self.line, self.column, self.field = path, line, column, field
        self.message = f"column {field}: {message}" if field else message
        where = path + (f":{line}:{column or 1}" if line else "")
        super().__init__(f"{where}: {self.message}")


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

    def q(s, p: str, o) -> ox.Quad:
        return ox.Quad(s, ox.NamedNode(p), o, graph)

    mapping_set = expand(str(meta["mapping_set_id"]), 0, "mapping_set_id")
    out = [q(mapping_set, RDF_TYPE, ox.NamedNode(SSSOM + "MappingSet"))]
    for key, prop in _SET_LITERALS.items():
        if meta.get(key) is not None:
            out.append(q(mapping_set, prop, ox.Literal(str(meta[key]))))
    for key, prop in _SET_IRIS.items():
        if meta.get(key):
            out.append(q(mapping_set, prop, expand(str(meta[key]), 0, key)))
    version = meta.get("object_source_version")

    reader = csv.DictReader(io.StringIO("\n".join(table)), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = list(reader.fieldnames or [])
    absent = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if absent:
        raise SssomError(name, f"missing column(s) {', '.join(absent)}", first, 1)
    rows = 0
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
        try:
            confidence = float(row["confidence"])
        except ValueError:
            confidence = -1.0
        if not 0.0 <= confidence <= 1.0:
            raise SssomError(name, f"{row['confidence']!r} is not a confidence between 0 and 1", *where(line, "confidence"))
        if obj.value != NO_TERM_FOUND:
            out.append(q(subject, predicate.value, obj))
        axiom = ox.BlankNode()
        out += [q(axiom, RDF_TYPE, ox.NamedNode(OWL + "Axiom")), q(axiom, OWL + "annotatedSource", subject),
                q(axiom, OWL + "annotatedProperty", predicate), q(axiom, OWL + "annotatedTarget", obj),
                q(axiom, SSSOM + "confidence", ox.Literal(row["confidence"].strip(), datatype=ox.NamedNode(XSD + "double"))),
                q(axiom, DCT + "isPartOf", mapping_set)]
        for column in _ROW_IRIS:
            if (row.get(column) or "").strip():
                out.append(q(axiom, SSSOM + column, expand(row[column], line, column)))
        for column in ("subject_label", "object_label"):  # as the mapping set names them (no claim on the concept)
            if (row.get(column) or "").strip():
                out.append(q(axiom, SSSOM + column, ox.Literal(row[column].strip())))
        if (row.get("comment") or "").strip():
            out.append(q(axiom, RDFS + "comment", ox.Literal(row["comment"].strip(), language="en")))
        if (row.get("mapping_date") or "").strip():
            # a plain literal: xsd:date is outside the OWL 2 datatype map, which the reasoner reads
            out.append(q(axiom, SSSOM + "mapping_date", ox.Literal(row["mapping_date"].strip())))
        if version is not None:
            out.append(q(axiom, SSSOM + "object_source_version", ox.Literal(str(version))))
        rows += 1
    if not rows:
        raise SssomError(name, "no mapping rows", first, 1)
    return out
