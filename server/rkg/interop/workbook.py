"""Spreadsheet files, in one place: writing a workbook (``.xlsx`` with openpyxl, ``.ods`` with odfpy), reading
one (``.xlsx`` with openpyxl, ``.ods`` with python-calamine), and the checks that come before reading a file
from outside (a zip bomb, too many members, a DTD, a sheet of a million rows).

The tabular template (``rkg.interop.table``), the named-question answers and the heat maps of the web
interface (``rkg.web.api``, ``rkg.web.heatmap``) all write through :func:`write_workbook`. Cells are typed:
a ``str`` is a text cell whatever it looks like (a code ``01`` or ``1.10`` stays text), an ``int``, ``float``
or ``Decimal`` a number cell, ``None`` an empty cell. ``fills`` colours cells: (row, column) from 0 → an
``RRGGBB`` colour (an openpyxl ``PatternFill``; in ODS an automatic cell style with ``fo:background-color``).
One rule for both formats: a character XML 1.0 cannot hold (a C0 control other than tab, line feed and
carriage return, U+FFFE, U+FFFF, a lone surrogate) is written as U+FFFD, in cells and sheet names; a number
that is not finite (NaN, ±infinity: no spreadsheet number) is written as a text cell, ``NaN``, ``INF`` or
``-INF`` (the forms of ``xsd:double``).
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..errors import InputError, RkgError
from .. import formats
from ..formats import ODS

FORMATS = tuple(formats.WORKBOOKS)
"""The workbook formats, by extension (without the dot)."""
_KIND = {"xlsx": "an .xlsx workbook", "ods": "an .ods spreadsheet"}
_NEEDED = {"xlsx": "[Content_Types].xml", "ods": "content.xml"}

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The most ``rkg import table`` reads. A file beyond any of them is refused with its name and the
    reason (exit 2) before it is read whole, so a hostile file (a zip bomb, a 10 MB cell, a million rows)
    cannot make the import use memory or time out of proportion with its size. The defaults are far
    above a real référentiel (the bundled one: a 37 KB workbook of 32 members expanding to 175 KB, at
    most 10:1; 44 KB of CSV; sheets of at most 37 rows; cells of at most 314 characters). Within them
    the cost follows the input: 140 MiB of sheet XML reads in about 20 s and 300 MB."""

    max_bytes: int = 200 * MiB
    """The whole input: the size of the .xlsx or .ods file, the sum of its members' declared (uncompressed)
    sizes, the sum of the sizes of a folder's CSV files."""
    max_members: int = 1000
    """Members of the workbook's zip archive (.xlsx or .ods) (a workbook of the template has about 35)."""
    max_ratio: int = 100
    """Uncompressed : compressed size of one member, checked for members larger than ``ratio_from``
    (small parts such as styles compress well and are harmless)."""
    ratio_from: int = 1 * MiB
    max_cell_chars: int = 1 * MiB
    """Characters of one cell (the CSV reader's ``field_size_limit`` is set to it while reading)."""
    max_line_chars: int = 16 * MiB
    """Characters of one line of a CSV file (read no further before it is refused)."""
    max_rows: int = 20_000
    """Rows of one sheet (of a workbook: its row numbers, empty rows included; of a CSV file: its records)."""
    max_columns: int = 1000
    """Columns of one sheet of an .ods spreadsheet (the template's widest has about 25), checked before
    calamine makes every cell of the sheet."""
    max_cells: int = 2_000_000
    """Cells of the rectangles of the sheets of an .ods spreadsheet, all together (rows × columns up to the
    last filled ones: calamine holds every sheet's rectangle in memory from the moment it opens the file),
    checked before calamine reads it."""
    max_text_chars: int = 64 * MiB
    """Characters in the cells of an .ods spreadsheet, all its sheets, a repeated cell counted as many
    times as it is repeated, checked before calamine reads it: calamine makes a copy of a repeated cell's
    text for each repeat and holds every sheet from the moment it opens the file (then the sheet being
    read as Python strings too: about 3 bytes a character at the peak), so a 2 KB file can repeat a
    100 KB cell over a hundred columns and rows (600 MB)."""


LIMITS = Limits()


