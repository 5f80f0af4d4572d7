"""Content negotiation for the SPARQL protocol: Accept with q-values and wildcards, plus the ``format``,
``output`` and ``results`` parameters that SPARQLWrapper and other clients send."""

from __future__ import annotations

from dataclasses import dataclass

# Result formats for SELECT/ASK, first is the default.
RESULTS: dict[str, str] = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
# Graph formats for CONSTRUCT/DESCRIBE, first is the default.
GRAPHS: dict[str, str] = {
    "text/turtle": "turtle",
    "application/n-triples": "ntriples",
    "application/ld+json": "jsonld",
    "application/rdf+xml": "rdfxml",
    "application/trig": "trig",
    "application/n-quads": "nquads",
}
# Media types clients use for the same thing.
ALIASES: dict[str, str] = {
    "application/json": "application/sparql-results+json",
    "application/xml": "application/sparql-results+xml",
    "text/xml": "application/sparql-results+xml",
    "application/x-turtle": "text/turtle",
    "text/plain": "application/n-triples",
    "application/x-trig": "application/trig",
    "text/x-nquads": "application/n-quads",
}
# Values of format=/output=/results= (SPARQLWrapper sends format=json, xml, csv, tsv, turtle, n3, rdf, json-ld).
SHORT: dict[str, tuple[str, str]] = {
    "json": ("application/sparql-results+json", "application/ld+json"),
    "xml": ("application/sparql-results+xml", "application/rdf+xml"),
    "csv": ("text/csv", ""),
    "tsv": ("text/tab-separated-values", ""),
    "turtle": ("", "text/turtle"),
    "ttl": ("", "text/turtle"),
    "n3": ("", "text/turtle"),
    "rdf": ("", "application/rdf+xml"),
    "rdf+xml": ("", "application/rdf+xml"),
    "json-ld": ("", "application/ld+json"),
    "jsonld": ("", "application/ld+json"),
    "nt": ("", "application/n-triples"),
    "ntriples": ("", "application/n-triples"),
    "trig": ("", "application/trig"),
    "nquads": ("", "application/n-quads"),
}


@dataclass(frozen=True)
class Range:
    type: str
    subtype: str
    q: float
    order: int

    def matches(self, media: str) -> bool:
        t, _, s = media.partition("/")
        return self.type in ("*", t) and self.subtype in ("*", s)

    @property
    def specificity(self) -> int:
        return (self.type != "*") + (self.subtype != "*")


def parse_accept(header: str | None) -> list[Range]:
    if not header or not header.strip():
        return [Range("*", "*", 1.0, 0)]
    ranges = []
    for i, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = ALIASES.get(fields[0].lower(), fields[0].lower())
        if "/" not in media:
            continue
        q = 1.0
        for f in fields[1:]:
            k, _, v = f.partition("=")
            if k.strip() == "q":
                try:
                    q = max(0.0, min(1.0, float(v)))
                except ValueError:
                    q = 0.0
        t, _, s = media.partition("/")
        ranges.append(Range(t, s, q, i))
    return ranges


def negotiate(accept: str | None, offered: dict[str, str], short: str | None = None, graph: bool = False) -> str | None:
    """The media type to answer with, or None (406). ``short`` is a format=/output=/results= value, which
    wins over Accept when it names an offered format."""
    if short:
        pair = SHORT.get(short.strip().lower())
        wanted = ALIASES.get(short.strip().lower(), short.strip().lower())
        choice = (pair[1] if graph else pair[0]) if pair else wanted
        if choice in offered:
            return choice
    ranges = parse_accept(accept)
    best: tuple[float, int, int, int] | None = None
    chosen = None
    for pos, media in enumerate(offered):
        # The most specific range that matches decides the quality of this media type (RFC 9110 §12.5.1).
        matching = [r for r in ranges if r.matches(media)]
        if not matching:
            continue
        r = max(matching, key=lambda r: (r.specificity, -r.order))
        if r.q <= 0:
            continue
        key = (r.q, r.specificity, -r.order, -pos)
        if best is None or key > best:
            best, chosen = key, media
    return chosen


def wants_html(accept: str | None) -> bool:
    """A browser: text/html is acceptable and preferred to the RDF formats."""
    ranges = parse_accept(accept)
    html = max((r.q for r in ranges if r.type == "text" and r.subtype == "html"), default=0.0)
    return html > 0 and html >= max((r.q for r in ranges if r.type != "*" and not (r.type == "text" and r.subtype == "html")), default=0.0)
