"""The SPARQL 1.1 Protocol over HTTP against real ``rkg serve`` processes: operations and methods, the
dataset parameters, content negotiation, the service and VoID descriptions, every error status, CORS,
ETags, and the time limit."""

from __future__ import annotations

import io
import threading
import time
import uuid
from urllib.parse import quote

import pytest
import requests
from rdflib import Graph, Namespace, URIRef, Variable
from rdflib.namespace import RDF
from rdflib.query import Result
from support.clients import session_from
from support.paths import PIF
from support.protocol import (ASK, CONSTRUCT, DESCRIBE, LABELS_EN, REFERENTIEL, RESULT_TYPES, SELECT, SKOS, TIMEOUT,
                              boolean, check_graph_answer, check_select_answer, graph, media, rows, send)
from support.server import Server

pytestmark = [pytest.mark.server, pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib")]  # rdflib's own parsers use its deprecated API

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
"""Runs for minutes in constant memory (a sorted cross product would hit the memory limit first)."""
MEMORY_HOG = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?a ?d ?g"


# ---------------------------------------------------------------- operations and methods

METHODS = ["GET", "POST-form", "POST-direct"]


@pytest.mark.parametrize("method", METHODS)
def test_select(endpoint: Server, method: str) -> None:
    r = send(endpoint, SELECT, method=method)
    assert r.status_code == 200 and media(r) == "application/sparql-results+json"
    labels = [row["label"] for row in rows(r)]
    # the French label is in the référentiel graph, the English one in labels-en: the default graph is their union
    assert len(labels) == 2 and any("ingénieur de formation" in x for x in labels) and any("Training" in x for x in labels)


@pytest.mark.parametrize("method", METHODS)
def test_ask(endpoint: Server, method: str) -> None:
    r = send(endpoint, ASK, method=method)
    assert r.status_code == 200 and media(r) == "application/sparql-results+json"
    assert r.json() == {"head": {}, "boolean": True}
    assert boolean(send(endpoint, ASK.replace("Programme", "Nothing"), method=method)) is False


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("query", [CONSTRUCT, DESCRIBE], ids=["construct", "describe"])
def test_graph_queries(endpoint: Server, method: str, query: str) -> None:
    r = send(endpoint, query, method=method)
    assert r.status_code == 200 and media(r) == "text/turtle"
    g = graph(r)
    labels = {o.language for o in g.objects(URIRef(PIF), URIRef(SKOS + "prefLabel"))}
    assert labels == {"fr", "en"} and len(g) > 20


def test_non_ascii_query_and_results(endpoint: Server) -> None:
    query = f'ASK {{ <{PIF}> <https://w3id.org/rkg/ontology#parcours> "ingénieur de formation et formateur d’adultes"@fr }}'
    for method in METHODS:
        assert boolean(send(endpoint, query, method=method)) is True
    r = send(endpoint, SELECT, accept="text/csv")
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8" and "ingénieur" in r.content.decode("utf-8")


@pytest.mark.parametrize("content_type, body", [
    ("application/x-www-form-urlencoded; charset=UTF-8", "query=" + quote(ASK)),
    ("Application/X-WWW-Form-Urlencoded", "query=" + quote(ASK)),
    ("application/sparql-query; charset=utf-8", ASK),
    ("APPLICATION/SPARQL-QUERY", ASK),
])
def test_post_body_type_variants(endpoint: Server, content_type: str, body: str) -> None:
    r = requests.post(endpoint.sparql, data=body.encode(), headers={"Content-Type": content_type}, timeout=TIMEOUT)
    assert r.status_code == 200 and boolean(r) is True


def test_chunked_bodies(store_endpoint: Server) -> None:
    """A body without Content-Length is read up to the limit (65536 bytes on this server)."""
    def chunks(text: str, size: int = 4096):
        data = text.encode()
        for i in range(0, len(data), size):
            yield data[i:i + size]

    headers = {"Content-Type": "application/sparql-query"}
    small = requests.post(store_endpoint.sparql, data=chunks(ASK + " #" + "x" * 10_000), headers=headers, timeout=TIMEOUT)
    assert small.status_code == 200 and boolean(small) is True
    big = requests.post(store_endpoint.sparql, data=chunks(ASK + " #" + "x" * 100_000), headers=headers, timeout=TIMEOUT)
    assert big.status_code == 413


def test_head_matches_get(endpoint: Server) -> None:
    get, head = send(endpoint, SELECT), send(endpoint, SELECT, method="HEAD")
    assert head.status_code == 200 and head.content == b""
    for h in ("Content-Type", "ETag", "Content-Length", "Access-Control-Allow-Origin"):
        assert head.headers[h] == get.headers[h]
    assert int(head.headers["Content-Length"]) == len(get.content)
    sd = send(endpoint, None, method="HEAD")
    assert sd.status_code == 200 and media(sd) == "text/turtle" and sd.content == b""
    assert int(sd.headers["Content-Length"]) > 1000  # (fresh blank node labels each time: lengths vary a little)


# ---------------------------------------------------------------- dataset

DATASET_CASES = [
    # (method, params, query, expected answer)
    ("GET", [], "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", "8"),
    ("GET", [("default-graph-uri", LABELS_EN)], SELECT, ["en"]),
    ("POST-form", [("default-graph-uri", LABELS_EN)], SELECT, ["en"]),
    ("POST-direct", [("default-graph-uri", REFERENTIEL)], SELECT, ["fr"]),
    ("GET", [("default-graph-uri", REFERENTIEL), ("default-graph-uri", LABELS_EN)], SELECT, ["en", "fr"]),
    ("GET", [("default-graph-uri", "http://example.org/no-such-graph")], "ASK { ?s ?p ?o }", False),
    # named graphs only: the default graph is empty, GRAPH sees exactly the named ones
    ("GET", [("named-graph-uri", LABELS_EN)], "ASK { ?s ?p ?o }", False),
    ("POST-form", [("named-graph-uri", LABELS_EN)],
     f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{PIF}> ?p ?o }} }}", LABELS_EN),
    ("POST-direct", [("named-graph-uri", LABELS_EN), ("named-graph-uri", REFERENTIEL)],
     f"SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE {{ GRAPH ?g {{ <{PIF}> ?p ?o }} }}", "2"),
    ("GET", [("default-graph-uri", LABELS_EN), ("named-graph-uri", REFERENTIEL)],
     f"ASK {{ <{PIF}> <{SKOS}prefLabel> ?en FILTER(lang(?en) = 'en') GRAPH <{REFERENTIEL}> {{ <{PIF}> <{SKOS}prefLabel> ?fr FILTER(lang(?fr) = 'fr') }} }}", True),
    # the protocol's dataset wins over FROM in the query
    ("GET", [("default-graph-uri", LABELS_EN)], SELECT.replace("WHERE", f"FROM <{REFERENTIEL}> WHERE"), ["en"]),
    # without protocol parameters the query's FROM applies (SPARQL 1.1 Protocol §2.1.4)
    pytest.param("GET", [], SELECT.replace("WHERE", f"FROM <{REFERENTIEL}> WHERE"), ["fr"], id="from-in-query"),
]


