"""The build: one named graph per source file, provenance, outputs that parse, errors with positions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from support.paths import ROOT
from rkg.build import NQUADS_NAME, TRIG_NAME, TURTLE_NAME, BuildError, build, is_stale, search_key, write
from rkg.namespaces import BUILD_GRAPH, graph_iri
from rkg.project import Project

ERRORS = ROOT / "tests" / "cases" / "build-errors"
MANIFEST = json.loads((ERRORS / "manifest.json").read_text())


def test_one_named_graph_per_source_file() -> None:
    result = build(ROOT)
    files = sorted(p.relative_to(ROOT).as_posix() for p in [*ROOT.glob("ontology/*.ttl"), *ROOT.glob("data/**/*.ttl"),
                                                             *ROOT.glob("data/mappings/*.sssom.tsv")])
    assert set(result.counts) == {graph_iri(f) for f in files} | {BUILD_GRAPH}
    assert graph_iri("data/rncp31854-pif/2024-2028/referentiel.ttl") == "https://w3id.org/rkg/graph/rncp31854-pif/2024-2028/referentiel"
    assert graph_iri("data/mappings/rncp31854-pif-esco.sssom.tsv") == "https://w3id.org/rkg/graph/mappings/rncp31854-pif-esco"
    assert all(n > 0 for n in result.counts.values())
    assert result.total == len(result.quads)


def test_outputs_parse_back_to_the_same_dataset(built_dir: Path) -> None:
    quads = list(ox.parse(path=str(built_dir / NQUADS_NAME), format=ox.RdfFormat.N_QUADS))
    trig = list(ox.parse(path=str(built_dir / TRIG_NAME), format=ox.RdfFormat.TRIG))
    assert len(quads) == len(trig) == len(build(ROOT).quads)
    triples = list(ox.parse(path=str(built_dir / TURTLE_NAME), format=ox.RdfFormat.TURTLE))
    assert 0 < len(triples) <= len(quads)


def test_build_graph_records_provenance_and_search_keys() -> None:
    store = ox.Store()
    store.extend(build(ROOT).quads)
    q = f"""SELECT ?src ?n WHERE {{ GRAPH <{BUILD_GRAPH}> {{ <{graph_iri('data/rncp31854-pif/2024-2028/referentiel.ttl')}>
            <http://purl.org/dc/terms/source> ?src ; <http://rdfs.org/ns/void#triples> ?n }} }}"""
    (src, n), = [(s["src"].value, int(s["n"].value)) for s in store.query(q)]
    assert src == "data/rncp31854-pif/2024-2028/referentiel.ttl" and n > 1000
    keys = {s["k"].value for s in store.query("SELECT ?k WHERE { <https://w3id.org/rkg/id/rncp31854-pif/block/BC01/ac/AC8> <https://w3id.org/rkg/ontology#searchKey> ?k }", use_default_graph_as_union=True)}
    assert "evaluation de la formation, de ses effets et de sa qualite" in keys


@pytest.mark.parametrize("text, key", [
    ("Mettre en œuvre", "mettre en oeuvre"), ("Évaluation", "evaluation"), ("  l’ouverture  d’esprit ", "l'ouverture d'esprit"),
    # ASCII labels take a short path: the same keys (case, tabs, ASCII separators \x1c-\x1f, no letters)
    ("Manage  a TEAM\t", "manage a team"), ("A\x1fB\x1cC", "a b c"), ("ÉCOLE d'été", "ecole d'ete"), ("", ""),
])
def test_search_key(text: str, key: str) -> None:
    assert search_key(text) == key


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_syntax_error_names_file_line_and_column(project_copy: Project, name: str) -> None:
    expected = MANIFEST[name]
    shutil.copy(ERRORS / name, project_copy.root / "data" / name)
    with pytest.raises(BuildError) as err:
        build(project_copy.root)
    e = err.value
    assert (e.path, e.line, e.column) == (f"data/{name}", expected["line"], expected["column"])
    assert expected["message"] in str(e)
    assert str(e).startswith(f"data/{name}:{expected['line']}:{expected['column']}: ")


def test_failed_build_leaves_previous_output_untouched(project_copy: Project) -> None:
    project_copy.build()

    def files() -> dict[str, bytes]:  # the store's files included, and no temporary folder left beside it
        return {p.relative_to(project_copy.build_dir).as_posix(): p.read_bytes()
                for p in project_copy.build_dir.rglob("*") if p.is_file()}

    before = files()
    assert "store/CURRENT" in before
    shutil.copy(ERRORS / "missing-dot.ttl", project_copy.root / "data" / "broken.ttl")
    with pytest.raises(BuildError):
        project_copy.build()
    assert files() == before


def test_staleness(project_copy: Project) -> None:
    assert is_stale(project_copy.root, project_copy.build_dir)
    project_copy.build()
    assert not is_stale(project_copy.root, project_copy.build_dir)
    new = project_copy.root / "data" / "extra.ttl"
    new.write_text("<https://w3id.org/rkg/id/x> <http://www.w3.org/2000/01/rdf-schema#label> \"x\" .\n")
    assert is_stale(project_copy.root, project_copy.build_dir)
    project_copy.build()
    assert not is_stale(project_copy.root, project_copy.build_dir)
    new.unlink()
    assert is_stale(project_copy.root, project_copy.build_dir)


def test_not_utf8(project_copy: Project) -> None:
    (project_copy.root / "data" / "latin1.ttl").write_bytes('<a:b> <a:c> "é" .\n'.encode("latin-1"))
    with pytest.raises(BuildError, match="data/latin1.ttl"):
        build(project_copy.root)


def test_write_is_atomic_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rkg.build as build_mod

    result = build(ROOT)
    calls = {"n": 0}
    real = build_mod._place

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real(*a, **k)

    monkeypatch.setattr(build_mod, "_place", flaky)
    with pytest.raises(OSError):
        write(result, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [NQUADS_NAME]  # the first file, whole; no temp files left
    assert result.staged is None


def test_manifest_records_what_serve_reports(built_dir: Path) -> None:
    import hashlib

    from rkg.build import read_manifest

    m = read_manifest(built_dir)
    triples = {(q.subject, q.predicate, q.object) for q in ox.parse(path=str(built_dir / NQUADS_NAME), format=ox.RdfFormat.N_QUADS)}
    assert m["triples"] == len(triples)
    quads = set(ox.parse(path=str(built_dir / NQUADS_NAME), format=ox.RdfFormat.N_QUADS))
    assert m["quads"] == len(quads) == sum(m["graphs"].values()) and m["default"] == 0
    assert m["graphs"][BUILD_GRAPH] == sum(1 for q in quads if q.graph_name.value == BUILD_GRAPH)
    assert m["version"] == m["digest"][:10]
    store = ox.Store.read_only(str(built_dir / m["store"]))  # the on-disk store rkg serve opens read-only
    assert len(store) == m["quads"]
    assert m["digest"] == hashlib.sha256((built_dir / NQUADS_NAME).read_bytes()).hexdigest()
    assert set(m["sources"]) >= {"ontology/rkg.ttl", "data/rncp31854-pif/2024-2028/referentiel.ttl"}


IMPORT_LINES = {
    # name: N-Triples text of an import (no blank node: the build's fast path); every label must get its key
    "canonical": '<http://example.org/a> <http://www.w3.org/2004/02/skos/core#prefLabel> "Réseaux"@fr .\n',
    "tabs": '<http://example.org/a>\t<http://www.w3.org/2004/02/skos/core#prefLabel>\t"Réseaux"@fr .\n',
    "escapes": '<http://example.org/a> <http://www.w3.org/2004/02/skos/core#altLabel> "R\\u00E9seaux \\"x\\""@fr .\n',
    "label-iri-in-a-literal": ('<http://example.org/b> <http://www.w3.org/2000/01/rdf-schema#comment> '
                               '"see <http://www.w3.org/2004/02/skos/core#prefLabel>" .\n'
                               '<http://example.org/a> <http://www.w3.org/2004/02/skos/core#prefLabel>  "Réseaux"@fr .\n'),
    # a literal ending with what a label line holds before its literal: the label pattern starts in it
    "label-pattern-closing-a-literal": ('<http://example.org/b> <http://example.org/p> '
                                        '"x> <http://www.w3.org/2004/02/skos/core#prefLabel> " .\n'
                                        '<http://example.org/a> <http://www.w3.org/2004/02/skos/core#prefLabel> "Réseaux"@fr .\n'),
    "several-labels-and-languages": ('<http://example.org/a> <http://www.w3.org/2004/02/skos/core#prefLabel> "Réseaux"@fr .\n'
                                     '<http://example.org/a> <http://www.w3.org/2004/02/skos/core#prefLabel> "Networks"@en .\n'
                                     '<http://example.org/a> <http://www.w3.org/2004/02/skos/core#altLabel> "ŒUVRE  commune"@fr .\n'
                                     '<http://example.org/c> <http://www.w3.org/2004/02/skos/core#altLabel> "other"@en .\n'),
}


@pytest.mark.parametrize("name", IMPORT_LINES)
def test_every_imported_label_gets_its_search_key(tmp_path: Path, name: str) -> None:
    """Labels of N-Triples imports are picked out of their lines only when the lines are written as `rkg
    import` writes them; otherwise the block is parsed: no label goes without its key."""
    build_dir = tmp_path / "build"
    (build_dir / "imports").mkdir(parents=True)
    (build_dir / "imports" / "sample.nt").write_text(IMPORT_LINES[name], encoding="utf-8")
    project = Project.locate(ROOT, build_dir)
    project.build()
    store = ox.Store()
    store.bulk_load(path=str(build_dir / NQUADS_NAME), format=ox.RdfFormat.N_QUADS)
    keys = {r["k"].value for r in store.query(
        "SELECT ?k { <http://example.org/a> <https://w3id.org/rkg/ontology#searchKey> ?k }", use_default_graph_as_union=True)}
    expected = {search_key(t.object.value) for t in ox.parse(IMPORT_LINES[name].encode(), format=ox.RdfFormat.N_TRIPLES)
                if t.subject.value == "http://example.org/a"}
    assert keys == expected and keys


def _with_import(tmp_path: Path, lines: str) -> Project:
    build_dir = tmp_path / "build"
    (build_dir / "imports").mkdir(parents=True)
    (build_dir / "imports" / "sample.nt").write_text(lines, encoding="utf-8")
    return Project.locate(ROOT, build_dir)


def test_trig_and_turtle_copied_from_an_import_hold_the_same_triples(tmp_path: Path) -> None:
    """rkg.trig and rkg.ttl are copied by the kernel from the bytes rkg.nq was made of (an import's own
    file, blocks of keys, the side file of parsed sources): the same graphs, quad for quad; a last line
    without its line break too."""
    lines = "".join(f'<http://example.org/s{i}> <http://www.w3.org/2004/02/skos/core#prefLabel> "Label {i}"@en .\n'
                    for i in range(500)) + '<http://example.org/z> <http://example.org/p> "last, no line break" .'
    project = _with_import(tmp_path, lines)
    project.build()
    build_dir = project.build_dir
    quads = set(ox.parse(path=str(build_dir / NQUADS_NAME), format=ox.RdfFormat.N_QUADS))
    trig = set(ox.parse(path=str(build_dir / TRIG_NAME), format=ox.RdfFormat.TRIG))
    assert quads == trig and len(quads) > 500
    triples = {(t.subject, t.predicate, t.object) for t in ox.parse(path=str(build_dir / TURTLE_NAME), format=ox.RdfFormat.TURTLE)}
    assert triples == {(q.subject, q.predicate, q.object) for q in quads}


def test_an_import_changed_during_the_build_stops_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The copies come from the files read: one changed meanwhile would make rkg.trig disagree with rkg.nq."""
    import rkg.build as build_module

    project = _with_import(tmp_path, '<http://example.org/a> <http://example.org/p> "one" .\n')
    copies = build_module._Staging.start_copies

    def edited_first(self) -> None:  # noqa: ANN001 - the method replaced
        with (project.build_dir / "imports" / "sample.nt").open("a", encoding="utf-8") as f:
            f.write('<http://example.org/a> <http://example.org/p> "two" .\n')
        copies(self)

    monkeypatch.setattr(build_module._Staging, "start_copies", edited_first)
    with pytest.raises(BuildError, match=r"imports/sample\.nt: the file changed while the build read it"):
        project.build()
    assert not (project.build_dir / NQUADS_NAME).exists()
