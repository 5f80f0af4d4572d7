"""The one place the graph lives. Readers (validation, catalog, CLI, web) go through ``Store``.

``EmbeddedStore`` wraps pyoxigraph, in memory or on disk. The default graph seen by queries is the
union of all named graphs. A remote SPARQL 1.1 store can implement the same protocol later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox

from .bindings import bind
from .errors import InputError

Term = ox.NamedNode | ox.BlankNode | ox.Literal


@dataclass(frozen=True)
class Table:
    """A SELECT result: column names and rows of terms (``None`` where unbound)."""

    columns: list[str]
    rows: list[tuple[Term | None, ...]]

    def values(self) -> list[tuple[str | None, ...]]:
        """Rows as plain strings (IRI or lexical form), for printing and comparing."""
        return [tuple(None if t is None else t.value for t in row) for row in self.rows]


class QueryError(InputError):
    """A query the engine refuses (syntax error or unsupported feature)."""


class Store(Protocol):
    def select(self, query: str, bindings: Mapping[str, Term] | None = None) -> Table: ...
    def ask(self, query: str, bindings: Mapping[str, Term] | None = None) -> bool: ...
    def construct(self, query: str, bindings: Mapping[str, Term] | None = None) -> list[ox.Triple]: ...
    def graphs(self) -> dict[str, int]: ...
    def __len__(self) -> int: ...


class EmbeddedStore:
    """pyoxigraph store; ``path=None`` keeps it in memory."""

    def __init__(self, path: Path | None = None) -> None:
        self._store = ox.Store(str(path)) if path else ox.Store()

    @property
    def engine(self) -> ox.Store:
        """The pyoxigraph store underneath, for work done at Rust speed (graph lists, dumps, bulk loads)."""
        return self._store

    @classmethod
    def wrap(cls, store: ox.Store) -> "EmbeddedStore":
        """An existing pyoxigraph store (a sandbox's), read through this class."""
        out = cls.__new__(cls)
        out._store = store
        return out

    @classmethod
    def from_quads(cls, quads: Iterable[ox.Quad]) -> "EmbeddedStore":
        store = cls()
        store._store.extend(quads)
        return store

    @classmethod
    def from_nquads(cls, path: Path, location: Path | None = None) -> "EmbeddedStore":
        store = cls(location)
        store._store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
        return store

    def _run(self, query: str, bindings: Mapping[str, Term] | None):
        try:
            return self._store.query(bind(query, bindings or {}), use_default_graph_as_union=True)
        except (SyntaxError, ValueError, InputError) as e:  # InputError: from bind
            raise QueryError(str(e)) from None

    def select(self, query: str, bindings: Mapping[str, Term] | None = None) -> Table:
        result = self._run(query, bindings)
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("expected a SELECT query")
        columns = [v.value for v in result.variables]
        rows = [tuple(sol[c] for c in columns) for sol in result]
        return Table(columns, rows)

    def ask(self, query: str, bindings: Mapping[str, Term] | None = None) -> bool:
        result = self._run(query, bindings)
        if not isinstance(result, ox.QueryBoolean):
            raise QueryError("expected an ASK query")
        return bool(result)

    def construct(self, query: str, bindings: Mapping[str, Term] | None = None) -> list[ox.Triple]:
        result = self._run(query, bindings)
        if not isinstance(result, ox.QueryTriples):
            raise QueryError("expected a CONSTRUCT or DESCRIBE query")
        return list(result)

    def graphs(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for q in self._store:
            name = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
            counts[name] = counts.get(name, 0) + 1
        return counts

    def union_ntriples(self) -> bytes:
        """All triples of all graphs, deduplicated, as N-Triples (what validation and reasoning read)."""
        triples = self.construct("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
        return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""

    def without_graphs(self, prefix: str) -> "EmbeddedStore":
        """A copy in memory without the named graphs whose IRI starts with ``prefix`` (self when none does)."""
        if not any(g.startswith(prefix) for g in self.graphs()):
            return self
        return EmbeddedStore.from_quads(q for q in self._store
                                        if not (isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value.startswith(prefix)))

    def flush(self) -> None:
        """Write what is buffered to disk (on-disk stores)."""
        self._store.flush()

    def __len__(self) -> int:
        return len(self._store)
