"""Check the graph with an OWL 2 DL reasoner (HermiT, through owlready2) and return what it infers.

The caller merges the ontology and the data into one rdflib graph; :func:`reason` hands it to HermiT
and answers whether it is consistent and which facts the reasoner adds.

What the reasoner loads, and why:

* owlready2 cannot read Turtle, so the graph is written as N-Triples to a temporary directory and
  loaded into a fresh owlready2 ``World`` (never the default world: no state outlives the call).
* HermiT accepts only literals of the OWL 2 datatype map: an ``xsd:date`` (or ``xsd:gYear`` …) in a
  data property assertion makes it abort. Such triples are set aside before reasoning and returned in
  :attr:`ReasoningResult.excluded`: the dates of the SSSOM mappings (``dcterms:created``, an ``xsd:date``
  as the SSSOM specification's RDF has it), annotations that change no entailment.
* OWL 2 axiom annotations (``owl:Axiom`` with ``owl:annotatedSource`` …, used by the interpretations
  and external facts) are kept: owlready2 reads them and passes them on to HermiT, which accepts them
  (checked with owlready2 0.51). Annotations do not change what is entailed.
* ``owl:imports`` triples are dropped: owlready2 would fetch the imported documents from the web,
  while the caller has already merged everything the reasoner must see.

What counts as inferred: after ``sync_reasoner`` the world's triples are read back through
``World.as_rdflib_graph()`` and compared with the input. Kept are the class memberships of named
individuals (HermiT realises individuals to their most specific classes, e.g.
``rkg:CriticalLearningAtM2``) and object property values between named resources that the input does
not state. owlready2 stores the property values HermiT reports, except those that are the inverse of
a stored triple (``rkg:competencyOf`` for an asserted ``rkg:hasCompetency``): it treats them as
implicit and its rdflib view yields them from ``owl:inverseOf``, for the properties loaded as Python
objects, which is why every object property is loaded before the view is read. Triples
with a blank node (class expressions, lists, axiom annotations) and trivial types (``owl:Thing``,
``owl:NamedIndividual``, the ontologies owlready2 creates) are dropped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import owlready2
from rdflib import BNode, Graph, Literal, URIRef

from rkg import formats
from rkg.errors import SetupError
from rkg.namespaces import OWL, PREFIXES, RDF, RDFS, XSD

JAVA_HINT = (
    "HermiT needs Java (a JRE ≥ 8): install it, e.g. `apt-get install default-jre-headless`, "
    "or set JAVA_HOME"
)

INCONSISTENT_MESSAGE = (
    "HermiT found the ontology and data inconsistent: no interpretation satisfies them all. Typical "
    "causes: an individual typed with two disjoint classes, or a functional property with two values "
    "that are distinct individuals."
)

# The OWL 2 datatype map (OWL 2 Structural Specification, section 4): the only literal datatypes
# HermiT parses. Literals without a datatype (plain or language-tagged) are always accepted.
OWL2_DATATYPES: frozenset[URIRef] = frozenset(
    {
        OWL.real,
        OWL.rational,
        RDF.PlainLiteral,
        RDF.XMLLiteral,
        RDF.langString,
        RDFS.Literal,
        *(
            XSD[name]
            for name in (
                "decimal integer nonNegativeInteger nonPositiveInteger positiveInteger negativeInteger "
                "long int short byte unsignedLong unsignedInt unsignedShort unsignedByte double float "
                "string normalizedString token language Name NCName NMTOKEN boolean hexBinary "
                "base64Binary anyURI dateTime dateTimeStamp"
            ).split()
        ),
    }
)

# Namespaces whose terms are never reported as inferred classes (owl:Thing, owl:NamedIndividual …).
_BUILTIN = (str(OWL), str(RDF), str(RDFS), str(XSD))


class ReasonerUnavailable(SetupError):
    """The reasoner cannot run on this machine (no Java)."""


@dataclass(frozen=True)
class ReasoningResult:
    """What HermiT says about a graph."""

    consistent: bool
    """False when no interpretation satisfies the ontology and the data."""
    inferred: Graph = field(default_factory=Graph)
    """Inferred class memberships of named individuals and object property values absent from the
    input. Empty when the graph is inconsistent."""
    message: str | None = None
    """Why the graph was found inconsistent; None when it is consistent."""
    excluded: Graph = field(default_factory=Graph)
    """Triples set aside before reasoning because HermiT cannot parse their literal's datatype."""