class TableError(InputError):
    """A table that cannot be read: names the file when the error is about reading one, the sheet, the
    row (as a spreadsheet numbers it) or the line (of a CSV file), and the column."""

    def __init__(self, sheet: str | None, row: int | None, column: str | None, message: str, *,
                 file: str | Path | None = None, line: int | None = None) -> None:
        parts = [sheet or "", f"row {row}" if row else "", f"line {line}" if line else "", f"column {column}" if column else ""]
        where = ", ".join(p for p in parts if p)
        text = f"{where}: {message}" if where else message
        super().__init__(f"{file}: {text}" if file is not None else text)
        self.file = str(file) if file is not None else None
        self.sheet, self.row, self.line, self.column = sheet, row, line, column


def _cut(name: str, width: int = 80) -> str:
    """A name as given, in a message: cut after ``width`` characters."""
    return name if len(name) <= width else name[:width] + "…"


Cell = str | int | float | Decimal | None


@dataclass
class Sheet:
    """One sheet to write: its name, its rows (the first is the header, written bold and frozen), and the
    colours of its cells."""

    name: str
    rows: Sequence[Sequence[Cell]]
    fills: dict[tuple[int, int], str] = field(default_factory=dict)
    """(row, column), both from 0 → ``RRGGBB``."""


def write_workbook(sheets: Iterable[Sheet], target: Path | io.BytesIO, fmt: str) -> None:
    """Write ``sheets`` as an ``fmt`` workbook (``xlsx`` or ``ods``) to a file or a binary stream. Its time
    and memory follow the number of cells (the ``.ods`` writer builds odfpy's whole document first: about
    1.5 KB a cell)."""
    if fmt not in FORMATS:
        raise InputError(f"not a workbook format: {fmt!r}; choose one of {', '.join(FORMATS)}")
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
    (_write_xlsx if fmt == "xlsx" else _write_ods)(list(sheets), target)


def cells(sheets: Iterable[Sheet]) -> int:
    """The cells of ``sheets``: of each, its rows × its widest row."""
    return sum(len(s.rows) * max((len(r) for r in s.rows), default=0) for s in sheets)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
