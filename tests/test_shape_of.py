"""A named question's bound text is read as its catalogue text (``jobs.QueryJob.shape_of``): the facts a
sandbox reads before running it come from the template, once, whatever the parameter values; and what a
parse reads of the bound text (form, own dataset, determinism, relative IRIs) is the template's, even for
values written to break out of their literal. The remote path is tested against real engines in
tests/remote (no ShapeJob for a second value)."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from rkg import executor, guard
from rkg.bindings import bind
from rkg.catalog import Catalog
from rkg.jobs import Kind, QueryJob
from support.paths import ROOT

CATALOG = Catalog.from_folder(ROOT / "queries")
JSON = "application/sparql-results+json"
RKG = "https://w3id.org/rkg/ontology#"
PROGRAMME = "https://w3id.org/rkg/id/rncp31854-pif"
HOSTILE = [
    'x" } SERVICE <http://example.org/sparql> { ?a ?b ?c } #',
    '\\u0022) } FROM <http://example.org/g> SELECT * WHERE { BIND(RAND() AS ?r) #',
    '\\\\u0022 NOW() UUID() BNODE() \\',
    "relative <x> ./y ../z",
    "line\nbreak\r\ttab \u0001 «œuvre»",
]
"""Values aimed at the text around them: quotes, ``\\u`` escapes of a quote, keywords, relative IRIs."""


def _free_text(p) -> bool:  # noqa: ANN001 - a catalog.Parameter
    """A parameter that takes any text (a literal without a list of allowed values)."""
    return p.type not in ("iri", "integer", "number") and not p.allowed


def _literal_questions() -> list[str]:
    return [name for name, q in CATALOG.queries.items() if any(map(_free_text, q.parameters))]


@pytest.mark.parametrize("name", _literal_questions())
def test_a_bound_value_does_not_change_the_reading(name: str) -> None:
    """The real parses (rdflib's and Oxigraph's: ``guard.query_shape``, what a remote store's ShapeJob reads)
    of the question with hostile text values read what they read of its catalogue text."""
    query = CATALOG.get(name)
    template = guard.query_shape(query.text)
    for value in HOSTILE:
        values = {p.name: value for p in query.parameters if _free_text(p)}
        bound = bind(query.text, query.bindings(values))
        assert bound != query.text
        assert guard.query_shape(bound) == template, value
        assert guard.query_facts(bound) == template.facts, value


@pytest.fixture()
def store() -> ox.Store:
    s = ox.Store()
    programme = ox.NamedNode(PROGRAMME)
    graph = ox.NamedNode("https://w3id.org/rkg/graph/test")
    for i, key in enumerate(("knowledge management", "fromage de pays")):
        entity = ox.NamedNode(f"https://w3id.org/rkg/id/e{i}")
        for p, o in ((RKG + "inProgramme", programme), (RKG + "searchKey", ox.Literal(key)),
                     ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", ox.NamedNode(RKG + "Competency")),
                     ("http://www.w3.org/2004/02/skos/core#prefLabel", ox.Literal(key, language="fr"))):
            s.add(ox.Quad(entity, ox.NamedNode(p), o, graph))
    return s


def test_a_sandbox_reads_the_facts_of_the_template_once(store: ox.Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """``run_query`` takes the facts of ``shape_of``: new values whose text would need rdflib's parse
    ("knowledge" holds the letters of NOW, "fromage" those of FROM) cost none; without ``shape_of`` (a
    client's text) each is parsed."""
    parsed: list[str] = []
    real = guard.query_facts

    def counted(text: str) -> guard.QueryFacts:
        parsed.append(text)
        return real(text)

    monkeypatch.setattr(executor, "query_facts", counted)
    monkeypatch.setattr(executor, "_FACTS", {})
    query = CATALOG.get("search-labels")
    answers = {}
    for word in ("knowledge", "fromage"):
        bound = bind(query.text, query.bindings({"text": word}))
        out = executor.run_query(store, QueryJob(bound, JSON, None, shape_of=query.text))
        assert out.kind is Kind.ANSWER and out.extra["deterministic"] is True
        answers[word] = json.loads(out.body)["results"]["bindings"]
    assert parsed == [query.text]  # the template's facts, read once (its text has no trigger: not even parsed)
    assert [len(answers[w]) for w in answers] == [1, 1]
    assert answers["knowledge"][0]["label"]["value"] == "knowledge management"
    bound = bind(query.text, query.bindings({"text": "knowledge"}))
    assert executor.run_query(store, QueryJob(bound, JSON, None)).kind is Kind.ANSWER
    assert parsed[-1] == bound  # a text without shape_of is read itself
