"""SERVICE and LOAD are refused before execution unless the endpoint is allow-listed."""

from __future__ import annotations

import pytest

from rkg.guard import Forbidden, check
from rkg.lexer import keywords

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
    with pytest.raises(Forbidden):
        check(update, update=True, allow=frozenset())


def test_keywords() -> None:
    assert {"SELECT", "WHERE", "SERVICE"} <= keywords("SELECT * WHERE { SERVICE <x:y> { ?s ?p ?o } }")
    assert "SERVICE" not in keywords('SELECT ?service WHERE { ?s ex:service "service" }')


def test_service_in_update_checked_against_allow_list() -> None:
    check("INSERT { GRAPH <urn:g> { ?s ?p ?o } } WHERE { SERVICE <https://allowed.example/sparql> { ?s ?p ?o } }",
          update=True, allow=ALLOWED)
    with pytest.raises(Forbidden, match="not on the federation allow-list"):
        check("INSERT { GRAPH <urn:g> { ?s ?p ?o } } WHERE { SERVICE <http://evil.example/> { ?s ?p ?o } }",
              update=True, allow=ALLOWED)
