"""Errors over HTTP: one type (``rkg.web.errors.HttpError``), one table from rkg's errors and job outcomes
to status codes, one way to answer — JSON under /api/, text for the protocols and for programs, an HTML
page for browsers — whichever layer the error comes from (a route, the protocol layer, the engine, a
page's query). A bug is a 500 that names its request id, logged with its traceback.

In-process (Flask test client through the whole WSGI stack); the real server answers the same way
(tests/web/test_protocol.py, tests/attack)."""

from __future__ import annotations

import json
import logging

import pytest

from support.build import ensure_built
from rkg import errors, guard
from rkg.catalog import ParameterError, UnknownQuery
from rkg.jobs import Busy, Kind, Outcome, Timeout
from rkg.web import create_app
from rkg.web import errors as web_errors
from rkg.web.config import Config
from rkg.web.state import EndpointState
from support.paths import ROOT

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ASK = "/sparql?query=ASK%7B%7D"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    nquads = ensure_built(tmp_path_factory.mktemp("errors-build"))
    app = create_app(Config(nquads=nquads, queries=ROOT / "queries", shapes=ROOT / "shapes", version="test"))
    yield app.test_client()
    app.extensions["rkg"].close()


def form_of(r) -> str:
    return {"application/json": "json", "text/html": "html", "text/plain": "text"}[r.mimetype]


def message_of(r) -> str:
    body = r.get_data(as_text=True)
    if r.mimetype == "application/json":
        return json.loads(body)["error"]
    return body


# ---------------------------------------------------------------- errors raised by the routes

CASES = {
    # name: (path, Accept, status, form, words of the message)
    "api-unknown-query": ("/api/queries/no-such-question", None, 404, "json", "no named query"),
    "api-unknown-query-browser": ("/api/queries/no-such-question", BROWSER, 404, "json", "no named query"),
    "api-bad-parameter": ("/api/queries/block-summary?nope=1", "application/json", 400, "json", "nope"),
    "api-unknown-programme": ("/api/queries/block-summary?programme=rncp0-none", None, 400, "json", "rncp0-none"),
    "api-not-acceptable": ("/api/queries/block-summary", "image/png", 406, "json", "offered"),
    "sparql-syntax": ("/sparql?query=SELEKT", "application/sparql-results+json", 400, "text", "syntax"),
    "sparql-syntax-browser": ("/sparql?query=SELEKT", BROWSER, 400, "text", "syntax"),
    "sparql-forbidden-service": ("/sparql?query=SELECT*%7BSERVICE%3Chttp://example.org/%3E%7B?s?p?o%7D%7D",
                                 None, 403, "text", "SERVICE"),
    "sparql-update-read-only": ("/sparql?update=CLEAR%20ALL", None, 405, "text", "POST"),
    "store-no-graph": ("/store", None, 400, "text", "name the graph"),
    "store-unknown-graph": ("/store?graph=http://example.org/none", None, 404, "text", "no graph"),
    "page-bad-kind-browser": ("/coverage?kind=nope", BROWSER, 400, "html", "kind must be one of"),
    "page-bad-kind-program": ("/coverage?kind=nope", "*/*", 400, "text", "kind must be one of"),
    "page-unknown-programme": ("/coverage?programme=rncp0-none", BROWSER, 404, "html", "rncp0-none"),
    "no-route-browser": ("/no/such/page", BROWSER, 404, "html", "not found"),
    "no-route-program": ("/no/such/page", None, 404, "text", "not found"),
    "release-unknown": ("/ontology/9.9.9", "text/turtle", 404, "text", "no release 9.9.9"),
    "entity-unknown-as-rdf": ("/resource?iri=http://example.org/none", "text/turtle", 404, "text", "nothing is known"),
    "void-not-acceptable": ("/.well-known/void", "image/png", 406, "text", "offered"),
}


@pytest.mark.parametrize("name", CASES)
def test_error_answers(client, name: str) -> None:
    path, accept, status, form, words = CASES[name]
    r = client.get(path, headers={"Accept": accept} if accept else {})
    assert r.status_code == status, r.get_data(as_text=True)[:500]
    assert form_of(r) == form
    assert words.lower() in message_of(r).lower()
    assert r.headers["X-Request-Id"]
    assert "Traceback" not in r.get_data(as_text=True)


# ---------------------------------------------------------------- errors from below: the same answer on every route

