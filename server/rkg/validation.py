"""SHACL shapes (pySHACL, or pyshacl-turbo: the same API on a Rust engine) and QC queries (queries/qc) → one
report, rendered as text, JSON or Turtle."""

from __future__ import annotations

import io
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pyoxigraph as ox
from pyshacl import validate as shacl_validate
from rdflib import BNode, Graph, Literal, URIRef

from . import formats
from .build import BuildError, Source, parse_source
from .locations import Locator
from .errors import SetupError
from .catalog import Catalog, run
from .namespaces import (BASE, BUILD_GRAPH, DCTERMS, GRAPH, IMPORTS_GRAPHS, PROF, PROFILE, QC, QC_COMPONENT, RDF, RDFS, RKG,
                         SH, natural)
from .store import EmbeddedStore

SEVERITIES = ("violation", "warning", "info")
_SEVERITY_IRI = {"violation": SH.Violation, "warning": SH.Warning, "info": SH.Info}
_FROM_IRI = {v: k for k, v in _SEVERITY_IRI.items()}
QC_BASE = QC
"""A QC query's IRI is ``QC_BASE + name``. ``QC_COMPONENT`` (``rkg.namespaces``) is the
sh:sourceConstraintComponent of a QC row in the Turtle report: rkg's own constraint component (a QC
query is a SPARQL SELECT run by rkg, not a ``sh:sparql`` constraint of a shape, so SHACL-SPARQL's
sh:SPARQLConstraintComponent would say what did not happen); declared in the report as a
sh:ConstraintComponent, with a label and comment."""
PROFILE_BASE = str(PROFILE)
"""A programme chooses a profile with ``dcterms:conformsTo <https://w3id.org/rkg/profile/NAME>``; its shapes
are in ``shapes/profiles/NAME/``."""
PROF_PROFILE = PROF.Profile
ONTOLOGY_GRAPHS = str(GRAPH) + "ontology/"
ENGINES = ("pyshacl", "turbo")
"""SHACL engines: ``pyshacl`` (the reference) and ``turbo`` (the ``pyshacl-turbo`` package: pySHACL's API and
report on a Rust engine; the tests require the same findings from both on every shape case)."""

_HEADINGS = {
    "fr": {"violation": "Violations", "warning": "Avertissements", "info": "Informations",
           "none": "Aucun constat.", "at": "écrit dans", "summary": "{v} violation(s), {w} avertissement(s), {i} information(s)",
           "left_out": "Graphes importés laissés de côté (vocabulaires sans diplôme ; --include-imports pour les valider) : {n}",
           "needed": "Graphes importés lus par la validation parce qu'une forme en a besoin : {n}"},
    "en": {"violation": "Violations", "warning": "Warnings", "info": "Information",
           "none": "No findings.", "at": "written at", "summary": "{v} violation(s), {w} warning(s), {i} info",
           "left_out": "Imported graphs left out (vocabularies without a programme; --include-imports validates them): {n}",
           "needed": "Imported graphs read by the validation because a shape needs them: {n}"},
}


@dataclass(frozen=True)
class Location:
    """Where a finding's focus node was written: the source file's path relative to the project root, with
    ``/`` (``data/rncp31854-pif/2024-2028/referentiel.ttl``, ``build/imports/copy.nt``) — or, for a file
    outside the root (an ``--data`` folder elsewhere, a build folder outside the project), its absolute
    path: either way a file that exists; the 1-based line of its first statement there (Turtle,
    N-Triples, N-Quads); and where an importer read it from, when it came from a spreadsheet, CSV or JSON
    file (``origin``: e.g. ``referentiel.xlsx, sheet acs, row 12``, ``tables/acs.csv, line 7`` or
    ``formation.json $['x'][3]``)."""
    file: str
    line: int | None = None
    origin: str | None = None

    @property
    def place(self) -> str:
        """``file:line``, or the file alone when the line is not known."""
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        return f"{self.place} ({self.origin})" if self.origin else self.place


