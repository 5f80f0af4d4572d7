"""Load and check the source files, merge them into one dataset (a named graph per file), write ``build/``.

The graph is never held as Python objects: each source is bulk-loaded by pyoxigraph into a store (on disk
under ``build/`` for ``rkg build``, in memory for ``build()`` alone), the build graph (provenance and search
keys) is added there, counts come from the store once at the end, and the outputs are dumped from it.
Parsing errors carry file, line and column. Outputs are written to temporary names and renamed into
place, so a failed build never leaves a half-written ``build/``; ``build/store/`` (the on-disk store
``rkg serve`` opens read-only in every query process) is replaced the same way, and the manifest, last,
records the counts and digest that /health, the home page and VoID show without scanning.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import unicodedata
import weakref
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from . import formats
from .errors import InputError
from .files import atomic_file
from .namespaces import BUILD_GRAPH, DCTERMS, IMPORTS_GRAPHS, PREFIXES, RDF_TYPE, RKG, SKOS, VOID, XSD, graph_iri

IMPORT_SEARCH_KEYS = IMPORTS_GRAPHS + "search-keys"
"""Graph of the search keys of imported labels (the build graph holds those of the sources)."""

SOURCE_SUFFIXES = formats.suffixes(formats.TURTLE, formats.N_TRIPLES, formats.N_QUADS)
"""An N-Quads source (what ``rkg import rncp`` writes: one graph per fiche) keeps its own graph names."""
MAPPING_SUFFIX = ".sssom.tsv"
"""SSSOM mapping sets (data/mappings/), turned into SKOS mapping triples by the build."""
IMPORTS = "imports"
"""Folder of build/ where ``rkg import`` writes what it converted (N-Triples); loaded by the build too."""
NQUADS_NAME = "rkg.nq"
TRIG_NAME = "rkg.trig"
TURTLE_NAME = "rkg.ttl"
MANIFEST_NAME = "manifest.json"
STORE_NAME = "store"
"""Folder of build/ holding the built graph as an on-disk (RocksDB) store, opened read-only by ``rkg serve``."""
CHUNK = 50_000
"""Quads added to the store per transaction where they go through Python (N-Quads sources, blank nodes)."""
BLOCK_BYTES = 16 * 2**20
"""An N-Triples source without blank nodes is bulk-loaded this many bytes (whole lines) at a time: the
engine's bulk loader buffers a whole input (about 7 times its size) before writing, so blocks keep the
build's memory flat whatever the size of the imports."""

Progress = Callable[[str], None]

_RDF_TYPE = ox.NamedNode(RDF_TYPE)
_LABELS = (SKOS + "prefLabel", SKOS + "altLabel")


class BuildError(InputError):
    """A source file cannot be read: says which file, where, and what is wrong."""

    def __init__(self, path: str, message: str, line: int | None = None, column: int | None = None):
        self.path, self.line, self.column, self.message = path, line, column, message
        where = path if line is None else f"{path}:{line}:{column or 1}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Source:
    path: Path
    """File on disk."""
    name: str
    """Path relative to the project (or to the parent of an extra data folder), with ``/``."""

    @property
    def graph(self) -> str:
        return graph_iri(self.name)


@dataclass(eq=False)
class BuildResult:
    store: ox.Store | None
    """The built dataset (in memory, or on disk at ``location``); None once ``write`` has closed it."""
    sources: list[Source] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    """Triples per named graph (the build graph included), as the store counts them (duplicates once)."""
    location: Path | None = None
    """Folder of the on-disk store (a temporary one beside ``build/store`` until ``write`` renames it)."""
    staged: Path | None = None
    """Temporary folder of the staged rkg.nq, rkg.trig and rkg.ttl, until ``write`` moves them."""
    triples: int = 0
    """Triples of the union of the graphs (a triple in two graphs counts once)."""
    digest: str = ""
    """sha256 of rkg.nq."""

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    written: Path | None = None
    """The rkg.nq that ``write`` put in place."""

    @property
    def quads(self) -> list[ox.Quad]:
        """Every quad, as Python objects, in the order of the sources (rkg.nq read back: for tests and small
        graphs; the build itself never makes this list)."""
        nquads = self.staged / NQUADS_NAME if self.staged is not None else self.written
        if nquads is None:
            raise ValueError("this build was discarded")
        return list(ox.parse(path=str(nquads), format=ox.RdfFormat.N_QUADS))

    def discard(self) -> None:
        """Drop the staged files and, unless moved into place, the store and its folder."""
        if self.staged is not None:
            shutil.rmtree(self.staged, ignore_errors=True)
            self.staged = None
        if self.location is not None and self.location.name != STORE_NAME:
            self.store = None
            shutil.rmtree(self.location, ignore_errors=True)


