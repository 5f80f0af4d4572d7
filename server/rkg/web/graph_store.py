"""The SPARQL 1.1 Graph Store HTTP Protocol at ``/store``, with indirect graph identification:
``/store?graph=IRI`` names a graph, ``/store?default`` the store's default graph.

* ``GET`` / ``HEAD``: the graph in the negotiated RDF format (Turtle, N-Triples, RDF/XML, JSON-LD, TriG,
  N-Quads), with an ETag; 404 when no graph has that name. Works on read-only services too.
* ``PUT`` replaces the graph with the request body, ``POST`` merges the body into it (201 when the graph
  is new, else 204), ``DELETE`` removes it (404 when it does not exist). Bodies: Turtle, N-Triples,
  RDF/XML or JSON-LD (415 otherwise). Writes need ``Authorization: Bearer <token>`` (401), are refused
  with 403 on a read-only service, and are validated like SPARQL updates: 422 with the report when the
  upload would introduce a SHACL violation, and then nothing is written (``rkg.writes``).

Every operation runs in the store's sandbox process (``GraphStoreJob``); this module never opens the
store. Relative IRIs in a body resolve against the graph's IRI (``?default``: the ``/store`` URL).
A POST to ``/store`` itself (the server minting a graph IRI) is not offered: name the graph.
"""

from __future__ import annotations

import hashlib
import logging
import time

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request

from ..formats import CONTENT_TYPES, GRAPHS, JSON, UPLOADS
from ..jobs import GraphStoreJob, Kind, Timeout
from ..negotiation import negotiate
from .errors import STATUS_OF_KIND, HttpError, answer, from_exception, from_outcome
from .protocol import check_token, etag_matches, report_media, write_headers
from .state import Cached, EndpointState

blueprint = Blueprint("graph_store", __name__)
log = logging.getLogger("rkg.access")

METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS")
EXPOSED = ("ETag, X-RKG-Truncated, X-RKG-Changed-Graphs, X-RKG-Validated-Graphs, X-RKG-Changed-Graph-Count, "
           "X-RKG-Validated-Graph-Count")


@blueprint.route("/store", methods=list(METHODS), provide_automatic_options=False)
def store() -> Response:
    state: EndpointState = current_app.extensions["rkg"]
    started = time.perf_counter()
    try:
        response = _handle(state)
    except Exception as e:  # noqa: BLE001 - answered here so that the access log below sees every answer
        if isinstance(e, Timeout) and request.method not in ("GET", "HEAD"):
            state.written()  # the write may have committed just before it was stopped
        request_id = request.environ.get("rkg.request_id", "-")
        status, headers, body = answer(from_exception(e, request_id), "/store", request.headers.get("Accept"),
                                       request_id)
        response = Response(body, status, headers=headers)
    response.headers["Access-Control-Expose-Headers"] = EXPOSED
    graph = request.args.get("graph") or ("default" if "default" in request.args else "-")
    log.info("%s /store %d %.1fms %dB graph=%s", request.method, response.status_code,
             (time.perf_counter() - started) * 1000, response.content_length or 0,
             graph if graph in ("default", "-") else "h:" + hashlib.sha256(graph.encode()).hexdigest()[:12])
    return response


def _handle(state: EndpointState) -> Response:
    method = request.method
    if method == "OPTIONS":
        return Response(status=204, headers={
            "Allow": ", ".join(METHODS), "Access-Control-Allow-Methods": ", ".join(METHODS),
            "Access-Control-Allow-Headers": "Accept, Authorization, Content-Type, If-None-Match",
            "Access-Control-Max-Age": "86400"})
    graph = _target()
    if method in ("GET", "HEAD"):
        return _read(state, graph)
    config = state.config
    if not config.writable:
        raise HttpError(403, "this service is read-only: the Graph Store protocol only answers GET and HEAD")
    check_token(request.environ, config.update_token or "")
    body, media = b"", None
    if method in ("PUT", "POST"):
        media = (request.mimetype or "").lower()
        if media not in UPLOADS:
            raise HttpError(415, "the request body must be an RDF graph in one of: " + ", ".join(UPLOADS))
        limit = config.max_request_bytes
        if (request.content_length or 0) > limit:
            raise HttpError(413, f"the request body is larger than {limit} bytes")
        body = request.stream.read(limit + 1)
        if len(body) > limit:
            raise HttpError(413, f"the request body is larger than {limit} bytes")
    base = graph if graph is not None else request.base_url
    job = GraphStoreJob(method, graph, media, body, base, report_media(request.headers.get("Accept")))
    out = state.run(job, request.environ)
    headers = write_headers(out)
    if out.done:
        if out.changed:
            state.written()
        response = Response(status=STATUS_OF_KIND[out.kind], headers=headers)
        del response.headers["Content-Type"]  # no body
        return response
    if out.kind is Kind.INVALID:
        return Response(out.body, STATUS_OF_KIND[out.kind], headers=headers, content_type=out.media or JSON.media)
    raise from_outcome(out, request.environ.get("rkg.request_id", "-"), headers)


def _target() -> str | None:
    """The graph IRI of ``?graph=``, or None for ``?default``."""
    graphs = request.args.getlist("graph")
    default = "default" in request.args
    if default and graphs:
        raise HttpError(400, "give either ?graph=IRI or ?default, not both")
    if len(graphs) > 1:
        raise HttpError(400, "the graph parameter is given more than once")
    if not default and not graphs:
        raise HttpError(400, "name the graph: /store?graph=IRI, or /store?default for the default graph")
    if default:
        return None
    try:
        iri = ox.NamedNode(graphs[0]).value
    except ValueError:
        raise HttpError(400, f"the graph parameter is not an IRI: {graphs[0]!r}") from None
    if ":" not in iri:
        raise HttpError(400, "the graph parameter must be an absolute IRI")
    return iri


def _read(state: EndpointState, graph: str | None) -> Response:
    config = state.config
    media = negotiate(request.headers.get("Accept"), GRAPHS)
    if media is None:
        raise HttpError(406, "graphs are offered as " + ", ".join(GRAPHS))
    key = ("graph-store", state.version, graph, media)
    hit = state.cache.get(key)
    if hit is None:
        out = state.run(GraphStoreJob("GET", graph, media, max_rows=config.max_rows), request.environ)
        if not out.done:
            raise from_outcome(out, request.environ.get("rkg.request_id", "-"))
        hit = Cached.answer(out.body, CONTENT_TYPES[media],
                            f"graph cut at {config.max_rows} triples" if out.truncated else None)
        state.cache.put(key, hit)
    if etag_matches(request.headers.get("If-None-Match"), hit.etag):
        return Response(status=304, headers=[("ETag", hit.etag), ("Vary", "Accept")])
    return Response(hit.body, 200, headers=list(hit.headers))
