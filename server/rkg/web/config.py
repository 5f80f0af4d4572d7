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
    cache_max_body: int = 2_000_000
    """Largest response body the cache keeps."""

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
