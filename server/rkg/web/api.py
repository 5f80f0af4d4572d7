"""The named-query API: ``/api/queries`` lists the questions of ``queries/``, ``/api/queries/<name>``
runs one with checked parameters, ``/api/openapi.json`` describes both (OpenAPI 3.0, generated from the
query headers). Parameters are bound by ``rkg.catalog`` as typed terms, never pasted into the text."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request

from ..bindings import bind
from ..catalog import Catalog, NamedQuery
from ..formats import API as FORMATS, API_RESULTS, CSV, HTML, JSON, content_type
from ..negotiation import negotiate
from . import reads
from .errors import HttpError
from .protocol import etag_matches
from .i18n import choose
from .state import EndpointState

blueprint = Blueprint("api", __name__, url_prefix="/api")

_SCHEMA_TYPES = {"iri": {"type": "string", "format": "uri"}, "integer": {"type": "integer"}, "number": {"type": "integer"}}


def _catalog() -> Catalog:
    return current_app.extensions["rkg.catalog"]


def describe(name: str, q: NamedQuery) -> dict[str, Any]:
    return {
        "name": name,
        "summary": {"en": q.summary, "fr": q.summary_in("fr")},
        "description": {"en": q.meta.get("description", ""), "fr": q.meta.get("description_fr", "")},
        "tags": list(q.meta.get("tags") or []),
        "qc": q.qc,
        "parameters": [{"name": p.name, "type": p.type, "required": p.required and p.default is None,
                        "default": p.default, "allowed": list(p.allowed)} for p in q.parameters],
        "columns": [next(iter(c)) for c in q.meta.get("columns") or []],
        "href": f"/api/queries/{name}",
    }


@blueprint.get("/queries")
def list_queries() -> Response:
    body = [describe(name, q) for name, q in _catalog().queries.items()]
    return Response(json.dumps(body, ensure_ascii=False, indent=1), mimetype=JSON.media)


@blueprint.get("/queries/<path:name>")
def run_query(name: str) -> Response:
    catalog = _catalog()
    query = catalog.queries.get(name)
    if query is None:
        raise HttpError(404, f"no named query '{name}'; see /api/queries")
    # format=json|csv|html wins over Accept; Accept: application/json, */* or none answer JSON
    fmt = negotiate(request.headers.get("Accept"), FORMATS, request.args.get("format"))
    if fmt is None:
        raise HttpError(406, "offered: " + ", ".join(FORMATS))
    names = {p.name for p in query.parameters}
    # format= chooses the answer's format, lang= the interface language of the HTML table (unless the
    # query itself has a parameter of that name)
    values = {k: v for k, v in request.args.items() if k != "format" and (k != "lang" or k in names)}
    state: EndpointState = current_app.extensions["rkg"]
    bindings = query.bindings(values)  # a ParameterError (an InputError) is answered 400
    if query.programme(bindings) is not None:  # one of the graph's programmes, or 400 with their ids
        query.check_programme(bindings, (r["programme"].value for r in reads.select(state, "programme-iris")))
    # the same version-keyed result cache as /sparql and the pages: a repeated question costs a look-up
    hit = reads.run(state, bind(query.text, bindings), API_RESULTS[fmt], None)
    if fmt == HTML.media:
        return Response(_html_table(name, query, values, json.loads(hit.body)), mimetype=HTML.media)
    if etag_matches(request.headers.get("If-None-Match"), hit.etag):
        return Response(status=304, headers=[("ETag", hit.etag), ("Vary", "Accept")])
    headers = [(k, v) for k, v in hit.headers if k != "Content-Type"]
    return Response(hit.body, headers=[("Content-Type", content_type(fmt)), *headers])


def _html_table(name: str, query: NamedQuery, values: dict[str, str], data: dict) -> str:
    lang = choose(request)
    link = f"/api/queries/{name}?" + urlencode(values)
    return render_template("table.html", name=name, title=query.summary_in(lang),
                           description=query.meta.get(f"description_{lang}") or query.meta.get("description", ""),
                           params=values, columns=data["head"]["vars"], rows=data["results"]["bindings"],
                           csv_url=link + "&format=csv", json_url=link + "&format=json")


@blueprint.get("/openapi.json")
def openapi() -> Response:
    return Response(json.dumps(openapi_spec(_catalog()), ensure_ascii=False, indent=1), mimetype=JSON.media)


def openapi_spec(catalog: Catalog) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/api/queries": {"get": {"operationId": "listQueries", "summary": "List the named queries",
                                 "responses": {"200": {"description": "The named queries with their parameters",
                                                       "content": {JSON.media: {"schema": {"type": "array", "items": {"type": "object"}}}}}}}},
    }
    for name, q in catalog.queries.items():
        params = []
        for p in q.parameters:
            schema: dict[str, Any] = dict(_SCHEMA_TYPES.get(p.type, {"type": "string"}))
            if p.allowed:
                schema["enum"] = list(p.allowed)
            if p.default is not None:
                schema["default"] = p.default
            params.append({"name": p.name, "in": "query", "required": p.required and p.default is None, "schema": schema,
                           "description": f"{p.type}" + (" (IRI or short programme id, e.g. rncp31854-pif)" if p.name == "programme" else "")})
        params.append({"name": "format", "in": "query", "required": False,
                       "schema": {"type": "string", "enum": list(FORMATS.values())}, "description": "instead of Accept"})
        op_id = "query_" + name.replace("/", "_").replace("-", "_")
        paths[f"/api/queries/{name}"] = {"get": {
            "operationId": op_id, "summary": q.summary, "description": str(q.meta.get("description", "")),
            "tags": ["qc" if q.qc else "questions", *[str(t) for t in q.meta.get("tags") or []]],
            "parameters": params,
            "responses": {
                "200": {"description": "SPARQL 1.1 JSON results (default), CSV or an HTML table",
                        "content": {JSON.media: {"schema": {"type": "object"}}, CSV.media: {"schema": {"type": "string"}},
                                    HTML.media: {"schema": {"type": "string"}}}},
                "400": {"description": "A parameter does not fit the query header (the message lists allowed values), "
                                       "or names a programme the graph does not hold (the message lists its programmes)"},
                "503": {"description": "Stopped by the time limit"},
            }}}
    return {"openapi": "3.0.3",
            "info": {"title": "rkg named queries", "version": "1",
                     "description": "Named questions over the competency-framework graph, generated from queries/*.rq headers."},
            "paths": paths}
