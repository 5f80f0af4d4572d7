"""Writes: SPARQL Update and the Graph Store protocol on the persistent store (server/rkg/writes.py,
server/rkg/web/graph_store.py).

Two kinds of tests:

* in-process tests of ``rkg.writes`` on a throw-away pyoxigraph store: the footprint scan (checked
  against rdflib's SPARQL algebra), ``using-graph-uri`` rewriting, exact commits with blank nodes, the
  validation cache, the fallback when the scan misses a graph;
* HTTP tests against real ``rkg serve`` processes (tests/support/server.py; one process owning the store): a writable
  server on a persistent store holding the bundled référentiel and the demo one of tests/fixtures/demo,
  a read-only server, and a server stopped and started again on the same store. "Store unchanged" is
  checked by comparing full dumps (every quad of every named graph, and the default graph) before and
  after. Which graphs a write validated is read from the ``X-RKG-Validated-Graphs`` header, so the
  "large graph is not validated" check does not depend on timing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, SH
from support.build import ensure_built, make_store
from support.paths import DEMO_DATA, ROOT
from support.server import Server, free_port, serving, start_server, stop_server

from rkg.build import NQUADS_NAME
from rkg.jobs import GraphStoreJob, Kind, StoreSpec, UpdateJob
from rkg import writes
from rkg.web import protocol
from rkg.writes import DEFAULT, Writer, footprint, with_using

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib")  # rdflib's JSON-LD and TriG parsers
# The HTTP tests start real servers: each is marked ``server`` (the in-process ones are not).

SHAPES = ROOT / "shapes"
TOKEN = "writes-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

PIF = "https://w3id.org/rkg/id/rncp31854-pif"
P = PIF + "/"
G = "https://w3id.org/rkg/graph/rncp31854-pif/2024-2028/"
REFERENTIEL, LABELS = G + "referentiel", G + "labels-en"
ONTOLOGY = "https://w3id.org/rkg/graph/ontology/rkg"
BIG = "https://w3id.org/rkg/graph/esco-sample/skills"
PREFIXES = """PREFIX rkg: <https://w3id.org/rkg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
SPARQL_UPDATE = {"Content-Type": "application/sparql-update"}


# ---------------------------------------------------------------- servers (tests/support/server.py)


def start(build_dir: Path, log: Path, *args: str, token: str | None = TOKEN) -> Server:
    """``rkg serve`` on the bundled and demo référentiels built in ``build_dir``, time limit 120 s, with
    ``token`` in ``RKG_UPDATE_TOKEN`` (``args`` say whether updates are allowed)."""
    return start_server(["--build-dir", str(build_dir), "--data", str(DEMO_DATA), "--time-limit", "120", *args],
                        log, {"RKG_UPDATE_TOKEN": token} if token is not None else None)


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled référentiel and the demo one, built (so ``rkg serve --data DEMO`` finds it fresh)."""
    out = tmp_path_factory.mktemp("writes-build")
    ensure_built(out, [DEMO_DATA])
    return out


@pytest.fixture(scope="module")
def srv(build_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Writable server: persistent store, --allow-update, one worker."""
    tmp = tmp_path_factory.mktemp("writes-server")
    folder = make_store(tmp / "store", build_dir / NQUADS_NAME, w3c=False)
    with serving(build_dir, log=tmp / "server.log", data=[DEMO_DATA], time_limit=120.0, location=folder,
                 update_token=TOKEN, workers=1) as server:
        yield server


