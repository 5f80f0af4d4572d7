"""Result writers produce documents that a standard parser reads back to the same solutions."""

from __future__ import annotations

import io

import pyoxigraph as ox
import pytest

from rkg import results

X = ox.NamedNode("https://w3id.org/rkg/id/x")
ROWS = [
    (X, ox.Literal('a "quoted", comma\nnew line', language="fr"), ox.Literal("7", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),
    (ox.BlankNode("b1"), None, ox.Literal("<tag> & ampersand\ttab")),
]
FORMATS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}


@pytest.mark.parametrize("media", sorted(FORMATS))
def test_select_round_trip(media: str) -> None:
    body = results.SELECT_WRITERS[media](["s", "label", "n"], ROWS)
    parsed = ox.parse_query_results(io.BytesIO(body), FORMATS[media])
    assert [v.value for v in parsed.variables] == ["s", "label", "n"]
    got = [tuple(sol[v] for v in ("s", "label", "n")) for sol in parsed]
    assert got[0] == ROWS[0]
    assert got[1][1] is None and got[1][2] == ROWS[1][2]


def test_csv_quotes_and_crlf() -> None:
    body = results.select_csv(["s", "label", "n"], ROWS).decode()
    assert body.startswith("s,label,n\r\n")
    assert '"a ""quoted"", comma\nnew line"' in body
    assert "_:b1,," in body


@pytest.mark.parametrize("media", ["application/sparql-results+json", "application/sparql-results+xml"])
@pytest.mark.parametrize("value", [True, False])
def test_boolean_round_trip(media: str, value: bool) -> None:
    parsed = ox.parse_query_results(io.BytesIO(results.boolean(value, media)), FORMATS[media])
    assert bool(parsed) is value


@pytest.mark.parametrize("media", sorted(results.RDF_FORMATS))
def test_graph_formats(media: str) -> None:
    triples = [ox.Triple(X, X, ox.Literal("é"))]
    body = results.graph(triples, media)
    back = list(ox.parse(body, format=results.RDF_FORMATS[media]))
    assert [(q.subject, q.predicate, q.object) for q in back] == [(X, X, ox.Literal("é"))]