@pytest.mark.parametrize("method, params, query, expected", DATASET_CASES)
def test_dataset_parameters(endpoint: Server, method: str, params, query: str, expected) -> None:
    r = send(endpoint, query, method=method, params=params)
    assert r.status_code == 200, r.text
    if isinstance(expected, bool):
        assert boolean(r) is expected
    elif isinstance(expected, list):  # languages of the labels found
        res = Result.parse(io.BytesIO(r.content), format="json")
        assert sorted(b[Variable("label")].language for b in res.bindings) == expected
    else:
        assert [next(iter(row.values())) for row in rows(r)] == [expected]


def test_default_graph_is_union_of_named_graphs(endpoint: Server) -> None:
    health = requests.get(endpoint.base + "/health", timeout=TIMEOUT).json()
    union = rows(send(endpoint, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"))[0]["n"]
    quads = rows(send(endpoint, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"))[0]["n"]
    assert int(union) == health["triples"] and int(quads) == health["quads"]
    each = rows(send(endpoint, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"))
    for row in each:  # every named graph on its own as the default graph gives the same count
        one = rows(send(endpoint, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", params=[("default-graph-uri", row["g"])]))
        assert one[0]["n"] == row["n"]


# ---------------------------------------------------------------- content negotiation

# The whole matrices (support/protocol.py) run in-process in tests/test_negotiation.py; a few rows here,
# over HTTP: no Accept header at all, q-values, a format= parameter against Accept, a zero q, a POST form.
HTTP_SELECT_NEGOTIATION = [
    ("GET", None, [], "application/sparql-results+json"),
    ("GET", "text/csv;q=0.5, application/sparql-results+xml", [], "application/sparql-results+xml"),
    ("GET", "application/sparql-results+json", [("format", "csv")], "text/csv"),
    ("POST-form", "text/*, text/csv;q=0", [], "text/tab-separated-values"),
]


@pytest.mark.parametrize("method, accept, params, expected", HTTP_SELECT_NEGOTIATION)
def test_select_negotiation(endpoint: Server, method: str, accept, params, expected: str) -> None:
    check_select_answer(send(endpoint, SELECT, method=method, accept=accept, params=params), expected)


@pytest.mark.parametrize("accept", RESULT_TYPES)
def test_ask_formats(endpoint: Server, accept: str) -> None:
    r = send(endpoint, ASK, accept=accept)
    assert r.status_code == 200 and media(r) == accept and boolean(r) is True


@pytest.mark.parametrize("query, accept, params, expected", [
    (CONSTRUCT, "application/rdf+xml;q=0.9, application/ld+json", [], "application/ld+json"),
    (DESCRIBE, None, [("output", "xml")], "application/rdf+xml"),
], ids=["construct", "describe"])
def test_graph_negotiation(endpoint: Server, query: str, accept, params, expected: str) -> None:
    check_graph_answer(send(endpoint, query, accept=accept, params=params), expected)


# ---------------------------------------------------------------- service description and VoID


def sd_graph(r: requests.Response) -> Graph:
    return Graph().parse(data=r.content, format={"text/turtle": "turtle", "application/rdf+xml": "xml",
                                                 "application/n-triples": "nt", "application/ld+json": "json-ld"}[media(r)])


@pytest.mark.parametrize("accept, expected", [
    (None, "text/turtle"),
    ("text/turtle", "text/turtle"),
    ("application/rdf+xml", "application/rdf+xml"),
    ("application/rdf+xml;q=0.9, text/turtle;q=0.5", "application/rdf+xml"),
    ("application/ld+json", "application/ld+json"),
    ("application/n-triples", "application/n-triples"),
    ("*/*", "text/turtle"),
])
def test_service_description(endpoint: Server, accept, expected: str) -> None:
    r = send(endpoint, None, accept=accept)
    assert r.status_code == 200 and media(r) == expected
    g = sd_graph(r)
    service = URIRef(endpoint.sparql)
    assert (service, RDF.type, SD.Service) in g and (service, SD.endpoint, service) in g
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in g
    assert (service, SD.supportedLanguage, SD.SPARQL11Update) not in g  # read-only
    assert (service, SD.feature, SD.UnionDefaultGraph) in g
    assert (service, SD.feature, SD.BasicFederatedQuery) not in g  # SERVICE is refused
    formats = {str(f).rsplit("/", 1)[1] for f in g.objects(service, SD.resultFormat)}
    assert {"SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV", "Turtle",
            "N-Triples", "JSON-LD", "RDF_XML", "TriG", "N-Quads"} <= formats
    names = {str(n) for n in g.objects(None, SD.name)}
    assert {REFERENTIEL, LABELS_EN} <= names and len(names) == 8


def test_browsers_get_the_editor(endpoint: Server) -> None:
    """A browser opening /sparql without an operation gets the editor page; programs get the service
    description (above), and a query with the same Accept header gets results (test_negotiation cases)."""
    r = send(endpoint, None, accept="text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    assert r.status_code == 200 and media(r) == "text/html"
    assert 'id="examples-data"' in r.text


def test_service_description_not_acceptable(endpoint: Server) -> None:
    r = send(endpoint, None, accept="application/sparql-results+json")
    assert r.status_code == 406 and "text/turtle" in r.text


@pytest.mark.parametrize("accept, expected", [(None, "text/turtle"), ("application/rdf+xml", "application/rdf+xml"),
                                              ("application/ld+json;q=0.5, text/turtle;q=0.4", "application/ld+json")])
def test_void(endpoint: Server, accept, expected: str) -> None:
    r = requests.get(endpoint.base + "/.well-known/void", headers={"Accept": accept} if accept else {}, timeout=TIMEOUT)
    assert r.status_code == 200 and media(r) == expected
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    g = sd_graph(r)
    (dataset,) = set(g.subjects(VOID.sparqlEndpoint, URIRef(endpoint.sparql)))
    counts = {str(sub): int(g.value(sub, VOID.triples)) for sub in g.objects(dataset, VOID.subset)}
    expected_counts = {row["g"]: int(row["n"]) for row in rows(
        send(endpoint, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"))}
    assert counts == expected_counts and len(counts) == 8
    total = int(rows(send(endpoint, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"))[0]["n"])
    assert int(g.value(dataset, VOID.triples)) == total


def test_void_bad_host(endpoint: Server) -> None:
    r = requests.get(endpoint.base + "/.well-known/void", headers={"Host": "evil>host"}, timeout=TIMEOUT)
    assert r.status_code == 400 and "Host" in r.text


def test_void_not_acceptable(endpoint: Server) -> None:
    r = requests.get(endpoint.base + "/.well-known/void", headers={"Accept": "image/png"}, timeout=TIMEOUT)
    assert r.status_code == 406


# ---------------------------------------------------------------- errors

BIG = "x" * (1024 * 1024 + 10)
ERROR_CASES = [
    # (id, request keyword arguments for requests.request, expected status, text expected in the body)
    ("syntax", dict(method="GET", params={"query": "ASK {"}), 400, "error at 1:6"),
    ("syntax-multiline", dict(method="POST", data=b"SELECT * WHERE {\n  ?s ?p ?o\n  FILTER(",
                              headers={"Content-Type": "application/sparql-query"}), 400, "error at 3:"),
    ("default-graph-uri-not-an-iri", dict(method="GET", params={"query": "ASK {}", "default-graph-uri": "not an iri"}),
     400, "default-graph-uri must be an absolute IRI"),
    ("named-graph-uri-relative", dict(method="POST", data={"query": "ASK {}", "named-graph-uri": "graph/1"}),
     400, "named-graph-uri must be an absolute IRI"),
    ("default-graph-uri-empty", dict(method="GET", params={"query": "ASK {}", "default-graph-uri": ""}), 400, "absolute IRI"),
    ("bad-host-query", dict(method="GET", params={"query": "ASK {}"}, headers={"Host": "evil>host"}), 400, "Host"),
    ("bad-host-description", dict(method="GET", headers={"Host": "a b"}), 400, "Host"),
    ("two-queries", dict(method="GET", params=[("query", "ASK {}"), ("query", "SELECT * {}")]), 400, "more than once"),
    ("query-in-url-and-body", dict(method="POST", params={"query": "ASK {}"}, data={"query": "ASK {}"}), 400, "more than once"),
    ("query-in-url-and-direct-body", dict(method="POST", params={"query": "ASK {}"}, data=b"ASK {}",
                                          headers={"Content-Type": "application/sparql-query"}), 400, "more than once"),
    ("query-and-update", dict(method="POST", data={"query": "ASK {}", "update": "CLEAR ALL"}), 400, "not both"),
    ("missing-query-form", dict(method="POST", data={"default-graph-uri": REFERENTIEL}), 400, "missing"),
    ("missing-query-direct-empty", dict(method="POST", data=b"", headers={"Content-Type": "application/sparql-query"}), 400, ""),
    ("non-utf8", dict(method="POST", data="ASK {}".encode("utf-16"),
                      headers={"Content-Type": "application/sparql-query; charset=UTF-16"}), 400, "UTF-8"),
    ("put", dict(method="PUT", params={"query": "ASK {}"}), 405, "PUT"),
    ("delete", dict(method="DELETE"), 405, "DELETE"),
    ("patch", dict(method="PATCH", data=b"ASK {}", headers={"Content-Type": "application/sparql-query"}), 405, ""),
    ("update-via-get", dict(method="GET", params={"update": "CLEAR ALL"}), 405, "POST"),
    ("not-acceptable", dict(method="GET", params={"query": SELECT}, headers={"Accept": "image/png"}), 406, "offered"),
    ("not-acceptable-q0", dict(method="GET", params={"query": SELECT}, headers={"Accept": "text/csv;q=0"}), 406, ""),
    ("select-as-rdf", dict(method="GET", params={"query": SELECT}, headers={"Accept": "text/turtle"}), 406, "SELECT"),
    ("ask-as-rdf", dict(method="GET", params={"query": ASK}, headers={"Accept": "text/turtle"}), 406, "ASK"),
    ("construct-as-table", dict(method="GET", params={"query": CONSTRUCT}, headers={"Accept": "text/csv"}), 406, "CONSTRUCT"),
    ("too-large-form", dict(method="POST", data={"query": "ASK {} #" + BIG}), 413, "larger than"),
    ("too-large-direct", dict(method="POST", data=("ASK {} #" + BIG).encode(),
                              headers={"Content-Type": "application/sparql-query"}), 413, "larger than"),
    ("too-long-url", dict(method="GET", params={"query": "ASK {} #" + "x" * 9000}), 414, "POST"),  # request line > 8 KiB
    ("wrong-body-type", dict(method="POST", data=b"ASK {}", headers={"Content-Type": "text/plain"}), 415, "application/sparql-query"),
    ("no-body-type", dict(method="POST", data=b"query=ASK%20%7B%7D"), 415, ""),
    ("json-body", dict(method="POST", json={"query": "ASK {}"}), 415, ""),
    ("update-read-only-form", dict(method="POST", data={"update": "CLEAR ALL"}), 403, "read-only"),
    ("update-read-only-direct", dict(method="POST", data=b"INSERT DATA { <http://a> <http://b> <http://c> }",
                                     headers={"Content-Type": "application/sparql-update"}), 403, "read-only"),
    ("service", dict(method="GET", params={"query": "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"}),
     403, "SERVICE"),
    ("service-silent-post", dict(method="POST", data={"query": "ASK { SERVICE SILENT <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"}),
     403, "SERVICE"),
]


@pytest.mark.parametrize("kwargs, status, text", [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_errors(endpoint: Server, kwargs: dict, status: int, text: str) -> None:
    kwargs = dict(kwargs)
    r = requests.request(kwargs.pop("method"), endpoint.sparql, timeout=TIMEOUT, **kwargs)
    assert r.status_code == status, r.text
    assert media(r) == "text/plain" and r.text.strip(), "errors have a readable body"
    assert text in r.text
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    if status == 405:
        allowed = {m.strip() for m in r.headers["Allow"].split(",")}
        assert "POST" in allowed and (kwargs.get("params") == {"update": "CLEAR ALL"} or {"GET", "HEAD"} <= allowed)


def test_syntax_error_message_is_the_engines(endpoint: Server) -> None:
    r = send(endpoint, "SELECT * WHERE { ?s foo:bar ?o }")
    assert r.status_code == 400
    assert r.text.startswith("SPARQL syntax error: error at 1:") and "Prefix not found" in r.text


def test_service_in_a_string_is_not_federation(endpoint: Server) -> None:
    r = send(endpoint, 'ASK { FILTER("SERVICE <http://example.org/>" != "") }')
    assert r.status_code == 200 and boolean(r) is True


def test_small_request_limit(store_endpoint: Server) -> None:
    """``--max-request-bytes 65536`` on the store server."""
    assert send(store_endpoint, "ASK {} #" + "x" * 60_000, method="POST-direct").status_code == 200
    r = send(store_endpoint, "ASK {} #" + "x" * 70_000, method="POST-direct")
    assert r.status_code == 413 and "65536" in r.text
    assert send(store_endpoint, "ASK {} #" + "x" * 70_000).status_code == 414  # in the URL: the request line limit (8 KiB)


def test_relative_iris_resolve_against_the_endpoint(endpoint: Server) -> None:
    r = send(endpoint, "CONSTRUCT { <s> <p> <o> } WHERE {}", accept="application/n-triples")
    assert r.status_code == 200, r.text
    base = endpoint.base + "/"
    assert (URIRef(base + "s"), URIRef(base + "p"), URIRef(base + "o")) in graph(r)
    r = send(endpoint, "BASE <rel/> SELECT (<x> AS ?x) {}")
    assert rows(r) == [{"x": endpoint.base + "/rel/x"}]


def test_row_cap(store_endpoint: Server) -> None:
    """``--max-rows 1000`` on the store server: the response is cut and says so (header exposed to browsers)."""
    r = send(store_endpoint, "SELECT * WHERE { ?s ?p ?o }", accept="text/csv")
    assert r.status_code == 200 and len(rows(r)) == 1000
    assert "1000" in r.headers["X-RKG-Truncated"]
    assert "X-RKG-Truncated" in r.headers["Access-Control-Expose-Headers"]
    assert "X-RKG-Truncated" not in send(store_endpoint, SELECT).headers


# ---------------------------------------------------------------- CORS and caching


def test_cors_preflight(endpoint: Server) -> None:
    r = requests.options(endpoint.sparql, timeout=TIMEOUT, headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, authorization"})
    assert r.status_code in (200, 204) and r.content == b""
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert {"GET", "POST"} <= {m.strip() for m in r.headers["Access-Control-Allow-Methods"].split(",")}
    allowed = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "authorization", "accept"} <= allowed
    assert int(r.headers["Access-Control-Max-Age"]) > 0


@pytest.mark.parametrize("method", ["GET", "POST-form", "POST-direct", "HEAD"])
def test_cors_on_answers(endpoint: Server, method: str) -> None:
    r = send(endpoint, SELECT, method=method, headers={"Origin": "https://app.example"})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in r.headers["Access-Control-Expose-Headers"]
    sd = send(endpoint, None, headers={"Origin": "https://app.example"})
    assert sd.headers["Access-Control-Allow-Origin"] == "*"


def test_etag_and_if_none_match(endpoint: Server) -> None:
    query = SELECT + f" # {uuid.uuid4()}"
    first = send(endpoint, query)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and first.headers["Cache-Control"] == "no-cache"
    for header in (etag, "W/" + etag, f'"other", {etag}', "*"):
        again = send(endpoint, query, headers={"If-None-Match": header})
        assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    assert send(endpoint, query, headers={"If-None-Match": '"other"'}).status_code == 200
    post = send(endpoint, query, method="POST-direct", headers={"If-None-Match": etag})
    assert post.status_code == 304
    xml = send(endpoint, query, accept="application/sparql-results+xml", headers={"If-None-Match": etag})
    assert xml.status_code == 200 and xml.headers["ETag"] != etag  # another representation
    # the same answer from any worker carries the same tag (it is a hash of the body)
    assert {send(endpoint, query).headers["ETag"] for _ in range(4)} == {etag}


# ---------------------------------------------------------------- time limit


def test_runaway_query_is_stopped(store_endpoint: Server) -> None:
    """``--time-limit 2``: the runaway gets 503 in about 2 s, a simple query sent meanwhile by another
    client is answered at once by another sandbox, and the killed sandbox is replaced."""
    assert len(store_endpoint.sandboxes()) == store_endpoint.sandbox_count
    outcome: dict = {}

    def runaway() -> None:
        started = time.monotonic()
        r = send(store_endpoint, RUNAWAY + f" # {uuid.uuid4()}")
        outcome.update(status=r.status_code, text=r.text, retry=r.headers.get("Retry-After"),
                       seconds=time.monotonic() - started)

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    quick = session_from("127.0.0.2").get(store_endpoint.sparql, timeout=TIMEOUT, params={
        "query": f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s a ?c }} # {uuid.uuid4()}"})
    quick_seconds = time.monotonic() - started
    thread.join(30)
    assert quick.status_code == 200 and int(rows(quick)[0]["n"]) > 300
    assert quick_seconds < 1.5
    assert outcome["status"] == 503 and "time limit of 2 s" in outcome["text"] and outcome["retry"]
    assert 1.9 < outcome["seconds"] < 3.5
    # the server keeps answering, and the killed sandbox is replaced
    for _ in range(4):
        r = send(store_endpoint, f"ASK {{ ?s ?p ?o }} # {uuid.uuid4()}")
        assert r.status_code == 200 and boolean(r) is True
    deadline = time.monotonic() + 20
    while len(store_endpoint.sandboxes()) < store_endpoint.sandbox_count and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(store_endpoint.sandboxes()) == store_endpoint.sandbox_count


# ---------------------------------------------------------------- process life


@pytest.mark.parametrize("mode", ["memory", "location"])
def test_clean_shutdown(mode: str, nquads, tmp_path) -> None:
    """SIGTERM to the master stops every process of the server, and none of them crashes on the way."""
    from support.build import make_store
    from support.server import start_server, stop_server

    args = ["--workers", "1", "--sandboxes", "1"]
    if mode == "location":
        args += ["--location", str(make_store(tmp_path / "store", nquads))]
    server = start_server(args, tmp_path / "server.log")
    try:
        assert boolean(send(server, ASK)) is True
    finally:
        stop_server(server)  # raises if a process of the group is left
    log = server.log_text()
    assert server.process.returncode == 0, log
    assert not any(sign in log for sign in ("SIGSEGV", "SIGABRT", "terminate called", "Traceback")), log


def test_memory_hog_is_stopped_by_the_memory_limit(store_endpoint: Server) -> None:
    """A sorted cross product grows until the query process reaches its RLIMIT_DATA (512 MiB by default):
    the engine aborts, the client gets 422 saying so, and the process is replaced."""
    r = send(store_endpoint, MEMORY_HOG + f" # {uuid.uuid4()}")
    assert r.status_code in (422, 503), r.text  # 503 if the time limit comes first on a fast machine
    if r.status_code == 422:
        assert "more memory" in r.text and "SIGABRT" in r.text
    assert send(store_endpoint, f"ASK {{ ?s ?p ?o }} # {uuid.uuid4()}").status_code == 200
