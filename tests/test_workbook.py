"""Workbooks (``rkg.interop.workbook``): typed cells that read back as written in ``.xlsx`` and ``.ods``; every
named question downloadable as both (``/api/queries/NAME?format=xlsx|ods`` or Accept), the same rows as its
JSON answer; every heat map as both, its cells coloured with the page's scale; the links on the pages; and
hostile ``.ods`` files refused by ``rkg import table`` with the file and the reason (exit 2)."""

from __future__ import annotations

import io
import math
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import pytest
import python_calamine
from openpyxl import load_workbook

from support.expected import read_case
from support.paths import ROOT
from support.server import AppServer
from test_import_hostile import MiB, declare, minimal_tables, rezip, run

from rkg.catalog import Catalog
from rkg.errors import InputError
from rkg.formats import ODS, WORKBOOKS, XLSX
from rkg.interop import table, workbook
from rkg.interop.workbook import Sheet, read_workbook, workbook_bytes, write_workbook
from rkg.namespaces import XSD
from rkg.web import heatmap
from rkg.web.api import results_sheet

CATALOG = Catalog.from_folder(ROOT / "queries")
FORMATS = sorted(WORKBOOKS)
TIMEOUT = 30


# ---------------------------------------------------------------- cells


CELLS = ["01", "1.10", "  deux espaces  ", "ligne\nsuite\n", "tab\there", "é «»<&>", "=1+1", "#N/A", "TRUE", "", None, 3, 2.5,
         Decimal("1.25"), -7]


def trimmed(values: list) -> list:
    values = list(values)
    while values and values[-1] is None:
        values.pop()
    return values


@pytest.mark.parametrize("fmt", FORMATS)
def test_cells_read_back_as_written(fmt: str, tmp_path: Path) -> None:
    """Text stays text (a code ``01`` or ``1.10``, a formula-looking ``=1+1``, spaces, line breaks, tabs);
    numbers are number cells."""
    path = tmp_path / f"t.{fmt}"
    write_workbook([Sheet("s", [["a", "b"], CELLS])], path, fmt)
    sheets = {name: [(n, trimmed(values)) for n, values in rows] for name, rows in read_workbook(path, fmt)}
    assert list(sheets) == ["s"] and sheets["s"][0] == (1, ["a", "b"])
    got = sheets["s"][1][1] + [None] * (len(CELLS) - len(sheets["s"][1][1]))
    expected = [None if v in ("", None) else float(v) if isinstance(v, (int, float, Decimal)) else v for v in CELLS]
    assert [float(v) if isinstance(v, (int, float)) else v for v in got] == expected


def test_xlsx_cell_types_header_and_fills(tmp_path: Path) -> None:
    """In the .xlsx file itself: text cells of type s (``=1+1`` no formula, ``#N/A`` no error), numbers n;
    the header bold and frozen; the fills where asked, a header cell's too."""
    path = tmp_path / "t.xlsx"
    fills = {(0, 1): "00ff00", (1, 0): "ff0000", (1, 12): "0000ff"}
    write_workbook([Sheet("s", [["a", "b"], CELLS], fills)], path, "xlsx")
    ws = load_workbook(path).worksheets[0]
    types = [ws.cell(2, c + 1).data_type for c, v in enumerate(CELLS) if v not in ("", None)]
    assert types == ["s" if isinstance(v, str) else "n" for v in CELLS if v not in ("", None)]
    assert ws["A1"].font.b and ws["B1"].font.b and not ws["A2"].font.b and ws.freeze_panes == "A2"
    assert xlsx_fills(path.read_bytes()) == fills


