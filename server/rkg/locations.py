"""Where a node was written: for a subject IRI, the source file and the 1-based line of its first statement
as subject — the parsers do not say, so the files are read again here, each at most once per validation
and only when a finding needs it.

Turtle and TriG are read with a tokenizer of their own (strings short and long, comments, ``<IRI>``s,
prefixed names resolved through ``@prefix``/``PREFIX`` and ``@base``/``BASE``, statements ended by a ``.``
outside brackets, TriG's graph blocks); a subject is the first term of a statement, so the nodes written
inside ``[ … ]`` or ``( … )`` do not count. N-Triples and N-Quads hold one statement per line (spaces or
tabs before it allowed): the line of the first one whose subject is the IRI.

Importers (``rkg import table|orebut``) write a comment ``# from: ORIGIN`` right before the first statement
of each entity they read from a row of a sheet or from a place in a JSON file (``ORIGIN``: e.g.
``referentiel.xlsx, sheet acs, row 12``, ``tables/acs.csv, line 7`` or ``rt.json $['competences']['Administrer']``);
comments are not facts, so the graph is the same, and the index gives the origin with the line."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from .build import MAPPING_SUFFIX, Source

ORIGIN_MARK = "# from: "
"""The comment an importer writes before an entity's first statement: ``# from: ORIGIN``."""
_LINE_FORMATS = (".nt", ".nq")


@dataclass(frozen=True)
class Written:
    """The line of a subject's first statement in one file, and the origin its importer noted there."""
    line: int
    origin: str | None = None


def origin_comment(origin: str) -> str:
    """The comment line (no newline) that notes where an importer read the entity of the next statement."""
    return ORIGIN_MARK + " ".join(origin.split())  # one line, whatever the sheet name or JSON key holds


# ---------------------------------------------------------------- Turtle / TriG tokens


@dataclass(frozen=True)
class Token:
    kind: str
    """``iri`` (``<…>``), ``string``, ``comment``, ``punct`` (``. ; , [ ] ( ) { } ^^``) or ``word`` (prefixed
    names, keywords, numbers, ``a``, ``_:`` labels, ``@`` language tags and directives)."""
    text: str
    line: int


_PUNCT = set(".;,[](){}")
_WORD_END = set(" \t\r\n<>\"'{}()[];,#")
_ESCAPE = re.compile(r"\\(.)")


def tokens(text: str) -> Iterator[Token]:
    """The tokens of a Turtle or TriG text, with their 1-based lines (whitespace dropped)."""
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c in " \t\r":
            i += 1
        elif c == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            yield Token("comment", text[i:end].rstrip("\r"), line)
            i = end
        elif text.startswith(("<<", ">>"), i):  # RDF-star quoted triple: like brackets, no subject inside
            yield Token("punct", "[" if c == "<" else "]", line)
            i += 2
        elif c == "<":
            end = text.find(">", i + 1)
            end = n - 1 if end < 0 else end
            yield Token("iri", text[i + 1:end], line)
            i = end + 1
        elif c in "\"'":
            start, quote = line, c * 3 if text.startswith(c * 3, i) else c
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n":
                    line += 1
                j += 1
            if len(quote) == 3:
                while text.startswith(c, j + 3) and j + 3 < n:  # """a"""" : the closing quotes are the last three
                    j += 1
            yield Token("string", text[i:j + len(quote)], start)
            i = j + len(quote)
        elif text.startswith("^^", i):
            yield Token("punct", "^^", line)
            i += 2
        elif c in _PUNCT:  # a '.' inside a name or a number (ex:a.b, 1.5) is read with the word
            yield Token("punct", c, line)
            i += 1
        else:
            j = i
            while j < n and text[j] not in _WORD_END and not text.startswith("^^", j):
                j += 2 if text[j] == "\\" else 1  # ex:a\,b: an escaped character is part of the name
            while j > i + 1 and text[j - 1] == "." and text[j - 2] != "\\":  # a name does not end with '.'
                j -= 1
            yield Token("word", text[i:j], line)
            i = j


# ---------------------------------------------------------------- subjects of a Turtle / TriG text