ROUTES = {
    # name: (path, form) — each route runs a job through EndpointState.run
    "sparql": (ASK, "text"),
    "store": ("/store?default", "text"),
    "api": ("/api/queries/block-summary", "json"),
    "page": ("/coverage", "html"),
}
RAISED = {
    # name: (exception, status, Retry-After)
    "timeout": (Timeout("the operation ran longer than the time limit of 10 s"), 503, "1"),
    "busy": (Busy("every query process stayed busy for 5 s; retry later"), 503, "1"),
    "too-many": (web_errors.TooManyRequests("this client already has 1 operation(s) running"), 429, "1"),
    "refused": (errors.Refused("this store is read-only"), 403, None),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("raised", RAISED)
def test_errors_from_the_engine_read_the_same_everywhere(client, monkeypatch: pytest.MonkeyPatch, route: str,
                                                         raised: str) -> None:
    """The 503 (and 429, 403) has one wording and one status whatever route met it; a page query that
    fails is answered, never a bare 500 (it once was: ``reads.ReadError`` had no handler)."""
    path, form = ROUTES[route]
    exc, status, retry = RAISED[raised]
    client.application.extensions["rkg"].cache.clear()

    def fail(*_a, **_k):
        raise exc

    monkeypatch.setattr(EndpointState, "run", fail)
    r = client.get(path, headers={"Accept": BROWSER if form == "html" else "*/*"})
    assert r.status_code == status
    assert form_of(r) == form
    assert str(exc) in message_of(r)
    assert r.headers.get("Retry-After") == retry


OUTCOMES = {
    # name: (kind, status)
    "bad-input": (Kind.BAD_INPUT, 400),
    "refused": (Kind.REFUSED, 403),
    "too-costly": (Kind.TOO_COSTLY, 422),
    "remote-failed": (Kind.REMOTE_FAILED, 502),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("outcome", OUTCOMES)
def test_failed_outcomes_are_answered_on_every_route(client, monkeypatch: pytest.MonkeyPatch, route: str,
                                                     outcome: str) -> None:
    path, form = ROUTES[route]
    kind, status = OUTCOMES[outcome]
    client.application.extensions["rkg"].cache.clear()
    monkeypatch.setattr(EndpointState, "run", lambda *_a, **_k: Outcome(kind, message=f"said by the engine: {outcome}"))
    r = client.get(path, headers={"Accept": BROWSER if form == "html" else "*/*"})
    assert r.status_code == status
    assert form_of(r) == form
    assert f"said by the engine: {outcome}" in message_of(r)


# ---------------------------------------------------------------- bugs: 500 with a request id, logged

@pytest.mark.parametrize("route", ROUTES)
def test_a_bug_is_500_with_its_request_id(client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
                                          route: str) -> None:
    path, form = ROUTES[route]
    client.application.extensions["rkg"].cache.clear()

    def bug(*_a, **_k):
        raise ZeroDivisionError("a defect")

    monkeypatch.setattr(EndpointState, "run", bug)
    with caplog.at_level(logging.ERROR, logger="rkg.web"):
        r = client.get(path, headers={"Accept": BROWSER if form == "html" else "*/*"})
    request_id = r.headers["X-Request-Id"]
    assert r.status_code == 500 and form_of(r) == form
    assert request_id in message_of(r) and "bug" in message_of(r)
    assert "a defect" not in r.get_data(as_text=True)  # the details go to the log, not to the client
    logged = [rec for rec in caplog.records if request_id in rec.getMessage()]
    assert logged and logged[0].exc_info and logged[0].exc_info[0] is ZeroDivisionError


def test_a_failed_job_is_500_with_its_request_id(client, monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    """A job that failed in its process (Kind.FAILED: an unexpected exception there) is a bug too."""
    client.application.extensions["rkg"].cache.clear()
    monkeypatch.setattr(EndpointState, "run", lambda *_a, **_k: Outcome(Kind.FAILED, message="KeyError: 'x'"))
    with caplog.at_level(logging.ERROR, logger="rkg.web"):
        r = client.get(ASK)
    assert r.status_code == 500 and r.headers["X-Request-Id"] in r.get_data(as_text=True)
    assert any("KeyError" in rec.getMessage() and r.headers["X-Request-Id"] in rec.getMessage() for rec in caplog.records)


# ---------------------------------------------------------------- the tables are whole

def test_every_outcome_kind_has_a_status() -> None:
    assert set(web_errors.STATUS_OF_KIND) == set(Kind)


@pytest.mark.parametrize("exc, status", [
    (errors.InputError("x"), 400), (ParameterError("x"), 400), (guard.Unreadable("x"), 400), (guard.TooDeep(200, 128), 400),
    (errors.NotFound("x"), 404), (UnknownQuery("x"), 404), (errors.Refused("x"), 403), (guard.Forbidden("x"), 403),
    (Timeout("x"), 503), (Busy("x"), 503), (web_errors.TooManyRequests("x"), 429), (errors.SetupError("x"), 500),
    (web_errors.HttpError(418, "x"), 418),
], ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v))
def test_status_of_each_error(exc: Exception, status: int) -> None:
    assert web_errors.from_exception(exc).status == status


def test_the_engine_speaks_no_http() -> None:
    """Outcomes say what happened; only the web layer has status codes."""
    import dataclasses

    assert "status" not in {f.name for f in dataclasses.fields(Outcome)}
    assert not any(isinstance(k.value, int) for k in Kind)


def test_error_page_is_escaped(client) -> None:
    r = client.get("/coverage?kind=%3Cscript%3Ealert(1)%3C/script%3E", headers={"Accept": BROWSER})
    assert r.status_code == 400 and "<script>alert(1)" not in r.get_data(as_text=True)
    assert "&lt;script&gt;" in r.get_data(as_text=True)

