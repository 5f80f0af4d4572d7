"""One SPARQL lexer for the places that read a text without running it and decide nothing on their own:
placing the parameters of our own named questions (``bindings``, ``catalog``), counting nesting depth
before any parser runs (``guard.depth``) and finding where ``using-graph-uri`` clauses go (``writes``,
checked afterwards by a parse). Strings, IRIs and comments are single tokens. Security and write
decisions, the dataset of a query and its cacheability come from a parse (``guard``), never from here:
a lexer that follows the grammar reads ``SERVICE:x`` as one name where Oxigraph runs a ``SERVICE``."""

from __future__ import annotations

import re

TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''|"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][^\s(){}\[\].,;<>"'=!&|+*/^]+)
  | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<name>(?:[^\W\d][\w\-.\u00B7]*)?:(?:[\w\-.:%\\\u00B7]|\\.)*|[^\W\d][\w\-.\u00B7]*)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)

Token = tuple[str, str, int]
"""(kind, text, offset): kind is ``string``, ``iri``, ``var``, ``lang``, ``name`` (a bare word or a
prefixed name) or ``other`` (one character of punctuation)."""


def tokens(text: str) -> list[Token]:
    """(kind, text, offset) of the significant tokens of a SPARQL text (no whitespace, no comments)."""
    out = []
    for m in TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind not in ("ws", "comment"):
            out.append((kind, m.group(), m.start()))
    return out