def turtle_subjects(text: str) -> dict[str, Written]:
    """Each IRI written as the subject of a statement → the line of the first such statement (and the
    origin noted by the ``# from:`` comment right before it, if any). The tokens are read as they come,
    a few ahead at most: only the index grows with the file."""
    found: dict[str, Written] = {}
    prefixes: dict[str, str] = {}
    base: str | None = None
    origin: str | None = None
    depth = 0  # [ ( nesting inside the current statement
    start = True  # the next token begins a statement (or a graph block)
    stream = (t for t in tokens(text) if t.kind != "comment" or t.text.startswith(ORIGIN_MARK))
    ahead: deque[Token] = deque()  # tokens looked at before their turn

    def take() -> Token | None:
        return ahead.popleft() if ahead else next(stream, None)

    def terms(n: int) -> list[Token]:
        """The next ``n`` tokens that are not comments (fewer at the end of the text), left to be taken."""
        found_terms = [t for t in ahead if t.kind != "comment"][:n]
        while len(found_terms) < n:
            t = next(stream, None)
            if t is None:
                break
            ahead.append(t)
            if t.kind != "comment":
                found_terms.append(t)
        return found_terms

    def take_through(last: Token) -> None:
        while ahead and take() is not last:
            pass

    def iri(tok: Token) -> str | None:
        if tok.kind == "iri":
            value = _unescape(tok.text)
            return urljoin(base, value) if base and not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", value) else value
        if tok.kind == "word" and ":" in tok.text and not tok.text.startswith("_:"):
            prefix, _, local = tok.text.partition(":")
            if prefix in prefixes:
                return prefixes[prefix] + _ESCAPE.sub(r"\1", local)
        return None

    while (tok := take()) is not None:
        if tok.kind == "comment":
            if start:
                origin = tok.text[len(ORIGIN_MARK):].strip() or None
            continue
        if start:
            word = tok.text.lower() if tok.kind == "word" else ""
            if word in ("@prefix", "prefix", "@base", "base"):
                given = terms(2)
                if word.endswith("prefix") and len(given) >= 2 and given[1].kind == "iri":
                    prefixes[given[0].text.rstrip(":")] = iri(given[1]) or given[1].text
                    take_through(given[1])
                elif word.endswith("base") and given and given[0].kind == "iri":
                    base = iri(given[0])
                    take_through(given[0])
                if word.startswith("@") and (ahead or terms(1)) and ahead[0].text == ".":
                    take()
                continue
            if word == "graph" or (tok.kind == "punct" and tok.text in "{}."):
                continue  # TriG: GRAPH <g> { … }, { … }; a '.' after a graph block
            nxt = next(iter(terms(1)), None)
            if nxt is not None and nxt.kind == "punct" and nxt.text == "{":
                continue  # a graph's name, not a subject
            start = False
            subject = iri(tok)
            if tok.kind == "punct" and tok.text in "[(":
                depth = 1  # a blank node or a list as subject: its inner nodes are not subjects
            elif subject is not None and subject not in found:
                found[subject] = Written(tok.line, origin)
            origin = None
            continue
        if tok.kind != "punct":
            continue
        if tok.text in "[(":
            depth += 1
        elif tok.text in "])":
            depth = max(depth - 1, 0)
        elif depth == 0 and tok.text in ".}":
            start = True
    return found


def _unescape(iri: str) -> str:
    return re.sub(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})", lambda m: chr(int(m.group(1) or m.group(2), 16)), iri)


def line_subjects(lines: Iterable[str]) -> dict[str, Written]:
    """N-Triples / N-Quads: each IRI subject → the line of its first statement (and the ``# from:`` origin
    on the line before it)."""
    found: dict[str, Written] = {}
    origin: str | None = None
    for number, line in enumerate(lines, 1):
        text = line.lstrip(" \t")  # N-Triples allows spaces and tabs before a statement
        if text.startswith("<"):
            end = text.find(">")
            subject = _unescape(text[1:end])
            if subject not in found:
                found[subject] = Written(number, origin)
            origin = None
        elif text.startswith(ORIGIN_MARK):
            origin = text[len(ORIGIN_MARK):].strip() or None
        elif text.strip() and not text.startswith("#"):
            origin = None
    return found


def subjects(path: Path) -> dict[str, Written]:
    """The subject index of one source file (empty for a file that is not RDF text, e.g. SSSOM)."""
    if path.name.endswith(MAPPING_SUFFIX):
        return {}
    if path.suffix in _LINE_FORMATS:
        with path.open(encoding="utf-8", errors="replace") as f:
            return line_subjects(f)
    return turtle_subjects(path.read_text(encoding="utf-8", errors="replace"))


class Locator:
    """Lines of subjects in the project's source files (``rkg.build.discover``), each file indexed on first
    use and kept."""

    def __init__(self, sources: Iterable[Source]) -> None:
        self._paths = {s.name: s.path for s in sources}
        self._index: dict[str, dict[str, Written]] = {}

    def find(self, name: str, iri: str) -> Written | None:
        """Where ``iri`` is first a subject in the source ``name`` (as the build names it); None when the
        file is not a source here or does not write it as a subject."""
        if name not in self._index:
            path = self._paths.get(name)
            try:
                self._index[name] = subjects(path) if path is not None else {}
            except OSError:
                self._index[name] = {}
        return self._index[name].get(iri)

    @property
    def indexed(self) -> list[str]:
        """The files read so far (by name)."""
        return list(self._index)