def find_java() -> str:
    """The java executable: ``$JAVA_HOME/bin/java`` if it exists, else ``java`` on PATH.

    Raises :class:`ReasonerUnavailable`, with the install hint, when there is none.
    """
    name = "java.exe" if os.name == "nt" else "java"
    java_home = os.environ.get("JAVA_HOME", "").strip()
    if java_home:
        candidate = Path(java_home) / "bin" / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    on_path = shutil.which("java")
    if on_path:
        return on_path
    if java_home:
        detail = f" (JAVA_HOME={java_home!r} has no bin/{name}, and no java on PATH)"
    else:
        detail = " (no java on PATH)"
    raise ReasonerUnavailable(JAVA_HINT + detail)


def reasoner_input(graph: Graph) -> tuple[Graph, Graph]:
    """Split ``graph`` into what HermiT loads and what is set aside (unsupported literal datatypes).

    ``owl:imports`` triples are dropped from both: the caller has merged what the reasoner must see.
    """
    kept, excluded = Graph(), Graph()
    for triple in graph:
        _, p, o = triple
        if p == OWL.imports:
            continue
        if isinstance(o, Literal) and o.datatype is not None and o.datatype not in OWL2_DATATYPES:
            excluded.add(triple)
        else:
            kept.add(triple)
    return kept, excluded


@contextmanager
def _java_exe(java: str) -> Iterator[None]:
    """Point owlready2 at ``java`` for the duration of one call (owlready2 reads a module setting)."""
    previous = owlready2.JAVA_EXE
    owlready2.JAVA_EXE = java
    try:
        yield
    finally:
        owlready2.JAVA_EXE = previous


def reason(graph: Graph) -> ReasoningResult:
    """Run HermiT on ``graph`` (ontology and data merged) and return consistency and inferred facts.

    Raises :class:`ReasonerUnavailable` when Java is missing, and owlready2's ``OwlReadyJavaError``
    when HermiT itself fails (for instance on a construct outside OWL 2 DL).
    """
    java = find_java()
    kept, excluded = reasoner_input(graph)

    with tempfile.TemporaryDirectory(prefix="rkg-reasoner-") as tmp:
        path = Path(tmp) / "input.nt"
        kept.serialize(destination=str(path), format=formats.N_TRIPLES, encoding="utf-8")
        world = owlready2.World()
        try:
            world.get_ontology(path.as_uri()).load()
            with _java_exe(java):
                try:
                    owlready2.sync_reasoner(world, infer_property_values=True, debug=0)
                except owlready2.OwlReadyInconsistentOntologyError:
                    return ReasoningResult(
                        consistent=False, inferred=Graph(), message=INCONSISTENT_MESSAGE, excluded=excluded
                    )
            inferred = _inferred(world, kept)
        finally:
            world.close()
    return ReasoningResult(consistent=True, inferred=inferred, message=None, excluded=excluded)


def _inferred(world: owlready2.World, given: Graph) -> Graph:
    """Facts about named resources in ``world`` (after reasoning) that ``given`` does not state."""
    object_properties = set(given.subjects(RDF.type, OWL.ObjectProperty))
    schema_kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, OWL.Ontology)
    schema = {s for kind in schema_kinds for s in given.subjects(RDF.type, kind)}
    # owlready2's rdflib view yields the inverse values it keeps implicit only for properties loaded
    # as Python entities: load them all (sync_reasoner loads those HermiT reports; this makes it sure).
    loaded = list(world.object_properties())

    inferred = Graph()
    for prefix, namespace in PREFIXES.items():
        inferred.bind(prefix, namespace)
    for triple in world.as_rdflib_graph():
        s, p, o = triple
        if isinstance(s, BNode) or not isinstance(o, URIRef) or triple in given:
            continue
        if p == RDF.type:
            if s in schema or str(o).startswith(_BUILTIN):
                continue
        elif p not in object_properties:
            continue
        inferred.add(triple)
    del loaded
    return inferred
