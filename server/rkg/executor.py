"""Run SPARQL operations where they can be stopped: a pool of sandbox processes, each with its own store.

pyoxigraph has no timeout and cannot be interrupted from another thread. Each operation is therefore
sent to a sandbox process; if no answer comes within the time limit the process is killed (the client
gets 503) and a fresh one is started in the background, while the other sandboxes keep answering.

A sandbox opens the store it is told to: the built N-Quads file loaded in memory (each sandbox its own
copy), an on-disk store opened read-only, or, when writes are enabled, the on-disk store read-write
(then the pool has exactly one sandbox: RocksDB allows one writer).
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing as mp
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Protocol

import pyoxigraph as ox

from . import results
from .lexer import has_keyword


@dataclass(frozen=True)
class StoreSpec:
    mode: str
    """``memory`` (load ``path``, an N-Quads file), ``readonly`` or ``readwrite`` (open ``path``, a store folder)."""
    path: str
    shapes: str | None = None
    """Folder of SHACL shapes used to validate writes (readwrite mode)."""


@dataclass(frozen=True)
class QueryJob:
    text: str
    results_media: str | None
    graph_media: str | None
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    max_rows: int = 100_000
    base_iri: str | None = None
    """Relative IRIs of the query resolve against it (the endpoint's URL)."""


@dataclass(frozen=True)
class UpdateJob:
    text: str
    using_graphs: tuple[str, ...] | None = None
    using_named_graphs: tuple[str, ...] | None = None
    report_media: str = "application/json"
    """Format of the validation report when the update is refused (``application/json`` or ``text/turtle``)."""
    base_iri: str | None = None
    """Relative IRIs of the update resolve against it (the endpoint's URL)."""


@dataclass(frozen=True)
class GraphStoreJob:
    """One Graph Store protocol operation (``rkg.writes.graph_store``)."""

    method: str
    """``GET``, ``HEAD``, ``PUT``, ``POST`` or ``DELETE``."""
    graph: str | None
    """IRI of the graph, or None for the default graph."""
    media: str | None = None
    """GET: the format to answer in; PUT/POST: the format of ``body``."""
    body: bytes = b""
    base_iri: str | None = None
    report_media: str = "application/json"
    max_rows: int = 100_000


@dataclass(frozen=True)
class StatsJob:
    pass


@dataclass(frozen=True)
class ValidationJob:
    """SHACL shapes and QC queries on the sandbox's store; answers ``rkg validate --format json``."""

    shapes: str
    """Folder of SHACL shapes."""
    queries: str | None = None
    """Folder of named queries whose ``qc/`` queries run beside the shapes."""


@dataclass(frozen=True)
class Outcome:
    status: int
    media: str | None = None
    body: bytes = b""
    rows: int = 0
    truncated: bool = False
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Executor(Protocol):
    """What the web layer needs from a store: run one job within a time limit. ``Pool`` implements it
    with local sandbox processes; a remote SPARQL 1.1 store can implement it with HTTP requests, without
    touching the HTTP layer."""

    def run(self, job: object, timeout: float) -> Outcome: ...

    def close(self) -> None: ...


log = logging.getLogger("rkg.executor")


class Timeout(Exception):
    """The operation ran past the time limit; its sandbox was killed."""


class Busy(Exception):
    """No sandbox became free within the time limit."""


# ---------------------------------------------------------------- inside a sandbox


def open_store(spec: StoreSpec) -> ox.Store:
    if spec.mode == "memory":
        store = ox.Store()
        store.bulk_load(path=spec.path, format=ox.RdfFormat.N_QUADS)
        return store
    if spec.mode == "readonly":
        return ox.Store.read_only(spec.path)
    return ox.Store(spec.path)


def run_query(store: ox.Store, job: QueryJob) -> Outcome:
    kwargs: dict[str, Any] = {"base_iri": job.base_iri}
    if job.default_graphs is not None:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs] or ox.DefaultGraph()
    elif job.named_graphs is not None:
        kwargs["default_graph"] = ox.DefaultGraph()
    elif not has_keyword(job.text, "FROM"):
        # The union default graph, unless the query names its own dataset (FROM / FROM NAMED), which
        # pyoxigraph would otherwise replace by the union.
        kwargs["use_default_graph_as_union"] = True
    if job.named_graphs is not None:
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    try:
        answer = store.query(job.text, **kwargs)
    except SyntaxError as e:
        return Outcome(400, message=f"SPARQL syntax error: {e}")
    if isinstance(answer, ox.QuerySolutions):
        if job.results_media is None:
            return Outcome(406, message="no acceptable format for SELECT results")
        if job.results_media == "application/sparql-results+json":
            body = _native_json(answer, job.max_rows)
            if body is not None:
                return Outcome(200, job.results_media, body, -1)  # rows not counted: not worth a re-parse
            answer = store.query(job.text, **kwargs)  # too large to be sure it is under the cap: run again, capped
        variables = [v.value for v in answer.variables]
        rows = [tuple(sol[v] for v in variables) for sol in itertools.islice(answer, job.max_rows + 1)]
        truncated = len(rows) > job.max_rows
        rows = rows[: job.max_rows]
        body = results.SELECT_WRITERS[job.results_media](variables, rows)
        return Outcome(200, job.results_media, body, len(rows), truncated)
    if isinstance(answer, ox.QueryBoolean):
        if job.results_media is None:
            return Outcome(406, message="no acceptable format for an ASK result")
        return Outcome(200, job.results_media, results.boolean(bool(answer), job.results_media), 1)
    if job.graph_media is None:
        return Outcome(406, message="no acceptable RDF format for CONSTRUCT/DESCRIBE results")
    triples = list(itertools.islice(answer, job.max_rows + 1))
    truncated = len(triples) > job.max_rows
    triples = triples[: job.max_rows]
    return Outcome(200, job.graph_media, results.graph(triples, job.graph_media), len(triples), truncated)


