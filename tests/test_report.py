"""The validation report: a valid SHACL report (every result, QC rows included, carries what SHACL
requires: checked with the shapes of tests/reference/shacl-report), and each finding names where its
focus node was written — file and line, and for an import the sheet and row or the JSON path."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

import pyoxigraph as ox
import pytest
from pyshacl import validate as shacl_validate
from openpyxl import load_workbook
from rdflib import Graph, Literal, URIRef

from support.paths import ROOT
from rkg.build import build, discover
from rkg.catalog import Catalog
from rkg import ci_report
from rkg.interop import imports, orebut, table
from rkg.interop.workbook import Sheet, write_workbook
from rkg.namespaces import DCTERMS, RDF, SH, graph_iri, mint
from rkg.store import EmbeddedStore
from rkg.validation import (QC_BASE, QC_COMPONENT, Finding, Report, load_shapes, render_json, render_text,
                            render_turtle, validate)

REPORT_SHAPES = ROOT / "tests" / "reference" / "shacl-report" / "shapes.ttl"
QC_CASES = ROOT / "tests" / "cases" / "qc"
RT_JSON = ROOT / "tests" / "reference" / "scodoc" / "rt.json"
COPY = "rncp99980-copy"


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes(ROOT / "shapes")


def run(store: EmbeddedStore, shapes: Graph, catalog: Catalog, root: Path | None = None, **where) -> tuple[Report, Graph]:
    """Validate, with the sources ``discover`` finds for ``where`` (extra_data, imports); locations relative
    to ``root`` (default: the project's root, ROOT)."""
    return validate(store, shapes, catalog, sources=discover(ROOT, **where), root=ROOT if root is None else root)


def existing(file: str, root: Path = ROOT) -> Path:
    """The file a location names (relative to ``root``, or absolute), which must exist."""
    path = Path(file) if Path(file).is_absolute() else root / file
    assert path.is_file(), file
    return path


def sarif_files(report: Report, root: Path) -> list[Path]:
    """The files the SARIF log of ``report`` names: relative URIs resolved against PROJECTROOT = ``root``,
    absolute ``file:`` URIs as they are."""
    out = []
    for result in ci_report.sarif(report, "en")["runs"][0]["results"]:
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        if "uriBaseId" in artifact:
            assert artifact["uriBaseId"] == ci_report.URI_BASE and not artifact["uri"].startswith(("/", "file:"))
            out.append(root / unquote(artifact["uri"]))
        else:
            parsed = urlparse(artifact["uri"])
            assert parsed.scheme == "file", artifact
            out.append(Path(url2pathname(parsed.path)))
    return out


def report_conforms(turtle: str) -> tuple[bool, str]:
    conforms, _graph, text = shacl_validate(Graph().parse(data=turtle, format="turtle"),
                                            shacl_graph=Graph().parse(REPORT_SHAPES), inference="none")
    return conforms, text


def results(g: Graph) -> list:
    return list(g.subjects(RDF.type, SH.ValidationResult))


def no_location(f: Finding) -> tuple:
    return (f.severity, f.rule, f.focus, f.path, f.value, tuple(sorted(f.message.items())))


# ---------------------------------------------------------------- the bundled graph


@pytest.fixture(scope="module")
def bundled(bundled_store, shapes, catalog) -> tuple[Report, Graph]:
    return run(bundled_store, shapes, catalog)


def test_bundled_findings_the_same_with_their_location(bundled, bundled_store, shapes, catalog) -> None:
    report, _ = bundled
    without, _ = validate(bundled_store, shapes, catalog)
    assert (report.count("violation"), report.count("warning"), report.count("info")) == (0, 23, 0)
    assert [no_location(f) for f in report.findings] == [no_location(f) for f in without.findings]
    assert all(f.location is None for f in without.findings)
    for f in report.findings:  # described in the référentiel's main file, at a line that names it
        assert f.location is not None and f.location.file == "data/rncp31854-pif/2024-2028/referentiel.ttl", f
        line = (ROOT / f.location.file).read_text(encoding="utf-8").splitlines()[f.location.line - 1]
        assert line.startswith("<" + f.focus.removeprefix(mint("rncp31854-pif") + "/") + ">"), (f.focus, line)


def test_bundled_turtle_report_is_a_valid_shacl_report(bundled) -> None:
    report, shacl_results = bundled
    turtle = render_turtle(report, shacl_results)
    conforms, text = report_conforms(turtle)
    assert conforms, text
    g = Graph().parse(data=turtle, format="turtle")
    assert len(results(g)) == 23
    for r in results(g):  # what rkg gives each result: a shape, and where the focus node was written
        assert g.value(r, SH.sourceShape) is not None
        written = [str(o) for o in g.objects(r, DCTERMS.source)]
        assert len(written) == 1 and re.fullmatch(r"data/\S+\.ttl:\d+", written[0]), written


def test_text_and_json_show_the_location(bundled) -> None:
    report, _ = bundled
    f = report.findings[0]
    where = f"{f.location.file}:{f.location.line}"
    assert f"\n      written at {where}\n" in render_text(report, "en")
    assert f"\n      écrit dans {where}\n" in render_text(report, "fr")
    found = json.loads(render_json(report))["findings"][0]
    assert found["location"] == {"file": f.location.file, "line": f.location.line, "origin": None}


# ---------------------------------------------------------------- QC rows


@pytest.fixture(scope="module")
def qc(shapes, catalog) -> tuple[Report, Graph]:
    """The failing cases of the QC queries (tests/cases/qc) as a data folder beside the bundled graph."""
    store = EmbeddedStore.from_quads(build(ROOT, [QC_CASES]).quads)
    return run(store, shapes, catalog, extra_data=[QC_CASES])


def test_qc_rows_are_valid_results(qc) -> None:
    report, shacl_results = qc
    rows = [f for f in report.findings if f.rule.startswith(QC_BASE)]
    assert rows
    turtle = render_turtle(report, shacl_results)
    conforms, text = report_conforms(turtle)
    assert conforms, text
    g = Graph().parse(data=turtle, format="turtle")
    component = URIRef(QC_COMPONENT)
    assert (component, RDF.type, SH.ConstraintComponent) in g
    assert {lbl.language for lbl in g.objects(component, URIRef("http://www.w3.org/2000/01/rdf-schema#label"))} == {"fr", "en"}
    from_qc = [r for r in results(g) if str(g.value(r, SH.sourceShape)).startswith(QC_BASE)]
    assert len(from_qc) == len(rows)
    assert all(g.value(r, SH.sourceConstraintComponent) == component for r in from_qc)


def test_a_result_without_its_constraint_component_is_refused(qc) -> None:
    """The report shapes do check: the same report, one result short of sh:sourceConstraintComponent."""
    report, shacl_results = qc
    g = Graph().parse(data=render_turtle(report, shacl_results), format="turtle")
    r = next(r for r in results(g) if str(g.value(r, SH.sourceShape)).startswith(QC_BASE))
    g.remove((r, SH.sourceConstraintComponent, None))
    assert not report_conforms(g.serialize(format="turtle"))[0]
    g.add((r, SH.sourceConstraintComponent, Literal("not an IRI")))
    assert not report_conforms(g.serialize(format="turtle"))[0]


def test_qc_rows_name_the_case_file_and_line(qc) -> None:
    """A --data folder inside the project: its files relative to the project root."""
    report, _ = qc
    for f in report.findings:
        if not f.rule.startswith(QC_BASE):
            continue
        assert f.location is not None and f.location.file.startswith("tests/cases/qc/"), f
        line = existing(f.location.file).read_text(encoding="utf-8").splitlines()[f.location.line - 1]
        assert f.focus.rsplit("/", 1)[-1] in line, (f.focus, line)


def test_a_data_folder_outside_the_project_is_named_by_its_absolute_path(shapes, catalog, tmp_path: Path) -> None:
    """--data elsewhere: each file by its absolute path, which exists; SARIF names it by a file: URI."""
    folder = tmp_path / "qc"
    shutil.copytree(QC_CASES, folder)
    store = EmbeddedStore.from_quads(build(ROOT, [folder]).quads)
    report, _ = run(store, shapes, catalog, extra_data=[folder])
    located = [f for f in report.findings if f.location and f.rule.startswith(QC_BASE)]
    assert located
    for f in located:
        assert Path(f.location.file).is_absolute() and existing(f.location.file).parent == folder.resolve(), f
    files = sarif_files(report, ROOT)
    assert files and all(p.is_file() for p in files)
    assert {p.resolve() for p in files} >= {Path(f.location.file) for f in located}


# ---------------------------------------------------------------- imports: sheet and row, JSON path


@pytest.mark.parametrize("kind", ["xlsx", "ods", "csv"])
def test_spreadsheet_findings_name_sheet_and_row(kind: str, bundled_store, shapes, catalog, tmp_path: Path) -> None:
    """The bundled référentiel written as the template (a workbook, a folder of CSV files), with blank rows
    (lines) after each sheet's header, and imported under another id: its findings name the imported file
    (``build/imports/copy.nt`` of the project: here tmp_path), the line, and the sheet and row (the CSV
    file and line) the entity came from, read back from the file itself; the SARIF log names files that
    exist."""
    tables = table.from_graph(bundled_store, "rncp31854-pif")
    source = tmp_path / ("copy" if kind == "csv" else f"copy.{kind}")
    if kind == "csv":
        table.write_csv(tables, source)
        for path in source.glob("*.csv"):  # two blank lines after the column names
            header, rest = path.read_text(encoding="utf-8").split("\n", 1)
            path.write_text(f"{header}\n\n\n{rest}", encoding="utf-8")
    else:
        sheets = [Sheet(name, [table.columns(name), [], [], *([r.get(c, "") for c in table.columns(name)] for r in tables[name])])
                  for name in table.ORDER]
        write_workbook(sheets, source, kind)
    folder = tmp_path / "build" / "imports"
    imports.table(source, folder, "copy", COPY)
    lines = (folder / "copy.nt").read_text(encoding="utf-8").splitlines()
    made = ox.serialize(table.to_rdf(table.read(source), COPY), format=ox.RdfFormat.N_TRIPLES).decode().splitlines()
    assert [x for x in lines if not x.startswith("# from: ")] == made or (  # blank nodes get new ids each time
        sorted(x for x in lines if x.startswith("<") and "_:" not in x) == sorted(x for x in made if "_:" not in x))
    assert sum(x.startswith("# from: ") for x in lines) == len(_subjects(lines))  # one comment per entity
    store = EmbeddedStore.from_quads(build(ROOT, imports=folder).quads)
    report, _ = run(store, shapes, catalog, root=tmp_path, imports=folder)
    copied = [f for f in report.findings if f.focus.startswith(mint(COPY) + "/")]
    assert len(copied) == 23
    pattern = r"copy/(\w+)\.csv, line (\d+)" if kind == "csv" else rf"copy\.{kind}, sheet (\w+), row (\d+)"
    for f in copied:
        assert f.location.file == "build/imports/copy.nt" and f.location.line, f
        sheet, at = re.fullmatch(pattern, f.location.origin).groups()
        assert mint(COPY) + "/" + _first_cell(source, sheet, int(at)) == f.focus
        line = existing(f.location.file, tmp_path).read_text(encoding="utf-8").splitlines()[f.location.line - 1]
        assert line.startswith(f"<{f.focus}> ")
    files = sarif_files(report, tmp_path)
    assert len(files) == len(report.findings) and all(p.is_file() for p in files)
    assert {p for f, p in zip(report.findings, files) if f in copied} == {folder / "copy.nt"}
    report, _ = run(store, shapes, catalog, imports=folder)  # the project's root: the import is outside it
    assert {f.location.file for f in report.findings if f.focus.startswith(mint(COPY) + "/")} == \
        {(folder / "copy.nt").resolve().as_posix()}
    assert all(p.is_file() for p in sarif_files(report, ROOT))


def _first_cell(source: Path, sheet: str, at: int) -> str:
    """The id cell of row ``at`` of a sheet (an .xlsx or .ods file), or of the record starting on line
    ``at`` of a CSV file: read from the file, not through rkg's reader."""
    if source.is_dir():
        text = "".join((source / f"{sheet}.csv").read_text(encoding="utf-8").splitlines(keepends=True)[at - 1:])
        return next(csv.reader(io.StringIO(text)))[0]
    if source.suffix == ".xlsx":
        return load_workbook(source, read_only=True)[sheet].cell(at, 1).value
    import python_calamine

    return python_calamine.CalamineWorkbook.from_path(str(source)).get_sheet_by_name(sheet).to_python(skip_empty_area=False)[at - 1][0]


def _subjects(lines: list[str]) -> set[str]:
    """The IRIs whose first statement has a ``# from:`` comment before it, in a written import."""
    return {lines[i + 1].split(">", 1)[0][1:] for i, x in enumerate(lines) if x.startswith("# from: ") and lines[i + 1].startswith("<")}


_STEP = re.compile(r"\[(?:'((?:[^'\\]|\\(?:[bfnrt'\\]|u[0-9a-f]{4}))*)'|(0|[1-9][0-9]*))\]")
"""One step of an RFC 9535 normalized path: ``['name']`` (escapes ``\\' \\\\ \\b \\f \\n \\r \\t \\uXXXX``) or ``[index]``."""


_UNESCAPE = re.compile(r"\\(u[0-9a-f]{4}|.)")


def _unescaped(escape: str) -> str:
    return chr(int(escape[1:], 16)) if escape.startswith("u") else {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}.get(escape, escape)


def json_at(data, path: str):
    """The value at an RFC 9535 normalized path (``$['a']['b.c'][2]``), as rkg writes the JSON's places: the
    whole path must be steps of that form."""
    assert path.startswith("$"), path
    pos = 1
    while pos < len(path):
        m = _STEP.match(path, pos)
        assert m, (path, pos)
        name, index = m.groups()
        data = data[int(index)] if index is not None else data[_UNESCAPE.sub(lambda e: _unescaped(e.group(1)), name)]
        pos = m.end()
    return data


def test_scodoc_json_findings_name_the_json_path(shapes, catalog, tmp_path: Path) -> None:
    folder = tmp_path / "build" / "imports"
    written = imports.orebut(RT_JSON, folder, "rt").target.read_bytes()
    result = orebut.import_file(RT_JSON, folder, "rt", None, graph_iri("imports/rt.nt"))
    triples = result.triples
    without_comments = b"".join(line for line in written.splitlines(keepends=True) if not line.startswith(b"# from: "))
    assert without_comments == ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)  # the same bytes, comments aside
    report, _ = run(EmbeddedStore.from_quads(build(ROOT, imports=folder).quads), shapes, catalog, imports=folder)
    rt = [f for f in report.findings if f.focus == mint("but-rt") or f.focus.startswith(mint("but-rt") + "/")]
    assert rt
    data = json.loads(RT_JSON.read_text(encoding="utf-8"))
    for origin in result.origins.values():  # every entity's place, keys with dots among them (AC11.01)
        name, _, path = origin.partition(" $")
        assert name == "rt.json" and isinstance(json_at(data, "$" + path), (dict, str)), origin
    assert any("['app_critiques']['AC" in o and "." in o.rsplit("[", 1)[-1] for o in result.origins.values())
    for f in rt:
        assert Path(f.location.file) == (folder / "rt.nt").resolve() and f.location.line, f  # outside the project
        name, _, path = f.location.origin.partition(" $")
        assert name == "rt.json", f.location
        assert isinstance(json_at(data, "$" + path), (dict, str)), path
    for f in rt:  # a niveau's path ends at the niveau, an AC's at the AC
        if "/level/" in f.focus and "/ac/" not in f.focus:
            assert "['niveaux']" in f.location.origin and json_at(data, f.location.origin.partition(" ")[2])["ordre"]


