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
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

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
"""Quads added to the store per transaction where they go through Python (N-Quads sources, search keys)."""
NATIVE_TURTLE_QUADS = 200_000
"""Above this many quads the union Turtle file is written by the engine (no prefixes; fast) rather than
through Python (with the project's prefixes)."""

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


@dataclass
class BuildResult:
    store: ox.Store | None
    """The built dataset (in memory, or on disk at ``location``); None once ``write`` has closed it."""
    sources: list[Source] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    """Triples per named graph (the build graph included), as the store counts them (duplicates once)."""
    location: Path | None = None
    """Folder of the on-disk store (a temporary one beside ``build/store`` until ``write`` renames it)."""
    triples: int = 0
    """Triples of the union of the graphs (a triple in two graphs counts once)."""

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def quads(self) -> list[ox.Quad]:
        """Every quad, as Python objects (for tests and small graphs: the build itself never makes this list)."""
        if self.store is None:
            raise ValueError("the build's store was closed by write(); read build/rkg.nq instead")
        return list(self.store)

    def discard(self) -> None:
        """Drop the store and, if on disk and not yet moved into place, its folder."""
        self.store = None
        if self.location is not None and self.location.name != STORE_NAME:
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


def _extend(store: ox.Store, quads: Iterable[ox.Quad]) -> int:
    """Add ``quads`` in transactions of CHUNK; returns how many were given."""
    n, chunk = 0, []
    for q in quads:
        chunk.append(q)
        if len(chunk) >= CHUNK:
            store.extend(chunk)
            n, chunk = n + len(chunk), []
    if chunk:
        store.extend(chunk)
    return n + len(chunk)


def _build_graph(store: ox.Store, graphs: dict[str, Source], counts: dict[str, int]) -> None:
    """Provenance of each source graph (VoID + Dublin Core: the file it comes from) and search keys of every
    label, added to ``store``. Labels are read back from the store one at a time; the store removes the
    duplicate keys."""
    g = ox.NamedNode(BUILD_GRAPH)
    provenance: list[ox.Quad] = []
    for graph, s in graphs.items():
        node = ox.NamedNode(graph)
        provenance += [
            ox.Quad(node, _RDF_TYPE, ox.NamedNode(VOID + "Dataset"), g),
            ox.Quad(node, ox.NamedNode(DCTERMS + "source"), ox.Literal(s.name), g),
            ox.Quad(node, ox.NamedNode(VOID + "triples"), ox.Literal(str(counts.get(graph, 0)), datatype=ox.NamedNode(XSD + "integer")), g),
        ]
    _extend(store, provenance)
    key = ox.NamedNode(str(RKG.searchKey))
    # Keys of imported labels stay beside the imports (left out of validation with them).
    imported = ox.NamedNode(IMPORTS_GRAPHS + "search-keys")
    labels = store.query(f"SELECT ?s ?l ?g WHERE {{ GRAPH ?g {{ ?s <{_LABELS[0]}>|<{_LABELS[1]}> ?l }} FILTER(isLiteral(?l)) }}")
    _extend(store, (ox.Quad(row["s"], key, ox.Literal(search_key(row["l"].value)),
                            imported if row["g"].value.startswith(IMPORTS_GRAPHS) else g) for row in labels))


def _load(store: ox.Store, s: Source, graphs: dict[str, Source]) -> None:
    """Load one source into its graph(s) of ``store``; raises BuildError with the file's position."""
    def claim(graph: str) -> None:
        if graphs.setdefault(graph, s) is not s:
            raise BuildError(s.name, f"graph <{graph}> is also filled by {graphs[graph].name}")

    if s.name.endswith(MAPPING_SUFFIX):
        claim(s.graph)
        _extend(store, iter_source(s))
        return
    if s.path.suffix == ".nq":
        own = ox.NamedNode(s.graph)

        def quads() -> Iterable[ox.Quad]:
            for q in iter_source(s):  # a triple in the default graph goes to the file's graph
                if not isinstance(q.graph_name, ox.NamedNode):
                    q = ox.Quad(q.subject, q.predicate, q.object, own)
                claim(q.graph_name.value)
                yield q

        if not _extend(store, quads()):
            claim(s.graph)
        return
    claim(s.graph)
    try:
        store.bulk_load(path=str(s.path), format=SOURCE_SUFFIXES[s.path.suffix], to_graph=ox.NamedNode(s.graph))
    except (SyntaxError, UnicodeDecodeError, ValueError, OSError) as e:
        # The engine's bulk loader stopped: read the file again with the parser, whose error names the position.
        for _ in iter_source(s):
            pass
        raise BuildError(s.name, _clean(str(e))) from None


