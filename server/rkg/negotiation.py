"""Content negotiation for the SPARQL protocol: Accept with q-values and wildcards, plus the ``format``,
``output`` and ``results`` parameters that SPARQLWrapper and other clients send."""

from __future__ import annotations

from dataclasses import dataclass

from . import formats
from .formats import GRAPHS, RESULTS  # noqa: F401  (the protocol's offers, re-exported)


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
        media = fields[0].lower()
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


def negotiate(accept: str | None, offered: dict[str, str], short: str | None = None) -> str | None:
    """The media type to answer with, or None (406). ``short`` is a format=/output=/results= value (a
    short name such as ``json`` or ``ttl``, or a media type), which wins over Accept when it names an
    offered format. A media type of Accept that is an alias (``application/x-turtle``, ``text/plain`` for
    N-Triples, ``application/json`` for SPARQL JSON results…) stands for the offered type it names, unless
    that alias is offered itself (the API offers plain ``application/json``)."""
    if short:
        choice = formats.from_short(short, offered)
        if choice:
            return choice
    ranges = parse_accept(accept)
    aliases = formats.aliases(offered)
    best: tuple[float, int, int, int] | None = None
    chosen = None
    for pos, media in enumerate(offered):
        names = [media, *(a for a, m in aliases.items() if m == media)]
        # The most specific range that matches decides the quality of this media type (RFC 9110 §12.5.1);
        # an alias counts only when named exactly, never through a wildcard.
        matching = [r for r in ranges if r.matches(media)
                    or (r.specificity == 2 and f"{r.type}/{r.subtype}" in names)]
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
