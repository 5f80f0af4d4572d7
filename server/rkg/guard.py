"""Refuse federation before execution: ``SERVICE`` in queries and ``LOAD`` in updates make the engine
send HTTP requests to the host they name.

A keyword scan on the query's tokens (strings, IRIs and comments skipped, so ``"SERVICE"`` or
``ex:load`` do not count) tells whether the operation can reach out at all: without the keyword token
there is no ``SERVICE`` clause or ``LOAD`` operation. When the keyword is present and federation is
enabled, the operation is parsed (rdflib's SPARQL parser and algebra) to read the exact endpoint IRIs,
which must all be on the allow-list; an endpoint given by a variable, or a text rdflib cannot parse,
is refused.
"""

from __future__ import annotations

from collections.abc import Iterable

from .lexer import has_keyword


class Forbidden(Exception):
    """The operation would make the server contact another host, and that is not allowed."""


def _services(node, out: list) -> None:
    name = getattr(node, "name", None)
    if name == "ServiceGraphPattern":
        out.append(node.get("term"))
    if name == "Load":
        out.append(node.get("iri"))
    if isinstance(node, dict):
        for v in node.values():
            _services(v, out)
    elif isinstance(node, (list, tuple)):
        for v in node:
            _services(v, out)


def endpoints(text: str, update: bool) -> list:
    """Endpoint IRIs of SERVICE clauses / LOAD sources, as rdflib terms (a Variable when not fixed)."""
    from rdflib.plugins.sparql import algebra, parser

    if update:
        tree = algebra.translateUpdate(parser.parseUpdate(text))
        nodes: Iterable = tree.algebra
    else:
        nodes = [algebra.translateQuery(parser.parseQuery(text)).algebra]
    out: list = []
    for n in nodes:
        _services(n, out)
    return out


def check(text: str, update: bool, allow: frozenset[str]) -> None:
    """Raise Forbidden unless every endpoint the operation would contact is on ``allow``."""
    # An update can reach out through LOAD and through SERVICE in its WHERE clause; a query through SERVICE.
    words = [w for w in (("LOAD", "SERVICE") if update else ("SERVICE",)) if has_keyword(text, w)]
    if not words:
        return
    what = " and ".join("SERVICE (federated query)" if w == "SERVICE" else w for w in words)
    if not allow:
        raise Forbidden(f"{what} is disabled on this endpoint: it would make the server contact another host")
    try:
        found = endpoints(text, update)
    except Exception as e:  # rdflib cannot read it: refuse rather than let the engine fetch blindly
        raise Forbidden(f"{what}: the endpoint could not be checked against the allow-list ({type(e).__name__})") from None
    from rdflib import URIRef

    for iri in found:
        if not isinstance(iri, URIRef):
            raise Forbidden(f"{what} with a variable endpoint is not allowed")
        if str(iri) not in allow:
            raise Forbidden(f"{what} to <{iri}> is not allowed: not on the federation allow-list")