class _Full(Exception):
    pass


class _CappedBuffer:
    """A file for pyoxigraph's serializer that refuses to grow past ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit, self.size, self.parts = limit, 0, []

    def write(self, data) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise _Full()
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def _native_json(answer: ox.QuerySolutions, max_rows: int) -> bytes | None:
    """SPARQL JSON results written by pyoxigraph (about 1.5x faster than building Python terms), or None
    when the text would pass ``3 * max_rows`` bytes: every row takes at least 3 bytes (``{},``), so a
    shorter document has no more than ``max_rows`` rows and needs no cut."""
    out = _CappedBuffer(3 * max_rows)
    try:
        answer.serialize(out, ox.QueryResultsFormat.JSON)
    except _Full:
        return None
    return b"".join(out.parts)


def run_stats(store: ox.Store) -> Outcome:
    counts: dict[str, int] = {}
    for row in store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"):
        counts[row["g"].value] = int(row["n"].value)
    default = sum(1 for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    union = next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", use_default_graph_as_union=True)))["n"]
    return Outcome(200, extra={"graphs": counts, "default": default, "quads": len(store), "triples": int(union.value)})


def run_validation(store: ox.Store, job: ValidationJob) -> Outcome:
    from pathlib import Path

    from .catalog import Catalog
    from .store import EmbeddedStore
    from .validation import load_shapes, render_json, validate

    catalog = Catalog.from_folder(Path(job.queries)) if job.queries else Catalog(Path("."))
    report, _ = validate(EmbeddedStore.wrap(store), load_shapes(Path(job.shapes)), catalog)
    return Outcome(200, "application/json", render_json(report).encode())


def _serve(conn: Connection, spec: StoreSpec) -> None:
    try:
        store = open_store(spec)
    except Exception as e:  # report instead of dying silently
        conn.send(("failed", f"{type(e).__name__}: {e}"))
        return
    conn.send(("ready", None))
    update: Callable[[ox.Store, UpdateJob], Outcome] | None = None
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if isinstance(job, QueryJob):
                out = run_query(store, job)
            elif isinstance(job, UpdateJob):
                if update is None:
                    from .writes import apply_update

                    update = lambda s, j: apply_update(s, j, spec)  # noqa: E731
                out = update(store, job)
            elif isinstance(job, GraphStoreJob):
                from .writes import graph_store

                out = graph_store(store, job, spec)
            elif isinstance(job, StatsJob):
                out = run_stats(store)
            elif isinstance(job, ValidationJob):
                out = run_validation(store, job)
            else:
                out = Outcome(500, message=f"unknown job {type(job).__name__}")
        except Exception as e:  # an engine error is the client's answer, not the sandbox's death
            out = Outcome(500, message=f"{type(e).__name__}: {e}")
        conn.send(out)


# ---------------------------------------------------------------- one-off work in a child process


def create_store(location: str, nquads: str) -> int:
    """Create an on-disk store from a built N-Quads file; returns its quad count."""
    store = ox.Store(location)
    store.bulk_load(path=nquads, format=ox.RdfFormat.N_QUADS)
    store.flush()
    return len(store)


def count_triples(spec: StoreSpec) -> int:
    """Triples in the union of the store's graphs."""
    store = open_store(StoreSpec("readonly" if spec.mode == "readwrite" else spec.mode, spec.path))
    row = next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", use_default_graph_as_union=True)))
    return int(row["n"].value)


