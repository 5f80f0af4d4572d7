"""The ESCO mapping set (data/mappings/*.sssom.tsv) as the build turns it into RDF: SKOS mapping triples,
each annotated with its SSSOM row; every competency covered; only ESCO URIs that exist.

"Exist" means listed in tests/reference/esco.md (its verified tables) or present in the ESCO 1.2.0
CSV files of tests/reference/esco-1.2.0/ (the same rule the curators followed).
"""

from __future__ import annotations

import csv
import re

import pyoxigraph as ox
import pytest

from rkg.interop.sssom import SssomError, read
from support.paths import PIF, REFERENCE, ROOT

MAPPINGS = ROOT / "data" / "mappings" / "rncp31854-pif-esco.sssom.tsv"
GRAPH = "https://w3id.org/rkg/graph/mappings/rncp31854-pif-esco"
SET = "https://w3id.org/rkg/mappings/rncp31854-pif-esco"
"""The mapping set: its ``mapping_set_id``, a full URI as SSSOM wants it."""
PREFIXES = """PREFIX rkg: <https://w3id.org/rkg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX sssom: <https://w3id.org/sssom/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX pav: <http://purl.org/pav/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""


def known_esco_uris() -> set[str]:
    text = (REFERENCE / "esco.md").read_text(encoding="utf-8")
    uris = set(re.findall(r"http://data\.europa\.eu/esco/[\w/.-]+[\w]", text))
    section = None
    for line in text.splitlines():  # table rows give ids under the prefix stated above the table
        m = re.search(r"Prefix `(http://data\.europa\.eu/esco/\w+/)`", line)
        section = m.group(1) if m else section
        row = re.match(r"\| ([0-9a-f-]{36}) \|", line)
        if row and section:
            uris.add(section + row.group(1))
    folder = REFERENCE / "esco-1.2.0"
    for name in ("occupations_en.csv", "skillGroups_en.csv", "broaderRelationsSkillPillar_en.csv", "skillSkillRelations_en.csv"):
        for r in csv.DictReader((folder / name).open(encoding="utf-8")):
            uris.update(v for k, v in r.items() if k in ("conceptUri", "broaderUri", "originalSkillUri", "relatedSkillUri"))
            if name == "occupations_en.csv":
                uris.add(f"http://data.europa.eu/esco/isco/C{r['iscoGroup']}")
    return uris


def rows(bundled_store) -> list[tuple]:
    """One row per mapping, as SSSOM/RDF writes it: an axiom of the set (``sssom:mappings``)."""
    return bundled_store.select(PREFIXES + f"""SELECT ?s ?p ?o ?confidence ?justification ?version ?comment WHERE {{
        GRAPH <{GRAPH}> {{ <{SET}> sssom:mappings ?ax .
            ?ax a owl:Axiom ; owl:annotatedSource ?s ; owl:annotatedProperty ?p ; owl:annotatedTarget ?o ;
            sssom:confidence ?confidence ; sssom:mapping_justification ?justification ;
            sssom:object_source_version ?version ; rdfs:comment ?comment ;
            pav:authoredBy <https://w3id.org/rkg/maintainers> ; dcterms:created "2026-11-29"^^xsd:date }} }}""").values()


def test_one_annotated_axiom_per_row(bundled_store) -> None:
    table = [ln for ln in MAPPINGS.read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")][1:]
    got = rows(bundled_store)
    assert len(got) == len(table)
    for s, p, o, confidence, justification, version, comment in got:
        assert 0.0 <= float(confidence) <= 1.0 and comment
        assert justification == "https://w3id.org/semapv/vocab/ManualMappingCuration"
        assert version == "ESCO v1.2.0"  # the ESCO version travels with every mapping


def test_mapping_triples_except_for_no_term_found(bundled_store) -> None:
    got = rows(bundled_store)
    real = {(s, p, o) for s, p, o, *_ in got if o != "https://w3id.org/sssom/NoTermFound"}
    triples = set(bundled_store.select(PREFIXES + f"SELECT ?s ?p ?o WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o FILTER(STRSTARTS(STR(?p), STR(skos:))) }} }}").values())
    assert triples == real
    assert not any(o == "https://w3id.org/sssom/NoTermFound" for _, _, o in triples)


def test_every_competency_has_a_row(bundled_store) -> None:
    competencies = {r[0] for r in bundled_store.select(PREFIXES + f"SELECT ?c WHERE {{ ?c a rkg:Competency ; rkg:inProgramme <{PIF}> }}").values()}
    assert len(competencies) == 14
    assert competencies <= {s for s, *_ in rows(bundled_store)}
    no_term = {s for s, _, o, *_ in rows(bundled_store) if o == "https://w3id.org/sssom/NoTermFound"}
    assert no_term == {PIF + "/competency/C.2.3", PIF + "/competency/C.4.3", PIF + "/competency/C4.1", PIF + "/competency/C4.2"}


def test_only_esco_uris_that_exist(bundled_store) -> None:
    known = known_esco_uris()
    assert "http://data.europa.eu/esco/skill/4dafe480-f2ae-46b5-bd5e-8d4e538f50c7" in known  # the table reader works
    objects = {o for _, _, o, *_ in rows(bundled_store) if o != "https://w3id.org/sssom/NoTermFound"}
    assert objects and all(o.startswith("http://data.europa.eu/esco/") for o in objects)
    assert objects - known == set()


def test_subjects_are_entities_of_the_graph(bundled_store) -> None:
    subjects = {s for s, *_ in rows(bundled_store)}
    typed = {r[0] for r in bundled_store.select("SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s a ?c } FILTER(?g != <%s>) }" % GRAPH).values()}
    assert subjects <= typed


def test_mapping_set_metadata(bundled_store) -> None:
    (row,) = bundled_store.select(PREFIXES + f"""SELECT ?set ?license ?version ?created WHERE {{ GRAPH <{GRAPH}> {{
        ?set a sssom:MappingSet ; dcterms:license ?license ; owl:versionInfo ?version ; dcterms:created ?created }} }}""").values()
    assert row == (SET, "https://creativecommons.org/licenses/by/4.0/", "2026-11-29", "2026-11-29")


# Terms of the RDF before SSSOM/RDF was specified, and set slots the build writes propagated (on each mapping).
NOT_IN_THE_GRAPH = ["sssom:author_id", "sssom:mapping_date", "dcterms:isPartOf", "sssom:mapping_set_id"]
NOT_ON_THE_SET = ["sssom:object_source", "sssom:object_source_version", "sssom:subject_source"]


@pytest.mark.parametrize("prop", NOT_IN_THE_GRAPH)
def test_no_pre_standard_terms(bundled_store, prop: str) -> None:
    assert not bundled_store.ask(PREFIXES + f"ASK {{ GRAPH <{GRAPH}> {{ ?s {prop} ?o }} }}")


@pytest.mark.parametrize("prop", NOT_ON_THE_SET)
def test_propagated_slots_are_on_the_mappings(bundled_store, prop: str) -> None:
    assert not bundled_store.ask(PREFIXES + f"ASK {{ GRAPH <{GRAPH}> {{ <{SET}> {prop} ?o }} }}")
    assert len(rows(bundled_store)) == len(bundled_store.select(
        PREFIXES + f"SELECT ?ax WHERE {{ GRAPH <{GRAPH}> {{ <{SET}> sssom:mappings ?ax . ?ax {prop} ?o }} }}").values())


@pytest.mark.parametrize("query", ["qc/competency-without-esco-mapping"])
def test_qc_holds_on_the_bundled_graph(catalog, bundled_store, query: str) -> None:
    from rkg.catalog import run

    assert run(bundled_store, catalog.get(query)).rows == []


# ---------------------------------------------------------------- the reader's SSSOM/RDF, on small sets

HEAD = "# curie_map:\n#   ex: https://example.org/\n# mapping_set_id: https://example.org/set\n# license: https://creativecommons.org/licenses/by/4.0/\n"
ROW = {"subject_id": "ex:a", "predicate_id": "skos:exactMatch", "object_id": "ex:b",
       "mapping_justification": "semapv:ManualMappingCuration", "confidence": "0.5"}

# case: (extra metadata lines, extra columns of the one row, expected (subject, property, object) triples,
# where "set" and "axiom" stand for the set and the row's axiom, and literals are their N-Triples forms).
READ_CASES = {
    "set-date-propagated": ("# mapping_date: 2026-01-02\n", {},
                            {("axiom", "http://purl.org/dc/terms/created", '"2026-01-02"^^<http://www.w3.org/2001/XMLSchema#date>')}),
    "row-date-keeps-set-date": ("# mapping_date: 2026-01-02\n", {"mapping_date": "2026-01-03"},
                                {("set", "http://purl.org/dc/terms/created", '"2026-01-02"^^<http://www.w3.org/2001/XMLSchema#date>'),
                                 ("axiom", "http://purl.org/dc/terms/created", '"2026-01-03"^^<http://www.w3.org/2001/XMLSchema#date>')}),
    "authors-multivalued": ("", {"author_id": "ex:p1|ex:p2"},
                            {("axiom", "http://purl.org/pav/authoredBy", "<https://example.org/p1>"),
                             ("axiom", "http://purl.org/pav/authoredBy", "<https://example.org/p2>")}),
    "set-creator": ("# creator_id:\n#   - ex:p1\n", {},
                    {("set", "http://purl.org/dc/terms/creator", "<https://example.org/p1>")}),
    "confidence-double": ("", {}, {("axiom", "https://w3id.org/sssom/confidence", '"0.5"^^<http://www.w3.org/2001/XMLSchema#double>')}),
    "comment-plain": ("", {"comment": "why"}, {("axiom", "http://www.w3.org/2000/01/rdf-schema#comment", '"why"')}),
    "set-links-axiom": ("", {}, {("set", "https://w3id.org/sssom/mappings", "axiom")}),
    # xsd:date and xsd:double lexical forms beyond the plainest, written as they are.
    "date-timezone": ("", {"mapping_date": "2026-01-02+01:00"},
                      {("axiom", "http://purl.org/dc/terms/created", '"2026-01-02+01:00"^^<http://www.w3.org/2001/XMLSchema#date>')}),
    "date-leap-day": ("", {"review_date": "2024-02-29Z"},
                      {("axiom", "https://w3id.org/sssom/review_date", '"2024-02-29Z"^^<http://www.w3.org/2001/XMLSchema#date>')}),
    "double-exponent": ("", {"confidence": "5E-1", "similarity_score": ".25"},
                        {("axiom", "https://w3id.org/sssom/confidence", '"5E-1"^^<http://www.w3.org/2001/XMLSchema#double>'),
                         ("axiom", "https://w3id.org/sssom/similarity_score", '".25"^^<http://www.w3.org/2001/XMLSchema#double>')}),
    "agreement-negative": ("", {"reviewer_agreement": "-1.0"},
                           {("axiom", "https://w3id.org/sssom/reviewer_agreement", '"-1.0"^^<http://www.w3.org/2001/XMLSchema#double>')}),
}
READ_ABSENT = {
    # propagated to the axiom, the set's date is not also kept on the set
    "set-date-propagated": {("set", "http://purl.org/dc/terms/created", '"2026-01-02"^^<http://www.w3.org/2001/XMLSchema#date>')},
}
"""case of READ_CASES → triples (written as there) that must not be read."""
READ_ERRORS = {
    "bad-row-date": ("", {"mapping_date": "29/11/2026"}, "column mapping_date: '29/11/2026' is not a date (YYYY-MM-DD)"),
    "bad-set-date": ("# mapping_date: soon\n", {}, "column mapping_date: 'soon' is not a date (YYYY-MM-DD)"),
    "bad-score": ("", {"similarity_score": "high"}, "column similarity_score: 'high' is not a number"),
    # Python reads these as dates or numbers; xsd:date and xsd:double do not have them as lexical forms.
    "date-basic-format": ("", {"mapping_date": "20240101"}, "column mapping_date: '20240101' is not a date (YYYY-MM-DD)"),
    "date-week": ("", {"mapping_date": "2024-W01-1"}, "column mapping_date: '2024-W01-1' is not a date (YYYY-MM-DD)"),
    "date-ordinal": ("", {"review_date": "2024-001"}, "column review_date: '2024-001' is not a date (YYYY-MM-DD)"),
    "date-time": ("", {"mapping_date": "2024-01-01T00:00:00"}, "column mapping_date: '2024-01-01T00:00:00' is not a date (YYYY-MM-DD)"),
    "date-not-a-day": ("", {"mapping_date": "2023-02-29"}, "column mapping_date: '2023-02-29' is not a date (YYYY-MM-DD)"),
    "date-month-13": ("", {"mapping_date": "2024-13-01"}, "column mapping_date: '2024-13-01' is not a date (YYYY-MM-DD)"),
    "date-bad-timezone": ("", {"mapping_date": "2024-01-01+15:00"}, "column mapping_date: '2024-01-01+15:00' is not a date (YYYY-MM-DD)"),
    "set-date-unquoted-number": ("# publication_date: 20240101\n", {}, "column publication_date: '20240101' is not a date (YYYY-MM-DD)"),
    "score-python-nan": ("", {"similarity_score": "nan"}, "column similarity_score: 'nan' is not a number"),
    "score-python-infinity": ("", {"similarity_score": "Infinity"}, "column similarity_score: 'Infinity' is not a number"),
    "score-underscore": ("", {"similarity_score": "1_0"}, "column similarity_score: '1_0' is not a number"),
    "score-other-digits": ("", {"similarity_score": "\u0660.5"}, "column similarity_score: '\u0660.5' is not a number"),
    # xsd:double has NaN and INF, the schema bounds every number slot: refused as out of bounds.
    "score-nan": ("", {"similarity_score": "NaN"}, "column similarity_score: 'NaN' is not between 0 and 1"),
    "score-above-one": ("", {"similarity_score": "1.5"}, "column similarity_score: '1.5' is not between 0 and 1"),
    "agreement-inf": ("", {"reviewer_agreement": "-INF"}, "column reviewer_agreement: '-INF' is not between -1 and 1"),
    "set-confidence-inf": ("# mapping_set_confidence: INF\n", {}, "column mapping_set_confidence: 'INF' is not between 0 and 1"),
    "confidence-nan": ("", {"confidence": "NaN"}, "column confidence: 'NaN' is not a confidence between 0 and 1"),
    "confidence-python-nan": ("", {"confidence": "nan"}, "column confidence: 'nan' is not a confidence between 0 and 1"),
    "confidence-underscore": ("", {"confidence": "0_5"}, "column confidence: '0_5' is not a confidence between 0 and 1"),
}


def read_small(tmp_path, meta: str, extra: dict[str, str]) -> list[ox.Quad]:
    row = {**ROW, **extra}
    path = tmp_path / "small.sssom.tsv"
    path.write_text(HEAD + meta + "\t".join(row) + "\n" + "\t".join(row.values()) + "\n", encoding="utf-8")
    return read(path, "small.sssom.tsv", ox.NamedNode("https://example.org/graph"))


@pytest.mark.parametrize("case", sorted(READ_CASES))
def test_reader_writes_sssom_rdf(tmp_path, case: str) -> None:
    meta, extra, expected = READ_CASES[case]
    quads = read_small(tmp_path, meta, extra)
    (axiom,) = {q.subject for q in quads if q.object.value == "http://www.w3.org/2002/07/owl#Axiom"}
    names = {"<https://example.org/set>": "set", str(axiom): "axiom"}
    got = {(names.get(str(q.subject), str(q.subject)), q.predicate.value, names.get(str(q.object), str(q.object))) for q in quads}
    assert expected <= got
    assert not READ_ABSENT.get(case, set()) & got


@pytest.mark.parametrize("case", sorted(READ_ERRORS))
def test_reader_refuses(tmp_path, case: str) -> None:
    meta, extra, message = READ_ERRORS[case]
    with pytest.raises(SssomError) as e:
        read_small(tmp_path, meta, extra)
    assert e.value.message == message and e.value.line and e.value.column
