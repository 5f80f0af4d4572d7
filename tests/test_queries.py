"""Named queries against expected answers read from the source, one case file per run (tests/queries/*.json).

A case file names the query (``query``, default: the file stem before ``--``), its ``params``, the
``columns`` compared, and the ``expected`` rows, compared as sets. ``token_sets`` lists columns whose
value is a space-separated set (GROUP_CONCAT order is not defined). ``store: multi`` runs the case on the
bundled graph plus the made-up demo référentiel, ``store: versions`` beside the made-up référentiel in
two versions, ``store: esco`` with the sample ESCO dump imported.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import ROOT
from rkg.catalog import Catalog, ParameterError, run

CASES = sorted((ROOT / "tests" / "queries").glob("*.json"))


def _normalise(row: tuple, columns: list[str], token_sets: set[str]) -> tuple:
    return tuple(" ".join(sorted((v or "").split())) if c in token_sets else v for c, v in zip(columns, row))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_named_query(case: Path, catalog: Catalog, request: pytest.FixtureRequest) -> None:
    spec = json.loads(case.read_text(encoding="utf-8"))
    query = catalog.get(spec.get("query", case.stem.split("--")[0]))
    store = request.getfixturevalue({"multi": "multi_store", "versions": "versions_store", "esco": "esco_store"}.get(spec.get("store"), "bundled_store"))
    table = run(store, query, spec["params"])
    columns = spec["columns"] or table.columns
    index = [table.columns.index(c) for c in columns]
    token_sets = set(spec.get("token_sets", []))
    got = {_normalise(tuple(r[i] for i in index), columns, token_sets) for r in table.values()}
    expected = {_normalise(tuple(r), columns, token_sets) for r in spec["expected"]}
    assert got == expected
    assert len(table.rows) == len(got), "duplicate rows"


COVERED = {json.loads(c.read_text(encoding="utf-8")).get("query", c.stem.split("--")[0]) for c in CASES}


@pytest.mark.parametrize("name", sorted(Catalog.from_folder(ROOT / "queries").queries))
def test_query_header(name: str, catalog: Catalog) -> None:
    """Title and description in both languages, the columns declared as returned, and a case file."""
    q = catalog.queries[name]
    for key in ("summary", "summary_fr", "description", "description_fr", "columns"):
        assert q.meta.get(key), f"{q.path.name}: header lacks '#+ {key}:'"
    declared = [next(iter(c)) for c in q.meta["columns"]]
    projected = [v.value for v in ox.Store().query(q.text).variables]
    assert declared == projected, f"{q.path.name}: '#+ columns:' does not match the SELECT clause"
    assert name in COVERED, f"{name}: no case in tests/queries"


def test_every_programme_scoped_query_takes_the_programme(catalog: Catalog) -> None:
    for name, q in catalog.queries.items():
        if "?_programme_iri" in q.text:
            p = next(p for p in q.parameters if p.name == "programme")
            assert p.default == "https://w3id.org/rkg/id/rncp31854-pif", name


@pytest.mark.parametrize("params, message", [
    ({"rollup": "maybe"}, "allowed values: false, true"),
    ({"programme": "not an iri"}, "not an absolute IRI"),
    ({"colour": "red"}, "has no parameter 'colour'"),
])
def test_bad_parameters_are_refused(catalog: Catalog, bundled_store, params: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        run(bundled_store, catalog.get("units-by-block"), params)


def test_required_parameter_missing(catalog: Catalog, bundled_store) -> None:
    with pytest.raises(ParameterError, match="needs parameter 'dimension'"):
        run(bundled_store, catalog.get("ues-covering-dimension"), {})


def test_injection_attempt_stays_a_value(catalog: Catalog, bundled_store) -> None:
    """A value crafted to close the IRI and add a pattern is refused, not executed."""
    with pytest.raises(ParameterError):
        run(bundled_store, catalog.get("uncovered-dimensions"), {"programme": "https://x/> } ?s ?p ?o {<y"})


@pytest.mark.parametrize("text, message", [
    ("SELECT * WHERE { ?s ?p ?_n_decimal }", "unknown type 'decimal'"),
    ("SELECT * WHERE { ?s ?p ?__a_b_c }", "starts with .+ but is not"),
])
def test_bad_parameter_declarations_are_refused(tmp_path: Path, text: str, message: str) -> None:
    from rkg.catalog import load

    (tmp_path / "q.rq").write_text(text)
    with pytest.raises(ValueError, match=message):
        load(tmp_path / "q.rq")


def test_parameters_are_variables_not_text(tmp_path: Path) -> None:
    from rkg.catalog import load

    (tmp_path / "q.rq").write_text('# ?_comment_iri\nSELECT * WHERE { ?s ?p "?_fake_iri" . ?s <x:?_no> ?_n_integer }')
    assert [(p.name, p.type) for p in load(tmp_path / "q.rq").parameters] == [("n", "integer")]


# ---------------------------------------------------------------- an unknown programme is refused, with the known ones


@pytest.mark.parametrize("name", ["block-summary", "acs-by-level", "class-counts"])
def test_unknown_programme_is_refused(catalog: Catalog, multi_store, name: str) -> None:
    """``rncp99999-dem`` for ``rncp99999-demo``: not an empty table but an error naming the graph's programmes."""
    from rkg.catalog import UnknownProgramme

    with pytest.raises(UnknownProgramme) as e:
        run(multi_store, catalog.get(name), {"programme": "rncp99999-dem"})
    assert "no programme 'rncp99999-dem' in the graph" in str(e.value)
    assert "known programmes: rncp31854-pif, rncp99999-demo" in str(e.value)
    with pytest.raises(UnknownProgramme, match="no programme 'https://example.org/p'"):
        run(multi_store, catalog.get(name), {"programme": "https://example.org/p"})
    # the same programme by IRI or by id is known
    assert run(multi_store, catalog.get(name), {"programme": "https://w3id.org/rkg/id/rncp99999-demo"}).rows
    assert run(multi_store, catalog.get(name), {"programme": "rncp99999-demo"}).rows


def test_unknown_programme_cli_exit_2(built_dir: Path, capsys: pytest.CaptureFixture) -> None:
    from rkg.cli import main

    args = ["--root", str(ROOT), "--build-dir", str(built_dir), "-q"]
    assert main(["query", "block-summary", "-p", "programme=rncp31854-pf", *args]) == 2
    err = capsys.readouterr().err
    assert "no programme 'rncp31854-pf' in the graph; known programmes: rncp31854-pif" in err
    assert main(["query", "block-summary", "-p", "programme=rncp31854-pif", "--format", "csv", *args]) == 0
    assert "RNCP31854BC01" in capsys.readouterr().out