@dataclass(frozen=True)
class Finding:
    severity: str
    rule: str
    """Shape IRI, or ``https://w3id.org/rkg/qc/<name>`` for a QC query."""
    rule_name: dict[str, str]
    focus: str
    message: dict[str, str]
    path: str | None = None
    value: str | None = None
    location: Location | None = None
    """Where the focus node was written (None when no source file states it: e.g. a node of the build graph)."""

    def text(self, lang: str) -> str:
        return pick_text(self.message, lang) or pick_text(self.rule_name, lang) or self.rule


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    """Imported graphs not validated: the vocabularies (ESCO, RNCP records…), which hold no rkg:Programme."""
    needed: dict[str, str] = field(default_factory=dict)
    """Imported vocabularies put in the référentiels' data graph all the same, because a shape needs them
    (graph → why: ``sh:class <C>`` whose instances the graph holds)."""

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def reaches(self, threshold: str) -> bool:
        """True when a finding is at ``threshold`` or more severe."""
        limit = SEVERITIES.index(threshold)
        return any(SEVERITIES.index(f.severity) <= limit for f in self.findings)

    def by(self, severity: str) -> list[Finding]:
        return [f for f in self.findings if f.severity == severity]


def pick_text(texts: dict[str, str], lang: str) -> str:
    """The text in ``lang``, else in English, French, without a language, or any: ``""`` when none."""
    return texts.get(lang) or texts.get("en") or texts.get("fr") or texts.get("") or next(iter(texts.values()), "")


def shape_files(folder: Path) -> list[Path]:
    """The core shapes (``folder/*.ttl``), then each profile's (``folder/profiles/<name>/*.ttl``)."""
    return sorted(folder.glob("*.ttl")) + sorted(folder.glob("profiles/*/*.ttl"))


def load_shapes(folder: Path) -> Graph:
    """Core and profile shapes in one graph, checked with file, line and column on error. Profile shapes
    select their focus nodes with SPARQL targets that keep the nodes whose programme declares the profile
    (``rkg:inProgramme/dcterms:conformsTo``), so one run over all programmes applies to each its own."""
    files = shape_files(folder)
    if not files:
        raise BuildError(str(folder), "no shapes (*.ttl) found")
    g = Graph()
    for p in files:
        quads = parse_source(Source(p, f"{folder.name}/{p.relative_to(folder).as_posix()}"))
        data = ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES)
        g.parse(data=data or b"", format=formats.N_TRIPLES)
    return g


def _texts(g: Graph, node, pred) -> dict[str, str]:
    out: dict[str, str] = {}
    for o in g.objects(node, pred):
        if isinstance(o, Literal):
            out.setdefault(o.language or "", str(o))
    return out


def _templates(shapes: Graph, shape) -> list[tuple[str, re.Pattern[str]]]:
    """The shape's sh:message templates (its own and its SPARQL constraints'), as (language, regex)."""
    nodes = [shape, *shapes.objects(shape, SH.sparql)]
    out = []
    for node in nodes:
        for m in shapes.objects(node, SH.message):
            if isinstance(m, Literal) and m.language:
                parts = re.split(r"\{[?$][A-Za-z0-9_]+\}", str(m))
                out.append((m.language, re.compile("(?s)" + ".*?".join(re.escape(x) for x in parts))))
    return out


def _messages(results: Graph, result, shapes: Graph, shape) -> dict[str, str]:
    """Result messages by language. pySHACL drops the language tag of a SPARQL message once it has filled
    in its ``{?var}`` placeholders: the language is recovered by matching the shape's templates."""
    out: dict[str, str] = {}
    templates = None
    for m in list(results.objects(result, SH.resultMessage)):
        if not isinstance(m, Literal):
            continue
        lang = m.language
        if not lang:
            templates = templates if templates is not None else _templates(shapes, shape)
            lang = next((lg for lg, rx in templates if rx.fullmatch(str(m))), "")
            if lang:  # retag in the report graph too, so the Turtle report keeps both languages
                results.remove((result, SH.resultMessage, m))
                results.add((result, SH.resultMessage, Literal(str(m), lang=lang)))
        out.setdefault(lang, str(m))
    return dict(sorted(out.items()))  # in the order of the languages, whatever order the engine gave them


@contextmanager
def _length_counted_once() -> Iterator[None]:
    """pySHACL asks the length of its data graph about twice per result it makes, and for an Oxigraph
    store that length is a full ``COUNT`` scan: 1,756 scans, 12 s of a 13 s validation on the bundled
    Master beside three BUTs (8,100 triples), where an rdflib graph takes 0.2 s. The data graph does not
    change during a validation (no inference, no rules), so while it runs each length is counted once."""
    try:
        from pyshacl.graph_abstraction import OxigraphDataGraph  # type: ignore[attr-defined]
    except ImportError:  # a pySHACL without the Oxigraph abstraction: nothing to do
        yield
        return
    original = OxigraphDataGraph.__len__
    counted: dict[tuple, int] = {}

    def once(self, context=None) -> int:  # type: ignore[no-untyped-def]
        key = (id(self.impl), getattr(self, "locked_context", None), getattr(self, "_default_union", None),
               None if context is None else str(getattr(context, "identifier", context)))
        if key not in counted:
            counted[key] = original(self, context)
        return counted[key]

    OxigraphDataGraph.__len__ = once
    try:
        yield
    finally:
        OxigraphDataGraph.__len__ = original