def test_ods_is_a_real_opendocument_spreadsheet(tmp_path: Path) -> None:
    """The mimetype member first and stored, typed cells in content.xml (office:value-type string / float)."""
    path = tmp_path / "t.ods"
    write_workbook([Sheet("s", [["code", "n"], ["01", 1]])], path, "ods")
    with zipfile.ZipFile(path) as z:
        first = z.infolist()[0]
        assert (first.filename, first.compress_type, z.read("mimetype").decode()) == ("mimetype", zipfile.ZIP_STORED, ODS.media)
        content = z.read("content.xml").decode()
    assert 'office:value-type="string"><text:p>01</text:p>' in content
    assert 'office:value-type="float" office:value="1"' in content


CONTROLS = ["a\x0bb", "\x00", "nul\x00 bel\x07 esc\x1b", "\ufffe\uffff", "lone \ud800 surrogate", "tab\tkept", "é"]
CLEANED = ["a\ufffdb", "\ufffd", "nul\ufffd bel\ufffd esc\ufffd", "\ufffd\ufffd", "lone \ufffd surrogate", "tab\tkept", "é"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_characters_xml_cannot_hold_are_written_as_replacement(fmt: str, tmp_path: Path) -> None:
    """A C0 control (tab, line feed, carriage return aside), U+FFFE, U+FFFF or a lone surrogate is written
    as U+FFFD, in cells and in the sheet's name, whatever the format: no exception, nothing garbled."""
    path = tmp_path / f"t.{fmt}"
    write_workbook([Sheet("s\x01", [["a"], CONTROLS])], path, fmt)
    sheets = {name: [values for _, values in rows] for name, rows in read_workbook(path, fmt)}
    assert sheets == {"s\ufffd": [["a"] + [None] * (len(CONTROLS) - 1), CLEANED]}


NOT_FINITE = [float("nan"), float("inf"), float("-inf"), Decimal("NaN"), Decimal("-Infinity"), Decimal("sNaN"), 1.5]


@pytest.mark.parametrize("fmt", FORMATS)
def test_numbers_that_are_not_finite_are_written_as_text(fmt: str, tmp_path: Path) -> None:
    """No spreadsheet number is NaN or infinite: such a value is a text cell in xsd:double's form."""
    path = tmp_path / f"t.{fmt}"
    write_workbook([Sheet("s", [["a"], NOT_FINITE])], path, fmt)
    rows = [values for _, sheet in read_workbook(path, fmt) for _, values in sheet]
    assert rows[1] == ["NaN", "INF", "-INF", "NaN", "-INF", "NaN", 1.5]


@pytest.mark.parametrize("fmt", FORMATS)
def test_answer_with_nan_and_inf_as_a_workbook(fmt: str) -> None:
    """An xsd:double NaN, INF or -INF of a SPARQL answer (read as a float) is a text cell of the workbook."""
    data = {"head": {"vars": ["x"]}, "results": {"bindings": [{"x": {"type": "literal", "datatype": XSD + "double", "value": v}}
                                                              for v in ("NaN", "INF", "-INF", "2.5E0")]}}
    sheet = results_sheet("q", data)
    assert math.isnan(sheet.rows[1][0]) and sheet.rows[2][0] == math.inf
    assert sheet_rows(workbook_bytes([sheet], fmt), fmt) == [["x"], ["NaN"], ["INF"], ["-INF"], [2.5]]


def test_workbook_download_cells_are_capped(monkeypatch) -> None:
    """A workbook made in memory for a download has at most ANSWER_CELLS cells (rows × widest row): beyond,
    an InputError that says to ask for CSV, before anything is written."""
    monkeypatch.setattr(workbook, "ANSWER_CELLS", 6)
    assert workbook_bytes([Sheet("s", [["a", "b"], [1], [2, 3]])], "ods")
    for fmt in FORMATS:
        with pytest.raises(InputError, match=r"^a workbook of 8 cells \(rows × columns\), more than the 6 a workbook download "
                                             r"may have; ask for format=csv"):
            workbook_bytes([Sheet("s", [["a", "b"], [1], [2, 3], [4]])], fmt)


# ---------------------------------------------------------------- every named question


def _params() -> dict[str, dict[str, str]]:
    """Values for each question's parameters without default: those of its first case in tests/queries."""
    out: dict[str, dict[str, str]] = {}
    for case in sorted((ROOT / "tests" / "queries").glob("*.json")):
        name, spec = read_case(case)
        if "store" not in spec and spec.get("params"):
            out.setdefault(name, spec["params"])
    return out


PARAMS = _params()
FALLBACK = {"iri": "https://w3id.org/rkg/id/rncp31854-pif/dimension/4", "literal": "UE01"}


def params_of(name: str) -> dict[str, str]:
    q = CATALOG.queries[name]
    required = {p.name: FALLBACK.get(p.type, "1") for p in q.parameters if p.required and p.default is None}
    return {**required, **PARAMS.get(name, {})} if required else {}


def get(server: AppServer, url: str, params: dict | None = None, headers: dict | None = None):
    return server.request("GET", server.base + url, params=params, headers=headers, timeout=TIMEOUT)


def sheet_rows(body: bytes, fmt: str) -> list[list]:
    """The cells of a workbook's only sheet, read by openpyxl (.xlsx) or python-calamine (.ods)."""
    if fmt == "xlsx":
        wb = load_workbook(io.BytesIO(body), read_only=True)
        assert len(wb.worksheets) == 1
        rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        wb.close()
        return rows
    wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(body))
    assert len(wb.sheet_names) == 1
    return [[None if v == "" else v for v in r] for r in wb.get_sheet_by_index(0).to_python(skip_empty_area=False)]


