"""Every vocabulary the project uses, and the one rule that mints instance and graph IRIs.

This module is the one home of the vocabulary IRIs: other modules import the namespaces from here and
never write them again. Each is an rdflib ``Namespace``, a ``str`` subclass: ``SKOS.prefLabel`` and
``SKOS["prefLabel"]`` are rdflib ``URIRef`` terms; ``SKOS + "prefLabel"`` and ``f"<{SKOS}prefLabel>"`` are
plain strings, as the streaming importers that write N-Triples need them (rdflib's own ``DefinedNamespace``
classes are not strings: ``+`` on them makes a ``URIRef``, which compares unequal to a ``str``). A term
named like a ``str`` method (``dcterms:format``) is written ``DCTERMS["format"]``.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import quote

from rdflib import Namespace

# W3C and other general vocabularies.
RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
PROV = Namespace("http://www.w3.org/ns/prov#")
SH = Namespace("http://www.w3.org/ns/shacl#")
VANN = Namespace("http://purl.org/vocab/vann/")
VOID = Namespace("http://rdfs.org/ns/void#")
PROF = Namespace("http://www.w3.org/ns/dx/prof/")
"""The Profiles Vocabulary (``prof:Profile``: what a validation profile is)."""
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
"""SPARQL 1.1 Service Description (the endpoint's description)."""
SSSOM = Namespace("https://w3id.org/sssom/")
SEMAPV = Namespace("https://w3id.org/semapv/vocab/")
"""Semantic mapping vocabulary: the justifications of SSSOM mappings (``semapv:ManualMappingCuration``)."""
PAV = Namespace("http://purl.org/pav/")
"""Provenance, Authoring and Versioning: ``pav:authoredBy``, the SSSOM slot ``author_id`` in RDF."""

RDF_TYPE = RDF + "type"
"""``rdf:type`` as a plain string, for the writers that build terms from strings."""
RDF_LANGSTRING = RDF + "langString"

BASE = "https://w3id.org/rkg/"
ONTOLOGY_IRI = BASE + "ontology"
RKG = Namespace(ONTOLOGY_IRI + "#")
ID = Namespace(BASE + "id/")
GRAPH = Namespace(BASE + "graph/")
RNCP = Namespace(BASE + "id/rncp/")
PROFILE = Namespace(BASE + "profile/")
"""Profiles a programme declares with ``dcterms:conformsTo`` (``…/profile/but-apc``: described as a BUT)."""
QC = BASE + "qc/"
"""rkg's quality-control queries (``queries/qc``): ``QC + name`` names one in a validation report."""
QC_COMPONENT = QC + "QueryConstraintComponent"
"""The sh:sourceConstraintComponent of a QC row in the Turtle validation report (rkg's own constraint
component: a QC query is a SPARQL SELECT run by rkg, not a ``sh:sparql`` constraint of a shape)."""
ELM = Namespace("http://data.europa.eu/snb/model/elm/")
CEASN = Namespace("https://purl.org/ctdlasn/terms/")
CETERMS = Namespace("https://purl.org/ctdl/terms/")
ESCO_DATA = Namespace("http://data.europa.eu/esco/")
"""ESCO's concepts (``…/esco/skill/…``, ``…/esco/isco/C2512``, ``…/esco/skill-type/skill``)."""
ESCO = Namespace(ESCO_DATA + "model#")
"""ESCO's model (``esco:Occupation``, ``esco:relatedEssentialSkill``)."""
EQF = Namespace("http://data.europa.eu/snb/eqf/")
ISCED_F = Namespace("http://data.europa.eu/snb/isced-f/")

PREFIXES: dict[str, str] = {
    "rkg": str(RKG),
    "rkgid": str(ID),
    "rkgg": str(GRAPH),
    "rncp": str(RNCP),
    "owl": str(OWL),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "prov": str(PROV),
    "sh": str(SH),
    "vann": str(VANN),
    "void": str(VOID),
    "elm": str(ELM),
    "ceasn": str(CEASN),
    "ceterms": str(CETERMS),
    "esco": str(ESCO),
}
"""The prefixes the build and the exports declare (their output depends on this list: keep it as it is)."""

SPARQL_PREFIXES: dict[str, str] = {**PREFIXES, "sssom": str(SSSOM), "semapv": str(SEMAPV), "prof": str(PROF),
                                   "sd": str(SD), "pav": str(PAV)}
"""Prefixes the package's own SPARQL texts may declare with :func:`prologue`."""


def prologue(*names: str) -> str:
    """``PREFIX name: <IRI>`` lines for a SPARQL text of this package (``prologue("skos", "owl")``)."""
    return "".join(f"PREFIX {n}: <{SPARQL_PREFIXES[n]}>\n" for n in names)

# Characters kept as they are in a path segment: RFC 3986 "unreserved".
_SAFE = "-._~"


def segment(code: str) -> str:
    """Make one code URL-safe as a path segment, keeping it readable (``C.4.3`` stays ``C.4.3``)."""
    code = code.strip()
    if not code:
        raise ValueError("an IRI segment cannot be empty")
    return quote(code, safe=_SAFE)


def mint(programme: str, *path: str) -> str:
    """The one rule for instance IRIs.

    ``https://w3id.org/rkg/id/{programme}/{kind}/{code}[/{kind}/{code}...]``: the programme segment keeps
    référentiels apart, then pairs of kind and code as the source writes the code, made URL-safe.
    Codes that restart inside a parent (AC numbers, modality numbers) are nested under the parent.
    ``mint("rncp31854-pif")`` is the programme itself.
    """
    if len(path) % 2:
        raise ValueError(f"kind and code must come in pairs, got {path!r}")
    parts = [segment(programme), *(segment(p) for p in path)]
    return str(ID) + "/".join(parts)


PROGRAMME_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
"""A programme's short id, the segment its IRIs are minted under (``rncp31854-pif``)."""


def programme_iri(value: str) -> str:
    """A programme given by its IRI or its short id (``rncp31854-pif`` → ``https://w3id.org/rkg/id/rncp31854-pif``)."""
    return mint(value) if PROGRAMME_ID.match(value) else value


def programme_id(iri: str) -> str:
    """The short id of a programme IRI (its last path segment)."""
    return iri.rstrip("/").rsplit("/", 1)[-1]


def natural(text: str) -> list[str | int]:
    """Sort key that puts C.1.9 before C.1.10 and dimension/5 before dimension/10."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]


def mint_rncp(code: str) -> str:
    """IRI of the official RNCP record (certification ``RNCP31854`` or block ``RNCP31854BC01``)."""
    return str(RNCP) + segment(code)


def graph_iri(relative_path: str) -> str:
    """Named graph of a source file: its path under the project, without extension.

    ``data/rncp31854-pif/2024-2028/referentiel.ttl`` → ``https://w3id.org/rkg/graph/rncp31854-pif/2024-2028/referentiel``;
    ``ontology/rkg.ttl`` → ``https://w3id.org/rkg/graph/ontology/rkg``. The leading ``data/`` is dropped.
    """
    p = PurePosixPath(relative_path.removesuffix(".sssom.tsv"))
    parts = list(p.with_suffix("").parts)
    if parts and parts[0] == "data":
        parts = parts[1:]
    return str(GRAPH) + "/".join(segment(x) for x in parts)


IMPORTS_GRAPHS = str(GRAPH) + "imports/"
"""Named graphs ``rkg import`` produced (ESCO…): outside vocabularies, not validated by default."""
BUILD_GRAPH = str(GRAPH) + "build"
"""Named graph the build writes: provenance of every other graph, and derived search keys."""
