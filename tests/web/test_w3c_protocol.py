"""The W3C SPARQL 1.1 Protocol test cases (w3c/rdf-tests, sparql/sparql11/protocol/ and
service-description/), read from the copy in ``tests/reference/w3c-sparql11-protocol/`` and run over HTTP
against ``rkg serve``.

Every ``mf:ProtocolTest`` of manifest.ttl becomes one case (id: its ``mf:name``). Its ``ht:Request``s are
sent in order, as written (method, headers, body in its ``cnt:characterEncoding``, no Accept header),
with the manifest's ``/sparql/`` path mapped to our ``/sparql``; each response is checked for the
expected status class, result format (``boolean``, ``tabular``, ``RDF``) and boolean.

Where the cases run:

* query cases, and the ``bad_query_*`` ones: the read-only server on a persistent store holding the
  bundled graph plus data1.nt–data3.nt loaded in the named graphs the manifest's ``ut:graphData`` name
  (``http://kasei.us/2009/09/sparql/data/dataN.rdf``), so nothing is fetched;
* update cases, and the ``bad_update_*`` ones: a writable server (``--allow-update``, token sent as
  ``Authorization: Bearer``), so that a bad update is refused for its own fault and not because the
  service is read-only.

Several cases name ``http://kasei.us/2009/09/sparql/data/data0.rdf`` as default graph; that document
is not in the folder and is never fetched: the server treats the IRI as a graph it does not hold (an
empty graph), and the queries of those cases (``ASK {}``, ``SELECT (1 AS ?value) {}``, ``DESCRIBE
<http://example.org/>``, ``CONSTRUCT { <s> <p> 1 } WHERE {}``) have the expected answers whatever that
graph holds, so they apply as they are.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pytest
import requests
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF
from rdflib.query import Result

from support.paths import W3C
from support.server import TOKEN, Server

pytestmark = [pytest.mark.server, pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib")]  # rdflib's own parsers use its deprecated API

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
MANIFEST = W3C / "manifest.ttl"
SD_MANIFEST = W3C / "service-description-manifest.ttl"

# Cases that cannot apply to this service, with the reason: none. No case needs the network (data0.rdf,
# the one remote document not provided, does not change any expected answer, see above), and the update
# cases run on the writable server (using-graph-uri / using-named-graph-uri included: rkg.writes adds
# them to the update as USING / USING NAMED clauses).
NOT_APPLICABLE: dict[str, str] = {}

RESULTS = {"application/sparql-results+json": "json", "application/sparql-results+xml": "xml",
           "text/csv": "csv", "text/tab-separated-values": "tsv"}
RDF_FORMATS = {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml",
               "application/ld+json": "json-ld", "application/trig": "trig", "application/n-quads": "nquads"}
STATUS_CLASS = {HTS.StatusCode2xx: 2, HTS.StatusCode3xx: 3, HTS.StatusCode4xx: 4, HTS.StatusCode5xx: 5}


@dataclass
class Exchange:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    status_classes: set[int]
    format: str | None = None
    boolean: bool | None = None


@dataclass
class Case:
    local: str
    name: str
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def is_update(self) -> bool:
        return self.local.startswith(("update_", "bad_update_"))


def read_manifest() -> list[Case]:
    g = Graph().parse(MANIFEST, format="turtle")
    (manifest,) = g.subjects(RDF.type, MF.Manifest)
    cases = []
    for entry in Collection(g, g.value(manifest, MF.entries)):
        assert (entry, RDF.type, MF.ProtocolTest) in g
        case = Case(str(entry).rsplit("#", 1)[1], str(g.value(entry, MF.name)))
        action = g.value(entry, MF.action)
        for req in Collection(g, g.value(action, HT.requests)):
            headers = {str(g.value(h, HT.fieldName)): str(g.value(h, HT.fieldValue))
                       for h in Collection(g, g.value(req, HT.headers) or RDF.nil)}
            body = g.value(req, HT.body)
            data = None
            if body is not None:
                data = str(g.value(body, CNT.chars)).encode(str(g.value(body, CNT.characterEncoding) or "UTF-8"))
            resp = g.value(req, HT.resp)
            expected_bool = g.value(resp, MF.expectedBoolean)
            case.exchanges.append(Exchange(
                method=str(g.value(req, HT.methodName)), path=str(g.value(req, HT.absolutePath)), headers=headers,
                body=data, status_classes={STATUS_CLASS[s] for s in g.objects(resp, MF.expectedStatus)},
                format=str(g.value(resp, MF.expectedFormat)) if g.value(resp, MF.expectedFormat) else None,
                boolean=expected_bool.toPython() if isinstance(expected_bool, Literal) else None))
        cases.append(case)
    return cases


CASES = read_manifest()


def case_id(case: Case) -> str:
    duplicate = sum(c.name == case.name for c in CASES) > 1
    return f"{case.name} [{case.local}]" if duplicate else case.name


def perform(server: Server, exchange: Exchange, auth: bool) -> requests.Response:
    assert exchange.path.startswith("/sparql/")
    rest = exchange.path.removeprefix("/sparql/")
    url = server.sparql + rest  # "?..." or ""
    headers = {"Accept": None, **exchange.headers}  # only the manifest's headers: no default Accept from requests
    if auth:
        headers["Authorization"] = f"Bearer {TOKEN}"
    return requests.request(exchange.method, url, data=exchange.body, headers=headers, timeout=30,
                            allow_redirects=False)


def check(r: requests.Response, exchange: Exchange) -> None:
    assert r.status_code // 100 in exchange.status_classes, f"{r.status_code}: {r.text}"
    media = r.headers.get("Content-Type", "").split(";")[0].strip()
    if exchange.format == "boolean":
        assert media in ("application/sparql-results+json", "application/sparql-results+xml"), media
        result = Result.parse(io.BytesIO(r.content), format=RESULTS[media])
        assert result.type == "ASK"
        if exchange.boolean is not None:
            assert result.askAnswer is exchange.boolean
    elif exchange.format == "tabular":
        assert media in RESULTS, media
        result = Result.parse(io.BytesIO(r.content), format=RESULTS[media])
        assert result.type == "SELECT" and [str(v) for v in result.vars] == ["value"]
        assert [int(row[0]) for row in result] == [1]
    elif exchange.format == "RDF":
        assert media in RDF_FORMATS, media
        Graph().parse(data=r.content, format=RDF_FORMATS[media])
    else:
        assert exchange.format is None, exchange.format


def test_manifest_is_read_whole() -> None:
    assert len(CASES) == 34 and all(c.exchanges for c in CASES)
    names = {c.name for c in CASES}
    assert set(NOT_APPLICABLE) <= names


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_protocol_case(case: Case, request: pytest.FixtureRequest) -> None:
    if case.name in NOT_APPLICABLE:
        assert NOT_APPLICABLE[case.name].strip(), "a case left out must say why"
        return
    server: Server = request.getfixturevalue("update_endpoint" if case.is_update else "store_endpoint")
    for exchange in case.exchanges:
        check(perform(server, exchange, auth=case.is_update), exchange)


# ---------------------------------------------------------------- service description

SD_VOCABULARY = {
    # property: (domain, range class or None for an IRI)
    SD.endpoint: (SD.Service, None), SD.feature: (SD.Service, SD.Feature),
    SD.defaultEntailmentRegime: (SD.Service, SD.EntailmentRegime),
    SD.supportedEntailmentProfile: (SD.Service, SD.EntailmentProfile),
    SD.extensionFunction: (SD.Service, SD.Function), SD.extensionAggregate: (SD.Service, SD.Aggregate),
    SD.languageExtension: (SD.Service, SD.Feature), SD.supportedLanguage: (SD.Service, SD.Language),
    SD.propertyFeature: (SD.Service, None), SD.defaultDataset: (SD.Service, SD.Dataset),
    SD.availableGraphs: (SD.Service, SD.GraphCollection), SD.resultFormat: (SD.Service, None),
    SD.inputFormat: (SD.Service, None), SD.defaultGraph: (SD.Dataset, SD.Graph),
    SD.namedGraph: (SD.GraphCollection, SD.NamedGraph), SD.name: (SD.NamedGraph, None),
    SD.graph: (SD.NamedGraph, SD.Graph), SD.entailmentRegime: (SD.NamedGraph, SD.EntailmentRegime),
}
SD_CLASSES = {SD.Service, SD.Feature, SD.Language, SD.Function, SD.Aggregate, SD.EntailmentRegime,
              SD.EntailmentProfile, SD.GraphCollection, SD.Dataset, SD.NamedGraph, SD.Graph}
SD_SUBCLASSES = {SD.Dataset: {SD.GraphCollection}, SD.Language: {SD.Feature}, SD.Aggregate: {SD.Function}}
SD_INSTANCES = {SD.SPARQL10Query: SD.Language, SD.SPARQL11Query: SD.Language, SD.SPARQL11Update: SD.Language,
                SD.DereferencesURIs: SD.Feature, SD.UnionDefaultGraph: SD.Feature, SD.RequiresDataset: SD.Feature,
                SD.EmptyGraphs: SD.Feature, SD.BasicFederatedQuery: SD.Feature}


def sd_types(g: Graph, node) -> set[URIRef]:
    types = set(g.objects(node, RDF.type))
    if node in SD_INSTANCES:
        types.add(SD_INSTANCES[node])
    for t in list(types):
        types |= SD_SUBCLASSES.get(t, set())
    return types


def conformance_problems(g: Graph) -> list[str]:
    """What breaks the SD vocabulary's terms, domains and ranges (as declared in the SD recommendation),
    plus the cardinalities §3 states for named graphs."""
    problems = []
    for s, p, o in g:
        for term in (s, p, o):
            if isinstance(term, URIRef) and str(term).startswith(str(SD)) and term not in (
                    *SD_VOCABULARY, *SD_CLASSES, *SD_INSTANCES):
                problems.append(f"unknown SD term {term}")
        if p not in SD_VOCABULARY:
            continue
        domain, range_ = SD_VOCABULARY[p]
        if domain not in sd_types(g, s):
            problems.append(f"{s} uses {p} but is not a {domain}")
        if range_ is None:
            if not isinstance(o, URIRef):
                problems.append(f"{p} of {s} should be an IRI, not {o!r}")
        elif range_ not in sd_types(g, o):
            problems.append(f"{p} of {s} is {o}, not a {range_}")
    for named in g.subjects(RDF.type, SD.NamedGraph):
        if len(list(g.objects(named, SD.name))) != 1:
            problems.append(f"named graph {named} needs exactly one sd:name")
    return problems


def service_description(server: Server, accept: str) -> tuple[requests.Response, Graph]:
    r = requests.get(server.sparql, headers={"Accept": accept}, timeout=30)
    media = r.headers.get("Content-Type", "").split(";")[0].strip()
    return r, Graph().parse(data=r.content, format=RDF_FORMATS[media]) if r.status_code == 200 else Graph()


def sd_names() -> dict[str, str]:
    g = Graph().parse(SD_MANIFEST, format="turtle")
    (manifest,) = g.subjects(RDF.type, MF.Manifest)
    return {str(e).rsplit("#", 1)[1]: str(g.value(e, MF.name)) for e in Collection(g, g.value(manifest, MF.entries))}


SD_CASES = sd_names()


def test_sd_manifest_is_covered() -> None:
    assert set(SD_CASES) == {"has-endpoint-triple", "returns-rdf", "conforms-to-schema"}


@pytest.mark.parametrize("accept", ["text/turtle", "application/rdf+xml", "application/n-triples",
                                    "application/ld+json", "*/*", "application/rdf+xml, text/turtle;q=0.5"])
@pytest.mark.parametrize("server_name", ["store_endpoint", "update_endpoint"])
def test_sd_returns_rdf(server_name: str, accept: str, request: pytest.FixtureRequest) -> None:
    """GET on endpoint returns RDF."""
    r, g = service_description(request.getfixturevalue(server_name), accept)
    assert r.status_code == 200 and len(g) > 10


@pytest.mark.parametrize("server_name", ["store_endpoint", "update_endpoint"])
def test_sd_has_endpoint_triple(server_name: str, request: pytest.FixtureRequest) -> None:
    """Service description contains a matching sd:endpoint triple."""
    server = request.getfixturevalue(server_name)
    _, g = service_description(server, "text/turtle")
    assert list(g.subjects(SD.endpoint, URIRef(server.sparql)))


@pytest.mark.parametrize("server_name", ["store_endpoint", "update_endpoint"])
def test_sd_conforms_to_schema(server_name: str, request: pytest.FixtureRequest) -> None:
    """Service description conforms to schema."""
    server = request.getfixturevalue(server_name)
    _, g = service_description(server, "application/rdf+xml")
    assert conformance_problems(g) == []
    (service,) = g.subjects(RDF.type, SD.Service)
    languages = set(g.objects(service, SD.supportedLanguage))
    assert SD.SPARQL11Query in languages
    assert (SD.SPARQL11Update in languages) is (server_name == "update_endpoint")
    if server_name == "store_endpoint":  # its named graphs are fixed: the W3C ones are described
        names = {str(n) for n in g.objects(None, SD.name)}
        assert {f"http://kasei.us/2009/09/sparql/data/data{i}.rdf" for i in (1, 2, 3)} <= names


def test_conformance_checker_finds_problems() -> None:
    bad = Graph()
    s = URIRef("http://example.org/sparql")
    bad.add((s, RDF.type, SD.Service))
    bad.add((s, SD.supportedLanguage, SD.SPARQL12Query))  # no such term
    bad.add((s, SD.endpoint, Literal("http://example.org/sparql")))  # not an IRI
    bad.add((s, SD.defaultGraph, URIRef("http://example.org/g")))  # domain is sd:Dataset
    named = URIRef("http://example.org/named")
    bad.add((named, RDF.type, SD.NamedGraph))  # no sd:name
    problems = "\n".join(conformance_problems(bad))
    for expected in ("unknown SD term http://www.w3.org/ns/sparql-service-description#SPARQL12Query",
                     "should be an IRI", "is not a http://www.w3.org/ns/sparql-service-description#Dataset",
                     "needs exactly one sd:name"):
        assert expected in problems
