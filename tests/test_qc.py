"""QC queries catch what they are written for: each has a failing case in tests/cases/qc (manifest.json).

On the bundled graph they return no rows: see the ``qc--*`` cases of tests/queries.
"""

from __future__ import annotations

import json

import pytest

from support.paths import ROOT
from rkg.build import Source, parse_source
from rkg.catalog import Catalog, run
from rkg.store import EmbeddedStore

CASES = ROOT / "tests" / "cases" / "qc"
MANIFEST = json.loads((CASES / "manifest.json").read_text())


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_qc_query_finds_the_fault(name: str, catalog: Catalog) -> None:
    spec = MANIFEST[name]
    store = EmbeddedStore.from_quads(parse_source(Source(CASES / name, name)))
    assert len(run(store, catalog.get(spec["query"])).rows) == spec["rows"]


def test_every_qc_query_has_a_case() -> None:
    qc = {n for n, q in Catalog.from_folder(ROOT / "queries").queries.items() if q.qc}
    assert qc == {spec["query"] for spec in MANIFEST.values()}
