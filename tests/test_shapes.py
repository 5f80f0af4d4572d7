"""Tests of the SHACL shapes: the core (shapes/core.ttl, shapes/recommended.ttl, shapes/rules.ttl) and the
profiles (shapes/profiles/<name>/*.ttl).

Case files (pySHACL style): every file in tests/shapes/cases/ (core shapes) or
tests/shapes/cases/profiles/<name>/ (shapes of profile <name>) is a small, self-contained Turtle data graph
named ``<shape-local-name>--conforms[-n].ttl`` or ``<shape-local-name>--violates[-n].ttl``. A profile's
case declares a programme that conforms to the profile
(``:programme dcterms:conformsTo <https://w3id.org/rkg/profile/<name>>``) and puts its entities in it
(``rkg:inProgramme :programme``): profile shapes only target such entities. The file declares what it
expects with the test vocabulary ``rkgt:`` (https://w3id.org/rkg/test#)::

    [] rkgt:shape rkgsh:BlockHasCompetency ; rkgt:expect rkgt:Conforms .
    [] rkgt:shape rkgsh:BlockHasCompetency ; rkgt:expect rkgt:Fails ;
       rkgt:focusNode <...> ;                   # one or more; each must get a result
       rkgt:severity sh:Violation ;
       rkgt:messageContains "..." .             # optional; each must appear in a message at a focus node

The ``rkgt:`` triples are removed, the case is merged with the ontology (so that subclass targets work)
and validated against all shapes (core and profiles). A result belongs to the named shape when its
sh:sourceShape is that shape or a shape nested under it (sh:property, sh:node). Every shape is a named
IRI, so a case names exactly the shape whose results it is about. ``Conforms``: the shape yields no
result, and the case does give it at least one focus node (no vacuous case). ``Fails``: the shape yields
a result at each expected focus node, with the expected severity; without the case's
``dcterms:conformsTo``, a profile shape yields no result at all (its rules are the profile's only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
from pyshacl.entrypoints import meta_validate
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SH
from rdflib.namespace import SKOS as SKOS_NS

from rkg.validation import ENGINES, PROFILE_BASE, Finding, load_shapes, run_shacl, shape_files, validate

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology" / "rkg.ttl"
SHAPES_DIR = ROOT / "shapes"
CASES_DIR = Path(__file__).resolve().parent / "shapes" / "cases"
PROFILES_DIR = SHAPES_DIR / "profiles"
PROFILES = sorted(p.name for p in PROFILES_DIR.iterdir() if p.is_dir())

RKG = Namespace("https://w3id.org/rkg/ontology#")
RKGSH = Namespace("https://w3id.org/rkg/shapes#")
RKGT = Namespace("https://w3id.org/rkg/test#")
RKGID = Namespace("https://w3id.org/rkg/id/rncp31854-pif/")
CC_BY = URIRef("https://creativecommons.org/licenses/by/4.0/")

CASE_NAME = re.compile(r"^(?P<shape>[A-Za-z][A-Za-z0-9]*)--(?P<outcome>conforms|violates)(-[0-9]+)?$")
TARGET_PREDICATES = (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode, SH.target)
DECLARATIVE_TARGETS = TARGET_PREDICATES[:-1]
PROF = Namespace("http://www.w3.org/ns/dx/prof/")


# ---------------------------------------------------------------------------
# Validation, as the project runs it
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    source_shape: URIRef
    focus_node: URIRef | BNode | Literal
    severity: URIRef
    messages: tuple[str, ...]


_SEVERITY = {"violation": SH.Violation, "warning": SH.Warning, "info": SH.Info}


def as_results(findings: list[Finding]) -> list[Result]:
    return [Result(URIRef(f.rule), URIRef(f.focus), _SEVERITY[f.severity], tuple(sorted(f.message.values())))
            for f in findings]


_RUNS: dict[tuple[bytes, str], tuple[list[Finding], Graph]] = {}


def run_engine(data: Graph, shapes: Graph, engine: str = "pyshacl") -> tuple[list[Finding], Graph]:
    """``rkg.validation.run_shacl`` on an in-memory Oxigraph store holding ``data``, with one of the engines
    (each data graph is validated once per engine: the case tests and the engines' comparison share runs)."""
    nt = data.serialize(format="nt", encoding="utf-8")
    key = (nt, engine)
    if key not in _RUNS:
        store = ox.Store()
        store.load(nt, format=ox.RdfFormat.N_TRIPLES)
        _RUNS[key] = run_shacl(store, shapes, engine)
    return _RUNS[key]


def run_validation(data: Graph, shapes: Graph, engine: str = "pyshacl") -> tuple[bool, list[Result]]:
    """Validation as the project runs it (``rkg.validation.run_shacl`` on an in-memory Oxigraph store)."""
    findings, _report = run_engine(data, shapes, engine)
    results = as_results(findings)
    return not any(r.severity == SH.Violation for r in results), results


def comparable(results: Graph, shapes: Graph) -> list[tuple]:
    """The results of a report graph as what must not depend on the engine: focus node, path, severity,
    source constraint component, source shape (a nested blank node shape: the named shape above it) and
    messages with their languages; sorted, duplicates kept."""
    parents = {o: s for p in (SH.property, SH.node) for s, o in shapes.subject_objects(p)}

    def named(shape):
        seen = set()
        while isinstance(shape, BNode) and shape in parents and shape not in seen:
            seen.add(shape)
            shape = parents[shape]
        return str(shape) if isinstance(shape, URIRef) else "(anonymous)"

    out = []
    for r in results.subjects(RDF.type, SH.ValidationResult):
        path = results.value(r, SH.resultPath)
        out.append((
            str(results.value(r, SH.focusNode)),
            str(path) if isinstance(path, URIRef) else "" if path is None else "(path expression)",
            str(results.value(r, SH.resultSeverity)),
            str(results.value(r, SH.sourceConstraintComponent)),
            named(results.value(r, SH.sourceShape)),
            tuple(sorted((m.language or "", str(m)) for m in results.objects(r, SH.resultMessage))),
            str(results.value(r, SH.value)),
        ))
    return sorted(out)


def load_turtle(*paths: Path) -> Graph:
    g = Graph()
    for p in paths:
        g.parse(p, format="turtle")
    return g


@pytest.fixture(scope="session")
def shapes_graph() -> Graph:
    return load_shapes(SHAPES_DIR)


@pytest.fixture(scope="session")
def ontology_graph() -> Graph:
    return load_turtle(ONTOLOGY)


def shape_iris(shapes: Graph) -> set[URIRef]:
    """Every shape of the shapes graph that must be tested and documented: all sh:NodeShapes and all named
    sh:PropertyShapes."""
    found = set()
    for kind in (SH.NodeShape, SH.PropertyShape):
        for s in shapes.subjects(RDF.type, kind):
            if isinstance(s, URIRef) or kind == SH.NodeShape:
                found.add(s)
    return found


def nested_shapes(shapes: Graph, shape: URIRef) -> set:
    """The shape and every shape nested under it (sh:property, sh:node), transitively."""
    seen, todo = set(), [shape]
    while todo:
        s = todo.pop()
        if s in seen:
            continue
        seen.add(s)
        for p in (SH.property, SH.node):
            todo.extend(shapes.objects(s, p))
    return seen


# ---------------------------------------------------------------------------
# Case files
# ---------------------------------------------------------------------------

CASE_FILES = sorted(CASES_DIR.rglob("*.ttl"))


def case_profile(path: Path) -> str | None:
    """``rncp-master`` for tests/shapes/cases/profiles/rncp-master/X.ttl, None for a core case."""
    rel = path.relative_to(CASES_DIR).parts
    return rel[1] if len(rel) == 3 and rel[0] == "profiles" else None


def profile_of_shape() -> dict[URIRef, str | None]:
    """Each shape and the profile whose folder holds it (None: a core shape)."""
    out: dict[URIRef, str | None] = {}
    for f in shape_files(SHAPES_DIR):
        rel = f.relative_to(SHAPES_DIR).parts
        for s in shape_iris(load_turtle(f)):
            out[s] = rel[1] if rel[0] == "profiles" else None
    return out


@dataclass
class Case:
    path: Path
    data: Graph
    shape: URIRef
    expect: URIRef
    focus_nodes: list
    severity: URIRef | None
    message_parts: list[str]


def read_case(path: Path) -> Case:
    g = Graph()
    g.parse(path, format="turtle")
    heads = list(g.subjects(RKGT.shape, None))
    assert len(heads) == 1, f"{path.name}: exactly one node with rkgt:shape expected, found {len(heads)}"
    head = heads[0]
    shapes = list(g.objects(head, RKGT.shape))
    expects = list(g.objects(head, RKGT.expect))
    severities = list(g.objects(head, RKGT.severity))
    assert len(shapes) == 1 and len(expects) == 1, f"{path.name}: one rkgt:shape and one rkgt:expect expected"
    assert expects[0] in (RKGT.Conforms, RKGT.Fails), f"{path.name}: rkgt:expect must be rkgt:Conforms or rkgt:Fails"
    assert len(severities) <= 1, f"{path.name}: at most one rkgt:severity"
    case = Case(
        path=path,
        data=g,
        shape=shapes[0],
        expect=expects[0],
        focus_nodes=list(g.objects(head, RKGT.focusNode)),
        severity=severities[0] if severities else None,
        message_parts=[str(m) for m in g.objects(head, RKGT.messageContains)],
    )
    # Strip the test vocabulary: the data graph validated is the case without its expectations.
    for t in list(g.triples((head, None, None))):
        g.remove(t)
    for t in list(g):
        assert not any(isinstance(x, URIRef) and x.startswith(str(RKGT)) for x in t), (
            f"{path.name}: rkgt: terms are only allowed on the expectation node: {t}"
        )
    return case


def focus_nodes_of(shapes: Graph, shape: URIRef, data: Graph) -> set:
    """Focus nodes of a shape's declarative targets in a data graph (sh:targetClass with rdfs:subClassOf,
    sh:targetSubjectsOf, sh:targetObjectsOf, sh:targetNode)."""
    nodes = set()
    for cls in shapes.objects(shape, SH.targetClass):
        subclasses = set(data.transitive_subjects(RDFS.subClassOf, cls))
        for c in subclasses | {cls}:
            nodes.update(data.subjects(RDF.type, c))
    for p in shapes.objects(shape, SH.targetSubjectsOf):
        nodes.update(data.subjects(p, None))
    for p in shapes.objects(shape, SH.targetObjectsOf):
        nodes.update(data.objects(None, p))
    nodes.update(shapes.objects(shape, SH.targetNode))
    for target in shapes.objects(shape, SH.target):  # SPARQL-based targets (the profiles')
        nodes.update(row[0] for row in data.query(sparql_target(shapes, target)))
    return nodes


def sparql_target(shapes: Graph, target) -> str:
    """The query of an sh:SPARQLTarget with the PREFIX lines its sh:prefixes declare."""
    lines = [f"PREFIX {shapes.value(d, SH.prefix)}: <{shapes.value(d, SH.namespace)}>"
             for p in shapes.objects(target, SH.prefixes) for d in shapes.objects(p, SH.declare)]
    return "\n".join(lines) + "\n" + str(shapes.value(target, SH.select))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_case(path: Path, engine: str, shapes_graph: Graph, ontology_graph: Graph) -> None:
    case = read_case(path)
    m = CASE_NAME.match(path.stem)
    assert m, f"{path.name}: name must be <shape>--conforms[-n].ttl or <shape>--violates[-n].ttl"
    assert case.shape == RKGSH[m["shape"]], f"{path.name}: file names {m['shape']}, rkgt:shape is {case.shape}"
    assert case.shape in shape_iris(shapes_graph), f"{path.name}: {case.shape} is not a shape of shapes/"
    profile = case_profile(path)
    assert profile_of_shape().get(case.shape) == profile, (
        f"{path.name}: a case of a {'profile ' + profile if profile else 'core'} folder must be about a shape of that profile")
    if profile:
        assert (None, DCTERMS.conformsTo, URIRef(PROFILE_BASE + profile)) in case.data, (
            f"{path.name}: a case of profile {profile} declares a programme with dcterms:conformsTo <{PROFILE_BASE}{profile}>")
    expected_outcome = RKGT.Conforms if m["outcome"] == "conforms" else RKGT.Fails
    assert case.expect == expected_outcome, f"{path.name}: file name and rkgt:expect disagree"

    data = case.data + ontology_graph
    _conforms, results = run_validation(data, shapes_graph, engine)
    own = nested_shapes(shapes_graph, case.shape)
    mine = [r for r in results if r.source_shape in own]

    if case.expect == RKGT.Conforms:
        assert focus_nodes_of(shapes_graph, case.shape, data), f"{path.name}: the case gives the shape no focus node"
        assert not mine, f"{path.name}: expected no result from {case.shape}, got:\n" + "\n".join(map(repr, mine))
        return

    assert case.focus_nodes, f"{path.name}: a failing case must name at least one rkgt:focusNode"
    assert case.severity is not None, f"{path.name}: a failing case must name its rkgt:severity"
    for focus in case.focus_nodes:
        at_focus = [r for r in mine if r.focus_node == focus]
        assert at_focus, f"{path.name}: no result from {case.shape} at {focus}; results:\n" + "\n".join(map(repr, mine))
        assert any(r.severity == case.severity for r in at_focus), (
            f"{path.name}: no result with severity {case.severity} at {focus}: {at_focus!r}"
        )
        for part in case.message_parts:
            assert any(part in msg for r in at_focus for msg in r.messages), (
                f"{path.name}: no message at {focus} contains {part!r}: {[r.messages for r in at_focus]!r}"
            )
    if profile:  # the same data, its programme declaring no profile: the profile's shape stays silent
        undeclared = Graph()
        for triple in data:
            if triple[1] != DCTERMS.conformsTo:
                undeclared.add(triple)
        _conforms, results = run_validation(undeclared, shapes_graph, engine)
        silent = [r for r in results if r.source_shape in own]
        assert not silent, f"{path.name}: {case.shape} fires for a programme without profile {profile}: {silent!r}"


def test_case_files_exist() -> None:
    assert CASE_FILES, f"no case file in {CASES_DIR}"


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_engines_agree_on_case(path: Path, shapes_graph: Graph, ontology_graph: Graph) -> None:
    """pySHACL is the reference: turbo (pyshacl-turbo) gives the same results on every case, all shapes
    run (not only the case's): focus node, path, severity, constraint component, shape, messages, value."""
    data = read_case(path).data + ontology_graph
    reference, turbo = (comparable(run_engine(data, shapes_graph, e)[1], shapes_graph) for e in ENGINES)
    assert turbo == reference
    assert sorted(map(asdict_sorted, run_engine(data, shapes_graph, "turbo")[0])) == sorted(
        map(asdict_sorted, run_engine(data, shapes_graph, "pyshacl")[0]))  # the findings rkg reports


def asdict_sorted(f: Finding) -> tuple:
    return (f.severity, f.rule, f.focus, f.path or "", f.value or "", tuple(sorted(f.message.items())),
            tuple(sorted(f.rule_name.items())))


# ---------------------------------------------------------------------------
# The shapes themselves
# ---------------------------------------------------------------------------


def test_every_shape_has_a_conforming_and_a_violating_case(shapes_graph: Graph) -> None:
    covered: dict[URIRef, set[URIRef]] = {}
    for path in CASE_FILES:
        g = Graph().parse(path, format="turtle")
        for head in g.subjects(RKGT.shape, None):
            covered.setdefault(g.value(head, RKGT.shape), set()).add(g.value(head, RKGT.expect))
    missing = []
    for shape in sorted(shape_iris(shapes_graph)):
        for outcome in (RKGT.Conforms, RKGT.Fails):
            if outcome not in covered.get(shape, set()):
                missing.append(f"{shape} has no {outcome.split('#')[1]} case")
    assert not missing, "\n".join(missing)


def test_every_shape_is_named_and_targeted(shapes_graph: Graph) -> None:
    problems = []
    shapes = shape_iris(shapes_graph)
    for shape in shapes:
        if not isinstance(shape, URIRef) or not shape.startswith(str(RKGSH)):
            problems.append(f"{shape!r}: shapes are named IRIs in {RKGSH}")
    # Every node with a target is a declared, named shape.
    for p in TARGET_PREDICATES:
        for s in shapes_graph.subjects(p, None):
            if s not in shapes:
                problems.append(f"{s!r} has {p} but is not a named sh:NodeShape or sh:PropertyShape")
    assert not problems, "\n".join(problems)


def _langs(g: Graph, s, p) -> list[str]:
    return [o.language for o in g.objects(s, p) if isinstance(o, Literal)]


def test_every_shape_has_names_severity_and_messages(shapes_graph: Graph) -> None:
    problems = []
    for shape in sorted(shape_iris(shapes_graph)):
        for prop in (SH.name, SH.message):
            langs = _langs(shapes_graph, shape, prop)
            if sorted(langs) != ["en", "fr"]:
                problems.append(f"{shape}: {prop} must be given once in French and once in English, got {langs}")
        severities = list(shapes_graph.objects(shape, SH.severity))
        if len(severities) != 1 or severities[0] not in (SH.Violation, SH.Warning, SH.Info):
            problems.append(f"{shape}: exactly one sh:severity (sh:Violation, sh:Warning or sh:Info), got {severities}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "path, severities",
    [
        (SHAPES_DIR / "core.ttl", {SH.Violation}),
        (SHAPES_DIR / "recommended.ttl", {SH.Warning, SH.Info}),
        (SHAPES_DIR / "rules.ttl", {SH.Violation, SH.Warning, SH.Info}),
    ] + [(f, {SH.Violation, SH.Warning, SH.Info}) for f in sorted(PROFILES_DIR.glob("*/*.ttl"))],
    ids=lambda v: v.relative_to(SHAPES_DIR).as_posix() if isinstance(v, Path) else "",
)
def test_shapes_file_header_and_severities(path: Path, severities: set) -> None:
    g = load_turtle(path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#"), f"{path.name}: starts with a header comment"
    headers = list(g.subjects(RDF.type, OWL.Ontology))
    assert len(headers) == 1, f"{path.name}: exactly one owl:Ontology header"
    header = headers[0]
    assert sorted(_langs(g, header, DCTERMS.title)) == ["en", "fr"], f"{path.name}: dcterms:title in French and English"
    assert (header, DCTERMS.license, CC_BY) in g, f"{path.name}: dcterms:license CC BY 4.0"
    for shape in shape_iris(g):
        assert g.value(shape, SH.severity) in severities, f"{path.name}: {shape} has a severity not allowed in this file"


def test_profiles_are_declared_and_only_target_their_programmes() -> None:
    """Each folder of shapes/profiles/ describes its profile (prof:Profile, prof:hasToken = folder name), and
    its shapes select their focus nodes only with SPARQL targets that keep the nodes of a programme that
    conforms to that profile: no declarative target (sh:targetClass…), which would reach every programme."""
    assert PROFILES, "shapes/profiles/ holds at least one profile"
    problems = []
    for name in PROFILES:
        files = sorted((PROFILES_DIR / name).glob("*.ttl"))
        if not files:
            assert (PROFILES_DIR / name / "README.md").is_file(), f"profile {name}: no shapes and no README.md saying what it will hold"
            continue
        g = load_turtle(*files)
        iri = URIRef(PROFILE_BASE + name)
        if (iri, RDF.type, PROF.Profile) not in g or str(g.value(iri, PROF.hasToken)) != name:
            problems.append(f"profile {name}: <{iri}> a prof:Profile with prof:hasToken \"{name}\" expected")
        for shape in shape_iris(g):
            for p in DECLARATIVE_TARGETS:
                if (shape, p, None) in g:
                    problems.append(f"profile {name}: {shape} has {p}; profile shapes use SPARQL targets only")
            targets = list(g.objects(shape, SH.target))
            if not targets:
                problems.append(f"profile {name}: {shape} has no sh:target")
            for target in targets:
                query = str(g.value(target, SH.select))
                if (target, RDF.type, SH.SPARQLTarget) not in g or f"rkg:inProgramme/dcterms:conformsTo <{iri}>" not in query:
                    problems.append(f"profile {name}: a target of {shape} does not keep the programmes that conform to <{iri}>")
    assert not problems, "\n".join(problems)


def test_sparql_constraints_declare_prefixes(shapes_graph: Graph) -> None:
    constraints = list(shapes_graph.objects(None, SH.sparql))
    assert constraints, "rules.ttl has SPARQL constraints"
    for c in constraints:
        prefixes = list(shapes_graph.objects(c, SH.prefixes))
        assert prefixes, f"SPARQL constraint of {shapes_graph.value(None, SH.sparql, c)} has no sh:prefixes"
        for p in prefixes:
            assert list(shapes_graph.objects(p, SH.declare)), f"{p} declares no prefix"
        query = str(shapes_graph.value(c, SH.select))
        assert not re.search(r"(?im)^\s*PREFIX\s", query), "prefixes come from sh:prefixes, not PREFIX lines"
    for target in shapes_graph.objects(None, SH.target):
        prefixes = list(shapes_graph.objects(target, SH.prefixes))
        assert prefixes and all(list(shapes_graph.objects(p, SH.declare)) for p in prefixes), "a SPARQL target declares its prefixes"
        assert not re.search(r"(?im)^\s*PREFIX\s", str(shapes_graph.value(target, SH.select)))
    # Every placeholder of a SPARQL shape's messages is a variable its query selects.
    for shape in shape_iris(shapes_graph):
        queries = [str(shapes_graph.value(c, SH.select)) for c in shapes_graph.objects(shape, SH.sparql)]
        if not queries:
            for msg in shapes_graph.objects(shape, SH.message):
                assert "{" not in str(msg), f"{shape}: placeholders are only substituted in SPARQL constraint messages"
            continue
        selected = set()
        for q in queries:
            head = q.split("WHERE", 1)[0]
            selected |= set(re.findall(r"[?$](\w+)", head))
        for msg in shapes_graph.objects(shape, SH.message):
            for var in re.findall(r"\{[?$](\w+)\}", str(msg)):
                assert var in selected, f"{shape}: message uses {{?{var}}}, which the query does not select"


def test_shapes_pass_shacl_shacl(shapes_graph: Graph) -> None:
    conforms, _report, text = meta_validate(shapes_graph)
    assert conforms, text
    # The same check through the documented entry point: meta_shacl=True raises on an invalid shapes graph.
    conforms, _report, _text = pyshacl.validate(Graph(), shacl_graph=shapes_graph, meta_shacl=True, inference="none", advanced=True)
    assert conforms


def test_shacl_shacl_catches_a_broken_shape() -> None:
    """Control for the previous test: SHACL-SHACL does reject an ill-formed shape."""
    broken = Graph().parse(
        data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <https://w3id.org/rkg/shapes#Broken> a sh:PropertyShape ;
            sh:path <https://w3id.org/rkg/ontology#inProgramme> ;
            sh:minCount "one" .
        """,
        format="turtle",
    )
    conforms, _report, _text = meta_validate(broken)
    assert not conforms


def test_shape_list_is_as_documented(shapes_graph: Graph) -> None:
    """The set of shapes and their severities; a change here is a change of the validation contract."""
    where = profile_of_shape()
    got = {(str(s).split("#")[1], where[s] or "core"): str(shapes_graph.value(s, SH.severity)).split("#")[1]
           for s in shape_iris(shapes_graph)}
    core_violation = {
        "CompetencyInOneBlock", "CriticalLearningInOneBlock", "ElementInOneUnit",
        "BlockHasCompetency", "BlockHasCriticalLearning", "CertificationCode", "RncpBlockCode",
        "InProgramme", "PrefLabelFr", "PrefLabelUniqueLang",
        "CompetencyCodeUnique", "CourseUnitCodeUnique", "CriticalLearningCodeUnique", "CriticalLearningNumberUnique",
        "DimensionInProgrammeList",
    }
    core_warning = {
        "PrefLabelEn", "CourseUnitContributes", "DimensionMobilised", "CriticalLearningLevelStated",
        "CriticalLearningNumberingGap", "DimensionCountAnnounced", "LabelLayout", "ProgrammeProfileKnown",
    }
    rncp_master = {  # the Master MEEF's conventions: only for programmes that declare the profile
        "BlockHasEvaluationModality", "BlockHasCourseUnit", "BlockHasGenericDimension",
        "BlockCode", "TeachingUnitCode", "TeachingUnitElementCode", "CompetencyCode", "CriticalLearningCode",
        "CriticalLearningNumber", "StudyLevelValue", "LevelEntryStudyLevel",
        "CriticalLearningAssessed", "CriticalLearningTaught",
    }
    but_apc_violation = {  # the BUT's: compétences → niveaux → ACs, parcours
        "ButCriticalLearningCode", "ButCriticalLearningCodeYear", "ButCriticalLearningCodeCompetency",
        "ButCriticalLearningCodeUnique", "ButLevelRank", "ButLevelHasCriticalLearning", "ButParcoursCoversCompetency",
    }
    but_apc_warning = {
        "ButCompetencyHasEssentialComponent", "ButCompetencyHasProfessionalSituation", "ButCriticalLearningMobilised",
    }
    expected = {**{(n, "core"): "Violation" for n in core_violation}, **{(n, "core"): "Warning" for n in core_warning},
                ("ProgrammeProfile", "core"): "Info",
                **{(n, "rncp-master"): "Violation" for n in rncp_master},
                **{(n, "but-apc"): "Violation" for n in but_apc_violation},
                **{(n, "but-apc"): "Warning" for n in but_apc_warning}}
    assert got == expected


# ---------------------------------------------------------------------------
# The bundled data
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundled_reports(bundled_store, shapes_graph: Graph, catalog) -> dict:
    """The built graph validated as ``rkg validate`` does it (shapes and QC queries), with each engine."""
    return {e: validate(bundled_store, shapes_graph, catalog, engine=e) for e in ENGINES}


@pytest.fixture(scope="module", params=ENGINES)
def bundled_results(request, bundled_reports) -> tuple[bool, list[Result]]:
    report, _graph = bundled_reports[request.param]
    return not report.reaches("violation"), as_results(report.findings)


def test_bundled_report_identical_with_both_engines(bundled_reports, shapes_graph: Graph) -> None:
    from rkg.validation import render_json, render_text

    (reference, ref_graph), (turbo, turbo_graph) = (bundled_reports[e] for e in ENGINES)
    assert (reference.count("violation"), reference.count("warning"), reference.count("info")) == (0, 23, 0)
    assert turbo.findings == reference.findings
    assert comparable(turbo_graph, shapes_graph) == comparable(ref_graph, shapes_graph)
    for lang in ("fr", "en"):
        assert render_text(turbo, lang) == render_text(reference, lang)
    assert render_json(turbo) == render_json(reference)


def test_bundled_data_has_no_violation(bundled_results) -> None:
    conforms, results = bundled_results
    violations = [r for r in results if r.severity == SH.Violation]
    assert not violations, "\n".join(map(repr, violations))
    assert conforms


def test_bundled_data_warnings_are_exactly_the_known_ones(bundled_results) -> None:
    _conforms, results = bundled_results
    assert all(r.severity == SH.Warning for r in results), [r for r in results if r.severity != SH.Warning]
    by_shape: dict[str, set] = {}
    for r in results:
        by_shape.setdefault(str(r.source_shape).split("#")[1], set()).add(r.focus_node)
    assert len(results) == sum(len(v) for v in by_shape.values()), "one result per (shape, focus node)"

    bc03_acs = [f"AC.{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 11)]
    bc04_acs = [f"AC.{n}" for n in range(1, 11)]
    expected = {
        "DimensionMobilised": {RKGID["dimension/5"], RKGID["dimension/10"]},
        "CriticalLearningLevelStated": {RKGID[f"block/BC03/ac/{c}"] for c in bc03_acs}
        | {RKGID[f"block/BC04/ac/{c}"] for c in bc04_acs},
        "CriticalLearningNumberingGap": {RKGID["block/BC03"]},
        "DimensionCountAnnounced": {RKGID["scheme/dimensions"]},
    }
    assert by_shape == expected
    assert len(expected["CriticalLearningLevelStated"]) == 19


def test_bundled_data_warning_messages(bundled_results) -> None:
    _conforms, results = bundled_results

    def messages(shape: str, focus: URIRef) -> str:
        found = [r for r in results if r.source_shape == RKGSH[shape] and r.focus_node == focus]
        assert len(found) == 1
        return "\n".join(found[0].messages)

    dim5 = messages("DimensionMobilised", RKGID["dimension/5"])
    assert "Mettre en œuvre une communication spécialisée pour le transfert de connaissances" in dim5
    assert "Carry out specialised communication for knowledge transfer" in dim5
    dim10 = messages("DimensionMobilised", RKGID["dimension/10"])
    assert "Contribuer à la transformation en contexte professionnel" in dim10
    assert "Contribute to transformation in a professional context" in dim10

    ac = messages("CriticalLearningLevelStated", RKGID["block/BC03/ac/AC.11"])
    assert "niveau non précisé dans la source" in ac and "AC.11" in ac and "RNCP31854BC03" in ac
    assert "level not stated in the source" in ac

    gap = messages("CriticalLearningNumberingGap", RKGID["block/BC03"])
    assert "RNCP31854BC03" in gap and "9, 10" in gap

    count = messages("DimensionCountAnnounced", RKGID["scheme/dimensions"])
    assert "6" in count and "10" in count


# ---------------------------------------------------------------------------
# Profiles chosen per programme, and imports validated by default
# ---------------------------------------------------------------------------

IMPORTED = "https://w3id.org/rkg/graph/imports/"


def test_profiles_per_programme_and_imported_graphs(shapes_graph: Graph, catalog) -> None:
    """Beside the bundled Master (rncp-master): an imported BUT (but-apc) whose AC codes break the Master's
    forms but not its own, an imported programme without profile, and an imported vocabulary. The BUT and
    the programme without profile are validated (imported référentiels are, by default); the vocabulary is
    left out and named; the programme without profile gets exactly one info line."""
    from rkg.build import build

    but, bare = "https://w3id.org/rkg/id/but-test", "https://w3id.org/rkg/id/licence-test"
    turtle = f"""
        @prefix rkg: <https://w3id.org/rkg/ontology#> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        @prefix dcterms: <http://purl.org/dc/terms/> .
        <{but}> a rkg:Programme ; skos:prefLabel "BUT de test"@fr , "Test BUT"@en ;
            dcterms:conformsTo <https://w3id.org/rkg/profile/but-apc> .
        <{but}/block/C1> a rkg:CompetencyBlock ; rkg:inProgramme <{but}> ; skos:prefLabel "Compétence 1"@fr , "Competency 1"@en ;
            rkg:hasCompetency <{but}/competency/C1> ; rkg:hasCriticalLearning <{but}/ac/AC11.01> , <{but}/ac/AC1.1> .
        <{but}/competency/C1> a rkg:Competency ; rkg:inProgramme <{but}> ; skos:prefLabel "Réaliser"@fr , "Build"@en ;
            rkg:hasEssentialComponent <{but}/competency/C1/component/1> ;
            rkg:hasProfessionalSituation <{but}/competency/C1/situation/1> .
        <{but}/competency/C1/component/1> a rkg:EssentialComponent ; rkg:inProgramme <{but}> ;
            skos:prefLabel "en respectant les normes"@fr .
        <{but}/competency/C1/situation/1> a rkg:ProfessionalSituation ; rkg:inProgramme <{but}> ;
            skos:prefLabel "Réalisation d'un prototype"@fr .
        <{but}/ac/AC11.01> a rkg:CriticalLearning ; rkg:inProgramme <{but}> ; skos:notation "AC11.01" ;
            skos:prefLabel "Un AC"@fr , "An AC"@en .
        <{but}/ac/AC1.1> a rkg:CriticalLearning ; rkg:inProgramme <{but}> ; skos:notation "AC1.1" ;
            skos:prefLabel "Un  AC mal codé"@fr , "A badly coded AC"@en .
    """
    quads = list(build(ROOT).quads)
    for iri, text in ((IMPORTED + "but-test", turtle),
                      (IMPORTED + "licence-test", f'<{bare}> a <https://w3id.org/rkg/ontology#Programme> ; '
                                                  f'<http://www.w3.org/2004/02/skos/core#prefLabel> "Licence de test"@fr .'),
                      (IMPORTED + "vocabulary-test", '<https://example.org/c> <http://www.w3.org/2004/02/skos/core#prefLabel> "  x"@en .')):
        quads += [ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(iri))
                  for q in ox.parse(text.encode(), format=ox.RdfFormat.TURTLE)]
    from rkg.store import EmbeddedStore
    from rkg.validation import render_json, render_text, render_turtle

    report, results = validate(EmbeddedStore.from_quads(quads), shapes_graph, catalog)
    assert report.left_out == [IMPORTED + "vocabulary-test"]
    mine = {(f.rule.split("#")[-1], f.focus, f.severity) for f in report.findings
            if not f.focus.startswith(str(RKGID)) and f.rule.startswith(str(RKGSH))}  # the shapes' (not the QC queries')
    assert mine == {
        ("ButCriticalLearningCode", f"{but}/ac/AC1.1", "violation"),  # but-apc's rule, not the Master's AC.n form
        ("LabelLayout", f"{but}/ac/AC1.1", "warning"),
        ("CriticalLearningLevelStated", f"{but}/ac/AC11.01", "warning"),
        ("CriticalLearningLevelStated", f"{but}/ac/AC1.1", "warning"),
        ("ProgrammeProfile", bare, "info"),
        ("PrefLabelEn", bare, "warning"),
    }
    assert {(f.rule, f.focus) for f in report.findings if f.focus.startswith(str(RKGID))} == {
        (f.rule, f.focus) for f in validate(EmbeddedStore.from_quads(build(ROOT).quads), shapes_graph, catalog)[0].findings}
    text = render_text(report, "en")
    assert "Imported graphs left out" in text and IMPORTED + "vocabulary-test" in text
    assert "Programme “Licence de test” declares no profile" in text
    assert '"left_out": [\n    "' + IMPORTED + 'vocabulary-test"' in render_json(report)
    assert IMPORTED + "vocabulary-test" in render_turtle(report, results)
    # --include-imports: the vocabulary too (its label's leading spaces)
    report, _ = validate(EmbeddedStore.from_quads(quads), shapes_graph, catalog, imports=True)
    assert not report.left_out and any(f.focus == "https://example.org/c" for f in report.findings)


# ---------------------------------------------------------------------------
# The référentiels' data graph, the imported vocabularies, and the engines
# ---------------------------------------------------------------------------

ESCO_GRAPH = IMPORTED + "esco-sample"
ESCO_SKILL = "http://data.europa.eu/esco/skill/4dafe480-f2ae-46b5-bd5e-8d4e538f50c7"


@pytest.fixture()
def data_graphs(monkeypatch) -> list:
    """The data graphs ``validate`` hands to the SHACL engine, recorded (as sets of subject IRIs)."""
    import rkg.validation as v

    seen: list = []
    original = v._run_shacl

    def spy(data, shapes, engine, use_shapes=None):
        seen.append((engine, {q.subject.value for q in data if isinstance(q.subject, ox.NamedNode)}))
        return original(data, shapes, engine, use_shapes)

    monkeypatch.setattr(v, "_run_shacl", spy)
    return seen


def test_referentiels_data_graph_excludes_imported_vocabularies(esco_store, shapes_graph: Graph, catalog, data_graphs) -> None:
    from rkg.validation import render_text

    report, _ = validate(esco_store, shapes_graph, catalog)
    assert report.left_out == [ESCO_GRAPH, IMPORTED + "search-keys"] and report.needed == {}
    (engine, subjects), = data_graphs
    assert engine == "pyshacl"  # the reference engine for the référentiels, unless asked otherwise
    assert ESCO_SKILL not in subjects and not any(s.startswith("http://data.europa.eu/esco/") for s in subjects)
    assert str(RKGID["block/BC03"]) in subjects
    assert (report.count("violation"), report.count("warning")) == (0, 23)
    assert "read by the validation" not in render_text(report, "en")


def test_a_vocabulary_a_shape_needs_is_read_and_named(esco_store, shapes_graph: Graph, catalog, data_graphs) -> None:
    """A shape whose sh:class names a class of ESCO (the mapped ESCO skill is an esco:Skill): the ESCO graph
    is put in the référentiels' data graph, and the report says which and why; the search keys stay out."""
    from rkg.validation import render_json, render_text, render_turtle

    shapes = Graph()
    for t in shapes_graph:
        shapes.add(t)
    shapes.parse(format="turtle", data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        <https://w3id.org/rkg/shapes#TestMappedSkill> a sh:NodeShape ; sh:targetSubjectsOf skos:closeMatch ;
            sh:severity sh:Warning ;
            sh:property [ sh:path skos:closeMatch ; sh:class <http://data.europa.eu/esco/model#Skill> ] .
    """)
    report, results = validate(esco_store, shapes, catalog)
    why = "sh:class <http://data.europa.eu/esco/model#Skill>"
    assert report.needed == {ESCO_GRAPH: why} and report.left_out == [IMPORTED + "search-keys"]
    (_engine, subjects), = data_graphs
    assert ESCO_SKILL in subjects
    assert f"Imported graphs read by the validation because a shape needs them: 1\n   {ESCO_GRAPH} ({why})" in render_text(report, "en")
    assert f'"needed_imports": {{\n    "{ESCO_GRAPH}": "{why}"' in render_json(report)
    assert ESCO_GRAPH in render_turtle(report, results)


@pytest.mark.parametrize("engine", ENGINES)
def test_include_imports_with_esco_through_both_engines(esco_store, shapes_graph: Graph, catalog, data_graphs, engine: str) -> None:
    """The référentiels on their data graph, then the vocabularies (ESCO, the search keys) on theirs, with
    the shapes that reach them."""
    report, _ = validate(esco_store, shapes_graph, catalog, imports=True, engine=engine)
    (used, referentiels), (used_for_imports, vocabularies) = data_graphs
    assert used == used_for_imports == engine and not report.left_out
    assert ESCO_SKILL not in referentiels and str(RKGID["block/BC03"]) in referentiels
    assert ESCO_SKILL in vocabularies and str(RKGID["block/BC03"]) not in vocabularies
    # The ESCO sample breaks no shape: the same findings as the référentiels alone, from either engine.
    assert (report.count("violation"), report.count("warning"), report.count("info")) == (0, 23, 0)
    assert report.findings == validate(esco_store, shapes_graph, catalog, imports=True, engine="pyshacl")[0].findings


def test_include_imports_validates_the_vocabularies_with_turbo_by_default(esco_store, shapes_graph: Graph, catalog, data_graphs) -> None:
    validate(esco_store, shapes_graph, catalog, imports=True)
    assert [e for e, _ in data_graphs] == ["pyshacl", "turbo"]  # the référentiels, then the vocabularies


def test_an_unknown_or_missing_engine_is_a_setup_error(bundled_store, shapes_graph: Graph, catalog, monkeypatch) -> None:
    import sys

    from rkg.errors import SetupError

    with pytest.raises(SetupError, match="one of pyshacl, turbo"):
        validate(bundled_store, shapes_graph, catalog, engine="fast")
    monkeypatch.setitem(sys.modules, "pyshacl_turbo", None)  # as if the package were not installed
    with pytest.raises(SetupError, match="pip install pyshacl-turbo"):
        validate(bundled_store, shapes_graph, catalog, engine="turbo")


def test_cli_engine_option(rkg, built_dir: Path, capsys, monkeypatch) -> None:
    """``rkg validate --engine pyshacl|turbo``: the same report; an engine that is not installed: exit 2 and
    how to install it."""
    import sys

    from rkg import cli

    assert cli.ENGINES == ENGINES
    out = {}
    for engine in ENGINES:
        r = rkg("validate", "--build-dir", str(built_dir), "-q", "--format", "json", "--engine", engine)
        assert r.returncode == 0, r.stderr
        out[engine] = r.stdout
    assert out["turbo"] == out["pyshacl"] and '"warning": 23' in out["pyshacl"]
    monkeypatch.setitem(sys.modules, "pyshacl_turbo", None)
    assert cli.main(["validate", "--build-dir", str(built_dir), "-q", "--engine", "turbo"]) == 2
    assert "pip install pyshacl-turbo" in capsys.readouterr().err


def test_shape_predicates(shapes_graph: Graph) -> None:
    """What a vocabulary's data graph keeps for the shapes that reach it: the label layout reads the label
    predicates only (its SPARQL's variable predicate is bounded by FILTER … IN); a variable predicate that
    nothing bounds means every triple."""
    from rkg.validation import shape_predicates

    got = {p for p in shape_predicates(shapes_graph, [RKGSH.LabelLayout]) if not p.startswith(str(SH))}
    assert got == {str(SKOS_NS.prefLabel), str(SKOS_NS.altLabel), str(RDFS.label), str(RKG.longTitle), str(RKG.mention)}
    assert str(RDF.type) in shape_predicates(shapes_graph, [RKGSH.InProgramme])  # sh:targetClass: the types
    unbounded = Graph().parse(format="turtle", data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <https://example.org/S> a sh:NodeShape ; sh:targetSubjectsOf <https://example.org/p> ;
            sh:sparql [ sh:select "SELECT $this WHERE { $this ?anything ?value . FILTER (isBlank(?value)) }" ] .
    """)
    assert shape_predicates(unbounded, [URIRef("https://example.org/S")]) is None