def _engine(engine: str):
    if engine == "pyshacl":
        return shacl_validate
    if engine == "turbo":
        try:
            from pyshacl_turbo import validate as turbo_validate
        except ImportError:
            raise SetupError("--engine turbo needs the pyshacl-turbo package: pip install pyshacl-turbo "
                             "(or --engine pyshacl)") from None
        return turbo_validate
    raise SetupError(f"unknown SHACL engine {engine!r}: one of {', '.join(ENGINES)}")


def run_shacl(data: Graph | ox.Store, shapes: Graph, engine: str = "pyshacl",
              use_shapes: list[URIRef] | None = None) -> tuple[list[Finding], Graph]:
    """``engine``: ``pyshacl`` (the reference) or ``turbo`` (pyshacl-turbo, same API and report).
    ``use_shapes``: only these shapes (by IRI); None: all."""
    findings, results = _run_shacl(data, shapes, engine, use_shapes)
    return [f for _node, f in findings], results


def _run_shacl(data, shapes: Graph, engine: str, use_shapes: list[URIRef] | None = None) -> tuple[list[tuple], Graph]:
    validate_with = _engine(engine)
    extra = {} if use_shapes is None else {"use_shapes": use_shapes}
    with _length_counted_once():
        _conforms, results, _text = validate_with(
            data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True, abort_on_first=False, **extra
        )
    if not isinstance(results, Graph):  # pySHACL reports a shape it cannot run (a ValidationFailure) this way
        raise BuildError("shapes", str(results))
    findings = []
    for r in results.subjects(RDF.type, SH.ValidationResult):
        shape = results.value(r, SH.sourceShape)
        severity = _FROM_IRI.get(results.value(r, SH.resultSeverity), "violation")
        path = results.value(r, SH.resultPath)
        value = results.value(r, SH.value)
        findings.append((r, Finding(
            severity=severity,
            rule=str(shape) if isinstance(shape, URIRef) else "(anonymous shape)",
            rule_name=_texts(shapes, shape, SH.name),
            focus=str(results.value(r, SH.focusNode)),
            message=_messages(results, r, shapes, shape),
            path=str(path) if isinstance(path, URIRef) else None,
            value=None if value is None else str(value),
        )))
    return findings, results


_TARGETS = (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode, SH.target)


def _sparql_target(shapes: Graph, target) -> str | None:
    select = shapes.value(target, SH.select)
    if select is None:
        return None
    prefixes = [f"PREFIX {shapes.value(d, SH.prefix)}: <{shapes.value(d, SH.namespace)}>"
                for p in shapes.objects(target, SH.prefixes) for d in shapes.objects(p, SH.declare)]
    return "\n".join(prefixes) + f"\nSELECT * WHERE {{ {{ {select} }} }} LIMIT 1"


def reaching_shapes(data: ox.Store, shapes: Graph, graphs: list[str] | None = None) -> list[URIRef]:
    """The shapes with at least one focus node in ``data`` (its default graph, or the union of ``graphs``),
    each target asked of Oxigraph (a class's instances with its subclasses; a SPARQL target run with
    LIMIT 1); a target of another kind counts as reaching."""
    scope = {} if graphs is None else {"default_graph": [ox.NamedNode(g) for g in graphs]}

    def asks(query: str) -> bool:
        result = data.query(query, **scope)
        return bool(result) if isinstance(result, ox.QueryBoolean) else next(iter(result), None) is not None

    out = []
    for shape in sorted({s for p in _TARGETS for s in shapes.subjects(p, None) if isinstance(s, URIRef)}):
        tests = [f"ASK {{ ?c <{RDFS.subClassOf}>* <{c}> . ?x a ?c }}" for c in shapes.objects(shape, SH.targetClass)]
        tests += [f"ASK {{ ?x <{p}> ?o }}" for p in shapes.objects(shape, SH.targetSubjectsOf)]
        tests += [f"ASK {{ ?s <{p}> ?x }}" for p in shapes.objects(shape, SH.targetObjectsOf)]
        tests += ["ASK {}" for _ in shapes.objects(shape, SH.targetNode)]  # a target node is a focus node, present or not
        tests += [_sparql_target(shapes, t) or "ASK {}" for t in shapes.objects(shape, SH.target)]
        if any(asks(q) for q in tests):
            out.append(shape)
    return out


