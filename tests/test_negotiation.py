"""Content negotiation: q-values, wildcards, aliases, and the format=/output=/results= parameters; the
function, then the whole matrix through the app in-process (the SPARQL protocol layer included; a few
rows go over real HTTP in tests/web/test_protocol.py)."""

from __future__ import annotations

import pytest
from support.protocol import (CONSTRUCT, DESCRIBE, GRAPH_NEGOTIATION, SELECT, SELECT_NEGOTIATION, check_graph_answer,
                              check_select_answer, send)
from support.server import AppServer

from rkg.negotiation import GRAPHS, RESULTS, negotiate, wants_html

CASES = [
    # accept, short, graph?, expected
    (None, None, False, "application/sparql-results+json"),
    ("*/*", None, False, "application/sparql-results+json"),
    ("*/*", None, True, "text/turtle"),
    ("text/csv", None, False, "text/csv"),
    ("text/csv;q=0.5, application/sparql-results+xml", None, False, "application/sparql-results+xml"),
    ("text/*", None, False, "text/csv"),
    ("text/*;q=0.9, text/tab-separated-values", None, False, "text/tab-separated-values"),
    ("application/json", None, False, "application/sparql-results+json"),
    ("application/sparql-results+json;q=0, */*;q=0.1", None, False, "application/sparql-results+xml"),
    ("image/png", None, False, None),
    ("application/rdf+xml, text/turtle;q=0.8", None, True, "application/rdf+xml"),
    ("application/n-quads", None, True, "application/n-quads"),
    ("application/x-trig", None, True, "application/trig"),
    ("application/ld+json;q=1.0, */*;q=0.1", None, True, "application/ld+json"),
    (None, "json", False, "application/sparql-results+json"),
    (None, "json", True, "application/ld+json"),
    (None, "xml", True, "application/rdf+xml"),
    (None, "csv", False, "text/csv"),
    (None, "turtle", True, "text/turtle"),
    ("text/csv", "json", False, "application/sparql-results+json"),  # the parameter wins, as SPARQLWrapper expects
    ("text/csv", "nonsense", False, "text/csv"),                     # an unknown value falls back to Accept
]


@pytest.mark.parametrize("accept, short, graph, expected", CASES)
def test_negotiate(accept, short, graph, expected) -> None:
    assert negotiate(accept, GRAPHS if graph else RESULTS, short) == expected


@pytest.mark.parametrize("accept, html", [
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
    ("text/turtle", False),
    ("text/turtle, text/html;q=0.5", False),
    (None, False),
])
def test_wants_html(accept, html) -> None:
    assert wants_html(accept) is html


@pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib")  # rdflib's own result parsers
@pytest.mark.parametrize("accept, params, expected", SELECT_NEGOTIATION)
@pytest.mark.parametrize("method", ["GET", "POST-form"])
def test_select_negotiation(app_server: AppServer, method: str, accept, params, expected: str) -> None:
    check_select_answer(send(app_server, SELECT, method=method, accept=accept, params=params), expected)


@pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib")  # rdflib's own parsers
@pytest.mark.parametrize("accept, params, expected", GRAPH_NEGOTIATION)
@pytest.mark.parametrize("query", [CONSTRUCT, DESCRIBE], ids=["construct", "describe"])
def test_graph_negotiation(app_server: AppServer, query: str, accept, params, expected: str) -> None:
    check_graph_answer(send(app_server, query, accept=accept, params=params), expected)
