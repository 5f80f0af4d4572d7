"""A remote SPARQL 1.1 store: the ``jobs.Executor`` that runs rkg's jobs on an engine over HTTP
(Oxigraph server, Virtuoso…) instead of local sandbox processes.

Only the web process connects, only to the configured URL (``--store``), with the standard library's
``http.client`` (one small pool of kept-alive connections per executor, shared by the worker's threads).

* Queries: SPARQL 1.1 Protocol POST. Without a dataset of its own (protocol parameters or FROM), a
  query gets the named graphs rkg built (IRIs under ``https://w3id.org/rkg/graph/``) both as its default
  graph (their union, as in the embedded store) and as its named graphs: the engine's own graphs
  (Virtuoso's ``virtrdf#``…) stay out, whatever its default-graph setting. The base IRI is given as a
  ``BASE`` declaration in front of the text (the protocol has no parameter for it), only when the text
  has a relative IRI. The query's form, its own dataset, whether it may be cached and whether it has
  relative IRIs are read from parses (rdflib's and Oxigraph's) in a local sandbox (``jobs.ShapeJob``),
  once per text (a named question: once per catalogue text, whatever its parameter values,
  ``jobs.QueryJob.shape_of``); a text they refuse is answered 400 without reaching the engine. The time
  limit goes to the engine (``timeout`` in ms, Virtuoso's parameter; Oxigraph server has only its
  start-up ``--timeout-s``) and bounds the whole exchange here (``jobs.Timeout``). The dataset fields
  (rkg's graphs) are encoded once per graph listing, not per request. The engine answers SPARQL JSON
  results or N-Triples, read up to ``RAW_FACTOR`` × the answer byte cap, parsed by pyoxigraph and
  written again in the negotiated format under the same row and byte caps as the local executor (not
  passed through: Virtuoso's JSON is not rkg's, e.g. ``typed-literal``, and the parse and the writing
  together cost 0.03 ms for a 2.7 KB answer, 0.3 ms for 35 KB, of which json.loads alone would take half).
* Stats: one ``GROUP BY ?g`` count on the engine.
* Graph Store GET: a CONSTRUCT of the graph.
* Validation: the graphs are fetched into an N-Quads file, validated in a local sandbox (as embedded).
* Writes (SPARQL Update, Graph Store writes): refused. ``rkg serve`` refuses ``--allow-update`` with
  ``--store`` at start-up: rkg validates every write against the shapes before it commits, in the same
  transaction, which an engine behind HTTP does not let it do.
"""

from __future__ import annotations

import http.client
import io
import json
import queue
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import pyoxigraph as ox

from . import formats, results
from .errors import InputError
from .executor import MIN_ROW_BYTES, _capped, _fit, _native, _term_bytes
from .jobs import (Busy, GraphStoreJob, Kind, Outcome, QueryJob, ShapeJob, StatsJob, Timeout, UpdateJob,
                   ValidationJob)
from .build import IMPORT_SEARCH_KEYS
from .namespaces import BUILD_GRAPH, GRAPH, VOID

RKG_GRAPHS = str(GRAPH)
"""Prefix of the named graphs rkg builds; the others in the engine are not read through rkg."""
RAW_FACTOR = 2
"""The engine's answer (SPARQL JSON, N-Triples) is read up to this many times ``max_bytes``."""
ENGINE_GRACE = 2.0
"""Seconds the web process waits past the time limit for the engine's own answer that it stopped the query
(Virtuoso answers at the limit, or up to a second after it): a query the engine does not stop is cut then."""
GRAPHS_TTL = 30.0
"""Seconds the list of rkg's graphs (and the data fingerprint made from it) is kept before it is asked again."""
_GRAPH_ANSWERS = (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.TURTLE)
"""The RDF syntaxes an engine's graph answer is read in (N-Triples asked; Turtle, or N-Triples as text/plain,
accepted), by the media type it says (``formats.UPLOADS``: media types and their aliases)."""
RESULTS_ACCEPT = formats.SPARQL_JSON
GRAPH_ACCEPT = formats.N_TRIPLES


def check_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host; InputError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"the store must be the http:// or https:// URL of a SPARQL 1.1 query endpoint, not {url!r}")
    if parts.username or parts.password:
        raise InputError("the store URL must not hold credentials")
    return url


class Unreachable(Busy):
    """The engine could not be reached (refused, reset, name not resolved)."""


# ---------------------------------------------------------------- HTTP


