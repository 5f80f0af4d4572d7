"""Run SPARQL operations where they can be stopped: a pool of sandbox processes, each with its own store.

pyoxigraph has no timeout and cannot be interrupted from another thread. Each operation is therefore
sent to a sandbox process; if no answer comes within the time limit the process is killed (the client
gets 503) and a fresh one is started in the background, while the other sandboxes keep answering.

A sandbox opens the store it is told to: the built N-Quads file loaded in memory (each sandbox its own
copy), an on-disk store opened read-only, or, when writes are enabled, the on-disk store read-write
(then that pool has exactly one sandbox: RocksDB allows one writer) and, for reads, the latest read-only
snapshot the writer made (``snapshot`` mode), so that no read ever holds up a write.

Every sandbox first closes its own network (``rkg.isolation``: seccomp), unless its spec says
``network=True`` (the federation sandbox, or ``--insecure-network``), then runs its jobs on a thread
with a large stack, so that a deeply nested operation that got past the depth check still cannot
overflow the engine's recursive parser. A sandbox that dies is logged with its exit signal and the
request id, and replaced.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

import pyoxigraph as ox

from . import formats, results
from .guard import QueryFacts, query_facts
from .errors import RkgError, SetupError
from .jobs import (Busy, GraphStoreJob, GuardJob, Kind, Outcome, QueryJob, ShapeJob, StatsJob, StoreSpec,  # noqa: F401
                   Timeout, UpdateJob, ValidationJob, engine_error)

STACK_BYTES = 64 * 1024 * 1024
"""Stack of the thread that runs jobs in a sandbox (8 MiB, the main thread's, overflows at about 5,000
nested groups in Oxigraph's parser; this one about 8 times deeper, far past the depth check)."""
SNAPSHOT_GRACE = 120.0
"""Seconds a superseded read snapshot is kept for the queries still reading it."""

log = logging.getLogger("rkg.executor")


# ---------------------------------------------------------------- inside a sandbox


def open_store(spec: StoreSpec) -> ox.Store:
    if spec.mode == "memory":
        store = ox.Store()
        store.bulk_load(path=spec.path, format=ox.RdfFormat.N_QUADS)
        return store
    if spec.mode == "readonly":
        return ox.Store.read_only(spec.path)
    if spec.mode == "snapshot":
        return ox.Store.read_only(str(current_snapshot(spec.path)))
    return ox.Store(spec.path)


def snapshots_folder(location: str) -> str:
    """Where the read snapshots of the store at ``location`` live: a sibling folder (hard links need the
    same file system)."""
    return location.rstrip("/") + ".snapshots"


def current_snapshot(location: str):
    """The folder of the latest snapshot of ``location`` (named in the ``CURRENT`` file)."""
    from pathlib import Path

    root = Path(snapshots_folder(location))
    return root / (root / "CURRENT").read_text(encoding="utf-8").strip()


def make_snapshot(store: ox.Store, location: str, superseded: dict[str, float]) -> str:
    """A read-only checkpoint of ``store`` (RocksDB hard links: cheap), made current atomically; snapshots
    superseded more than SNAPSHOT_GRACE seconds ago are removed. Returns the new snapshot's name."""
    import shutil
    from pathlib import Path

    root = Path(snapshots_folder(location))
    root.mkdir(exist_ok=True)
    name = f"{time.time_ns():x}"
    store.flush()
    store.backup(str(root / name))
    current = root / "CURRENT"
    old = current.read_text(encoding="utf-8").strip() if current.exists() else None
    tmp = root / "CURRENT.tmp"
    tmp.write_text(name, encoding="utf-8")
    os.replace(tmp, current)
    now = time.monotonic()
    if old:
        superseded.setdefault(old, now)
    for entry in root.iterdir():
        if entry.name in (name, "CURRENT") or not entry.is_dir():
            continue
        since = superseded.setdefault(entry.name, now if entry.name == old else now - SNAPSHOT_GRACE - 1)
        if now - since > SNAPSHOT_GRACE:
            shutil.rmtree(entry, ignore_errors=True)
            superseded.pop(entry.name, None)
    return name


_FACTS: dict[bytes, QueryFacts] = {}
"""Facts of the query texts this sandbox has parsed, by a hash of the text (a few hundred at most)."""


def facts_of(text: str) -> QueryFacts:
    """``guard.query_facts``, remembered per text in this process: a text without any of its trigger
    letters costs nothing, and one with them is parsed once."""
    import hashlib

    key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    hit = _FACTS.get(key)
    if hit is None:
        hit = _FACTS[key] = query_facts(text)
        if len(_FACTS) > 512:
            _FACTS.pop(next(iter(_FACTS)))
    return hit


def query_kwargs(job: QueryJob, facts: QueryFacts) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"base_iri": job.base_iri}
    if job.default_graphs is not None:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs] or ox.DefaultGraph()
    elif job.named_graphs is not None:
        kwargs["default_graph"] = ox.DefaultGraph()
    elif not facts.dataset:
        # The union default graph, unless the query names its own dataset (FROM / FROM NAMED, read from
        # its parse), which pyoxigraph would otherwise replace by the union.
        kwargs["use_default_graph_as_union"] = True
    if job.named_graphs is not None:
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    return kwargs