_SHAPE_LINKS = (SH.property, SH.node, SH.qualifiedValueShape, SH["not"], SH.sparql, SH.target)
def shape_predicates(shapes: Graph, roots: list[URIRef]) -> set[str] | None:
    """The IRIs the shapes ``roots`` may read as predicates: every IRI object of their descriptions (paths,
    target predicates, nested shapes, lists) and every IRI of their SPARQL (a variable predicate counts only when a ``FILTER (?p IN (…))``
    lists its values), plus rdf:type and rdfs:subClassOf. None when it cannot be told (a variable predicate
    with no such filter): then every triple may be read."""
    iris: set[str] = set()
    types = False
    seen: set = set()
    todo: list = list(roots)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in shapes.predicate_objects(node):
            if p == SH.prefixes:  # a file's header: its namespaces are read with the query
                continue
            types = types or p in (SH.targetClass, SH["class"])
            if isinstance(o, URIRef) and p != RDF.type:  # paths, target predicates, classes, list items
                iris.add(str(o))
            if isinstance(o, BNode) or (isinstance(o, URIRef) and p in _SHAPE_LINKS):
                todo.append(o)
            if p == SH.select and isinstance(o, Literal):
                found = _query_iris(shapes, node, str(o))
                if found is None:
                    return None
                iris |= found
    if types or str(RDF.type) in iris:  # classes: their instances, with the subclasses
        iris |= {str(RDF.type), str(RDFS.subClassOf)}
    return iris


def _query_iris(shapes: Graph, node, query: str) -> set[str] | None:
    """Every IRI of a shape's SPARQL query, read from rdflib's parse and algebra (triple patterns, property
    paths, filters); None when a triple pattern's predicate is a variable that no ``FILTER (?p IN (…))``
    bounds, or when the query cannot be parsed: then every triple may be read."""
    from rdflib.paths import Path as PropertyPath
    from rdflib.plugins.sparql import prepareQuery
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.term import Variable

    namespaces = {str(shapes.value(d, SH.prefix)): str(shapes.value(d, SH.namespace))
                  for p in shapes.objects(node, SH.prefixes) for d in shapes.objects(p, SH.declare)}
    try:
        algebra = prepareQuery(query, initNs=namespaces).algebra
    except Exception:  # noqa: BLE001 - a query rdflib cannot read: nothing can be left out
        return None
    iris: set[str] = set()
    predicates: set[Variable] = set()
    bounded: set[Variable] = set()
    todo: list[object] = [algebra]
    seen: set[int] = set()
    while todo:
        n = todo.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, URIRef):
            iris.add(str(n))
        elif isinstance(n, CompValue):
            if n.name == "BGP":
                predicates |= {t[1] for t in n.get("triples") or () if isinstance(t[1], Variable)}
            if n.name == "RelationalExpression" and str(n.get("op")).upper() == "IN" and isinstance(n.get("expr"), Variable):
                bounded.add(n["expr"])
            todo.extend(n.values())
        elif isinstance(n, PropertyPath):
            todo.extend(vars(n).values())
        elif isinstance(n, dict):
            todo.extend(n.values())
        elif isinstance(n, (list, tuple, set, frozenset)):
            todo.extend(n)
    if predicates - bounded:
        return None
    return iris


def _subgraph(store: EmbeddedStore, shapes: Graph, graphs: list[str], whole: list[str],
              predicates: set[str] | None) -> ox.Store:
    """``data_graph`` of ``whole`` (every triple) and of ``graphs``, of these only the triples whose
    predicate is in ``predicates`` (all when None)."""
    if predicates is None:
        return data_graph(store, shapes, whole + graphs)
    data = data_graph(store, shapes, whole)
    values = " ".join(f"<{p}>" for p in sorted(predicates))
    for g in graphs:  # serialised and loaded in Rust: no Python object per triple
        buffer = io.BytesIO()
        store.engine.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?p {{ {values} }} GRAPH <{g}> {{ ?s ?p ?o }} }}").serialize(
            buffer, format=ox.RdfFormat.N_TRIPLES)
        data.bulk_load(buffer.getvalue(), format=ox.RdfFormat.N_TRIPLES)
    return data


