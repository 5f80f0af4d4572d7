"""Parameter values go into queries as typed terms in a VALUES block, never as pasted text."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from rkg.bindings import bind

IRI = ox.NamedNode("https://w3id.org/rkg/id/x")


@pytest.mark.parametrize("query", [
    "SELECT ?s WHERE { ?s ?p ?o }",
    "PREFIX ex: <http://ex.org/x#> SELECT ?s { ?s ex:p ?o }",
    "# a comment with { braces }\nSELECT ?s WHERE { ?s ?p \"}\" }",
    "SELECT (COUNT(?s) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p",
    "ASK { ?s ?p ?o }",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "DESCRIBE ?s WHERE { ?s ?p ?o }",
    'SELECT ?s WHERE { ?s ?p """a { long } string""" }',
])
def test_values_block_opens_the_where_group(query: str) -> None:
    out = bind(query, {"x": IRI})
    ox.Store().query(out)  # still a valid query
    where = out.index("VALUES")
    assert out[:where].rstrip().endswith("{")
    assert "CONSTRUCT {" not in query or out.index("WHERE") < where


def test_binding_is_effective() -> None:
    store = ox.Store()
    store.add(ox.Quad(IRI, IRI, ox.Literal("a")))
    store.add(ox.Quad(ox.NamedNode("https://w3id.org/rkg/id/y"), IRI, ox.Literal("b")))
    rows = list(store.query(bind("SELECT ?o WHERE { ?s ?p ?o }", {"s": IRI})))
    assert [r["o"].value for r in rows] == ["a"]


def test_hostile_literal_is_escaped() -> None:
    evil = ox.Literal('x" } ?s ?p ?o { "')
    out = bind("SELECT ?s WHERE { ?s ?p ?v }", {"v": evil})
    store = ox.Store()
    store.add(ox.Quad(IRI, IRI, ox.Literal("a")))
    assert list(store.query(out)) == []


def test_short_construct_cannot_take_parameters() -> None:
    from rkg.errors import InputError

    with pytest.raises(InputError, match="short form"):
        bind("CONSTRUCT WHERE { ?s ?p ?o }", {"s": IRI})


def test_bad_variable_name() -> None:
    with pytest.raises(ValueError):
        bind("SELECT ?s WHERE { ?s ?p ?o }", {"x) } {": IRI})
