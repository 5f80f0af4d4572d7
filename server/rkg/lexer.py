"""One SPARQL lexer for the places that must read a query or update without running it: binding
parameters (``bindings``), refusing federation (``guard``) and finding the graphs a write touches
(``writes``). Strings, IRIs and comments are single tokens, so a keyword inside them never counts."""

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


def keywords(text: str) -> set[str]:
    """Upper-cased bare words of a SPARQL text (not variables, prefixed names, strings, IRIs or comments)."""
    return {t.upper() for kind, t, _ in tokens(text) if kind == "name" and ":" not in t}


def has_keyword(text: str, word: str) -> bool:
    """Whether ``word`` (upper case) is a bare-word token of ``text``. Upper-casing is per character, so
    the token leaves ``word`` in ``text.upper()``: without it the text need not be tokenised."""
    return word in text.upper() and word in keywords(text)
