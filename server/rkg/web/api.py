"""The named-query API: ``/api/queries`` lists the questions of ``queries/``, ``/api/queries/<name>``
runs one with checked parameters, ``/api/openapi.json`` describes both (OpenAPI 3.0, generated from the
query headers). Parameters are bound by ``rkg.catalog`` as typed terms, never pasted into the text.
``/api/coverage`` downloads a heat map (the ``/coverage`` page's) as a workbook, its cells coloured.

Answers come as SPARQL JSON (default), CSV, an HTML table, or a workbook (``.xlsx`` or ``.ods``: one sheet, a
header row of the columns then the rows; numbers as number cells, everything else as text), all from the
same version-keyed result cache, under the same row and byte caps."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request

from ..bindings import bind
from ..catalog import Catalog, NamedQuery
from ..formats import API as FORMATS, API_RESULTS, CSV, HTML, JSON, WORKBOOKS, content_type, offered
from ..interop.workbook import Sheet, workbook_bytes
from ..namespaces import XSD, programme_id
from ..negotiation import negotiate
from . import heatmap, reads
from .errors import HttpError
from .protocol import etag_matches
from .i18n import choose
from .pages import coverage_csv_answer, kind_arg, programme_arg
from .state import Cached, EndpointState

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
    # the same version-keyed result cache as /sparql and the pages: a repeated question costs a look-up; a
    # new parameter value is not read again (QueryJob.shape_of)
    hit = reads.run(state, bind(query.text, bindings), API_RESULTS[fmt], None, query.text)
    if fmt == HTML.media:
        return Response(_html_table(name, query, values, json.loads(hit.body)), mimetype=HTML.media)
    workbook = _WORKBOOK_MEDIA.get(fmt)
    if workbook is not None:
        return _workbook_answer(state, hit, workbook, _file_name(name), lambda: [results_sheet(name, json.loads(hit.body))])
    if etag_matches(request.headers.get("If-None-Match"), hit.etag):
        return Response(status=304, headers=[("ETag", hit.etag), ("Vary", "Accept")])
    headers = [(k, v) for k, v in hit.headers if k != "Content-Type"]
    return Response(hit.body, headers=[("Content-Type", content_type(fmt)), *headers])


_WORKBOOK_MEDIA = {f.media: ext for ext, f in WORKBOOKS.items()}
COVERAGE_FORMATS: dict[str, str] = offered([*WORKBOOKS.values(), CSV])
"""Downloads of a heat map (``/api/coverage``); the first is the default."""


def _file_name(name: str) -> str:
    """A question's name as a file name (``qc/NAME`` → ``qc-NAME``)."""
    return name.replace("/", "-")


def _workbook_answer(state: EndpointState, source: Cached, ext: str, stem: str, sheets) -> Response:
    """A workbook made from the cached answer ``source`` by ``sheets()``, itself cached under the graph
    version; its ETag is the source's with the format (the same rows, another representation), so a
    client that has it gets 304 before any workbook is made."""
    etag = source.etag[:-1] + "-" + ext + '"'
    if etag_matches(request.headers.get("If-None-Match"), etag):
        return Response(status=304, headers=[("ETag", etag), ("Vary", "Accept")])
    key = ("workbook", state.version, source.etag, ext)
    hit = state.cache.get(key)
    if hit is None:
        media = WORKBOOKS[ext].media
        extra = tuple((k, v) for k, v in source.headers if k == "X-RKG-Truncated")
        hit = Cached(200, (("Content-Type", media), ("ETag", etag), ("Vary", "Accept"), ("Cache-Control", "no-cache"), *extra),
                     workbook_bytes(sheets(), ext), etag)
        state.cache.put(key, hit)
    return Response(hit.body, headers=[*hit.headers, ("Content-Disposition", f'attachment; filename="{stem}.{ext}"')])


_SHEET_NAME_BAD = str.maketrans({c: "-" for c in "[]:*?/\\"})


def results_sheet(name: str, data: dict) -> Sheet:
    """A SELECT answer (SPARQL JSON) as one sheet: the columns, then a row per solution; numbers
    (``xsd:integer``, ``decimal``, ``double``…) as number cells, IRIs and other literals as text."""
    columns = data["head"]["vars"]
    rows: list[list] = [list(columns)]
    for b in data["results"]["bindings"]:
        rows.append([_cell(b.get(c)) for c in columns])
    return Sheet(name.translate(_SHEET_NAME_BAD)[:31] or "results", rows)


_NUMBERS = {**{XSD + t: int for t in ("integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger")},
            XSD + "decimal": Decimal, XSD + "double": float, XSD + "float": float}
"""Literal datatypes written as number cells, and how their lexical form is read."""


def _cell(term: dict | None):
    if term is None:
        return None
    number = _NUMBERS.get(term.get("datatype", ""))
    if number is not None:
        try:
            return number(term["value"])
        except (ValueError, ArithmeticError):  # a literal that is not of its type: kept as written
            return term["value"]
    return term["value"]


@blueprint.get("/coverage")
def coverage() -> Response:
    """A heat map as a workbook (``format=xlsx|ods``, or Accept) or CSV, with the parameters of the
    ``/coverage`` page (``programme``, ``kind``, ``lang``)."""
    fmt = negotiate(request.headers.get("Accept"), COVERAGE_FORMATS, request.args.get("format"))
    if fmt is None:
        raise HttpError(406, "offered: " + ", ".join(COVERAGE_FORMATS))
    state: EndpointState = current_app.extensions["rkg"]
    current = programme_arg(state)[0]
    kind, lang = kind_arg(current), choose(request)  # as the /coverage page: lang=, the cookie, Accept-Language
    ext = _WORKBOOK_MEDIA.get(fmt)
    if ext is None:
        return coverage_csv_answer(state, current.iri, kind, lang)
    stem = f"coverage-{programme_id(current.iri)}-{kind}"
    sheet = heatmap.matrix(state, current.iri, kind).sheet(lang)
    source = Cached.answer(repr((sheet.rows, sorted(sheet.fills.items()))).encode("utf-8"), CSV.media)  # its ETag
    return _workbook_answer(state, source, ext, stem, lambda: [sheet])


def _html_table(name: str, query: NamedQuery, values: dict[str, str], data: dict) -> str:
    lang = choose(request)
    link = f"/api/queries/{name}?" + urlencode(values)
    return render_template("table.html", name=name, title=query.summary_in(lang),
                           description=query.meta.get(f"description_{lang}") or query.meta.get("description", ""),
                           params=values, columns=data["head"]["vars"], rows=data["results"]["bindings"],
                           csv_url=link + "&format=csv", json_url=link + "&format=json",
                           workbook_urls={ext: link + "&format=" + ext for ext in WORKBOOKS})


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
                "200": {"description": "SPARQL 1.1 JSON results (default), CSV, an HTML table, or a workbook (.xlsx, .ods)",
                        "content": {JSON.media: {"schema": {"type": "object"}}, CSV.media: {"schema": {"type": "string"}},
                                    HTML.media: {"schema": {"type": "string"}},
                                    **{f.media: {"schema": {"type": "string", "format": "binary"}} for f in WORKBOOKS.values()}}},
                "400": {"description": "A parameter does not fit the query header (the message lists allowed values), "
                                       "or names a programme the graph does not hold (the message lists its programmes)"},
                "503": {"description": "Stopped by the time limit"},
            }}}
    return {"openapi": "3.0.3",
            "info": {"title": "rkg named queries", "version": "1",
                     "description": "Named questions over the competency-framework graph, generated from queries/*.rq headers."},
            "paths": paths}
