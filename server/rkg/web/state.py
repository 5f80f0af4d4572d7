"""What one app instance holds: its sandbox pool, its result cache and the store's version.

Created by ``create_app``; nothing here is module-global. The pool starts on first use, after the web
server has forked its workers.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass

from ..executor import Executor, Outcome, Pool, StatsJob, StoreSpec, ValidationJob
from .config import Config


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


class ResultCache:
    """LRU of responses keyed on the store version and the full request meaning; dropped on every write."""

    def __init__(self, entries: int, max_body: int) -> None:
        self.entries, self.max_body = entries, max_body
        self._data: OrderedDict[tuple, Cached] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Cached | None:
        with self._lock:
            hit = self._data.get(key)
            if hit is not None:
                self._data.move_to_end(key)
            return hit

    def put(self, key: tuple, value: Cached) -> None:
        if self.entries <= 0 or len(value.body) > self.max_body:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class EndpointState:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.cache = ResultCache(config.cache_entries, config.cache_max_body)
        self._pool: Executor | None = None
        self._lock = threading.Lock()
        self._writes = 0
        self._stats: tuple[str, dict] | None = None
        self._validation: tuple[str, dict] | None = None
        self._validating = threading.Lock()

    @property
    def spec(self) -> StoreSpec:
        c = self.config
        if c.location is not None:
            mode = "readwrite" if c.writable else "readonly"
            return StoreSpec(mode, str(c.location), str(c.shapes) if c.shapes else None)
        return StoreSpec("memory", str(c.nquads))

    @property
    def pool(self) -> Executor:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    size = 1 if self.config.writable else max(1, self.config.sandboxes)
                    self._pool = Pool(self.spec, size)
        return self._pool

    @property
    def version(self) -> str:
        return f"{self.config.version}+w{self._writes}" if self._writes else self.config.version

    def written(self) -> None:
        """A write changed the store: new version, cached answers dropped."""
        with self._lock:
            self._writes += 1
            self._stats = None
        self.cache.clear()

    def stats(self) -> dict:
        """Triples per named graph and in total (asked of a sandbox once per version)."""
        version = self.version
        cached = self._stats
        if cached and cached[0] == version:
            return cached[1]
        out: Outcome = self.pool.run(StatsJob(), self.config.time_limit)
        self._stats = (version, out.extra)
        return out.extra

    def validation(self) -> dict:
        """The validation report of the served graph (``rkg validate --format json``), made in a sandbox
        once per version; concurrent requests wait for the one run."""
        if self.config.shapes is None:
            raise LookupError("no shapes folder configured")
        with self._validating:
            version = self.version
            if self._validation and self._validation[0] == version:
                return self._validation[1]
            job = ValidationJob(str(self.config.shapes), str(self.config.queries) if self.config.queries else None)
            out = self.pool.run(job, self.config.validation_time_limit)
            if out.status != 200:
                raise RuntimeError(out.message)
            report = json.loads(out.body)
            self._validation = (version, report)
            return report

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
