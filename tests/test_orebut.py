"""BUT référentiels in (``rkg import orebut``): ScoDoc's JSON export of the BUT RT référentiel
(tests/reference/scodoc/rt.json, real data, counts from its README) and a made-up Orébut XML pair
(tests/fixtures/orebut/, written from tests/reference/orebut.md), end to end; malformed files and a
formation without its programme end with exit 2 and nothing written."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import pyoxigraph as ox
import pytest

from support.paths import ROOT
from rkg.build import IMPORT_SEARCH_KEYS, build, search_key
from rkg.cli import main
from rkg.interop import imports

RT_JSON = ROOT / "tests" / "reference" / "scodoc" / "rt.json"
FIXTURES = ROOT / "tests" / "fixtures" / "orebut"
RT = "https://w3id.org/rkg/id/but-rt"
DEMO = "https://w3id.org/rkg/id/but-demo"
PREFIXES = {"rkg": "https://w3id.org/rkg/ontology#", "skos": "http://www.w3.org/2004/02/skos/core#",
            "dcterms": "http://purl.org/dc/terms/"}


def load(*files: Path) -> ox.Store:
    store = ox.Store()
    for f in files:
        store.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph())
    return store


def select(store: ox.Store, query: str) -> list[tuple]:
    return [tuple(None if v is None else v.value for v in row) for row in store.query(query, prefixes=PREFIXES)]


def count(store: ox.Store, where: str) -> int:
    return int(select(store, f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {where} }}")[0][0])


# ---------------------------------------------------------------- RT from ScoDoc's JSON


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ox.Store]:
    folder = tmp_path_factory.mktemp("rt") / "imports"
    result = imports.orebut(RT_JSON, folder, "rt")
    assert result.target == folder / "rt.nt"
    assert result.graphs == "https://w3id.org/rkg/graph/imports/rt"
    return folder, load(result.target)


@pytest.mark.parametrize("cls, expected", [
    ("Competency", 13), ("DevelopmentLevel", 29), ("CriticalLearning", 121), ("EssentialComponent", 54),
    ("ProfessionalSituation", 37), ("Parcours", 5), ("StudyLevel", 3),
])
def test_rt_counts(rt, cls: str, expected: int) -> None:
    _, store = rt
    assert count(store, f"?x a rkg:{cls} ; rkg:inProgramme <{RT}>") == expected


def test_rt_programme(rt) -> None:
    _, store = rt
    assert store.query(f"ASK {{ <{RT}> a rkg:Programme ; dcterms:conformsTo <https://w3id.org/rkg/profile/but-apc> ; "
                       f"skos:notation 'RT' ; dcterms:source ?doc . ?doc a rkg:SourceDocument ; dcterms:title 'rt.json' }}",
                       prefixes=PREFIXES)


def test_rt_acs_per_year(rt) -> None:
    _, store = rt
    rows = select(store, f"""SELECT ?code (COUNT(?ac) AS ?n) WHERE {{
        ?ac a rkg:CriticalLearning ; rkg:inProgramme <{RT}> ; rkg:atStudyLevel ?y .
        ?y skos:notation ?code ; skos:inScheme <{RT}/periods> }} GROUP BY ?code ORDER BY ?code""")
    assert rows == [("BUT1", "17"), ("BUT2", "53"), ("BUT3", "51")]
    # every AC's year is its niveau's year
    assert not store.query("ASK { ?l rkg:levelHasCriticalLearning ?a ; rkg:atStudyLevel ?y . FILTER NOT EXISTS { ?a rkg:atStudyLevel ?y } }",
                           prefixes=PREFIXES)


def test_rt_parcours_competency_starts_in_but2(rt) -> None:
    _, store = rt
    level = f"{RT}/competency/S%C3%A9curiser/level/1"
    assert select(store, f"SELECT ?rank ?y WHERE {{ <{level}> rkg:levelRank ?rank ; rkg:atStudyLevel ?y }}") == [("1", f"{RT}/period/BUT2")]
    ac = f"{level}/ac/AC24.01Cyber"
    assert store.query(f"ASK {{ <{level}> rkg:levelHasCriticalLearning <{ac}> . <{ac}> skos:notation 'AC24.01Cyber' }}", prefixes=PREFIXES)
    specific = select(store, f"SELECT ?c ?p WHERE {{ ?c rkg:specificToParcours ?p }}")
    assert (f"{RT}/competency/S%C3%A9curiser", f"{RT}/parcours/Cyber") in specific
    assert len(specific) == 10  # the ten compétences numbered 4 and 5, each in one parcours
    assert not [c for c, _ in specific if c.endswith(("Administrer", "Connecter", "Programmer"))]
    # Cyber: 3 niveaux in BUT1, 5 in BUT2, 5 in BUT3
    assert count(store, f"<{RT}/parcours/Cyber> rkg:parcoursIncludesLevel ?x") == 13


def test_rt_strings_kept_as_written(rt) -> None:
    _, store = rt
    labels = dict(select(store, "SELECT ?code ?label WHERE { ?ac a rkg:CriticalLearning ; skos:notation ?code ; skos:prefLabel ?label }"))
    for code in ("AC21.02", "AC24.04PPR", "AC35.01PPR"):
        assert "  " in labels[code], code
    assert labels["AC24.04PPR"] == "Proposition de solutions techniques  R&T efficientes"
    every = [v for (v,) in select(store, "SELECT ?l WHERE { ?s ?p ?l FILTER(isLiteral(?l)) }")]
    decomposed = [v for v in every if unicodedata.normalize("NFC", v) != v]
    assert len(decomposed) >= 170  # 174 strings of the file; a few repeat (the same label twice is one literal)
    assert "re\u0301seau" in " ".join(decomposed)


def test_rt_search_keys_are_nfc(rt) -> None:
    folder, _ = rt
    quads = build(ROOT, imports=folder).quads
    keys = {(q.subject.value, q.object.value) for q in quads
            if q.graph_name.value == IMPORT_SEARCH_KEYS and q.predicate.value.endswith("#searchKey")}
    labels = [(q.subject.value, q.object.value) for q in quads
              if q.graph_name.value.endswith("imports/rt") and q.predicate.value.endswith("#prefLabel")]
    decomposed = [(s, label) for s, label in labels if unicodedata.normalize("NFC", label) != label]
    assert decomposed
    for s, label in decomposed:
        key = search_key(unicodedata.normalize("NFC", label))
        assert (s, key) in keys
        assert unicodedata.normalize("NFC", key) == key and not any(unicodedata.combining(c) for c in key)
    assert search_key("Administrer un re\u0301seau") == search_key("Administrer un réseau") == "administrer un reseau"


def test_rt_cli(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["import", "orebut", str(RT_JSON), "--build-dir", str(tmp_path / "build"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "apprentissages critiques" in out and "121" in out
    assert (tmp_path / "build" / "imports" / "rt.nt").is_file()


# ---------------------------------------------------------------- the made-up Orébut XML pair


@pytest.fixture()
def demo(tmp_path: Path) -> tuple[Path, ox.Store]:
    folder = tmp_path / "imports"
    imports.orebut(FIXTURES / "competences.xml", folder, "competences")
    imports.orebut(FIXTURES / "formation.xml", folder, "formation")
    return folder, load(folder / "competences.nt", folder / "formation.nt")


@pytest.mark.parametrize("where, expected", [
    (f"?x a rkg:Competency ; rkg:inProgramme <{DEMO}>", 2),
    (f"?x a rkg:DevelopmentLevel ; rkg:inProgramme <{DEMO}>", 3),
    (f"?x a rkg:CriticalLearning ; rkg:inProgramme <{DEMO}>", 8),
    (f"?x a rkg:EssentialComponent", 4),
    (f"?x a rkg:ProfessionalSituation", 3),
    (f"?x a rkg:Parcours ; rkg:parcoursOf <{DEMO}>", 2),
    (f"?x a rkg:StudyLevel ; rkg:inProgramme <{DEMO}>", 2),
    (f"?x a rkg:StudyPeriod ; skos:broader ?y", 2),
    ("?x a rkg:Resource", 3),
    ("?x a rkg:LearningSituation", 2),
    ("?x a rkg:CompetencyCoefficient", 6),
    ("?s rkg:mobilisesCriticalLearning ?a BIND(CONCAT(STR(?s), STR(?a)) AS ?x)", 9),
    ("?s rkg:usesResource ?r BIND(CONCAT(STR(?s), STR(?r)) AS ?x)", 3),
    ("?c rkg:specificToParcours ?x", 1),
])
def test_demo_counts(demo, where: str, expected: int) -> None:
    _, store = demo
    assert count(store, where) == expected


def test_demo_structure(demo) -> None:
    _, store = demo
    P = DEMO
    # the parcours-specific compétence starts in BUT2: niveau 1 is in BUT2, as annee says
    assert select(store, f"SELECT ?y WHERE {{ <{P}/competency/Prot%C3%A9ger/level/1> rkg:atStudyLevel ?y }}") == [(f"{P}/period/BUT2",)]
    # a niveau without annee, of a compétence that starts in BUT1: BUT + ordre
    assert select(store, f"SELECT ?y WHERE {{ <{P}/competency/Concevoir/level/2> rkg:atStudyLevel ?y }}") == [(f"{P}/period/BUT2",)]
    assert select(store, "SELECT ?c WHERE { ?c rkg:specificToParcours ?p }") == [(f"{P}/competency/Prot%C3%A9ger",)]
    sae = f"{P}/sae/SA%C3%891.01"
    row = select(store, f"""SELECT ?s ?cm ?tp ?pr ?k WHERE {{ <{sae}> a rkg:LearningSituation ; rkg:inPeriod ?s ;
        rkg:hoursCMTD ?cm ; rkg:hoursTP ?tp ; rkg:hoursProject ?pr ; rkg:hasCompetencyCoefficient ?q .
        ?q rkg:coefficientForCompetency <{P}/competency/Concevoir> ; rkg:coefficient ?k }}""")
    assert row == [(f"{P}/period/S1", "4", "8", "20", "40")]
    assert store.query(f"ASK {{ <{sae}> rkg:usesResource <{P}/resource/R1.01> ; "
                       f"rkg:mobilisesCriticalLearning <{P}/competency/Concevoir/level/1/ac/AC11.01> }}", prefixes=PREFIXES)
    assert store.query(f"ASK {{ <{P}/period/BUT1> skos:narrower <{P}/period/S1> . <{P}/period/BUT2> skos:narrower <{P}/period/S3> }}", prefixes=PREFIXES)
    # the coefficient as written with a decimal comma is a decimal
    assert select(store, f"SELECT ?k WHERE {{ <{P}/resource/R1.02/coefficient/Concevoir> rkg:coefficient ?k }}") == [("1.5",)]


def test_unknown_elements_are_ignored(tmp_path: Path) -> None:
    """The fixtures carry elements and attributes not in orebut.md (<annexe>, <motsCles>, version attributes…):
    stripping them changes nothing."""
    text = (FIXTURES / "competences.xml").read_text(encoding="utf-8")
    assert "<annexe" in text and "inconnu=" in text
    bare = tmp_path / "bare.xml"
    bare.write_text(text.replace(' inconnu="x"', "").replace("<annexe>Non lue</annexe>", ""), encoding="utf-8")
    a = imports.orebut(FIXTURES / "competences.xml", tmp_path / "a", "competences")
    b = imports.orebut(bare, tmp_path / "b", "competences")
    strip = lambda p: sorted(l for l in p.read_text().splitlines() if "/source/" not in l and "imports/competences" not in l)  # noqa: E731
    assert strip(a.target) == strip(b.target)


# ---------------------------------------------------------------- refusals: exit 2, nothing written


def _run(tmp_path: Path, *args: str) -> int:
    return main(["import", "orebut", *args, "--build-dir", str(tmp_path / "build"), "-q"])


def test_malformed_xml_names_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.xml"
    lines = (FIXTURES / "competences.xml").read_text(encoding="utf-8").splitlines()
    lines[9] = lines[9].replace(">", "", 1)  # line 10 loses a '>'
    bad.write_text("\n".join(lines), encoding="utf-8")
    assert _run(tmp_path, str(bad)) == 2
    err = capsys.readouterr().err
    assert f"{bad}:11:9: not well-formed XML" in err  # where the parser finds the broken tag
    assert not (tmp_path / "build").exists()


@pytest.mark.parametrize("text, where", [
    ('{"specialite": "RT", "competences": {"A": {"niveaux": {"BUT1": {"libelle": "x", "ordre": "un", "app_critiques": {}}}}}}',
     "$['competences']['A']['niveaux']['BUT1']['ordre']"),
    ('{"specialite": "RT", "competences": {"A": {"niveaux": {"BUT1": {"libelle": 3, "ordre": 1, "app_critiques": {}}}}}}',
     "$['competences']['A']['niveaux']['BUT1']['libelle']"),
    ('{"specialite": "RT", "competences": {"A b.c": {"niveaux": {"1": {"libelle": "x", "ordre": 1, "app_critiques": {"AC1.1": {}}}}}}}',
     "$['competences']['A b.c']['niveaux']['1']['app_critiques']['AC1.1']: missing 'libelle'"),  # RFC 9535 normalized paths
    ('{"specialite": "RT", "competences": []}', "$['competences']"),
    ('{"specialite": "RT", "competences": {', "bad.json:1:"),
])
def test_malformed_json_names_the_path(tmp_path: Path, capsys: pytest.CaptureFixture, text: str, where: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(text, encoding="utf-8")
    assert _run(tmp_path, str(bad)) == 2
    assert where in capsys.readouterr().err
    assert not (tmp_path / "build").exists()


def test_formation_without_programme(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert _run(tmp_path, str(FIXTURES / "formation.xml")) == 2
    assert "import the référentiel de compétences first, or pass --programme" in capsys.readouterr().err
    assert not (tmp_path / "build").exists()
    assert _run(tmp_path, str(FIXTURES / "formation.xml"), "--programme", "but-demo") == 2
    assert "no référentiel de compétences of but-demo has been imported" in capsys.readouterr().err
    assert not (tmp_path / "build").exists()


def test_formation_with_two_programmes_needs_programme(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert _run(tmp_path, str(FIXTURES / "competences.xml")) == 0
    assert _run(tmp_path, str(RT_JSON)) == 0
    before = sorted(p.name for p in (tmp_path / "build" / "imports").iterdir())
    assert _run(tmp_path, str(FIXTURES / "formation.xml")) == 2
    assert "several BUT programmes are imported (but-demo, but-rt): pass --programme" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "build" / "imports").iterdir()) == before
    assert _run(tmp_path, str(FIXTURES / "formation.xml"), "--programme", "but-demo") == 0


def test_niveau_without_annee_in_a_parcours_competency(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    text = (FIXTURES / "competences.xml").read_text(encoding="utf-8")
    bad = tmp_path / "competences.xml"
    bad.write_text(text.replace('libelle="Sensibiliser aux risques" annee="BUT2"', 'libelle="Sensibiliser aux risques"'), encoding="utf-8")
    assert _run(tmp_path, str(bad)) == 2
    err = capsys.readouterr().err
    assert "niveau 1 of compétence 'Protéger' has no annee" in err and f"{bad}:" in err
    assert not (tmp_path / "build").exists()


def test_unknown_ac_in_formation(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert _run(tmp_path, str(FIXTURES / "competences.xml")) == 0
    bad = tmp_path / "formation.xml"
    bad.write_text((FIXTURES / "formation.xml").read_text(encoding="utf-8").replace("<ac>AC11.02</ac>", "<ac>AC19.99</ac>"), encoding="utf-8")
    assert _run(tmp_path, str(bad)) == 2
    assert "AC19.99 is not an AC of the référentiel de compétences of https://w3id.org/rkg/id/but-demo" in capsys.readouterr().err
    assert not (tmp_path / "build" / "imports" / "formation.nt").exists()


def test_reimport_replaces_whole(tmp_path: Path) -> None:
    """A failed re-import leaves the previous file as it was."""
    assert _run(tmp_path, str(FIXTURES / "competences.xml")) == 0
    target = tmp_path / "build" / "imports" / "competences.nt"
    before = target.read_bytes()
    bad = tmp_path / "x" / "competences.xml"
    bad.parent.mkdir()
    shutil.copy(FIXTURES / "competences.xml", bad)
    bad.write_text(bad.read_text(encoding="utf-8") + "<trailing/>", encoding="utf-8")
    assert _run(tmp_path, str(bad)) == 2
    assert target.read_bytes() == before
