"""Reasoner check: HermiT (through owlready2, on Java) finds the graph consistent and infers useful facts.

Java is required: when it is missing these tests fail with the install hint, they never skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF

from rkg.build import build
from rkg.namespaces import RKG
from rkg.store import EmbeddedStore
from rkg.reasoning import JAVA_HINT, ReasonerUnavailable, ReasoningResult, find_java, reason

ROOT = Path(__file__).resolve().parents[1]

P = "https://w3id.org/rkg/id/rncp31854-pif"
# Plain IRIs: pytest inspects module attributes, and rdflib's XSD namespace warns on unknown names.
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")
XSD_DATETIME = URIRef("http://www.w3.org/2001/XMLSchema#dateTime")
PREFIXES = {"rkg": RKG}


def load_graph() -> Graph:
    """Ontology and every data file, merged by the build (union of its named graphs)."""
    store = EmbeddedStore.from_quads(build(ROOT).quads)
    return Graph().parse(data=store.union_ntriples(), format="nt")


@pytest.fixture(scope="module")
def source() -> Graph:
    return load_graph()


@pytest.fixture(scope="module")
def result(source: Graph) -> ReasoningResult:
    return reason(source)  # raises ReasonerUnavailable (with the install hint) when Java is missing


def ac(block: str, code: str) -> str:
    return f"{P}/block/{block}/ac/{code}"


def members(graph: Graph, cls: str) -> set[str]:
    rows = graph.query(f"SELECT ?x WHERE {{ ?x a rkg:{cls} }}", initNs=PREFIXES)
    return {str(row[0]) for row in rows}


# Levels as the source writes them. BC01: M1, M1, M1, M1-M2, M2, M1, M1, M1-M2 (AC1 … AC8).
# BC02: M1-M2, M1-M2, M1-M2, M1-M2, M2, M1, M1-M2, M1, M1 (AC.1, AC2, AC3, AC.4 … AC.9, codes as written).
# BC03 and BC04 state no level per AC, so none of their ACs may be placed.
EXPECTED_M2 = {
    ac("BC01", "AC4"), ac("BC01", "AC5"), ac("BC01", "AC8"),
    ac("BC02", "AC.1"), ac("BC02", "AC2"), ac("BC02", "AC3"), ac("BC02", "AC.4"), ac("BC02", "AC.5"),
    ac("BC02", "AC.7"),
}  # fmt: skip
EXPECTED_M1 = {
    ac("BC01", "AC1"), ac("BC01", "AC2"), ac("BC01", "AC3"), ac("BC01", "AC4"), ac("BC01", "AC6"),
    ac("BC01", "AC7"), ac("BC01", "AC8"),
    ac("BC02", "AC.1"), ac("BC02", "AC2"), ac("BC02", "AC3"), ac("BC02", "AC.4"), ac("BC02", "AC.6"),
    ac("BC02", "AC.7"), ac("BC02", "AC.8"), ac("BC02", "AC.9"),
}  # fmt: skip

EXPECTED_COMPETENCY_OF = {
    (f"{P}/competency/C.1.1", f"{P}/block/BC01"),
    (f"{P}/competency/C.1.2", f"{P}/block/BC01"),
    (f"{P}/competency/C.1.3", f"{P}/block/BC01"),
    (f"{P}/competency/C.2.1", f"{P}/block/BC02"),
    (f"{P}/competency/C.2.2", f"{P}/block/BC02"),
    (f"{P}/competency/C.2.3", f"{P}/block/BC02"),
    (f"{P}/competency/C.2.4", f"{P}/block/BC02"),
    (f"{P}/competency/C.3.1", f"{P}/block/BC03"),
    (f"{P}/competency/C.3.2", f"{P}/block/BC03"),
    (f"{P}/competency/C.3.3", f"{P}/block/BC03"),
    (f"{P}/competency/C.3.4", f"{P}/block/BC03"),
    (f"{P}/competency/C4.1", f"{P}/block/BC04"),
    (f"{P}/competency/C4.2", f"{P}/block/BC04"),
    (f"{P}/competency/C.4.3", f"{P}/block/BC04"),
}

# Generic dimensions by block, as the « Dimensions génériques » column lists them.
EXPECTED_MOBILISED_BY = {
    (f"{P}/dimension/1", f"{P}/block/BC01"),
    (f"{P}/dimension/1", f"{P}/block/BC02"),
    (f"{P}/dimension/8", f"{P}/block/BC02"),
    (f"{P}/dimension/2", f"{P}/block/BC02"),
    (f"{P}/dimension/3", f"{P}/block/BC03"),
    (f"{P}/dimension/6", f"{P}/block/BC03"),
    (f"{P}/dimension/7", f"{P}/block/BC03"),
    (f"{P}/dimension/2", f"{P}/block/BC03"),
    (f"{P}/dimension/4", f"{P}/block/BC03"),
    (f"{P}/dimension/1", f"{P}/block/BC04"),
    (f"{P}/dimension/3", f"{P}/block/BC04"),
    (f"{P}/dimension/4", f"{P}/block/BC04"),
    (f"{P}/dimension/9", f"{P}/block/BC04"),
    (f"{P}/dimension/2", f"{P}/block/BC04"),
}


def test_input_is_what_hermit_accepts(source: Graph, result: ReasoningResult) -> None:
    # The only xsd:date values are the SSSOM mapping dates (dcterms:created, as the SSSOM specification's RDF
    # has them): annotations, set aside for HermiT, and nothing else is.
    dates = {(s, p, o) for s, p, o in source if isinstance(o, Literal) and o.datatype == XSD_DATE}
    assert dates and {p for _s, p, _o in dates} == {DCTERMS.created}
    assert set(result.excluded) == dates
    # The axiom annotations of the interpretations and external facts go to the reasoner unchanged.
    assert len(set(source.subjects(RDF.type, OWL.Axiom))) >= 20


def test_graph_is_consistent(result: ReasoningResult) -> None:
    assert result.consistent, result.message
    assert result.message is None
    assert len(result.inferred) > 0


def test_inferred_facts_are_new_and_named(source: Graph, result: ReasoningResult) -> None:
    for s, p, o in result.inferred:
        assert isinstance(s, URIRef) and isinstance(o, URIRef)
        assert (s, p, o) not in source


def test_critical_learnings_at_m2(result: ReasoningResult) -> None:
    assert members(result.inferred, "CriticalLearningAtM2") == EXPECTED_M2


def test_critical_learnings_at_m1(result: ReasoningResult) -> None:
    assert members(result.inferred, "CriticalLearningAtM1") == EXPECTED_M1


def test_no_level_class_for_blocks_without_stated_levels(source: Graph, result: ReasoningResult) -> None:
    merged = source + result.inferred
    rows = merged.query(
        """
        SELECT ?ac ?cls WHERE {
          ?block rkg:hasCriticalLearning ?ac .
          ?ac a ?cls .
          VALUES ?cls { rkg:CriticalLearningAtM1 rkg:CriticalLearningAtM2 }
          FILTER (STRENDS(STR(?block), "/BC03") || STRENDS(STR(?block), "/BC04"))
        }
        """,
        initNs=PREFIXES,
    )
    assert list(rows) == []


def test_m2_learnings_with_their_block(result: ReasoningResult) -> None:
    """Two inferred facts joined: the defined class and the inverse of rkg:hasCriticalLearning."""
    rows = result.inferred.query(
        "SELECT ?ac ?block WHERE { ?ac a rkg:CriticalLearningAtM2 ; rkg:criticalLearningOf ?block }",
        initNs=PREFIXES,
    )
    got = {(str(a), str(b)) for a, b in rows}
    assert got == {(a, a.split("/ac/")[0]) for a in EXPECTED_M2}


def test_inverse_competency_of(source: Graph, result: ReasoningResult) -> None:
    assert not list(source.triples((None, RKG.competencyOf, None)))
    rows = result.inferred.query("SELECT ?c ?b WHERE { ?c rkg:competencyOf ?b }", initNs=PREFIXES)
    assert {(str(c), str(b)) for c, b in rows} == EXPECTED_COMPETENCY_OF
    ask = result.inferred.query(
        "ASK { <%s/competency/C.3.1> rkg:competencyOf <%s/block/BC03> }" % (P, P), initNs=PREFIXES
    )
    assert ask.askAnswer


def test_inverse_mobilised_by(source: Graph, result: ReasoningResult) -> None:
    assert not list(source.triples((None, RKG.mobilisedBy, None)))
    rows = result.inferred.query("SELECT ?d ?b WHERE { ?d rkg:mobilisedBy ?b }", initNs=PREFIXES)
    assert {(str(d), str(b)) for d, b in rows} == EXPECTED_MOBILISED_BY


def test_disjoint_classes_make_the_graph_inconsistent() -> None:
    graph = Graph()
    graph.parse(ROOT / "ontology" / "rkg.ttl", format="turtle")
    both = URIRef(f"{P}/competency/both")
    graph.add((both, RDF.type, RKG.Competency))
    graph.add((both, RDF.type, RKG.CriticalLearning))
    outcome = reason(graph)
    assert not outcome.consistent
    assert outcome.message and "inconsistent" in outcome.message
    assert len(outcome.inferred) == 0


def test_unsupported_datatypes_are_set_aside() -> None:
    """HermiT aborts on an xsd:date literal in a data property assertion: it is set aside, not loaded."""
    graph = Graph()
    graph.parse(ROOT / "ontology" / "rkg.ttl", format="turtle")
    version = URIRef(f"{P}/version/dated")
    dated = (version, RKG.offerPeriod, Literal("2024-09-01", datatype=XSD_DATE))
    graph.add((version, RDF.type, RKG.FrameworkVersion))
    graph.add(dated)
    graph.add((version, DCTERMS.created, Literal("2024-09-01T00:00:00Z", datatype=XSD_DATETIME)))
    outcome = reason(graph)
    assert outcome.consistent, outcome.message
    assert set(outcome.excluded) == {dated}


def test_missing_java_fails_with_install_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jre"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ReasonerUnavailable) as error:
        find_java()
    assert JAVA_HINT in str(error.value)
    assert "apt-get install default-jre-headless" in str(error.value)
    with pytest.raises(ReasonerUnavailable, match="HermiT needs Java"):
        reason(Graph())


def test_java_home_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    java = tmp_path / "jre" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("#!/bin/sh\n")
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jre"))
    assert find_java() == str(java)