@pytest.fixture(scope="module")
def readonly(build_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Read-only server (the token is in the environment, but --allow-update is not given)."""
    tmp = tmp_path_factory.mktemp("readonly-server")
    server = start(build_dir, tmp / "server.log", "--workers", "1", "--sandboxes", "1")
    yield server
    stop_server(server)


# ---------------------------------------------------------------- helpers


def update(server: Server, text: str, headers: dict | None = None, auth: bool = True, **params) -> requests.Response:
    """POST an update (the rkg: and skos: prefixes declared)."""
    h = {**SPARQL_UPDATE, **(AUTH if auth else {}), **(headers or {})}
    return requests.post(server.sparql, data=(PREFIXES + text).encode(), headers=h, params=params, timeout=180)


def select(server: Server, query: str) -> requests.Response:
    return requests.post(server.sparql, data={"query": PREFIXES + query},
                         headers={"Accept": "application/sparql-results+json"}, timeout=60)


def rows(server: Server, query: str) -> set[tuple]:
    r = select(server, query)
    assert r.status_code == 200, r.text
    body = r.json()
    names = body["head"]["vars"]
    return {tuple(json.dumps(b.get(v), sort_keys=True) for v in names) for b in body["results"]["bindings"]}


def ask(server: Server, query: str) -> bool:
    r = requests.post(server.sparql, data={"query": PREFIXES + query},
                      headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()["boolean"]


def dump(server: Server) -> tuple[set[tuple], bytes]:
    """Every quad of every named graph (blank nodes keep their store identifiers), and the default graph."""
    quads = rows(server, "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    r = requests.get(server.store, params={"default": ""}, headers={"Accept": "application/n-triples"}, timeout=60)
    assert r.status_code == 200, r.text
    return quads, b"\n".join(sorted(r.content.splitlines()))


def graphs_header(r: requests.Response, name: str = "X-RKG-Validated-Graphs") -> set[str]:
    return set(r.headers.get(name, "").split())


def alt_label_insert(label: str, graph: str = LABELS, node: str = P + "block/BC01") -> str:
    return f'INSERT DATA {{ GRAPH <{graph}> {{ <{node}> skos:altLabel "{label}"@en }} }}'


def orphan_competency(code: str, graph: str = REFERENTIEL) -> str:
    """A competency of the bundled programme in no block: a rkgsh:CompetencyInOneBlock violation."""
    return f"""INSERT DATA {{ GRAPH <{graph}> {{
        <{P}competency/{code}> a rkg:Competency ; skos:notation "{code}" ; skos:prefLabel "orpheline"@fr ;
            rkg:inProgramme <{PIF}> }} }}"""


# ---------------------------------------------------------------- in process: footprint and rewriting


FOOTPRINT_CASES = [
    "PREFIX ex: <http://ex/> INSERT DATA { GRAPH ex:g { ex:a ex:b ex:c } ex:x ex:y ex:z }",
    "DELETE DATA { GRAPH <http://g2> { <http://a> <http://b> \"GRAPH <http://nope>\" } }",
    "WITH <http://w> DELETE { ?s ?p ?o } INSERT { GRAPH <http://g4> { ?s ?p 2 } } USING <http://u1> "
    "USING NAMED <http://u2> WHERE { ?s ?p ?o GRAPH <http://g5> { ?s ?p ?o } FILTER (?o < 3 && ?o > 1) }",
    "INSERT { GRAPH <http://t> { ?s ?p ?o } } WHERE { ?s ?p ?o FILTER NOT EXISTS { GRAPH <http://e> { ?s ?p ?o } } }",
    "DELETE WHERE { GRAPH <http://g6> { ?s ?p ?o } }",
    "CLEAR GRAPH <http://g7> ; CLEAR DEFAULT ; CREATE SILENT GRAPH <http://g8>",
    "LOAD <http://src> INTO GRAPH <http://g9>",
    "ADD <http://g10> TO DEFAULT ; MOVE DEFAULT TO <http://g11> ; COPY GRAPH <http://g12> TO GRAPH <http://g13>",
    "# GRAPH <http://comment>\nINSERT DATA { <http://s> <http://p> 'to'@to }",
    "DELETE WHERE { GRAPH ?g { ?s ?p ?o } }",
    "INSERT { GRAPH ?g { ?s ?p 1 } } WHERE { GRAPH ?g { ?s ?p ?o } }",
    "DROP ALL",
    "CLEAR SILENT NAMED",
    "PREFIX : <http://ex/> INSERT DATA { GRAPH :g { :a :b :c } }",
]


def rdflib_graphs(text: str) -> set | None:
    """The graphs of an update according to rdflib's algebra (None: a variable graph or ALL/NAMED)."""
    from rdflib.plugins.sparql.algebra import translateUpdate
    from rdflib.plugins.sparql.parser import parseUpdate
    from rdflib.term import Variable

    out: set = {DEFAULT}

    def name(t):
        if t == "DEFAULT" or t is None:
            return DEFAULT
        if isinstance(t, Variable) or t in ("ALL", "NAMED"):
            raise LookupError
        return ox.NamedNode(str(t))

    def walk(node):
        if getattr(node, "name", None) in ("Graph", "GraphGraphPattern"):
            out.add(name(node["term"]))
        if isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v)

    try:
        for op in translateUpdate(parseUpdate(text)).algebra:
            fields = dict(op.items())
            for g in fields.get("quads") or {}:
                out.add(name(g))
            for clause in ("delete", "insert"):
                if fields.get(clause) is not None:
                    for g in dict(fields[clause].items()).get("quads") or {}:
                        out.add(name(g))
            if fields.get("withClause") is not None:
                out.add(name(fields["withClause"]))
            for u in fields.get("using") or []:
                u = dict(u.items())
                out.add(name(u.get("default") or u.get("named")))
            if op.name in ("Clear", "Drop", "Create", "Load"):
                out.add(name(fields.get("graphiri")))
            for g in fields.get("graph") or []:
                out.add(name(g))
            walk(fields.get("where"))
    except LookupError:
        return None
    return out


@pytest.mark.parametrize("text", FOOTPRINT_CASES)
def test_footprint_agrees_with_rdflib(text: str) -> None:
    """The parse-tree reading finds every graph rdflib's algebra finds (and USING NAMED ones, which the
    algebra drops)."""
    found, reference = footprint(text), rdflib_graphs(text)
    assert (found is None) == (reference is None)
    assert found is None or found >= reference


def test_footprint_of_a_large_update() -> None:
    lines = "\n".join(f'<http://ex/s{i}> <http://ex/p> "label {i} GRAPH ?x"@en .' for i in range(2_000))
    assert footprint(f"INSERT DATA {{ GRAPH <http://g> {{ {lines} }} }}") == {DEFAULT, ox.NamedNode("http://g")}


