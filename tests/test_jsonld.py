"""``rkg export jsonld`` read back by two JSON-LD processors, each giving the graph exactly.

pyld (a JSON-LD 1.1 processor: expansion with the published context, then ``toRdf``) and rdflib's own
parser must both give a graph isomorphic to the union graph, literals compared by their lexical form:
rdflib's literal normalisation (which would make ``…Z`` and ``…+00:00`` equal, or ``0`` and ``0.0``) is
switched off for these tests. One documented exception: pyld writes every ``xsd:double`` in the XSD
canonical form (``"0.6"`` → ``"6.0E-1"``, also when the JSON-LD value is a typed string), while the store
(Oxigraph) holds doubles in its own form (``"0.6"``, ``"0"``); for pyld, doubles are compared by value
(datatype and number), every other literal by its lexical form. The context is served from the package's
file by a document loader: the tests never fetch anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import rdflib
from pyld import jsonld as pyld
from rdflib import Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from rkg.interop import jsonld
from rkg.namespaces import DCTERMS, PREFIXES, SPARQL_PREFIXES, SSSOM, XSD
from support.rdf import doubles_by_value


NUMERIC = {str(XSD.double), str(XSD.decimal), str(XSD.float)}
"""Datatypes a JSON number does not keep (JSON-LD reads 0.0 as xsd:integer and writes doubles canonical)."""

# (predicate, datatype, lexical form) a processor must give back as written: the cases of the issue.
KEPT_AS_WRITTEN = {
    "confidence-zero": (SSSOM.confidence, XSD.double, "0"),
    "confidence": (SSSOM.confidence, XSD.double, "0.9"),
    "utc-time": (DCTERMS.created, XSD.dateTime, "2026-11-29T00:00:00Z"),
    "mapping-date": (DCTERMS.created, XSD.date, "2026-11-29"),
}


@pytest.fixture()
def exact(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """rdflib keeps literals as written for the duration of a test."""
    monkeypatch.setattr(rdflib, "NORMALIZE_LITERALS", False)
    yield


@pytest.fixture(scope="module")
def exported(bundled_store) -> dict:
    return json.loads(jsonld.export(bundled_store))


def loader(url: str, options: dict | None = None) -> dict:
    """pyld's document loader: our context, from the package; anything else is an error."""
    assert url == jsonld.CONTEXT_IRI, f"the test would fetch {url}"
    return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
            "document": json.loads(jsonld.CONTEXT_FILE.read_text(encoding="utf-8"))}


def union(store) -> Graph:
    return Graph().parse(data=store.union_ntriples(), format="nt")


def pyld_graph(doc: dict) -> Graph:
    return Graph().parse(data=pyld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": loader}), format="nt")


def assert_same(got: Graph, expected: Graph) -> None:
    if not isomorphic(got, expected):
        _, only_got, only_expected = graph_diff(to_isomorphic(got), to_isomorphic(expected))
        pytest.fail(f"read back only: {sorted(only_got)[:5]}\nin the graph only: {sorted(only_expected)[:5]}")


def test_pyld_reads_the_graph(exported: dict, bundled_store, exact: None) -> None:
    assert_same(doubles_by_value(pyld_graph(exported)), doubles_by_value(union(bundled_store)))


def test_rdflib_reads_the_graph(exported: dict, bundled_store, exact: None) -> None:
    doc = {**exported, "@context": jsonld.context()}  # what a client gets from /context.jsonld
    assert_same(Graph().parse(data=json.dumps(doc), format="json-ld"), union(bundled_store))


@pytest.mark.parametrize("case", sorted(KEPT_AS_WRITTEN))
def test_value_kept_as_written(exported: dict, bundled_store, exact: None, case: str) -> None:
    predicate, datatype, lexical = KEPT_AS_WRITTEN[case]
    value = Literal(lexical, datatype=datatype, normalize=False)
    assert (None, predicate, value) in union(bundled_store)  # the case is in the graph
    read = {o for o in pyld_graph(exported).objects(None, predicate) if o.datatype == datatype}
    if datatype == XSD.double:  # by value: pyld writes the canonical form (see the module's text)
        assert float(lexical) in {float(o) for o in read}
    else:
        assert value in read


def test_every_numeric_property_typed_in_the_context(bundled_store) -> None:
    """A double (or decimal) in the graph is a string with a typed term, never a JSON number."""
    ctx = jsonld.context()

    def expand(curie: str) -> str:
        prefix, _, local = curie.partition(":")
        return ctx[prefix] + local if isinstance(ctx.get(prefix), str) else curie

    typed = {expand(t["@id"]) for t in ctx.values()
             if isinstance(t, dict) and t.get("@type") in ("xsd:double", "xsd:decimal", "xsd:float")}
    used = {str(p) for _, p, o in jsonld.graph(bundled_store) if isinstance(o, Literal) and str(o.datatype) in NUMERIC}
    assert used and used <= typed


def test_no_json_number_but_integers(exported: dict) -> None:
    def numbers(node: object) -> Iterator[object]:
        if isinstance(node, dict):
            for v in node.values():
                yield from numbers(v)
        elif isinstance(node, list):
            for v in node:
                yield from numbers(v)
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            yield node

    assert all(isinstance(n, int) for n in numbers(exported["@graph"]))


def test_exported_graph_keeps_lexical_forms(bundled_store) -> None:
    times = {str(o) for o in jsonld.graph(bundled_store).objects(None, URIRef(DCTERMS.created))}
    assert "2026-11-29T00:00:00Z" in times


def test_context_prefixes_are_rkgs() -> None:
    """Every prefix the context declares is the namespace rkg.namespaces gives that prefix (the export's,
    ``PREFIXES``, or one of the package's SPARQL texts, ``SPARQL_PREFIXES``: sssom, semapv, pav), and every
    prefix the exports declare is in the context: the two lists cannot drift apart."""
    declared = {k: v for k, v in jsonld.context().items()  # a prefix: a string IRI ending with / or # (JSON-LD 1.1)
                if not k.startswith("@") and isinstance(v, str) and v.endswith(("/", "#"))}
    assert {k: SPARQL_PREFIXES.get(k) for k in declared} == declared
    assert PREFIXES.items() <= declared.items()
    assert {"sssom", "semapv", "pav"} <= set(declared)
