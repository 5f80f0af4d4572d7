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

from .bindings import _skip


class Forbidden(Exception):
    """The operation would make the server contact another host, and that is not allowed."""


def keywords(text: str) -> set[str]:
    """Upper-cased bare-word tokens of a SPARQL text (outside strings, IRIs, comments; not variables or
    prefixed names)."""
    found: set[str] = set()
    i, n = 0, len(text)
    while i < n:
        j = _skip(text, i)
        if j != i:
            i = j
            continue
        c = text[i]
        if c.isalpha():
            k = i
            while k < n and (text[k].isalnum() or text[k] in "_-."):
                k += 1
            word = text[i:k].rstrip(".")
            prev = text[i - 1] if i else " "
            nxt = text[i + len(word)] if i + len(word) < n else " "
            if prev not in "?$:_" and nxt != ":":
                found.add(word.upper())
            i = k
            continue
        i += 1
    return found


def has_keyword(text: str, word: str) -> bool:
    """Whether ``word`` (upper case) is a bare-word token of ``text``. Upper-casing is per character, so
    the token leaves ``word`` in ``text.upper()``: without it the text need not be tokenised (the usual
    case, in about a microsecond instead of 0.1 ms for the full scan)."""
    return word in text.upper() and word in keywords(text)


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
    word = "LOAD" if update else "SERVICE"
    if not has_keyword(text, word):
        return
    what = "LOAD" if update else "SERVICE (federated query)"
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
