"""The SPARQL 1.1 Protocol at ``/sparql``, as a small WSGI layer in front of the Flask app.

It sits first in the WSGI stack so that a cached answer costs a dictionary look-up: requests for other
paths go straight to Flask. Query and update operations, dataset parameters, content negotiation,
errors with the protocol's status codes, CORS, the result cache with ETags, and one log line per request.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl

import pyoxigraph as ox

from urllib.parse import quote

from ..formats import CONTENT_TYPES, GRAPHS, REPORTS, RESULTS, SHORT_PARAMETERS as FORMAT_PARAMS
from ..formats import FORM, JSON, SPARQL_QUERY, SPARQL_UPDATE
from ..formats import SERVICE_DESCRIPTION as SD_FORMATS
from ..jobs import Kind, Outcome, QueryJob, Timeout, UpdateJob
from ..negotiation import negotiate, wants_html
from ..results import graph
from .describe import service_description
from .errors import HttpError, STATUS_OF_KIND, answer, from_exception, from_outcome, status_line
from .state import Cached, EndpointState

log = logging.getLogger("rkg.access")

StartResponse = Callable[..., object]
WSGIApp = Callable[[dict, StartResponse], Iterable[bytes]]

CORS = (("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Expose-Headers",
         "ETag, X-RKG-Truncated, X-RKG-Changed-Graphs, X-RKG-Validated-Graphs, X-Request-Id"))
BASE_IRI = re.compile(r"https?://[A-Za-z0-9._~:\[\]%-]+(/[A-Za-z0-9._~:/@!$&'()*+,;=%-]*)?")
HOST = re.compile(r"(?:(?:[A-Za-z0-9._~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?")


class SparqlProtocol:
    def __init__(self, app: WSGIApp, state: EndpointState, path: str = "/sparql") -> None:
        self.app, self.state, self.path = app, state, path

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        request_id = environ.setdefault("rkg.request_id", os.urandom(6).hex())  # logged with sandbox crashes
        host = environ.get("HTTP_HOST")
        if host is not None and not HOST.fullmatch(host):  # RFC 9112 §3.2: 400; the endpoint IRI is built from it
            status, headers, body = answer(HttpError(400, "the Host header is not a valid host[:port]"),
                                           self.path, None, request_id)
            start_response(status_line(status), [*headers, *CORS, ("Content-Length", str(len(body)))])
            return [body]
        if environ.get("PATH_INFO") != self.path or self._editor(environ):
            return self.app(environ, start_response)
        started = time.perf_counter()
        status, headers, body, digest = self._handle(environ)
        headers = [*headers, *CORS, ("Content-Length", str(len(body)))]
        if not any(h[0] == "X-Request-Id" for h in headers):
            headers.append(("X-Request-Id", request_id))
        start_response(status_line(status), headers)
        log.info("%s %s %d %.1fms %dB id=%s%s", environ.get("REQUEST_METHOD"), self.path, status,
                 (time.perf_counter() - started) * 1000, len(body), request_id, f" q={digest}" if digest else "")
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]

    @staticmethod
    def _editor(environ: dict) -> bool:
        """A browser opening /sparql without an operation gets the editor page (served by Flask)."""
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return False
        qs = environ.get("QUERY_STRING", "")
        if "query=" in qs or "update=" in qs or not wants_html(environ.get("HTTP_ACCEPT")):
            return False
        return not {k for k, _ in parse_form(qs)} & {"query", "update"}

    # ------------------------------------------------------------ request → operation

    def _handle(self, environ: dict) -> tuple[int, list[tuple[str, str]], bytes, str]:
        digest = ""
        try:
            method = environ.get("REQUEST_METHOD", "GET")
            if method == "OPTIONS":
                return 204, [("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
                             ("Access-Control-Allow-Headers", "Accept, Authorization, Content-Type, If-None-Match"),
                             ("Access-Control-Max-Age", "86400")], b"", ""
            params, body_operation = self._read(environ, method)
            queries = [v for k, v in params if k == "query"]
            updates = [v for k, v in params if k == "update"]
            if body_operation is not None:
                (queries if body_operation[0] == "query" else updates).append(body_operation[1])
            if len(queries) > 1 or len(updates) > 1:
                raise HttpError(400, "the 'query' or 'update' parameter is given more than once")
            if queries and updates:
                raise HttpError(400, "a request carries either a query or an update, not both")
            if queries:
                digest = hashlib.sha256(queries[0].encode()).hexdigest()[:12]
                return (*self._query(environ, queries[0], params), digest)
            if updates:
                digest = hashlib.sha256(updates[0].encode()).hexdigest()[:12]
                if method != "POST":
                    raise HttpError(405, "updates are sent with POST", (("Allow", "POST"),))
                return (*self._update(environ, updates[0], params), digest)
            if method == "POST":
                raise HttpError(400, "missing 'query' or 'update' parameter")
            return (*self._describe(environ), digest)
        except Exception as e:  # noqa: BLE001 - every error is answered; a bug as 500 with the request id
            request_id = environ.get("rkg.request_id", "-")
            if isinstance(e, Timeout) and environ.get("rkg.update"):
                self.state.written()  # the sandbox may have been killed after committing: drop cached answers
            return (*answer(from_exception(e, request_id), self.path, environ.get("HTTP_ACCEPT"), request_id), digest)

    def _read(self, environ: dict, method: str) -> tuple[list[tuple[str, str]], tuple[str, str] | None]:
        limit = self.state.config.max_request_bytes
        qs = environ.get("QUERY_STRING", "")
        if len(qs) > limit:
            raise HttpError(413, f"the query string is larger than {limit} bytes")
        params = parse_form(qs)
        if method in ("GET", "HEAD"):
            return params, None
        if method != "POST":
            raise HttpError(405, f"{method} is not allowed on {self.path}", (("Allow", "GET, HEAD, POST, OPTIONS"),))
        length = environ.get("CONTENT_LENGTH") or ""
        if length.isdigit() and int(length) > limit:
            raise HttpError(413, f"the request body is larger than {limit} bytes")
        body = environ["wsgi.input"].read(int(length) if length.isdigit() else limit + 1)
        if len(body) > limit:
            raise HttpError(413, f"the request body is larger than {limit} bytes")
        media = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise HttpError(400, "the request body is not UTF-8") from None
        if media == FORM:
            return params + parse_form(text), None
        if media == SPARQL_QUERY:
            return params, ("query", text)
        if media == SPARQL_UPDATE:
            return params, ("update", text)
        raise HttpError(415, f"POST bodies must be {FORM}, {SPARQL_QUERY} or {SPARQL_UPDATE}")

    # ------------------------------------------------------------ operations

    def _query(self, environ: dict, text: str, params: list[tuple[str, str]]) -> tuple[int, list, bytes]:
        config, state = self.state.config, self.state
        accept = environ.get("HTTP_ACCEPT")
        short = next((v for k, v in params if k in FORMAT_PARAMS and v), None)
        dgs = graph_iris(params, "default-graph-uri")
        ngs = graph_iris(params, "named-graph-uri")
        base = endpoint_iri(environ, self.path)
        # Keyed on the request as sent (Accept as given, not negotiated): a hit skips the federation guard
        # and negotiation, which passed for these same inputs when the entry was stored (config is fixed).
        key = (state.version, base, text, dgs, ngs, accept, short)
        hit = state.cache.get(key)
        if hit is None:
            network = state.check(text, False, environ, base)
            results_media = negotiate(accept, RESULTS, short)
            graph_media = negotiate(accept, GRAPHS, short)
            if results_media is None and graph_media is None:
                raise HttpError(406, "none of the accepted media types can carry SPARQL results; offered: "
                                         + ", ".join([*RESULTS, *GRAPHS]))
            job = QueryJob(text, results_media, graph_media, dgs, ngs, config.max_rows, base, config.max_answer_bytes)
            out = state.run(job, environ, network=network)
            if not out.done:
                raise from_outcome(out, environ.get("rkg.request_id", "-"))
            hit = Cached.answer(out.body, CONTENT_TYPES[out.media or ""],
                                (out.message or f"results cut at {config.max_rows} rows") if out.truncated else None)
            if out.extra.get("deterministic"):  # RAND(), NOW(), UUID()… (read from the parse) answer anew
                state.cache.put(key, hit)
        if etag_matches(environ.get("HTTP_IF_NONE_MATCH"), hit.etag):
            return 304, [("ETag", hit.etag), ("Vary", "Accept")], b""
        return hit.status, list(hit.headers), hit.body

    def _update(self, environ: dict, text: str, params: list[tuple[str, str]]) -> tuple[int, list, bytes]:
        config, state = self.state.config, self.state
        if not config.writable:
            raise HttpError(403, "this endpoint is read-only: SPARQL Update is disabled")
        check_token(environ, config.update_token or "")
        base = endpoint_iri(environ, self.path)
        state.check(text, True, environ, base)
        using = graph_iris(params, "using-graph-uri")
        using_named = graph_iris(params, "using-named-graph-uri")
        job = UpdateJob(text, using, using_named, report_media(environ.get("HTTP_ACCEPT")), base)
        environ["rkg.update"] = True  # a Timeout may come after the commit (see _handle)
        out = state.run(job, environ)
        written = write_headers(out)
        if out.done:
            state.written()
            return 204, written, b""
        if out.kind is Kind.INVALID and out.body:  # the validation report of a refused write
            return STATUS_OF_KIND[out.kind], [("Content-Type", out.media or JSON.media), *written], out.body
        raise from_outcome(out, environ.get("rkg.request_id", "-"), written)

    def _describe(self, environ: dict) -> tuple[int, list, bytes]:
        state = self.state
        endpoint = base_url(environ) + self.path
        media = negotiate(environ.get("HTTP_ACCEPT"), SD_FORMATS)
        if media is None:
            raise HttpError(406, "the service description is offered as " + ", ".join(SD_FORMATS))
        stats = state.stats()
        triples = service_description(endpoint, stats, state.config.writable, state.version, bool(state.config.federation_allow))
        return 200, [("Content-Type", CONTENT_TYPES[media]), ("Vary", "Accept")], graph(triples, media)


def report_media(accept: str | None) -> str:
    """The format of a refused write's validation report for an Accept header (JSON unless Turtle is preferred)."""
    return negotiate(accept, REPORTS) or JSON.media


