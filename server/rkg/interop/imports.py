"""``rkg import KIND SOURCE``: one function per kind, each converting its source into a file of
``build/imports/`` (whole or not at all) and saying what it read. The CLI prints the result.

An import that fails leaves nothing behind: the file is written to a temporary name and renamed once
complete (``rkg.files``), and the folders the import created on its way (``build/``, ``build/imports/``)
are removed again when they are still empty."""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from ..build import IMPORTS
from ..errors import InputError
from ..files import write_atomic
from ..locations import origin_comment
from ..namespaces import graph_iri

Progress = Callable[[str], None]


class ImportFailed(InputError):
    """The source cannot be imported: the message says where and why; nothing was written."""


@dataclass
class Imported:
    target: Path
    counts: dict[str, int]
    graphs: str
    """The named graph(s) the next build gets from the import."""
    notes: list[str] = field(default_factory=list)


def import_name(source: Path, name: str | None) -> str:
    """The import's name (it names the file and the graph): given, or made from the source's name."""
    default = source.name if source.is_dir() else source.stem
    name = name or re.sub(r"[^a-z0-9._-]+", "-", default.lower()).strip("-.") or "import"
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name):
        raise ImportFailed(f"--name {name!r}: use lower-case letters, digits, '.', '_' or '-' (it names the graph)")
    return name


@contextmanager
def _nothing_left(folder: Path) -> Iterator[None]:
    """Remove, when the block raises, the folders of ``folder``'s path that did not exist before it and
    are empty (a folder something else has written into since is kept)."""
    created = []
    p = folder.absolute()
    while not p.exists() and p.parent != p:
        created.append(p)
        p = p.parent
    try:
        yield
    except BaseException:
        for d in created:  # the deepest first
            try:
                d.rmdir()
            except OSError:
                break
        raise


def _whole_or_nothing(fn):
    """An import function (``source, folder, name, ...``) that leaves no folder behind when it fails and
    reports a file it cannot read (missing, unreadable, not UTF-8) as ImportFailed naming the source."""

    @functools.wraps(fn)
    def run(source: Path, folder: Path, *args, **kwargs) -> Imported:
        with _nothing_left(folder):
            try:
                return fn(source, folder, *args, **kwargs)
            except UnicodeDecodeError as e:
                raise ImportFailed(f"{source}: not UTF-8 text (byte 0x{e.object[e.start]:02x}: {e.reason}); save it as UTF-8") from None
            except OSError as e:
                raise ImportFailed(f"{e.filename}: {e.strerror or e}" if e.filename else f"cannot import {source}: {e.strerror or e}") from None

    return run


def _triples(folder: Path, name: str, triples: list[ox.Triple], counts: dict[str, int],
             origins: dict[str, str] | None = None) -> Imported:
    target = folder / f"{name}.nt"
    write_atomic(target, _ntriples(triples, origins or {}))
    return Imported(target, {**counts, "triples": len(triples)}, graph_iri(f"{IMPORTS}/{name}.nt"))


def _ntriples(triples: list[ox.Triple], origins: dict[str, str]) -> bytes:
    """N-Triples, one line per triple in order; before the first triple of each subject ``origins`` names
    (IRI → where the importer read it), a comment ``# from: ORIGIN`` (``rkg.locations`` reads it back to
    say where a finding's focus node came from; a comment is not a triple: the graph is the same)."""
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    if not origins:
        return data
    lines, origins = data.splitlines(keepends=True), dict(origins)
    if len(lines) != len(triples):  # one line per triple, as N-Triples writes them; else no comments
        return data
    out: list[bytes] = []
    for t, line in zip(triples, lines):
        origin = origins.pop(t.subject.value, None) if isinstance(t.subject, ox.NamedNode) else None
        if origin is not None:
            out.append(origin_comment(origin).encode("utf-8") + b"\n")
        out.append(line)
    return b"".join(out)


@_whole_or_nothing
def esco(source: Path, folder: Path, name: str, lang: str = "en", progress: Progress | None = None) -> Imported:
    from . import esco as mod

    target = folder / f"{name}.nt"
    try:
        if source.is_dir():
            report = mod.import_csv(source, target, lang, progress)
        elif source.is_file():
            report = mod.import_rdf(source, target, progress)
        else:
            raise ImportFailed(f"{source}: no such file or folder")
    except mod.EscoError as e:
        raise ImportFailed(str(e)) from None
    notes = ["tables not found (skipped): " + ", ".join(report.missing)] if report.missing else []
    return Imported(target, {**report.tables, "triples": report.triples}, graph_iri(f"{IMPORTS}/{name}.nt"), notes)


@_whole_or_nothing
def rncp(source: Path, folder: Path, name: str, fiches: list[str] | None = None, progress: Progress | None = None) -> Imported:
    from . import rncp as mod

    if not source.is_file():
        raise ImportFailed(f"{source}: no such file")
    target = folder / f"{name}.nq"
    try:
        r = mod.import_xml(source, target, fiches or (), progress)
    except mod.RncpError as e:
        raise ImportFailed(str(e)) from None
    counts = {"fiches read": r.seen, "fiches written": r.fiches, "blocks": r.blocks, "triples": r.triples}
    return Imported(target, counts, f"one per fiche under {mod.GRAPHS}")


@_whole_or_nothing
def moodle(source: Path, folder: Path, name: str, programme: str) -> Imported:
    from . import moodle as mod

    if not source.is_file():
        raise ImportFailed(f"{source}: no such file")
    try:
        fw = mod.read(source.read_text(encoding="utf-8-sig"), programme, source.name)
    except mod.MoodleError as e:
        raise ImportFailed(str(e)) from None
    except csv.Error as e:
        raise ImportFailed(f"{source}: not CSV: {e}") from None
    return _triples(folder, name, mod.to_rdf(fw), {"entities": len(fw.nodes) + 1})


@_whole_or_nothing
def table(source: Path, folder: Path, name: str, programme: str) -> Imported:
    from . import table as mod

    try:
        tables = mod.read(source)
    except mod.TableError as e:
        raise ImportFailed(str(e)) from None  # names the file
    rows: dict[str, tuple[str, int]] = {}
    try:
        triples = mod.to_rdf(tables, programme, rows)
    except mod.TableError as e:  # names the sheet, row and column: add the file
        raise ImportFailed(f"{source / f'{e.sheet}.csv' if source.is_dir() else source}: {e}") from None
    origins = {iri: f"{source.name}/{sheet}.csv, line {at}" if isinstance(at, mod.Line) else f"{source.name}, sheet {sheet}, row {at}"
               for iri, (sheet, at) in rows.items()}  # a CSV record's first line; a sheet's row
    return _triples(folder, name, triples, {f"rows: {k}": len(v) for k, v in tables.items() if v}, origins)


@_whole_or_nothing
def orebut(source: Path, folder: Path, name: str, programme: str | None = None) -> Imported:
    from . import orebut as mod

    if not source.is_file():
        raise ImportFailed(f"{source}: no such file")
    try:
        result = mod.import_file(source, folder, name, programme, graph_iri(f"{IMPORTS}/{name}.nt"))
    except mod.OrebutError as e:
        raise ImportFailed(str(e)) from None
    imported = _triples(folder, name, result.triples, result.counts, result.origins)
    imported.notes.append(f"programme {result.programme}")
    return imported
