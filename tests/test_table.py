"""The tabular template (``rkg export table`` / ``rkg import table``): a référentiel goes graph → tables →
graph without loss and tables → graph → tables unchanged, through an .xlsx workbook, an .ods spreadsheet and a
folder of CSV files, for the bundled Master and for two imported BUTs (RT from ScoDoc's JSON, the made-up DEMO pair of
Orébut XML files: compétences and formation); a bad cell is reported with its sheet, row and column."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from support.paths import PIF, ROOT
from rkg.build import build
from rkg.catalog import Catalog, run
from rkg.interop import imports, table
from rkg.namespaces import mint
from rkg.store import EmbeddedStore

OREBUT = ROOT / "tests" / "fixtures" / "orebut"
RT_JSON = ROOT / "tests" / "reference" / "scodoc" / "rt.json"
BUTS = {"rt": ("but-rt", [(RT_JSON, None)]),
        "demo": ("but-demo", [(OREBUT / "competences.xml", None), (OREBUT / "formation.xml", "but-demo")])}


@dataclass
class Case:
    name: str
    programme: str
    store: EmbeddedStore

    @property
    def iri(self) -> str:
        return mint(self.programme)


@pytest.fixture(scope="session")
def but_stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, EmbeddedStore]:
    """The bundled graph with each BUT imported beside it, as `rkg import orebut` then a build leave it."""
    out = {}
    for name, (_, files) in BUTS.items():
        folder = tmp_path_factory.mktemp(f"but-{name}") / "imports"
        for n, (path, programme) in enumerate(files):
            imports.orebut(path, folder, f"{name}-{n}", programme)
        out[name] = EmbeddedStore.from_quads(build(ROOT, imports=folder).quads)
    return out


@pytest.fixture(scope="module", params=["bundled", "rt", "demo"])
def case(request, bundled_store, but_stores) -> Case:
    if request.param == "bundled":
        return Case("bundled", "rncp31854-pif", bundled_store)
    return Case(request.param, BUTS[request.param][0], but_stores[request.param])


@pytest.fixture(scope="module")
def case_tables(case: Case) -> table.Tables:
    return table.from_graph(case.store, case.programme)


@pytest.fixture(scope="module")
def tables(bundled_store) -> table.Tables:
    return table.from_graph(bundled_store, "rncp31854-pif")


def as_graph(triples) -> Graph:
    return Graph().parse(data=ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES) or b"", format="nt")


def programme_graph(store: EmbeddedStore, iri: str = PIF) -> Graph:
    """What the graph says about a programme's entities, and the interpretations about them, in the source
    graphs and the imports (the build's search keys, those of the imports and the mapping sets are the
    build's and the mappings')."""
    rows = store.select(f"""SELECT ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
      FILTER(?g != <https://w3id.org/rkg/graph/build> && ?g != <https://w3id.org/rkg/graph/imports/search-keys>
             && !STRSTARTS(STR(?g), "https://w3id.org/rkg/graph/mappings/"))
      FILTER(?s = <{iri}> || STRSTARTS(STR(?s), "{iri}/") || EXISTS {{ GRAPH ?g {{ ?s <http://www.w3.org/2002/07/owl#annotatedSource> ?x
        FILTER(STRSTARTS(STR(?x), "{iri}")) }} }}) }}""").rows
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


def test_but_sheets_and_rows(but_stores) -> None:
    rt = table.from_graph(but_stores["rt"], "but-rt")
    counts = {k: len(v) for k, v in rt.items()}
    assert (counts["competencies"], counts["development_levels"], counts["critical_learnings"]) == (13, 29, 121)
    assert (counts["essential_components"], counts["professional_situations"], counts["parcours"]) == (54, 37, 5)
    assert counts["periods"] == 3 and counts["period_schemes"] == 1 and counts["parcours_levels"] == 65
    assert rt["programme"][0]["conforms_to"] == "https://w3id.org/rkg/profile/but-apc"
    ac = next(r for r in rt["critical_learnings"] if r["development_level"] and r["code"].startswith("AC11"))
    assert not ac["block"] and ac["id"].startswith(ac["development_level"] + "/ac/")
    demo = table.from_graph(but_stores["demo"], "but-demo")
    assert {r["kind"] for r in demo["periods"]} == {"year", "semester"} and {r["kind"] for r in demo["sae_resources"]} == {"SAÉ", "ressource"}
    assert len(demo["coefficients"]) == 6 and all(r["coefficient"] for r in demo["coefficients"])
    assert len(demo["programme"][0]["source"].split(table.SEP)) == 2  # the compétences file and the formation file


def test_graph_to_tables_to_graph_loses_nothing(case: Case, case_tables) -> None:
    original, back = programme_graph(case.store, case.iri), as_graph(table.to_rdf(case_tables, case.programme))
    _, only_graph, only_tables = graph_diff(to_isomorphic(original), to_isomorphic(back))
    assert (len(only_graph), len(only_tables)) == (0, 0), (sorted(only_graph)[:5], sorted(only_tables)[:5])
    assert isomorphic(original, back) and len(original) > {"bundled": 1400, "rt": 1900, "demo": 150}[case.name]


@pytest.mark.parametrize("fmt", ["xlsx", "ods", "csv"])
def test_tables_to_graph_to_tables_unchanged(case: Case, case_tables, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / ("t" if fmt == "csv" else f"t.{fmt}")
    table.write(case_tables, path)
    read = table.read(path)
    assert read == case_tables  # the file holds the tables exactly
    store = EmbeddedStore.from_quads(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode("https://w3id.org/rkg/graph/t"))
                                     for t in table.to_rdf(read, case.programme))
    assert table.from_graph(store, case.programme) == case_tables


def test_empty_ids_are_made_by_the_iri_rule(but_stores) -> None:
    """A BUT filled in by hand without ids gets the IRIs rkg import orebut mints (the compétences' ids given)."""
    tables = table.from_graph(but_stores["demo"], "but-demo")
    blank = copy.deepcopy(tables)
    for name in ("development_levels", "critical_learnings", "essential_components", "professional_situations", "parcours",
                 "periods", "sae_resources", "coefficients"):
        for row in blank[name]:
            row["id"] = ""
    assert isomorphic(as_graph(table.to_rdf(blank, "but-demo")), as_graph(table.to_rdf(tables, "but-demo")))


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
    ("critical_learnings", 0, {"id": "", "block": ""}, "critical_learnings, row 2, column block: empty; this column is required (or fill development_level)"),
    ("interpretations", 0, {"value": ""}, "interpretations, row 2, column value: empty"),
    ("modalities", 3, {"assesses": "comp étence/C.3.1"}, "modalities, row 5, column assesses: 'comp étence/C.3.1' is not an id"),
])
def test_bad_cells_name_sheet_row_and_column(tables, sheet: str, index: int, cells: dict, message: str) -> None:
    with pytest.raises(table.TableError) as e:
        table.to_rdf(changed(tables, sheet, index, **cells), "rncp99980-x")
    assert str(e.value).startswith(message)


