"""What the pages read from the store: the queries of ``web/sparql/``, run in the sandbox pool with
typed bindings, their SPARQL JSON results turned into rows of plain values. Answers are kept in the
app's result cache under the graph version, like those of /sparql."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..bindings import bind
from ..formats import SPARQL_JSON
from ..jobs import QueryJob
from .errors import from_outcome
from .state import Cached, EndpointState

FOLDER = Path(__file__).parent / "sparql"
Term = ox.NamedNode | ox.Literal


@dataclass(frozen=True)
class Value:
    value: str
    kind: str
    """``uri``, ``literal`` or ``bnode``."""
    lang: str = ""
    datatype: str = ""

    @property
    def is_iri(self) -> bool:
        return self.kind == "uri"


@functools.cache
def text(name: str) -> str:
    return (FOLDER / f"{name}.rq").read_text(encoding="utf-8")


def _environ() -> dict | None:
    """The current request's WSGI environ (pages read for their client), or None outside a request."""
    from flask import has_request_context, request

    return request.environ if has_request_context() else None


def run(state: EndpointState, query: str, results_media: str | None, graph_media: str | None,
        shape_of: str | None = None) -> Cached:
    """The answer to ``query`` (already bound), from the result cache when this graph version answered it.
    ``shape_of``: the catalogue's unbound text ``query`` was bound from (``QueryJob.shape_of``: a new
    parameter value is not read again before it runs)."""
    key = ("read", state.version, query, results_media, graph_media)
    hit = state.cache.get(key)
    if hit is None:
        config = state.config
        out = state.run(QueryJob(query, results_media, graph_media, max_rows=config.max_rows,
                                 max_bytes=config.max_answer_bytes, shape_of=shape_of), _environ())
        if not out.done:
            raise from_outcome(out, (_environ() or {}).get("rkg.request_id", "-"))
        hit = Cached.answer(out.body, out.media or "", out.message or "results cut" if out.truncated else None)
        if out.extra.get("deterministic", True):  # RAND(), NOW(), UUID()… answer anew, as on /sparql
            state.cache.put(key, hit)
    return hit


def rows(state: EndpointState, query: str, shape_of: str | None = None) -> tuple[list[dict[str, Value]], bool]:
    """Rows of the SELECT ``query`` (already bound), as :func:`run` answers it, and whether that answer was
    cut (``--max-rows``, ``--max-answer-bytes``)."""
    answer = run(state, query, SPARQL_JSON, None, shape_of)
    truncated = any(name == "X-RKG-Truncated" for name, _ in answer.headers)
    return [{k: Value(v["value"], v["type"], v.get("xml:lang", ""), v.get("datatype", "")) for k, v in b.items()}
            for b in json.loads(answer.body)["results"]["bindings"]], truncated


def select(state: EndpointState, name: str, **params: Term) -> list[dict[str, Value]]:
    """Rows of the page query ``name`` with ``params`` bound (as a VALUES block, never pasted)."""
    template = text(name)
    return rows(state, bind(template, params), template)[0]


def construct(state: EndpointState, name: str, media: str, **params: Term) -> Cached:
    """The graph of the CONSTRUCT page query ``name``, serialised in ``media``."""
    template = text(name)
    return run(state, bind(template, params), None, media, template)


def labels(rows: list[dict[str, Value]], key: str, label: str) -> dict[str, dict[str, str]]:
    """Labels by language of each value of column ``key`` (a row per label, as OPTIONAL joins give them)."""
    out: dict[str, dict[str, str]] = {}
    for r in rows:
        if key in r:
            texts = out.setdefault(r[key].value, {})
            if label in r:
                texts.setdefault(r[label].lang, r[label].value)
    return out
