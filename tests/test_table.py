"""The tabular template (``rkg export table`` / ``rkg import table``): the bundled référentiel goes graph →
tables → graph without loss and tables → graph → tables unchanged, through an .xlsx workbook and through a
folder of CSV files; a bad cell is reported with its sheet, row and column."""

from __future__ import annotations

import copy
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from conftest import PIF, ROOT
from rkg.build import build
from rkg.catalog import Catalog, run
from rkg.interop import table
from rkg.store import EmbeddedStore


@pytest.fixture(scope="module")
def tables(bundled_store) -> table.Tables:
    return table.from_graph(bundled_store, "rncp31854-pif")


def as_graph(triples) -> Graph:
    return Graph().parse(data=ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES) or b"", format="nt")


def programme_graph(store: EmbeddedStore) -> Graph:
    """What the graph says about the bundled programme's entities, and the interpretations about them, in
    the source graphs (the build's search keys and the mapping sets are the build's and the mappings')."""
    rows = store.select(f"""SELECT ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
      FILTER(?g != <https://w3id.org/rkg/graph/build> && !STRSTARTS(STR(?g), "https://w3id.org/rkg/graph/mappings/"))
      FILTER(STRSTARTS(STR(?s), "{PIF}") || EXISTS {{ GRAPH ?g {{ ?s <http://www.w3.org/2002/07/owl#annotatedSource> ?x
        FILTER(STRSTARTS(STR(?x), "{PIF}")) }} }}) }}""").rows
    return as_graph(ox.Triple(*r) for r in rows)


def test_sheets_and_rows(tables) -> None:
    assert list(tables) == table.ORDER
    counts = {k: len(v) for k, v in tables.items()}
    assert counts["blocks"] == 4 and counts["competencies"] == 14 and counts["critical_learnings"] == 36
    assert counts["modalities"] == 20 and counts["units"] == 22 and counts["dimensions"] == 10 and counts["outcomes"] == 10
    assert counts["level_column"] == 30  # the level columns of the four blocks, values as written
    ecue = next(r for r in tables["units"] if r["code"] == "ECUE111")
    assert ecue["kind"] == "ECUE" and ecue["parent_ue"] == "ue/UE11"
    # the « uncertain » statements are interpretations, with their reasons
    parent = next(r for r in tables["interpretations"] if r["subject"] == "ecue/ECUE111")
    assert parent["property"] == "rkg:isPartOfUnit" and parent["reason_en"].startswith("Read from the naming convention")


def test_graph_to_tables_to_graph_loses_nothing(bundled_store, tables) -> None:
    original, back = programme_graph(bundled_store), as_graph(table.to_rdf(tables, "rncp31854-pif"))
    _, only_graph, only_tables = graph_diff(to_isomorphic(original), to_isomorphic(back))
    assert (len(only_graph), len(only_tables)) == (0, 0), (sorted(only_graph)[:5], sorted(only_tables)[:5])
    assert isomorphic(original, back) and len(original) > 1400


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_tables_to_graph_to_tables_unchanged(tables, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / ("t.xlsx" if fmt == "xlsx" else "t")
    table.write(tables, path)
    read = table.read(path)
    assert read == tables  # the file holds the tables exactly
    store = EmbeddedStore.from_quads(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode("https://w3id.org/rkg/graph/t"))
                                     for t in table.to_rdf(read, "rncp31854-pif"))
    assert table.from_graph(store, "rncp31854-pif") == tables


def test_a_new_referentiel_from_the_template(tables, catalog: Catalog, bundled_store) -> None:
    """The bundled tables imported under another id: the same answers, per programme."""
    ontology = [q for q in build(ROOT).quads if q.graph_name.value == "https://w3id.org/rkg/graph/ontology/rkg"]
    store = EmbeddedStore.from_quads([*ontology, *(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode("https://w3id.org/rkg/graph/t"))
                                                   for t in table.to_rdf(tables, "rncp99980-copy"))])
    for name in ("block-summary", "units-by-block", "dimensions-by-block", "acs-by-level"):
        q = catalog.get(name)
        assert set(run(store, q, {"programme": "rncp99980-copy"}).values()) == set(run(bundled_store, q).values()), name


def changed(tables: table.Tables, sheet: str, index: int, **cells: str) -> table.Tables:
    out = copy.deepcopy(tables)
    out[sheet][index].update(cells)
    return out


@pytest.mark.parametrize("sheet, index, cells, message", [
    ("competencies", 2, {"code": ""}, "competencies, row 4, column code: empty; this column is required"),
    ("outcomes", 0, {"number": "un"}, "outcomes, row 2, column number: 'un' is not a whole number"),
    ("units", 5, {"kind": "Module"}, "units, row 7, column kind: 'Module' is not one of UE, ECUE"),
    ("blocks", 1, {"colour": "red"}, "blocks, row 3, column colour: not a column of this sheet"),
    ("critical_learnings", 0, {"id": "", "block": ""}, "critical_learnings, row 2, column block: empty"),
    ("interpretations", 0, {"value": ""}, "interpretations, row 2, column value: empty"),
    ("modalities", 3, {"assesses": "comp étence/C.3.1"}, "modalities, row 5, column assesses: 'comp étence/C.3.1' is not an id"),
])
def test_bad_cells_name_sheet_row_and_column(tables, sheet: str, index: int, cells: dict, message: str) -> None:
    with pytest.raises(table.TableError) as e:
        table.to_rdf(changed(tables, sheet, index, **cells), "rncp99980-x")
    assert str(e.value).startswith(message)


def test_bad_files(tables, tmp_path: Path) -> None:
    folder = tmp_path / "t"
    table.write(tables, folder)
    (folder / "programme.csv").write_text("id,label_fr\n", encoding="utf-8")
    with pytest.raises(table.TableError, match="programme must have exactly one row"):
        table.read(folder)
    (folder / "programme.csv").write_text("id,colour\n.,red\n", encoding="utf-8")
    with pytest.raises(table.TableError, match="programme, row 1, column colour: not a column"):
        table.read(folder)
    with pytest.raises(table.TableError, match="give an .xlsx workbook or a folder"):
        table.read(tmp_path / "t.ods")


def test_cli(rkg, tmp_path: Path) -> None:
    book = tmp_path / "ref.xlsx"
    assert rkg("export", "table", "-o", str(book), "--build-dir", str(tmp_path / "b"), "-q").returncode == 0
    empty = tmp_path / "template"
    assert rkg("export", "table", "--empty", "-o", str(empty), "--build-dir", str(tmp_path / "b"), "-q").returncode == 0
    assert (empty / "blocks.csv").read_text(encoding="utf-8").startswith("id,programme,code,label_fr")
    r = rkg("import", "table", str(book), "--programme", "rncp99980-copy", "--build-dir", str(tmp_path / "b"), "-q")
    assert r.returncode == 0, r.stderr
    r = rkg("query", "block-summary", "-p", "programme=rncp99980-copy", "--format", "csv", "--build-dir", str(tmp_path / "b"), "-q")
    assert r.stdout.count("RNCP31854BC0") == 4
    r = rkg("import", "table", str(empty), "--programme", "rncp99980-y", "--build-dir", str(tmp_path / "b"), "-q")
    assert r.returncode == 2 and "programme must have exactly one row" in r.stderr
    assert rkg("export", "table", "--build-dir", str(tmp_path / "b"), "-q").returncode == 2  # --output needed