QUICKACK = getattr(socket, "TCP_QUICKACK", None)
"""Linux's TCP_QUICKACK: acknowledge every segment of an answer at once. With delayed ACKs, an answer of a
few tens of KB from Virtuoso (which writes with Nagle's algorithm on) stalled 40 ms waiting for our ACK:
``coverage-dimension-ue`` through rkg took 56 ms against 12.5 ms with it (bundled graph, median of 15)."""


class Http:
    """Kept-alive connections to one origin, for any thread: a request takes an idle one (or opens one)
    and gives it back when the answer was read to its end."""

    def __init__(self, url: str, size: int = 8) -> None:
        parts = urlsplit(check_url(url))
        self.url = url
        self.https = parts.scheme == "https"
        self.host, self.port = parts.hostname or "", parts.port or (443 if self.https else 80)
        self.path = parts.path or "/"
        self.query = parts.query
        self._idle: queue.LifoQueue[http.client.HTTPConnection] = queue.LifoQueue(size)

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=timeout)
        conn.connect()
        # No Nagle: without it each request waited several milliseconds for a delayed ACK (measured on Virtuoso)
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def target(self, path: str | None = None, params: dict[str, str] | None = None) -> str:
        """The request target: the store's path (or ``path``) with its query and ``params``."""
        query = "&".join(p for p in (self.query if path is None else "", urlencode(params or {})) if p)
        return (self.path if path is None else path) + ("?" + query if query else "")

    def request(self, method: str, target: str, body: bytes | None, headers: dict[str, str], deadline: float,
                limit: int) -> tuple[int, dict[str, str], bytes, bool]:
        """(status, headers with lower-case names, body, cut): the body read up to ``limit`` bytes (cut:
        there was more). Timeout past ``deadline``; Unreachable when no connection can be made."""
        for attempt in (0, 1):
            try:
                conn, reused = self._idle.get_nowait(), True
            except queue.Empty:
                try:
                    conn, reused = self._connect(max(0.05, deadline - time.monotonic())), False
                except (TimeoutError, socket.timeout):
                    raise Timeout("the SPARQL engine did not accept a connection within the time limit") from None
                except OSError as e:
                    raise Unreachable(f"the SPARQL engine cannot be reached ({type(e).__name__}); retry later") from None
            try:
                if conn.sock is not None:
                    conn.sock.settimeout(max(0.05, deadline - time.monotonic()))
                if hasattr(body, "seek"):
                    body.seek(0)  # type: ignore[union-attr]  # a file sent again on a fresh connection
                conn.request(method, target, body=body, headers=headers)
                response = conn.getresponse()
                return self._read(conn, response, deadline, limit)
            except (TimeoutError, socket.timeout):
                conn.close()
                raise Timeout("the SPARQL engine did not answer within the time limit; retry later, or ask for less") from None
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                conn.close()
                if reused and attempt == 0:  # a kept-alive connection the engine had closed: once more, fresh
                    continue
                raise Unreachable(f"the SPARQL engine closed the connection ({type(e).__name__}); retry later") from None
            except http.client.IncompleteRead:
                conn.close()  # Oxigraph server ends a chunked answer early at its own --timeout-s
                raise Timeout("the SPARQL engine ended its answer early (its own time limit?); retry later, "
                              "or ask for less") from None
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                if time.monotonic() >= deadline:
                    raise Timeout("the SPARQL engine did not answer within the time limit") from None
                raise Unreachable(f"the SPARQL engine cannot be reached ({type(e).__name__}); retry later") from None
        raise AssertionError("unreachable")

    def _read(self, conn: http.client.HTTPConnection, response: http.client.HTTPResponse, deadline: float,
              limit: int) -> tuple[int, dict[str, str], bytes, bool]:
        headers = {k.lower(): v for k, v in response.getheaders()}
        parts, size, cut = [], 0, False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                conn.close()
                raise TimeoutError()
            if conn.sock is not None:
                conn.sock.settimeout(left)
                if QUICKACK is not None:  # the kernel drops back to delayed ACKs: asked again before each read
                    conn.sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
            chunk = response.read(65536)
            if not chunk:
                if response.length:  # read(amt) ends quietly where the engine closed before its Content-Length
                    conn.close()
                    raise http.client.IncompleteRead(b"".join(parts), response.length)
                break
            parts.append(chunk)
            size += len(chunk)
            if size > limit:
                cut = True
                break
        if cut or response.will_close:
            conn.close()
        elif not response.isclosed():  # the body was read to its end: the connection can be used again
            response.close()
        if not (cut or response.will_close):
            try:
                self._idle.put_nowait(conn)
            except queue.Full:
                conn.close()
        body = b"".join(parts)
        return response.status, headers, body[:limit] if cut else body, cut

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