def _term_bytes(term: object) -> int:
    return 0 if term is None else len(getattr(term, "value", "")) + 8


def _capped(items: Iterator, max_rows: int, max_bytes: int, size: Callable[[Any], int]) -> tuple[list, str]:
    """Up to ``max_rows`` items whose estimated size stays under ``max_bytes``; the reason when cut."""
    out, total = [], 0
    for item in items:
        if len(out) >= max_rows:
            return out, f"results cut at {max_rows} rows"
        total += size(item)
        if total > max_bytes:
            return out, f"results cut at {max_bytes} bytes"
        out.append(item)
    return out, ""


def _fit(items: list, write: Callable[[list], bytes], max_bytes: int, cut: str) -> tuple[bytes, list, str]:
    """``write(items)``, shortened until the body is at most ``max_bytes`` (escaping can make the text
    longer than the estimate)."""
    body = write(items)
    while len(body) > max_bytes and items:
        items = items[: max(0, min(len(items) - 1, int(len(items) * max_bytes / len(body) * 0.9)))]
        body = write(items)
        cut = f"results cut at {max_bytes} bytes"
    return body, items, cut


def run_query(store: ox.Store, job: QueryJob) -> Outcome:
    """The answer, with ``extra["deterministic"]`` telling the web layer whether it may be cached."""
    facts = facts_of(job.shape_of or job.text)  # a named question: its catalogue text's (QueryJob.shape_of)
    kwargs = query_kwargs(job, facts)
    try:
        answer = store.query(job.text, **kwargs)
    except SyntaxError as e:
        return Outcome(Kind.BAD_INPUT, message=f"SPARQL syntax error: {e}")
    except Exception as e:  # raised while planning: an unknown function, a bad dataset…
        return engine_error(e)
    try:
        out = _answer(store, job, kwargs, answer)
    except Exception as e:  # evaluation is lazy: errors come while reading the answer
        return engine_error(e)
    out.extra["deterministic"] = facts.deterministic
    return out


def _answer(store: ox.Store, job: QueryJob, kwargs: dict[str, Any], answer: Any) -> Outcome:
    if isinstance(answer, ox.QuerySolutions):
        if job.results_media is None:
            return Outcome(Kind.NO_FORMAT, message="no acceptable format for SELECT results")
        native = formats.BY_MEDIA[job.results_media].results
        body = _native(answer, native, min(MIN_ROW_BYTES[job.results_media] * job.max_rows, job.max_bytes))
        if body is not None:
            return Outcome(Kind.ANSWER, job.results_media, body, -1)  # rows not counted: not worth a re-parse
        answer = store.query(job.text, **kwargs)  # too large to be sure it is under the caps: run again, capped
        variables = [v.value for v in answer.variables]
        rows, cut = _capped((tuple(sol[v] for v in variables) for sol in answer), job.max_rows, job.max_bytes,
                            lambda row: sum(map(_term_bytes, row)) + 4)
        writer = results.SELECT_WRITERS[job.results_media]
        body, rows, cut = _fit(rows, lambda r: writer(variables, r), job.max_bytes, cut)
        return Outcome(Kind.ANSWER, job.results_media, body, len(rows), bool(cut), cut)
    if isinstance(answer, ox.QueryBoolean):
        if job.results_media is None:
            return Outcome(Kind.NO_FORMAT, message="no acceptable format for an ASK result")
        native = formats.BY_MEDIA[job.results_media].results
        if native in (ox.QueryResultsFormat.JSON, ox.QueryResultsFormat.XML):
            return Outcome(Kind.ANSWER, job.results_media, answer.serialize(format=native) or b"", 1)
        return Outcome(Kind.ANSWER, job.results_media, results.boolean(bool(answer), job.results_media), 1)  # see there
    if job.graph_media is None:
        return Outcome(Kind.NO_FORMAT, message="no acceptable RDF format for CONSTRUCT/DESCRIBE results")
    triples, cut = _capped(iter(answer), job.max_rows, job.max_bytes,
                           lambda t: _term_bytes(t.subject) + _term_bytes(t.predicate) + _term_bytes(t.object))
    media = job.graph_media
    body, triples, cut = _fit(triples, lambda t: results.graph(t, media), job.max_bytes, cut)
    return Outcome(Kind.ANSWER, media, body, len(triples), bool(cut), cut)


