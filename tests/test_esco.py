"""ESCO in (``rkg import esco``): the official CSV files shared with the project (real data), CSV tables
absent there (fixtures with the official columns), an RDF dump (a dump-shaped fixture), errors, and the
import joining the next build as a named graph of its own.

Counts are those the ESCO copy's README gives (tests/reference/esco-1.2.0/README.md), not a first run's.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyoxigraph as ox
import pytest

from support.paths import ESCO_FIXTURES, REFERENCE, ROOT
from rkg.build import IMPORTS, NQUADS_NAME, build
from rkg.interop.esco import EscoError, import_csv, import_rdf

ESCO_CSV = REFERENCE / "esco-1.2.0"
E = "http://data.europa.eu/esco/"
PREFIXES = """PREFIX esco: <http://data.europa.eu/esco/model#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""


def load(path: Path) -> ox.Store:
    store = ox.Store()
    store.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES)
    return store


def count(store: ox.Store, where: str) -> int:
    return int(next(iter(store.query(PREFIXES + f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")))["n"].value)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[ox.Store, object]:
    target = tmp_path_factory.mktemp("esco") / "esco-1.2.0.nt"
    messages: list[str] = []
    report = import_csv(ESCO_CSV, target, progress=messages.append)
    assert any("20000 records" in m for m in messages)  # progress on long tables
    return load(target), report


def test_tables_read_and_counted(shared) -> None:
    _, report = shared
    assert report.tables == {"occupations": 3039, "skillGroups": 640, "broaderRelationsSkillPillar": 20822,
                             "skillSkillRelations": 5818}
    assert report.missing == ["skills", "broaderRelationsOccPillar", "occupationSkillRelations"]


def test_every_occupation_is_present(shared) -> None:
    store, _ = shared
    uris = {r["conceptUri"] for r in csv.DictReader((ESCO_CSV / "occupations_en.csv").open(encoding="utf-8"))}
    got = {r["o"].value for r in store.query(PREFIXES + "SELECT ?o WHERE { ?o a esco:Occupation, esco:MemberConcept, skos:Concept }")}
    assert got == uris and len(got) == 3039


def test_every_occupation_reaches_its_isco_group(shared) -> None:
    store, _ = shared
    expected = {(r["conceptUri"], f"{E}isco/C{r['iscoGroup']}") for r in
                csv.DictReader((ESCO_CSV / "occupations_en.csv").open(encoding="utf-8"))}
    got = {(r["o"].value, r["g"].value) for r in store.query(PREFIXES + """SELECT ?o ?g WHERE {
        ?o a esco:Occupation ; skos:broader+ ?g . FILTER(STRSTARTS(STR(?g), "http://data.europa.eu/esco/isco/")) }""")}
    assert got == expected


def test_corporate_trainer(shared) -> None:
    """reference/esco.md: corporate trainer, code 2424.2, ISCO group C2424."""
    store, _ = shared
    trainer = ox.NamedNode(E + "occupation/0ba06640-e0ac-4911-9e43-289a8e41651e")
    assert ox.Literal("corporate trainer", language="en") in {q.object for q in store.quads_for_pattern(trainer, ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel"), None)}
    assert ox.Quad(trainer, ox.NamedNode("http://www.w3.org/2004/02/skos/core#broader"), ox.NamedNode(E + "isco/C2424")) in store
    assert ox.Quad(trainer, ox.NamedNode("http://www.w3.org/2004/02/skos/core#notation"), ox.Literal("2424.2")) in store


def test_hierarchy_and_relations(shared) -> None:
    store, _ = shared
    assert count(store, "?s skos:inScheme <http://data.europa.eu/esco/concept-scheme/skills-hierarchy>") > 0
    # every row of the skill pillar's hierarchy is one skos:broader triple (no row repeats another)
    rows = {(r["conceptUri"], r["broaderUri"]) for r in csv.DictReader((ESCO_CSV / "broaderRelationsSkillPillar_en.csv").open(encoding="utf-8"))}
    skill_broader = count(store, "?s skos:broader ?b . FILTER(!STRSTARTS(STR(?s), 'http://data.europa.eu/esco/occupation/'))")
    assert skill_broader == len(rows) == 20822
    assert count(store, "?a esco:relatedEssentialSkill|esco:relatedOptionalSkill ?b") == 5818
    # multi-valued cells are split: occupations carry several alternative labels
    assert count(store, "?o a esco:Occupation ; skos:altLabel ?l") > 3039


def test_tables_absent_from_the_shared_copy(tmp_path: Path) -> None:
    """skills_en.csv and occupationSkillRelations_en.csv, with the official columns (fixtures)."""
    import_csv(ESCO_FIXTURES / "csv", tmp_path / "x.nt")
    store = load(tmp_path / "x.nt")
    skill = f"<{E}skill/4dafe480-f2ae-46b5-bd5e-8d4e538f50c7>"
    trainer = f"<{E}occupation/0ba06640-e0ac-4911-9e43-289a8e41651e>"
    assert store.query(PREFIXES + f"ASK {{ {skill} a esco:Skill ; esco:skillType <{E}skill-type/skill> ; "
                                  f"esco:skillReuseLevel <{E}skill-reuse-level/cross-sector> ; skos:altLabel 'analyse training needs'@en }}")
    assert store.query(PREFIXES + f"ASK {{ {trainer} esco:relatedEssentialSkill {skill} . {skill} esco:isEssentialSkillFor {trainer} }}")
    assert store.query(PREFIXES + f"ASK {{ {trainer} esco:relatedOptionalSkill <{E}skill/a117f32c-662b-4dd9-b739-1230dd04cb60> }}")
    assert store.query(PREFIXES + f"ASK {{ {trainer} skos:broader <{E}isco/C2424> }}")


def test_rdf_dump(tmp_path: Path) -> None:
    source = ESCO_FIXTURES / "sample-dump.ttl"
    report = import_rdf(source, tmp_path / "dump.nt")
    parsed = list(ox.parse(path=str(source), format=ox.RdfFormat.TURTLE))
    assert report.triples == len(parsed) == len(load(tmp_path / "dump.nt"))


@pytest.mark.parametrize("table, header, row, message", [
    ("occupations", "conceptUri,preferredLabel,code", "http://x/o,o,1", "occupations_en.csv:1: missing column(s) iscoGroup"),
    ("occupations", "conceptUri,iscoGroup,preferredLabel,code", "http://x/o,C24,o,1", "occupations_en.csv:2: column iscoGroup: 'C24'"),
    ("skillSkillRelations", "originalSkillUri,originalSkillType,relationType,relatedSkillType,relatedSkillUri",
     "http://x/a,knowledge,sometimes,knowledge,http://x/b", "skillSkillRelations_en.csv:2: column relationType: 'sometimes'"),
    ("skills", "conceptUri,skillType,preferredLabel", "not an iri,knowledge,s", "skills_en.csv:2: not an IRI"),
])
def test_bad_files_name_file_line_and_column(tmp_path: Path, table: str, header: str, row: str, message: str) -> None:
    folder = tmp_path / "esco"
    folder.mkdir()
    (folder / f"{table}_en.csv").write_text(f"{header}\n{row}\n", encoding="utf-8")
    target = tmp_path / "out" / "esco.nt"
    with pytest.raises(EscoError, match=message.replace("(", r"\(").replace(")", r"\)")):
        import_csv(folder, target)
    assert not target.exists() and not any(target.parent.iterdir())  # nothing half-written


def test_bad_dump_and_empty_folder(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("<http://x/a> <http://x/b> .\n", encoding="utf-8")
    with pytest.raises(EscoError, match=r"bad.ttl:1:"):
        import_rdf(bad, tmp_path / "out.nt")
    assert not (tmp_path / "out.nt").exists()
    with pytest.raises(EscoError, match="no ESCO CSV table found"):
        import_csv(tmp_path, tmp_path / "out.nt")


def test_import_joins_the_next_build_in_its_own_graph(rkg, tmp_path: Path) -> None:
    build_dir = tmp_path / "build"
    r = rkg("import", "esco", str(ESCO_FIXTURES / "sample-dump.ttl"), "--name", "esco-sample", "--build-dir", str(build_dir))
    assert r.returncode == 0, r.stderr
    assert (build_dir / IMPORTS / "esco-sample.nt").is_file()
    assert "https://w3id.org/rkg/graph/imports/esco-sample" in r.stderr
    r = rkg("query", "esco-occupation-skills-not-covered", "-p", f"occupation={E}occupation/0ba06640-e0ac-4911-9e43-289a8e41651e",
            "--format", "csv", "--build-dir", str(build_dir), "-q")
    assert r.returncode == 0, r.stderr
    assert {line.split(",")[0] for line in r.stdout.splitlines()[1:]} == {
        f"{E}skill/e54ff029-1ce9-447d-a5b2-eb7283a23e6e", f"{E}skill/a117f32c-662b-4dd9-b739-1230dd04cb60"}
    store = ox.Store()
    store.bulk_load(path=str(build_dir / NQUADS_NAME), format=ox.RdfFormat.N_QUADS)
    graphs = {q.graph_name.value for q in store.quads_for_pattern(None, None, None) if isinstance(q.graph_name, ox.NamedNode)}
    assert {"https://w3id.org/rkg/graph/imports/esco-sample", "https://w3id.org/rkg/graph/imports/search-keys"} <= graphs
    r = rkg("validate", "--build-dir", str(build_dir), "-q", "--format", "json")  # imports left out: same findings
    assert r.returncode == 0 and '"warning": 23' in r.stdout


@pytest.mark.parametrize("args, message", [
    (["import", "esco", "no-such-folder"], "no such file or folder"),
    (["import", "esco", str(ESCO_FIXTURES / "README.md")], "unknown RDF format"),
    (["import", "esco", str(ESCO_FIXTURES / "csv"), "--name", "Bad Name"], "--name 'Bad Name'"),
])
def test_cli_errors(rkg, tmp_path: Path, args: list[str], message: str) -> None:
    r = rkg(*args, "--build-dir", str(tmp_path))
    assert r.returncode == 2 and message in r.stderr


def test_sources_only_build_has_no_import() -> None:
    assert not any(g.startswith("https://w3id.org/rkg/graph/imports/") for g in build(ROOT).counts)
