"""Facts of the bundled référentiel, as read from the source document (not pasted from query output)."""

from __future__ import annotations

import pytest

from support.paths import PIF
from rkg.store import EmbeddedStore

P = "PREFIX rkg: <https://w3id.org/rkg/ontology#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX owl: <http://www.w3.org/2002/07/owl#> PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"

# ---------------------------------------------------------------- expected, from the seed

COMPETENCIES = {
    "BC01": {"C.1.1", "C.1.2", "C.1.3"},
    "BC02": {"C.2.1", "C.2.2", "C.2.3", "C.2.4"},
    "BC03": {"C.3.1", "C.3.2", "C.3.3", "C.3.4"},
    "BC04": {"C4.1", "C4.2", "C.4.3"},
}
ACS = {
    "BC01": {"AC1", "AC2", "AC3", "AC4", "AC5", "AC6", "AC7", "AC8"},
    "BC02": {"AC.1", "AC2", "AC3", "AC.4", "AC.5", "AC.6", "AC.7", "AC.8", "AC.9"},
    "BC03": {"AC.1", "AC.2", "AC.3", "AC.4", "AC.5", "AC.6", "AC.7", "AC.8", "AC.11"},
    "BC04": {f"AC.{n}" for n in range(1, 11)},
}
MODALITIES = {"BC01": 4, "BC02": 5, "BC03": 6, "BC04": 5}
UNITS = {
    "BC01": {"UE04", "UE06", "UE17", "UE19"},
    "BC02": {"UE03", "UE07", "UE08", "UE12", "UE13", "UE17", "UE18", "UE19"},
    "BC03": {"UE01", "UE02", "UE03", "UE06", "UE08", "UE09", "ECUE111", "ECUE171", "UE11", "UE12", "UE13", "UE18", "UE19", "UE22"},
    "BC04": {"UE02", "UE05", "UE08", "UE09", "UE10", "UE11", "UE14", "UE15", "UE16", "UE19", "UE22"},
}
# Dimensions by their position in the closing list (1 Acquérir…, 2 Produire…, 3 Élaborer une démarche…,
# 4 Utiliser la langue…, 5 Communication spécialisée…, 6 Projets…, 7 Usages numériques…, 8 Interculturelles…,
# 9 Projet personnel…, 10 Contribuer à la transformation…).
DIMENSIONS = {"BC01": {1}, "BC02": {1, 2, 8}, "BC03": {2, 3, 4, 6, 7}, "BC04": {1, 2, 3, 4, 9}}
UNCOVERED = {5, 10}
LEVEL_COLUMNS = {
    "BC01": ["M1", "M1", "M1", "M1-M2", "M2", "M1", "M1", "M1-M2"],
    "BC02": ["M1-M2", "M1-M2", "M1-M2", "M1-M2", "M2", "M1", "M1-M2", "M1", "M1"],
    "BC03": ["M2", "M2", "M2", "M1-M2"],
    "BC04": ["M1-M2", "M1-M2", "M1-M2", "M1-M2", "M1-M2", "M2", "M1-M2", "M2", "M2"],
}
BLOCKS = {
    "BC01": "Diagnostic et prospective en formation",
    "BC02": "Conception, design pédagogique et mise en œuvre",
    "BC03": "Formation et accompagnement professionnel",
    "BC04": "Développement et communication autour de l’expérience professionnelle",
}


def block(short: str) -> str:
    return f"{PIF}/block/{short}"


def values(store: EmbeddedStore, query: str, **bindings: str) -> set[str]:
    import pyoxigraph as ox

    t = store.select(P + query, {k: ox.NamedNode(v) for k, v in bindings.items()})
    return {r[0] for r in t.values()}


# ---------------------------------------------------------------- per block


@pytest.mark.parametrize("short", sorted(BLOCKS))
def test_block_title_and_codes(bundled_store: EmbeddedStore, short: str) -> None:
    assert values(bundled_store, "SELECT ?l WHERE { ?b skos:prefLabel ?l FILTER(lang(?l)='fr') }", b=block(short)) == {BLOCKS[short]}
    assert values(bundled_store, "SELECT ?n WHERE { ?b skos:notation ?n }", b=block(short)) == {f"RNCP31854{short}"}
    official = values(bundled_store, "SELECT ?o WHERE { ?b rkg:rncpBlock ?o }", b=block(short))
    assert official == {f"https://w3id.org/rkg/id/rncp/RNCP31854{short}"}


