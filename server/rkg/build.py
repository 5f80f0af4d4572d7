"""Load and check the source files, merge them into one dataset (a named graph per file), write ``build/``.

Parsing uses pyoxigraph, whose errors carry line and column. Outputs are written to temporary files
and renamed into place, so a failed build never leaves a half-written ``build/``.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
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
    quads: list[ox.Quad]
    sources: list[Source] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    """Triples per named graph (the build graph included)."""

    @property
    def total(self) -> int:
        return sum(self.counts.values())


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
    graph = ox.NamedNode(source.graph)
    if source.name.endswith(MAPPING_SUFFIX):
        from .interop.sssom import SssomError, read

        try:
            return read(source.path, source.name, graph)
        except SssomError as e:
            raise BuildError(source.name, e.message, e.line, e.column) from None
        except UnicodeDecodeError as e:
            raise BuildError(source.name, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    try:
        with source.path.open("rb") as f:
            triples = list(ox.parse(f, format=SOURCE_SUFFIXES[source.path.suffix], base_iri=None))
    except SyntaxError as e:
        line, col = _position(e)
        raise BuildError(source.name, _clean(str(e)), line, col) from None
    except UnicodeDecodeError as e:
        raise BuildError(source.name, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    if source.path.suffix == ".nq":
        return triples  # quads, in the graphs the file names (a triple in the default graph goes to the file's graph)
    return [ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples]


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


def _build_graph(graphs: dict[str, Source], counts: dict[str, int], quads: list[ox.Quad]) -> list[ox.Quad]:
    """Provenance of each source graph (VoID + Dublin Core: the file it comes from) and search keys of every label."""
    g = ox.NamedNode(BUILD_GRAPH)
    out: list[ox.Quad] = []
    for graph, s in graphs.items():
        node = ox.NamedNode(graph)
        out += [
            ox.Quad(node, _RDF_TYPE, ox.NamedNode(VOID + "Dataset"), g),
            ox.Quad(node, ox.NamedNode(DCTERMS + "source"), ox.Literal(s.name), g),
            ox.Quad(node, ox.NamedNode(VOID + "triples"), ox.Literal(str(counts[graph]), datatype=ox.NamedNode(XSD + "integer")), g),
        ]
    key = ox.NamedNode(str(RKG.searchKey))
    # Keys of imported labels stay beside the imports (left out of validation with them).
    imported = ox.NamedNode(IMPORT_SEARCH_KEYS)
    seen: set[tuple[ox.NamedNode | ox.BlankNode, str]] = set()
    for q in quads:
        if q.predicate.value in _LABELS and isinstance(q.object, ox.Literal):
            k = search_key(q.object.value)
            if (q.subject, k) not in seen:
                seen.add((q.subject, k))
                target = imported if q.graph_name.value.startswith(IMPORTS_GRAPHS) else g
                out.append(ox.Quad(q.subject, key, ox.Literal(k), target))
    return out


def build(root: Path, extra_data: Iterable[Path] = (), progress: Progress | None = None,
          imports: Path | None = None) -> BuildResult:
    """Parse every source into its named graph and add the build graph. Raises BuildError."""
    sources = discover(root, extra_data, imports)
    if not sources:
        raise BuildError(str(root), "no source files found (expected ontology/*.ttl and data/**/*.ttl)")
    quads: list[ox.Quad] = []
    counts: dict[str, int] = {}
    graphs: dict[str, Source] = {}
    for i, s in enumerate(sources, 1):
        if progress:
            progress(f"[{i}/{len(sources)}] {s.name}")
        part = parse_source(s)
        if s.path.suffix == ".nq":
            part = [q if isinstance(q.graph_name, ox.NamedNode) else ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(s.graph))
                    for q in part]
        for q in part:
            g = q.graph_name.value
            if graphs.setdefault(g, s) is not s:
                raise BuildError(s.name, f"graph <{g}> is also filled by {graphs[g].name}")
            counts[g] = counts.get(g, 0) + 1
        if not part:
            graphs[s.graph], counts[s.graph] = s, 0
        quads += part
    extra = _build_graph(graphs, counts, quads)
    for q in extra:
        counts[q.graph_name.value] = counts.get(q.graph_name.value, 0) + 1
    return BuildResult(quads + extra, sources, counts)


def write(result: BuildResult, out_dir: Path) -> list[Path]:
    """Write N-Quads, TriG and a union Turtle file; each appears whole or not at all."""
    out_dir.mkdir(parents=True, exist_ok=True)
    triples = _union_triples(result.quads)
    targets = [
        (NQUADS_NAME, lambda f: ox.serialize(result.quads, f, ox.RdfFormat.N_QUADS)),
        (TRIG_NAME, lambda f: ox.serialize(result.quads, f, ox.RdfFormat.TRIG, prefixes=PREFIXES)),
        (TURTLE_NAME, lambda f: ox.serialize(triples, f, ox.RdfFormat.TURTLE, prefixes=PREFIXES)),
        # Last, once rkg.nq is in place: what was built from, and what `rkg serve` reports without reloading.
        (MANIFEST_NAME, lambda f: f.write(json.dumps({
            "sources": _manifest(result.sources),
            "triples": len(triples),
            "digest": hashlib.sha256((out_dir / NQUADS_NAME).read_bytes()).hexdigest(),
        }, indent=1).encode())),
    ]
    written = []
    for name, dump in targets:
        with atomic_file(out_dir / name) as f:
            dump(f)
        written.append(out_dir / name)
    return written


def _union_triples(quads: list[ox.Quad]) -> list[ox.Triple]:
    seen: dict[ox.Triple, None] = {}
    for q in quads:
        seen.setdefault(ox.Triple(q.subject, q.predicate, q.object), None)
    return list(seen)


def _manifest(sources: list[Source]) -> dict[str, float]:
    return {s.name: s.path.stat().st_mtime for s in sources}


def read_manifest(out_dir: Path) -> dict:
    """``{"sources": {file: mtime}, "triples": union triple count, "digest": sha256 of rkg.nq}``."""
    return json.loads((out_dir / MANIFEST_NAME).read_text())


def is_stale(root: Path, out_dir: Path, extra_data: Iterable[Path] = ()) -> bool:
    """True when ``build/`` is missing, was built from other files, or a source (or an import) changed since."""
    try:
        recorded = read_manifest(out_dir)
        sources = discover(root, extra_data, out_dir / IMPORTS)
    except (OSError, ValueError, BuildError):
        return True
    return recorded.get("sources") != _manifest(sources) or not (out_dir / NQUADS_NAME).exists()
