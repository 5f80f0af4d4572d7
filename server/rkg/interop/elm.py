"""European Learning Model v3 out, in the shape of its LOQ application profile (``tests/reference/elm/LOQ.ttl``).

The programme is an ``elm:Qualification`` with its title in French and English, its learning outcomes
(``elm:LearningOutcome``: one per competency and per critical learning, with ``elm:relatedESCOSkill`` for
the mapped ESCO skills), and how it is proven (``elm:provenBy``): one ``elm:LearningAssessmentSpecification``
per block, whose parts are the block's evaluation modalities. LOQ also requires the ISCED-F field, the EQF
level and the national (NQF) level, which the source does not give: they are read from the graph's
sourced « facts from outside the seed » (``rkg:iscedField``, ``rkg:eqfLevel``, ``rkg:nqfLevel``), never
made up; without them the export stops and says which is missing. Concepts are written with their labels,
notation and scheme as the graph holds them. Turtle.

A BUT (``rkg import orebut``): its compétences and critical learnings are the learning outcomes, and its
SAÉ (``rkg:LearningSituation``, an ``elm:LearningAssessmentSpecification`` in the ontology) are how it
is proven, one ``elm:LearningAssessmentSpecification`` each with its title. The ISCED-F field, EQF and NQF
levels must be stated as for any programme (an import does not state them).

Not carried: which block, compétence or niveau an outcome belongs to (ELM outcomes hang off the
qualification), the years of study, teaching units, generic dimensions, interpretations; a BUT's
niveaux de développement, parcours, composantes essentielles, situations professionnelles, ressources,
hours and coefficients.
"""

from __future__ import annotations

import pyoxigraph as ox

from ..errors import InputError
from ..namespaces import DCTERMS as DC
from ..namespaces import ELM, ESCO_DATA, PREFIXES, RDF_TYPE, RKG, SKOS, prologue
from ..store import Store
from .framework import Framework

E = str(ELM)
OUTSIDE = (("ISCEDFCode", RKG.iscedField), ("EQFLevel", RKG.eqfLevel), ("NQFLevel", RKG.nqfLevel))
CONCEPT = prologue("skos") + """SELECT ?p ?o WHERE { ?concept ?p ?o . VALUES ?p { skos:prefLabel skos:notation skos:inScheme } }"""
SAES = prologue("rkg", "skos") + """SELECT ?sae ?label WHERE { ?sae a rkg:LearningSituation ; rkg:inProgramme ?q OPTIONAL { ?sae skos:prefLabel ?label } }
ORDER BY ?sae"""
ESCO_SKILLS = prologue("skos") + f"""SELECT DISTINCT ?skill WHERE {{ ?entity skos:exactMatch|skos:closeMatch|skos:relatedMatch|skos:broadMatch|skos:narrowMatch ?skill .
  FILTER(STRSTARTS(STR(?skill), "{ESCO_DATA}skill/")) }}"""


class ElmError(InputError):
    """A fact LOQ requires is missing from the graph."""


def triples(fw: Framework, store: Store) -> list[ox.Triple]:
    out: list[ox.Triple] = []

    def add(s: str, p: str, o) -> None:
        out.append(ox.Triple(ox.NamedNode(s), ox.NamedNode(p), o))

    def titles(s: str, labels: dict[str, str]) -> None:
        for lang, text in sorted(labels.items()):
            if lang:
                add(s, DC + "title", ox.Literal(text, language=lang))

    q = fw.programme.iri
    add(q, RDF_TYPE, ox.NamedNode(E + "Qualification"))
    titles(q, fw.programme.labels)
    concepts: set[str] = set()
    for elm_property, rkg_property in OUTSIDE:
        values = [row[0] for row in store.select(f"SELECT ?v WHERE {{ ?q <{rkg_property}> ?v }}", {"q": ox.NamedNode(q)}).rows]
        if not values:
            raise ElmError(f"LOQ requires elm:{elm_property}, and the graph has no {rkg_property.split('#')[-1]} for <{q}>: "
                           "state it, with its reference, in the programme's external facts")
        for v in values:
            add(q, E + elm_property, v)
            concepts.add(v.value)
    for node in fw.nodes.values():
        if node.kind in ("competency", "learning"):
            add(q, E + "learningOutcome", ox.NamedNode(node.iri))
            add(node.iri, RDF_TYPE, ox.NamedNode(E + "LearningOutcome"))
            titles(node.iri, node.labels)
            for (skill,) in store.select(ESCO_SKILLS, {"entity": ox.NamedNode(node.iri)}).rows:
                add(node.iri, E + "relatedESCOSkill", skill)
                concepts.add(skill.value)
    for block in fw.blocks:
        spec = block.iri + "#assessment"
        add(q, E + "provenBy", ox.NamedNode(spec))
        add(spec, RDF_TYPE, ox.NamedNode(E + "LearningAssessmentSpecification"))
        titles(spec, {k: f"{block.code} — {v}" for k, v in block.labels.items()})
        add(spec, E + "proves", ox.NamedNode(q))
        for m in fw.children(block.iri, "modality"):
            add(spec, E + "hasPart", ox.NamedNode(m.iri))
            add(m.iri, RDF_TYPE, ox.NamedNode(E + "LearningAssessmentSpecification"))
            titles(m.iri, m.labels)
            add(m.iri, E + "isPartOf", ox.NamedNode(spec))
    saes: dict[str, dict[str, str]] = {}
    for sae, label in store.select(SAES, {"q": ox.NamedNode(q)}).rows:
        saes.setdefault(sae.value, {})
        if label is not None:
            saes[sae.value].setdefault(label.language or "", label.value)
    for sae, labels in saes.items():
        add(q, E + "provenBy", ox.NamedNode(sae))
        add(sae, RDF_TYPE, ox.NamedNode(E + "LearningAssessmentSpecification"))
        titles(sae, labels)
        add(sae, E + "proves", ox.NamedNode(q))
    schemes: set[str] = set()
    for c in sorted(concepts):
        add(c, RDF_TYPE, ox.NamedNode(SKOS + "Concept"))
        for p, o in store.select(CONCEPT, {"concept": ox.NamedNode(c)}).rows:
            if p.value == SKOS + "prefLabel" and not (isinstance(o, ox.Literal) and o.language):
                continue  # LOQ: labels are language-tagged
            add(c, p.value, o)
            if p.value == SKOS + "inScheme":
                schemes.add(o.value)
    for s in sorted(schemes):
        add(s, RDF_TYPE, ox.NamedNode(SKOS + "ConceptScheme"))
    return out


def export(fw: Framework, store: Store) -> str:
    return ox.serialize(triples(fw, store), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES).decode()