def build(root: Path, extra_data: Iterable[Path] = (), progress: Progress | None = None,
          imports: Path | None = None, location: Path | None = None) -> BuildResult:
    """Load every source into its named graph of a store (in memory, or on disk in the new folder
    ``location``) and add the build graph. Raises BuildError (the store at ``location`` removed)."""
    sources = discover(root, extra_data, imports)
    if not sources:
        raise BuildError(str(root), "no source files found (expected ontology/*.ttl and data/**/*.ttl)")
    store = ox.Store(str(location)) if location is not None else ox.Store()
    result = BuildResult(store, sources, location=location)
    try:
        graphs: dict[str, Source] = {}
        for i, s in enumerate(sources, 1):
            if progress:
                progress(f"[{i}/{len(sources)}] {s.name}")
            _load(store, s, graphs)
        if progress:
            progress("counting, adding provenance and search keys")
        counts = _graph_counts(store)
        _build_graph(store, graphs, counts)
        counts = _graph_counts(store)
        ordered = {g: counts.get(g, 0) for g in graphs}
        ordered.update((g, n) for g, n in counts.items() if g not in ordered)
        result.counts = ordered
        result.triples = _union_count(store)
        if location is not None:
            store.flush()
    except BaseException:
        result.discard()
        raise
    return result


class _Hashing:
    """A binary file that also feeds what is written to a sha256."""

    def __init__(self, f) -> None:
        self.f, self.sha = f, hashlib.sha256()

    def write(self, data) -> int:
        self.sha.update(data)
        return self.f.write(data)

    def flush(self) -> None:
        self.f.flush()


def _dump(store: ox.Store, f, fmt: ox.RdfFormat) -> None:
    """The dataset (TriG, N-Quads) or the union of its graphs (Turtle) into ``f``."""
    if fmt == ox.RdfFormat.TURTLE:
        union = store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", use_default_graph_as_union=True)
        if len(store) > NATIVE_TURTLE_QUADS:
            union.serialize(f, ox.RdfFormat.TURTLE)
        else:
            ox.serialize(union, f, ox.RdfFormat.TURTLE, prefixes=PREFIXES)
        return
    store.dump(f, fmt, prefixes=PREFIXES if fmt == ox.RdfFormat.TRIG else None)


def write(result: BuildResult, out_dir: Path) -> list[Path]:
    """Write N-Quads, TriG, a union Turtle file, the on-disk store and the manifest; each appears whole or
    not at all. An on-disk store of the build (``location``) is moved into place and closed; a build in
    memory is copied into a new on-disk store."""
    if result.store is None:
        raise ValueError("this build was already written")
    out_dir.mkdir(parents=True, exist_ok=True)
    store = result.store
    digest = ""

    def nquads(f) -> None:
        nonlocal digest
        h = _Hashing(f)
        _dump(store, h, ox.RdfFormat.N_QUADS)
        digest = h.sha.hexdigest()

    targets = [
        (NQUADS_NAME, nquads),
        (TRIG_NAME, lambda f: _dump(store, f, ox.RdfFormat.TRIG)),
        (TURTLE_NAME, lambda f: _dump(store, f, ox.RdfFormat.TURTLE)),
    ]
    written = []
    for name, dump in targets:
        with atomic_file(out_dir / name) as f:
            dump(f)
        written.append(out_dir / name)
    quads = len(store)
    location = result.location
    if location is None:  # built in memory: an on-disk copy for `rkg serve`
        location = Path(tempfile.mkdtemp(dir=out_dir, prefix=f".{STORE_NAME}."))
        try:
            disk = ox.Store(str(location))
            disk.bulk_load(path=str(out_dir / NQUADS_NAME), format=ox.RdfFormat.N_QUADS)
            disk.flush()
            del disk
        except BaseException:
            shutil.rmtree(location, ignore_errors=True)
            raise
    result.store = store = None  # type: ignore[assignment]  # RocksDB closed before its folder moves
    _replace_folder(location, out_dir / STORE_NAME)
    result.location = out_dir / STORE_NAME
    written.append(out_dir / STORE_NAME)
    # Last, once rkg.nq and the store are in place: what was built from, and what `rkg serve` reports
    # without reloading or scanning (/health, the home page, VoID, the Service Description).
    manifest = {
        "sources": _manifest(result.sources),
        "triples": result.triples,
        "quads": quads,
        "default": 0,
        "graphs": result.counts,
        "digest": digest,
        "version": digest[:10],
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


def is_stale(root: Path, out_dir: Path, extra_data: Iterable[Path] = ()) -> bool:
    """True when ``build/`` is missing, was built from other files, or a source (or an import) changed since."""
    try:
        recorded = read_manifest(out_dir)
        sources = discover(root, extra_data, out_dir / IMPORTS)
    except (OSError, ValueError, BuildError):
        return True
    return (recorded.get("sources") != _manifest(sources) or not (out_dir / NQUADS_NAME).exists()
            or "graphs" not in recorded or not (out_dir / STORE_NAME).is_dir())
