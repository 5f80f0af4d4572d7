"""``rkg import KIND SOURCE``: one function per kind, each converting its source into a file of
``build/imports/`` (whole or not at all) and saying what it read. The CLI prints the result."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from ..build import IMPORTS
from ..files import write_atomic
from ..namespaces import graph_iri

Progress = Callable[[str], None]


class ImportFailed(Exception):
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


def _triples(folder: Path, name: str, triples: list[ox.Triple], counts: dict[str, int]) -> Imported:
    target = folder / f"{name}.nt"
    write_atomic(target, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"")
    return Imported(target, {**counts, "triples": len(triples)}, graph_iri(f"{IMPORTS}/{name}.nt"))


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


def moodle(source: Path, folder: Path, name: str, programme: str) -> Imported:
    from . import moodle as mod

    if not source.is_file():
        raise ImportFailed(f"{source}: no such file")
    try:
        fw = mod.read(source.read_text(encoding="utf-8-sig"), programme, source.name)
    except mod.MoodleError as e:
        raise ImportFailed(str(e)) from None
    return _triples(folder, name, mod.to_rdf(fw), {"entities": len(fw.nodes) + 1})


def table(source: Path, folder: Path, name: str, programme: str) -> Imported:
    from . import table as mod

    try:
        tables = mod.read(source)
        triples = mod.to_rdf(tables, programme)
    except mod.TableError as e:
        raise ImportFailed(str(e)) from None
    except OSError as e:
        raise ImportFailed(f"{source}: {e}") from None
    return _triples(folder, name, triples, {f"rows: {k}": len(v) for k, v in tables.items() if v})
