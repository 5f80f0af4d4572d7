"""Several référentiels side by side: the made-up demo programme reuses the bundled codes (BC01, C.1.1,
AC1, UE04, dimension/1) and everything stays apart per programme."""

from __future__ import annotations

import pyoxigraph as ox

from support.paths import DEMO, PIF, ROOT
from rkg.catalog import Catalog, run
from rkg.store import EmbeddedStore
from rkg.validation import load_shapes, validate


def entities(store: EmbeddedStore, programme: str) -> set[str]:
    t = store.select("SELECT ?e WHERE { ?e <https://w3id.org/rkg/ontology#inProgramme> ?p }", {"p": ox.NamedNode(programme)})
    return {r[0] for r in t.values()}


def test_same_codes_distinct_iris(multi_store: EmbeddedStore) -> None:
    pif, demo = entities(multi_store, PIF), entities(multi_store, DEMO)
    assert pif and demo and not pif & demo
    assert f"{PIF}/ue/UE04" in pif and f"{DEMO}/ue/UE04" in demo
    assert f"{PIF}/block/BC01/ac/AC1" in pif and f"{DEMO}/block/BC01/ac/AC1" in demo


def test_bundled_counts_unchanged_beside_another(bundled_store: EmbeddedStore, multi_store: EmbeddedStore, catalog: Catalog) -> None:
    alone = run(bundled_store, catalog.get("class-counts")).values()
    together = run(multi_store, catalog.get("class-counts")).values()
    assert {r for r in together if r[0] == PIF} == set(alone)
    assert {(c, n) for p, c, n in together if p == DEMO} == {
        ("Competency", "3"), ("CompetencyBlock", "2"), ("CriticalLearning", "3"), ("EvaluationModality", "2"),
        ("GenericDimension", "2"), ("GenericDimensionList", "1"), ("TeachingUnit", "2")}


def test_queries_scoped_by_programme(multi_store: EmbeddedStore, catalog: Catalog) -> None:
    q = catalog.get("ues-covering-dimension")
    pif = run(multi_store, q, {"dimension": f"{PIF}/dimension/1"}).values()
    demo = run(multi_store, q, {"programme": "rncp99999-demo", "dimension": f"{DEMO}/dimension/1"}).values()
    assert {b for _, b in pif} == {"RNCP31854BC01", "RNCP31854BC02", "RNCP31854BC04"}
    assert set(demo) == {("UE04", "RNCP99999BC01"), ("UE04", "RNCP99999BC02"), ("UE01", "RNCP99999BC02")}
    crossed = run(multi_store, q, {"programme": "rncp99999-demo", "dimension": f"{PIF}/dimension/1"}).values()
    assert crossed == []


def test_validation_keeps_programmes_apart(multi_store: EmbeddedStore, catalog: Catalog) -> None:
    """Repeated codes across programmes are not duplicates; the demo adds no finding of its own."""
    report, _ = validate(multi_store, load_shapes(ROOT / "shapes"), catalog)
    assert report.count("violation") == 0
    assert not any(f.focus.startswith(DEMO) for f in report.findings)
    assert report.count("warning") == 23  # the bundled programme's own warnings, unchanged
