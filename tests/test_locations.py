"""rkg.locations: the line of a subject's first statement, and the origin an importer noted before it.

Cases in tests/locations: ``NAME.ttl|.nt|.nq|.trig`` and ``NAME.json``, the expected index (subject IRI →
line, or [line, origin]) — the whole index, so a node written inside [ ], in a comment or in a string
must not be in it. Every case, and every source file of the project, must also index exactly the IRI
subjects the parser reads."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from support.paths import ROOT
from rkg.build import MAPPING_SUFFIX, discover
from rkg.interop.imports import _ntriples
from rkg.locations import Locator, Written, subjects

CASES = ROOT / "tests" / "locations"
FILES = {p.stem: p for p in sorted(CASES.iterdir()) if p.suffix != ".json"}
FORMATS = {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES, ".nq": ox.RdfFormat.N_QUADS,
           ".trig": ox.RdfFormat.TRIG}


def expected(stem: str) -> dict[str, Written]:
    table = json.loads((CASES / f"{stem}.json").read_text(encoding="utf-8"))
    return {iri: Written(*v) if isinstance(v, list) else Written(v) for iri, v in table.items()}


def parsed_subjects(path: Path) -> set[str]:
    return {q.subject.value for q in ox.parse(path=str(path), format=FORMATS[path.suffix])
            if isinstance(q.subject, ox.NamedNode)}


def test_every_case_has_its_expectations() -> None:
    assert FILES and {p.stem for p in CASES.glob("*.json")} == set(FILES)


@pytest.mark.parametrize("stem", sorted(FILES))
def test_case(stem: str) -> None:
    assert subjects(FILES[stem]) == expected(stem)


@pytest.mark.parametrize("stem", sorted(FILES))
def test_case_agrees_with_the_parser(stem: str) -> None:
    assert set(subjects(FILES[stem])) == parsed_subjects(FILES[stem])


@pytest.mark.parametrize("source", [s for s in discover(ROOT) if not s.name.endswith(MAPPING_SUFFIX)],
                         ids=lambda s: s.name)
def test_project_sources_agree_with_the_parser(source) -> None:
    """Each IRI subject of the ontology and data files is found, and nothing else; its line holds the IRI
    (in full, relative or prefixed: its last path segment, at least)."""
    found = subjects(source.path)
    assert set(found) == parsed_subjects(source.path)
    lines = source.path.read_text(encoding="utf-8").splitlines()
    for iri, written in found.items():
        tail = iri.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
        assert tail.split(".")[-1] in lines[written.line - 1], (iri, written.line)


def test_locator_reads_a_file_once_and_only_when_asked(tmp_path: Path) -> None:
    from rkg.build import Source

    a, b = tmp_path / "a.ttl", tmp_path / "b.ttl"
    a.write_text("<http://example.org/x> <http://example.org/p> 1 .\n", encoding="utf-8")
    b.write_text("<http://example.org/y> <http://example.org/p> 1 .\n", encoding="utf-8")
    locator = Locator([Source(a, "a.ttl"), Source(b, "b.ttl")])
    assert locator.indexed == []
    assert locator.find("a.ttl", "http://example.org/x") == Written(1)
    a.unlink()  # read already: the index is kept
    assert locator.find("a.ttl", "http://example.org/x") == Written(1)
    assert locator.find("a.ttl", "http://example.org/y") is None
    assert locator.find("elsewhere.ttl", "http://example.org/x") is None
    assert locator.indexed == ["a.ttl", "elsewhere.ttl"]


def test_origin_comments_change_no_triple() -> None:
    """What an importer writes with ``# from:`` comments is the same set of triples as without."""
    n = ox.NamedNode
    triples = [ox.Triple(n("http://example.org/a"), n("http://example.org/p"), ox.Literal("line\nbreak . # not")),
               ox.Triple(ox.BlankNode("b"), n("http://example.org/p"), n("http://example.org/a")),
               ox.Triple(n("http://example.org/c"), n("http://example.org/p"), n("http://example.org/a")),
               ox.Triple(n("http://example.org/a"), n("http://example.org/q"), ox.Literal("1"))]
    origins = {"http://example.org/a": "t.xlsx, sheet\nx, row 2", "http://example.org/c": "t.json $.c"}
    data = _ntriples(triples, origins)
    assert data.count(b"# from: ") == 2 and b"# from: t.xlsx, sheet x, row 2\n" in data
    assert {ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)} == set(triples)
    assert origins == {"http://example.org/a": "t.xlsx, sheet\nx, row 2", "http://example.org/c": "t.json $.c"}


def test_a_graph_an_n_quads_source_fills_is_located_in_that_file(tmp_path: Path) -> None:
    """An N-Quads source (what rkg import rncp writes) fills graphs of its own besides the file's: the build
    graph records which file each came from, and the finding is placed in that file, at its line."""
    import pyoxigraph as ox

    from rkg.build import Source
    from rkg.namespaces import BUILD_GRAPH, DCTERMS
    from rkg.store import EmbeddedStore
    from rkg.validation import Finding, locate

    fiche = "https://w3id.org/rkg/graph/imports/rncp/fiche/RNCP1"
    nq = tmp_path / "build" / "imports" / "rncp.nq"
    nq.parent.mkdir(parents=True)
    nq.write_text('<https://example.org/a> <https://example.org/p> "x" <https://example.org/g0> .\n'
                  f'<https://example.org/b> <https://example.org/p> "y" <{fiche}> .\n', encoding="utf-8")
    source = Source(nq, "imports/rncp.nq")
    store = ox.Store()
    store.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
    store.add(ox.Quad(ox.NamedNode(fiche), ox.NamedNode(DCTERMS + "source"), ox.Literal(source.name), ox.NamedNode(BUILD_GRAPH)))
    finding = Finding("warning", "https://w3id.org/rkg/shapes#X", {}, "https://example.org/b", {})
    (located,) = locate(EmbeddedStore.wrap(store), [finding], [source], tmp_path)
    assert located.location is not None
    assert (located.location.file, located.location.line) == ("build/imports/rncp.nq", 2)