def _merge(into: tuple[list[tuple], Graph], other: tuple[list[tuple], Graph]) -> None:
    """Add the results of ``other`` to ``into`` (findings and report graph, under one sh:ValidationReport),
    but those ``into`` already has (the same rule, focus node, path, value and severity)."""
    findings, results = into
    seen = {(f.rule, f.focus, f.path, f.value, f.severity) for _n, f in findings}
    report = next(iter(results.subjects(RDF.type, SH.ValidationReport)), None) or BNode()
    drop = set()
    for node, f in other[0]:
        key = (f.rule, f.focus, f.path, f.value, f.severity)
        if key in seen:
            drop.add(node)
            continue
        seen.add(key)
        findings.append((node, f))
        results.add((report, SH.result, node))
    reports = set(other[1].subjects(RDF.type, SH.ValidationReport))
    for t in other[1]:
        if t[0] not in drop and t[0] not in reports:
            results.add(t)
    if any(f.severity == "violation" for _n, f in findings):
        results.set((report, SH.conforms, Literal(False)))


def run_qc(store: EmbeddedStore, catalog: Catalog) -> list[Finding]:
    findings = []
    for q in catalog.qc:
        table = run(store, q)
        name = {"en": q.summary, "fr": q.summary_in("fr")}
        for row in table.values():
            focus = row[0] or ""
            detail = ", ".join(f"{c}={v}" for c, v in zip(table.columns[1:], row[1:]) if v is not None)
            message = {lang: f"{text}{' (' + detail + ')' if detail else ''}" for lang, text in name.items()}
            severity = q.severity if q.severity in SEVERITIES else "violation"
            findings.append(Finding(severity, QC_BASE + q.name.removeprefix("qc/"), name, focus, message))
    return findings


def _graph_names(store: EmbeddedStore) -> list[str]:
    """The named graphs, from the store's graph list (no scan of the quads)."""
    return [g.value for g in store.engine.named_graphs() if isinstance(g, ox.NamedNode)]


def built_store(project, progress=None) -> EmbeddedStore:
    """The built graph to validate: ``build/store``, the on-disk store the build leaves, opened read-only —
    the validation then reads only the graphs it keeps, and imported vocabularies left out cost nothing,
    where loading ``rkg.nq`` would parse them all; ``project.store`` (rkg.nq loaded, rebuilt first when
    stale) when the build is stale or has no store, or the store cannot be opened."""
    from . import build as build_mod

    location = project.build_dir / build_mod.STORE_NAME
    if location.is_dir() and not build_mod.is_stale(project.root, project.build_dir, project.extra_data):
        try:
            return EmbeddedStore.wrap(ox.Store.read_only(str(location)))
        except OSError:
            pass
    return project.store(progress)


def left_out_graphs(store: EmbeddedStore, graphs: list[str] | None = None) -> list[str]:
    """The imported graphs (``…/graph/imports/…``) that hold neither a rkg:Programme nor entities of one
    (``rkg:inProgramme``): someone else's vocabularies (ESCO, RNCP records, their search keys). An imported
    référentiel (``rkg import table|moodle|orebut``…) holds its programme, or, for a BUT's référentiel de
    formation imported on its own, the SAÉ and ressources of a programme imported before: it is validated
    like ``data/``. ``graphs``: the store's named graphs, when the caller has them listed already."""
    imported = [g for g in (_graph_names(store) if graphs is None else graphs) if g.startswith(IMPORTS_GRAPHS)]
    if not imported:
        return []
    holding = {g for (g,) in store.select(
        f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ {{ ?p a <{RKG.Programme}> }} UNION {{ ?x <{RKG.inProgramme}> ?p }} }} }}").values()}
    return sorted((g for g in imported if g not in holding), key=natural)


def needed_imports(store: EmbeddedStore, shapes: Graph, vocabularies: list[str]) -> dict[str, str]:
    """The imported vocabularies a shape needs: a ``sh:class C`` constraint checks the rdf:type of a value,
    and when the value is a concept of an imported vocabulary (an ESCO skill…), its type is in that graph.
    Each such graph (one holding an instance of a class some shape names in sh:class) → the reason."""
    if not vocabularies:
        return {}
    classes = sorted({str(c) for c in shapes.objects(None, SH["class"]) if isinstance(c, URIRef)})
    needed: dict[str, str] = {}
    for g in vocabularies:
        for c in classes:
            if store.ask(f"ASK {{ GRAPH <{g}> {{ ?x a <{c}> }} }}"):
                needed[g] = f"sh:class <{c}>"
                break
    return needed