# ---------------------------------------------------------------- reading queries


Shape = Callable[[str, float], Outcome]
"""Reads a query text within a time limit (``EndpointState.shape``: a ``ShapeJob`` in a local sandbox):
an ANSWER whose ``extra`` has ``dataset``, ``deterministic``, ``form`` and ``relative``, or BAD_INPUT."""


def _message(status: int, body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # Virtuoso appends the query text after "SPARQL query:"; it is the client's own text
    if "SPARQL query:" in lines:
        lines = lines[: lines.index("SPARQL query:")]
    return (" ".join(lines)[:300] or f"HTTP {status}")


@dataclass(frozen=True)
class _Listing:
    """rkg's graphs on the engine when last asked (every GRAPHS_TTL seconds), and what is made of them once."""

    at: float
    """``time.monotonic()`` of the asking."""
    names: tuple[str, ...]
    built: dict[str, int]
    """The triples per graph that the build graph records."""
    digest: str
    """Of ``names`` and ``built``: the data fingerprint (``fingerprint``)."""
    dataset: str
    """``names`` as default and named graphs, form-encoded: the dataset of a query without its own."""


class RemoteExecutor:
    """``jobs.Executor`` on a SPARQL 1.1 engine at ``url`` (its query endpoint). At most ``size`` requests
    of this process run on the engine at once; a job waits at most ``wait`` for one of them (Busy)."""

    def __init__(self, url: str, size: int = 2, memory: int = 0, shape: Shape | None = None) -> None:
        self.url = check_url(url)
        self.http = Http(url, max(size, 1) * 2)
        self._slots = threading.BoundedSemaphore(max(size, 1))
        self._graphs: _Listing | None = None
        """rkg's graphs on the engine, as last asked."""
        self._graphs_lock = threading.Lock()
        self.shape = shape or _local_shape
        """Where query texts are read (from parses): which form, dataset, determinism, relative IRIs."""
        self.memory = memory
        """RLIMIT_DATA of the local sandbox that validates the fetched graphs (0: none)."""

    # ------------------------------------------------------------ the executor protocol

    def run(self, job: object, timeout: float, wait: float | None = None, request_id: str = "-") -> Outcome:
        if not self._slots.acquire(timeout=timeout if wait is None else wait):
            raise Busy(f"every connection to the SPARQL engine stayed busy for {timeout if wait is None else wait:g} s; "
                       "retry later")
        try:
            deadline = time.monotonic() + timeout + ENGINE_GRACE
            if isinstance(job, QueryJob):
                return self.query(job, deadline, timeout)
            if isinstance(job, StatsJob):
                return Outcome(Kind.ANSWER, extra=self.stats(deadline))
            if isinstance(job, GraphStoreJob):
                if job.method in ("GET", "HEAD"):
                    return self.read_graph(job, deadline, timeout)
                return Outcome(Kind.REFUSED, message="this endpoint is read-only: its store is a remote engine")
            if isinstance(job, UpdateJob):
                return Outcome(Kind.REFUSED, message="this endpoint is read-only: its store is a remote engine")
            if isinstance(job, ValidationJob):
                return self.validate(job, deadline)
            return Outcome(Kind.FAILED, message=f"a remote store does not run {type(job).__name__}")
        finally:
            self._slots.release()

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------ queries

    def _post(self, params: list[tuple[str, str]], accept: str, deadline: float, limit: int,
              timeout: float, encoded: str = "") -> tuple[int, dict[str, str], bytes, bool]:
        """POST ``params`` and the already encoded form fields ``encoded`` (a dataset) to the engine."""
        params = [*params, ("timeout", str(max(1, int(timeout * 1000))))]  # Virtuoso's, in ms; others ignore it
        body = (urlencode(params) + ("&" + encoded if encoded else "")).encode("utf-8")
        headers = {"Content-Type": formats.FORM, "Accept": accept, "User-Agent": "rkg"}
        status, head, data, cut = self.http.request("POST", self.http.target(), body, headers, deadline, limit)
        if status == 200 and accept == RESULTS_ACCEPT:
            data = _clean(data)
        if head.get("x-sql-state") in ("S1TAT", "S1T00"):  # Virtuoso's "anytime" answer: partial, so none
            raise Timeout("the SPARQL engine stopped the query at the time limit; retry later, or ask for less")
        return status, head, data, cut

    def _error(self, status: int, body: bytes) -> Outcome:
        message = _message(status, body)
        low = message.lower()
        # Virtuoso stops a query at its timeout with S1T00, or, when it cancels it, HY008 (ODBC's "operation
        # cancelled": "Async statement killed by SQLCancel"); Oxigraph server and proxies say timeout
        if status in (503, 504) or (status >= 500 and ("timeout" in low or "timed out" in low or "S1T00" in message
                                                       or "HY008" in message)):
            raise Timeout(f"the SPARQL engine stopped the query: {message}")
        if status == 400:
            return Outcome(Kind.BAD_INPUT, message=f"the SPARQL engine refused the query: {message}")
        if status in (401, 403):
            return Outcome(Kind.REFUSED, message=f"the SPARQL engine refused the query: {message}")
        if status == 404:
            return Outcome(Kind.FAILED, message=f"no SPARQL endpoint at the configured URL (HTTP 404): {message}")
        return Outcome(Kind.TOO_COSTLY, message=f"the SPARQL engine failed on this operation (HTTP {status}): {message}")

    def dataset(self, job: QueryJob, own: bool, deadline: float) -> str:
        """The dataset protocol fields of ``job`` (form-encoded): its own, none when the text has one
        (``own``), else rkg's graphs as default and named graphs (encoded once per graph listing)."""
        if job.default_graphs is not None or job.named_graphs is not None:
            return urlencode([("default-graph-uri", g) for g in job.default_graphs or ()]
                             + [("named-graph-uri", g) for g in job.named_graphs or ()])
        if own:  # FROM / FROM NAMED: the query's own dataset
            return ""
        return self._listing(deadline).dataset

    def query(self, job: QueryJob, deadline: float, timeout: float) -> Outcome:
        # a named question's bound text is read as its catalogue text (jobs.QueryJob.shape_of): once per question
        read = self.shape(job.shape_of or job.text, max(0.1, deadline - ENGINE_GRACE - time.monotonic()))
        if not read.done:
            return read
        facts = read.extra
        form, text = facts["form"], job.text
        if job.base_iri and all(c not in job.base_iri for c in '<>"{}|^`\\ ') and facts["relative"]:
            text = f"BASE <{job.base_iri}> {text}"  # on the first line: the engine's line numbers stay right
        graph = form in ("CONSTRUCT", "DESCRIBE")
        dataset = self.dataset(job, facts["dataset"], deadline)
        limit = RAW_FACTOR * job.max_bytes
        status, head, body, cut = self._post([("query", text)], GRAPH_ACCEPT if graph else RESULTS_ACCEPT, deadline,
                                             limit, timeout, dataset)
        if status != 200:
            return self._error(status, body)
        media = head.get("content-type", "").split(";")[0].strip().lower()
        try:
            if graph or formats.UPLOADS.get(media) in _GRAPH_ANSWERS:
                out = self._graph(job, body, media, cut)
            else:
                out = self._results(job, form, body, cut)
            out.extra["deterministic"] = facts["deterministic"]
            return out
        except SyntaxError as e:
            tail = body[-400:].lower()
            if b"cancelled" in tail or b"timeout" in tail or b"timed out" in tail:
                # Oxigraph server writes its --timeout-s cancellation into the answer it had begun
                raise Timeout("the SPARQL engine stopped the query at its time limit; retry later, or ask for less") from None
            return Outcome(Kind.FAILED, message=f"the SPARQL engine's answer cannot be read: {str(e)[:200]}")
        except Exception as e:  # an engine error turned out in the body
            return Outcome(Kind.FAILED, message=f"the SPARQL engine's answer cannot be read: {type(e).__name__}: {str(e)[:200]}")

    def _results(self, job: QueryJob, form: str, body: bytes, cut: bool) -> Outcome:
        answer = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON) if not cut else None
        if answer is not None and form == "ASK" and isinstance(answer, ox.QuerySolutions):
            answer = _ask_rows(answer)  # Virtuoso 7 answers an ASK as one row of one number
        if isinstance(answer, (ox.QueryBoolean, bool)):
            if job.results_media is None:
                return Outcome(Kind.NO_FORMAT, message="no acceptable format for an ASK result")
            return Outcome(Kind.ANSWER, job.results_media, results.boolean(bool(answer), job.results_media), 1)
        if job.results_media is None:
            return Outcome(Kind.NO_FORMAT, message="no acceptable format for SELECT results")
        if answer is not None:
            native = formats.BY_MEDIA[job.results_media].results
            out = _native(answer, native, min(MIN_ROW_BYTES[job.results_media] * job.max_rows, job.max_bytes))
            if out is not None:
                return Outcome(Kind.ANSWER, job.results_media, out, -1)
        # Too large to be sure it is under the caps, or cut while reading: the rows, capped, written again.
        variables, rows_iter = _rows(body, cut)
        rows, why = _capped(rows_iter, job.max_rows, job.max_bytes, lambda row: sum(map(_term_bytes, row)) + 4)
        if cut and not why:
            why = f"results cut at {job.max_bytes} bytes"
        writer = results.SELECT_WRITERS[job.results_media]
        out, rows, why = _fit(rows, lambda r: writer(variables, r), job.max_bytes, why)
        return Outcome(Kind.ANSWER, job.results_media, out, len(rows), bool(why), why)

    def _graph(self, job: QueryJob, body: bytes, media: str, cut: bool) -> Outcome:
        if job.graph_media is None:
            return Outcome(Kind.NO_FORMAT, message="no acceptable RDF format for CONSTRUCT/DESCRIBE results")
        fmt = formats.UPLOADS.get(media) if formats.UPLOADS.get(media) in _GRAPH_ANSWERS else ox.RdfFormat.N_TRIPLES
        triples, why = _capped(_triples(body, fmt, cut), job.max_rows, job.max_bytes,
                               lambda t: _term_bytes(t.subject) + _term_bytes(t.predicate) + _term_bytes(t.object))
        if cut and not why:
            why = f"results cut at {job.max_bytes} bytes"
        out, triples, why = _fit(triples, lambda t: results.graph(t, job.graph_media), job.max_bytes, why)
        return Outcome(Kind.ANSWER, job.graph_media, out, len(triples), bool(why), why)

    def read_graph(self, job: GraphStoreJob, deadline: float, timeout: float) -> Outcome:
        media = job.media or formats.TURTLE
        if job.graph is None:  # rkg puts nothing in the default graph: empty, as in the embedded store
            return Outcome(Kind.ANSWER, media, results.graph([], media), 0)
        if not job.graph.startswith(RKG_GRAPHS) or not self._ask(f"ASK {{ GRAPH <{job.graph}> {{ ?s ?p ?o }} }}",
                                                                  deadline, timeout):
            return Outcome(Kind.NOT_FOUND, message=f"no graph named <{job.graph}>")
        text = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <%s> { ?s ?p ?o } }" % job.graph
        out = self.query(QueryJob(text, None, media, max_rows=job.max_rows), deadline, timeout)
        return out

    # ------------------------------------------------------------ graphs and stats

    def _select(self, text: str, params: list[tuple[str, str]], deadline: float, timeout: float,
                limit: int = 1 << 31) -> ox.QuerySolutions:
        status, _, body, cut = self._post([("query", text), *params], RESULTS_ACCEPT, deadline, limit, timeout)
        if status != 200:
            out = self._error(status, body)
            raise Unreachable(f"the SPARQL engine failed on an internal query: {out.message}")
        answer = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        assert isinstance(answer, ox.QuerySolutions)
        return answer

    def _ask(self, text: str, deadline: float, timeout: float) -> bool:
        status, _, body, _ = self._post([("query", text)], RESULTS_ACCEPT, deadline, 1 << 20, timeout)
        if status != 200:
            raise Unreachable(f"the SPARQL engine failed on an internal query: {self._error(status, body).message}")
        answer = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        return _ask_rows(answer) if isinstance(answer, ox.QuerySolutions) else bool(answer)

    def counts(self, deadline: float) -> dict[str, int]:
        """Triples in each of rkg's graphs on the engine."""
        text = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        out = {}
        for row in self._select(text, [], deadline, max(0.1, deadline - time.monotonic())):
            g = row["g"]
            if isinstance(g, ox.NamedNode) and g.value.startswith(RKG_GRAPHS):
                out[g.value] = int(row["n"].value)
        return dict(sorted(out.items()))

    def graphs(self, deadline: float, fresh: bool = False) -> tuple[str, ...]:
        """The IRIs of rkg's graphs on the engine (asked again after GRAPHS_TTL seconds)."""
        return self._listing(deadline, fresh).names

    def graph_names(self, deadline: float) -> tuple[str, ...]:
        """rkg's graphs on the engine, never from a scan of its quads (asked on the request path): its list
        of graphs (``GRAPH ?g {}``: Oxigraph reads it); else, as Virtuoso binds no ?g to an empty group, the
        graphs the build graph records (``void:Dataset``s, an indexed pattern), the build graph and the
        imports' search keys; only an engine holding no build graph of rkg's is asked ``DISTINCT ?g`` over
        the quads (on Virtuoso, over 60 s at 6.8 M triples)."""
        names = self._graph_column("SELECT DISTINCT ?g WHERE { GRAPH ?g {} }", deadline)
        if names:
            return names
        recorded = self._graph_column(f"SELECT ?g WHERE {{ GRAPH <{BUILD_GRAPH}> {{ ?g a <{VOID}Dataset> }} }}", deadline)
        if recorded:
            keys = self._graph_column(f"SELECT ?g WHERE {{ VALUES ?g {{ <{IMPORT_SEARCH_KEYS}> }} "
                                      "FILTER EXISTS { GRAPH ?g { ?s ?p ?o } } }", deadline)
            return tuple(sorted({*recorded, *keys, BUILD_GRAPH}))
        return self._graph_column("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", deadline)

    def _graph_column(self, text: str, deadline: float) -> tuple[str, ...]:
        """The rkg graph IRIs of the ?g column of a SELECT (unbound where the engine bound nothing)."""
        names = {row["g"].value for row in self._select(text, [], deadline, max(0.1, deadline - time.monotonic()))
                 if isinstance(row["g"], ox.NamedNode) and row["g"].value.startswith(RKG_GRAPHS)}
        return tuple(sorted(names))

    def built_counts(self, deadline: float) -> dict[str, int]:
        """Triples per graph as the build recorded them in its build graph (``void:triples``, tens of
        rows): the engine's own counts without a scan, and what changes when a new build is loaded."""
        text = f"SELECT ?g ?n WHERE {{ GRAPH <{BUILD_GRAPH}> {{ ?g <{VOID}triples> ?n }} }}"
        return {row["g"].value: int(row["n"].value)
                for row in self._select(text, [], deadline, max(0.1, deadline - time.monotonic()))
                if isinstance(row["g"], ox.NamedNode)}

    def _listing(self, deadline: float, fresh: bool = False) -> _Listing:
        cached = self._graphs
        if cached and not fresh and time.monotonic() - cached.at < GRAPHS_TTL:
            return cached
        with self._graphs_lock:
            cached = self._graphs
            if cached and not fresh and time.monotonic() - cached.at < GRAPHS_TTL:  # another thread asked meanwhile
                return cached
            import hashlib

            names = self.graph_names(deadline)
            built = self.built_counts(deadline) if BUILD_GRAPH in names else {}
            digest = hashlib.blake2b(json.dumps([names, built], sort_keys=True).encode(), digest_size=5).hexdigest()
            dataset = urlencode([("default-graph-uri", g) for g in names] + [("named-graph-uri", g) for g in names])
            self._graphs = _Listing(time.monotonic(), names, built, digest, dataset)
            return self._graphs

    def fingerprint(self, timeout: float = 10.0) -> str:
        """A short digest of rkg's graphs on the engine and of the counts its build graph records: it changes
        when another build is loaded (two queries on lists of tens of rows, asked again and digested once
        every GRAPHS_TTL seconds, not per request)."""
        return self._listing(time.monotonic() + timeout).digest

    def stats(self, deadline: float) -> dict:
        """Counts for /health, the home page and VoID: asked by the server off the request path (once per
        version), and counted on the engine (the build graph's figures are what was built, not what is held)."""
        counts = self.counts(deadline)  # every rkg graph that holds a triple: an empty one adds none to the union
        union = self._select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", [("default-graph-uri", g) for g in counts],
                             deadline, max(0.1, deadline - time.monotonic()))
        triples = int(next(iter(union))["n"].value) if counts else 0
        return {"graphs": counts, "default": 0, "quads": sum(counts.values()), "triples": triples}

    # ------------------------------------------------------------ fetching the data

    def quads(self, deadline: float) -> Iterator[ox.Quad]:
        """Every quad of rkg's graphs, read in one answer (blank nodes keep one label across graphs)."""
        graphs = self.graphs(deadline, fresh=True)
        if not graphs:
            return iter(())
        try:
            answer = self._select("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                                  [("named-graph-uri", g) for g in graphs], deadline,
                                  max(0.1, deadline - time.monotonic()))
        except SyntaxError as e:  # an answer the engine cut (its time limit, or Virtuoso's ResultSetMaxRows)
            raise Unreachable(f"the SPARQL engine did not send every quad in one answer ({str(e)[:120]}); raise its "
                              "time limit and result-size limit (Oxigraph server --timeout-s, Virtuoso "
                              "ResultSetMaxRows / MaxQueryExecutionTime), or validate the build locally") from None
        return (ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in answer)

    def write_nquads(self, path: str, deadline: float) -> int:
        n = 0
        with open(path, "wb") as out:
            batch = []
            for quad in self.quads(deadline):
                batch.append(quad)
                n += 1
                if len(batch) >= 50_000:
                    ox.serialize(batch, out, ox.RdfFormat.N_QUADS)
                    batch = []
            if batch:
                ox.serialize(batch, out, ox.RdfFormat.N_QUADS)
        return n

    def validate(self, job: ValidationJob, deadline: float) -> Outcome:
        """The validation report of rkg's graphs on the engine, made in a process of its own (``OneShot``) on
        a copy of them."""
        import os
        import tempfile

        from .executor import OneShot
        from .jobs import StoreSpec

        fd, path = tempfile.mkstemp(prefix="rkg-remote-", suffix=".nq")
        os.close(fd)
        try:
            self.write_nquads(path, deadline)
            return OneShot(StoreSpec("memory", path, memory_bytes=self.memory)).run(job, max(0.1, deadline - time.monotonic()))
        finally:
            os.unlink(path)