@pytest.mark.parametrize("sheet, cells, message", [
    ("coefficients", {"coefficient": "2,5"}, "coefficients, row 2, column coefficient: '2,5' is not a number"),
    ("periods", {"kind": "trimester"}, "periods, row 2, column kind: 'trimester' is not one of year, semester"),
    ("sae_resources", {"id": "", "kind": "cours"}, "sae_resources, row 2, column kind: 'cours' is not one of SAÉ, ressource"),
    ("development_levels", {"rank": ""}, "development_levels, row 2, column rank: empty"),
])
def test_bad_but_cells(but_stores, sheet: str, cells: dict, message: str) -> None:
    with pytest.raises(table.TableError) as e:
        table.to_rdf(changed(table.from_graph(but_stores["demo"], "but-demo"), sheet, 0, **cells), "but-demo")
    assert str(e.value).startswith(message)


def test_but_cli(rkg, tmp_path: Path) -> None:
    """rkg import orebut, then rkg export table of the BUT and rkg import table of it under another id."""
    b = str(tmp_path / "b")
    assert rkg("import", "orebut", str(OREBUT / "competences.xml"), "--build-dir", b, "-q").returncode == 0
    assert rkg("import", "orebut", str(OREBUT / "formation.xml"), "--programme", "but-demo", "--build-dir", b, "-q").returncode == 0
    r = rkg("export", "table", "--programme", "but-demo", "-o", str(tmp_path / "demo"), "--build-dir", b, "-q")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "demo" / "sae_resources.csv").read_text(encoding="utf-8").count("\n") == 1 + 5
    r = rkg("import", "table", str(tmp_path / "demo"), "--programme", "but-copy", "--build-dir", b, "-q")
    assert r.returncode == 0, r.stderr


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
        table.read(tmp_path / "t.xls")


