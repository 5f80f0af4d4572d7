"""Settings of the web service, fixed when the app is created."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Config:
    nquads: Path | None = None
    """Built graph loaded in memory by each sandbox (default mode)."""
    location: Path | None = None
    """Persistent on-disk store (instead of ``nquads``)."""
    shapes: Path | None = None
    """SHACL shapes that writes are validated against."""
    queries: Path | None = None
    """Folder of named queries served at /api/queries (none when not given)."""
    assets: Path | None = None
    """``node_modules`` folder where ``npm ci`` installed the front-end files (YASGUI); None: plain editor."""
    version: str = ""
    """Version of the graph, shown by /health and used in ETags."""
    time_limit: float = 10.0
    """Seconds a query may run before it is stopped (503)."""
    max_rows: int = 100_000
    """Result rows (or triples) returned at most; more are cut and the response says so."""
    max_request_bytes: int = 1_048_576
    """Largest request body or query string accepted (413 above)."""
    update_token: str | None = None
    """Bearer token for SPARQL Update and the Graph Store protocol; None keeps the service read-only."""
    federation_allow: frozenset[str] = field(default_factory=frozenset)
    """SERVICE endpoints (and LOAD sources) the engine may contact; empty: none."""
    validation_time_limit: float = 300.0
    """Seconds the validation report of the served graph may take (the /validation page)."""
    sandboxes: int = 2
    """Query processes per web worker (1 when writes are enabled)."""
    cache_entries: int = 1024
    """Responses kept in the result cache (0 disables it)."""
    cache_max_body: int = 1_048_576
    """Largest response body the cache keeps."""
    cache_bytes: int = 32 * 1024 * 1024
    """Bytes the result cache of each worker holds at most (bodies and a fixed overhead per entry)."""
    max_depth: int = 128
    """Deepest nesting of ``{ ( [`` accepted in an operation (400 above), checked before any parser."""
    max_answer_bytes: int = 16 * 1024 * 1024
    """Largest answer body: rows or triples past it are cut, and the answer says so."""
    queue_wait: float = 5.0
    """Seconds a request waits for a free query process (then 503 with Retry-After); it then has the
    whole ``time_limit`` to run."""
    client_concurrency: int = 0
    """Operations one client may have running at once in a worker (0: one less than ``sandboxes``, at
    least 1); one more is answered 429 at once, so that waiting requests never hold the worker's threads."""
    trusted_proxies: frozenset[str] = field(default_factory=frozenset)
    """Addresses of reverse proxies whose ``X-Forwarded-For`` header names the client."""
    insecure_network: bool = False
    """Leave the network of the query processes open (no seccomp filter): for kernels without seccomp."""
    sandbox_memory: int | None = None
    """Bytes of data memory a query process may use (RLIMIT_DATA); None: automatic (``memory_limit``);
    0: no limit."""

    @property
    def memory_limit(self) -> int:
        """The sandboxes' RLIMIT_DATA: as set, or 512 MiB, raised to 8 times the size of the data for a
        large graph (an in-memory store takes 2 to 3 times its N-Quads file)."""
        if self.sandbox_memory is not None:
            return self.sandbox_memory
        data = 0
        if self.nquads is not None and self.nquads.exists():
            data = self.nquads.stat().st_size
        elif self.location is not None and self.location.is_dir():
            data = sum(f.stat().st_size for f in self.location.iterdir() if f.is_file())
        return max(512 * 1024 * 1024, 8 * data)

    @property
    def writable(self) -> bool:
        return self.update_token is not None

    def check(self) -> None:
        if (self.nquads is None) == (self.location is None):
            raise ValueError("give either a built graph (nquads) or a store folder (location)")
        if self.writable and self.location is None:
            raise ValueError("updates need the persistent store: start with --location DIR")
        if self.writable and not self.update_token:
            raise ValueError("the update token must not be empty")
        if self.time_limit <= 0 or self.max_rows <= 0 or self.max_request_bytes <= 0:
            raise ValueError("time limit, row cap and request size must be positive")
        if self.max_depth <= 0 or self.max_answer_bytes <= 0 or self.queue_wait <= 0:
            raise ValueError("nesting depth, answer size and queue wait must be positive")

    @property
    def per_client(self) -> int:
        return self.client_concurrency or max(1, self.sandboxes - 1)