def _norm(v):
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v


NUMERIC = re.compile(r"#(integer|int|long|short|nonNegativeInteger|positiveInteger|decimal|double|float)$")


def json_rows(data: dict) -> set[tuple]:
    columns = data["head"]["vars"]
    return {tuple(None if c not in b else float(b[c]["value"]) if NUMERIC.search(b[c].get("datatype", "")) else b[c]["value"]
                  for c in columns) for b in data["results"]["bindings"]}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", sorted(CATALOG.queries))
def test_every_question_as_a_workbook(app_server: AppServer, name: str, fmt: str) -> None:
    """The workbook holds the JSON answer: a header row of its columns, then its rows (compared as sets)."""
    params = params_of(name)
    answer = get(app_server, f"/api/queries/{name}", params)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    r = get(app_server, f"/api/queries/{name}", {**params, "format": fmt})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == WORKBOOKS[fmt].media
    assert r.headers["Content-Disposition"] == f'attachment; filename="{name.replace("/", "-")}.{fmt}"'
    rows = sheet_rows(r.content, fmt)
    assert rows[0] == data["head"]["vars"]
    width = len(rows[0])
    got = [tuple(_norm(v) for v in (row + [None] * width)[:width]) for row in rows[1:]]
    assert len(got) == len(data["results"]["bindings"]) and set(got) == json_rows(data)


@pytest.mark.parametrize("fmt", FORMATS)
def test_workbook_by_accept_and_etag(app_server: AppServer, fmt: str) -> None:
    media = WORKBOOKS[fmt].media
    r = get(app_server, "/api/queries/uncovered-dimensions", headers={"Accept": media})
    assert r.status_code == 200 and r.headers["Content-Type"] == media
    json_etag = get(app_server, "/api/queries/uncovered-dimensions").headers["ETag"]
    assert r.headers["ETag"] != json_etag and r.headers["Vary"] == "Accept"
    again = get(app_server, "/api/queries/uncovered-dimensions", headers={"Accept": media})
    assert again.content == r.content  # from the cache: the same bytes
    r304 = get(app_server, "/api/queries/uncovered-dimensions", headers={"Accept": media, "If-None-Match": r.headers["ETag"]})
    assert r304.status_code == 304 and not r304.content


def test_openapi_lists_the_workbook_formats(app_server: AppServer) -> None:
    spec = get(app_server, "/api/openapi.json").json()
    op = spec["paths"]["/api/queries/block-summary"]["get"]
    assert {"xlsx", "ods"} <= set(next(p for p in op["parameters"] if p["name"] == "format")["schema"]["enum"])
    assert {XLSX.media, ODS.media} <= set(op["responses"]["200"]["content"])


