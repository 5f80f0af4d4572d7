"""A deterministic request fuzzer for the attack suite: SPARQL texts mutated from real seeds (the named
questions, the hostile spellings, updates) sent in every shape the protocol allows, plus junk parameters
on the pages and the API. The same seed gives the same requests."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

KEYWORDS = ["SERVICE", "LOAD", "GRAPH", "FILTER", "OPTIONAL", "UNION", "SELECT", "BIND", "VALUES", "MINUS",
            "EXISTS", "NOT", "FROM", "NAMED", "WITH", "USING", "INSERT", "DELETE", "DATA", "WHERE", "CONSTRUCT",
            "DESCRIBE", "ASK", "ORDER BY", "GROUP BY", "LIMIT 1", "OFFSET 99999999999999999999", "PREFIX : <x:>",
            "BASE <http://127.0.0.1:9/>", "<urn:f>(1)", "REGEX(?x, '(((a)*)*)*$')", "REPLACE(?x,'','x')",
            "STRLEN(?x)", "xsd:integer('1e999')", "1/0", "?x", "$y", "_:b", "[]", "()", "@fr", "^^<urn:d>",
            "'''", '"""', "\\u0053ERVICE", "#", ";", ".", ",", "a", "true.", ":", "::", "\u00e9", "\U0001F600"]
CHARS = list("{}()[]<>\"'#?$:.;,\\ \n\t*+-/=!&|^@_") + ["\x00", "\x7f", "\u202e", "\ufeff", "\ud7ff"]
ACCEPTS = [None, "*/*", "application/sparql-results+json", "application/sparql-results+xml", "text/csv",
           "text/tab-separated-values", "text/turtle", "application/n-triples", "application/ld+json",
           "text/html", "application/json", "image/png", "text/*;q=0", "*/*;q=abc", ";;;", "a/b, c/d;q=0.5",
           "application/sparql-results+json;q=0.1, text/turtle;q=0.9"]
UPDATES = [
    "INSERT DATA { GRAPH <http://ex/fuzz> { <http://ex/s> <http://ex/p> 'o' } }",
    "DELETE WHERE { GRAPH <http://ex/fuzz> { ?s ?p ?o } }",
    "PREFIX : <http://ex/> INSERT DATA { GRAPH:fuzz { :a :b :c } }",
    "CLEAR SILENT GRAPH <http://ex/fuzz>",
    "WITH <http://ex/fuzz> DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }",
]


@dataclass
class Request:
    method: str
    path: str
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    data: bytes | list[tuple[str, str]] | None = None


def seeds(queries: Path, extra: list[str]) -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(queries.glob("*.rq"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted((queries / "qc").glob("*.rq"))]
    return texts + extra + ["SELECT * WHERE { ?s ?p ?o } LIMIT 3", "ASK {}", "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 5",
                            "DESCRIBE <https://w3id.org/rkg/id/rncp31854-pif>"]


def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 6)):
        i = rng.randint(0, len(text))
        choice = rng.random()
        if choice < 0.3:
            text = text[:i] + rng.choice(CHARS) + text[i:]
        elif choice < 0.55:
            text = text[:i] + " " + rng.choice(KEYWORDS) + " " + text[i:]
        elif choice < 0.7:
            j = min(len(text), i + rng.randint(1, 20))
            text = text[:i] + text[j:]
        elif choice < 0.8:
            j = min(len(text), i + rng.randint(1, 40))
            text = text[:i] + text[i:j] * rng.randint(2, 4) + text[j:]
        elif choice < 0.9:
            text = text[: rng.randint(0, len(text))]
        else:
            depth = rng.choice([3, 50, 127, 129, 400])
            text = text[:i] + "{" * depth + text[i:] + "}" * depth
    return text


def requests_for(rng: random.Random, texts: list[str], count: int) -> Iterator[Request]:
    for _ in range(count):
        roll = rng.random()
        accept = rng.choice(ACCEPTS)
        headers = {"Accept": accept} if accept is not None else {}
        if roll < 0.8:
            text = mutate(rng, rng.choice(texts)) if rng.random() < 0.9 else rng.choice(texts)
            params: list[tuple[str, str]] = []
            if rng.random() < 0.2:
                params.append((rng.choice(["default-graph-uri", "named-graph-uri", "format", "output", "results",
                                           "timeout", "query"]), rng.choice(["", "x", "urn:g", "json", "%%", text[:20]])))
            shape = rng.choice(["GET", "POST-form", "POST-direct", "POST-direct", "HEAD"])
            if shape in ("GET", "HEAD"):
                yield Request(shape, "/sparql", [("query", text), *params], headers)
            elif shape == "POST-form":
                yield Request("POST", "/sparql", params, headers, [("query", text)])
            else:
                ctype = rng.choice(["application/sparql-query"] * 4 + ["application/sparql-update", "text/plain", ""])
                yield Request("POST", "/sparql", params, {**headers, "Content-Type": ctype},
                              text.encode("utf-8", "surrogatepass"))
        elif roll < 0.9:
            name = rng.choice(["block-summary", "ues-covering-dimension", "search-labels", "coverage", "ue-profile",
                               "nope", "../etc", "block-summary.rq"])
            junk = rng.choice(["", "x", "urn:x", "rncp31854-pif", "<script>", "' OR 1=1", "\u0000", "9" * 40])
            key = rng.choice(["programme", "dimension", "q", "ue", "format", "lang", "zzz"])
            yield Request("GET", f"/api/queries/{name}", [(key, junk)], headers)
        else:
            path, key = rng.choice([("/resource", "iri"), ("/coverage", "kind"), ("/coverage", "programme"),
                                    ("/store", "graph"), ("/questions", "lang"), ("/validation", "lang"),
                                    ("/id/rncp31854-pif", "format"), ("/.well-known/void", "x")])
            junk = rng.choice(["javascript:alert(1)", "urn:x", "", "%00", "https://w3id.org/rkg/id/rncp31854-pif",
                               "block", "ttl", "\ud7ff", "x" * 3000])
            yield Request("GET", path, [(key, junk)], headers)