HEADER_LIMIT = 8000
"""Longest graph list sent in an ``X-RKG-…-Graphs`` header (clients refuse header lines over 64 KiB)."""


def write_headers(out: Outcome) -> list[tuple[str, str]]:
    """``X-RKG-Changed-Graphs`` and ``X-RKG-Validated-Graphs`` of a write (space-separated IRIs, ``default``
    for the default graph; left out when longer than HEADER_LIMIT) with ``X-RKG-…-Graph-Count``."""
    headers = []
    for kind, names in (("Changed", out.changed), ("Validated", out.validated)):
        value = " ".join(quote(n, safe=":/?#[]@!$&'()*+,;=%~-._") for n in names)
        if len(value) <= HEADER_LIMIT:
            headers.append((f"X-RKG-{kind}-Graphs", value))
        headers.append((f"X-RKG-{kind}-Graph-Count", str(len(names))))
    return headers


def graph_iris(params: list[tuple[str, str]], name: str) -> tuple[str, ...] | None:
    """The values of a dataset parameter, each checked to be an absolute IRI (400 otherwise, not an
    engine error later), or None when the parameter is absent."""
    values = tuple(v for k, v in params if k == name)
    for v in values:
        try:
            ox.NamedNode(v)
        except ValueError as e:
            raise HttpError(400, f"{name} must be an absolute IRI, not {v!r}: {e}") from None
    return values or None