# ---------------------------------------------------------------- heat maps


def xlsx_fills(body: bytes) -> dict[tuple[int, int], str]:
    """(row, column) from 0 → RRGGBB of each filled cell."""
    ws = load_workbook(io.BytesIO(body)).worksheets[0]
    return {(c.row - 1, c.column - 1): c.fill.start_color.rgb[-6:].lower() for row in ws.iter_rows() for c in row
            if c.fill is not None and c.fill.fill_type == "solid"}


NS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0", "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
      "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"}


def ods_fills(body: bytes) -> dict[tuple[int, int], str]:
    """The same, from content.xml: each cell's automatic style and the style's fo:background-color."""
    root = ElementTree.fromstring(zipfile.ZipFile(io.BytesIO(body)).read("content.xml"))
    colours = {}
    for s in root.iter(f"{{{NS['style']}}}style"):
        props = s.find("style:table-cell-properties", NS)
        if props is not None and props.get(f"{{{NS['fo']}}}background-color"):
            colours[s.get(f"{{{NS['style']}}}name")] = props.get(f"{{{NS['fo']}}}background-color").lstrip("#").lower()
    out = {}
    for r, row in enumerate(root.iter(f"{{{NS['table']}}}table-row")):
        c = 0
        for cell in row:
            repeat = int(cell.get(f"{{{NS['table']}}}number-columns-repeated", "1"))
            colour = colours.get(cell.get(f"{{{NS['table']}}}style-name", ""))
            for k in range(repeat):
                if colour:
                    out[(r, c + k)] = colour
            c += repeat
    return out


FILLS = {"xlsx": xlsx_fills, "ods": ods_fills}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", ["block", "competency", "dimension", "ac"])
def test_heat_map_workbook_is_coloured(app_server: AppServer, kind: str, fmt: str) -> None:
    """The counts of the CSV download, each linked cell filled with the colour of its level on the page
    (read from the page's classes), the heads of uncovered rows with the gap colour."""
    params = {"programme": "rncp31854-pif", "kind": kind, "lang": "en"}
    r = get(app_server, "/api/coverage", {**params, "format": fmt})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == WORKBOOKS[fmt].media
    assert r.headers["Content-Disposition"] == f'attachment; filename="coverage-rncp31854-pif-{kind}.{fmt}"'
    rows = sheet_rows(r.content, fmt)
    csv_rows = [line.split(",") for line in get(app_server, "/coverage.csv", params).text.splitlines()]
    assert len(rows) == len(csv_rows) and rows[0] == csv_rows[0]
    assert [[str(int(v)) for v in row[2:]] for row in rows[1:]] == [row[-(len(rows[0]) - 2):] for row in csv_rows[1:]]
    page = get(app_server, "/coverage", params, {"Accept": "text/html"}).text
    levels = [int(m) for m in re.findall(r'<td class="cell level(\d)"', page)]
    fills = FILLS[fmt](r.content)
    cell_fills = [colour for (i, j), colour in sorted(fills.items()) if j >= 2]
    assert cell_fills == [heatmap.LEVEL_COLOURS[n] for n in levels] and cell_fills
    assert len(set(cell_fills)) >= 2 or kind != "dimension"  # several blocks mobilise a dimension in one unit
    gaps = len(re.findall(r'<tr data-row="[^"]*" class="gap">', page))
    assert sorted(c for (i, j), c in fills.items() if j < 2) == [heatmap.GAP_COLOUR] * (2 * gaps)


def test_the_colours_are_the_pages() -> None:
    css = (ROOT / "server" / "rkg" / "web" / "static" / "rkg.css").read_text(encoding="utf-8")
    for n, colour in enumerate(heatmap.LEVEL_COLOURS[1:], 1):
        assert re.search(rf"td\.level{n} \{{ background: #{colour};", css), n
    assert f"tr.gap th.rowhead {{ background: #{heatmap.GAP_COLOUR}; }}" in css


