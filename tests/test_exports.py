"""Exports (``rkg export FORMAT``): each checked against its target's schema or required properties, then
read back and compared with the graph, so that what a format loses is exactly what the README says; for
the bundled Master and for a BUT imported with ``rkg import orebut`` (the made-up DEMO pair of
tests/fixtures/orebut, compétences and formation, with the outside facts of tests/fixtures/but-demo-facts).

Counts from the sources: the Master, 4 blocks, 14 competencies, 36 critical learnings, 20 evaluation
modalities; the DEMO BUT, 2 compétences, 3 niveaux, 8 critical learnings, 2 SAÉ.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import jsonschema
import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from support.paths import PIF, REFERENCE, ROOT
from rkg.build import build
from rkg.interop import badges, case, ctdl, framework, imports, moodle, skos
from rkg.interop.framework import Framework
from rkg.store import EmbeddedStore

CEASN = "https://purl.org/ctdlasn/terms/"
CETERMS = "https://purl.org/ctdl/terms/"
CARRIED = {"block", "competency", "level", "learning"}
OREBUT = ROOT / "tests" / "fixtures" / "orebut"
BUT_DEMO = "https://w3id.org/rkg/id/but-demo"
# what each programme holds: (carried nodes, modalities, top-level nodes, years)
COUNTS = {"bundled": (4 + 14 + 36, 20, 4, {"M1", "M2"}), "demo": (2 + 3 + 8, 0, 2, {"BUT1", "BUT2"})}


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    """The bundled graph with the DEMO BUT imported beside it (compétences, then formation) and its outside facts."""
    folder = tmp_path_factory.mktemp("but-demo") / "imports"
    imports.orebut(OREBUT / "competences.xml", folder, "demo-competences")
    imports.orebut(OREBUT / "formation.xml", folder, "demo-formation", "but-demo")
    return EmbeddedStore.from_quads(build(ROOT, [ROOT / "tests" / "fixtures" / "but-demo-facts"], imports=folder).quads)


@pytest.fixture(scope="module")
def fw(bundled_store) -> Framework:
    return framework.read(bundled_store, PIF)


@pytest.fixture(scope="module", params=["bundled", "demo"])
def programme(request, bundled_store, demo_store) -> tuple[str, EmbeddedStore, Framework]:
    """(case, store, framework) of each programme the exports are tested on."""
    store, iri = (bundled_store, PIF) if request.param == "bundled" else (demo_store, BUT_DEMO)
    return request.param, store, framework.read(store, iri)


def projection(f: Framework, kinds: set[str], langs: set[str], levels: bool = True, positions: bool = False) -> set[tuple]:
    """What a format can be compared on: kind, code, parent's code, labels in ``langs``, years of study,
    and (``positions``) the rank of a niveau or the position of a critical learning."""
    code = {n.iri: n.code for n in f.nodes.values()} | {f.programme.iri: ""}
    return {(n.kind, n.code, code.get(n.parent or "", "?"), n.parent, tuple(sorted((k, v) for k, v in n.labels.items() if k in langs)),
             tuple(sorted(n.levels)) if levels else (), n.position if positions and n.kind in ("level", "learning") else None)
            for n in f.nodes.values() if n.kind in kinds}


def test_the_but_framework_read_from_the_graph(demo_store) -> None:
    f = framework.read(demo_store, BUT_DEMO)
    assert [t.kind for t in f.tops] == ["competency", "competency"] and f.programme.code == "DEMO"
    levels = [n for n in f.nodes.values() if n.kind == "level"]
    assert sorted((f.nodes[n.parent].label(), n.position, *n.levels) for n in levels) == [
        ("Concevoir", 1, "BUT1"), ("Concevoir", 2, "BUT2"), ("Protéger", 1, "BUT2")]  # Protéger starts in BUT2
    assert all(f.nodes[n.parent].kind == "level" for n in f.nodes.values() if n.kind == "learning")
    assert f.period_iri("BUT2") == BUT_DEMO + "/period/BUT2" and f.period_iri("M1") == "https://w3id.org/rkg/ontology#M1"


def test_the_framework_read_from_the_graph(fw: Framework) -> None:
    kinds = [n.kind for n in fw.nodes.values()]
    assert (kinds.count("block"), kinds.count("competency"), kinds.count("learning"), kinds.count("modality")) == (4, 14, 36, 20)
    assert fw.programme.code == "RNCP31854" and fw.languages == ["en", "fr"]


def test_unknown_programme(bundled_store) -> None:
    from rkg.errors import InputError

    with pytest.raises(InputError, match="no programme .* known programmes: rncp31854-pif"):
        framework.read(bundled_store, "rncp00000-none")


# ---------------------------------------------------------------- CTDL-ASN


def test_ctdl_asn_required_properties(programme) -> None:
    name, _, fw = programme
    carried, _, tops_count, years = COUNTS[name]
    g = Graph().parse(data=ctdl.export(fw), format="json-ld")
    (fwk,) = set(g.subjects(RDF.type, URIRef(CEASN + "CompetencyFramework")))
    assert re.fullmatch(r"ce-[0-9a-f-]{36}", str(g.value(fwk, URIRef(CETERMS + "ctid"))))
    competencies = set(g.subjects(RDF.type, URIRef(CEASN + "Competency")))
    assert len(competencies) == carried
    ctids = set()
    for c in competencies:  # the properties CTDL-ASN requires, one by one
        texts = {o.language for o in g.objects(c, URIRef(CEASN + "competencyText")) if isinstance(o, Literal)}
        assert "fr" in texts, c
        assert set(map(str, g.objects(c, URIRef(CEASN + "inLanguage")))) == set(fw.languages)
        assert g.value(c, URIRef(CEASN + "isPartOf")) == fwk
        ctid = str(g.value(c, URIRef(CETERMS + "ctid")))
        assert re.fullmatch(r"ce-[0-9a-f-]{36}", ctid)
        ctids.add(ctid)
    assert len(ctids) == len(competencies)  # unique
    tops = set(g.objects(fwk, URIRef(CEASN + "hasTopChild")))
    assert tops == set(g.subjects(URIRef(CEASN + "isTopChildOf"), fwk)) and len(tops) == tops_count
    for parent, child in g.subject_objects(URIRef(CEASN + "hasChild")):  # hasChild and isChildOf agree
        assert g.value(child, URIRef(CEASN + "isChildOf")) == parent
    assert set(g.subjects(URIRef(CEASN + "isChildOf"), None)) == set(g.objects(None, URIRef(CEASN + "hasChild")))
    # years of study: the periods' IRIs (rkg:M1, …/period/BUT1)
    assert {str(o).rsplit("#", 1)[-1].rsplit("/", 1)[-1] for o in g.objects(None, URIRef(CEASN + "educationLevelType"))} == years


def test_ctdl_asn_loses_only_what_the_readme_says(programme) -> None:
    _, _, fw = programme
    back = ctdl.read_back(ctdl.export(fw))
    assert projection(back, CARRIED, {"fr", "en"}, positions=True) == projection(fw, CARRIED, {"fr", "en"}, positions=True)
    assert not projection(back, {"modality"}, {"fr"})  # modalities: lost


# ---------------------------------------------------------------- CASE


def test_case_package_is_valid(programme) -> None:
    name, _, fw = programme
    schema = json.loads((REFERENCE / "case" / "case-v1p0-cfpackage-schema.json").read_text(encoding="utf-8"))
    package = json.loads(case.export(fw))
    jsonschema.validate(package, schema)  # raises on an invalid package
    assert len(package["CFItems"]) == len(package["CFAssociations"]) == COUNTS[name][0]
    assert {y for i in package["CFItems"] for y in i.get("educationLevel", [])} == COUNTS[name][3]
    if name == "demo":
        assert sum(i["CFItemType"] == "Niveau de développement" for i in package["CFItems"]) == 3
    assert {i["identifier"] for i in package["CFItems"]} | {package["CFDocument"]["identifier"]} >= {
        a["destinationNodeURI"]["identifier"] for a in package["CFAssociations"]}


def test_case_loses_only_what_the_readme_says(programme) -> None:
    _, _, fw = programme
    back = case.read_back(case.export(fw))
    assert projection(back, CARRIED, {"fr"}, positions=True) == projection(fw, CARRIED, {"fr"}, positions=True)
    assert not any("en" in n.labels for n in back.nodes.values())  # one language per statement


# ---------------------------------------------------------------- Moodle


def test_moodle_csv_format(programme) -> None:
    name, _, fw = programme
    rows = list(csv.reader(io.StringIO(moodle.export(fw))))
    assert rows[0] == moodle.HEADER
    taxonomy = {"bundled": "domain,competency", "demo": "competency,level,outcome"}[name]
    assert rows[1][12] == "1" and rows[1][0] == "" and rows[1][13] == taxonomy  # the framework row
    assert all(len(r[2]) <= 100 for r in rows[1:]) and all(len(r[1]) <= 100 for r in rows[1:])  # Moodle's limits
    ids = [r[1] for r in rows[2:]]
    assert len(ids) == len(set(ids)) == COUNTS[name][0] + 1 + len(COUNTS[name][3])  # and the years: annees, annees/M1…
    assert all(r[0] in ids for r in rows[2:] if r[0])  # parents are in the file
    if name == "bundled":
        ac4 = next(r for r in rows if r[1] == "RNCP31854BC01/AC4")
        assert ac4[10] == "annees/M1,annees/M2"  # years of study as cross-references
    else:  # the niveaux are a level of the framework; ids are the paths under the programme
        level = next(r for r in rows if r[1] == "competency/Protéger/level/1")
        assert level[0] == "competency/Protéger" and level[10] == "annees/BUT2" and "Niveau de développement" in level[3]
        assert next(r for r in rows if r[1] == "competency/Protéger/level/1/ac/AC22.01Sec")[0] == level[1]


def test_moodle_round_trip(programme, tmp_path: Path) -> None:
    """export → rkg import moodle → the same framework (IRIs minted by the same rule), modalities aside."""
    name, _, fw = programme
    imported = moodle.read(moodle.export(fw), fw.programme.iri.rsplit("/", 1)[-1])
    store = EmbeddedStore.from_quads(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in moodle.to_rdf(imported))
    back = framework.read(store, fw.programme.iri)
    but = name != "bundled"  # a BUT's niveaux ranks and AC positions come back (id numbers, order of the rows)
    assert projection(back, CARRIED, {"fr", "en"}, positions=but) == projection(fw, CARRIED, {"fr", "en"}, positions=but)
    assert {n.iri for n in back.nodes.values()} == {n.iri for n in fw.nodes.values() if n.kind in CARRIED}


@pytest.mark.parametrize("text, message", [
    ("a,b\n", "framework.csv:1: not a Moodle competency framework CSV"),
    (",".join(moodle.HEADER) + "\nNOPE,X,x,,1,,,,,,,,,\n", "framework.csv:2: column Parent id number: 'NOPE'"),
    (",".join(moodle.HEADER) + "\n,B,b,,1,,,,,,,,,\n,B,b,,1,,,,,,,,,\n", "framework.csv:3: column Id number: 'B' is used twice"),
])
def test_moodle_bad_files(text: str, message: str) -> None:
    with pytest.raises(moodle.MoodleError, match=re.escape(message)):
        moodle.read(text, "rncp99990-x")


def test_moodle_cli(rkg, tmp_path: Path) -> None:
    out = tmp_path / "framework.csv"
    assert rkg("export", "moodle", "-o", str(out), "--build-dir", str(tmp_path / "b"), "-q").returncode == 0
    r = rkg("import", "moodle", str(out), "--programme", "rncp99990-copy", "--build-dir", str(tmp_path / "b"), "-q")
    assert r.returncode == 0, r.stderr
    r = rkg("query", "block-summary", "-p", "programme=rncp99990-copy", "--format", "csv", "--build-dir", str(tmp_path / "b"), "-q")
    assert r.returncode == 0 and r.stdout.count("RNCP31854BC0") == 4


# ---------------------------------------------------------------- Open Badges


def test_open_badges_achievements(fw: Framework, bundled_store) -> None:
    found = json.loads(badges.export(fw, bundled_store))
    assert [a["humanCode"] for a in found] == [f"RNCP31854BC0{i}" for i in range(1, 5)]
    for a in found:  # Achievement's required properties (Open Badges 3.0), one by one
        assert a["id"].startswith(PIF + "/block/") and "Achievement" in a["type"]
        assert a["name"] and a["description"] and a["criteria"]["narrative"]
        for al in a["alignment"]:  # Alignment's required properties
            assert al["type"] == ["Alignment"] and al["targetName"] and al["targetUrl"].startswith("http")
    bc01 = found[0]
    assert bc01["criteria"]["narrative"].count("\n- ") == 3  # its four evaluation modalities
    urls = {al["targetUrl"] for al in bc01["alignment"]}
    assert {PIF + "/block/BC01", PIF + "/competency/C.1.1", "http://data.europa.eu/esco/skill/4dafe480-f2ae-46b5-bd5e-8d4e538f50c7"} <= urls


# ---------------------------------------------------------------- SKOS


def test_skos_scheme(fw: Framework, bundled_store) -> None:
    g = Graph().parse(data=skos.export(fw, bundled_store), format="turtle")
    scheme = URIRef(PIF)
    assert (scheme, RDF.type, SKOS.ConceptScheme) in g
    assert len(set(g.objects(scheme, SKOS.hasTopConcept))) == 4
    assert len(set(g.subjects(SKOS.broader, None))) == 14 + 36
    assert all((c, SKOS.inScheme, scheme) in g for c in g.subjects(RDF.type, SKOS.Concept))
    assert (URIRef(PIF + "/competency/C.1.1"), SKOS.closeMatch,
            URIRef("http://data.europa.eu/esco/skill/4dafe480-f2ae-46b5-bd5e-8d4e538f50c7")) in g
    labels = {(str(s), o.language) for s, o in g.subject_objects(SKOS.prefLabel)}
    assert (PIF + "/block/BC01", "en") in labels and (PIF + "/block/BC01", "fr") in labels


@pytest.mark.parametrize("fmt", ["ctdl-asn", "case", "elm", "moodle", "badges", "skos", "jsonld"])
def test_cli_export(rkg, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"x.{fmt}"
    r = rkg("export", fmt, "-o", str(out), "--build-dir", str(tmp_path / "b"), "-q")
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 1000
    if fmt != "jsonld":  # the whole graph: no programme to choose
        r = rkg("export", fmt, "--programme", "rncp00000-none", "--build-dir", str(tmp_path / "b"), "-q")
        assert r.returncode == 2 and "no programme" in r.stderr


# ---------------------------------------------------------------- ELM (LOQ profile)


ELM = "http://data.europa.eu/snb/model/elm/"
LOQ = REFERENCE / "elm" / "LOQ.ttl"


def loq_report(g: Graph) -> tuple[bool, set[tuple[str, str]]]:
    """pySHACL with the LOQ shapes: (conforms, {(focus, path)} of the violations)."""
    from pyshacl import validate

    conforms, report, _ = validate(g, shacl_graph=Graph().parse(LOQ), inference="none", advanced=True)
    SH = "http://www.w3.org/ns/shacl#"
    found = {(str(report.value(r, URIRef(SH + "focusNode"))), str(report.value(r, URIRef(SH + "resultPath"))))
             for r in report.subjects(RDF.type, URIRef(SH + "ValidationResult"))}
    return conforms, found


@pytest.fixture(scope="module")
def elm_graph(fw: Framework, bundled_store) -> Graph:
    from rkg.interop import elm

    return Graph().parse(data=elm.export(fw, bundled_store), format="turtle")


def test_elm_of_a_but_conforms_to_loq(demo_store) -> None:
    from rkg.interop import elm

    g = Graph().parse(data=elm.export(framework.read(demo_store, BUT_DEMO), demo_store), format="turtle")
    conforms, found = loq_report(g)
    assert conforms, found
    q = URIRef(BUT_DEMO)
    outcomes = {str(o) for o in g.objects(q, URIRef(ELM + "learningOutcome"))}
    assert len(outcomes) == 2 + 8  # compétences and critical learnings; the niveaux are not outcomes
    saes = {str(o) for o in g.objects(q, URIRef(ELM + "provenBy"))}
    assert len(saes) == 2 and all("/sae/" in s for s in saes)  # proven by its SAÉ
    assert (q, URIRef(ELM + "EQFLevel"), URIRef("http://data.europa.eu/snb/eqf/6")) in g


def test_elm_conforms_to_loq(elm_graph: Graph) -> None:
    conforms, found = loq_report(elm_graph)
    assert conforms, found
    q = URIRef(PIF)
    assert (q, URIRef(ELM + "EQFLevel"), URIRef("http://data.europa.eu/snb/eqf/7")) in elm_graph
    assert (q, URIRef(ELM + "ISCEDFCode"), URIRef("http://data.europa.eu/snb/isced-f/0111")) in elm_graph
    assert (q, URIRef(ELM + "NQFLevel"), URIRef("https://w3id.org/rkg/id/nqf-fr/7")) in elm_graph  # external-facts.ttl


@pytest.mark.parametrize("change, path", [
    ("drop NQF", ELM + "NQFLevel"),
    ("drop outcomes", ELM + "learningOutcome"),
    ("extra property", "http://purl.org/dc/terms/creator"),
])
def test_loq_catches_what_it_requires(elm_graph: Graph, change: str, path: str) -> None:
    """The profile is really applied: each broken copy of the export fails on the expected property."""
    g = Graph()
    for t in elm_graph:
        g.add(t)
    q = URIRef(PIF)
    if change.startswith("drop"):
        g.remove((q, URIRef(path), None))
    else:
        g.add((q, URIRef(path), Literal("someone")))
    conforms, found = loq_report(g)
    assert not conforms and (PIF, path) in found


def test_elm_read_back(fw: Framework, elm_graph: Graph) -> None:
    outcomes = {str(o) for o in elm_graph.objects(URIRef(PIF), URIRef(ELM + "learningOutcome"))}
    assert outcomes == {n.iri for n in fw.nodes.values() if n.kind in ("competency", "learning")}
    for n in fw.nodes.values():
        if n.kind in ("competency", "learning"):
            titles = {(o.language, str(o)) for o in elm_graph.objects(URIRef(n.iri), URIRef("http://purl.org/dc/terms/title"))}
            assert titles == {(k, v) for k, v in n.labels.items()}
    specs = set(elm_graph.objects(URIRef(PIF), URIRef(ELM + "provenBy")))
    assert len(specs) == 4
    parts = {str(p) for s in specs for p in elm_graph.objects(s, URIRef(ELM + "hasPart"))}
    assert parts == {n.iri for n in fw.nodes.values() if n.kind == "modality"}  # the 20 modalities
    skills = set(elm_graph.objects(URIRef(PIF + "/competency/C.1.1"), URIRef(ELM + "relatedESCOSkill")))
    assert URIRef("http://data.europa.eu/esco/skill/4dafe480-f2ae-46b5-bd5e-8d4e538f50c7") in skills


def test_elm_needs_the_outside_facts(fw: Framework, bundled_store) -> None:
    from rkg.interop import elm

    store = EmbeddedStore.from_quads(q for q in build(ROOT).quads
                                     if q.graph_name.value != "https://w3id.org/rkg/graph/rncp31854-pif/external-facts")
    with pytest.raises(elm.ElmError, match="LOQ requires elm:ISCEDFCode"):
        elm.export(framework.read(store, PIF), store)


# ---------------------------------------------------------------- JSON-LD of the whole graph


def test_jsonld_with_the_published_context(bundled_store) -> None:
    from rdflib.compare import isomorphic

    from rkg.interop import jsonld

    doc = json.loads(jsonld.export(bundled_store))
    assert doc["@context"] == "https://w3id.org/rkg/context.jsonld"
    doc["@context"] = jsonld.context()  # what a client gets from /context.jsonld
    back = Graph().parse(data=json.dumps(doc), format="json-ld")
    assert isomorphic(back, Graph().parse(data=bundled_store.union_ntriples(), format="nt"))  # nothing lost
    assert any("prefLabel" in node for node in doc["@graph"])  # labels as language maps


def test_context_is_served(built_dir: Path) -> None:
    from rkg.build import NQUADS_NAME
    from rkg.web import create_app
    from rkg.web.config import Config

    app = create_app(Config(nquads=built_dir / NQUADS_NAME, version="t"))
    r = app.test_client().get("/context.jsonld")
    assert r.status_code == 200 and r.mimetype == "application/ld+json"
    assert json.loads(r.data)["@context"]["rkg"] == "https://w3id.org/rkg/ontology#"


def test_skos_read_back(fw: Framework, bundled_store) -> None:
    """Codes, labels and the hierarchy come back; the kinds and years of study do not (README)."""
    g = Graph().parse(data=skos.export(fw, bundled_store), format="turtle")
    code = {str(s): str(o) for s, o in g.subject_objects(SKOS.notation)}
    back = {(code[str(c)], code.get(str(g.value(c, SKOS.broader)), ""),
             tuple(sorted((o.language, str(o)) for o in g.objects(c, SKOS.prefLabel))))
            for c in g.subjects(RDF.type, SKOS.Concept)}
    expected = {(code_, parent, labels) for _, code_, parent, _, labels, _, _ in projection(fw, CARRIED, {"fr", "en"})}
    assert back == expected


def test_open_badges_read_back(fw: Framework, bundled_store) -> None:
    """Per block: its code and label, its modalities (criteria) and its competencies (alignments) come back."""
    found = {a["humanCode"]: a for a in json.loads(badges.export(fw, bundled_store))}
    for block in fw.blocks:
        a = found[block.code]
        assert a["name"] == block.label("fr")
        narrative = [line[2:] for line in a["criteria"]["narrative"].splitlines()]
        assert narrative == [m.label("fr") for m in fw.children(block.iri, "modality")]
        aligned = {al["targetCode"] for al in a["alignment"] if al["targetUrl"].startswith(PIF)}
        assert aligned == {block.code} | {c.code for c in fw.children(block.iri, "competency")}