@pytest.mark.parametrize("short", sorted(BLOCKS))
def test_competencies_of_block(bundled_store: EmbeddedStore, short: str) -> None:
    assert values(bundled_store, "SELECT ?n WHERE { ?b rkg:hasCompetency/skos:notation ?n }", b=block(short)) == COMPETENCIES[short]


@pytest.mark.parametrize("short", sorted(BLOCKS))
def test_critical_learnings_of_block(bundled_store: EmbeddedStore, short: str) -> None:
    assert values(bundled_store, "SELECT ?n WHERE { ?b rkg:hasCriticalLearning/skos:notation ?n }", b=block(short)) == ACS[short]


@pytest.mark.parametrize("short", sorted(BLOCKS))
def test_modalities_of_block(bundled_store: EmbeddedStore, short: str) -> None:
    numbers = values(bundled_store, "SELECT ?n WHERE { ?b rkg:assessedBy/rkg:sourceNumber ?n }", b=block(short))
    assert numbers == {str(i) for i in range(1, MODALITIES[short] + 1)}


@pytest.mark.parametrize("short", sorted(BLOCKS))
def test_units_of_block_are_the_codes_the_source_gives(bundled_store: EmbeddedStore, short: str) -> None:
    assert values(bundled_store, "SELECT ?n WHERE { ?u rkg:contributesTo ?b ; skos:notation ?n }", b=block(short)) == UNITS[short]


@pytest.mark.parametrize("short", sorted(BLOCKS))
def test_dimensions_of_block(bundled_store: EmbeddedStore, short: str) -> None:
    got = values(bundled_store, "SELECT ?n WHERE { ?b rkg:mobilisesDimension/rkg:sourceNumber ?n }", b=block(short))
    assert got == {str(n) for n in DIMENSIONS[short]}


@pytest.mark.parametrize("short", sorted(BLOCKS))
def test_level_column_kept_as_written_in_order(bundled_store: EmbeddedStore, short: str) -> None:
    t = bundled_store.select(P + "SELECT ?pos ?v WHERE { ?b rkg:hasLevelColumnEntry ?e . ?e rkg:position ?pos ; rkg:valueAsWritten ?v } ORDER BY ?pos",
                             {"b": __import__("pyoxigraph").NamedNode(block(short))})
    assert [v for _, v in t.values()] == LEVEL_COLUMNS[short]


# ---------------------------------------------------------------- programme-wide


def test_totals(bundled_store: EmbeddedStore) -> None:
    count = lambda cls: len(values(bundled_store, f"SELECT ?x WHERE {{ ?x a rkg:{cls} ; rkg:inProgramme ?p }}", p=PIF))  # noqa: E731
    assert count("CompetencyBlock") == 4
    assert count("Competency") == 14
    assert count("CriticalLearning") == 36
    assert count("EvaluationModality") == 20
    assert count("TeachingUnit") == 20  # UE01–UE19 and UE22 (UE20, UE21 are not in the source)
    assert count("TeachingUnitElement") == 2
    assert count("GenericDimension") == 10
    assert count("ProgrammeOutcome") == 10


def test_uncovered_dimensions(bundled_store: EmbeddedStore) -> None:
    got = values(bundled_store, """SELECT ?n WHERE { ?d a rkg:GenericDimension ; rkg:inProgramme ?p ; rkg:sourceNumber ?n
                                   FILTER NOT EXISTS { ?b rkg:mobilisesDimension ?d } }""", p=PIF)
    assert got == {str(n) for n in UNCOVERED}


def test_six_dimensions_announced_ten_listed(bundled_store: EmbeddedStore) -> None:
    assert values(bundled_store, "SELECT ?n WHERE { ?p rkg:dimensionList/rkg:announcedDimensionCount ?n }", p=PIF) == {"6"}
    assert len(values(bundled_store, "SELECT ?d WHERE { ?p rkg:dimensionList ?l . ?d skos:inScheme ?l }", p=PIF)) == 10