_VIRTUOSO_BNODE = re.compile(rb'("type"\s*:\s*"bnode"\s*,\s*"value"\s*:\s*")nodeID://')


def _clean(body: bytes) -> bytes:
    """Virtuoso names blank nodes ``nodeID://b123`` in SPARQL JSON, which is no blank node label: ``b123``."""
    return _VIRTUOSO_BNODE.sub(rb"\1", body) if b"nodeID://" in body else body


def _ask_rows(answer: ox.QuerySolutions) -> bool:
    for row in answer:
        value = row[0] if len(answer.variables) else None
        return value is not None and value.value not in ("0", "false")
    return False


def _rows(body: bytes, cut: bool) -> tuple[list[str], Iterator[tuple]]:
    """Variables and rows of a SPARQL JSON document that may end early (read up to a cap)."""
    answer = ox.parse_query_results(io.BytesIO(body), format=ox.QueryResultsFormat.JSON)
    variables = [v.value for v in answer.variables]

    def rows() -> Iterator[tuple]:
        try:
            for sol in answer:
                yield tuple(sol[v] for v in variables)
        except SyntaxError:
            if not cut:
                raise
            return  # the end of a cut document
    return variables, rows()


def _triples(body: bytes, fmt: ox.RdfFormat, cut: bool) -> Iterator[ox.Triple]:
    try:
        for t in ox.parse(io.BytesIO(body), fmt):
            yield t if isinstance(t, ox.Triple) else ox.Triple(t.subject, t.predicate, t.object)
    except SyntaxError:
        if not cut:
            raise
        return  # the end of a cut document