def test_too_large_a_workbook_is_refused(app_server: AppServer, monkeypatch) -> None:
    """Beyond ANSWER_CELLS cells (here made small), a workbook download is answered 400 with the way out:
    format=csv, which still answers."""
    monkeypatch.setattr(workbook, "ANSWER_CELLS", 10)
    params = {"programme": "rncp31854-pif", "kind": "ac", "lang": "fr"}  # a heat map no other test downloads: not cached
    for fmt in FORMATS:
        r = get(app_server, "/api/coverage", {**params, "format": fmt})
        assert r.status_code == 400 and "more than the 10 a workbook download may have; ask for format=csv" in r.json()["error"]
    assert get(app_server, "/api/coverage", {**params, "format": "csv"}).status_code == 200


def test_heat_map_formats(app_server: AppServer) -> None:
    r = get(app_server, "/api/coverage", {"programme": "rncp31854-pif"}, {"Accept": ODS.media})
    assert r.status_code == 200 and r.headers["Content-Type"] == ODS.media
    assert get(app_server, "/api/coverage", {"programme": "rncp31854-pif"}, {"Accept": "image/png"}).status_code == 406
    assert get(app_server, "/api/coverage", {"programme": "rncp31854-pif", "kind": "colour", "format": "xlsx"}).status_code == 400


# ---------------------------------------------------------------- links on the pages


def test_links_on_the_pages(app_server: AppServer) -> None:
    html = get(app_server, "/questions", headers={"Accept": "text/html"}).text
    for name in CATALOG.queries:
        for fmt in FORMATS:
            assert f'href="/api/queries/{name}?format={fmt}"' in html, (name, fmt)
    html = get(app_server, "/api/queries/ues-covering-dimension",
               {"dimension": FALLBACK["iri"], "format": "html"}).text
    for fmt in FORMATS:
        assert re.search(rf'<a class="workbook" href="/api/queries/ues-covering-dimension\?dimension=[^"]+&amp;format={fmt}"', html)
    html = get(app_server, "/coverage", {"programme": "rncp31854-pif", "kind": "dimension"}, {"Accept": "text/html"}).text
    for fmt in FORMATS:
        href = re.search(rf'<a id="{fmt}" href="([^"]+)"', html).group(1).replace("&amp;", "&")
        r = get(app_server, href)
        assert r.status_code == 200 and r.headers["Content-Type"] == WORKBOOKS[fmt].media
        assert "coverage-rncp31854-pif-dimension" in r.headers["Content-Disposition"]


# ---------------------------------------------------------------- hostile .ods


def spreadsheet(path: Path, **rows: list[dict[str, str]]) -> Path:
    table.write_workbook_file(minimal_tables(**rows), path, "ods")
    return path


def in_content(name: str, change) -> callable:
    def make(tmp: Path) -> Path:
        return rezip(spreadsheet(tmp / "w.ods"), tmp / name, lambda n, d: change(d) if n == "content.xml" else d)
    make.__name__ = name
    return make


LAUGHS = b'<!DOCTYPE x [<!ENTITY a0 "ha">' + b"".join(
    f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">'.encode() for i in range(1, 10)) + b"]>"
FILLED = b'<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>'


def first_table_end(extra: bytes):
    return lambda d: d.replace(b"</table:table>", extra + b"</table:table>", 1)


def text_as_ods(tmp: Path) -> Path:
    (tmp / "x.ods").write_text("id,label_fr\n", encoding="utf-8")
    return tmp / "x.ods"


def xlsx_as_ods(tmp: Path) -> Path:
    table.write_workbook_file(minimal_tables(), tmp / "x.ods", "xlsx")
    return tmp / "x.ods"


