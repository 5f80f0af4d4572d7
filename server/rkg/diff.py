"""The difference between two versions of one programme's référentiel: entities added, removed and changed.

Addressing. The model gives each version a resource (``rkg:FrameworkVersion``, ``rkg:offerPeriod``) but
does not say which named graphs hold its statements; the graph naming does (README, « IRI policy »): a
version is a folder of the programme's data, ``…/graph/[…/]{programme}/{version}/{file}``. So ``FROM`` and
``TO`` are version names as they appear in graph IRIs (``2024-2028``), and a version's statements are
those of every graph under that folder (the transcription, the English labels, the interpretations).
Graphs beside the folders (``external-facts``, ``profile``), the build graph and the imports are not
compared.

Matching. Entities are matched by IRI. Where a code, hence an IRI, changed, a ``prov:wasRevisionOf``
statement in the new version names the entity the new IRI continues: the pair is shown as one changed
entity (``revision_of``; the old IRI is read as the new one everywhere, so its parents do not show it
removed and added again). Without that link it is a removal and an addition; a removed and an added
entity of the same type with the same label are then offered as a suggested pair.

Properties. For an entity present in both versions, each property whose values differ: the values
removed (``old``) and added (``new``). A link stored on the parent (a block ``rkg:hasCriticalLearning``
an AC) is also shown on the child under the inverse property when the ontology declares that inverse
functional (``rkg:criticalLearningOf``): a moved AC shows its old and new block. Blank nodes (the axiom
annotations of the interpretations) are not compared: they have no identity across versions.

Everything is read with SPARQL through a ``select`` function (a text query → rows of terms), so the CLI
runs it on an :class:`~rkg.store.EmbeddedStore` (:func:`store_select`) and the web pages in their sandbox
pool; no graph is copied into Python. Entities are ordered by type, then code in natural order.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote

import pyoxigraph as ox

from .errors import InputError, NotFound
from .namespaces import DCTERMS, GRAPH, PREFIXES, PROV, RDF, RKG, SKOS, natural, programme_id, programme_iri, prologue

FORMATS = ("text", "json", "csv", "markdown")
LANGS = ("fr", "en")


class Cell(Protocol):
    """One term of a result row: ``kind`` is ``uri``, ``literal`` or ``bnode`` (SPARQL JSON's types)."""

    value: str
    kind: str
    lang: str


@dataclass(frozen=True)
class Term:
    value: str
    kind: str
    lang: str = ""


Row = Mapping[str, Cell]
Select = Callable[[str], list[Row]]
"""Runs a SELECT query on the union default graph and returns its rows (unbound columns absent)."""


def store_select(store) -> Select:
    """The :data:`Select` of an :class:`~rkg.store.EmbeddedStore` (or any ``rkg.store.Store``)."""

    def select(query: str) -> list[Row]:
        table = store.select(query)
        rows = []
        for values in table.rows:
            row = {}
            for name, t in zip(table.columns, values):
                if isinstance(t, ox.NamedNode):
                    row[name] = Term(t.value, "uri")
                elif isinstance(t, ox.Literal):
                    row[name] = Term(t.value, "literal", t.language or "")
                elif t is not None:
                    row[name] = Term(t.value, "bnode")
            rows.append(row)
        return rows

    return select


# ---------------------------------------------------------------- the result


@dataclass(frozen=True)
class Ref:
    """An entity as the diff names it: IRI, code (``skos:notation``), label, type."""

    iri: str
    code: str = ""
    label: str = ""
    type: str = ""
    type_label: str = ""

    def name(self) -> str:
        """``C2 — Animer une séance``, the label or the code alone, else the IRI."""
        if self.code and self.label and self.label != self.code:
            return f"{self.code} — {self.label}"
        return self.label or self.code or self.iri

    def as_json(self) -> dict[str, str]:
        return {"entity": self.iri, "code": self.code, "label": self.label, "type": self.type,
                "type_label": self.type_label}

    def sort_key(self) -> tuple:
        return (natural(_local(self.type)), natural(self.code), self.label, self.iri)


@dataclass(frozen=True)
class Value:
    """A value of a property: an IRI (named by code and label) or a literal (with its language)."""

    value: str
    iri: bool
    code: str = ""
    label: str = ""
    lang: str = ""

    def text(self) -> str:
        if not self.iri:
            return f"« {self.value} »" if self.lang else self.value
        return Ref(self.value, self.code, self.label).name() if (self.code or self.label) else curie(self.value)

    def as_json(self) -> dict[str, str]:
        if self.iri:
            return {"iri": self.value, "code": self.code, "label": self.label}
        return {"value": self.value, "lang": self.lang}

    def sort_key(self) -> tuple:
        return (natural(self.code or self.value), self.value)


@dataclass
class Change:
    property: str
    property_label: str
    old: list[Value] = field(default_factory=list)
    new: list[Value] = field(default_factory=list)
    single: bool = False
    """One value replaced by one other, none kept beside it (in that language, for texts): shown old → new."""

    def as_json(self) -> dict:
        return {"property": self.property, "property_label": self.property_label,
                "old": [v.as_json() for v in self.old], "new": [v.as_json() for v in self.new]}


@dataclass
class Changed:
    entity: Ref
    changes: list[Change]
    revision_of: Ref | None = None

    def as_json(self) -> dict:
        out: dict = self.entity.as_json()
        out["changes"] = [c.as_json() for c in self.changes]
        out["revision_of"] = None if self.revision_of is None else self.revision_of.as_json()
        return out


@dataclass
class Diff:
    programme: str
    old: str
    new: str
    lang: str
    added: list[Ref]
    removed: list[Ref]
    changed: list[Changed]
    suggested: list[tuple[Ref, Ref]]
    """(removed, added) pairs of the same type and label, not linked by ``prov:wasRevisionOf``."""

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def as_json(self) -> dict:
        return {"programme": self.programme, "from": self.old, "to": self.new,
                "added": [r.as_json() for r in self.added], "removed": [r.as_json() for r in self.removed],
                "changed": [c.as_json() for c in self.changed],
                "suggested": [{"removed": a.as_json(), "added": b.as_json()} for a, b in self.suggested]}


def curie(iri: str) -> str:
    """``rkg:hasCompetency`` for a term of a known vocabulary, ``demo-diff/competency/C2`` for an instance."""
    if iri.startswith(PREFIXES["rkgid"]):
        return iri[len(PREFIXES["rkgid"]):]
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and prefix != "rkgid":
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def _local(iri: str) -> str:
    return re.split(r"[#/]", iri)[-1] if iri else ""


# ---------------------------------------------------------------- versions


def versions(graphs: Iterable[str], programme: str) -> dict[str, list[str]]:
    """Version name → its named graphs, for the graph IRIs ``graphs`` of the store: the folder after the
    programme's segment in ``…/graph/[…/]{programme}/{version}/{file}``, in natural order."""
    pid = programme_id(programme_iri(programme))
    found: dict[str, list[str]] = {}
    for g in graphs:
        if not g.startswith(str(GRAPH)):
            continue
        parts = g[len(str(GRAPH)):].split("/")
        for i in range(len(parts) - 2):
            if parts[i] == pid:
                found.setdefault(unquote(parts[i + 1]), []).append(g)
                break
    return {v: sorted(found[v]) for v in sorted(found, key=natural)}


def _iris(values: Iterable[str]) -> str:
    return " ".join(str(ox.NamedNode(v)) for v in sorted(set(values)))


Q_PROGRAMMES = prologue("rkg") + "SELECT DISTINCT ?p WHERE { ?p a rkg:Programme }"

# Triples of one side's graphs that the other side's graphs lack; IRI subjects, no blank-node objects.
Q_DIFF = """SELECT DISTINCT ?side ?s ?p ?o WHERE {
  { VALUES ?g { %(old)s } GRAPH ?g { ?s ?p ?o }
    FILTER(isIRI(?s) && !isBlank(?o))
    FILTER NOT EXISTS { VALUES ?h { %(new)s } GRAPH ?h { ?s ?p ?o } }
    BIND("old" AS ?side) }
  UNION
  { VALUES ?g { %(new)s } GRAPH ?g { ?s ?p ?o }
    FILTER(isIRI(?s) && !isBlank(?o))
    FILTER NOT EXISTS { VALUES ?h { %(old)s } GRAPH ?h { ?s ?p ?o } }
    BIND("new" AS ?side) }
}"""

Q_SUBJECTS = """SELECT DISTINCT ?side ?s WHERE {
  { VALUES ?g { %(old)s } GRAPH ?g { ?s ?p ?o } FILTER(isIRI(?s)) BIND("old" AS ?side) }
  UNION
  { VALUES ?g { %(new)s } GRAPH ?g { ?s ?p ?o } FILTER(isIRI(?s)) BIND("new" AS ?side) }
}"""

# Type, code and label of some entities in one version's graphs.
Q_DESCRIBE = prologue("rdf", "skos") + """SELECT DISTINCT ?e ?p ?v WHERE {
  VALUES ?e { %(entities)s } VALUES ?g { %(graphs)s } VALUES ?p { rdf:type skos:notation skos:prefLabel }
  GRAPH ?g { ?e ?p ?v }
}"""

# The same for terms outside the versions (ontology terms, classes, properties, outside IRIs): all graphs.
Q_TERMS = prologue("rdfs", "skos") + """SELECT DISTINCT ?e ?p ?v WHERE {
  VALUES ?e { %(entities)s } VALUES ?p { rdfs:label skos:notation skos:prefLabel }
  ?e ?p ?v
}"""

# Values each (entity, property, language) keeps in the new version, to tell a replaced value (old → new)
# from one gained or lost beside others.
Q_COUNTS = """SELECT ?s ?p ?l (COUNT(DISTINCT ?o) AS ?n) WHERE {
  VALUES (?s ?p) { %(pairs)s } VALUES ?g { %(graphs)s }
  GRAPH ?g { ?s ?p ?o } BIND(IF(isLiteral(?o), LANG(?o), "") AS ?l)
} GROUP BY ?s ?p ?l"""

# Functional inverses the ontology declares, either way round.
Q_INVERSES = prologue("owl") + """SELECT DISTINCT ?p ?q WHERE {
  VALUES ?p { %(properties)s }
  { ?p owl:inverseOf ?q } UNION { ?q owl:inverseOf ?p }
  ?q a owl:FunctionalProperty .
}"""

FALLBACK_LABELS: dict[str, dict[str, str]] = {
    "fr": {str(SKOS.notation): "code", str(SKOS.prefLabel): "libellé", str(SKOS.altLabel): "autre libellé",
           str(RDF.type): "type", str(DCTERMS.source): "source"},
    "en": {str(SKOS.notation): "code", str(SKOS.prefLabel): "label", str(SKOS.altLabel): "other label",
           str(RDF.type): "type", str(DCTERMS.source): "source"},
}
"""Labels of the general terms the ontology graph does not label (it labels rkg's own)."""

IGNORED = {str(PROV.wasRevisionOf)}
"""Properties not shown as changes (the revision link is shown as ``revision_of``)."""


@dataclass
class _Names:
    """What the queries said about the IRIs named in the diff: labels by language, codes, types."""

    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    types: dict[str, list[str]] = field(default_factory=dict)

    def read(self, rows: list[Row]) -> None:
        """Rows ``?e ?p ?v`` of :data:`Q_DESCRIBE` or :data:`Q_TERMS`; of several codes or labels in one
        language, the first in (natural) order, so that the answer does not depend on the engine's order."""
        for r in rows:
            e, p, v = r["e"].value, r["p"].value, r["v"]
            if p == str(RDF.type):
                self.types.setdefault(e, []).append(v.value)
            elif p == str(SKOS.notation):
                self.codes[e] = min(self.codes[e], v.value, key=natural) if e in self.codes else v.value
            elif v.kind == "literal":
                texts = self.labels.setdefault(e, {})
                texts[v.lang] = min(texts.get(v.lang, v.value), v.value)

    def label(self, iri: str, lang: str) -> str:
        texts = self.labels.get(iri, {})
        for key in (lang, *LANGS, ""):
            if texts.get(key):
                return texts[key]
        return next(iter(sorted(texts.values())), "")

    def ref(self, iri: str, lang: str, terms: "_Names") -> Ref:
        types = sorted(self.types.get(iri, []), key=lambda t: (not t.startswith(str(RKG)), t))
        kind = types[0] if types else ""
        return Ref(iri, self.codes.get(iri, ""), self.label(iri, lang), kind,
                   terms.label(kind, lang) or _local(kind))


def compare(select: Select, named_graphs: Iterable[str], programme: str, old: str, new: str, lang: str = "fr") -> Diff:
    """The difference from version ``old`` to version ``new`` of ``programme`` (IRI or short id), in the
    store whose named graphs are ``named_graphs`` (IRIs: the caller knows them, no graph listing is queried).

    Raises :class:`~rkg.errors.NotFound` for an unknown programme and :class:`~rkg.errors.InputError`
    for a version the programme does not have, naming the known ones."""
    if lang not in LANGS:
        raise InputError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    iri = programme_iri(programme.strip())
    known = sorted({r["p"].value for r in select(Q_PROGRAMMES)})
    if iri not in known:
        raise NotFound(f"no programme {programme!r} in the graph; known programmes: "
                       f"{', '.join(programme_id(p) for p in known) or 'none'}")
    by_version = versions(named_graphs, iri)
    for v in (old, new):
        if v not in by_version:
            raise InputError(f"{programme_id(iri)} has no version {v!r}; known versions: "
                             f"{', '.join(by_version) or 'none'} (version folders of its data, as in graph IRIs)")
    graphs = {"old": _iris(by_version[old]), "new": _iris(by_version[new])}

    triples: dict[str, set[tuple[str, str, Term]]] = {"old": set(), "new": set()}
    for r in select(Q_DIFF % graphs):
        o = r["o"]
        triples[r["side"].value].add((r["s"].value, r["p"].value, Term(o.value, o.kind, o.lang)))
    subjects: dict[str, set[str]] = {"old": set(), "new": set()}
    for r in select(Q_SUBJECTS % graphs):
        subjects[r["side"].value].add(r["s"].value)
    added_iris = subjects["new"] - subjects["old"]
    removed_iris = subjects["old"] - subjects["new"]

    # prov:wasRevisionOf in the new version, from an added IRI to a removed one: a renamed code
    revisions: dict[str, str] = {}  # old IRI → new IRI
    revised: dict[str, str] = {}  # new IRI → old IRI
    for s, p, o in sorted(triples["new"], key=lambda t: (t[0], t[2].value)):
        if p == str(PROV.wasRevisionOf) and s in added_iris and o.value in removed_iris and o.value not in revisions:
            if s not in revised:
                revisions[o.value], revised[s] = s, o.value

    def renamed(t: Term) -> Term:
        return Term(revisions[t.value], t.kind) if t.kind == "uri" and t.value in revisions else t

    old_triples = {(revisions.get(s, s), p, renamed(o)) for s, p, o in triples["old"]}
    new_triples = triples["new"]
    old_triples, new_triples = old_triples - new_triples, new_triples - old_triples
    added_iris -= set(revisions.values())
    removed_iris -= set(revisions)

    per_entity: dict[str, dict[str, tuple[set[Term], set[Term]]]] = {}
    for side, found in ((0, old_triples), (1, new_triples)):
        for s, p, o in found:
            if p in IGNORED or s in added_iris or s in removed_iris:
                continue
            per_entity.setdefault(s, {}).setdefault(p, (set(), set()))[side].add(o)

    properties = {p for changes in per_entity.values() for p in changes}
    inverses = {r["p"].value: r["q"].value for r in select(Q_INVERSES % {"properties": _iris(properties)})} if properties else {}
    entities = subjects["old"] | subjects["new"]
    came_or_went = added_iris | removed_iris
    for s, changes in list(per_entity.items()):
        for p, (gone, came) in list(changes.items()):
            q = inverses.get(p)
            if q is None:
                continue
            for side, values in ((0, gone), (1, came)):
                for o in values:
                    target = o.value
                    if o.kind == "uri" and target in entities and target not in came_or_went:
                        per_entity.setdefault(target, {}).setdefault(q, (set(), set()))[side].add(Term(s, "uri"))

    # names: the new version's for what it holds, the old one's for the rest, then every graph's for terms
    named = set(per_entity) | added_iris | removed_iris | set(revisions)
    values = {o.value for changes in per_entity.values() for gone, came in changes.values() for o in gone | came
              if o.kind == "uri"}
    new_names, old_names, terms = _Names(), _Names(), _Names()
    want = named | values
    if want:
        new_names.read(select(Q_DESCRIBE % {"entities": _iris(want), "graphs": graphs["new"]}))
        old_names.read(select(Q_DESCRIBE % {"entities": _iris(want), "graphs": graphs["old"]}))
    types = {t for n in (new_names, old_names) for ts in n.types.values() for t in ts}
    properties = {p for changes in per_entity.values() for p in changes}
    outside = (values - set(new_names.labels) - set(old_names.labels)) | types | properties
    if outside:
        terms.read(select(Q_TERMS % {"entities": _iris(outside)}))

    def ref(iri: str, version: str = "new") -> Ref:
        first, second = (new_names, old_names) if version == "new" else (old_names, new_names)
        for names in (first, second):
            if iri in names.types or iri in names.labels or iri in names.codes:
                return names.ref(iri, lang, terms)
        return Ref(iri, terms.codes.get(iri, ""), terms.label(iri, lang))

    def value(t: Term, version: str) -> Value:
        if t.kind != "uri":
            return Value(t.value, False, lang=t.lang)
        r = ref(t.value, version)
        return Value(t.value, True, r.code, r.label)

    counts: dict[tuple[str, str, str], int] = {}
    pairs = [(s, p) for s, changes in per_entity.items() for p in changes]
    if pairs:
        text = " ".join(f"({ox.NamedNode(s)} {ox.NamedNode(p)})" for s, p in sorted(pairs))
        for r in select(Q_COUNTS % {"pairs": text, "graphs": graphs["new"]}):
            counts[(r["s"].value, r["p"].value, r["l"].value if "l" in r else "")] = int(r["n"].value)

    def single(s: str, p: str, gone: set[Term], came: set[Term]) -> bool:
        if len(gone) != 1 or len(came) != 1:
            return False
        (o,), (n,) = gone, came
        return o.lang == n.lang and counts.get((s, p, n.lang), 1) <= 1

    changed = []
    for s, changes in per_entity.items():
        out = []
        for p, (gone, came) in changes.items():
            out.append(Change(p, terms.label(p, lang) or FALLBACK_LABELS[lang].get(p) or curie(p),
                              sorted((value(o, "old") for o in gone), key=Value.sort_key),
                              sorted((value(o, "new") for o in came), key=Value.sort_key), single(s, p, gone, came)))
        out.sort(key=lambda c: (c.property_label.casefold(), c.property))
        before = revised.get(s)
        changed.append(Changed(ref(s), out, None if before is None else ref(before, "old")))
    for before, after in revisions.items():  # a revision whose statements are otherwise the same
        if after not in per_entity:
            changed.append(Changed(ref(after), [], ref(before, "old")))
    changed.sort(key=lambda c: c.entity.sort_key())
    added = sorted((ref(i) for i in added_iris), key=Ref.sort_key)
    removed = sorted((ref(i, "old") for i in removed_iris), key=Ref.sort_key)
    by_name: dict[tuple[str, str], list[Ref]] = {}  # added entities by (type, label): no removed × added loop
    for a in added:
        by_name.setdefault((a.type, _folded(a.label)), []).append(a)
    suggested = [(r, a) for r in removed if r.label for a in by_name.get((r.type, _folded(r.label)), [])]
    return Diff(programme_id(iri), old, new, lang, added, removed, changed, suggested)


def _folded(label: str) -> str:
    """A label as suggested pairs compare it: spaces collapsed, case folded."""
    return " ".join(label.split()).casefold()


# ---------------------------------------------------------------- renderers

WORDS: dict[str, dict[str, str]] = {
    "fr": {"added": "Ajouts", "removed": "Suppressions", "changed": "Modifications", "suggested": "Paires suggérées",
           "none": "Aucune différence.", "formerly_code": "ancien code", "formerly_iri": "ancien IRI",
           "suggest": "même libellé ; si c'est la même entité sous un autre code, le dire par prov:wasRevisionOf dans la nouvelle version",
           "no_change": "nouvel IRI, mêmes énoncés", "colon": " : "},
    "en": {"added": "Added", "removed": "Removed", "changed": "Changed", "suggested": "Suggested pairs",
           "none": "No differences.", "formerly_code": "formerly", "formerly_iri": "formerly IRI",
           "suggest": "same label; if it is the same entity under another code, say so with prov:wasRevisionOf in the new version",
           "no_change": "new IRI, same statements", "colon": ": "},
}


def change_text(c: Change, show: Callable[[Value], str] = Value.text) -> str:
    """``libellé : « a » → « b »`` for one value replaced by another, else ``+ x, + y ; − z``; each value
    written by ``show``."""
    if c.single:
        return f"{show(c.old[0])} → {show(c.new[0])}"
    parts = [", ".join("+ " + show(v) for v in c.new), ", ".join("− " + show(v) for v in c.old)]
    return " ; ".join(p for p in parts if p)


def formerly(c: Changed, w: Mapping[str, str]) -> str:
    """``ancien code C2`` when the code changed, else ``ancien IRI demo-diff/block/BC01/ac/AC3``."""
    old = c.revision_of
    if old is None:
        return ""
    if old.code and old.code != c.entity.code:
        return f"{w['formerly_code']} {old.code}"
    return f"{w['formerly_iri']} {curie(old.iri)}"


_LINE_BREAK = re.compile(r"\s*[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]\s*")
"""A line break (``str.splitlines``'s: LF, CR, VT, FF, the ASCII separators, NEL, LS, PS) with the spaces
around it."""


def one_line(text: str) -> str:
    """``text`` with its line breaks made spaces: a label spread over lines adds no line (no bullet, heading
    or rule in the release notes, no entry in the text listing)."""
    return _LINE_BREAK.sub(" ", text)


def render_text(d: Diff) -> str:
    w = WORDS[d.lang]
    lines = [f"{d.programme}: {d.old} → {d.new}"]
    if d.empty:
        lines.append(w["none"])
    for key, mark, refs in (("added", "+", d.added), ("removed", "-", d.removed)):
        if refs:
            lines.append(f"{w[key]} ({len(refs)})")
            lines += [f"  {mark} {r.type_label}  {r.name()}" for r in refs]
    if d.changed:
        lines.append(f"{w['changed']} ({len(d.changed)})")
        for c in d.changed:
            was = f"  ({formerly(c, w)})" if c.revision_of else ""
            lines.append(f"  ~ {c.entity.type_label}  {c.entity.name()}{was}")
            lines += [f"      {ch.property_label}: {change_text(ch)}" for ch in c.changes]
    if d.suggested:
        lines.append(f"{w['suggested']} ({len(d.suggested)})")
        lines += [f"  ? {a.name()} → {b.name()}  ({w['suggest']})" for a, b in d.suggested]
    return "\n".join(one_line(line) for line in lines) + "\n"


CSV_COLUMNS = ("change", "type", "entity", "code", "label", "property", "property_label", "old", "new", "revision_of")


def render_csv(d: Diff) -> str:
    """One row per added, removed or suggested entity and per changed property (``old`` and ``new``: the
    values named by code and label, several joined by `` | ``). Cells are data, as in the query results'
    CSV: quoted where CSV needs it (a label's line breaks kept), never rewritten, so a cell that starts
    with ``=``, ``+``, ``-`` or ``@`` is not prefixed with ``'`` (README, « Differences between versions »)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for change, refs in (("added", d.added), ("removed", d.removed)):
        for r in refs:
            w.writerow([change, r.type_label, r.iri, r.code, r.label, "", "", "", "", ""])
    for c in d.changed:
        e, rev = c.entity, c.revision_of.iri if c.revision_of else ""
        for ch in c.changes or [None]:
            prop = ("", "", "", "") if ch is None else (ch.property, ch.property_label, " | ".join(v.text() for v in ch.old),
                                                      " | ".join(v.text() for v in ch.new))
            w.writerow(["changed", e.type_label, e.iri, e.code, e.label, *prop, rev])
    for a, b in d.suggested:
        w.writerow(["suggested", b.type_label, b.iri, b.code, b.label, "", "", a.name(), b.name(), a.iri])
    return out.getvalue()


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|&~])")
_MD_LEADING = re.compile(r"^(\s*)([-+]|[0-9]+(?=[.)](?:\s|$)))")
"""A list marker at the start of a text, which a bullet's text would open a nested list with."""


def md(text: str) -> str:
    """Text on one line with Markdown's markup characters escaped, and a leading ``-``, ``+`` or ``1.``:
    a label is never read as markup (a bullet, a heading, a rule, a link, an entity, a nested list)."""
    escaped = _MD_SPECIAL.sub(r"\\\1", one_line(text))
    return _MD_LEADING.sub(lambda m: m[1] + ("\\" + m[2] if m[2] in "-+" else m[2] + "\\"), escaped)


def _md_ref(r: Ref) -> str:
    name = f"**{md(r.code)}**" + (f" — {md(r.label)}" if r.label and r.label != r.code else "") if r.code else md(r.label or r.iri)
    return f"{md(r.type_label)} {name}".strip()


def render_markdown(d: Diff) -> str:
    """Release notes: a heading per kind of change, a bullet per entity, a sub-bullet per property."""
    w = WORDS[d.lang]
    lines = [f"# {md(d.programme)}{w['colon']}{md(d.old)} → {md(d.new)}", ""]
    if d.empty:
        lines += [w["none"], ""]
    for key, refs in (("added", d.added), ("removed", d.removed)):
        if refs:
            lines += [f"## {w[key]}", "", *(f"- {_md_ref(r)}" for r in refs), ""]
    if d.changed:
        lines += [f"## {w['changed']}", ""]
        for c in d.changed:
            was = f" ({md(formerly(c, w))})" if c.revision_of is not None else ""
            lines.append(f"- {_md_ref(c.entity)}{was}")
            for ch in c.changes:
                text = change_text(ch, lambda v: md(v.text()))
                lines.append(f"  - {md(ch.property_label)}{w['colon']}{text}")
            if not c.changes:
                lines.append(f"  - {w['no_change']}")
        lines.append("")
    if d.suggested:
        lines += [f"## {w['suggested']}", ""]
        lines += [f"- {md(a.name())} → {md(b.name())} ({w['suggest']})" for a, b in d.suggested]
        lines.append("")
    return "\n".join(lines)


def render_json(d: Diff) -> str:
    return json.dumps(d.as_json(), ensure_ascii=False, indent=2) + "\n"


def render(d: Diff, fmt: str) -> str:
    if fmt not in FORMATS:
        raise InputError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return {"text": render_text, "json": render_json, "csv": render_csv, "markdown": render_markdown}[fmt](d)