@pytest.mark.parametrize("ext", ["xlsx", "ods"])
def test_cli(rkg, tmp_path: Path, ext: str) -> None:
    book = tmp_path / f"ref.{ext}"
    assert rkg("export", "table", "-o", str(book), "--build-dir", str(tmp_path / "b"), "-q").returncode == 0
    empty = tmp_path / "template"
    assert rkg("export", "table", "--empty", "-o", str(empty), "--build-dir", str(tmp_path / "b"), "-q").returncode == 0
    assert (empty / "blocks.csv").read_text(encoding="utf-8").startswith("id,programme,code,label_fr")
    assert (empty / "development_levels.csv").read_text(encoding="utf-8").startswith("id,competency,rank,year,label_fr")
    assert all((empty / f"{name}.csv").exists() for name in ("periods", "parcours", "parcours_levels", "sae_resources", "coefficients"))
    r = rkg("import", "table", str(book), "--programme", "rncp99980-copy", "--build-dir", str(tmp_path / "b"), "-q")
    assert r.returncode == 0, r.stderr
    r = rkg("query", "block-summary", "-p", "programme=rncp99980-copy", "--format", "csv", "--build-dir", str(tmp_path / "b"), "-q")
    assert r.stdout.count("RNCP31854BC0") == 4
    r = rkg("import", "table", str(empty), "--programme", "rncp99980-y", "--build-dir", str(tmp_path / "b"), "-q")
    assert r.returncode == 2 and "programme must have exactly one row" in r.stderr
    assert rkg("export", "table", "--build-dir", str(tmp_path / "b"), "-q").returncode == 2  # --output needed


@pytest.mark.parametrize("fmt", ["xlsx", "ods", "csv"])
def test_rows_are_numbered_as_the_file_numbers_them(tables, tmp_path: Path, fmt: str) -> None:
    """Blank rows, skipped when read, keep their place in the numbering: the origin an import notes for an
    entity and the row of a bad cell are the sheet's own rows — for CSV the line its record starts on (a
    cell holding a line break makes a record of two lines). Two blank rows before the second block."""
    import csv

    from openpyxl import load_workbook

    from rkg.interop.workbook import Sheet, write_workbook

    t = copy.deepcopy(tables)
    t["blocks"][0]["note_fr"] = "deux\nlignes"
    second = t["blocks"][1]["id"]
    if fmt == "csv":
        source, at, where = tmp_path / "copy", 1 + 2 + 2 + 1, "copy/blocks.csv, line 6"  # header, 2 lines, 2 blank lines
        table.write_csv(t, source)
        with (source / "blocks.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=table.columns("blocks"), lineterminator="\n")
            w.writeheader()
            w.writerow(t["blocks"][0])
            f.write("\n\n")
            w.writerows(t["blocks"][1:])
    else:
        source, at, where = tmp_path / f"copy.{fmt}", 5, f"copy.{fmt}, sheet blocks, row 5"
        if fmt == "xlsx":  # rows inserted as a spreadsheet does: no rows 3 and 4 in the file at all
            table.write_workbook_file(t, source, "xlsx")
            book = load_workbook(source)
            book["blocks"].insert_rows(3, 2)
            book.save(source)
        else:
            sheets = [Sheet(name, [table.columns(name), *([r.get(c, "") for c in table.columns(name)] for r in t[name])])
                      for name in table.ORDER]
            blocks = next(s for s in sheets if s.name == "blocks")
            blocks.rows = [*blocks.rows[:2], [], [], *blocks.rows[2:]]
            write_workbook(sheets, source, "ods")
    read = table.read(source)
    assert read["blocks"][1]["id"] == second and [dict(r) for r in read["blocks"]] == t["blocks"]
    origins: dict = {}
    table.to_rdf(read, COPY, origins)
    assert origins[mint(COPY) + "/" + second] == ("blocks", at)
    assert origins[mint(COPY) + "/" + t["blocks"][0]["id"]] == ("blocks", 2)
    read["blocks"][1]["code"] = ""  # a bad cell of that row
    with pytest.raises(table.TableError) as e:
        table.to_rdf(read, COPY)
    assert str(e.value).startswith(f"blocks, {'line' if fmt == 'csv' else 'row'} {at}, column code: empty")
    folder = tmp_path / "build" / "imports"
    imports.table(source, folder, "copy", COPY)
    lines = (folder / "copy.nt").read_text(encoding="utf-8").splitlines()
    first = next(i for i, x in enumerate(lines) if x.startswith(f"<{mint(COPY)}/{second}> "))
    assert lines[first - 1] == f"# from: {where}"


COPY = "rncp99980-copy"
