"""RNCP in (``rkg import rncp``): the free-text lists (a folder of cases), the mapping of a fiche to the
ontology, the messy cases of the documented structure (HTML fragments, entities, list syntaxes, a fiche
without blocks, BLOC instead of BLOC_COMPETENCES), a malformed file, and the official record meeting the
bundled programme without changing its counts.

The fixtures (tests/fixtures/rncp/) are written from tests/reference/rncp-export.md; their content is
illustrative. Memory on large exports is measured by bench/rncp_import.py, not here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from support.paths import PIF, ROOT
from rkg.build import IMPORTS, build
from rkg.catalog import Catalog, run
from rkg.interop.rncp import GRAPHS, RncpError, import_xml, split_items
from rkg.store import EmbeddedStore

FIXTURES = ROOT / "tests" / "fixtures" / "rncp"
TEXT_CASES = json.loads((ROOT / "tests" / "cases" / "rncp-text" / "manifest.json").read_text(encoding="utf-8"))
RNCP = "https://w3id.org/rkg/id/rncp/"
PREFIXES = """PREFIX rkg: <https://w3id.org/rkg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""


@pytest.mark.parametrize("name", sorted(TEXT_CASES))
def test_free_text_lists(name: str) -> None:
    assert split_items(TEXT_CASES[name]["text"]) == TEXT_CASES[name]["items"]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ox.Store]:
    imports = tmp_path_factory.mktemp("rncp-build") / IMPORTS
    report = import_xml(FIXTURES / "export-sample.xml", imports / "sample.nq")
    assert (report.seen, report.fiches, report.blocks) == (3, 3, 5)
    store = ox.Store()
    store.bulk_load(path=str(imports / "sample.nq"), format=ox.RdfFormat.N_QUADS)
    return imports, store


def ask(store: ox.Store, where: str) -> bool:
    return bool(store.query(PREFIXES + f"ASK {{ {where} }}", use_default_graph_as_union=True))


def test_one_graph_per_fiche(imported) -> None:
    _, store = imported
    graphs = {q.graph_name.value for q in store}
    assert graphs == {GRAPHS + n for n in ("RNCP31854", "RNCP99001", "RNCP99002")}


def test_certification(imported) -> None:
    _, store = imported
    c = f"<{RNCP}RNCP31854>"
    assert ask(store, f"""{c} a rkg:RncpCertification ; rkg:rncpNumber "RNCP31854" ; rkg:rncpStatus "Publiée" ;
        rkg:rncpActive true ; rkg:rncpLevel "NIV7" ; rkg:eqfLevel <http://data.europa.eu/snb/eqf/7> ;
        rkg:decisionDate "2019-01-08"^^<http://www.w3.org/2001/XMLSchema#date> ;
        rkg:effectiveDate "2019-09-01"^^<http://www.w3.org/2001/XMLSchema#date> ;
        dcterms:title ?t . FILTER(STRSTARTS(?t, "Master Métiers de l'enseignement"))""")
    assert ask(store, f"""{c} rkg:certifier ?o . ?o a rkg:Certifier ; rkg:siret "11000000000000" ;
        skos:prefLabel "Ministère de l'Enseignement supérieur"@fr""")
    for scheme, code in (("rome", "K2111"), ("rome", "M1503"), ("nsf", "333"), ("formacode", "44591")):
        assert ask(store, f"""{c} dcterms:subject <https://w3id.org/rkg/id/{scheme}/{code}> .
            <https://w3id.org/rkg/id/{scheme}/{code}> a skos:Concept ; skos:notation "{code}" ;
            skos:inScheme <https://w3id.org/rkg/id/{scheme}>""")
    assert ask(store, f"""<{RNCP}RNCP99001> rkg:rncpActive false ; rkg:eqfLevel <http://data.europa.eu/snb/eqf/5>""")


