"""The transcription against the seed document, both ways.

- Every line of the source is in the graph: its codes as notations, its text inside a literal.
- Nothing is invented: every French label transcribed from the source occurs in the source text
  (or, for the OCR-corrected dimensions, the raw text kept in rkg:sourceText does).
"""

from __future__ import annotations

import re

import pytest

from support.paths import SEED
from rkg.store import EmbeddedStore

TRANSCRIPTION = "https://w3id.org/rkg/graph/rncp31854-pif/2024-2028/referentiel"
# Column headings of the two tables and the image placeholder: layout, not statements.
LAYOUT = {
    "Intitulé du bloc de compétences", "Liste des compétences", "Dimensions génériques", "Compétences du bloc",
    "Apprentissages critiques", "Niveau", "Modalités d’évaluation", "UE", "[image: ]",
}
CODE = re.compile(r"^(?:· |\[image: \])?(RNCP\d{5}BC\d{2}|AC\.?\d+|C\.?\d\.\d|\d+)?[.\s]*")


def collapse(text: str) -> str:
    return " ".join(text.split())


def seed_lines() -> list[str]:
    return [collapse(line) for line in SEED.read_text(encoding="utf-8").splitlines() if collapse(line)]


@pytest.fixture(scope="module")
def literals(bundled_store: EmbeddedStore) -> list[str]:
    t = bundled_store.select(f"SELECT DISTINCT ?o WHERE {{ GRAPH <{TRANSCRIPTION}> {{ ?s ?p ?o FILTER(isLiteral(?o)) }} }}")
    return [collapse(v[0]) for v in t.values()]


@pytest.mark.parametrize("line", seed_lines())
def test_every_source_line_is_in_the_graph(literals: list[str], line: str) -> None:
    if line in LAYOUT:
        return
    m = CODE.match(line)
    code, rest = m.group(1), line[m.end():]
    if code and not code.isdigit():
        assert code in literals, f"code {code!r} is not a notation in the graph"
    rest = rest.removeprefix("[image: ]").strip()
    if rest:
        assert any(rest in lit for lit in literals), f"not transcribed: {rest!r}"


LABELS = """PREFIX rkg: <https://w3id.org/rkg/ontology#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?e ?text WHERE { GRAPH <%s> {
  VALUES ?c { rkg:Competency rkg:CriticalLearning rkg:CompetencyBlock rkg:EvaluationModality rkg:ProgrammeOutcome rkg:GenericDimension }
  ?e a ?c .
  { ?e rkg:sourceText ?text } UNION { ?e skos:prefLabel ?text FILTER NOT EXISTS { ?e rkg:sourceText ?raw } } UNION { ?e skos:altLabel ?text }
  FILTER(lang(?text) = "fr")
} }""" % TRANSCRIPTION


def test_nothing_invented(bundled_store: EmbeddedStore) -> None:
    source = collapse(SEED.read_text(encoding="utf-8"))
    rows = bundled_store.select(LABELS).values()
    assert len(rows) >= 14 + 36 + 4 + 20 + 10 + 10
    invented = [(e, text) for e, text in rows if text not in source]
    assert invented == []
