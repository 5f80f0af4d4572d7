"""`rkg validate` on BUT référentiels (issue 10), end to end through the CLI into a temporary build folder.

RT from ScoDoc's JSON (tests/reference/scodoc/rt.json, real data): exit 0, no violation, and as warnings
exactly the source's layout defects — 20 niveau labels (`libelle`) and 7 compétence long titles
(`titre_long`) ending with a space, 3 AC labels with two spaces in a row (AC21.02, AC24.04PPR, AC35.01PPR) —
and the English labels the source does not have (it is French only). The bundled Master beside it keeps
its own 23 warnings. The made-up Orébut pair (tests/fixtures/orebut/) passes the but-apc profile, and a
copy with a mis-coded AC, an AC no SAÉ or ressource mobilises and a compétence without composantes
essentielles gets the profile's findings.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from support.paths import ROOT
from rkg.cli import main
from rkg.namespaces import mint

RT_JSON = ROOT / "tests" / "reference" / "scodoc" / "rt.json"
FIXTURES = ROOT / "tests" / "fixtures" / "orebut"
RT = "https://w3id.org/rkg/id/but-rt"
SHAPES = "https://w3id.org/rkg/shapes#"
PREFIXES = {"rkg": "https://w3id.org/rkg/ontology#"}

# The bundled Master's warnings (tests/test_shapes.py pins them focus node by focus node).
MASTER_WARNINGS = {"DimensionMobilised": 2, "CriticalLearningLevelStated": 19, "CriticalLearningNumberingGap": 1,
                   "DimensionCountAnnounced": 1}

# Layout defects of rt.json, read in the file.
TRAILING_NIVEAU_LABELS = [  # (compétence, niveau rank): `libelle` ends with a space
    ("Administrer", 2), ("Programmer", 2),
    ("Sécuriser", 1), ("Sécuriser", 2), ("Surveiller", 1), ("Surveiller", 2),
    ("Orchestrer", 1), ("Développer", 1), ("Développer", 2),
    ("Etendre", 1), ("Etendre", 2), ("Exploiter", 1), ("Exploiter", 2),
    ("Piloter", 1), ("Piloter", 2), ("Organiser", 1), ("Organiser", 2),
    ("Rapprocher", 1), ("Rapprocher", 2), ("Unifier", 1),
]
TRAILING_LONG_TITLES = ["Connecter", "Programmer", "Etendre", "Piloter", "Rapprocher", "Exploiter", "Unifier"]
DOUBLE_SPACE_ACS = [("Administrer", 2, "AC21.02"), ("Piloter", 1, "AC24.04PPR"), ("Organiser", 2, "AC35.01PPR")]


def run(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(args)
    return code, out.getvalue()


def validate(build_dir: Path) -> tuple[int, dict]:
    code, out = run(["validate", "--root", str(ROOT), "--build-dir", str(build_dir), "--format", "json", "-q"])
    return code, json.loads(out)


def rule(finding: dict) -> str:
    return finding["rule"].removeprefix(SHAPES)


def imported(build_dir: Path) -> ox.Store:
    store = ox.Store()
    for f in sorted((build_dir / "imports").glob("*.nt")):
        store.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph())
    return store


# ---------------------------------------------------------------- RT


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict, ox.Store]:
    build_dir = tmp_path_factory.mktemp("but-rt") / "build"
    assert run(["import", "orebut", str(RT_JSON), "--root", str(ROOT), "--build-dir", str(build_dir), "-q"])[0] == 0
    code, report = validate(build_dir)
    return code, report, imported(build_dir)


def rt_findings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["focus"] == RT or f["focus"].startswith(RT + "/")]


def test_rt_validates_with_exit_0(rt) -> None:
    code, report, _ = rt
    assert code == 0
    assert report["conforms"] is True
    assert report["counts"]["violation"] == 0


def test_rt_layout_warnings_are_the_sources(rt) -> None:
    _, report, _ = rt
    layout = [f for f in rt_findings(report) if rule(f) == "LabelLayout"]
    assert all(f["severity"] == "warning" for f in layout)
    got = Counter((f["focus"], f["message"]["en"].split("(", 1)[1].split(")", 1)[0]) for f in layout)
    expected = Counter(
        [(mint("but-rt", "competency", c, "level", str(rank)), "skos:prefLabel") for c, rank in TRAILING_NIVEAU_LABELS]
        + [(mint("but-rt", "competency", c), "rkg:longTitle") for c in TRAILING_LONG_TITLES]
        + [(mint("but-rt", "competency", c, "level", str(rank), "ac", code), "skos:prefLabel")
           for c, rank, code in DOUBLE_SPACE_ACS])
    assert got == expected
    assert len(layout) == 30 and max(got.values()) == 1  # one warning per faulty label
    # 27 labels end with a space (20 libelle, 7 titre_long), 3 hold two spaces in a row (the ACs); none both
    trailing = {f["focus"] for f in layout if f["value"].endswith(" ")}
    double = {f["focus"] for f in layout if "  " in f["value"]}
    assert len(trailing) == 27 and not trailing & double
    assert double == {mint("but-rt", "competency", c, "level", str(rank), "ac", code) for c, rank, code in DOUBLE_SPACE_ACS}
    assert not any(f["value"].startswith(" ") for f in layout)


def test_rt_missing_english_labels(rt) -> None:
    """The source is French only: PrefLabelEn (core, recommended) warns on the programme, its 13 compétences
    and its 121 ACs (the classes the shape targets), and on nothing else."""
    _, report, store = rt
    english = {f["focus"] for f in rt_findings(report) if rule(f) == "PrefLabelEn"}
    targeted = {r["x"].value for r in store.query(
        f"SELECT ?x WHERE {{ ?x rkg:inProgramme <{RT}> ; a ?c . VALUES ?c {{ rkg:Competency rkg:CriticalLearning }} }}",
        prefixes=PREFIXES)} | {RT}
    assert english == targeted
    assert len(english) == 1 + 13 + 121


def test_rt_nothing_else_above_info(rt) -> None:
    _, report, _ = rt
    above_info = Counter(rule(f) for f in rt_findings(report) if f["severity"] != "info")
    assert above_info == {"LabelLayout": 30, "PrefLabelEn": 135}
    assert {f["severity"] for f in rt_findings(report)} == {"warning"}


def test_rt_beside_the_bundled_master(rt) -> None:
    """The Master validated in the same run keeps exactly its own findings."""
    _, report, _ = rt
    others = [f for f in report["findings"] if f not in rt_findings(report)]
    assert {f["severity"] for f in others} == {"warning"}
    assert Counter(rule(f) for f in others) == MASTER_WARNINGS


# ---------------------------------------------------------------- the made-up Orébut pair


def import_pair(build_dir: Path, competences: Path, formation: Path) -> None:
    for f in (competences, formation):
        assert run(["import", "orebut", str(f), "--root", str(ROOT), "--build-dir", str(build_dir), "-q"])[0] == 0


def test_demo_pair_passes_the_profile(tmp_path: Path) -> None:
    build_dir = tmp_path / "build"
    import_pair(build_dir, FIXTURES / "competences.xml", FIXTURES / "formation.xml")
    code, report = validate(build_dir)
    assert code == 0
    # the référentiel de formation, imported on its own, holds no rkg:Programme but the SAÉ and ressources
    # of one: it is validated, not left out as a vocabulary
    assert report["left_out"] == ["https://w3id.org/rkg/graph/imports/search-keys"]
    demo = [f for f in report["findings"] if "/id/but-demo" in f["focus"]]
    assert not [f for f in demo if rule(f).startswith("But")]
    assert Counter(rule(f) for f in demo) == {"PrefLabelEn": 11, "LabelLayout": 1}  # « Étude de faisabilité  en équipe »


def test_demo_pair_with_faults(tmp_path: Path) -> None:
    """AC21.03 recoded AC31.03 (the digit of BUT3 for an AC of BUT2) and left out of the formation (no SAÉ or
    ressource mobilises it); « Protéger » without its composantes essentielles."""
    competences = (FIXTURES / "competences.xml").read_text(encoding="utf-8")
    formation = (FIXTURES / "formation.xml").read_text(encoding="utf-8")
    competences = competences.replace('<ac code="AC21.03">', '<ac code="AC31.03">')
    start = competences.index("<composantes_essentielles>", competences.index('name="Protéger"'))
    end = competences.index("</composantes_essentielles>", start) + len("</composantes_essentielles>")
    competences = competences[:start] + competences[end:]
    formation = formation.replace("<ac>AC21.03</ac>", "")
    (tmp_path / "competences.xml").write_text(competences, encoding="utf-8")
    (tmp_path / "formation.xml").write_text(formation, encoding="utf-8")
    build_dir = tmp_path / "build"
    import_pair(build_dir, tmp_path / "competences.xml", tmp_path / "formation.xml")
    code, report = validate(build_dir)
    assert code == 1
    ac = mint("but-demo", "competency", "Concevoir", "level", "2", "ac", "AC31.03")
    found = {(rule(f), f["focus"], f["severity"]) for f in report["findings"] if rule(f).startswith("But")}
    assert found == {
        ("ButCriticalLearningCodeYear", ac, "violation"),
        ("ButCriticalLearningMobilised", ac, "warning"),
        ("ButCompetencyHasEssentialComponent", mint("but-demo", "competency", "Protéger"), "warning"),
    }
    year = next(f for f in report["findings"] if rule(f) == "ButCriticalLearningCodeYear")
    assert year["message"]["en"] == "Code AC31.03 announces year 3, but the critical learning is in BUT2."