# ---------------------------------------------------------------- loading a build into an engine


LOADERS = ("oxigraph", "virtuoso-isql")


def load(url: str, nquads: str, loader: str, progress=None, *, isql: str = "localhost:1111", isql_user: str = "dba",
         isql_password: str = "dba", load_dir: str | None = None, timeout: float = 3600.0) -> dict[str, int]:
    """Replace rkg's graphs on the engine at ``url`` by those of the built file ``nquads``, with the
    engine's own loader; returns the triples per graph the engine then holds (checked against the file)."""
    remote = RemoteExecutor(url)
    try:
        deadline = time.monotonic() + timeout
        old = remote.graphs(deadline, fresh=True)
        started = time.monotonic()
        if loader == "oxigraph":
            _load_oxigraph(remote, nquads, old, deadline)
        elif loader == "virtuoso-isql":
            _load_virtuoso(nquads, old, isql, isql_user, isql_password, load_dir, timeout)
        else:
            raise InputError(f"unknown loader {loader!r}; the loaders are: {', '.join(LOADERS)}")
        if progress:
            progress(f"loaded {nquads} into {url} with the {loader} loader in {time.monotonic() - started:.1f} s")
        counts = remote.counts(deadline)
        expected = _expected_counts(nquads)
        if counts != dict(sorted(expected.items())):
            raise InputError(f"the engine at {url} does not hold what was loaded: {sum(counts.values())} triples in "
                             f"{len(counts)} graphs, expected {sum(expected.values())} in {len(expected)}")
        return counts
    finally:
        remote.close()