@pytest.mark.parametrize("path, value", [
    ("$", {"a.b": {"c d": [1, {"it's": 2}]}, "\n\\": 3}),
    ("$['a.b']['c d'][1]['it\\'s']", 2),
    ("$['\\n\\\\']", 3),
])
def test_normalized_paths(path: str, value) -> None:
    """The test's reader of RFC 9535 normalized paths, and rkg's writer (``orebut.member``) of them."""
    data = {"a.b": {"c d": [1, {"it's": 2}]}, "\n\\": 3}
    assert json_at(data, path) == value
    assert orebut.member(orebut.member("$", "a.b"), "c d") + "[1]" + "['it\\'s']" == "$['a.b']['c d'][1]['it\\'s']"
    assert orebut.member("$", "\n\\") == "$['\\n\\\\']"
    assert orebut.member("$", "\x1f") == "$['\\u001f']"
    assert json_at(data, orebut.member(orebut.member(orebut.member("$", "a.b"), "c d") + "[1]", "it's")) == 2


def test_cli_reports_the_locations(rkg, built_dir: Path) -> None:
    """``rkg validate`` finds the project's sources itself: every format says where."""
    r = rkg("validate", "--build-dir", str(built_dir), "--format", "json", "-q")
    assert r.returncode == 0, r.stderr
    found = json.loads(r.stdout)["findings"]
    assert len(found) == 23
    assert {f["location"]["file"] for f in found} == {"data/rncp31854-pif/2024-2028/referentiel.ttl"}
    assert all(f["location"]["line"] > 0 for f in found)
    r = rkg("validate", "--build-dir", str(built_dir), "--lang", "en", "-q")
    assert r.stdout.count("      written at data/rncp31854-pif/2024-2028/referentiel.ttl:") == 23