"""The characters XML 1.0 cannot hold (``Char`` of the XML 1.0 grammar), written as U+FFFD."""
_NOT_FINITE = {"nan": "NaN", "inf": "INF", "-inf": "-INF"}


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def _value(value: Cell) -> Cell:
    """A cell's value as written: text without what XML cannot hold, a ``Decimal`` as a float, a number
    that is not finite as text (``NaN``, ``INF``, ``-INF``)."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, Decimal):
        value = float("nan") if value.is_nan() else float(value)  # float() refuses a signalling NaN
    if isinstance(value, float) and not math.isfinite(value):
        return _NOT_FINITE[str(value)]
    return value


ANSWER_CELLS = 200_000
"""The most cells of a workbook made in memory by :func:`workbook_bytes` (the web interface's downloads):
writing 200,000 cells as ``.ods`` takes about 9 s and 320 MB (odfpy builds the whole document first),
as ``.xlsx`` about 1.5 s. CSV has no such cost."""


def workbook_bytes(sheets: Iterable[Sheet], fmt: str) -> bytes:
    """``sheets`` as an ``fmt`` workbook in memory; more than ``ANSWER_CELLS`` cells (rows × columns) are
    refused (``InputError``, 400 on the web) before anything is written, the message saying to ask for CSV."""
    sheets = list(sheets)
    if (n := cells(sheets)) > ANSWER_CELLS:
        raise InputError(f"a workbook of {n:,} cells (rows × columns), more than the {ANSWER_CELLS:,} a workbook download "
                         "may have; ask for format=csv (the same rows), or narrow the question")
    out = io.BytesIO()
    write_workbook(sheets, out, fmt)
    return out.getvalue()


def _write_xlsx(sheets: list[Sheet], target) -> None:
    """openpyxl's write-only mode: each row is written as it comes (a worksheet in memory would cost time
    and memory per cell, and looking its last row up after each append made the writer quadratic). A cell
    is made only where a plain value would not do: a styled cell (the bold header, a fill) and a text
    openpyxl would take for something else (``=…`` a formula, ``#N/A`` an error): text it is."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES
    from openpyxl.styles import Font, PatternFill

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    patterns: dict[str, PatternFill] = {}
    for sheet in sheets:
        ws = wb.create_sheet(_text(sheet.name))
        header = bool(sheet.rows)
        if header:
            ws.freeze_panes = "A2"  # before the first row: the sheet's view is written before its rows
        fills: dict[int, dict[int, PatternFill]] = {}
        for (r, c), colour in sheet.fills.items():
            fills.setdefault(r, {})[c] = patterns.setdefault(colour, PatternFill(
                fill_type="solid", start_color="FF" + colour.upper(), end_color="FF" + colour.upper()))
        width = max((len(row) for row in sheet.rows), default=0)
        for r in range(max(len(sheet.rows), max(fills, default=-1) + 1)):
            values: list = [_value(v) for v in sheet.rows[r]] if r < len(sheet.rows) else []
            styled = fills.get(r, {})
            if header and r == 0 and len(values) < width:
                values += [None] * (width - len(values))  # the header's style on all of the sheet's columns
            if styled and len(values) <= max(styled):
                values += [None] * (max(styled) + 1 - len(values))
            for c, value in enumerate(values):
                fill = styled.get(c)
                text = isinstance(value, str) and (value.startswith("=") or value in ERROR_CODES)
                if fill is None and not text and not (header and r == 0):
                    continue
                cell = values[c] = WriteOnlyCell(ws, value)
                if text:
                    cell.data_type = "s"
                if header and r == 0:
                    cell.font = bold
                if fill is not None:
                    cell.fill = fill
            ws.append(values)
    wb.save(target)


def _write_ods(sheets: list[Sheet], target) -> None:
    from odf import teletype
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableCellProperties, TextProperties
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    bold = Style(name="header", family="table-cell")
    bold.addElement(TextProperties(fontweight="bold"))
    doc.automaticstyles.addElement(bold)
    styles: dict[str, Style] = {}

    def style(colour: str) -> Style:
        if colour not in styles:
            s = styles[colour] = Style(name=f"fill{len(styles)}", family="table-cell")
            s.addElement(TableCellProperties(backgroundcolor="#" + colour.lower()))
            doc.automaticstyles.addElement(s)
        return styles[colour]

    for sheet in sheets:
        t = Table(name=_text(sheet.name))
        for r, row in enumerate(sheet.rows):
            tr = TableRow()
            for c, value in enumerate(map(_value, row)):
                attrs: dict = {}
                colour = sheet.fills.get((r, c))
                if colour:
                    attrs["stylename"] = style(colour)
                elif r == 0:
                    attrs["stylename"] = bold
                if value is None or value == "":
                    tr.addElement(TableCell(**attrs))
                    continue
                if isinstance(value, str):
                    if "\t" in value or "\r" in value:  # calamine reads <text:tab/> as nothing: the exact text too
                        attrs["stringvalue"] = value
                    cell = TableCell(valuetype="string", **attrs)
                    for line in value.split("\n"):  # a paragraph per line, as LibreOffice writes them
                        p = P()
                        teletype.addTextToElement(p, line)
                        cell.addElement(p)
                else:
                    cell = TableCell(valuetype="float", value=str(value), **attrs)
                    cell.addElement(P(text=str(value)))
                tr.addElement(cell)
            t.addElement(tr)
        doc.spreadsheet.addElement(t)
    doc.write(target) if not isinstance(target, Path) else doc.save(str(target))

def size_text(n: int) -> str:
    return f"{n / MiB:.1f} MiB" if n >= MiB else f"{n} bytes"



def check_workbook(path: Path, limits: Limits = LIMITS, fmt: str = "xlsx") -> None:
    """Refuse, before openpyxl or calamine opens it, a file that is not a zip archive, or whose archive is not a
    workbook's or would expand beyond ``limits`` (a zip bomb): the file's size, the number of members
    (read from the end record, before zipfile reads the directory), each member's declared size,
    compression method (stored or deflate; bzip2 and lzma decompress a whole chunk at once) and
    compression ratio, the sum of the declared sizes, and an XML member that declares a DTD (entity
    expansion). Python's zipfile reads a member no further than the size the archive declares (a member
    that holds more fails its CRC check), so the declared sizes bound what openpyxl can decompress (calamine checks the CRC too).
    An ``.ods`` then has its rows counted as a stream (:func:`_check_ods_content`), in the same open archive."""
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise TableError(None, None, None, f"refused: {size_text(size)}, more than the {size_text(limits.max_bytes)} accepted", file=path)
    with path.open("rb") as f:
        end = zipfile._EndRecData(f) if hasattr(zipfile, "_EndRecData") else ()  # private, there since Python 2
    if end is None:
        raise TableError(None, None, None, f"not {_KIND[fmt]} (not a zip archive)", file=path)
    count = end[getattr(zipfile, "_ECD_ENTRIES_TOTAL", 4)] if end else 0
    if count > limits.max_members:
        raise TableError(None, None, None, f"refused: {count} members in the archive, more than the {limits.max_members} "
                         "accepted", file=path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_members(path, members, limits, fmt)
            if fmt == "ods":
                _check_mimetype(path, archive)
            for m in members:
                if m.filename.endswith((".xml", ".rels", ".rdf")) and _declares_dtd(archive, m):
                    raise TableError(None, None, None, f"refused: member {_cut(m.filename)} declares a DTD (<!DOCTYPE>), "
                                     "which a spreadsheet never does (entities that expand?)", file=path)
            if fmt == "ods":
                _check_ods_content(path, archive, limits)
    except TableError:
        raise
    except Exception as e:  # noqa: BLE001 - what zipfile and zlib raise on a broken archive
        raise TableError(None, None, None, f"not {_KIND[fmt]} (not a readable zip archive: {type(e).__name__}: "
                         f"{str(e)[:200]})", file=path) from None


def _check_members(path: Path, members: list[zipfile.ZipInfo], limits: Limits, fmt: str) -> None:
    if len(members) > limits.max_members:
        raise TableError(None, None, None, f"refused: {len(members)} members in the archive, more than the "
                         f"{limits.max_members} accepted", file=path)
    needed = _NEEDED[fmt]
    if needed not in {m.filename for m in members}:
        raise TableError(None, None, None, f"not {_KIND[fmt]} (a zip archive without {needed})", file=path)
    for m in members:
        if m.flag_bits & 0x1:
            raise TableError(None, None, None, f"refused: member {_cut(m.filename)} is encrypted", file=path)
        if m.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise TableError(None, None, None, f"refused: member {_cut(m.filename)} is compressed with method "
                             f"{m.compress_type} (a workbook uses deflate)", file=path)
        if m.file_size > limits.max_bytes:
            raise TableError(None, None, None, f"refused: member {_cut(m.filename)} expands to {size_text(m.file_size)}, more "
                             f"than the {size_text(limits.max_bytes)} accepted (a zip bomb?)", file=path)
        if m.file_size > limits.ratio_from and m.file_size > limits.max_ratio * m.compress_size:
            raise TableError(None, None, None, f"refused: member {_cut(m.filename)} expands {m.file_size // max(m.compress_size, 1)}"
                             f" times ({size_text(m.compress_size)} to {size_text(m.file_size)}), more than the {limits.max_ratio}:1 "
                             "accepted (a zip bomb?)", file=path)
    total = sum(m.file_size for m in members)
    if total > limits.max_bytes:
        raise TableError(None, None, None, f"refused: its members expand to {size_text(total)}, more than the "
                         f"{size_text(limits.max_bytes)} accepted (a zip bomb?)", file=path)


class _Prolog(RkgError):
    """Raised by the expat handlers to stop once the prolog of an XML member has been read."""


def _declares_dtd(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    """Whether the XML member has a DOCTYPE, whose entities could expand a few bytes into gigabytes (expat
    stops a billion laughs only after megabytes of expansion). Reads no further than its first element."""
    from xml.parsers import expat

    parser = expat.ParserCreate()
    found = []

    def doctype(*_) -> None:
        found.append(True)
        raise _Prolog

    def element(*_) -> None:
        raise _Prolog

    parser.StartDoctypeDeclHandler, parser.StartElementHandler = doctype, element
    with archive.open(member) as f:
        while chunk := f.read(16384):
            try:
                parser.Parse(chunk, False)
            except _Prolog:
                break
            except expat.ExpatError:  # malformed: openpyxl says so when it reads it
                break
    return bool(found)


def _check_mimetype(path: Path, archive: zipfile.ZipFile) -> None:
    try:
        mimetype = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
    except KeyError:
        mimetype = ""
    if mimetype != ODS.media:
        raise TableError(None, None, None, f"not an .ods spreadsheet (its mimetype is {mimetype[:60]!r}, not {ODS.media})", file=path)


class _Stop(RkgError):
    """Raised by the expat handlers of :func:`_check_ods_content` with what is wrong, where."""

    def __init__(self, sheet: str | None, row: int | None, column: int | None, message: str) -> None:
        super().__init__(message)
        self.sheet, self.row, self.column, self.message = sheet, row, column, message


_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


def _check_ods_content(path: Path, archive: zipfile.ZipFile, limits: Limits) -> None:
    """Read ``content.xml`` as a stream before calamine reads it whole: calamine makes every repeated row
    and cell (``table:number-rows-repeated``, ``table:number-columns-repeated``) a row and a cell in memory,
    so a 2 KB file can claim a hundred thousand rows of a hundred cells (1.2 GB). Refuses a sheet of more
    than ``limits.max_rows`` rows or ``limits.max_columns`` columns (trailing empty ones, which LibreOffice
    writes a million of, not counted) or ``limits.max_cells`` cells in all, a cell longer than
    ``limits.max_cell_chars``, and cells holding more than ``limits.max_text_chars`` characters in all (every
    sheet), a cell counted as many times as it is repeated. A cell is filled (calamine makes a value of it) when it
    has an attribute of the ``office:`` namespace (``office:value``, ``office:string-value``… make a value
    without ``office:value-type``) or text that is not only white space; its length counts its
    ``office:string-value`` and its text."""
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator=" ")
    state = {"sheet": None, "rows": 0, "empty_rows": 0, "width": 0, "chars": 0, "done_cells": 0, "row_repeat": 1, "row_filled": False, "cols": 0,
             "empty_cols": 0, "col_repeat": 1, "cell": None, "filled": False}
    office = _OFFICE + " "

    def start(name: str, attrs: dict) -> None:
        ns, _, local = name.partition(" ")
        if ns == _TABLE and local == "table":
            state["done_cells"] += state["rows"] * state["width"]  # the sheets before this one
            state.update(sheet=attrs.get(f"{_TABLE} name", "?"), rows=0, empty_rows=0, width=0)
        elif ns == _TABLE and local == "table-row":
            state.update(row_repeat=_count(attrs.get(f"{_TABLE} number-rows-repeated")), row_filled=False, cols=0, empty_cols=0)
        elif ns == _TABLE and local in ("table-cell", "covered-table-cell"):
            state.update(col_repeat=_count(attrs.get(f"{_TABLE} number-columns-repeated")), cell=0,
                         filled=any(a.startswith(office) for a in attrs))
            _grow(len(attrs.get(f"{_OFFICE} string-value", "")))
        elif ns == _TEXT and local == "s" and state["cell"] is not None:
            _grow(_count(attrs.get(f"{_TEXT} c")))
        elif ns == _TEXT and local in ("p", "line-break", "tab") and state["cell"] is not None:
            _grow(1)

    def _where() -> tuple[str | None, int, int]:
        return state["sheet"], state["rows"] + state["empty_rows"] + 1, state["cols"] + state["empty_cols"] + 1

    def _grow(n: int) -> None:
        state["cell"] += n
        if state["cell"] > limits.max_cell_chars:
            raise _Stop(*_where(), f"a cell longer than {limits.max_cell_chars:,} characters")

    def text(data: str) -> None:
        if state["cell"] is not None:
            _grow(len(data))
            if not state["filled"] and not data.isspace():
                state["filled"] = True

    def end(name: str) -> None:
        ns, _, local = name.partition(" ")
        if ns != _TABLE:
            return
        if local in ("table-cell", "covered-table-cell"):
            if not state["filled"]:
                state["empty_cols"] += state["col_repeat"]
                state["cell"] = None
            else:
                state["chars"] += state["cell"] * state["col_repeat"] * state["row_repeat"]
                if state["chars"] > limits.max_text_chars:
                    raise _Stop(*_where(), f"the cells of the spreadsheet hold more than {limits.max_text_chars:,} characters "
                                f"(a repeated cell counted each time: this one, {state['cell']:,} characters, "
                                f"{state['col_repeat']:,} × {state['row_repeat']:,} times)")
                state["cols"] += state["empty_cols"] + state["col_repeat"]
                state["empty_cols"], state["row_filled"], state["cell"], state["filled"] = 0, True, None, False
                if state["cols"] > limits.max_columns:
                    raise _Stop(state["sheet"], state["rows"] + state["empty_rows"] + 1, None,
                                f"more than {limits.max_columns} columns")
        elif local == "table-row":
            if not state["row_filled"]:
                state["empty_rows"] += state["row_repeat"]
            else:
                state["rows"] += state["empty_rows"] + state["row_repeat"]
                state["empty_rows"] = 0
                if state["rows"] > limits.max_rows:
                    raise _Stop(state["sheet"], None, None, f"more than {limits.max_rows} rows")
                state["width"] = max(state["width"], state["cols"])
                if state["done_cells"] + state["rows"] * state["width"] > limits.max_cells:
                    raise _Stop(state["sheet"], None, None, f"more than {limits.max_cells:,} cells in the spreadsheet "
                                f"({state['rows']} rows × {state['width']} columns here, "
                                f"{state['done_cells']:,} in the sheets before)")

    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    try:
        with archive.open("content.xml") as f:
            while chunk := f.read(65536):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _Stop as e:
        raise TableError(e.sheet and _cut(e.sheet), e.row, e.column and _column_name(e.column), e.message, file=path) from None
    except expat.ExpatError as e:
        raise TableError(None, None, None, f"not a readable .ods spreadsheet (content.xml: {e})", file=path) from None


def _count(value: str | None) -> int:
    """A ``number-*-repeated`` or ``text:c`` attribute: 1 when absent or not a number."""
    try:
        return max(1, int(value)) if value else 1
    except ValueError:
        return 1


def _column_name(n: int) -> str:
    """The spreadsheet's name of column ``n`` (from 1): A, …, Z, AA…"""
    name = ""
    while n:
        n, r = divmod(n - 1, 26)
        name = chr(65 + r) + name
    return name


def read_workbook(path: Path, fmt: str, limits: Limits = LIMITS) -> Iterator[tuple[str, Iterator[tuple[int, list]]]]:
    """The sheets of a workbook, after :func:`check_workbook` (for ``.ods``, with its streamed look at its
    rows): (sheet name, (row number from 1, values) of its rows). Values are ``str``, numbers, or None.
    Anything the reader cannot read is refused with the file and the reader's reason."""
    check_workbook(path, limits, fmt)
    if fmt == "ods":
        yield from _read_ods(path)
    else:
        yield from _read_xlsx(path)


def _read_ods(path: Path) -> Iterator[tuple[str, Iterator[tuple[int, list]]]]:
    import python_calamine

    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
        names = list(wb.sheet_names)
    except Exception as e:  # noqa: BLE001 - what calamine raises on a broken file
        raise TableError(None, None, None, f"not a readable .ods spreadsheet ({type(e).__name__}: {str(e)[:200]})", file=path) from None
    try:
        for name in names:
            try:
                rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            except Exception as e:  # noqa: BLE001
                raise TableError(_cut(name), None, None, f"not readable ({type(e).__name__}: {str(e)[:200]})", file=path) from None
            yield name, ((n, [None if v == "" else v for v in row]) for n, row in enumerate(rows, 1))
    finally:
        wb.close()


def _read_xlsx(path: Path) -> Iterator[tuple[str, Iterator[tuple[int, list]]]]:
    from openpyxl import load_workbook

    wb = None
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
        for ws in wb.worksheets:
            ws.reset_dimensions()  # the rows as stored, not as wide and long as the sheet's <dimension> claims (A1:XFD1048576)
            yield ws.title, _xlsx_rows(ws, path)
    except (TableError, GeneratorExit):
        raise
    except Exception as e:  # noqa: BLE001 - whatever a hostile archive makes openpyxl, zipfile or expat raise
        raise TableError(None, None, None, f"not a readable .xlsx workbook ({type(e).__name__}: {str(e)[:200]})", file=path) from None
    finally:
        if wb is not None:
            wb.close()


def _xlsx_rows(ws, path: Path) -> Iterator[tuple[int, list]]:
    try:
        yield from enumerate((list(values) for values in ws.iter_rows(values_only=True)), 1)
    except Exception as e:  # noqa: BLE001 - a malformed sheet, read as a stream
        raise TableError(None, None, None, f"not a readable .xlsx workbook ({type(e).__name__}: {str(e)[:200]})", file=path) from None