def _graphs_only(store: EmbeddedStore, graphs: list[str]) -> EmbeddedStore:
    """A copy in memory of the default graph and the named ``graphs`` (reading only those)."""
    source = store.engine
    names = [ox.DefaultGraph()] + [ox.NamedNode(g) for g in graphs]
    return EmbeddedStore.from_quads(q for g in names for q in source.quads_for_pattern(None, None, None, g))


def data_graph(store: EmbeddedStore, shapes: Graph, graphs: list[str] | None = None) -> ox.Store:
    """The union of the default graph and the named ``graphs`` (all when None), deduplicated, in the
    default graph of a new in-memory Oxigraph store, plus the profiles' descriptions (``prof:Profile`` in the
    shapes), so that a rule can tell a declared profile that exists from one that does not. Dumped and
    loaded graph by graph in Rust: nothing of the other graphs is read."""
    source = store.engine
    names = [ox.DefaultGraph()] + [ox.NamedNode(g) for g in (_graph_names(store) if graphs is None else graphs)]
    buffer = io.BytesIO()
    for g in names:
        source.dump(buffer, format=ox.RdfFormat.N_TRIPLES, from_graph=g)
    data = ox.Store()
    data.bulk_load(buffer.getvalue(), format=ox.RdfFormat.N_TRIPLES)
    rdf_type, profile = ox.NamedNode(str(RDF.type)), ox.NamedNode(str(PROF_PROFILE))
    data.extend(ox.Quad(ox.NamedNode(str(s)), rdf_type, profile) for s in shapes.subjects(RDF.type, PROF_PROFILE))
    return data


_IRI = re.compile(r'[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20<>"{}|^`\\]*')
"""An absolute IRI that can be written between ``<…>`` in a query."""


def file_name(path: Path, root: Path | None) -> str:
    """A source file as a :class:`Location` names it: relative to ``root`` with ``/`` when it is inside,
    else its absolute path."""
    full = path.absolute()
    if root is not None:
        for inside, base in ((full, root.absolute()), (full.resolve(), root.resolve())):
            try:
                return inside.relative_to(base).as_posix()
            except ValueError:
                pass
    return full.as_posix()


def locate(store: EmbeddedStore, findings: list[Finding], sources: list[Source], root: Path) -> list[Finding]:
    """The findings, each with the place its focus node was written (``Finding.location``): the source
    whose graph (``Source.graph``, the graph the build fills from it) has the focus node as a subject — one
    that states its rdf:type first (where the node is described, not the file of its English labels), then
    in the build's order — and the line of its first statement there (``rkg.locations``: each file read
    once, only the files of graphs with findings). The file is named by its path (``file_name``: relative
    to ``root``, the project root, or absolute when outside). A focus node no source writes as a subject
    (a blank node, a node of the build graph) keeps None."""
    focuses = sorted({f.focus for f in findings if _IRI.fullmatch(f.focus)})  # not a blank node's id
    if not focuses:
        return findings
    by_name = {s.name: (i, s) for i, s in enumerate(sources)}
    by_graph = {s.graph: by_name[s.name] for s in sources}
    # The graphs an N-Quads source fills besides its own (one per RNCP fiche…), as the build graph records them.
    for r in store.engine.query(f"SELECT ?g ?n WHERE {{ GRAPH <{BUILD_GRAPH}> {{ ?g <{DCTERMS}source> ?n }} }}"):
        if r["n"].value in by_name:
            by_graph.setdefault(r["g"].value, by_name[r["n"].value])
    values = " ".join(f"<{iri}>" for iri in focuses)
    query = (f"SELECT DISTINCT ?f ?g (EXISTS {{ GRAPH ?g {{ ?f a ?c }} }} AS ?typed) "
             f"WHERE {{ VALUES ?f {{ {values} }} GRAPH ?g {{ ?f ?p ?o }} }}")
    graphs: dict[str, list[tuple[bool, int, Source]]] = defaultdict(list)
    for r in store.engine.query(query):
        source = by_graph.get(r["g"].value)
        if source is not None:
            graphs[r["f"].value].append((r["typed"].value != "true", *source))
    locator = Locator(sources)
    where: dict[str, Location] = {}
    for focus, found_in in graphs.items():
        ordered = [s for *_key, s in sorted(found_in, key=lambda t: t[:2])]
        found = next(((s, w) for s in ordered if (w := locator.find(s.name, focus)) is not None), None)
        if found is None:
            where[focus] = Location(file_name(ordered[0].path, root))
        else:
            where[focus] = Location(file_name(found[0].path, root), found[1].line, found[1].origin)
    return [replace(f, location=where.get(f.focus, f.location)) for f in findings]


