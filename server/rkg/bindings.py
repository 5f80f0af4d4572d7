"""Bind parameter values into a SPARQL query as an inline ``VALUES`` block.

Why not pyoxigraph's ``substitutions``: Oxigraph accepts a substituted variable only when it is in the
SELECT projection, which rules out aggregates and parameters used in ``FILTER NOT EXISTS``. A ``VALUES``
block at the start of the query's WHERE group binds the variables for the whole group, works the same on
a remote SPARQL 1.1 store, and is safe: the values are RDF terms already checked and typed, written in
their escaped N-Triples form by pyoxigraph, never user text pasted into the query.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pyoxigraph as ox

Term = ox.NamedNode | ox.BlankNode | ox.Literal

_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


def _skip(text: str, i: int) -> int:
    """If ``text[i]`` opens a comment, string or IRI, return the index just after it; else ``i``."""
    c = text[i]
    if c == "#":
        j = text.find("\n", i)
        return len(text) if j < 0 else j + 1
    if c in "\"'":
        long = text.startswith(c * 3, i)
        quote = c * 3 if long else c
        j = i + len(quote)
        while j < len(text):
            if text[j] == "\\":
                j += 2
                continue
            if text.startswith(quote, j):
                return j + len(quote)
            j += 1
        raise ValueError("unterminated string in query")
    if c == "<" and re.match(r"<[^\s<>\"{}|^`\\]*>", text[i:]):
        return i + re.match(r"<[^\s<>\"{}|^`\\]*>", text[i:]).end()  # type: ignore[union-attr]
    return i


def _where_brace(query: str) -> int:
    """Index of the ``{`` opening the top-level WHERE group."""
    form = None
    depth, groups_closed, i = 0, 0, 0
    while i < len(query):
        j = _skip(query, i)
        if j != i:
            i = j
            continue
        c = query[i]
        if form is None:
            m = _FORM.match(query, i)
            if m and (i == 0 or not (query[i - 1].isalnum() or query[i - 1] in "_?$:")):
                form = m.group(1).upper()
                i = m.end()
                continue
        if c == "{":
            if depth == 0 and form == "CONSTRUCT" and groups_closed == 0 and _where_before(query, i):
                raise ValueError("parameters cannot be bound in the short form CONSTRUCT WHERE { ... }: "
                                 "write CONSTRUCT { template } WHERE { pattern }")
            if depth == 0 and not (form == "CONSTRUCT" and groups_closed == 0):
                return i
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                groups_closed += 1
        i += 1
    raise ValueError("no WHERE group found in query")


def _where_before(query: str, brace: int) -> bool:
    """CONSTRUCT WHERE { ... } (short form): a template-only group, where VALUES is not allowed."""
    return re.search(r"\bWHERE\s*$", query[:brace], re.IGNORECASE) is not None


def bind(query: str, bindings: Mapping[str, Term]) -> str:
    """Return the query with ``VALUES (?a ?b) { (t1 t2) }`` first in its WHERE group."""
    if not bindings:
        return query
    names = list(bindings)
    for n in names:
        if not re.fullmatch(r"[A-Za-z0-9_]+", n):
            raise ValueError(f"not a variable name: {n!r}")
    block = "VALUES (" + " ".join("?" + n for n in names) + ") { (" + " ".join(str(bindings[n]) for n in names) + ") }\n"
    at = _where_brace(query) + 1
    return query[:at] + "\n  " + block + query[at:]