def discover(root: Path, extra_data: Iterable[Path] = (), imports: Path | None = None) -> list[Source]:
    """Source files in a stable order: ``ontology/``, then ``data/``, then extra data folders, then what
    ``rkg import`` wrote into ``imports`` (``build/imports/``)."""
    sources: list[Source] = []
    for folder in (root / "ontology", root / "data"):
        sources += _files(folder, root)
    for folder in extra_data:
        folder = folder.resolve()
        if not folder.is_dir():
            raise BuildError(str(folder), "data folder not found")
        sources += _files(folder, folder.parent)
    if imports is not None:
        sources += _files(imports, imports.parent)
    names = [s.name for s in sources]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise BuildError(sorted(dupes)[0], "two source files would share this named graph")
    return sources


def _files(folder: Path, base: Path) -> list[Source]:
    if not folder.is_dir():
        return []
    found = [p for p in folder.rglob("*") if (p.suffix in SOURCE_SUFFIXES or p.name.endswith(MAPPING_SUFFIX)) and p.is_file()]
    return [Source(p, p.relative_to(base).as_posix()) for p in sorted(found)]


def parse_source(source: Source) -> list[ox.Quad]:
    return list(iter_source(source))


def iter_source(source: Source) -> Iterator[ox.Quad]:
    """The quads of one source, read as they come; raises BuildError (with the position) on bad input."""
    graph = ox.NamedNode(source.graph)
    if source.name.endswith(MAPPING_SUFFIX):
        from .interop.sssom import SssomError, read

        try:
            yield from read(source.path, source.name, graph)
            return
        except SssomError as e:
            raise BuildError(source.name, e.message, e.line, e.column) from None
        except UnicodeDecodeError as e:
            raise BuildError(source.name, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    quads = source.path.suffix == ".nq"  # quads, in the graphs the file names (default graph: see _load)
    try:
        with source.path.open("rb") as f:
            for t in ox.parse(f, format=SOURCE_SUFFIXES[source.path.suffix], base_iri=None):
                yield t if quads else ox.Quad(t.subject, t.predicate, t.object, graph)
    except SyntaxError as e:
        line, col = _position(e)
        raise BuildError(source.name, _clean(str(e)), line, col) from None
    except UnicodeDecodeError as e:
        raise BuildError(source.name, f"not UTF-8 text ({e.reason} at byte {e.start})") from None


def _position(e: SyntaxError) -> tuple[int | None, int | None]:
    line = getattr(e, "lineno", None)
    col = getattr(e, "offset", None)
    return (line, col)


def _clean(message: str) -> str:
    # pyoxigraph: "Parser error at line 3 between columns 1 and 4: No scheme found ..." → keep the reason.
    if message.startswith("Parser error") and ": " in message:
        message = message.split(": ", 1)[1]
    return re.sub(r" \(line \d+\)$", "", message)


def search_key(text: str) -> str:
    """Lower case, accents and ligatures folded, whitespace collapsed: « Œuvre » → « oeuvre ».

    The text is first put in Unicode NFC, so a label written in decomposed form (« re\u0301seau », as in
    some Orébut exports) gets the same key as its composed spelling (« réseau » → « reseau »)."""
    if text.isascii():  # nothing to fold (most imported labels): the same key, five times faster
        return " ".join(text.lower().split())
    text = unicodedata.normalize("NFC", text)
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    text = text.replace("’", "'")
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _graph_counts(store: ox.Store) -> dict[str, int]:
    return {row["g"].value: int(row["n"].value) for row in store.query(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}


def _union_count(store: ox.Store) -> int:
    row = next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", use_default_graph_as_union=True)))
    return int(row["n"].value)


_COMMON = os.path.commonprefix(list(_LABELS))
_LABEL_AT = re.compile(rb'> <' + re.escape(_COMMON.encode()) + rb'(?:'
                       + rb'|'.join(re.escape(p[len(_COMMON):].encode()) for p in _LABELS) + rb')> "((?:[^"\\\n]|\\.)*)"')
"""A label predicate and its literal, as `rkg import` writes them (``> <…#prefLabel> "…"``): the pattern opens
with the long literal text the IRIs share, which the regular expression engine searches for directly (a
pattern anchored at each line's start tried every line: a third slower)."""
_KEY = b" <" + str(RKG.searchKey).encode() + b"> "


def _nt_literal(text: str) -> bytes:
    return b'"' + text.replace("\\", "\\\\").replace('"', '\\"').encode("utf-8") + b'"'


class _Staging:
    """rkg.nq, rkg.trig and rkg.ttl written as the sources load (never dumped from the store: that reads
    every term back), in a temporary folder that ``write`` moves files from; plus the search keys.

    Everything goes through ``graph(iri, block)``, ``block`` being N-Triples lines each ending in `` .\\n``
    (canonical: what pyoxigraph writes, and what ``rkg import`` writes): N-Quads add the graph name to each
    line, TriG wraps the lines in the graph's block, and the union Turtle file takes them as they are (a
    triple of two graphs then appears twice: the same graph).

    rkg.nq is written as the stream goes (its digest with it); rkg.trig and rkg.ttl are the same lines again,
    so they are not written then but planned (``_plan``: byte ranges of the files they come from, in order)
    and copied by the kernel (``copy_file_range``) on a thread while the store counts and loads the search
    keys: at millions of lines, three copies written from Python cost the build a sixth of its time. Lines that have
    no file of their own (parsed sources, provenance) are appended to a side file, ranges of which the plan
    names like any other."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sha = hashlib.sha256()
        self.nq = (folder / NQUADS_NAME).open("wb")
        self.side = (folder / "lines.nt").open("w+b")
        header = "".join(f"@prefix {p}: <{iri}> .\n" for p, iri in PREFIXES.items()).encode()
        self._plan: list[tuple[bytes, BinaryIO | None, int, int]] = [(header, None, 0, 0)]
        """What rkg.trig and rkg.ttl hold, in order: (bytes for rkg.trig only — the prefixes, a graph's
        opening and closing —, the open file of the lines or None, offset, length)."""
        self._held: dict[int, tuple[BinaryIO, str, tuple[int, int]]] = {}
        """Source files the plan copies from, kept open from their reading to the copies (a file replaced
        meanwhile is still the one read), with their name and (size, mtime) then, checked before copying."""
        self._copied = 0
        self._copier: threading.Thread | None = None
        self._error: list[BaseException] = []
        self._open: bytes | None = None
        self.keys: dict[str, BinaryIO] = {}
        """Search-key lines of IRI subjects, per target graph (temporary files: bulk-loaded at the end)."""
        self.blank_keys: list[ox.Quad] = []
        self._seen: tuple[object, set[str]] = (None, set())
        self._parsed: set[tuple[object, str]] = set()
        """Keys of the sources read through Python (the project's own files, N-Quads imports): all remembered,
        as the old build did; keys of N-Triples imports only per run of lines of one subject (flat memory)."""

    def hold(self, path: Path, name: str) -> BinaryIO:
        """``path`` opened for reading, kept open (and checked unchanged) until the copies are made."""
        f = path.open("rb")
        st = os.fstat(f.fileno())
        self._held[f.fileno()] = (f, name, (st.st_size, st.st_mtime_ns))
        return f

    def graph(self, iri: str, block: bytes, origin: tuple[BinaryIO, int] | None = None) -> None:
        """``block`` into graph ``iri``: ``origin`` is the open file and offset it was read from, when it is
        exactly those bytes of that file (a held source, the side file, a file of keys)."""
        if not block:
            return
        name = b"<" + iri.encode() + b">"
        nq = block.replace(b" .\n", b" " + name + b" .\n")
        self.sha.update(nq)
        self.nq.write(nq)
        opening = b""
        if self._open != name:
            opening = (b"}\n" if self._open is not None else b"") + name + b" {\n"
            self._open = name
        if origin is None:
            origin = (self.side, self.side.tell())
            self.side.write(block)
        self._plan.append((opening, origin[0], origin[1], len(block)))

    def key(self, subject: ox.NamedNode | ox.BlankNode | bytes, label: str, target: str, parsed: bool = False) -> None:
        """The search key of ``label`` for ``subject`` (an IRI as ``<…>`` bytes, or a term), written once per
        subject (``parsed``), or once per run of lines of one subject (the store removes any other duplicate)."""
        k = search_key(label)
        if parsed:
            if (subject, k) in self._parsed:
                return
            self._parsed.add((subject, k))
        else:
            last, keys = self._seen
            if last != subject:
                keys = set()
                self._seen = (subject, keys)
            if k in keys:
                return
            keys.add(k)
        if isinstance(subject, bytes):
            f = self.keys.get(target)
            if f is None:
                f = self.keys[target] = (self.folder / f"keys-{len(self.keys)}.nt").open("w+b")
            f.write(subject + _KEY + _nt_literal(k) + b" .\n")
        else:
            self.blank_keys.append(ox.Quad(subject, ox.NamedNode(str(RKG.searchKey)), ox.Literal(k), ox.NamedNode(target)))

    def keys_of_block(self, block: bytes, target: str) -> None:
        """Search keys of the labels in ``block``, picked out of lines written as ``rkg import`` writes them;
        when the label properties occur more often than such lines (other spacing, a label property named
        in a literal…), the block is parsed instead, so that no label goes without its key."""
        found = list(_LABEL_AT.finditer(block))
        subjects = []
        for m in found:
            start = m.start()
            subject = block[block.rfind(b"\n", 0, start) + 1:start + 1]
            if subject[:1] != b"<" or subject.find(b">") != len(subject) - 1 or b" " in subject:
                break  # not the line's subject (the pattern inside a literal, a blank node…): parsed below
            subjects.append(subject)
        if len(subjects) != sum(block.count(b"<" + p.encode() + b">") for p in _LABELS):
            triples = ox.parse(block, format=ox.RdfFormat.N_TRIPLES)
            self.keys_of_quads([ox.Quad(t.subject, t.predicate, t.object) for t in triples], target, parsed=False)
            return
        for subject, m in zip(subjects, found):
            raw = m.group(1)
            text = raw.decode("utf-8") if b"\\" not in raw else next(iter(
                ox.parse(b'<x:s> <x:p> "' + raw + b'" .', format=ox.RdfFormat.N_TRIPLES))).object.value
            self.key(subject, text, target)

    def keys_of_quads(self, quads: list[ox.Quad], target: str, parsed: bool = True) -> None:
        for q in quads:
            if q.predicate.value in _LABELS and isinstance(q.object, ox.Literal):
                subject = q.subject
                self.key(b"<" + subject.value.encode() + b">" if isinstance(subject, ox.NamedNode) else subject,
                         q.object.value, target, parsed=parsed)

    def start_copies(self) -> None:
        """Write what is planned so far into rkg.trig and rkg.ttl, on a thread (the kernel copies the lines)."""
        self.side.flush()
        upto = len(self._plan)

        def run() -> None:
            try:
                self._copy(upto, last=False)
            except BaseException as e:  # noqa: BLE001 - raised by close(), in the build's thread
                self._error.append(e)

        self._copier = threading.Thread(target=run, name="rkg-build-copies", daemon=True)
        self._copier.start()

    def _copy(self, upto: int, last: bool) -> None:
        # Not opened for appending: copy_file_range refuses an output opened with O_APPEND.
        mode = "r+b" if self._copied else "wb"
        with (self.folder / TRIG_NAME).open(mode) as trig, (self.folder / TURTLE_NAME).open(mode) as ttl:
            trig.seek(0, os.SEEK_END)
            ttl.seek(0, os.SEEK_END)
            for opening, src, offset, length in self._plan[self._copied:upto]:
                trig.write(opening)
                if self._copied == 0 and src is None:  # the prefixes head both files
                    ttl.write(opening)
                if src is not None:
                    self._unchanged(src)
                    for out in (trig, ttl):
                        out.flush()
                        _copy_range(src, offset, length, out)
                self._copied += 1
            if last and self._open is not None:
                trig.write(b"}\n")

    def _unchanged(self, src: BinaryIO) -> None:
        held = self._held.get(src.fileno())
        if held is None:
            return
        f, name, then = held
        st = os.fstat(f.fileno())
        if (st.st_size, st.st_mtime_ns) != then:
            raise BuildError(name, "the file changed while the build read it; run rkg build again")

    def close(self) -> None:
        """Finish rkg.trig and rkg.ttl (what the thread has not written) and close every file."""
        if self._copier is not None:
            self._copier.join()
            self._copier = None
        if self._error:
            raise self._error[0]
        self.side.flush()
        self._copy(len(self._plan), last=True)
        self._open = None
        self._close_files()

    def abandon(self) -> None:
        """Close every file after a failure (the folder is removed)."""
        if self._copier is not None:
            self._copier.join()
        self._close_files()

    def _close_files(self) -> None:
        for f in (self.nq, self.side, *self.keys.values(), *(held[0] for held in self._held.values())):
            f.close()
        self._held = {}

    @property
    def digest(self) -> str:
        return self.sha.hexdigest()


def _ntriples(triples: Iterable[ox.Triple | ox.Quad]) -> bytes:
    return ox.serialize((ox.Triple(t.subject, t.predicate, t.object) for t in triples), format=ox.RdfFormat.N_TRIPLES) or b""


def _add(store: ox.Store, staging: _Staging, quads: Iterable[ox.Quad], keys_to: Callable[[str], str] | None = None,
         claim: Callable[[str], None] | None = None) -> int:
    """Quads that went through Python (parsed sources, provenance): into the store in transactions of CHUNK
    (blank nodes keep their identity: the same objects go to the files) and to the staged files, graph by
    graph. Returns how many."""
    n = 0
    chunk: list[ox.Quad] = []

    def flush() -> None:
        store.extend(chunk)
        by_graph: dict[str, list[ox.Quad]] = {}
        for q in chunk:
            by_graph.setdefault(q.graph_name.value, []).append(q)
        for g, part in by_graph.items():
            if claim is not None:
                claim(g)
            staging.graph(g, _ntriples(part))
            if keys_to is not None:
                staging.keys_of_quads(part, keys_to(g))

    for q in quads:
        chunk.append(q)
        if len(chunk) >= CHUNK:
            flush()
            n, chunk = n + len(chunk), []
    if chunk:
        flush()
    return n + len(chunk)


def _key_graph(graph: str) -> str:
    """Keys of imported labels stay beside the imports (left out of validation with them)."""
    return IMPORT_SEARCH_KEYS if graph.startswith(IMPORTS_GRAPHS) else BUILD_GRAPH


def _load(store: ox.Store, staging: _Staging, s: Source, graphs: dict[str, Source]) -> None:
    """Load one source into its graph(s) of ``store`` and the staged files; raises BuildError with the
    file's position."""
    def claim(graph: str) -> None:
        if graphs.setdefault(graph, s) is not s:
            raise BuildError(s.name, f"graph <{graph}> is also filled by {graphs[graph].name}")

    if s.path.suffix == ".nq":
        own = ox.NamedNode(s.graph)

        def quads() -> Iterator[ox.Quad]:
            for q in iter_source(s):  # a triple in the default graph goes to the file's graph
                yield q if isinstance(q.graph_name, ox.NamedNode) else ox.Quad(q.subject, q.predicate, q.object, own)

        if not _add(store, staging, quads(), _key_graph, claim):
            claim(s.graph)
        return
    claim(s.graph)
    if s.name.endswith(MAPPING_SUFFIX) or s.path.suffix != ".nt" or _has_blank_nodes(s.path):
        _add(store, staging, iter_source(s), _key_graph)
        return
    # N-Triples without blank nodes (what `rkg import` writes): bytes straight to the engine's bulk loader
    # and to the files, a block at a time; labels picked out of the lines for the search keys.
    graph, target = ox.NamedNode(s.graph), _key_graph(s.graph)
    try:
        source = staging.hold(s.path, s.name)
        for block, offset in _blocks(source):
            if block.count(b"\n") != block.count(b" .\n"):  # comments, blank lines, other spacing: parsed
                _add(store, staging, (ox.Quad(t.subject, t.predicate, t.object, graph)
                                      for t in ox.parse(block, format=ox.RdfFormat.N_TRIPLES)), lambda g: target)
                continue
            _overlapped(lambda: store.bulk_load(block, ox.RdfFormat.N_TRIPLES, to_graph=graph),
                        lambda: (staging.graph(s.graph, block, None if offset is None else (source, offset)),
                                 staging.keys_of_block(block, target)))
    except (SyntaxError, UnicodeDecodeError, ValueError) as e:
        # Read the file again with the parser, whose error names the position in the file (not the block's).
        for _ in iter_source(s):
            pass
        raise BuildError(s.name, _clean(str(e))) from None


def _overlapped(engine: Callable[[], object], python: Callable[[], object]) -> None:
    """``engine()`` (which releases the GIL: the bulk loader) on a thread while ``python()`` runs here;
    raises the first error of either."""
    error: list[BaseException] = []

    def run() -> None:
        try:
            engine()
        except BaseException as e:  # noqa: BLE001 - raised below, in the caller's thread
            error.append(e)

    thread = threading.Thread(target=run, name="rkg-bulk-load")
    thread.start()
    try:
        python()
    finally:
        thread.join()
    if error:
        raise error[0]


def _blocks(f: BinaryIO) -> Iterator[tuple[bytes, int | None]]:
    """The open file ``f`` from its start in blocks of about BLOCK_BYTES, each ending at the end of a line,
    with its offset in the file (None for a last line without its line break: it gets one, so it is not the
    file's bytes)."""
    rest, offset = b"", 0
    while chunk := f.read(BLOCK_BYTES):
        chunk = rest + chunk
        end = chunk.rfind(b"\n") + 1
        if end == 0:
            rest = chunk
            continue
        rest = chunk[end:]
        yield chunk[:end], offset
        offset += end
    if rest.strip():
        yield rest + b"\n", None


def _copy_range(src: BinaryIO, offset: int, length: int, out: BinaryIO) -> None:
    """``length`` bytes of the open file ``src`` from ``offset`` (its position untouched) written at the end of
    ``out`` (flushed), by the kernel where it can."""
    copy = getattr(os, "copy_file_range", None)
    while length > 0:
        if copy is not None:
            try:
                n = copy(src.fileno(), out.fileno(), length, offset)
            except OSError:  # a file system that cannot: read and write
                copy = None
                continue
        else:
            data = os.pread(src.fileno(), min(length, BLOCK_BYTES), offset)
            out.write(data)
            out.flush()
            n = len(data)
        if n <= 0:  # the file got shorter: _Staging checks sources before copying; the others are rkg's own
            raise OSError(f"{getattr(src, 'name', 'a staged file')}: shorter than expected while copying")
        offset, length = offset + n, length - n


def _has_blank_nodes(path: Path) -> bool:
    """Whether ``_:`` occurs anywhere (in a literal too: then the file is simply parsed)."""
    tail = b""
    with path.open("rb") as f:
        while chunk := f.read(BLOCK_BYTES):
            if b"_:" in tail + chunk[:1] or b"_:" in chunk:
                return True
            tail = chunk[-1:]
    return False


def _finish(store: ox.Store, staging: _Staging, graphs: dict[str, Source]) -> tuple[dict[str, int], int]:
    """The build graph: provenance of each source graph (VoID + Dublin Core: the file it comes from, its
    triple count as the store counts it) and the search keys of every label. Returns the triples per graph
    and the union's triple count. The store counts the sources' graphs while the keys load, then the union
    and the two graphs it added to at once (each count is a scan of its own, on a thread: the engine
    releases the GIL), while the store flushes."""
    with ThreadPoolExecutor(3, thread_name_prefix="rkg-build-count") as pool:
        counting = pool.submit(_graph_counts, store)
        blank = staging.blank_keys
        staging.blank_keys = []
        for target in (BUILD_GRAPH, IMPORT_SEARCH_KEYS):
            f = staging.keys.get(target)
            if f is not None:
                _load_keys(store, staging, f, target)
            part = [q for q in blank if q.graph_name.value == target]
            if part:
                _add(store, staging, part)
        counts = counting.result()
        g = ox.NamedNode(BUILD_GRAPH)
        provenance: list[ox.Quad] = []
        for graph, s in graphs.items():
            node = ox.NamedNode(graph)
            provenance += [
                ox.Quad(node, _RDF_TYPE, ox.NamedNode(VOID + "Dataset"), g),
                ox.Quad(node, ox.NamedNode(DCTERMS + "source"), ox.Literal(s.name), g),
                ox.Quad(node, ox.NamedNode(VOID + "triples"), ox.Literal(str(counts.get(graph, 0)), datatype=ox.NamedNode(XSD + "integer")), g),
            ]
        _add(store, staging, provenance)
        union = pool.submit(_union_count, store)
        added = {target: pool.submit(_graph_count, store, target) for target in (BUILD_GRAPH, IMPORT_SEARCH_KEYS)}
        store.flush()
        for target, n in added.items():
            counts[target] = n.result()
            if not counts[target]:
                del counts[target]
        return counts, union.result()


def _graph_count(store: ox.Store, graph: str) -> int:
    row = next(iter(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")))
    return int(row["n"].value)


def _load_keys(store: ox.Store, staging: _Staging, f: BinaryIO, target: str) -> None:
    """The key lines of the open file ``f`` into graph ``target`` and the staged files, a block at a time.
    Loaded leniently (the engine skips its IRI checks): every line is rkg's own, an IRI the strict load of
    its source just accepted and a literal ``_nt_literal`` escaped."""
    f.flush()
    f.seek(0)
    offset = 0
    for block in iter(lambda: f.read(BLOCK_BYTES), b""):
        end = block.rfind(b"\n") + 1
        if end < len(block):  # whole lines only
            f.seek(end - len(block), os.SEEK_CUR)
            block = block[:end]
        _overlapped(lambda: store.bulk_load(block, ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(target), lenient=True),
                    lambda: staging.graph(target, block, (f, offset)))
        offset += len(block)


def build(root: Path, extra_data: Iterable[Path] = (), progress: Progress | None = None,
          imports: Path | None = None, location: Path | None = None) -> BuildResult:
    """Load every source into its named graph of a store (in memory, or on disk in the new folder
    ``location``), add the build graph, and stage rkg.nq, rkg.trig and rkg.ttl beside ``location`` (or in
    a temporary folder) for ``write``. Raises BuildError (nothing left behind)."""
    sources = discover(root, extra_data, imports)
    if not sources:
        raise BuildError(str(root), "no source files found (expected ontology/*.ttl and data/**/*.ttl)")
    staged = Path(tempfile.mkdtemp(dir=location.parent if location is not None else None, prefix=".rkg-build."))
    store = ox.Store(str(location)) if location is not None else ox.Store()
    result = BuildResult(store, sources, location=location, staged=staged)
    weakref.finalize(result, shutil.rmtree, staged, True)
    staging = _Staging(staged)
    try:
        graphs: dict[str, Source] = {}
        for i, s in enumerate(sources, 1):
            if progress:
                progress(f"[{i}/{len(sources)}] {s.name}")
            _load(store, staging, s, graphs)
        staging.start_copies()  # rkg.trig and rkg.ttl of the sources, by the kernel, while the store counts
        if progress:
            progress("provenance, search keys, counts")
        counts, result.triples = _finish(store, staging, graphs)
        ordered = {g: counts.get(g, 0) for g in graphs}
        ordered.update((g, n) for g, n in counts.items() if g not in ordered)
        result.counts = ordered
        result.digest = staging.digest
        staging.close()  # once the copies are made: the files they copy from go
        for f in (*staged.glob("keys-*.nt"), staged / "lines.nt"):
            f.unlink()
    except BaseException:
        staging.abandon()
        result.discard()
        raise
    return result


def _place(source: Path, target: Path) -> None:
    """Move the staged file ``source`` to ``target``, whole or not at all (copied first when they are on two
    file systems)."""
    if source.stat().st_dev == target.parent.stat().st_dev:
        os.replace(source, target)
        return
    with atomic_file(target) as f, source.open("rb") as src:
        shutil.copyfileobj(src, f, 2**20)
    source.unlink()


def write(result: BuildResult, out_dir: Path) -> list[Path]:
    """Move the staged N-Quads, TriG and union Turtle files into ``out_dir``, then the on-disk store
    (``store/``), then write the manifest; each appears whole or not at all, the manifest last. The result's
    store is closed (a build in memory is first copied into a new on-disk store)."""
    if result.store is None or result.staged is None:
        raise ValueError("this build was already written")
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        written = []
        for name in (NQUADS_NAME, TRIG_NAME, TURTLE_NAME):
            _place(result.staged / name, out_dir / name)
            written.append(out_dir / name)
        result.written = out_dir / NQUADS_NAME
        quads = sum(result.counts.values())  # every quad is in a named graph: the build fills no default graph
        location = result.location
        if location is None:  # built in memory: an on-disk copy for `rkg serve`
            location = Path(tempfile.mkdtemp(dir=out_dir, prefix=f".{STORE_NAME}."))
            result.location = location
            disk = ox.Store(str(location))
            disk.bulk_load(path=str(out_dir / NQUADS_NAME), format=ox.RdfFormat.N_QUADS)
            disk.flush()
            del disk
        result.store = None  # RocksDB closed before its folder moves
        _replace_folder(location, out_dir / STORE_NAME)
        result.location = out_dir / STORE_NAME
        written.append(out_dir / STORE_NAME)
    except BaseException:
        result.discard()
        raise
    result.discard()  # the staging folder
    # Last, once rkg.nq and the store are in place: what was built from, and what `rkg serve` reports
    # without reloading or scanning (/health, the home page, VoID, the Service Description).
    manifest = {
        "sources": _manifest(result.sources),
        "triples": result.triples,
        "quads": quads,
        "default": 0,
        "graphs": result.counts,
        "digest": result.digest,
        "version": result.digest[:10],
        "store": STORE_NAME,
    }
    with atomic_file(out_dir / MANIFEST_NAME) as f:
        f.write(json.dumps(manifest, indent=1).encode())
    written.append(out_dir / MANIFEST_NAME)
    return written


def _replace_folder(new: Path, target: Path) -> None:
    """Put the folder ``new`` at ``target`` (same file system), the old one moved aside and removed."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old.{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _manifest(sources: list[Source]) -> dict[str, float]:
    return {s.name: s.path.stat().st_mtime for s in sources}


def read_manifest(out_dir: Path) -> dict:
    """``{"sources": {file: mtime}, "triples": union triple count, "quads", "default": triples in the default
    graph, "graphs": {graph: triples}, "digest": sha256 of rkg.nq, "version": its first 10 digits, "store":
    the on-disk store's folder}``."""
    return json.loads((out_dir / MANIFEST_NAME).read_text())


def manifest_of(nquads: Path) -> dict | None:
    """The manifest beside ``nquads`` when it describes that file (written after it, with the counts per
    graph, quads and triples), else None (no manifest, an older one, unreadable)."""
    manifest = nquads.parent / MANIFEST_NAME
    try:
        if manifest.stat().st_mtime < nquads.stat().st_mtime:
            return None
        built = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(built, dict) and {"graphs", "quads", "triples"} <= built.keys() and isinstance(built["graphs"], dict)
    return built if ok else None


def is_stale(root: Path, out_dir: Path, extra_data: Iterable[Path] = ()) -> bool:
    """True when ``build/`` is missing, was built from other files, or a source (or an import) changed since."""
    try:
        recorded = read_manifest(out_dir)
        sources = discover(root, extra_data, out_dir / IMPORTS)
    except (OSError, ValueError, BuildError):
        return True
    return (recorded.get("sources") != _manifest(sources) or not (out_dir / NQUADS_NAME).exists()
            or "graphs" not in recorded or not (out_dir / STORE_NAME).is_dir())
