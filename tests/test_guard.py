"""SERVICE and LOAD are refused before execution unless the endpoint is allow-listed."""

from __future__ import annotations

import pytest

from rkg.guard import Forbidden, TooDeep, Unreadable, check, check_depth, depth, mentions
from rkg.guard import QueryFacts, QueryShape, Unreadable, query_facts, query_shape
from support.hostile import HOSTILE_QUERIES, HOSTILE_UPDATES

Refused = (Forbidden, Unreadable)

ALLOWED = frozenset({"https://allowed.example/sparql"})


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }",
    "select * where { service silent <http://evil.example/sparql> { ?s ?p ?o } }",
    "PREFIX e: <http://evil.example/> SELECT * WHERE { SERVICE e:sparql { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE ?endpoint { ?s ?p ?x } } }",
    "SELECT * WHERE { { SELECT ?s WHERE { SERVICE <http://evil.example/> { ?s ?p ?o } } } }",
])
def test_service_refused_by_default(query: str) -> None:
    with pytest.raises(Forbidden, match="disabled"):
        check(query, update=False, allow=frozenset())


@pytest.mark.parametrize("query", [
    'SELECT * WHERE { ?s ?p "SERVICE <http://evil.example/>" }',
    "SELECT * WHERE { ?s <http://x/SERVICE> ?o }",
    "PREFIX service: <http://x/> SELECT * WHERE { ?s service:p ?service }",
    "# SERVICE <http://evil.example/>\nSELECT * WHERE { ?s ?p ?o }",
])
def test_keyword_in_strings_iris_comments_names_is_not_a_service(query: str) -> None:
    check(query, update=False, allow=frozenset())


def test_allow_list() -> None:
    check("SELECT * WHERE { SERVICE <https://allowed.example/sparql> { ?s ?p ?o } }", update=False, allow=ALLOWED)
    with pytest.raises(Forbidden, match="not on the federation allow-list"):
        check("SELECT * WHERE { SERVICE <https://allowed.example/sparql> { ?s ?p ?o } SERVICE <http://evil.example/> { ?s ?p ?o } }",
              update=False, allow=ALLOWED)
    with pytest.raises(Forbidden, match="variable endpoint"):
        check("SELECT * WHERE { SERVICE ?e { ?s ?p ?o } }", update=False, allow=ALLOWED)


@pytest.mark.parametrize("update", [
    "LOAD <http://evil.example/data.ttl>",
    "load silent <http://evil.example/data.ttl> into graph <urn:g>",
    "INSERT DATA { <urn:a> <urn:b> <urn:c> } ; LOAD <http://evil.example/x>",
    "INSERT { GRAPH <urn:g> { ?s ?p ?o } } WHERE { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }",
    "DELETE WHERE { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }",
])
def test_load_refused(update: str) -> None:
    with pytest.raises(Refused):
        check(update, update=True, allow=frozenset())


@pytest.mark.parametrize("text, dataset, deterministic", [
    ("SELECT * WHERE { ?s ?p ?o }", False, True),
    ("SELECT * FROM <urn:g> WHERE { ?s ?p ?o }", True, True),
    ("SELECT * FROM<urn:g> WHERE { ?s ?p ?o }", True, True),
    ("PREFIX : <urn:x:> SELECT * FROM:g WHERE { ?s ?p ?o }", True, True),  # glued: a lexer reads one name
    ("select * from named <urn:g> where { graph ?g { ?s ?p ?o } }", True, True),
    ("SELECT ?from WHERE { ?from ?p 'from' } # from", False, True),
    ("SELECT (RAND() AS ?r) WHERE {}", False, False),
    ("SELECT (struuid() AS ?r) WHERE {}", False, False),
    ("SELECT * WHERE { BIND(BNODE() AS ?b) FILTER(NOW() > ?x) }", False, False),
    ("SELECT ?known WHERE { ?s <urn:known> ?known }", False, True),
    ("SELECT * FROM <urn:g> WHERE {", False, False),  # unparseable: union, and never cached
])
def test_query_facts_come_from_the_parse(text: str, dataset: bool, deterministic: bool) -> None:
    assert query_facts(text) == QueryFacts(dataset, deterministic)