def test_footprint_resolves_relative_iris_and_refuses_unknown_prefixes() -> None:
    assert footprint("BASE <http://b/> INSERT DATA { GRAPH <rel> { <a> <b> <c> } }") == {DEFAULT, ox.NamedNode("http://b/rel")}
    assert footprint("INSERT DATA { GRAPH <rel> { <a> <b> <c> } }", "http://e/sparql") == {DEFAULT, ox.NamedNode("http://e/rel")}
    assert footprint("INSERT DATA { GRAPH nope:g { <http://a> <http://b> <http://c> } }") is None


GX = ox.NamedNode("http://ex/g")
# Glued forms (a keyword written against a prefixed name), comments and strings in every position: the
# token scan used before missed ``GRAPH:g`` and answered 204 without writing anything.
GLUED_CASES = {
    "graph-glued-insert-data": ("PREFIX : <http://ex/> INSERT DATA { GRAPH:g { :a :b :c } }", {DEFAULT, GX}),
    "graph-glued-where": ("PREFIX : <http://ex/> INSERT { GRAPH <http://ex/t> { ?s ?p ?o } } WHERE { GRAPH:g { ?s ?p ?o } }",
                          {DEFAULT, GX, ox.NamedNode("http://ex/t")}),
    "with-glued": ("PREFIX : <http://ex/> WITH:g DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", {DEFAULT, GX}),
    "using-glued": ("PREFIX : <http://ex/> DELETE { ?s ?p ?o } USING:g WHERE { ?s ?p ?o }", {DEFAULT, GX}),
    # rdflib reads ``NAMED:g`` as a prefixed name with an undeclared prefix: every graph, the safe side.
    "using-named-glued": ("PREFIX : <http://ex/> DELETE { ?s ?p ?o } USING NAMED:g WHERE { ?s ?p ?o }", None),
    "clear-glued": ("PREFIX : <http://ex/> CLEAR GRAPH:g", {DEFAULT, GX}),
    "copy-glued": ("PREFIX : <http://ex/> COPY:g TO:h", {DEFAULT, GX, ox.NamedNode("http://ex/h")}),
    "comment-in-every-gap": ("PREFIX : <http://ex/> #c\nINSERT#c\nDATA#c\n{#c\nGRAPH#c\n:g#c\n{:a :b :c}#c\n}#c", {DEFAULT, GX}),
    "keyword-in-strings": ('INSERT DATA { GRAPH <http://ex/g> { <http://a> <http://b> "GRAPH <http://nope> }" } }', {DEFAULT, GX}),
    "keyword-in-long-string": ("INSERT DATA { GRAPH <http://ex/g> { <http://a> <http://b> '''x\nGRAPH <http://no>''' } }", {DEFAULT, GX}),
    "graph-in-exists": ("INSERT { GRAPH <http://ex/t> { ?s ?p 1 } } WHERE { ?s ?p ?o FILTER EXISTS { GRAPH <http://ex/g> { } } }",
                        {DEFAULT, GX, ox.NamedNode("http://ex/t")}),
    "graph-in-subquery": ("INSERT { ?s ?p 1 } WHERE { { SELECT * WHERE { GRAPH <http://ex/g> { ?s ?p ?o } } } }", {DEFAULT, GX}),
    "variable-graph": ("INSERT { GRAPH ?g { ?s ?p 1 } } WHERE { GRAPH ?g { ?s ?p ?o } }", None),
}


@pytest.mark.parametrize("text, expected", GLUED_CASES.values(), ids=GLUED_CASES.keys())
def test_footprint_from_the_parse(text: str, expected: set | None) -> None:
    assert footprint(text) == expected


@pytest.mark.parametrize("text", ["INSERT DATA { GRAPH <http://ex/g> { <a> <b> } }", "INSERT DATA {", "SELECT * {}"])
def test_an_update_that_cannot_be_parsed_is_refused(text: str) -> None:
    from rkg.writes import Unplannable

    with pytest.raises(Unplannable):
        footprint(text)


def test_with_using_adds_clauses_to_each_modify_operation() -> None:
    text = ("INSERT { GRAPH <http://t> { ?s ?p ?o } } WHERE { ?s ?p ?o { SELECT * WHERE { ?a ?b ?c } } } ;\n"
            "INSERT DATA { <http://a> <http://b> <http://c> } ;\n"
            "DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } WHERE { ?s ?p ?o } ; DELETE WHERE { ?s ?p 2 }")
    out = with_using(text, ("http://u",), ("http://n",))
    assert out.count("USING <http://u> USING NAMED <http://n> WHERE") == 2
    assert "SELECT * WHERE" in out and "DELETE WHERE { ?s ?p 2 }" in out
    with pytest.raises(ValueError):
        with_using("WITH <http://w> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", ("http://u",), ())
    with pytest.raises(ValueError):
        with_using("DELETE { ?s ?p ?o } USING <http://x> WHERE { ?s ?p ?o }", (), ("http://n",))


# ---------------------------------------------------------------- in process: the writer


