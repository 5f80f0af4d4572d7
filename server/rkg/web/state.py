"""What one app instance holds: its sandbox pool, its result cache and the store's version.

Created by ``create_app``; nothing here is module-global. The pool starts on first use, after the web
server has forked its workers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from .. import guard
from ..errors import NotFound, Refused
from ..executor import OneShot, Pool
from ..jobs import (Executor, GraphStoreJob, GuardJob, Kind, Outcome, ShapeJob, StatsJob, StoreSpec, UpdateJob,
                   ValidationJob)
from .config import Config
from .errors import TooManyRequests, from_outcome

SHARED_STORE_MIN_QUADS = 200_000
"""From this many quads (the build's manifest says), the read pool opens the build's on-disk store
(``build/store``) read-only in every query process instead of loading ``rkg.nq`` into each one's memory.
Measured (README, "Serving memory"): at the bundled size a query on the in-memory copy takes about 2/3 of
the time it takes on read-only RocksDB (unique queries: 688 against 469 req/s), and a copy is small; from a
few hundred thousand quads the copies (one per query process, 6 with the defaults) cost more memory than
the machine should give, and loading them delays the start."""
log = logging.getLogger("rkg.web")

REMEMBERED = 1024
"""Texts whose reading (``EndpointState.shape``) or passed check (``EndpointState.check``) each process remembers."""
INTERNAL_TIME_LIMIT = 3600.0
"""Seconds a StatsJob may take in the internal process (never the clients' time limit)."""


@dataclass(frozen=True)
class Cached:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    etag: str

    @classmethod
    def answer(cls, body: bytes, content_type: str, truncated: str | None = None) -> "Cached":
        """A 200 answer with its ETag (a hash of the body) and the caching headers every read shares."""
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        headers = [("Content-Type", content_type), ("ETag", etag), ("Vary", "Accept"), ("Cache-Control", "no-cache")]
        if truncated:
            headers.append(("X-RKG-Truncated", truncated))
        return cls(200, tuple(headers), body, etag)


def cache_key(*parts: object) -> bytes:
    """A fixed-size key for a request's meaning: the query text (up to the request size limit) is hashed,
    not kept."""
    h = hashlib.blake2b(digest_size=20)
    for p in parts:
        data = p if isinstance(p, bytes) else repr(p).encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.digest()


class Memo:
    """The last ``size`` values put, by ``cache_key`` of their parts, the oldest forgotten first; for what a
    text is (its reading, its check), which no write changes."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self.size = size
        self._data: dict[bytes, object] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, *parts: object) -> object | None:
        return self._data.get(cache_key(*parts))

    def put(self, value: object, *parts: object) -> None:
        with self._lock:
            self._data[cache_key(*parts)] = value
            while len(self._data) > self.size:
                self._data.pop(next(iter(self._data)))


class ResultCache:
    """LRU of responses keyed on a hash of the store version and the full request meaning, bounded in
    entries and in bytes; dropped on every write."""

    OVERHEAD = 512
    """Bytes counted per entry besides its body (key, headers, bookkeeping)."""

    def __init__(self, entries: int, max_body: int, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.entries, self.max_body, self.max_bytes = entries, max_body, max_bytes
        self._data: OrderedDict[bytes, Cached] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """Bytes held (bodies plus a fixed overhead per entry)."""
        return self._bytes

    def get(self, key: tuple) -> Cached | None:
        k = cache_key(*key)
        with self._lock:
            hit = self._data.get(k)
            key = k
            if hit is not None:
                self._data.move_to_end(key)
            return hit

    def put(self, key: tuple, value: Cached) -> None:
        cost = len(value.body) + self.OVERHEAD
        if self.entries <= 0 or len(value.body) > self.max_body or cost > self.max_bytes:
            return
        key = cache_key(*key)  # type: ignore[assignment]
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body) + self.OVERHEAD
            self._data[key] = value
            self._bytes += cost
            while len(self._data) > self.entries or self._bytes > self.max_bytes:
                _, dropped = self._data.popitem(last=False)
                self._bytes -= len(dropped.body) + self.OVERHEAD

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0


class ClientSlots:
    """How many operations each client has running in this worker, so that one client cannot take every
    query process. ``acquire`` may wait for one of the client's own operations to end; the server calls
    it with no wait (429 at once), since a waiting request would hold one of the worker's threads."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._running: dict[str, int] = {}
        self._cond = threading.Condition()

    def acquire(self, client: str, wait: float) -> None:
        deadline = time.monotonic() + wait
        with self._cond:
            while self._running.get(client, 0) >= self.limit:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TooManyRequests(f"this client already has {self.limit} operation(s) running; "
                                          "retry when one has ended")
                self._cond.wait(left)
            self._running[client] = self._running.get(client, 0) + 1

    def release(self, client: str) -> None:
        with self._cond:
            n = self._running.get(client, 0) - 1
            if n > 0:
                self._running[client] = n
            else:
                self._running.pop(client, None)
            self._cond.notify_all()


def client_address(environ: dict, trusted: frozenset[str]) -> str:
    """The client of a request: its remote address, or, when that is a trusted proxy, the right-most
    address of ``X-Forwarded-For`` that is not itself a trusted proxy."""
    remote = environ.get("REMOTE_ADDR") or "-"
    if remote not in trusted:
        return remote
    forwarded = [a.strip() for a in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    for address in reversed(forwarded):
        if address not in trusted:
            return address[:64]
    return remote


class EndpointState:
    """The pools of one app instance:

    * ``pool``: read-only work (queries, guard checks, stats, validation). Memory mode: each sandbox its
      own copy; ``--location``: the store opened read-only; with writes enabled: the latest snapshot the
      writer made, so that a runaway read never blocks a write.
    * ``writer`` (writes enabled): the one sandbox that owns the store read-write.
    * ``federation`` (an allow-list is configured): one sandbox whose network is open, which only gets
      queries whose SERVICE endpoints the guard has checked.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.cache = ResultCache(config.cache_entries, config.cache_max_body, config.cache_bytes)
        self.clients = ClientSlots(config.per_client)
        self._pool: Executor | None = None
        self._writer: Executor | None = None
        self._federation: Executor | None = None
        self._guard: Executor | None = None
        self._shapes = Memo()
        """Readings of the query texts sent to a remote store (``shape``), by text."""
        self._checked = Memo()
        """Operations that passed ``check`` (by text, kind and base IRI): whether each needs the network."""
        self._lock = threading.Lock()
        self._writes = 0
        self._stats: tuple[str, dict] | None = None
        self._counted_writes = -1
        """The write count of the version ``_stats`` counts (a late count of an older version is dropped)."""
        self._validation: tuple[str, dict] | None = None
        self._validating = threading.Lock()
        self._internal: Executor | None = None
        self._counting: dict[str, threading.Event] = {}
        self._built = self._read_built()

    def _spec(self, mode: str, path: str, network: bool = False) -> StoreSpec:
        c = self.config
        return StoreSpec(mode, path, str(c.shapes) if c.shapes else None, network or c.insecure_network,
                         c.memory_limit)

    @property
    def spec(self) -> StoreSpec:
        """The store the read pool opens."""
        c = self.config
        if c.location is not None:
            return self._spec("snapshot" if c.writable else "readonly", str(c.location))
        built = self._built
        if built is not None and built.get("store") and built["quads"] >= SHARED_STORE_MIN_QUADS:
            from pathlib import Path

            shared = Path(c.nquads).parent / built["store"]
            if (shared / "CURRENT").is_file():  # one store, shared: no copy per process, nothing reloaded
                return self._spec("readonly", str(shared))
        return self._spec("memory", str(c.nquads))

    def _read_built(self) -> dict | None:
        """The build's manifest beside the served ``rkg.nq`` when it describes that file (written after it,
        with the counts): what /health, the home page and VoID show, read once."""
        from pathlib import Path

        c = self.config
        if c.nquads is None or c.location is not None or c.store is not None:
            return None
        from ..build import manifest_of

        return manifest_of(Path(c.nquads))

    @property
    def pool(self) -> Executor:
        if self._pool is None:
            with self._lock:
                if self._pool is None and self.config.store is not None:
                    # A remote engine: HTTP requests from this process, to that URL only (rkg.remote)
                    from ..remote import RemoteExecutor

                    self._pool = RemoteExecutor(self.config.store, max(1, self.config.sandboxes),
                                                self.config.memory_limit, self.shape)
                if self._pool is None:
                    if self.config.writable:
                        self._writer_pool()  # it makes the first snapshot the readers open
                    if self._built is None:  # no manifest for this store: counted once now, before the readers start
                        self._count_now(self.version)
                    self._pool = Pool(self.spec, max(1, self.config.sandboxes), spare=True)
            if self._built is None and self._stats is None:  # a remote engine: counted off the request path
                self._count(self.version)
        return self._pool

    def shape(self, text: str, timeout: float) -> Outcome:
        """``ShapeJob`` of ``text`` on the guard pool (the parses run where they can be stopped), remembered
        per text in this process: a remote store's named questions are parsed once."""
        hit = self._shapes.get(text)
        if hit is None:
            hit = self.guard_pool.run(ShapeJob(text), timeout, self.config.queue_wait)
            if hit.kind in (Kind.ANSWER, Kind.BAD_INPUT):  # what the text is, not what happened to the process
                self._shapes.put(hit, text)
        return hit  # type: ignore[return-value]

    @property
    def guard_pool(self) -> Executor:
        """Where GuardJobs run: the read pool, or, with a remote store, one local sandbox on an empty store
        (the parse needs a process it can stop at the time limit, with its network closed)."""
        if self.config.store is None:
            return self.pool
        if self._guard is None:
            with self._lock:
                if self._guard is None:
                    import os

                    self._guard = Pool(self._spec("memory", os.devnull), 1)
        return self._guard

    def _writer_pool(self) -> Executor:
        if self._writer is None:
            c = self.config
            # The writer keeps its network only when an allow-list lets updates LOAD or query a SERVICE.
            self._writer = Pool(self._spec("readwrite", str(c.location), bool(c.federation_allow)), 1)
        return self._writer

    @property
    def writer(self) -> Executor:
        if not self.config.writable:
            raise Refused("this endpoint is read-only")
        self.pool  # noqa: B018 - started together
        assert self._writer is not None
        return self._writer

    @property
    def federation(self) -> Executor:
        if self._federation is None:
            with self._lock:
                if self._federation is None:
                    self.pool  # noqa: B018 - with writes, the snapshot must exist first
                    self._federation = Pool(StoreSpec(self.spec.mode, self.spec.path, None, True,
                                                      self.config.memory_limit), 1)
        return self._federation

    def start(self) -> None:
        """Start the query processes now rather than on the first request."""
        self.pool  # noqa: B018

    @property
    def version(self) -> str:
        version = f"{self.config.version}+w{self._writes}" if self._writes else self.config.version
        if self.config.store is not None:  # a reload of the engine (rkg build --target) makes a new version
            from ..errors import Unavailable

            try:
                version += "+" + self.pool.fingerprint()  # type: ignore[attr-defined]
            except Unavailable:
                version += "+unreachable"
        return version

    def written(self) -> None:
        """A write changed the store: new version, cached answers dropped; the counts are made again in the
        background (once, by the internal process)."""
        with self._lock:
            self._writes += 1
        self.cache.clear()
        self._count(self.version)

    # ------------------------------------------------------------ running jobs

    def run(self, job: object, environ: dict | None = None, time_limit: float | None = None,
            network: bool = False) -> Outcome:
        """Run ``job`` for the client of ``environ`` (None: an internal job, no client limit): on the writer
        for writes, on the federation sandbox when ``network``, else on the read pool. A client already at
        its share gets TooManyRequests at once; otherwise the job waits at most ``queue_wait`` for a free
        process (Busy), then has the whole time limit (Timeout)."""
        config = self.config
        limit = config.time_limit if time_limit is None else time_limit
        if isinstance(job, UpdateJob) or (isinstance(job, GraphStoreJob) and job.method not in ("GET", "HEAD")):
            pool = self.writer
        elif isinstance(job, (GuardJob, ShapeJob)):
            pool = self.guard_pool
        elif self.config.store is not None:
            pool = self.pool  # the engine itself runs the SERVICE clauses the guard allowed
        elif network:
            pool = self.federation
        else:
            pool = self.pool
        request_id = (environ or {}).get("rkg.request_id", "-")
        if environ is None:
            return pool.run(job, limit, config.queue_wait, request_id)
        client = client_address(environ, config.trusted_proxies)
        self.clients.acquire(client, 0.0)  # at its limit: 429 at once, no thread held waiting
        try:
            return pool.run(job, limit, config.queue_wait, request_id)
        finally:
            self.clients.release(client)

    def check(self, text: str, update: bool, environ: dict | None, base_iri: str | None = None) -> bool:
        """The checks every client operation passes before it reaches the engine: nesting depth (here, on
        tokens), then SERVICE / LOAD endpoints against the allow-list (in a sandbox, from a parse) when
        the text mentions them. Returns whether the operation needs the network (allow-listed federation).
        Raises guard.TooDeep, guard.Forbidden or guard.Unreadable. An operation that passed is remembered
        (the last REMEMBERED, by a hash of its text, kind and base IRI: the decision is a function of these and
        of the configuration), so that one the result cache cannot answer (``--cache-bytes 0``, RAND()…) is
        not tokenised (0.07 ms for a named question's text) nor parsed again."""
        passed = self._checked.get(text, update, base_iri)
        if passed is not None:  # this very operation passed (the limit and the allow-list are fixed)
            return bool(passed)
        guard.check_depth(text, self.config.max_depth)
        if not guard.mentions(text, update):
            network = False
        else:
            out = self.run(GuardJob(text, update, self.config.federation_allow, base_iri), environ)
            if out.kind is Kind.REFUSED:
                raise guard.Forbidden(out.message)
            if out.kind is Kind.BAD_INPUT:
                raise guard.Unreadable(out.message)
            if not out.done:
                raise from_outcome(out, (environ or {}).get("rkg.request_id", "-"))
            network = bool(out.extra.get("network"))
        self._checked.put(network, text, update, base_iri)
        return network

    @property
    def internal(self) -> Executor:
        """Where the service's own jobs run (counts, validation): each in a process of its own under its own
        generous limit (``executor.OneShot``), so that stopping one never kills a process that answers clients."""
        if self.config.store is not None:
            return self.pool  # a remote engine: nothing of ours to kill
        if self._internal is None:
            self._internal = OneShot(self.spec)
        return self._internal

    def _count_now(self, version: str) -> None:
        """Count the store for ``version`` here and now in an internal process (at start, before the readers;
        called under ``_lock``, so not through ``_count``, which takes it)."""
        try:
            out = self.internal.run(StatsJob(), INTERNAL_TIME_LIMIT, INTERNAL_TIME_LIMIT)
        except Exception as e:  # noqa: BLE001 - counted again on first need
            out = Outcome(Kind.FAILED, message=f"{type(e).__name__}: {e}")
        if out.done:
            self._stats, self._counted_writes = (version, out.extra), self._writes
        else:
            log.error("counting the store failed (tried again on first need): %s", out.message)

    def _count(self, version: str) -> threading.Event:
        """Start counting the store for ``version`` in the background (once per version). Counts of an older
        version that finish late never replace those of a newer one."""
        writes = self._writes
        with self._lock:
            done = self._counting.get(version)
            if done is not None:
                return done
            done = self._counting[version] = threading.Event()

        def work() -> None:
            try:
                out = self.internal.run(StatsJob(), INTERNAL_TIME_LIMIT, INTERNAL_TIME_LIMIT)
                if not out.done:
                    raise RuntimeError(out.message)
                current = self.version
                with self._lock:
                    if writes >= self._counted_writes:
                        self._stats, self._counted_writes = (version, out.extra), writes
                    for old in [v for v, e in self._counting.items() if v not in (current, version) and e.is_set()]:
                        del self._counting[old]  # one entry per write otherwise
            except Exception:  # noqa: BLE001 - reported by stats() as unknown counts; tried again on need
                log.exception("counting the store failed")
                with self._lock:
                    self._counting.pop(version, None)
            finally:
                done.set()

        threading.Thread(target=work, daemon=True, name="rkg-stats").start()
        return done

    def stats(self, wait: float | None = INTERNAL_TIME_LIMIT) -> dict:
        """Triples per named graph and in total. Never a scan per request: the build's manifest (read once),
        or, for an on-disk store given with --location (or after a write), a count made once per version by
        the internal process. ``wait``: seconds to wait for that count; past it (/health waits little), the
        last known counts, or None values."""
        version = self.version
        if self._built is not None and not self._writes:
            return self._built
        cached = self._stats
        if cached and cached[0] == version:
            return cached[1]
        done = self._count(version)
        if wait:
            done.wait(wait)
        cached = self._stats
        if cached and cached[0] == version:
            return cached[1]
        if wait is None or wait < INTERNAL_TIME_LIMIT:  # /health: answer now, with what is known
            return cached[1] if cached else {"graphs": {}, "default": None, "quads": None, "triples": None}
        raise from_outcome(Outcome(Kind.FAILED, message="the store could not be counted"))

    def validation(self) -> dict:
        """The validation report of the served graph (``rkg validate --format json``), made in a read
        sandbox once per version (never in front of writes); concurrent requests wait for the one run."""
        if self.config.shapes is None:
            raise NotFound("this service was started without a shapes folder: no validation report")
        self.pool  # noqa: B018 - with writes, the writer's first snapshot must exist first
        with self._validating:
            version = self.version
            if self._validation and self._validation[0] == version:
                return self._validation[1]
            c = self.config
            local = c.root is not None and c.store is None  # a remote engine's graphs have no files here
            from ..build import IMPORTS

            job = ValidationJob(str(c.shapes), str(c.queries) if c.queries else None,
                                root=str(c.root) if local else None,
                                imports=str(c.nquads.parent / IMPORTS) if local and c.nquads is not None else None)
            limit = self.config.validation_time_limit
            out = self.internal.run(job, limit, limit)
            if not out.done:
                raise from_outcome(out)
            report = json.loads(out.body)
            self._validation = (version, report)
            return report

    def close(self) -> None:
        for pool in (self._federation, self._internal, self._pool, self._writer, self._guard):
            if pool is not None:
                pool.close()
