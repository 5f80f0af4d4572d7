"""What a SPARQL operation may do before it reaches the engine: how deeply it nests, and which hosts it
would make the engine contact.

Two checks, in this order:

1. **Depth** (``check_depth``): the nesting of ``{ ( [`` counted on the lexer's tokens (brackets inside
   strings, IRIs and comments do not count), before any parser sees the text. Oxigraph's parser is
   recursive: about 5,000 nested groups overflow its stack and kill the process; rdflib's needs a
   Python frame per level. Deeper than the limit is refused with the depth found.
2. **Federation** (``endpoints`` / ``check``): ``SERVICE`` in a query or an update and ``LOAD`` in an
   update make the engine send HTTP requests. Whenever the text contains ``service`` or ``load`` in any
   case, anywhere (also after ``\\uXXXX`` escapes are decoded), the operation is *parsed* (rdflib's
   SPARQL grammar) and the endpoint IRIs are read from the parse tree, resolved against the operation's
   prologue; every one must be on the allow-list. A text the parser cannot read is refused: the check
   fails closed. A scan of tokens is not used to decide, since a lexer and the engine can disagree
   (``SERVICE:x`` is one prefixed name to a lexer that follows the grammar, but Oxigraph runs it).

The parse can take seconds on a large text (pyparsing), so the web layer runs ``check`` inside a
sandbox process, under the time limit, never in the web process. It is one layer: the sandboxes that
run operations cannot open network sockets at all (``rkg.isolation``), except the federation sandbox,
which only receives operations this check has passed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from . import lexer
from .errors import InputError, Refused


class Forbidden(Refused):
    """The operation would make the server contact another host, and that is not allowed."""


class Unreadable(InputError):
    """The operation mentions SERVICE or LOAD but could not be parsed, so its endpoints cannot be checked."""


class TooDeep(InputError):
    """The operation nests deeper than the limit."""

    def __init__(self, depth: int, limit: int) -> None:
        super().__init__(f"the operation nests {{ ( [ {depth} levels deep, more than the limit of {limit}")
        self.depth, self.limit = depth, limit


_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def unescape(text: str) -> str:
    """``\\uXXXX`` and ``\\UXXXXXXXX`` decoded, as SPARQL 1.1 §19.2 allows them anywhere in the text."""
    def one(m: re.Match) -> str:
        try:
            return chr(int(m.group(1) or m.group(2), 16))
        except (ValueError, OverflowError):
            return m.group()
    return _ESCAPE.sub(one, text)


def depth(text: str) -> int:
    """Deepest nesting of ``{ ( [`` outside strings, IRIs and comments (on the raw and the unescaped text)."""
    deepest = 0
    for candidate in {text, unescape(text)}:
        level = 0
        for kind, token, _ in lexer.tokens(candidate):
            if kind != "other":
                continue
            if token in "{([":
                level += 1
                deepest = max(deepest, level)
            elif token in "})]":
                level = max(0, level - 1)
    return deepest


def check_depth(text: str, limit: int) -> None:
    found = depth(text)
    if found > limit:
        raise TooDeep(found, limit)


def mentions(text: str, update: bool) -> list[str]:
    """Which of SERVICE / LOAD occur in the text as letters, in any (ASCII) case, raw or unescaped:
    the engine matches keywords case-insensitively. Anything found sends the text to the parser."""
    words = ("load", "service") if update else ("service",)
    found = []
    for w in words:
        if any(w in t.translate(_ASCII_LOWER) or w in t.casefold() for t in (text, unescape(text))):
            found.append(w.upper())
    return found


def _walk(node: object) -> Iterator[object]:
    """Every node of an rdflib parse tree (CompValue, ParseResults, lists), depth first, without recursion."""
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        if isinstance(n, dict):
            todo.extend(n.values())
        elif isinstance(n, (list, tuple)):
            todo.extend(n)
        elif hasattr(n, "asList") and not isinstance(n, str):  # pyparsing ParseResults
            todo.extend(list(n))


def parse(text: str, update: bool):
    """rdflib's parse tree of the operation, with its prologue(s); raises Unreadable."""
    import sys

    from rdflib.plugins.sparql import parser

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))  # pyparsing needs many frames per nesting level
    try:
        return parser.parseUpdate(text) if update else parser.parseQuery(text)
    except RecursionError:
        raise Unreadable("the operation nests too deeply for the checker") from None
    except Exception as e:
        raise Unreadable(f"{type(e).__name__}: {e}") from None
    finally:
        sys.setrecursionlimit(limit)


def endpoints(text: str, update: bool, base: str | None = None) -> list:
    """Endpoint IRIs of SERVICE clauses and LOAD sources, read from the parse tree and resolved against
    the prologue (BASE, PREFIX) of their operation; a Variable when the endpoint is not fixed."""
    from rdflib.plugins.sparql.algebra import translatePrologue
    from rdflib.term import URIRef, Variable

    tree = parse(text, update)
    if update:
        operations = list(zip(tree["prologue"], tree["request"]))
    else:
        operations = [(tree[0], tree[1])]
    out: list = []
    prologue = None
    for raw_prologue, op in operations:
        try:
            prologue = translatePrologue(raw_prologue, base, None, prologue)
        except Exception as e:
            raise Unreadable(f"prologue: {type(e).__name__}: {e}") from None
        for node in _walk(op):
            name = getattr(node, "name", None) if isinstance(node, dict) else None
            if name == "ServiceGraphPattern":
                term = node["term"]
            elif name == "Load":
                term = node["iri"]
            else:
                continue
            if isinstance(term, Variable):
                out.append(term)
                continue
            try:
                resolved = prologue.absolutize(term)
            except Exception as e:
                raise Unreadable(f"endpoint IRI {term!r}: {e}") from None
            if not isinstance(resolved, URIRef):
                raise Unreadable(f"endpoint {term!r} is not an IRI")
            out.append(resolved)
    return out


def check(text: str, update: bool, allow: frozenset[str], base: str | None = None) -> bool:
    """Raise Forbidden (or Unreadable) unless every endpoint the operation would contact is on ``allow``.
    Returns whether the operation reaches out at all (then it must run where the network is open)."""
    words = mentions(text, update)
    if not words:
        return False
    try:
        found = endpoints(text, update, base)
    except Unreadable as e:
        what = " / ".join(words)
        raise Unreadable(f"the operation contains {what!r} and could not be parsed to check it, so it is "
                         f"refused ({e})") from None
    if not found:
        return False  # the letters were in a name, a string or a comment: nothing reaches out
    from rdflib.term import URIRef

    kinds = "SERVICE (federated query)" if not update else "SERVICE or LOAD"
    if not allow:
        raise Forbidden(f"{kinds} is disabled on this endpoint: it would make the server contact another host")
    for iri in found:
        if not isinstance(iri, URIRef):
            raise Forbidden(f"{kinds} with a variable endpoint is not allowed")
        if str(iri) not in allow:
            raise Forbidden(f"{kinds} to <{iri}> is not allowed: not on the federation allow-list")
    return True


NONDETERMINISTIC = ("Builtin_RAND", "Builtin_NOW", "Builtin_UUID", "Builtin_STRUUID", "Builtin_BNODE")
"""rdflib's parse-tree names of the functions whose answer changes from one run to the next."""
_FACT_WORDS = ("from", "rand", "now", "uuid", "bnode")


@dataclass(frozen=True)
class QueryFacts:
    """What the engine's caller must know of a query before running it, read from its parse."""

    dataset: bool
    """The query names its own dataset (FROM / FROM NAMED): run it without the union default graph."""
    deterministic: bool
    """No RAND(), NOW(), UUID(), STRUUID() or BNODE(): the same store gives the same answer (cacheable)."""


def query_facts(text: str) -> QueryFacts:
    """Dataset and determinism of a query, from rdflib's parse tree. A text in which none of the letter
    sequences ``from``, ``rand``, ``now``, ``uuid``, ``bnode`` occurs in any case (raw or after ``\\u``
    escapes) can have neither a dataset clause nor such a function, so it is not parsed (the hot path). A
    text that does but that rdflib cannot parse gets the endpoint's defaults on the safe side for the
    cache: the union default graph, and not cached."""
    lowered = [t.translate(_ASCII_LOWER) for t in {text, unescape(text)}]
    if not any(w in t for t in lowered for w in _FACT_WORDS):
        return QueryFacts(dataset=False, deterministic=True)
    try:
        tree = parse(text, update=False)
    except Unreadable:
        return QueryFacts(dataset=False, deterministic=False)
    return _facts_of_tree(tree)


def _facts_of_tree(tree) -> QueryFacts:
    query = tree[1]
    dataset = isinstance(query, dict) and "datasetClause" in query
    deterministic = not any(getattr(n, "name", None) in NONDETERMINISTIC for n in _walk(query) if isinstance(n, dict))
    return QueryFacts(dataset=dataset, deterministic=deterministic)


FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT", "DescribeQuery": "DESCRIBE"}
"""rdflib's parse-tree names of the four query forms."""
PROBE_BASE = "http://relative.invalid/"
"""A base IRI that only tells whether a query needs one (the ``.invalid`` name is never resolved)."""


@dataclass(frozen=True)
class QueryShape:
    """What a caller that hands a query to another engine must know of it, read from parses."""

    form: str
    """SELECT, ASK, CONSTRUCT or DESCRIBE (rdflib's parse tree)."""
    relative: bool
    """The query has a relative IRI, so it needs a base IRI (Oxigraph refuses to parse it without one)."""
    facts: QueryFacts = QueryFacts(dataset=False, deterministic=True)
    """Its own dataset and whether its answer may be cached, from the same parse tree."""


def query_shape(text: str) -> QueryShape:
    """The form of a query (rdflib's parse) and whether it needs a base IRI (Oxigraph's parse, which refuses
    a relative IRI without one). Raises Unreadable when either parser refuses the text. Run it where it can
    be stopped: both parses take time on a hostile text, and an ASK is evaluated by Oxigraph on an empty
    store (no data, no network: at most the time limit)."""
    import pyoxigraph as ox

    try:
        tree = parse(text, update=False)
    except Unreadable as e:
        raise Unreadable(f"SPARQL syntax error: {e}") from None
    form = FORMS.get(getattr(tree[1], "name", ""), "")
    if not form:
        raise Unreadable("not a SPARQL query (SELECT, ASK, CONSTRUCT or DESCRIBE)")
    facts = _facts_of_tree(tree)
    store = ox.Store()
    try:
        store.query(text)
        return QueryShape(form, relative=False, facts=facts)
    except SyntaxError:
        pass
    except Exception:  # parsed; evaluating it on the empty store failed (SERVICE without network…): no base needed
        return QueryShape(form, relative=False, facts=facts)
    try:
        store.query(text, base_iri=PROBE_BASE)
    except SyntaxError as e:
        raise Unreadable(f"SPARQL syntax error: {e}") from None
    except Exception:
        pass
    return QueryShape(form, relative=True, facts=facts)