def wrong_mimetype(tmp: Path) -> Path:
    return rezip(spreadsheet(tmp / "w.ods"), tmp / "mime.ods", lambda n, d: b"application/zip" if n == "mimetype" else d)


def declared_bomb(tmp: Path) -> Path:
    return declare(spreadsheet(tmp / "bomb.ods"), "content.xml", 300_000_000)


def ratio_bomb(tmp: Path) -> Path:
    return rezip(spreadsheet(tmp / "w.ods"), tmp / "ratio.ods", extra={"Pictures/zeros.bin": bytes(5 * MiB)})


def many_members(tmp: Path) -> Path:
    return rezip(spreadsheet(tmp / "w.ods"), tmp / "many.ods", extra={f"junk/{i}.xml": b"" for i in range(1001)})


def ods_bad_cell(tmp: Path) -> Path:
    return spreadsheet(tmp / "cell.ods", blocks=[{"id": "block/BC01", "code": ""}])


HOSTILE_ODS = [
    (text_as_ods, r"x\.ods: not an \.ods spreadsheet \(not a zip archive\)"),
    (xlsx_as_ods, r"x\.ods: not an \.ods spreadsheet \(a zip archive without content\.xml\)"),
    (wrong_mimetype, r"mime\.ods: not an \.ods spreadsheet \(its mimetype is 'application/zip'"),
    (declared_bomb, r"bomb\.ods: refused: member content\.xml expands to 286\.1 MiB, more than the 200\.0 MiB accepted"),
    (ratio_bomb, r"ratio\.ods: refused: member Pictures/zeros\.bin expands \d+ times .*more than the 100:1 accepted"),
    (many_members, r"many\.ods: refused: 10\d\d members in the archive, more than the 1000 accepted"),
    (in_content("laughs.ods", lambda d: d.replace(b"?>", b"?>" + LAUGHS, 1)), r"laughs\.ods: refused: member content\.xml declares a DTD"),
    # calamine makes every repeated row and cell: 2 KB would become a gigabyte
    (in_content("rows.ods", first_table_end(b'<table:table-row table:number-rows-repeated="100000">' + FILLED + b"</table:table-row>")),
     r"rows\.ods: programme: more than 20000 rows"),
    (in_content("columns.ods", first_table_end(b"<table:table-row>" + FILLED.replace(
        b"<table:table-cell ", b'<table:table-cell table:number-columns-repeated="100000" ') + b"</table:table-row>")),
     r"columns\.ods: programme, row 3: more than 1000 columns"),
    (in_content("cells.ods", first_table_end(b'<table:table-row table:number-rows-repeated="15000">' + FILLED.replace(
        b"<table:table-cell ", b'<table:table-cell table:number-columns-repeated="200" ') + b"</table:table-row>")),
     r"cells\.ods: programme: more than 2,000,000 cells in the spreadsheet \(\d+ rows × 200 columns here, 0 in the sheets before\)"),
    # calamine makes a value of a cell with office:value or office:string-value alone, no office:value-type
    (in_content("value.ods", first_table_end(b'<table:table-row table:number-rows-repeated="40"><table:table-cell office:value="1" '
                                             b'table:number-columns-repeated="3000"/></table:table-row>')),
     r"value\.ods: programme, row 3: more than 1000 columns"),
    # and a copy of a repeated cell's text for each repeat: a 100 KB cell, 100 columns × 20 rows, 200 M characters
    (in_content("repeat.ods", first_table_end(b'<table:table-row table:number-rows-repeated="20"><table:table-cell '
                                              b'office:value-type="string" table:number-columns-repeated="100"><text:p>'
                                              + b"x" * 100_000 + b"</text:p></table:table-cell></table:table-row>")),
     r"repeat\.ods: programme, row 3, column A: the cells of the spreadsheet hold more than 67,108,864 characters \(a repeated "
     r"cell counted each time: this one, 100,001 characters, 100 × 20 times\)"),
    (in_content("spaces.ods", first_table_end(b'<table:table-row><table:table-cell office:value-type="string"><text:p>'
                                              b'<text:s text:c="2000000"/></text:p></table:table-cell></table:table-row>')),
     r"spaces\.ods: programme, row 3, column A: a cell longer than 1,048,576 characters"),
    (in_content("xml.ods", lambda d: d[: len(d) // 2]), r"xml\.ods: not a readable \.ods spreadsheet \(content\.xml: "),
    (ods_bad_cell, r"cell\.ods: blocks, row 2, column code: empty; this column is required"),
]


@pytest.mark.parametrize("make, message", HOSTILE_ODS, ids=[make.__name__ for make, _ in HOSTILE_ODS])
def test_hostile_ods_exit_2_naming_file_and_reason(make, message: str, tmp_path: Path, capsys) -> None:
    source = make(tmp_path)
    build = tmp_path / "build"
    code = run("table", str(source), "--programme", "rncp99970-hostile", "--build-dir", str(build))
    err = capsys.readouterr().err
    assert code == 2, err
    assert re.search(f"^rkg: error: .*{message}", err), err
    assert "Traceback" not in err and len(err) < 2000
    assert not build.exists()


def test_trailing_empty_rows_and_columns_are_not_counted(tmp_path: Path) -> None:
    """LibreOffice ends a sheet with a million repeated empty rows of a thousand empty cells: read as nothing."""
    tables = minimal_tables(blocks=[{"id": "block/BC01", "code": "BC01"}])
    empty = (b'<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="1024"/>'
             b"</table:table-row>")
    path = rezip(spreadsheet(tmp_path / "w.ods", blocks=tables["blocks"]), tmp_path / "lo.ods",
                 lambda n, d: first_table_end(empty)(d) if n == "content.xml" else d)
    assert table.read(path) == table.read(tmp_path / "w.ods")


def test_small_limits_on_ods(tmp_path: Path) -> None:
    small = table.Limits(max_cell_chars=50, max_rows=3, max_columns=30)
    path = spreadsheet(tmp_path / "t.ods", blocks=[{"id": "block/BC01", "code": "BC01", "label_fr": "x" * 51}])
    with pytest.raises(table.TableError, match=r"t\.ods: blocks, row 2, column D: a cell longer than 50 characters"):
        table.read(path, small)
    path = spreadsheet(tmp_path / "r.ods", blocks=[{"id": f"block/BC0{i}", "code": f"BC0{i}"} for i in range(4)])
    with pytest.raises(table.TableError, match=r"r\.ods: blocks: more than 3 rows"):
        table.read(path, small)


def _with_rows(path: Path, target: Path, rows: bytes) -> Path:
    return rezip(path, target, lambda n, d: first_table_end(rows)(d) if n == "content.xml" else d)


def test_cells_without_value_type_are_counted(tmp_path: Path) -> None:
    """A cell with office:value or office:string-value but no office:value-type is a value for calamine:
    counted in the rows, columns and cells, its string-value in its length (they passed unseen before)."""
    small = table.Limits(max_cell_chars=100, max_rows=50, max_columns=100, max_cells=1000)
    base = spreadsheet(tmp_path / "w.ods")
    numbers = _with_rows(base, tmp_path / "n.ods", b'<table:table-row table:number-rows-repeated="40"><table:table-cell '
                         b'office:value="1" table:number-columns-repeated="3000"/></table:table-row>')
    with pytest.raises(table.TableError, match=r"n\.ods: programme, row 3: more than 100 columns"):
        list(read_workbook(numbers, "ods", small))
    wide = _with_rows(base, tmp_path / "c.ods", b'<table:table-row table:number-rows-repeated="40"><table:table-cell '
                      b'office:value="1" table:number-columns-repeated="30"/></table:table-row>')
    with pytest.raises(table.TableError, match=r"c\.ods: programme: more than 1,000 cells in the spreadsheet \(42 rows × 30 "
                                               r"columns here, 0 in the sheets before\)"):
        list(read_workbook(wide, "ods", small))
    # The sheets' rectangles add up: calamine holds them all (20 rows × 30 columns twice, 1,200 > 1,000).
    rows = (b'<table:table-row table:number-rows-repeated="20"><table:table-cell office:value="1" '
            b'table:number-columns-repeated="30"/></table:table-row>')
    twice = rezip(base, tmp_path / "t.ods", lambda n, d: d.replace(b"</table:table>", rows + b"</table:table>", 2)
                  if n == "content.xml" else d)
    with pytest.raises(table.TableError, match=r"t\.ods: (?!programme)\w+: more than 1,000 cells in the spreadsheet \(\d+ rows × "
                                               r"30 columns here, [1-9][\d,]* in the sheets before\)"):
        list(read_workbook(twice, "ods", small))
    long = _with_rows(base, tmp_path / "s.ods", b'<table:table-row><table:table-cell office:string-value="'
                      + b"y" * 5000 + b'"/></table:table-row>')
    with pytest.raises(table.TableError, match=r"s\.ods: programme, row 3, column A: a cell longer than 100 characters"):
        list(read_workbook(long, "ods", small))
    programme = next(rows for name, rows in read_workbook(long, "ods") if name == "programme")
    assert trimmed([values for _, values in programme][-1]) == ["y" * 5000]  # what calamine makes of it: a value


def test_repeated_text_is_counted_each_time(tmp_path: Path) -> None:
    """A repeated cell's characters count once per column and per row it is repeated into, and the sheets
    add up (calamine holds them all)."""
    small = table.Limits(max_text_chars=12_000)
    base = spreadsheet(tmp_path / "w.ods")
    cell = b'<table:table-cell office:value-type="string" table:number-columns-repeated="10"><text:p>' + b"z" * 99 + b"</text:p></table:table-cell>"
    fits = _with_rows(base, tmp_path / "f.ods", b'<table:table-row table:number-rows-repeated="9">' + cell + b"</table:table-row>")
    assert len([1 for name, rows in read_workbook(fits, "ods", small) for _ in rows]) > 0  # 9 × 10 × 100 characters and 2 or 3 K
    over = _with_rows(base, tmp_path / "o.ods", b'<table:table-row table:number-rows-repeated="13">' + cell + b"</table:table-row>")
    with pytest.raises(table.TableError, match=r"o\.ods: programme, row 3, column A: the cells of the spreadsheet hold more than "
                                               r"12,000 characters \(a repeated cell counted each time: this one, 100 characters, 10 × 13 times\)"):
        list(read_workbook(over, "ods", small))
    rows = b'<table:table-row table:number-rows-repeated="9">' + cell + b"</table:table-row>"
    twice = rezip(base, tmp_path / "t.ods", lambda n, d: d.replace(b"</table:table>", rows + b"</table:table>", 2) if n == "content.xml" else d)
    with pytest.raises(table.TableError, match=r"t\.ods: (?!programme)\w+, row 2, column A: the cells of the spreadsheet hold more "
                                               r"than 12,000"):  # 9,000 characters in each of two sheets
        list(read_workbook(twice, "ods", small))


def test_white_space_and_attributes_elsewhere_do_not_fill_a_cell(tmp_path: Path) -> None:
    """Cells that calamine reads as empty stay uncounted: white space between elements, a style."""
    small = table.Limits(max_columns=30, max_rows=50)
    base = spreadsheet(tmp_path / "w.ods", blocks=[{"id": "block/BC01", "code": "BC01"}])
    empty = (b'<table:table-row table:number-rows-repeated="1000"><table:table-cell table:style-name="ce1" '
             b'table:number-columns-repeated="1000">\n  <text:p> </text:p>\n</table:table-cell></table:table-row>')
    path = _with_rows(base, tmp_path / "e.ods", empty)
    assert table.read(path, small) == table.read(base, small)