def endpoint_iri(environ: dict, path: str) -> str | None:
    """The endpoint's URL, the base IRI of operations (the protocol leaves it to the service, "which MAY
    be the service endpoint"); None when the Host header does not make a plain IRI."""
    iri = base_url(environ) + path
    return iri if BASE_IRI.fullmatch(iri) else None


@functools.lru_cache(maxsize=1024)
def _parse_form(text: str) -> tuple[tuple[str, str], ...]:
    return tuple(parse_qsl(text, keep_blank_values=True))


def parse_form(text: str) -> list[tuple[str, str]]:
    """A form body's fields. Dashboards send the same bodies again and again: small ones are remembered."""
    return list(_parse_form(text)) if len(text) <= 16_384 else parse_qsl(text, keep_blank_values=True)


def etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    return header.strip() == "*" or etag in [t.strip().removeprefix("W/") for t in header.split(",")]


def check_token(environ: dict, token: str) -> None:
    given = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = given.partition(" ")
    challenge = (("WWW-Authenticate", 'Bearer realm="rkg"'),)
    if scheme.lower() != "bearer" or not value:
        raise HttpError(401, "writes need 'Authorization: Bearer <token>'", challenge)
    if not hmac.compare_digest(value.strip().encode(), token.encode()):
        raise HttpError(401, "wrong token", (("WWW-Authenticate", 'Bearer realm="rkg", error="invalid_token"'),))


def base_url(environ: dict) -> str:
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
    return f"{scheme}://{host}{environ.get('SCRIPT_NAME', '')}"