def _load_oxigraph(remote: RemoteExecutor, nquads: str, old: tuple[str, ...], deadline: float) -> None:
    """Oxigraph server: its Graph Store endpoint (``/store`` beside ``/query``): each old graph deleted,
    then the whole file posted as N-Quads with ``no_transaction`` (its bulk loader)."""
    import os

    http_ = remote.http
    store = http_.path.rsplit("/", 1)[0] + "/store"
    for g in old:
        status, _, body, _ = http_.request("DELETE", http_.target(store, {"graph": g}), None, {}, deadline, 1 << 20)
        if status not in (200, 204, 404):
            raise InputError(f"the engine refused to drop <{g}>: HTTP {status} {_message(status, body)}")
    with open(nquads, "rb") as f:
        headers = {"Content-Type": formats.N_QUADS, "Content-Length": str(os.fstat(f.fileno()).st_size)}
        status, _, body, _ = http_.request("POST", http_.target(store, {"no_transaction": ""}), f, headers,  # type: ignore[arg-type]
                                           deadline, 1 << 20)
    if status not in (200, 201, 204):
        raise InputError(f"the engine refused the load: HTTP {status} {_message(status, body)}")


def _load_virtuoso(nquads: str, old: tuple[str, ...], isql: str, user: str, password: str, load_dir: str | None,
                   timeout: float) -> None:
    """Virtuoso: its bulk loader (``ld_dir``, ``rdf_loader_run``) through ``isql-vt``, on a copy of the file
    in ``load_dir``, a folder of its ``DirsAllowed`` on the engine's machine."""
    import hashlib
    import os
    import shutil
    import subprocess
    from pathlib import Path

    if not load_dir:
        raise InputError("the virtuoso-isql loader needs --load-dir DIR, a folder listed in DirsAllowed of "
                         "virtuoso.ini on this machine")
    binary = shutil.which("isql-vt") or shutil.which("isql")
    if binary is None:
        raise InputError("the virtuoso-isql loader needs Virtuoso's isql-vt (Debian: virtuoso-opensource-7-bin)")
    folder = Path(load_dir).resolve()
    with open(nquads, "rb") as f:  # streamed: rkg.nq may be gigabytes
        name = "rkg-" + hashlib.file_digest(f, lambda: hashlib.blake2b(digest_size=8)).hexdigest() + ".nq"
    shutil.copyfile(nquads, folder / name)

    def sql(text: str) -> str:
        return text.replace("'", "''")

    statements = ["log_enable(3,1);"]
    statements += [f"SPARQL CLEAR GRAPH <{g}>;" for g in old]
    statements += [
        f"DELETE FROM DB.DBA.LOAD_LIST WHERE ll_file = '{sql(str(folder / name))}';",
        f"ld_dir('{sql(str(folder))}', '{sql(name)}', '{sql(RKG_GRAPHS + 'default')}');",
        "rdf_loader_run();",
        "checkpoint;",
        f"SELECT 'LOAD' || '-ERROR', ll_error FROM DB.DBA.LOAD_LIST WHERE ll_file = '{sql(str(folder / name))}' "
        "AND ll_error IS NOT NULL;",
    ]
    try:
        done = subprocess.run([binary, isql, user, password], input="\n".join(statements) + "\n", text=True,
                              capture_output=True, timeout=timeout)
    finally:
        os.unlink(folder / name)
    out = done.stdout + done.stderr
    if done.returncode != 0 or "*** Error" in out or "LOAD-ERROR" in out:
        lines = [line for line in out.splitlines() if "Error" in line or "LOAD-ERROR" in line]
        raise InputError("Virtuoso's loader failed: " + (" ".join(lines)[:500] or f"isql exit {done.returncode}"))


def _local_shape(text: str, timeout: float) -> Outcome:
    """Read ``text`` in this process (``rkg validate --store`` and other one-shot callers, whose texts are
    the project's own questions); the server passes ``EndpointState.shape``, which reads in a sandbox."""
    from .executor import run_shape

    return run_shape(ShapeJob(text))


def _expected_counts(nquads: str) -> dict[str, int]:
    """Triples per graph of a built file: the build's manifest beside it (counted by its store, so a quad
    written twice counts once, as an engine holds it), else the file read through."""
    from pathlib import Path

    from .build import manifest_of

    built = manifest_of(Path(nquads))
    if built is not None:
        return {g: int(n) for g, n in built["graphs"].items() if int(n)}
    seen: set[ox.Quad] = set()
    expected: dict[str, int] = {}
    for q in ox.parse(path=nquads, format=ox.RdfFormat.N_QUADS):
        if q not in seen:
            seen.add(q)
            g = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
            expected[g] = expected.get(g, 0) + 1
    return expected