class _Full(RkgError):
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


MIN_ROW_BYTES = {formats.SPARQL_JSON: 3, formats.SPARQL_XML: 17, formats.SPARQL_CSV: 2, formats.SPARQL_TSV: 1}
"""Fewest bytes a row takes in each results format: ``{},``, ``<result></result>``, ``\\r\\n``, ``\\n``."""


def _native(answer: ox.QuerySolutions, fmt: ox.QueryResultsFormat, limit: int) -> bytes | None:
    """SELECT results written by pyoxigraph (exact, and about 1.5x faster than building Python terms), or
    None when the text would pass ``limit`` bytes, ``min(MIN_ROW_BYTES * max_rows, max_bytes)``: every row
    takes at least that many bytes, so a shorter document has no more than ``max_rows`` rows and needs no cut."""
    out = _CappedBuffer(limit)
    try:
        answer.serialize(out, fmt)
    except _Full:
        return None
    return b"".join(out.parts)


def run_stats(store: ox.Store) -> Outcome:
    counts: dict[str, int] = {}
    for row in store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"):
        counts[row["g"].value] = int(row["n"].value)
    default = sum(1 for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    union = next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", use_default_graph_as_union=True)))["n"]
    return Outcome(Kind.ANSWER, extra={"graphs": counts, "default": default, "quads": len(store), "triples": int(union.value)})


def run_validation(store: ox.Store, job: ValidationJob) -> Outcome:
    from pathlib import Path

    from .catalog import Catalog
    from .store import EmbeddedStore
    from .validation import load_shapes, render_json, validate

    catalog = Catalog.from_folder(Path(job.queries)) if job.queries else Catalog(Path("."))
    sources, root = None, None
    if job.root is not None:  # where each finding was written: the files as they are now
        from .build import discover

        root = Path(job.root)
        sources = discover(root, (), Path(job.imports) if job.imports else None)
    report, _ = validate(EmbeddedStore.wrap(store), load_shapes(Path(job.shapes)), catalog, sources=sources, root=root)
    return Outcome(Kind.ANSWER, formats.JSON.media, render_json(report).encode())


def _limit_memory(spec: StoreSpec) -> None:
    if spec.memory_bytes > 0:
        import resource

        resource.setrlimit(resource.RLIMIT_DATA, (spec.memory_bytes, spec.memory_bytes))


def _serve(conn: Connection, spec: StoreSpec) -> None:
    try:
        if not spec.network:
            from .isolation import deny_network

            deny_network()
        _limit_memory(spec)
        store = open_store(spec)
    except Exception as e:  # report instead of dying silently
        conn.send(("failed", f"{type(e).__name__}: {e}"))
        return
    sys.setrecursionlimit(20_000)  # rdflib's parser (the federation check) needs many frames per level
    threading.stack_size(STACK_BYTES)
    worker = threading.Thread(target=_loop, args=(conn, spec, store), name="rkg-sandbox-jobs")
    worker.start()
    worker.join()


def _loop(conn: Connection, spec: StoreSpec, store: ox.Store) -> None:
    conn.send(("ready", None))
    update: Callable[[ox.Store, UpdateJob], Outcome] | None = None
    snapshot = str(current_snapshot(spec.path)) if spec.mode == "snapshot" else ""
    superseded: dict[str, float] = {}
    if spec.mode == "readwrite":
        from pathlib import Path

        if not (Path(snapshots_folder(spec.path)) / "CURRENT").exists():
            make_snapshot(store, spec.path, superseded)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if spec.mode == "snapshot":
                latest = str(current_snapshot(spec.path))
                if latest != snapshot:  # a write made a newer snapshot: read that one from now on
                    del store
                    store = ox.Store.read_only(latest)
                    snapshot = latest
            if isinstance(job, QueryJob):
                out = run_query(store, job)
            elif isinstance(job, ShapeJob):
                out = run_shape(job)
            elif isinstance(job, GuardJob):
                out = run_guard(job)
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
                out = Outcome(Kind.FAILED, message=f"unknown job {type(job).__name__}")
        except MemoryError:
            out = Outcome(Kind.TOO_COSTLY, message="the operation needed more memory than a query process may use "
                                       "(--sandbox-memory); nothing was applied", extra={"retire": True})
        except Exception as e:  # an engine error is the client's answer, not the sandbox's death
            out = Outcome(Kind.FAILED, message=f"{type(e).__name__}: {e}")
        except BaseException as e:  # a Rust panic (pyo3's PanicException is a BaseException): an engine defect
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            first = (str(e).splitlines() or [""])[0][:200]
            out = Outcome(Kind.TOO_COSTLY, message=f"the engine failed on this operation (an internal error of Oxigraph: "
                                       f"{first}); it was not applied", extra={"retire": True})
        if spec.mode == "readwrite" and out.done and out.changed:
            try:  # the write is committed whatever happens here; readers keep the older snapshot meanwhile
                make_snapshot(store, spec.path, superseded)
            except Exception as e:
                log.error("could not make a read snapshot after a write: %s: %s", type(e).__name__, e)
        conn.send(out)


def run_shape(job: ShapeJob) -> Outcome:
    from . import guard

    try:
        shape = guard.query_shape(job.text)  # one rdflib parse: form, dataset and determinism
    except guard.Unreadable as e:
        return Outcome(Kind.BAD_INPUT, message=str(e))
    return Outcome(Kind.ANSWER, extra={"dataset": shape.facts.dataset, "deterministic": shape.facts.deterministic,
                                       "form": shape.form, "relative": shape.relative})


def run_guard(job: GuardJob) -> Outcome:
    from . import guard

    try:
        network = guard.check(job.text, job.update, job.allow, job.base_iri)
    except guard.Forbidden as e:
        return Outcome(Kind.REFUSED, message=str(e))
    except guard.Unreadable as e:
        return Outcome(Kind.BAD_INPUT, message=str(e))
    return Outcome(Kind.ANSWER, extra={"network": network})


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
            raise SetupError(f"{target.__name__} did not finish within {timeout} s")
        ok, value = parent.recv()
    finally:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
        parent.close()
    if not ok:
        raise SetupError(f"{target.__name__} failed in its process: {value}")
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
            raise Timeout(f"the operation ran longer than the time limit of {timeout:g} s and was stopped "
                          "(a write is applied completely or not at all); retry later, or ask for less")
        return self.conn.recv()

    def ended(self) -> str:
        """How the process ended (after a broken pipe): its signal or exit code."""
        self.process.join(2)
        code = self.process.exitcode
        if code is None:
            return "still running"
        if code < 0:
            try:
                return f"killed by signal {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exited with code {code}"

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class OneShot:
    """Where the service's own jobs run (StatsJob, ValidationJob): each in a process of its own, started for
    it and ended after it, under the limit the caller gives (never the clients' time limit). Stopping one
    never kills a process that answers clients, and none stays running between jobs."""

    def __init__(self, spec: StoreSpec, start_timeout: float = 600.0) -> None:
        self.spec, self.start_timeout = spec, start_timeout
        self._running: set[Sandbox] = set()
        self._lock = threading.Lock()
        self._closed = False

    def run(self, job: object, timeout: float, wait: float | None = None, request_id: str = "-") -> Outcome:
        if self._closed:
            raise Busy("the service is shutting down; retry later")
        try:
            sandbox = Sandbox(self.spec, self.start_timeout)
        except RuntimeError as e:
            return Outcome(Kind.FAILED, message=str(e))
        with self._lock:
            self._running.add(sandbox)
        try:
            return sandbox.run(job, timeout)
        except (EOFError, OSError) as e:
            return Outcome(Kind.FAILED, message=f"the internal process ended ({sandbox.ended()}; {type(e).__name__})")
        finally:
            with self._lock:
                self._running.discard(sandbox)
            sandbox.kill()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            running = list(self._running)
        for s in running:
            s.kill()


class Pool:
    """``size`` sandboxes; ``run`` borrows one, gives it back, or replaces it after a timeout or a crash.

    With ``spare``, one more sandbox is kept started and idle: a killed sandbox is replaced by it at
    once (a new spare starts in the background), so that a runaway query stopped at the time limit does
    not leave the pool a process short while its replacement opens the store. Not for the writer (RocksDB
    has one read-write opener)."""

    def __init__(self, spec: StoreSpec, size: int, start_timeout: float = 600.0, spare: bool = False) -> None:
        self.spec, self.size, self.start_timeout = spec, size, start_timeout
        self._idle: queue.Queue[Sandbox] = queue.Queue()
        self._all: set[Sandbox] = set()
        self._spare: Sandbox | None = None
        self._wants_spare = spare and spec.mode != "readwrite"
        self._lock = threading.Lock()
        self._closed = False
        try:
            for _ in range(size):
                self._add(Sandbox(spec, start_timeout))
            if self._wants_spare:
                self._spare = Sandbox(spec, start_timeout)
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
            spare, self._spare = self._spare, None
        if spare is not None:
            self._add(spare)  # the slot is filled at once; a new spare is started below

        def start() -> None:
            delay = 0.5
            while not self._closed:  # a slot is never given up: without it every request would wait
                try:
                    sandbox = Sandbox(self.spec, self.start_timeout)
                except RuntimeError as e:
                    if self._closed:
                        return
                    log.error("could not restart a query process (retrying in %.0f s): %s", delay, e)
                    time.sleep(delay)
                    delay = min(delay * 2, 30.0)
                    continue
                if spare is None:
                    self._add(sandbox)
                    return
                with self._lock:
                    if not self._closed and self._spare is None:
                        self._spare = sandbox
                        return
                sandbox.kill()  # closed meanwhile, or another restart refilled the spare
                return

        threading.Thread(target=start, daemon=True, name="rkg-sandbox-restart").start()

    def run(self, job: object, timeout: float, wait: float | None = None, request_id: str = "-") -> Outcome:
        """Run ``job`` on a free sandbox: wait at most ``wait`` seconds for one (Busy after that; default:
        ``timeout``), then give it the whole ``timeout`` to run (Timeout: the sandbox is killed)."""
        try:
            sandbox = self._idle.get(timeout=timeout if wait is None else wait)
        except queue.Empty:
            raise Busy(f"every query process stayed busy for {timeout if wait is None else wait:g} s; "
                       "retry later") from None
        try:
            out = sandbox.run(job, timeout)
        except Timeout:
            log.warning("request %s: %s stopped after the time limit of %g s; its process is replaced",
                        request_id, type(job).__name__, timeout)
            sandbox.kill()
            self._replace(sandbox)
            raise
        except (EOFError, OSError, BrokenPipeError):
            how = sandbox.ended()
            log.error("request %s: the query process %s %s during a %s; it is replaced", request_id,
                      sandbox.process.pid, how, type(job).__name__)
            sandbox.kill()
            self._replace(sandbox)
            if self._closed or sandbox.process.exitcode in (-signal.SIGTERM, -signal.SIGKILL, -signal.SIGINT):
                # stopped from outside (the server shutting down, an operator): not the operation's fault
                raise Busy("the query process was stopped from outside (the service may be shutting down); "
                           "retry later") from None
            if isinstance(job, (QueryJob, UpdateJob, GraphStoreJob, GuardJob, ShapeJob)):
                # The engine died on the client's operation (Oxigraph 0.5 aborts on some ORDER BY sorts): the
                # same request would kill the next process too, so it is answered as unprocessable.
                why = (" — the engine failed, or the operation needed more memory than a query process may use"
                       if sandbox.process.exitcode == -signal.SIGABRT else "")
                return Outcome(Kind.TOO_COSTLY, message=f"the engine stopped on this operation ({how}{why}); nothing was "
                                            f"applied; request id {request_id}")
            return Outcome(Kind.FAILED, message=f"the query process ended unexpectedly ({how}); request {request_id}")
        if out.extra.get("retire"):  # the engine panicked in it: replace it rather than trust its state
            log.error("request %s: the engine panicked in query process %s; it is replaced: %s", request_id,
                      sandbox.process.pid, out.message)
            sandbox.kill()
            self._replace(sandbox)
            return out
        self._idle.put(sandbox)
        return out

    def close(self) -> None:
        with self._lock:
            self._closed = True
            sandboxes = list(self._all) + ([self._spare] if self._spare is not None else [])
            self._all.clear()
            self._spare = None
        for s in sandboxes:
            s.kill()
