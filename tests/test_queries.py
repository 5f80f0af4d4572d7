"""Named queries against expected answers read from the source, one case file per run (tests/queries/*.json).

A case file names the query (``query``, default: the file stem before ``--``), its ``params``, the
``columns`` compared, and the ``expected`` rows, compared as sets. ``token_sets`` lists columns whose
value is a space-separated set (GROUP_CONCAT order is not defined). ``store: multi`` runs the case on the
bundled graph plus the made-up demo référentiel, ``store: versions`` beside the made-up référentiel in
two versions, ``store: esco`` with the sample ESCO dump imported, ``store: but`` with two BUT imported
by ``rkg import orebut`` (RT from ScoDoc's JSON, tests/reference/scodoc/rt.json, as ``but-rt``; the
made-up Orébut XML pair of tests/fixtures/orebut, compétences and formation, as ``but-demo``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from support.paths import ROOT
from rkg.catalog import Catalog, ParameterError, run

CASES = sorted((ROOT / "tests" / "queries").glob("*.json"))
RT_JSON = ROOT / "tests" / "reference" / "scodoc" / "rt.json"
OREBUT = ROOT / "tests" / "fixtures" / "orebut"


@pytest.fixture(scope="session")
def but_store(tmp_path_factory: pytest.TempPathFactory):
    """The bundled graph with BUT RT (ScoDoc JSON) and the made-up BUT DEMO (Orébut XML pair) imported."""
    from rkg.build import build
    from rkg.interop import imports
    from rkg.store import EmbeddedStore

    folder = tmp_path_factory.mktemp("but-build") / "imports"
    imports.orebut(RT_JSON, folder, "rt")
    imports.orebut(OREBUT / "competences.xml", folder, "competences")
    imports.orebut(OREBUT / "formation.xml", folder, "formation", "but-demo")
    return EmbeddedStore.from_quads(build(ROOT, imports=folder).quads)


def _normalise(row: tuple, columns: list[str], token_sets: set[str]) -> tuple:
    return tuple(" ".join(sorted((v or "").split())) if c in token_sets else v for c, v in zip(columns, row))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_named_query(case: Path, catalog: Catalog, request: pytest.FixtureRequest) -> None:
    spec = json.loads(case.read_text(encoding="utf-8"))
    query = catalog.get(spec.get("query", case.stem.split("--")[0]))
    store = request.getfixturevalue({"multi": "multi_store", "versions": "versions_store", "esco": "esco_store",
                                     "but": "but_store"}.get(spec.get("store"), "bundled_store"))
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
    from rkg.catalog import QueryFileError, load

    (tmp_path / "q.rq").write_text(text)
    with pytest.raises(QueryFileError, match=message):
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


# ---------------------------------------------------------------- BUT: the questions on RT, expected answers read from its JSON


def _rt_source() -> dict:
    return json.loads(RT_JSON.read_text(encoding="utf-8"))


def test_rt_niveaux_from_the_source(catalog: Catalog, but_store) -> None:
    """29 niveaux, each with its rank, year and number of ACs as rt.json gives them."""
    expected = set()
    for name, c in _rt_source()["competences"].items():
        for year, nv in c["niveaux"].items():
            expected.add((name, str(nv["ordre"]), nv.get("annee") or year, str(len(nv["app_critiques"])), nv["libelle"]))
    assert len(expected) == 29
    table = run(but_store, catalog.get("niveaux"), {"programme": "but-rt"})
    assert set(table.values()) == expected and len(table.rows) == 29
    assert sum(int(r[3]) for r in table.values()) == 121


def test_rt_parcours_summary_from_the_source(catalog: Catalog, but_store) -> None:
    """5 parcours × 3 years: the niveaux each year of each parcours names, and their ACs."""
    source = _rt_source()
    acs = {(name, nv["ordre"]): len(nv["app_critiques"]) for name, c in source["competences"].items() for nv in c["niveaux"].values()}
    expected = set()
    for code, p in source["parcours"].items():
        for year, a in p["annees"].items():
            ranks = [(name, ref["niveau"]) for name, ref in a["competences"].items()]
            expected.add((code, p["libelle"], f"BUT{year}", str(year), str(len(ranks)), str(sum(acs[r] for r in ranks))))
    table = run(but_store, catalog.get("parcours-summary"), {"programme": "but-rt"})
    assert set(table.values()) == expected and len(table.rows) == 15
    assert {r[0] for r in table.values()} == {"Cyber", "DevCloud", "IOM", "PPR", "ROM"}
    assert [r[4] for r in table.values() if r[0] == "Cyber"] == ["3", "5", "5"]  # in year order


def test_acs_per_period_in_order(catalog: Catalog, but_store) -> None:
    rows = run(but_store, catalog.get("acs-per-period"), {"programme": "but-rt"}).values()
    assert [(r[1], r[3]) for r in rows] == [("BUT1", "17"), ("BUT2", "53"), ("BUT3", "51")]


@pytest.mark.parametrize("programme", ["but-rt", "but-demo"])
def test_every_question_runs_for_a_but(catalog: Catalog, but_store, programme: str) -> None:
    """Every programme-scoped question answers for a BUT (often no rows: a BUT has no blocks), never an error."""
    for name, q in catalog.queries.items():
        if any(p.name == "programme" for p in q.parameters) and all(not p.required or p.default or p.name == "programme"
                                                                     for p in q.parameters):
            run(but_store, q, {"programme": programme})