def _isolated(conn: Connection, target: Callable[..., Any], args: tuple) -> None:
    try:
        conn.send((True, target(*args)))
    except Exception as e:
        conn.send((False, f"{type(e).__name__}: {e}"))


def run_isolated(target: Callable[..., Any], *args: Any, timeout: float = 3600) -> Any:
    """Run ``target(*args)`` in a spawned process. The web server's master must never open RocksDB itself:
    a process forked after that crashes when it exits."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_isolated, args=(child, target, args), name="rkg-oneoff")
    process.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise RuntimeError(f"{target.__name__} did not finish within {timeout} s")
        ok, value = parent.recv()
    finally:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
        parent.close()
    if not ok:
        raise RuntimeError(value)
    return value


# ---------------------------------------------------------------- in the web process


class Sandbox:
    def __init__(self, spec: StoreSpec, start_timeout: float) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, spec), daemon=True, name="rkg-sandbox")
        self.process.start()
        child.close()
        try:
            if not self.conn.poll(start_timeout):
                raise RuntimeError(f"sandbox did not open the store within {start_timeout} s")
            status, detail = self.conn.recv()
        except (EOFError, OSError) as e:  # the child died before saying anything
            self.kill()
            raise RuntimeError(f"sandbox could not open the store: it ended ({type(e).__name__})") from None
        except RuntimeError:
            self.kill()
            raise
        if status != "ready":
            self.kill()
            raise RuntimeError(f"sandbox could not open the store: {detail}")

    def run(self, job: object, timeout: float) -> Outcome:
        self.conn.send(job)
        if not self.conn.poll(timeout):
            raise Timeout()
        return self.conn.recv()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class Pool:
    """``size`` sandboxes; ``run`` borrows one, gives it back, or replaces it after a timeout."""

    def __init__(self, spec: StoreSpec, size: int, start_timeout: float = 600.0) -> None:
        self.spec, self.size, self.start_timeout = spec, size, start_timeout
        self._idle: queue.Queue[Sandbox] = queue.Queue()
        self._all: set[Sandbox] = set()
        self._lock = threading.Lock()
        self._closed = False
        try:
            for _ in range(size):
                self._add(Sandbox(spec, start_timeout))
        except RuntimeError:
            self.close()  # no half-started pool left behind
            raise

    def _add(self, sandbox: Sandbox) -> None:
        with self._lock:
            if self._closed:
                sandbox.kill()
                return
            self._all.add(sandbox)
        self._idle.put(sandbox)

    def _replace(self, dead: Sandbox) -> None:
        with self._lock:
            self._all.discard(dead)

        def start() -> None:
            delay = 0.5
            while not self._closed:  # a slot is never given up: without it every request would wait
                try:
                    self._add(Sandbox(self.spec, self.start_timeout))
                    return
                except RuntimeError as e:
                    if self._closed:
                        return
                    log.error("could not restart a query process (retrying in %.0f s): %s", delay, e)
                    time.sleep(delay)
                    delay = min(delay * 2, 30.0)

        threading.Thread(target=start, daemon=True, name="rkg-sandbox-restart").start()

    def run(self, job: object, timeout: float) -> Outcome:
        deadline = time.monotonic() + timeout
        try:
            sandbox = self._idle.get(timeout=timeout)
        except queue.Empty:
            raise Busy() from None
        try:
            out = sandbox.run(job, max(0.01, deadline - time.monotonic()))
        except Timeout:
            sandbox.kill()
            self._replace(sandbox)
            raise
        except (EOFError, OSError, BrokenPipeError):
            sandbox.kill()
            self._replace(sandbox)
            return Outcome(500, message="the query process ended unexpectedly")
        self._idle.put(sandbox)
        return out

    def close(self) -> None:
        with self._lock:
            self._closed = True
            sandboxes = list(self._all)
            self._all.clear()
        for s in sandboxes:
            s.kill()
