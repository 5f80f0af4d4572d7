"""Versioned ontology IRIs resolve: ``/ontology/<version>`` (the ontology's ``owl:versionIRI``,
``https://w3id.org/rkg/ontology/0.1.0``) answers the ontology file of that release, read from the named
graph that holds an ``owl:Ontology`` with that version IRI. Turtle by default (no ``Accept``, ``*/*``);
JSON-LD, N-Triples or RDF/XML by ``Accept`` or ``?format=`` as on ``/ontology``. A version no graph
declares is a 404.

A browser (HTML preferred) gets the version IRI's Linked Data page, like every IRI of the graph, and any
other path under ``/ontology/`` (not shaped like a version) is left to the Linked Data pages.
"""

from __future__ import annotations

import re

import pyoxigraph as ox
from flask import Blueprint, Response, current_app

from ..namespaces import BASE
from .. import formats
from ..formats import CONTENT_TYPES
from . import linked_data, reads
from .errors import HttpError

blueprint = Blueprint("releases", __name__)

VERSION = re.compile(r"\d+(?:\.\d+)*(?:[-+.][0-9A-Za-z.-]+)?")
"""A release number as pyproject and owl:versionInfo write it (``0.1.0``, ``1.0.0rc1``, ``1.2.0-beta``)."""
OFFERS = formats.offered([formats.TURTLE, formats.JSON_LD, formats.N_TRIPLES, formats.RDF_XML, formats.HTML])
"""RDF formats of the file, Turtle first (the default for ``*/*`` and for no ``Accept``); HTML last."""


@blueprint.get("/ontology/<version>")
def release(version: str) -> Response:
    if not VERSION.fullmatch(version):
        return linked_data.local(version)
    media = linked_data.chosen(OFFERS)
    if media == formats.HTML.media:
        return linked_data.local(version)
    state = current_app.extensions["rkg"]
    iri = f"{BASE}ontology/{version}"
    found = reads.select(state, "ontology-release", this=ox.NamedNode(iri))
    if not found:
        raise HttpError(404, f"no release {version} of the ontology here (no graph declares the version IRI <{iri}>)")
    graph = reads.construct(state, "graph-content", media, graph=ox.NamedNode(found[0]["graph"].value))
    return Response(graph.body, headers={"Content-Type": CONTENT_TYPES[media], "Vary": "Accept"})
