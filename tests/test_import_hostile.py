"""``rkg import`` given hostile or broken inputs: every one ends with exit 2 and a message naming the file
and the reason (no traceback), in bounded memory and time, and leaves nothing behind in the build folder.
The hostile files are made here, in tmp_path, and kept small: a zip bomb is a member that declares a big
size, or a few MiB of zeros."""

from __future__ import annotations

import csv
import os
import re
import struct
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from support.paths import ROOT
from rkg import cli
from rkg.interop import table

MiB = 1024 * 1024
PROGRAMME = "rncp99970-hostile"


def minimal_tables(**rows: list[dict[str, str]]) -> table.Tables:
    tables: table.Tables = {name: [] for name in table.ORDER}
    tables["programme"] = [{"id": ".", "label_fr": "Référentiel de test"}]
    tables.update(rows)
    return tables


def workbook(path: Path, **rows: list[dict[str, str]]) -> Path:
    table.write_workbook_file(minimal_tables(**rows), path, "xlsx")
    return path


def rezip(source: Path, target: Path, change: Callable[[str, bytes], bytes | None] = lambda n, d: d,
          extra: dict[str, bytes] | None = None, method: int = zipfile.ZIP_DEFLATED) -> Path:
    """A copy of the archive ``source`` with each member's data through ``change`` (None drops it) and
    ``extra`` members added."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", method) as new:
        for info in old.infolist():
            data = change(info.filename, old.read(info))
            if data is not None:
                new.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            new.writestr(name, data)
    return target


def declare(path: Path, member: str, size: int, compressed: int | None = None) -> Path:
    """Make the archive declare ``size`` bytes (and ``compressed`` bytes) for ``member``, in its central
    directory and its local header, whatever the member holds."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    with zipfile.ZipFile(path) as z:
        local = z.getinfo(member).header_offset
    central = next(m.start() for m in re.finditer(re.escape(b"PK\x01\x02"), data)
                   if struct.unpack_from("<H", data, m.start() + 28)[0] == len(name) and data[m.start() + 46:m.start() + 46 + len(name)] == name)
    for offset in (local + 22, central + 24):
        struct.pack_into("<I", data, offset, size)
    if compressed is not None:
        for offset in (local + 18, central + 20):
            struct.pack_into("<I", data, offset, compressed)
    path.write_bytes(bytes(data))
    return path


# ---------------------------------------------------------------- the hostile inputs


def text_as_xlsx(tmp: Path) -> Path:
    (tmp / "x.xlsx").write_text("id,label_fr\n.,pas un classeur\n", encoding="utf-8")
    return tmp / "x.xlsx"


def declared_bomb(tmp: Path) -> Path:
    """The attacker's 9.6 MB → 2.48 GB, in small: one member declares 300 MB (nothing is decompressed)."""
    return declare(workbook(tmp / "bomb.xlsx"), "xl/worksheets/sheet1.xml", 300_000_000)


def declared_total(tmp: Path) -> Path:
    """Three members of 80 MB each, at a ratio under the limit: the sum is over it."""
    path = workbook(tmp / "total.xlsx")
    for n in (2, 3, 4):
        declare(path, f"xl/worksheets/sheet{n}.xml", 80_000_000, 1_000_000)
    return path


def ratio_bomb(tmp: Path) -> Path:
    """A real one: 5 MiB of zeros deflated to a few KiB."""
    return rezip(workbook(tmp / "w.xlsx"), tmp / "ratio.xlsx", extra={"xl/media/zeros.bin": bytes(5 * MiB)})


def lying_member(tmp: Path) -> Path:
    """A sheet that declares its own size but holds 20 MiB more: zipfile reads no further than the declared
    size, and the CRC check fails."""
    sheet = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(workbook(tmp / "w.xlsx")) as z:
        honest = len(z.read(sheet))
    path = rezip(tmp / "w.xlsx", tmp / "lying.xlsx", lambda n, d: d + b" " * (20 * MiB) if n == sheet else d)
    return declare(path, sheet, honest)


def many_members(tmp: Path) -> Path:
    return rezip(workbook(tmp / "w.xlsx"), tmp / "many.xlsx", extra={f"xl/junk/{i}.xml": b"" for i in range(1001)})


