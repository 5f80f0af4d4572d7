"""Security headers on every answer of the service, as the outermost WSGI layer: it also covers what the
SPARQL protocol layer (``protocol.SparqlProtocol``) answers without Flask, and Flask's own errors.

* ``Content-Security-Policy`` (``POLICY``): everything a page loads (scripts, styles, images, fonts,
  ``fetch``) comes from this server; no inline script, no inline style, no ``eval``, so neither injected
  markup nor a ``javascript:`` URL can run; no plugins, no ``<base>``, forms go to this server only,
  and no other site may frame a page. The editor's ``<script type="application/json">`` blocks are
  data, never run: the policy does not apply to them.
* The SPARQL editor page alone answers with ``EDITOR_POLICY``, which adds ``style-src 'unsafe-inline'``:
  YASGUI inserts ``<style>`` elements (its column resizer) and writes ``style`` attributes in the
  markup it builds. Hashes of those would tie the policy to the minified internals of one YASGUI
  release; styles cannot run code, and scripts stay ``'self'`` only.
* ``X-Content-Type-Options: nosniff``: an answer is read as its declared type (a Turtle or CSV answer
  made of markup is never run as a page or a script).
* ``Referrer-Policy: no-referrer``: page URLs carry SPARQL queries and IRIs (``/sparql?query=…``,
  ``/resource?iri=…``); following an external IRI must not hand them to that site. The service never
  reads ``Referer`` itself, so sending none on its own pages loses nothing.
* ``X-Frame-Options: DENY``: what ``frame-ancestors 'none'`` says, for browsers that predate it.

A header the answer already carries is kept as it is: an answer that sets one does so deliberately (the
editor's policy).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

StartResponse = Callable[..., object]
WSGIApp = Callable[[dict, StartResponse], Iterable[bytes]]

DIRECTIVES = {
    "default-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy(**extra: str) -> str:
    """The Content-Security-Policy of ``DIRECTIVES`` with ``extra`` directives (``style_src="…"``)."""
    directives = {**DIRECTIVES, **{k.replace("_", "-"): v for k, v in extra.items()}}
    return "; ".join(f"{k} {v}" for k, v in directives.items())


POLICY = policy()
EDITOR_POLICY = policy(style_src="'self' 'unsafe-inline'")
HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)


class SecurityHeaders:
    """WSGI middleware adding ``headers`` to every answer that does not carry them already."""

    def __init__(self, app: WSGIApp, headers: Iterable[tuple[str, str]] = HEADERS) -> None:
        self.app, self.headers = app, tuple(headers)

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> object:
            present = {name.lower() for name, _ in headers}
            headers = [*headers, *((n, v) for n, v in self.headers if n.lower() not in present)]
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)