@pytest.fixture()
def small(tmp_path: Path) -> Writer:
    """A writer on an on-disk store holding a few non-rkg quads (validation there is quick)."""
    store = ox.Store(str(tmp_path / "store"))
    g = ox.NamedNode("http://example.org/g")
    b = ox.BlankNode("keep")
    store.extend([ox.Quad(b, ox.NamedNode("http://example.org/p"), ox.Literal("x"), g),
                  ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), b, g),
                  ox.Quad(ox.NamedNode("http://example.org/d"), ox.NamedNode("http://example.org/p"), ox.Literal("d"))])
    return Writer(store, StoreSpec("readwrite", str(tmp_path / "store"), str(SHAPES)))


def test_commit_keeps_blank_nodes_exact(small: Writer) -> None:
    g = ox.NamedNode("http://example.org/g")
    out = small.update(UpdateJob('DELETE { GRAPH <http://example.org/g> { ?b <http://example.org/p> "x" } } '
                                 'WHERE { GRAPH <http://example.org/g> { ?b <http://example.org/p> "x" } } ; '
                                 'INSERT DATA { GRAPH <http://example.org/g> { _:n <http://example.org/q> "new" } }'))
    assert out.kind is Kind.APPLIED, out.message
    quads = set(small.store.quads_for_pattern(None, None, None, g))
    assert ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.BlankNode("keep"), g) in quads
    assert not any(q.object == ox.Literal("x") for q in quads)
    (new,) = [q for q in quads if q.predicate == ox.NamedNode("http://example.org/q")]
    assert isinstance(new.subject, ox.BlankNode) and new.subject != ox.BlankNode("keep")
    assert len(list(small.store.quads_for_pattern(None, None, None, DEFAULT))) == 1


def test_errors_leave_the_store_untouched(small: Writer) -> None:
    before = set(small.store)
    out = small.update(UpdateJob('INSERT DATA { GRAPH <http://example.org/g> { <http://a> <http://b> "first" } } ; '
                                 "CREATE GRAPH <http://example.org/g>"))
    assert out.kind is Kind.BAD_INPUT and "already exists" in out.message
    out = small.update(UpdateJob("INSERT DATA { <http://a> <http://b> }"))
    assert out.kind is Kind.BAD_INPUT and "syntax" in out.message.lower()
    assert set(small.store) == before