def bzip2_member(tmp: Path) -> Path:
    return rezip(workbook(tmp / "w.xlsx"), tmp / "bzip2.xlsx", method=zipfile.ZIP_BZIP2)


def ods_renamed(tmp: Path) -> Path:
    with zipfile.ZipFile(tmp / "ods.xlsx", "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
    return tmp / "ods.xlsx"


def missing_part(tmp: Path) -> Path:
    """The workbook names a sheet whose part is not in the archive."""
    return rezip(workbook(tmp / "w.xlsx"), tmp / "part.xlsx", lambda n, d: None if n == "xl/worksheets/sheet4.xml" else d)


def malformed_sheet(tmp: Path) -> Path:
    return rezip(workbook(tmp / "w.xlsx"), tmp / "xml.xlsx", lambda n, d: d[: len(d) // 2] if n == "xl/worksheets/sheet1.xml" else d)


def entity_bomb(tmp: Path) -> Path:
    """Billion laughs in a sheet (expat would stop it only after megabytes of expansion)."""
    laughs = b'<!DOCTYPE x [<!ENTITY a0 "ha">' + b"".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">'.encode() for i in range(1, 10)) + b"]>"

    def change(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        data = data.replace(b"<?xml version='1.0' encoding='UTF-8'?>", b"").replace(b'<?xml version="1.0" encoding="UTF-8"?>', b"")
        return b"<?xml version='1.0'?>" + laughs + data.replace(b"<t>", b"<t>&a9;", 1)
    return rezip(workbook(tmp / "w.xlsx"), tmp / "laughs.xlsx", change)


def far_row(tmp: Path) -> Path:
    """A row numbered 1048576: openpyxl would make every row up to it."""
    return rezip(workbook(tmp / "w.xlsx"), tmp / "far.xlsx",
                 lambda n, d: d.replace(b"</sheetData>", b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>')
                 if n == "xl/worksheets/sheet3.xml" else d)


def no_programme_sheet(tmp: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "blocks"
    wb.active.append(table.columns("blocks"))
    wb.save(tmp / "noprog.xlsx")
    return tmp / "noprog.xlsx"


def unknown_sheet(tmp: Path) -> Path:
    from openpyxl import load_workbook

    wb = load_workbook(workbook(tmp / "w.xlsx"))
    wb["units"].title = "colours"
    wb.save(tmp / "colours.xlsx")
    return tmp / "colours.xlsx"


def named(name: str, content: bytes = b"") -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        (tmp / name).write_bytes(content)
        return tmp / name
    make.__name__ = name
    return make


def absent(tmp: Path) -> Path:
    return tmp / "absent.xlsx"


def xlsx_bad_cell(tmp: Path) -> Path:
    """A well-formed workbook with a bad cell: the sheet, row and column come after the file."""
    return workbook(tmp / "cell.xlsx", blocks=[{"id": "block/BC01", "code": ""}])


def csv_folder(tmp: Path, **files: bytes) -> Path:
    folder = tmp / "tables"
    table.write_csv(minimal_tables(), folder)
    for name, content in files.items():
        (folder / f"{name}.csv").write_bytes(content)
    return folder


BLOCKS = ",".join(table.columns("blocks")).encode() + b"\n"


def csv_latin1(tmp: Path) -> Path:
    return csv_folder(tmp, programme="id,label_fr\n.,Référentiel d'été\n".encode("latin-1"))


def csv_big_cell(tmp: Path) -> Path:
    """The attacker's 10 MB cell, at the limit plus one."""
    return csv_folder(tmp, blocks=BLOCKS + b"block/BC01,.,BC01,ok\nblock/BC02,.,BC02," + b"a" * (MiB + 1) + b"\n")


def csv_big_quoted_cell(tmp: Path) -> Path:
    """A long cell over several lines, quoted: the message gives the line where it starts."""
    return csv_folder(tmp, blocks=BLOCKS + b'block/BC01,.,BC01,ok,"' + b"ligne\n" * (MiB // 6 + 10) + b'"\n')  # label_en


def csv_fifo(tmp: Path) -> Path:
    folder = csv_folder(tmp)
    (folder / "blocks.csv").unlink()
    os.mkfifo(folder / "blocks.csv")
    return folder


def csv_bad_cell(tmp: Path) -> Path:
    """A well-formed file with a bad cell: the sheet, row and column come after the file."""
    return csv_folder(tmp, blocks=BLOCKS + b"block/BC01,.,,sans code\n")


HOSTILE_TABLES = [
    (text_as_xlsx, r"x\.xlsx: not an \.xlsx workbook \(not a zip archive\)"),
    (declared_bomb, r"bomb\.xlsx: refused: member xl/worksheets/sheet1\.xml expands to 286\.1 MiB, more than the 200\.0 MiB accepted"),
    (declared_total, r"total\.xlsx: refused: its members expand to 228\.\d MiB, more than the 200\.0 MiB accepted"),
    (ratio_bomb, r"ratio\.xlsx: refused: member xl/media/zeros\.bin expands \d+ times .*more than the 100:1 accepted"),
    (lying_member, r"lying\.xlsx: not an \.xlsx workbook \(not a readable zip archive: BadZipFile: Bad CRC-32 for file 'xl/worksheets/sheet1\.xml'"),
    (many_members, r"many\.xlsx: refused: 10\d\d members in the archive, more than the 1000 accepted"),
    (bzip2_member, r"bzip2\.xlsx: refused: member .* is compressed with method 12 \(a workbook uses deflate\)"),
    (ods_renamed, r"ods\.xlsx: not an \.xlsx workbook \(a zip archive without \[Content_Types\]\.xml\)"),
    (missing_part, r"part\.xlsx: no sheet outcomes: every sheet of the template must be there"),
    (malformed_sheet, r"xml\.xlsx: not a readable \.xlsx workbook \(ParseError"),
    (entity_bomb, r"laughs\.xlsx: refused: member xl/worksheets/sheet1\.xml declares a DTD"),
    (far_row, r"far\.xlsx: sources: more than 20000 rows"),
    (no_programme_sheet, r"noprog\.xlsx: no sheets programme, version, sources, outcomes, level_column, "),
    (unknown_sheet, r"colours\.xlsx: colours: not a sheet of the template"),
    (named("t.ods", b"PK\x03\x04"), r"t\.ods: not an \.ods spreadsheet \(not a zip archive\)"),
    (named("t.txt"), r"t\.txt: give an \.xlsx workbook or a folder"),
    (absent, r"absent\.xlsx: no such file"),
    (xlsx_bad_cell, r"cell\.xlsx: blocks, row 2, column code: empty; this column is required"),
    (csv_latin1, r"tables/programme\.csv: line 2, column label_fr: not UTF-8 text \(byte 0xe9\)"),
    (csv_big_cell, r"tables/blocks\.csv: line 3, column label_fr: a cell longer than 1,048,576 characters"),
    (csv_big_quoted_cell, r"tables/blocks\.csv: line 2, column label_en: a cell longer than 1,048,576 characters"),
    (csv_fifo, r"tables/blocks\.csv: not a regular file"),
    (csv_bad_cell, r"tables/blocks\.csv: blocks, line 2, column code: empty; this column is required"),
]


def run(*args: str) -> int:
    return cli.main(["import", *args, "--root", str(ROOT), "-q"])


@pytest.mark.parametrize("make, message", HOSTILE_TABLES, ids=[make.__name__ for make, _ in HOSTILE_TABLES])
def test_hostile_tables_exit_2_naming_file_and_reason(make, message: str, tmp_path: Path, capsys) -> None:
    source = make(tmp_path)
    build = tmp_path / "build"
    tracemalloc.start()
    began = time.monotonic()
    try:
        code = run("table", str(source), "--programme", PROGRAMME, "--build-dir", str(build))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    err = capsys.readouterr().err
    assert code == 2, err
    assert re.search(f"^rkg: error: .*{message}", err), err
    assert "Traceback" not in err and len(err) < 2000
    assert not build.exists()  # not even an empty build/imports/
    assert peak < 64 * MiB and time.monotonic() - began < 30


def esco_folder(skills: bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        (tmp / "esco").mkdir()
        (tmp / "esco" / "skills_en.csv").write_bytes(skills)
        return tmp / "esco"
    return make


def moodle_csv(rows: str) -> bytes:
    from rkg.interop import moodle

    return (",".join(f'"{h}"' for h in moodle.HEADER) + "\n" + rows).encode("utf-8")


OTHER_KINDS = [
    ("rncp", lambda tmp: ROOT / "tests" / "fixtures" / "rncp" / "export-malformed.xml", [], r"export-malformed\.xml:\d+:\d+: malformed XML"),
    ("rncp", named("empty.xml", b"<FICHES/>"), [], r"empty\.xml: no FICHE element"),
    ("rncp", lambda tmp: ROOT / "tests" / "fixtures" / "rncp" / "export-sample.xml", ["--fiche", "RNCP1"], r"not in the export: RNCP1"),
    ("esco", named("dump.ttl", b"<a> <b> ."), [], r"dump\.ttl:"),
    ("esco", esco_folder(b"a,b\n"), [], r"skills_en\.csv:1: missing column"),
    ("esco", esco_folder(b"conceptUri,skillType,preferredLabel\nhttp://x,knowledge,\xe9t\xe9\n"), [], r"esco: not UTF-8 text \(byte 0xe9"),
    ("esco", esco_folder(b"conceptUri,skillType,preferredLabel\nhttp://x,knowledge,ok\nnot an IRI,knowledge,x\n"), [],
     r"skills_en\.csv:3: not an IRI"),
    ("moodle", named("framework.csv", b"a,b\n"), ["--programme", PROGRAMME], r"framework\.csv:1: not a Moodle competency framework"),
    ("moodle", named("latin1.csv", moodle_csv("'été'\n").replace("é".encode(), b"\xe9")), ["--programme", PROGRAMME],
     r"latin1\.csv: not UTF-8 text \(byte 0xe9"),
    ("moodle", named("huge.csv", moodle_csv(",x," + "a" * (200 * 1024) + "\n")), ["--programme", PROGRAMME],
     r"huge\.csv: not CSV: field larger than field limit"),
    ("moodle", lambda tmp: tmp, ["--programme", PROGRAMME], r": no such file"),
    ("table", csv_bad_cell, ["--programme", PROGRAMME], r"blocks\.csv: blocks, line 2, column code: empty"),
]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} if folder.exists() else {}


@pytest.mark.parametrize("existing", [False, True], ids=["no build folder", "earlier import"])
@pytest.mark.parametrize("kind, make, options, message", OTHER_KINDS, ids=[f"{c[0]}-{i}" for i, c in enumerate(OTHER_KINDS)])
def test_failed_imports_leave_nothing_behind(kind: str, make, options: list[str], message: str, existing: bool,
                                             tmp_path: Path, capsys) -> None:
    """Every kind: no folder created, and an earlier import of the same name untouched (no partial file)."""
    source = make(tmp_path)
    build = tmp_path / "build"
    if existing:
        (build / "imports").mkdir(parents=True)
        (build / "imports" / "earlier.nt").write_bytes(b"<urn:a> <urn:b> <urn:c> .\n")
        (build / "imports" / "earlier.nq").write_bytes(b"<urn:a> <urn:b> <urn:c> <urn:g> .\n")
    before = snapshot(tmp_path / "build")
    code = run(kind, str(source), *options, "--name", "earlier", "--build-dir", str(build))
    err = capsys.readouterr().err
    assert code == 2 and re.search(message, err), err
    assert "Traceback" not in err
    assert build.exists() == existing and snapshot(build) == before


# ---------------------------------------------------------------- the limits, made small


def test_limits_are_defaults_in_one_place() -> None:
    assert table.LIMITS == table.Limits()
    assert (table.LIMITS.max_bytes, table.LIMITS.max_ratio, table.LIMITS.max_cell_chars) == (200 * MiB, 100, MiB)


SMALL = table.Limits(max_bytes=100_000, max_cell_chars=50, max_line_chars=400, max_rows=3, max_members=50, ratio_from=20_000, max_ratio=5)


@pytest.mark.parametrize("kind, rows, message", [
    ("csv", [{"id": "block/BC01", "code": "BC01", "label_fr": "x" * 51}], r"blocks\.csv: line 2, column label_fr: a cell longer than 50 characters"),
    ("xlsx", [{"id": "block/BC01", "code": "BC01", "label_fr": "x" * 51}], r"t\.xlsx: blocks, row 2, column label_fr: a cell longer than 50"),
    ("csv", [{"id": f"block/BC0{i}", "code": f"BC0{i}"} for i in range(4)], r"blocks\.csv: line 5: more than 3 rows"),
    ("xlsx", [{"id": f"block/BC0{i}", "code": f"BC0{i}"} for i in range(4)], r"t\.xlsx: blocks: more than 3 rows"),
    ("csv", [{"id": "block/BC01", "code": "BC01", "label_fr": "x" * 40, "label_en": "y" * 40, "note_fr": "z" * 40,
              "note_en": "z" * 40, "source_text_fr": "w" * 40, "assessment_lead_in_fr": "v" * 40,
              "level_note_fr": "u" * 40, "level_note_en": "t" * 40, "rncp_block": "s" * 40, "source": "r" * 40}],
     r"blocks\.csv: line 2: a line longer than 400 characters"),
    ("csv", [{"id": "block/BC01", "code": "BC01", "label_fr": "x" * 500}], r"blocks\.csv: line 2, column label_fr: a cell longer than 50"),
    ("csv", [{"id": "block/BC01", "code": "BC01", "label_fr": "x\n" * 300}], r"blocks\.csv: line 2, column label_fr: a cell longer than 50"),
])
def test_small_limits(kind: str, rows: list[dict[str, str]], message: str, tmp_path: Path) -> None:
    path = tmp_path / ("t.xlsx" if kind == "xlsx" else "t")
    table.write(minimal_tables(blocks=rows), path)
    before = csv.field_size_limit()
    with pytest.raises(table.TableError, match=message):
        table.read(path, SMALL)
    assert csv.field_size_limit() == before  # the process-wide limit is put back


def test_small_limits_on_sizes(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    table.write(minimal_tables(), folder)
    (folder / "units.csv").write_bytes(b"id,kind,code\n" + b"\n" * 100_000)
    with pytest.raises(table.TableError, match=r"t: its CSV files hold 1\d\d\d\d\d bytes, more than the 100000 bytes accepted"):
        table.read(folder, SMALL)
    book = rezip(workbook(tmp_path / "w.xlsx"), tmp_path / "r.xlsx", extra={"xl/media/zeros.bin": bytes(30_000)})
    with pytest.raises(table.TableError, match=r"refused: member xl/media/zeros\.bin expands \d+ times"):
        table.read(book, SMALL)
    table.read(book, table.Limits(ratio_from=30_000, max_ratio=5))  # at the size the ratio is checked from: accepted


def test_a_header_column_given_twice(tmp_path: Path) -> None:
    folder = csv_folder(tmp_path, blocks=b"id,code,code\nblock/BC01,BC01,BC02\n")
    with pytest.raises(table.TableError, match=r"blocks\.csv: blocks, row 1, column code: given twice"):
        table.read(folder)


def test_sheet_dimension_claims_are_ignored(tmp_path: Path) -> None:
    """A sheet whose <dimension> claims A1:XFD1048576 is read as it is stored, quickly."""
    tables = minimal_tables(blocks=[{"id": "block/BC01", "code": "BC01"}])
    table.write(tables, tmp_path / "w.xlsx")
    path = rezip(tmp_path / "w.xlsx", tmp_path / "dim.xlsx",
                 lambda n, d: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', d) if n.startswith("xl/worksheets/") else d)
    began = time.monotonic()
    read = table.read(path)
    assert time.monotonic() - began < 10
    assert read["blocks"] == [{c: {"id": "block/BC01", "code": "BC01"}.get(c, "") for c in table.columns("blocks")}]


def test_a_crlf_and_bom_csv_still_reads(tmp_path: Path) -> None:
    folder = csv_folder(tmp_path, programme="\ufeffid,label_fr\r\n.,\"Été, «\"\"x\"\"»\r\nsuite\"\r\n".encode("utf-8"))
    assert table.read(folder)["programme"] == [{"id": ".", "label_fr": 'Été, «"x"»\r\nsuite'}]
