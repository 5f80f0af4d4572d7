"""What the web layer asks of a store and what it gets back: jobs, their outcomes, and the errors of
running them. Nothing here knows HTTP: an outcome says what happened (``Kind``), and the web layer
(``rkg.web.errors``) alone turns that into a status code and headers.

The executor (``rkg.executor``, local sandbox processes) and the writer (``rkg.writes``, inside the
read-write sandbox) both import from here and not from each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from .errors import Unavailable
from .formats import JSON


@dataclass(frozen=True)
class StoreSpec:
    mode: str
    """``memory`` (load ``path``, an N-Quads file), ``readonly`` or ``readwrite`` (open ``path``, a store
    folder), ``snapshot`` (open the latest read-only snapshot made by the ``readwrite`` sandbox of
    ``path``, and follow newer ones)."""
    path: str
    shapes: str | None = None
    """Folder of SHACL shapes used to validate writes (readwrite mode)."""
    network: bool = False
    """Leave the network open (the federation sandbox, or ``--insecure-network``); otherwise closed by seccomp."""
    memory_bytes: int = 0
    """RLIMIT_DATA of the sandbox (0: none): an engine that needs more fails instead of growing."""


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
    max_bytes: int = 16 * 1024 * 1024
    """Largest answer body: rows or triples past it are cut, like those past ``max_rows``."""
    shape_of: str | None = None
    """The text whose reading stands for this one's, or None (``text`` is read itself). Set only by the
    named-question API (``rkg.web.api``), to the catalogue's unbound text when ``text`` is that text with
    its parameters bound (``rkg.bindings.bind``); a client's text (/sparql) never has one. The readings
    that use it: a remote store's ``ShapeJob`` (form, own dataset, determinism, relative IRIs: once per
    question, not once per parameter value) and a sandbox's ``query_facts`` (own dataset, determinism:
    an rdflib parse whenever the text holds one of its trigger letters, as a searched word may).

    Why the template's reading holds for the bound text: ``bind`` adds one ``VALUES`` block of terms
    that the catalogue checked and pyoxigraph wrote (IRIs absolute, since the catalogue refuses others;
    literals in escaped N-Triples form) after the top-level ``WHERE {``; every other token is the
    template's. A ``VALUES`` block is data: it adds no dataset clause, no function call (RAND, NOW…), no
    query form, no relative IRI and no SERVICE, and a value cannot leave its quotes, not even through
    SPARQL's ``\\u`` escapes decoded before parsing (each backslash of a value is written doubled, so a
    decoded escape is still inside the literal). The engine still parses the bound text itself to run it.
    The guard (``GuardJob``: SERVICE / LOAD against the allow-list) is not concerned: the named questions
    are the operator's own texts and never go through it (``EndpointState.check`` is /sparql's), and
    it could not be: its decision must come from a parse of the very tokens that run."""


@dataclass(frozen=True)
class GuardJob:
    """Check an operation's SERVICE / LOAD endpoints against the allow-list (``rkg.guard.check``): the
    parse can take seconds, so it runs here, under the time limit, not in the web process."""

    text: str
    update: bool
    allow: frozenset[str]
    base_iri: str | None = None


@dataclass(frozen=True)
class ShapeJob:
    """Read a query the way a remote engine's caller needs it (``guard.query_facts`` and
    ``guard.query_shape``: dataset, determinism, form, relative IRIs), from parses run in a sandbox."""

    text: str


@dataclass(frozen=True)
class UpdateJob:
    text: str
    using_graphs: tuple[str, ...] | None = None
    using_named_graphs: tuple[str, ...] | None = None
    report_media: str = JSON.media
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
    report_media: str = JSON.media
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
    root: str | None = None
    """Project folder: each finding names the source file (and line) its focus node was written in."""
    imports: str | None = None
    """Folder of the build's imports (``build/imports``), sources too."""


class Kind(Enum):
    """What became of a job."""

    ANSWER = "answer"
    """Done; ``body`` is the answer (in ``media``), or ``extra`` holds it for internal jobs."""
    CREATED = "created"
    """A write was applied and made a new graph."""
    APPLIED = "applied"
    """A write was applied, or had nothing to change; no body."""
    BAD_INPUT = "bad-input"
    """The operation or the uploaded body cannot be read or evaluated (syntax, unknown function…)."""
    NOT_FOUND = "not-found"
    """The graph the operation names does not exist."""
    REFUSED = "refused"
    """Not allowed here: a read-only store, a closed network, an endpoint not on the allow-list."""
    NO_FORMAT = "no-format"
    """None of the formats asked for can carry this kind of result."""
    UNREADABLE_FORMAT = "unreadable-format"
    """The uploaded body is in a format the store cannot read."""
    NOT_A_WRITE = "not-a-write"
    """The Graph Store operation is not one the writer knows."""
    INVALID = "invalid"
    """A write refused by validation: ``body`` is the report, nothing was written."""
    TOO_COSTLY = "too-costly"
    """The engine failed on this operation or it needed more memory than allowed; nothing was applied."""
    REMOTE_FAILED = "remote-failed"
    """A federated endpoint could not be queried."""
    FAILED = "failed"
    """A defect of rkg or of its process (an unexpected exception, a process that ended): a bug to report."""


DONE = frozenset({Kind.ANSWER, Kind.CREATED, Kind.APPLIED})


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    media: str | None = None
    body: bytes = b""
    rows: int = 0
    truncated: bool = False
    message: str = ""
    changed: tuple[str, ...] = ()
    """Graphs a write changed (IRIs, ``default`` for the default graph), sorted."""
    validated: tuple[str, ...] = ()
    """Graphs a write validated, sorted (same labels)."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.kind in DONE


class Executor(Protocol):
    """What the web layer needs from a store: run one job within a time limit. ``Pool`` implements it
    with local sandbox processes; a remote SPARQL 1.1 store can implement it with HTTP requests, without
    touching the HTTP layer."""

    def run(self, job: object, timeout: float, wait: float | None = None, request_id: str = "-") -> Outcome: ...

    def close(self) -> None: ...


class Timeout(Unavailable):
    """The operation ran past the time limit; its sandbox was killed."""


class Busy(Unavailable):
    """No sandbox became free within the queue wait (or the one running the job was stopped from outside)."""


def engine_error(e: Exception) -> Outcome:
    """The outcome for an exception the engine raised while evaluating the client's operation."""
    if isinstance(e, PermissionError) or (isinstance(e, OSError) and "os error 13" in str(e)):
        return Outcome(Kind.REFUSED, message="the operation tried to open a network connection, and the query "
                                             "processes have no network access")
    if isinstance(e, OSError):  # a federated endpoint failed: say so without relaying what it answered
        return Outcome(Kind.REMOTE_FAILED, message=f"a federated endpoint could not be queried ({type(e).__name__})")
    if isinstance(e, (RuntimeError, ValueError, TypeError)):
        # Evaluation errors of the operation itself: an unknown function, a bad argument…
        text = str(e).splitlines()[0][:300] if str(e) else type(e).__name__
        return Outcome(Kind.BAD_INPUT, message=f"the query cannot be evaluated: {text}")
    raise e
