"""Comparing RDF graphs read back by other tools."""

from __future__ import annotations

from rdflib import Graph, Literal
from rdflib.namespace import XSD


def doubles_by_value(g: Graph) -> Graph:
    """``g`` with each ``xsd:double`` in one lexical form per value: tools write the same double differently
    (pyld and sssom-py in XSD's canonical form, ``6.0E-1``; Oxigraph as ``0.6``)."""
    out = Graph()
    for s, p, o in g:
        if isinstance(o, Literal) and o.datatype == XSD.double:
            o = Literal(repr(float(o)), datatype=XSD.double, normalize=False)
        out.add((s, p, o))
    return out