def validate(store: EmbeddedStore, shapes: Graph, catalog: Catalog, imports: bool = False,
             engine: str | None = None, imports_engine: str | None = None,
             sources: list[Source] | None = None, root: Path | None = None) -> tuple[Report, Graph]:
    """Shapes (core and profiles) and QC queries on the référentiels: the union of the store's graphs but
    the imported vocabularies (imported graphs without a rkg:Programme or entities of one: ESCO…), which
    are someone else's data — the shapes are about référentiels — and are named in the report as left
    out; a vocabulary a shape needs (``needed_imports``) is read all the same, and named with the reason.
    The data graph is built from the kept graphs only, so its cost does not grow with the vocabularies.

    ``imports``: the vocabularies are validated too, on a data graph of their own, by the shapes that
    have a focus node in them (``reaching_shapes``: the label layout…): the ontology, and of each vocabulary
    a shape reaches, the triples whose predicate these shapes may read (``shape_predicates``; all when
    that cannot be told). Their findings join the report (one per rule, focus node, path and value).
    ``engine``: ``pyshacl`` or ``turbo`` for the référentiels (default pyshacl, the reference);
    ``imports_engine`` for the vocabularies (default: ``engine`` when given, else turbo — pySHACL takes
    minutes over millions of triples). pySHACL reads the union from an in-memory Oxigraph store (it
    accepts one as data graph), about twice as fast as from an rdflib graph, same findings.

    ``sources``: the project's source files (``rkg.build.discover``), to say where each finding's focus
    node was written (``locate``); None: no locations (e.g. the graphs of a remote store). ``root``: the
    project root the locations' files are relative to, required with ``sources``."""
    if sources is not None and root is None:
        raise ValueError("validate: sources given without the project root their locations are relative to")
    imports_engine = imports_engine or engine or "turbo"
    engine = engine or "pyshacl"
    _engine(engine)  # a missing engine fails before any data graph is built
    if imports:
        _engine(imports_engine)
    full = store
    names = _graph_names(store)
    vocabularies = left_out_graphs(store, names)
    needed = needed_imports(store, shapes, vocabularies)
    left_out = [g for g in vocabularies if g not in needed]
    if left_out:
        kept = [g for g in names if g not in set(left_out)]
        store, data = _graphs_only(store, kept), data_graph(store, shapes, kept)
    else:
        data = data_graph(store, shapes, names)
    pairs, results = _run_shacl(data, shapes, engine)
    if imports and left_out:
        ontology = [g for g in names if g.startswith(ONTOLOGY_GRAPHS)]
        reached = {g: reaching_shapes(full.engine, shapes, [g] + ontology) for g in left_out}
        reach = sorted({s for shapes_of_g in reached.values() for s in shapes_of_g})
        if reach:
            vocab_data = _subgraph(full, shapes, [g for g in left_out if reached[g]], ontology,
                                   shape_predicates(shapes, reach))
            _merge((pairs, results), _run_shacl(vocab_data, shapes, imports_engine, reach))
        left_out = []
    findings = [f for _n, f in pairs] + run_qc(store, catalog)
    if sources is not None:
        findings = locate(full, findings, sources, root)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: (order[f.severity], f.rule, natural(f.focus), f.value or ""))
    return Report(findings, left_out, needed), results


# ---------------------------------------------------------------- rendering


def render_text(report: Report, lang: str = "fr") -> str:
    h = _HEADINGS.get(lang, _HEADINGS["en"])
    lines: list[str] = []
    for severity in SEVERITIES:
        found = report.by(severity)
        if not found:
            continue
        lines.append(f"== {h[severity]} ({len(found)})")
        groups: dict[str, list[Finding]] = defaultdict(list)
        for f in found:
            groups[f.rule].append(f)
        for rule, items in groups.items():
            lines.append(f"-- {pick_text(items[0].rule_name, lang) or rule} [{short_iri(rule)}] ({len(items)})")
            for f in items:
                lines.append(f"   {short_iri(f.focus)}: {f.text(lang)}")
                if f.location is not None:
                    lines.append(f"      {h['at']} {f.location}")
        lines.append("")
    if report.left_out:
        lines.append(h["left_out"].format(n=len(report.left_out)))
        lines.extend(f"   {g}" for g in report.left_out)
        lines.append("")
    if report.needed:
        lines.append(h["needed"].format(n=len(report.needed)))
        lines.extend(f"   {g} ({why})" for g, why in report.needed.items())
        lines.append("")
    lines.append(h["summary"].format(v=report.count("violation"), w=report.count("warning"), i=report.count("info"))
                 if report.findings else h["none"])
    return "\n".join(lines) + "\n"