def test_blocks_with_their_lists_and_the_original_text(imported) -> None:
    _, store = imported
    blocks = {r["b"].value for r in store.query(PREFIXES + f"SELECT ?b WHERE {{ ?b rkg:blockOfCertification <{RNCP}RNCP31854> }}",
                                                 use_default_graph_as_union=True)}
    assert blocks == {f"{RNCP}RNCP31854BC0{i}" for i in range(1, 5)}
    assert ask(store, f"""<{RNCP}RNCP31854BC01> a rkg:RncpBlock ; skos:prefLabel "Diagnostic et prospective en formation"@fr ;
        rkg:statesCompetency ?c ; rkg:competencyListText ?raw . ?c skos:prefLabel "Gérer et analyser la demande et les besoins de formation"@fr ;
        rkg:position 1 . FILTER(CONTAINS(?raw, "&lt;br/&gt;") || CONTAINS(?raw, "<br/>"))""")
    counts = {r["b"].value: (int(r["c"].value), int(r["e"].value)) for r in store.query(PREFIXES + """
        SELECT ?b (COUNT(DISTINCT ?c) AS ?c) (COUNT(DISTINCT ?e) AS ?e) WHERE {
          ?b a rkg:RncpBlock . OPTIONAL { ?b rkg:statesCompetency ?c } OPTIONAL { ?b rkg:statesEvaluation ?e } } GROUP BY ?b""",
        use_default_graph_as_union=True)}
    assert counts == {f"{RNCP}RNCP31854BC01": (3, 3), f"{RNCP}RNCP31854BC02": (4, 2), f"{RNCP}RNCP31854BC03": (2, 0),
                      f"{RNCP}RNCP31854BC04": (2, 1), f"{RNCP}RNCP99002BC01": (3, 1)}  # RNCP99002 writes BLOC


def test_html_in_titles_is_text(imported) -> None:
    _, store = imported
    assert ask(store, f"""<{RNCP}RNCP99002> skos:prefLabel "Titre & blocs BLOC (fiche inventée)"@fr""")


def test_selected_fiches_only(tmp_path: Path) -> None:
    report = import_xml(FIXTURES / "export-sample.xml", tmp_path / "one.nq", ["rncp99002"])
    assert (report.seen, report.fiches) == (3, 1)
    with pytest.raises(RncpError, match="not in the export: RNCP00000; nothing imported"):
        import_xml(FIXTURES / "export-sample.xml", tmp_path / "none.nq", ["RNCP31854", "RNCP00000"])
    assert not (tmp_path / "none.nq").exists()


def test_malformed_file_names_line_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RncpError, match=r"export-malformed.xml:10:3: malformed XML"):
        import_xml(FIXTURES / "export-malformed.xml", tmp_path / "x.nq")
    assert list(tmp_path.iterdir()) == []
    other = tmp_path / "other.xml"
    other.write_text("<?xml version='1.0'?><ROOT><ITEM/></ROOT>", encoding="utf-8")
    with pytest.raises(RncpError, match="no FICHE element"):
        import_xml(other, tmp_path / "y.nq")


def test_official_record_meets_the_programme_without_merging(imported, catalog: Catalog, bundled_store) -> None:
    imports, _ = imported
    store = EmbeddedStore.from_quads(build(ROOT, imports=imports).quads)
    # the programme's blocks point to the official blocks, which now have the record's titles
    rows = store.select(PREFIXES + f"""SELECT ?code ?title WHERE {{ <{PIF}> rkg:hasBlock ?b . ?b rkg:rncpBlock ?o .
        ?o skos:notation ?code ; dcterms:title ?title }}""").values()
    assert {c for c, _ in rows} == {f"RNCP31854BC0{i}" for i in range(1, 5)}
    assert store.ask(PREFIXES + f"ASK {{ <{PIF}> rkg:rncpCertification ?c . ?c rkg:eqfLevel ?l ; rkg:certifier ?o }}")
    # …and the programme's own counts are what they were
    for name in ("block-summary", "class-counts", "units-by-block"):
        q = catalog.get(name)
        assert set(run(store, q).values()) == set(run(bundled_store, q).values()), name
    # two kinds of competency, kept apart
    assert store.select(PREFIXES + "SELECT ?c WHERE { ?c a rkg:Competency, rkg:RncpCompetencyStatement }").rows == []


@pytest.mark.parametrize("args, code, message", [
    ([str(FIXTURES / "export-sample.xml"), "--fiche", "RNCP31854"], 0, "fiches written                       1"),
    ([str(FIXTURES / "export-malformed.xml")], 2, "malformed XML"),
    (["no-such.xml"], 2, "no such file"),
])
def test_cli(rkg, tmp_path: Path, args: list[str], code: int, message: str) -> None:
    r = rkg("import", "rncp", *args, "--build-dir", str(tmp_path))
    assert r.returncode == code and message in r.stdout + r.stderr