def test_programme_identity(bundled_store: EmbeddedStore) -> None:
    assert values(bundled_store, "SELECT ?m WHERE { ?p rkg:mention ?m FILTER(lang(?m)='fr') }", p=PIF) == {"Pratiques et ingénierie de la formation"}
    assert values(bundled_store, "SELECT ?m WHERE { ?p rkg:parcours ?m FILTER(lang(?m)='fr') }", p=PIF) == {"ingénieur de formation et formateur d’adultes"}
    assert values(bundled_store, "SELECT ?n WHERE { ?p rkg:rncpNumber ?n }", p=PIF) == {"RNCP31854"}
    assert values(bundled_store, "SELECT ?v WHERE { ?v rkg:versionOf ?p ; rkg:offerPeriod '2024-2028' }", p=PIF) == {f"{PIF}/version/2024-2028"}


def test_external_facts_are_apart_and_sourced(bundled_store: EmbeddedStore) -> None:
    q = """SELECT ?g WHERE { GRAPH ?g { ?p rkg:eqfLevel <http://data.europa.eu/snb/eqf/7> }
                           ?a owl:annotatedSource ?p ; owl:annotatedProperty rkg:eqfLevel ; dcterms:bibliographicCitation ?c }"""
    assert values(bundled_store, q, p=PIF) == {"https://w3id.org/rkg/graph/rncp31854-pif/external-facts"}


# ---------------------------------------------------------------- levels: stated vs not stated

LEVELS_BY_POSITION = {
    (s, ac): lv for s in ("BC01", "BC02") for ac, lv in zip(
        ["AC1", "AC2", "AC3", "AC4", "AC5", "AC6", "AC7", "AC8"] if s == "BC01"
        else ["AC.1", "AC2", "AC3", "AC.4", "AC.5", "AC.6", "AC.7", "AC.8", "AC.9"],
        LEVEL_COLUMNS[s])
}


def test_levels_attributed_where_certain(bundled_store: EmbeddedStore) -> None:
    t = bundled_store.select(P + """SELECT ?b ?ac (GROUP_CONCAT(?l; separator="-") AS ?lv) WHERE {
        ?blk skos:notation ?b ; rkg:hasCriticalLearning ?a . ?a skos:notation ?ac ; rkg:atStudyLevel/skos:notation ?l
        } GROUP BY ?b ?ac""")
    got = {(b[-4:], ac): "-".join(sorted(lv.split("-"))) for b, ac, lv in t.values()}
    assert got == LEVELS_BY_POSITION


def test_levels_marked_not_stated_in_bc03_bc04(bundled_store: EmbeddedStore) -> None:
    got = values(bundled_store, "SELECT ?a WHERE { ?a rkg:levelStatus rkg:LevelNotStatedInSource FILTER NOT EXISTS { ?a rkg:atStudyLevel ?l } }")
    expected = {f"{block(s)}/ac/{ac}" for s in ("BC03", "BC04") for ac in ACS[s]}
    assert got == expected
    notes = values(bundled_store, "SELECT ?b WHERE { ?b rkg:levelNote ?n }")
    assert notes == {block("BC03"), block("BC04")}


def test_positional_levels_are_interpretations_with_reason(bundled_store: EmbeddedStore) -> None:
    q = """SELECT ?a WHERE { GRAPH <https://w3id.org/rkg/graph/rncp31854-pif/2024-2028/interpretations> { ?a rkg:atStudyLevel ?l }
             ?ax owl:annotatedSource ?a ; owl:annotatedProperty rkg:atStudyLevel ; owl:annotatedTarget ?l ; rdfs:comment ?why ;
                 <http://www.w3.org/ns/prov#wasDerivedFrom> ?entry . ?entry a rkg:LevelColumnEntry }"""
    assert len(values(bundled_store, q)) == 17
    transcribed = "SELECT ?a WHERE { GRAPH <https://w3id.org/rkg/graph/rncp31854-pif/2024-2028/referentiel> { ?a rkg:atStudyLevel ?l } }"
    assert values(bundled_store, transcribed) == set()


# ---------------------------------------------------------------- special cases of the source


def test_modality_naming_a_competency(bundled_store: EmbeddedStore) -> None:
    got = values(bundled_store, "SELECT ?m WHERE { ?m rkg:assessesCompetency ?c }", c=f"{PIF}/competency/C.3.1")
    assert got == {f"{block('BC03')}/modality/1"}
    assert len(values(bundled_store, "SELECT ?m WHERE { ?m rkg:assessesCompetency ?c }")) == 1


