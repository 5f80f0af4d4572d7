"""HTTP errors: one type, one table from rkg's errors and job outcomes to status codes, one way to answer.

Routes raise :class:`HttpError` (status, message, headers), or let an ``RkgError`` or a failed job outcome
through (:func:`from_exception`, :func:`from_outcome` give its status from the tables below). The app's
one error handler (``create_app``) and the SPARQL protocol layer (which sits before Flask) answer it with
:func:`answer`, in the form the client reads: ``{"error": message}`` as JSON under ``/api/``, one line of
text for the protocols (``/sparql``, ``/store``) and for programs, an HTML page for browsers. Anything
else raised while answering is a bug: 500, logged with its traceback and the request id, which the
answer names (``X-Request-Id``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from http import HTTPStatus

from ..errors import InputError, NotFound, Refused, RkgError, SetupError, Unavailable
from ..formats import HTML, JSON, TEXT
from ..jobs import Kind, Outcome
from ..negotiation import wants_html

log = logging.getLogger("rkg.web")

Headers = tuple[tuple[str, str], ...]
RETRY = (("Retry-After", "1"),)


class HttpError(RkgError):
    """An answer other than success: its status, the message for the client, extra headers."""

    def __init__(self, status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, tuple(headers)


class TooManyRequests(Unavailable):
    """The client already has as many operations running as it may (``--client-concurrency``)."""


STATUS_OF_ERROR: tuple[tuple[type[RkgError], int], ...] = (
    (TooManyRequests, 429),
    (NotFound, 404),
    (InputError, 400),
    (Refused, 403),
    (Unavailable, 503),
    (SetupError, 500),
)
"""Most specific first: the first class an error is an instance of gives its status."""

STATUS_OF_KIND: dict[Kind, int] = {
    Kind.ANSWER: 200, Kind.CREATED: 201, Kind.APPLIED: 204,
    Kind.BAD_INPUT: 400, Kind.REFUSED: 403, Kind.NOT_FOUND: 404, Kind.NOT_A_WRITE: 405, Kind.NO_FORMAT: 406,
    Kind.UNREADABLE_FORMAT: 415, Kind.INVALID: 422, Kind.TOO_COSTLY: 422, Kind.FAILED: 500,
    Kind.REMOTE_FAILED: 502,
}


def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Error"


def bug(request_id: str, what: str) -> HttpError:
    """The 500 answer for a defect; the log line that goes with it is the caller's (it has the traceback)."""
    return HttpError(500, f"internal error: {what} (a bug in rkg; request id {request_id})")


def from_outcome(out: Outcome, request_id: str = "-", headers: Iterable[tuple[str, str]] = ()) -> HttpError:
    """The error answer for a job that did not succeed."""
    status = STATUS_OF_KIND[out.kind]
    if out.kind is Kind.FAILED:
        log.error("request %s: a job failed: %s", request_id, out.message)
        return bug(request_id, out.message)
    return HttpError(status, out.message or HTTPStatus(status).phrase, headers)


def from_exception(e: BaseException, request_id: str = "-") -> HttpError:
    """The error answer for an exception raised while answering (a bug is logged here, with its traceback)."""
    if isinstance(e, HttpError):
        return e
    from werkzeug.exceptions import HTTPException

    if isinstance(e, HTTPException):  # Flask's routing (404, 405) and abort()
        headers = [h for h in e.get_headers() if h[0].lower() != "content-type"]
        return HttpError(e.code or 500, e.description or e.name, headers)
    if isinstance(e, RkgError):
        status = next(s for cls, s in (*STATUS_OF_ERROR, (RkgError, 500)) if isinstance(e, cls))
        return HttpError(status, str(e) or HTTPStatus(status).phrase, RETRY if isinstance(e, Unavailable) else ())
    log.error("request %s: unexpected %s", request_id, type(e).__name__, exc_info=e)
    return bug(request_id, type(e).__name__)


def form(path: str, accept: str | None) -> str:
    """``json`` for the API, ``text`` for the protocols, ``html`` for a browser elsewhere, else ``text``."""
    if path.startswith("/api/"):
        return "json"
    if path in ("/sparql", "/store") or not wants_html(accept):
        return "text"
    return "html"


def answer(err: HttpError, path: str, accept: str | None, request_id: str = "-") -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of ``err`` in the form ``path`` and ``accept`` call for."""
    headers = [*err.headers, *([("X-Request-Id", request_id)] if request_id != "-" else [])]
    kind = form(path, accept)
    if kind == "json":
        body = json.dumps({"error": err.message}, ensure_ascii=False).encode()
        return err.status, [("Content-Type", JSON.content_type), *headers], body
    if kind == "html":
        from flask import render_template

        name = HTTPStatus(err.status).phrase if err.status in HTTPStatus._value2member_map_ else "Error"
        page = render_template("error.html", code=err.status, name=name, message=err.message)
        return err.status, [("Content-Type", HTML.content_type), *headers], page.encode()
    return err.status, [("Content-Type", TEXT.content_type), *headers], (err.message + "\n").encode()