def test_a_write_outside_the_footprint_redoes_the_dry_run_on_the_whole_store(small: Writer,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    g = ox.NamedNode("http://example.org/g")
    monkeypatch.setattr(writes, "footprint", lambda text, base=None: {DEFAULT, g})  # pretend the scan missed <…/h>
    out = small.update(UpdateJob("DELETE { GRAPH <http://example.org/g> { ?s ?p ?o } } INSERT { GRAPH <http://example.org/h> { ?s ?p ?o } } "
                                 "WHERE { GRAPH <http://example.org/g> { ?s ?p ?o } }"))
    assert out.kind is Kind.APPLIED, out.message
    assert not list(small.store.quads_for_pattern(None, None, None, g))
    assert len(list(small.store.quads_for_pattern(None, None, None, ox.NamedNode("http://example.org/h")))) == 2


def test_no_op_writes_validate_nothing(small: Writer) -> None:
    out = small.update(UpdateJob('INSERT DATA { <http://example.org/d> <http://example.org/p> "d" }'))
    assert out.kind is Kind.APPLIED and out.changed == () and small.validations == 0


def test_blank_node_findings_are_not_taken_for_new_ones(small: Writer) -> None:
    """A violation at a blank node that was there before the write does not block it (blank nodes keep
    their identifiers through validation, so before and after findings compare)."""
    g = ox.NamedNode("http://example.org/g")
    rdf_type, competency = ox.NamedNode(str(RDF.type)), ox.NamedNode("https://w3id.org/rkg/ontology#Competency")
    small.store.add(ox.Quad(ox.BlankNode("c1"), rdf_type, competency, g))  # in no block, no code…: violations
    out = small.update(UpdateJob("INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/a> <http://example.org/p> 1 } }"))
    assert out.kind is Kind.APPLIED, out.body
    out = small.update(UpdateJob("INSERT DATA { GRAPH <http://example.org/g> { _:c2 a <https://w3id.org/rkg/ontology#Competency> } }"))
    assert out.kind is Kind.INVALID and "c1" not in {v["focus"] for v in json.loads(out.body)["violations"]}


def test_graph_store_jobs_in_process(small: Writer, monkeypatch: pytest.MonkeyPatch) -> None:
    job = GraphStoreJob("PUT", "http://example.org/new", "text/turtle", b"<a> <http://example.org/p> _:x .",
                        base_iri="http://example.org/new")
    monkeypatch.setattr(protocol, "HEADER_LIMIT", 30)
    out = small.graph_store(job)
    assert out.kind is Kind.CREATED
    headers = dict(protocol.write_headers(out))
    assert headers["X-RKG-Changed-Graphs"] == "http://example.org/new" and headers["X-RKG-Changed-Graph-Count"] == "1"
    assert "X-RKG-Validated-Graphs" not in headers and headers["X-RKG-Validated-Graph-Count"] == "3"  # too long
    (q,) = small.store.quads_for_pattern(None, None, None, ox.NamedNode("http://example.org/new"))
    assert q.subject == ox.NamedNode("http://example.org/a") and q.object != ox.BlankNode("x")  # fresh blank node
    assert small.graph_store(GraphStoreJob("PUT", "http://example.org/new", "text/csv", b"a,b")).kind is Kind.UNREADABLE_FORMAT
    assert small.graph_store(GraphStoreJob("POST", "http://example.org/new", "text/turtle", b"<a> <b")).kind is Kind.BAD_INPUT
    assert small.graph_store(GraphStoreJob("DELETE", "http://example.org/new")).kind is Kind.APPLIED
    assert small.graph_store(GraphStoreJob("DELETE", "http://example.org/new")).kind is Kind.NOT_FOUND
    assert not small.store.contains_named_graph(ox.NamedNode("http://example.org/new"))


def test_violation_shapes_keep_only_violations() -> None:
    shapes = writes.violation_shapes(str(SHAPES))
    targeted = {s for p in (SH.targetClass, SH.targetSubjectsOf) for s in shapes.subjects(p, None)}
    severities = {shapes.value(s, SH.severity) for s in targeted}
    assert severities == {SH.Violation}
    assert URIRef("https://w3id.org/rkg/shapes#PrefLabelEn") not in targeted


def test_writer_on_the_bundled_graph(build_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused and accepted writes in process, the store compared quad by quad, and the "before" findings
    reused from one write to the next."""
    store = ox.Store(str(tmp_path / "store"))
    store.bulk_load(path=str(build_dir / "rkg.nq"), format=ox.RdfFormat.N_QUADS)
    w = Writer(store, StoreSpec("readwrite", str(tmp_path / "store"), str(SHAPES)))
    before = set(store)
    monkeypatch.setattr(writes, "REPORT_LIMIT", 1)
    out = w.update(UpdateJob(PREFIXES + alt_label_insert("valid part") + " ;\n" + orphan_competency("C.9.1")
                             + " ;\n" + orphan_competency("C.9.5")))
    assert out.kind is Kind.INVALID
    report = json.loads(out.body)
    assert report["count"] == 2 and "first 1" in report["error"]
    assert [v["shape"] for v in report["violations"]] == ["https://w3id.org/rkg/shapes#CompetencyInOneBlock"]
    assert set(store) == before and w.validations == 2  # before and after
    out = w.update(UpdateJob(PREFIXES + alt_label_insert("Block one")))
    assert out.kind is Kind.APPLIED, out.message
    assert w.validations == 3  # the "before" of the programme came from the cache
    assert set(store) ^ before == {ox.Quad(ox.NamedNode(P + "block/BC01"), ox.NamedNode("http://www.w3.org/2004/02/skos/core#altLabel"),
                                           ox.Literal("Block one", language="en"), ox.NamedNode(LABELS))}
    out = w.update(UpdateJob(PREFIXES + alt_label_insert("Block one, again")))
    assert out.kind is Kind.APPLIED and w.validations == 4  # the previous "after" is this write's "before"


# ---------------------------------------------------------------- HTTP: authorisation


@pytest.mark.server
def test_update_refused_without_or_with_a_wrong_token(srv: Server) -> None:
    text = alt_label_insert("no token")
    r = update(srv, text, auth=False)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    r = update(srv, text, auth=False, headers={"Authorization": "Bearer not-the-token"})
    assert r.status_code == 401 and "invalid_token" in r.headers["WWW-Authenticate"]
    r = update(srv, text, auth=False, headers={"Authorization": f"Basic {TOKEN}"})
    assert r.status_code == 401
    r = requests.put(srv.store, params={"graph": "http://example.org/x"}, data=b"<http://a> <http://b> <http://c> .",
                     headers={"Content-Type": "application/n-triples"}, timeout=60)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert not ask(srv, 'ASK { ?s skos:altLabel "no token"@en }')
    assert requests.get(srv.store, params={"graph": "http://example.org/x"}, timeout=60).status_code == 404


@pytest.mark.server
def test_read_only_service_refuses_writes_but_serves_graphs(readonly: Server) -> None:
    r = update(readonly, alt_label_insert("read-only"))
    assert r.status_code == 403
    for method in ("PUT", "POST", "DELETE"):
        r = requests.request(method, readonly.store, params={"graph": LABELS}, data=b"", timeout=60,
                             headers={**AUTH, "Content-Type": "text/turtle"})
        assert r.status_code == 403, method
    r = requests.get(readonly.store, params={"graph": LABELS}, headers={"Accept": "text/turtle"}, timeout=60)
    assert r.status_code == 200 and len(Graph().parse(data=r.text, format="turtle")) > 100
    assert not ask(readonly, 'ASK { ?s skos:altLabel "read-only"@en }')


def test_serve_refuses_unsafe_write_settings(build_dir: Path, tmp_path: Path) -> None:
    base = [sys.executable, "-m", "rkg", "serve", "--root", str(ROOT), "--build-dir", str(build_dir),
            "--data", str(DEMO_DATA), "--port", str(free_port()), "-q", "--allow-update"]
    no_token = {k: v for k, v in os.environ.items() if k != "RKG_UPDATE_TOKEN"}
    with_token = {**no_token, "RKG_UPDATE_TOKEN": TOKEN}
    cases = [
        (["--location", str(tmp_path / "a"), "--workers", "1"], no_token, "token"),
        (["--location", str(tmp_path / "a"), "--workers", "1", "--token-file", str(tmp_path / "missing")], no_token, "token"),
        (["--workers", "1"], with_token, "--location"),
        (["--location", str(tmp_path / "a"), "--workers", "2"], with_token, "--workers 1"),
    ]
    (tmp_path / "empty-token").write_text("\n")
    cases.append((["--location", str(tmp_path / "a"), "--workers", "1", "--token-file", str(tmp_path / "empty-token")],
                  no_token, "token"))
    for args, env, words in cases:
        done = subprocess.run([*base, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, (args, done.stderr)
        assert words in done.stderr, (args, done.stderr)


# ---------------------------------------------------------------- HTTP: validation


@pytest.mark.server
def test_an_update_creating_a_violation_is_refused_and_changes_nothing(srv: Server) -> None:
    before = dump(srv)
    r = update(srv, orphan_competency("C.9.2"))
    assert r.status_code == 422, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert "violation" in body["error"] and body["count"] == 1
    (v,) = body["violations"]
    assert v["shape"] == "https://w3id.org/rkg/shapes#CompetencyInOneBlock"
    assert v["focus"] == P + "competency/C.9.2"
    assert v["message"]["en"] and v["message"]["fr"]
    assert REFERENTIEL in graphs_header(r, "X-RKG-Changed-Graphs")
    assert dump(srv) == before
    assert not ask(srv, f"ASK {{ <{P}competency/C.9.2> ?p ?o }}")


@pytest.mark.server
def test_a_bad_block_code_is_refused_with_a_turtle_report(srv: Server) -> None:
    """A DELETE/INSERT with a variable graph (footprint: every graph) that breaks rkgsh:BlockCode."""
    before = dump(srv)
    text = f"""DELETE {{ GRAPH ?g {{ <{P}block/BC02> skos:notation ?code }} }}
        INSERT {{ GRAPH ?g {{ <{P}block/BC02> skos:notation "BC2" }} }}
        WHERE {{ GRAPH ?g {{ <{P}block/BC02> skos:notation ?code }} }}"""
    r = update(srv, text, headers={"Accept": "text/turtle"})
    assert r.status_code == 422, r.text
    assert r.headers["Content-Type"].startswith("text/turtle")
    report = Graph().parse(data=r.text, format="turtle")
    (node,) = report.subjects(RDF.type, SH.ValidationReport)
    assert report.value(node, SH.conforms) == Literal(False)
    results = list(report.objects(node, SH.result))
    assert results
    for res in results:
        assert report.value(res, SH.sourceShape) == URIRef("https://w3id.org/rkg/shapes#BlockCode")
        assert report.value(res, SH.focusNode) == URIRef(P + "block/BC02")
        assert report.value(res, SH.resultSeverity) == SH.Violation
    assert "BC2" in {str(report.value(res, SH.value)) for res in results}  # "BC2" or "BC2"^^xsd:string, the same literal
    assert dump(srv) == before


@pytest.mark.server
def test_a_multi_operation_update_is_all_or_nothing(srv: Server) -> None:
    before = dump(srv)
    r = update(srv, alt_label_insert("first part") + " ;\n" + orphan_competency("C.9.3"))
    assert r.status_code == 422
    r = update(srv, alt_label_insert("first part") + f" ;\nCREATE GRAPH <{LABELS}>")  # the second part fails
    assert r.status_code == 400 and "already exists" in r.text
    assert dump(srv) == before
    assert not ask(srv, 'ASK { ?s skos:altLabel "first part"@en }')


@pytest.mark.server
def test_a_valid_update_is_applied_and_seen_at_once(srv: Server) -> None:
    query = f"SELECT ?l WHERE {{ <{P}block/BC03> skos:altLabel ?l }}"
    first = select(srv, query)
    assert first.status_code == 200 and first.json()["results"]["bindings"] == []
    assert select(srv, query).headers["ETag"] == first.headers["ETag"]  # cached
    r = update(srv, alt_label_insert("Teaching and training", node=P + "block/BC03"))
    assert r.status_code == 204, r.text
    assert graphs_header(r, "X-RKG-Changed-Graphs") == {LABELS}
    second = select(srv, query)
    assert [b["l"]["value"] for b in second.json()["results"]["bindings"]] == ["Teaching and training"]
    assert second.headers["ETag"] != first.headers["ETag"]


@pytest.mark.server
def test_a_new_valid_teaching_unit_is_accepted(srv: Server) -> None:
    text = f"""INSERT DATA {{ GRAPH <{REFERENTIEL}> {{
        <{P}ue/UE97> a rkg:TeachingUnit ; skos:notation "UE97" ; skos:prefLabel "UE d'essai"@fr ;
            rkg:inProgramme <{PIF}> ; rkg:contributesTo <{P}block/BC01> }} }}"""
    r = update(srv, text)
    assert r.status_code == 204, r.text
    assert ask(srv, f'ASK {{ <{P}ue/UE97> rkg:contributesTo <{P}block/BC01> }}')
    r = update(srv, text.replace("UE97> a", "UE96> a"))  # same code UE97 on another UE
    assert r.status_code == 422
    assert "https://w3id.org/rkg/shapes#CourseUnitCodeUnique" in {v["shape"] for v in r.json()["violations"]}
    assert not ask(srv, f"ASK {{ <{P}ue/UE96> ?p ?o }}")


@pytest.mark.server
def test_using_graph_uri_parameters(srv: Server) -> None:
    target = G + "using-test"
    text = f"INSERT {{ GRAPH <{target}> {{ ?s skos:hiddenLabel ?l }} }} WHERE {{ ?s skos:prefLabel ?l FILTER (lang(?l) = 'en') }}"
    r = update(srv, text, **{"using-graph-uri": LABELS})
    assert r.status_code == 204, r.text
    assert ask(srv, f"ASK {{ GRAPH <{target}> {{ <{PIF}> skos:hiddenLabel ?l }} }}")
    r = update(srv, text.replace("INSERT", f"WITH <{LABELS}> INSERT", 1), **{"using-graph-uri": LABELS})
    assert r.status_code == 400
    assert requests.delete(srv.store, params={"graph": target}, headers=AUTH, timeout=60).status_code == 204


# ---------------------------------------------------------------- HTTP: Graph Store protocol


@pytest.mark.server
def test_graph_store_round_trips(srv: Server) -> None:
    g = G + "gsp-test"
    params = {"graph": g}
    label = f"<{P}block/BC04> <http://www.w3.org/2004/02/skos/core#altLabel> \"Block four\"@en .\n"
    other = f"<{P}block/BC04> <http://www.w3.org/2004/02/skos/core#hiddenLabel> \"bc4\" .\n"
    assert requests.get(srv.store, params=params, timeout=60).status_code == 404
    r = requests.put(srv.store, params=params, data=label.encode(), headers={**AUTH, "Content-Type": "application/n-triples"}, timeout=180)
    assert r.status_code == 201, r.text
    r = requests.put(srv.store, params=params, data=label.encode(), headers={**AUTH, "Content-Type": "text/turtle"}, timeout=180)
    assert r.status_code == 204, r.text
    r = requests.post(srv.store, params=params, data=other.encode(), headers={**AUTH, "Content-Type": "text/turtle"}, timeout=180)
    assert r.status_code == 204, r.text
    expected = Graph().parse(data=label + other, format="nt")
    etags = set()
    for media, fmt in (("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/rdf+xml", "xml"),
                       ("application/ld+json", "json-ld"), ("application/trig", "trig")):
        r = requests.get(srv.store, params=params, headers={"Accept": media}, timeout=60)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith(media), media
        got = Graph()
        if fmt == "trig":
            from rdflib import Dataset

            ds = Dataset()
            ds.parse(data=r.text, format="trig")
            for s, p, o, _ in ds.quads((None, None, None, None)):
                got.add((s, p, o))
        else:
            got.parse(data=r.text, format=fmt)
        assert isomorphic(got, expected), media
        etags.add(r.headers["ETag"])
    head = requests.head(srv.store, params=params, headers={"Accept": "text/turtle"}, timeout=60)
    assert head.status_code == 200 and not head.content
    r = requests.get(srv.store, params=params, headers={"Accept": "text/turtle", "If-None-Match": head.headers["ETag"]}, timeout=60)
    assert r.status_code == 304
    # an upload with a violation: refused, graph unchanged
    bad = f'<{P}block/BC04> <http://www.w3.org/2004/02/skos/core#notation> "BC4" .\n'
    before = dump(srv)
    r = requests.post(srv.store, params=params, data=bad.encode(), headers={**AUTH, "Content-Type": "text/turtle"}, timeout=180)
    assert r.status_code == 422 and r.json()["violations"][0]["shape"] == "https://w3id.org/rkg/shapes#BlockCode"
    r = requests.put(srv.store, params=params, data=bad.encode(), headers={**AUTH, "Content-Type": "text/turtle"}, timeout=180)
    assert r.status_code == 422
    assert dump(srv) == before
    # replace with a PUT, then remove
    r = requests.put(srv.store, params=params, data=other.encode(), headers={**AUTH, "Content-Type": "text/turtle"}, timeout=180)
    assert r.status_code == 204
    r = requests.get(srv.store, params=params, headers={"Accept": "application/n-triples"}, timeout=60)
    assert isomorphic(Graph().parse(data=r.text, format="nt"), Graph().parse(data=other, format="nt"))
    assert r.headers["ETag"] not in etags
    assert requests.delete(srv.store, params=params, headers=AUTH, timeout=180).status_code == 204
    assert requests.get(srv.store, params=params, timeout=60).status_code == 404
    assert requests.delete(srv.store, params=params, headers=AUTH, timeout=180).status_code == 404


@pytest.mark.server
def test_graph_store_request_errors(srv: Server) -> None:
    assert requests.get(srv.store, timeout=60).status_code == 400
    assert requests.get(srv.store, params={"graph": LABELS, "default": ""}, timeout=60).status_code == 400
    assert requests.get(srv.store, params={"graph": "not an iri"}, timeout=60).status_code == 400
    assert requests.get(srv.store, params={"graph": LABELS}, headers={"Accept": "text/csv"}, timeout=60).status_code == 406
    r = requests.put(srv.store, params={"graph": G + "x"}, data=b"a,b", headers={**AUTH, "Content-Type": "text/csv"}, timeout=60)
    assert r.status_code == 415
    r = requests.put(srv.store, params={"graph": G + "x"}, data=b"<a> <b", headers={**AUTH, "Content-Type": "text/turtle"}, timeout=60)
    assert r.status_code == 400
    assert requests.get(srv.store, params={"graph": G + "x"}, timeout=60).status_code == 404
    assert requests.request("PATCH", srv.store, params={"graph": LABELS}, timeout=60).status_code == 405
    r = requests.options(srv.store, timeout=60)
    assert r.status_code == 204 and "PUT" in r.headers["Allow"]


@pytest.mark.server
def test_default_graph_through_the_graph_store(srv: Server) -> None:
    triple = b"<http://example.org/in-default> <http://example.org/p> \"d\" .\n"
    r = requests.post(srv.store, params={"default": ""}, data=triple, headers={**AUTH, "Content-Type": "application/n-triples"}, timeout=180)
    assert r.status_code == 204, r.text
    r = requests.get(srv.store, params={"default": ""}, headers={"Accept": "application/n-triples"}, timeout=60)
    assert triple.strip() in r.content
    assert requests.delete(srv.store, params={"default": ""}, headers=AUTH, timeout=180).status_code == 204
    r = requests.get(srv.store, params={"default": ""}, headers={"Accept": "application/n-triples"}, timeout=60)
    assert r.status_code == 200 and r.content.strip() == b""


# ---------------------------------------------------------------- HTTP: what is validated


@pytest.mark.server
def test_writes_validate_only_the_graphs_they_touch(srv: Server) -> None:
    """A large vocabulary in a graph of its own is not validated when another programme's graph is written
    (and the programme is not validated when the vocabulary is written)."""
    lines = "".join(f'<http://example.org/skill/{i}> <http://www.w3.org/2004/02/skos/core#prefLabel> "skill {i}"@en .\n'
                    for i in range(3000))
    r = requests.put(srv.store, params={"graph": BIG}, data=lines.encode(), timeout=180,
                     headers={**AUTH, "Content-Type": "application/n-triples"})
    assert r.status_code == 201, r.text
    assert graphs_header(r) == {"default", ONTOLOGY, BIG} and r.headers["X-RKG-Validated-Graph-Count"] == "3"
    r = update(srv, alt_label_insert("Scope check"))
    assert r.status_code == 204, r.text
    validated = graphs_header(r)
    assert BIG not in validated
    assert {REFERENTIEL, LABELS, G + "interpretations", ONTOLOGY} <= validated
    assert not any("rncp99999-demo" in g for g in validated)  # the other programme
    demo_graphs = {row[0] for row in rows(srv, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s rkg:inProgramme <https://w3id.org/rkg/id/rncp99999-demo> } }")}
    (demo_graph,) = {json.loads(g)["value"] for g in demo_graphs}
    r = update(srv, alt_label_insert("Demo scope", graph=demo_graph, node="https://w3id.org/rkg/id/rncp99999-demo"))
    assert r.status_code == 204, r.text
    validated = graphs_header(r)
    assert demo_graph in validated and BIG not in validated and REFERENTIEL not in validated
    r = update(srv, f'DELETE DATA {{ GRAPH <{BIG}> {{ <http://example.org/skill/1> skos:prefLabel "skill 1"@en }} }}')
    assert r.status_code == 204
    assert graphs_header(r) == {"default", ONTOLOGY, BIG}


# ---------------------------------------------------------------- HTTP: persistence


@pytest.mark.server
def test_writes_survive_a_restart(build_dir: Path, tmp_path: Path) -> None:
    folder = make_store(tmp_path / "store", build_dir / NQUADS_NAME, w3c=False)
    args = ("--location", str(folder), "--allow-update", "--workers", "1")
    server = start(build_dir, tmp_path / "first.log", *args)
    try:
        assert update(server, alt_label_insert("persisted")).status_code == 204
        r = requests.put(server.store, params={"graph": G + "persisted"}, timeout=180,
                         data=f'<{P}block/BC02> <http://www.w3.org/2004/02/skos/core#hiddenLabel> "kept" .'.encode(),
                         headers={**AUTH, "Content-Type": "text/turtle"})
        assert r.status_code == 201
        refused = update(server, orphan_competency("C.9.4"))
        assert refused.status_code == 422
        before = dump(server)
    finally:
        stop_server(server)
    server = start(build_dir, tmp_path / "second.log", *args)
    try:
        assert ask(server, 'ASK { GRAPH <%s> { ?s skos:altLabel "persisted"@en } }' % LABELS)
        assert ask(server, 'ASK { GRAPH <%s> { ?s skos:hiddenLabel "kept" } }' % (G + "persisted"))
        assert not ask(server, f"ASK {{ <{P}competency/C.9.4> ?p ?o }}")
        assert dump(server) == before
    finally:
        stop_server(server)
