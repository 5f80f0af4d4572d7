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

from .errors import InputError
from .lexer import tokens

Term = ox.NamedNode | ox.BlankNode | ox.Literal

_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")


def _where_brace(query: str) -> int:
    """Offset of the ``{`` opening the top-level WHERE group (a CONSTRUCT template is skipped)."""
    form = None
    depth = closed = 0
    previous = ""
    for kind, text, offset in tokens(query):
        word = text.upper() if kind == "name" else ""
        if form is None and word in _FORMS:
            form = word
        elif text == "{" and kind == "other":
            if depth == 0 and form == "CONSTRUCT" and closed == 0:
                if previous == "WHERE":  # CONSTRUCT WHERE { ... }: a template-only group
                    raise InputError("parameters cannot be bound in the short form CONSTRUCT WHERE { ... }: "
                                     "write CONSTRUCT { template } WHERE { pattern }")
            elif depth == 0:
                return offset
            depth += 1
        elif text == "}" and kind == "other":
            depth -= 1
            closed += depth == 0
        previous = word
    raise InputError("no WHERE group found in the query: parameters are bound in its top-level WHERE { ... }")


def bind(query: str, bindings: Mapping[str, Term]) -> str:
    """Return the query with ``VALUES (?a ?b) { (t1 t2) }`` first in its WHERE group."""
    if not bindings:
        return query
    names = list(bindings)
    for n in names:
        if not re.fullmatch(r"[A-Za-z0-9_]+", n):
            raise ValueError(f"not a variable name: {n!r}")  # a programming error: names come from the catalog
    block = "VALUES (" + " ".join("?" + n for n in names) + ") { (" + " ".join(str(bindings[n]) for n in names) + ") }\n"
    at = _where_brace(query) + 1
    return query[:at] + "\n  " + block + query[at:]