def test_service_in_update_checked_against_allow_list() -> None:
    check("INSERT { GRAPH <urn:g> { ?s ?p ?o } } WHERE { SERVICE <https://allowed.example/sparql> { ?s ?p ?o } }",
          update=True, allow=ALLOWED)
    with pytest.raises(Forbidden, match="not on the federation allow-list"):
        check("INSERT { GRAPH <urn:g> { ?s ?p ?o } } WHERE { SERVICE <http://evil.example/> { ?s ?p ?o } }",
              update=True, allow=ALLOWED)


@pytest.mark.parametrize("query", HOSTILE_QUERIES.values(), ids=HOSTILE_QUERIES.keys())
def test_every_spelling_of_service_is_refused(query: str) -> None:
    with pytest.raises(Refused):
        check(query, update=False, allow=frozenset())
    with pytest.raises(Refused):  # the allow-list names another endpoint
        check(query, update=False, allow=ALLOWED)


@pytest.mark.parametrize("update", HOSTILE_UPDATES.values(), ids=HOSTILE_UPDATES.keys())
def test_every_spelling_of_load_is_refused(update: str) -> None:
    with pytest.raises(Refused):
        check(update, update=True, allow=frozenset())


def test_allowed_relative_endpoint_is_resolved() -> None:
    assert check("BASE <https://allowed.example/> SELECT * WHERE { SERVICE <sparql> { } }", update=False, allow=ALLOWED)
    assert check("SELECT * WHERE { SERVICE <sparql> { } }", update=False, allow=ALLOWED, base="https://allowed.example/")


@pytest.mark.parametrize("text", ["SELECT ?service WHERE { ?s ?p ?service }", "ASK { ?s ?p 'download' }"])
def test_letters_in_names_are_parsed_then_allowed(text: str) -> None:
    assert mentions(text, update=True)
    assert check(text, update=False, allow=frozenset()) is False


@pytest.mark.parametrize("text, expected", [
    ("SELECT * WHERE { ?s ?p ?o }", 1),
    ("SELECT * WHERE { { OPTIONAL { ?s ?p ?o } } FILTER((1 + 2) > 0) }", 3),
    ('SELECT * WHERE { ?s ?p "{{{{((((" } # ((((', 1),
    ("SELECT * WHERE \\u007B \\u007B ?s ?p ?o } }", 2),
])
def test_depth(text: str, expected: int) -> None:
    assert depth(text) == expected


def test_too_deep_is_refused_with_its_depth() -> None:
    text = "SELECT * WHERE " + "{" * 5000 + " ?s ?p ?o " + "}" * 5000
    with pytest.raises(TooDeep, match="5000 levels deep, more than the limit of 128"):
        check_depth(text, 128)
    check_depth("SELECT * WHERE " + "{" * 128 + "}" * 128, 128)


@pytest.mark.parametrize("text, form, relative", [
    ("SELECT * { <http://a> ?p ?o }", "SELECT", False),
    ("SELECT * { <a> ?p ?o }", "SELECT", True),
    ("BASE <http://b/> SELECT * { <a> ?p ?o }", "SELECT", False),
    ("# CONSTRUCT in a comment\nASK {}", "ASK", False),
    ("PREFIX select: <http://x/> DESCRIBE select:a", "DESCRIBE", False),
    ("CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT", False),
    ("SELECT * { ?s ?p '<a> FROM RAND()' }", "SELECT", False),
])
def test_query_shape_comes_from_the_parses(text: str, form: str, relative: bool) -> None:
    shape = query_shape(text)
    assert (shape.form, shape.relative) == (form, relative)
    assert shape.facts == query_facts(text)


@pytest.mark.parametrize("text", ["SELEKT * {}", "SELECT * { ?s ?p }", "INSERT DATA { <http://a> <http://b> 1 }", "",
                                  # rdflib decodes \\u escapes before parsing, as SPARQL 1.1 says; Oxigraph (the
                                  # embedded engine) does not: refused, as the embedded store refuses it
                                  "\\u0053ELECT * { ?s ?p ?o }"])
def test_query_shape_refuses_what_does_not_parse(text: str) -> None:
    with pytest.raises(Unreadable, match="syntax error"):
        query_shape(text)