def short_iri(iri: str) -> str:
    """``BC01/ac/AC1`` for an instance of rkg, ``rkgsh:Name`` for a shape, ``qc:name`` for a QC query."""
    for prefix, short in ((BASE + "id/", ""), (BASE + "shapes#", "rkgsh:"), (QC_BASE, "qc:")):
        if iri.startswith(prefix):
            return short + iri[len(prefix):]
    return iri


def render_json(report: Report) -> str:
    return json.dumps({
        "conforms": not report.reaches("violation"),
        "counts": {s: report.count(s) for s in SEVERITIES},
        "findings": [asdict(f) for f in report.findings],
        "left_out": report.left_out,
        "needed_imports": report.needed,
    }, ensure_ascii=False, indent=2) + "\n"


def render_turtle(report: Report, shacl_results: Graph) -> str:
    """The pySHACL report graph, plus one sh:ValidationResult per QC row, each with what SHACL requires of
    a result (sh:focusNode, sh:resultSeverity, sh:sourceConstraintComponent: ``QC_COMPONENT``, declared in
    the report) and sh:sourceShape (the QC query's IRI). Where a focus node was written is added to each
    result as ``dcterms:source`` literals — the file and line (``data/…/referentiel.ttl:12``), and where an
    importer read it (``referentiel.xlsx, sheet acs, row 12``) — as the build graph names each graph's file
    with ``dcterms:source``."""
    g = Graph()
    for t in shacl_results:
        g.add(t)
    g.bind("sh", SH)
    g.bind("dcterms", DCTERMS)
    report_node = next(iter(g.subjects(RDF.type, SH.ValidationReport)), None) or BNode()
    g.add((report_node, RDF.type, SH.ValidationReport))
    qc = [f for f in report.findings if f.rule.startswith(QC_BASE)]
    if qc:
        component = URIRef(QC_COMPONENT)
        g.add((component, RDF.type, SH.ConstraintComponent))
        g.add((component, RDFS.label, Literal("QC query", lang="en")))
        g.add((component, RDFS.label, Literal("requête de contrôle qualité", lang="fr")))
        g.add((component, RDFS.comment, Literal(
            "rkg's quality-control queries (queries/qc): each row of a SELECT names a focus node; not a SHACL "
            "constraint of a shape", lang="en")))
        g.add((component, RDFS.comment, Literal(
            "Les requêtes de contrôle qualité de rkg (queries/qc) : chaque ligne d'un SELECT nomme un nœud "
            "focal ; ce n'est pas une contrainte SHACL d'une forme", lang="fr")))
    for f in qc:
        r = BNode()
        g.add((report_node, SH.result, r))
        g.add((r, RDF.type, SH.ValidationResult))
        g.add((r, SH.sourceShape, URIRef(f.rule)))
        g.add((r, SH.sourceConstraintComponent, URIRef(QC_COMPONENT)))
        g.add((r, SH.focusNode, URIRef(f.focus)))
        g.add((r, SH.resultSeverity, _SEVERITY_IRI[f.severity]))
        if f.path:
            g.add((r, SH.resultPath, URIRef(f.path)))
        for lang, text in f.message.items():
            g.add((r, SH.resultMessage, Literal(text, lang=lang or None)))
    where = {f.focus: f.location for f in report.findings if f.location is not None}
    for r in list(g.subjects(RDF.type, SH.ValidationResult)):
        location = where.get(str(g.value(r, SH.focusNode)))
        if location is not None:
            g.add((r, DCTERMS.source, Literal(location.place)))
            if location.origin:
                g.add((r, DCTERMS.source, Literal(location.origin)))
    for graph in report.left_out:
        g.add((report_node, RDFS.comment, Literal(f"Left out of validation (an imported vocabulary without a programme; --include-imports validates it): {graph}", lang="en")))
        g.add((report_node, RDFS.comment, Literal(f"Laissé de côté par la validation (vocabulaire importé sans diplôme ; --include-imports le valide) : {graph}", lang="fr")))
    for graph, why in report.needed.items():
        g.add((report_node, RDFS.comment, Literal(f"Imported graph read by the validation because a shape needs it ({why}): {graph}", lang="en")))
        g.add((report_node, RDFS.comment, Literal(f"Graphe importé lu par la validation parce qu'une forme en a besoin ({why}) : {graph}", lang="fr")))
    g.set((report_node, SH.conforms, Literal(not report.reaches("violation"))))
    return g.serialize(format=formats.TURTLE)
