"""The mapping sets checked with sssom-py, the SSSOM reference toolkit (test extra ``sssom``).

* ``sssom validate`` accepts every ``data/mappings/*.sssom.tsv``;
* ``sssom convert -O rdf --no-condense`` writes the same triples as the build puts in the set's named
  graph. ``--no-condense`` because the build writes the propagatable slots propagated (the SSSOM/RDF
  specification's advice for RDF read by applications that do not know SSSOM); sssom-py's default
  condenses them back onto the set. Two documented differences are normalised, nothing else:
  - the build also states each mapping as a "direct triple" (``subject predicate object``), which the
    specification allows and sssom-py does not write: they are checked against the axioms, then set aside;
  - ``xsd:double`` values are compared by value: sssom-py writes ``9e-01`` where the TSV has ``0.9``;
* the slot table of ``rkg.interop.sssom`` agrees with the SSSOM LinkML schema sssom-py ships
  (property, range, multivalued, propagatable, bounds of the numbers).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from rkg.interop.sssom import SLOTS
from rkg.namespaces import OWL, RDF, SKOS, SSSOM, graph_iri
from support.paths import ROOT
from support.rdf import doubles_by_value

import sssom as _sssom_py  # noqa: E402,F401 - the sssom extra (pip install -e '.[test,sssom]'): fails, never skips, without it

SETS = sorted((ROOT / "data" / "mappings").glob("*.sssom.tsv"))
SSSOM_CLI = Path(sys.executable).parent / "sssom"
KINDS = {"EntityReference": "entity", "NonRelativeURI": "uri", "string": "string", "double": "double", "date": "date"}


def sssom(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SSSOM_CLI), *args], capture_output=True, text=True, timeout=300)


def built(store, name: str) -> Graph:
    """The triples of the named graph the build made from ``data/mappings/<name>``."""
    triples = store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph_iri('data/mappings/' + name)}> {{ ?s ?p ?o }} }}")
    return Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")


def without_direct_triples(g: Graph) -> Graph:
    """``g`` without the direct triples, after checking they are those of the axioms (less NoTermFound)."""
    direct = {(s, p, o) for s, p, o in g if not isinstance(s, BNode) and str(p).startswith(str(SKOS))}
    expected = {(g.value(ax, OWL.annotatedSource), g.value(ax, OWL.annotatedProperty), g.value(ax, OWL.annotatedTarget))
                for ax in g.subjects(RDF.type, OWL.Axiom)}
    assert direct == {t for t in expected if URIRef(SSSOM.NoTermFound) not in t}
    out = Graph()
    for t in set(g) - direct:
        out.add(t)
    return out


@pytest.mark.parametrize("path", SETS, ids=[p.name.removesuffix(".sssom.tsv") for p in SETS])
def test_sssom_validate_accepts(path: Path) -> None:
    r = sssom("validate", str(path))
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("path", SETS, ids=[p.name.removesuffix(".sssom.tsv") for p in SETS])
def test_sssom_convert_gives_the_built_triples(path: Path, bundled_store, tmp_path: Path) -> None:
    out = tmp_path / "set.ttl"
    r = sssom("convert", "-O", "rdf", "--no-condense", "-o", str(out), str(path))
    assert r.returncode == 0, r.stdout + r.stderr
    theirs = doubles_by_value(Graph().parse(out, format="turtle"))
    ours = doubles_by_value(without_direct_triples(built(bundled_store, path.name)))
    if not isomorphic(ours, theirs):
        _, only_ours, only_theirs = graph_diff(to_isomorphic(ours), to_isomorphic(theirs))
        pytest.fail(f"only in the build: {sorted(only_ours)[:5]}\nonly from sssom-py: {sorted(only_theirs)[:5]}")


@pytest.mark.parametrize("name", sorted(SLOTS))
def test_slot_as_the_schema_defines_it(name: str) -> None:
    from sssom.constants import _get_sssom_schema_object

    schema = _get_sssom_schema_object()
    view, slot = schema.view, SLOTS[name]
    classes = {"set": "mapping set", "mapping": "mapping"}
    for on in slot.on:
        assert name in view.class_slots(classes[on]), f"{name} is not a slot of {classes[on]}"
    for on in {"set", "mapping"} - set(slot.on):
        assert name not in view.class_slots(classes[on]), f"{name} is also a slot of {classes[on]}"
    defined = view.induced_slot(name, classes[slot.on[0]])
    assert slot.property == view.get_uri(defined, expand=True)
    assert slot.kind == KINDS[defined.range]
    assert slot.multivalued == bool(defined.multivalued)
    assert slot.propagated == (name in schema.propagatable_slots)
    bounds = [None if b is None else float(b) for b in (defined.minimum_value, defined.maximum_value)]
    assert [slot.minimum, slot.maximum] == bounds