def test_ecue_part_of_ue_is_a_marked_interpretation(bundled_store: EmbeddedStore) -> None:
    q = """SELECT ?pair WHERE { GRAPH <https://w3id.org/rkg/graph/rncp31854-pif/2024-2028/interpretations> { ?e rkg:isPartOfUnit ?u }
             ?ax owl:annotatedSource ?e ; owl:annotatedProperty rkg:isPartOfUnit ; owl:annotatedTarget ?u ; rdfs:comment ?why .
             ?e skos:notation ?en . ?u skos:notation ?un BIND(CONCAT(?en, ">", ?un) AS ?pair) }"""
    assert values(bundled_store, q) == {"ECUE111>UE11", "ECUE171>UE17"}


def test_bc03_jumps_from_ac8_to_ac11(bundled_store: EmbeddedStore) -> None:
    got = values(bundled_store, "SELECT ?n WHERE { ?b rkg:hasCriticalLearning/rkg:sourceNumber ?n }", b=block("BC03"))
    assert got == {"1", "2", "3", "4", "5", "6", "7", "8", "11"}


def test_competency_codes_exactly_as_written(bundled_store: EmbeddedStore) -> None:
    iris = values(bundled_store, "SELECT ?c WHERE { ?b rkg:hasCompetency ?c }", b=block("BC04"))
    assert iris == {f"{PIF}/competency/C4.1", f"{PIF}/competency/C4.2", f"{PIF}/competency/C.4.3"}


def test_dimension_wordings(bundled_store: EmbeddedStore) -> None:
    d = lambda n: f"{PIF}/dimension/{n}"  # noqa: E731
    pref = "SELECT ?l WHERE { ?d skos:prefLabel ?l FILTER(lang(?l)='fr') }"
    alt = "SELECT ?l WHERE { ?d skos:altLabel ?l }"
    assert values(bundled_store, pref, d=d(7)) == {"Mettre en œuvre les usages avancés et spécialisés des outils numériques"}
    assert values(bundled_store, alt, d=d(7)) == {"Mettre en oeuvre des usages avancés et spécialisés des outils numériques"}
    assert values(bundled_store, pref, d=d(9)) == {"Construire son projet personnel et professionnel de façon autonome"}
    assert values(bundled_store, "SELECT ?t WHERE { ?d rkg:sourceText ?t }", d=d(9)) == {"Construire son projet personnel et professionnel de fagon autonome"}
    assert values(bundled_store, pref, d=d(3)) == {"Élaborer une démarche scientifique en développant le sens critique et l’ouverture d’esprit"}
    assert values(bundled_store, alt, d=d(3)) == set()  # the block table already writes it this way
    corrected = values(bundled_store, "SELECT ?d WHERE { ?d a rkg:GenericDimension ; rkg:sourceText ?t ; skos:editorialNote ?n }")
    assert corrected == {d(n) for n in (1, 3, 5, 6, 7, 8, 9, 10)}


# ---------------------------------------------------------------- every entity: labels and provenance

ENTITY = "?e rkg:inProgramme ?p . ?e a ?c . FILTER(?c != rkg:LevelColumnEntry)"


def test_every_entity_has_french_and_english_labels(bundled_store: EmbeddedStore) -> None:
    for lang in ("fr", "en"):
        missing = values(bundled_store, f"SELECT ?e WHERE {{ {{ {ENTITY} }} UNION {{ BIND(?p AS ?e) }} FILTER NOT EXISTS {{ ?e skos:prefLabel ?l FILTER(lang(?l) = '{lang}') }} }}", p=PIF)
        assert missing == set(), f"no {lang} label: {sorted(missing)[:5]}"


def test_every_entity_points_to_the_source_document(bundled_store: EmbeddedStore) -> None:
    missing = values(bundled_store, "SELECT ?e WHERE { ?e rkg:inProgramme ?p FILTER NOT EXISTS { ?e dcterms:source ?s . ?s a rkg:SourceDocument } }", p=PIF)
    assert missing == set()
    rights = values(bundled_store, "SELECT ?r WHERE { ?s a rkg:SourceDocument ; dcterms:rights ?r FILTER(lang(?r)='en') }")
    assert len(rights) == 1 and "university" in next(iter(rights))
