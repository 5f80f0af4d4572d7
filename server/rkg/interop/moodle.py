"""Moodle competency frameworks (``tool_lpimportcsv``), out and back in.

Out: the framework row (``Is framework`` = 1, a two-value scale, taxonomy ``domain,competency``), then
each block at the top level and its competencies and critical learnings under it (``Parent id number``).
Id numbers are the codes (a block's children ``BLOCK/CODE``: codes restart in every block). The years of
study are carried by cross-references: a top-level ``annees`` with ``annees/M1`` and ``annees/M2`` under it,
which each critical learning cross-references (``Cross referenced competency id numbers``), the way
Moodle relates competencies. Moodle keeps one language and a short name of at most 100 characters, so the
description (HTML) carries the French label, the English one (``<p lang="en">``) and the kind.
Not carried: evaluation modalities, teaching units, generic dimensions.

A BUT (``rkg import orebut``): taxonomy ``competency,level,outcome``; its compétences at the top level,
their niveaux de développement under them (a level of the framework) and each niveau's critical learnings
under it. Id numbers are the entities' paths under the programme, as the IRI rule writes them but not
percent-encoded (``competency/Concevoir``, ``competency/Concevoir/level/1``,
``competency/Concevoir/level/1/ac/AC11.01``: compétence numbers repeat across parcours, short names do
not), so the import mints the same IRIs; the years are ``annees/BUT1``…, labelled as the graph labels
them. Not carried for a BUT: parcours and their selections, composantes essentielles, situations
professionnelles, SAÉ, ressources, coefficients, long titles and colours.

In (``rkg import moodle``): a framework file (ours, or one written by hand in Moodle's format) becomes a
référentiel: programme, blocks, competencies and critical learnings minted by the IRI rule under the
programme id given.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from html import escape
from urllib.parse import unquote
from html.parser import HTMLParser

import pyoxigraph as ox

from ..errors import InputError
from ..namespaces import RDF_TYPE, RKG, SKOS, XSD, mint
from .framework import Framework, Node

HEADER = ["Parent id number", "Id number", "Shortname", "Description", "Description format", "Scale values",
          "Scale configuration", "Rule type (optional)", "Rule outcome (optional)", "Rule config (optional)",
          "Cross referenced competency id numbers", "Exported id (optional)", "Is framework", "Taxonomy"]
SCALE_VALUES = "Non acquis,Acquis"
SCALE_CONFIG = '[{"scaleid":"2"},{"id":2,"scaledefault":1,"proficient":1}]'
YEARS = "annees"
"""Id number of the top-level entry whose children are the years of study (M1, M2)."""
YEAR_LABELS = {"M1": "Première année de master (M1)", "M2": "Deuxième année de master (M2)"}
KIND_TEXT = {"block": "Bloc de compétences", "competency": "Compétence", "level": "Niveau de développement",
             "learning": "Apprentissage critique"}
PATH = re.compile(r"competency/[^/]+(/level/[^/]+(/ac/[^/]+)?)?")
"""A BUT's Id numbers: the entity's path under the programme."""
CLASSES = {"block": RKG.CompetencyBlock, "competency": RKG.Competency, "level": RKG.DevelopmentLevel, "learning": RKG.CriticalLearning}


class MoodleError(InputError):
    """A file that is not a Moodle competency framework: ``file:line: column: reason``."""


def _short(node: Node) -> str:
    code = f"N{node.position}" if node.kind == "level" and node.position is not None else node.code
    text = f"{code} {node.label('fr')}".strip()
    return text if len(text) <= 100 else text[:99] + "…"


def _description(node: Node) -> str:
    parts = [f'<p lang="fr">{escape(node.labels["fr"])}</p>'] if node.labels.get("fr") else []
    parts += [f'<p lang="en">{escape(node.labels["en"])}</p>'] if node.labels.get("en") else []
    parts.append(f'<p class="rkg-kind">{KIND_TEXT[node.kind]}</p>')
    return "".join(parts)


def export(fw: Framework) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(HEADER)
    p = fw.programme
    framework_id = p.iri.rstrip("/").rsplit("/", 1)[-1]
    but = not fw.blocks and any(t.kind == "competency" for t in fw.tops)
    w.writerow(["", framework_id, (p.label("fr"))[:100], "".join(
        f'<p lang="{lang}">{escape(text)}</p>' for lang, text in sorted(p.labels.items()) if lang), 1,
        SCALE_VALUES, SCALE_CONFIG, "", "", "", "", "", 1, "competency,level,outcome" if but else "domain,competency"])
    if but:
        def ident(node: Node) -> str:
            return unquote(node.iri[len(p.iri) + 1:])
    else:
        def ident(node: Node) -> str:
            return node.code if node.kind == "block" else f"{node.parent and fw.nodes[node.parent].code}/{node.code}"
    for top in fw.tops:
        if top.kind not in KIND_TEXT:
            continue
        w.writerow(["", ident(top), _short(top), _description(top), 1, "", "", "", "", "", "", "", "", ""])
        for child, parent in fw.descendants(top, tuple(KIND_TEXT)):
            refs = ",".join(f"{YEARS}/{level}" for level in sorted(child.levels))
            w.writerow([ident(parent), ident(child), _short(child), _description(child), 1, "", "", "", "", "", refs, "", "", ""])
    years = sorted({level for n in fw.nodes.values() for level in n.levels})
    if years:
        w.writerow(["", YEARS, "Années d'études", '<p lang="fr">Années d\'études</p><p lang="en">Years of study</p>',
                    1, "", "", "", "", "", "", "", "", ""])
        for level in years:
            period = fw.periods.get(level)
            labels = period.labels if period and period.labels else {}
            text = YEAR_LABELS.get(level) or labels.get("fr") or level
            w.writerow([YEARS, f"{YEARS}/{level}", text, f"<p>{escape(level)}</p>", 1, "", "", "", "", "", "", "", "", ""])
    return out.getvalue()


class _Description(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.labels: dict[str, str] = {}
        self.kind = ""
        self.levels: set[str] = set()
        self._current: tuple[str, str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "p":
            self._current = ("lang", a["lang"]) if "lang" in a else ("class", a.get("class") or "")

    def handle_endtag(self, tag):
        self._current = None if tag == "p" else self._current

    def handle_data(self, data):
        self.text.append(data)
        if self._current is None:
            return
        what, value = self._current
        if what == "lang":
            self.labels[value] = self.labels.get(value, "") + data
        elif value == "rkg-kind":
            self.kind += data
        elif value == "rkg-levels":
            self.levels |= {x.strip() for x in data.split(",") if x.strip()}


def read(text: str, programme: str, name: str = "framework.csv") -> Framework:
    """The framework a Moodle CSV describes, with IRIs minted under ``programme`` (a short id)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [h.strip() for h in rows[0][:len(HEADER)]] != HEADER:
        raise MoodleError(f"{name}:1: not a Moodle competency framework CSV: the header must be {', '.join(HEADER)}")
    kinds = {v: k for k, v in KIND_TEXT.items()}
    root = Node(mint(programme), "programme")
    nodes: dict[str, Node] = {}
    by_id: dict[str, Node] = {}
    for line, row in enumerate(rows[1:], 2):
        if not any(c.strip() for c in row):
            continue
        cells = dict(zip(HEADER, row + [""] * (len(HEADER) - len(row))))
        d = _Description()
        d.feed(cells["Description"])
        if cells["Is framework"].strip() == "1":
            root.code = ""
            root.labels = d.labels or {"fr": cells["Shortname"].strip()}
            continue
        parent_id, ident = cells["Parent id number"].strip(), cells["Id number"].strip()
        if ident == YEARS or parent_id == YEARS:  # the years of study: carried by cross-references
            continue
        if not ident:
            raise MoodleError(f"{name}:{line}: column Id number: empty")
        labels = {k: " ".join(v.split()) for k, v in d.labels.items()} or {"fr": " ".join("".join(d.text).split()) or cells["Shortname"].strip()}
        refs = {r.strip() for r in cells["Cross referenced competency id numbers"].split(",") if r.strip()}
        levels = {r.split("/", 1)[1] for r in refs if r.startswith(YEARS + "/")} | d.levels
        if PATH.fullmatch(unicodedata.normalize("NFC", ident)):  # a BUT: the path under the programme
            parts = unicodedata.normalize("NFC", ident).split("/")
            kind = {1: "competency", 2: "level", 3: "learning"}[len(parts) // 2]
            parent = by_id.get(parent_id) if parent_id else root
            if parent is None:
                raise MoodleError(f"{name}:{line}: column Parent id number: {parent_id!r} is not an Id number of an earlier row")
            position = int(parts[-1]) if kind == "level" and parts[-1].isdigit() else None
            code = "" if kind == "level" else cells["Shortname"].strip().split(" ", 1)[0] if kind == "competency" else parts[-1]
            if kind == "learning":
                position = 1 + sum(1 for n in nodes.values() if n.parent == parent.iri)
            node = Node(mint(programme, *parts), kind, parent.iri, code, labels, position, levels)
        elif not parent_id:  # the IRI rule names a block by its code within the certification (RNCP31854BC01 → BC01)
            short = re.fullmatch(r"RNCP\d+(BC\d+)", ident)
            node = Node(mint(programme, "block", short.group(1) if short else ident), "block", root.iri, ident, labels)
        else:
            parent = by_id.get(parent_id)
            if parent is None:
                raise MoodleError(f"{name}:{line}: column Parent id number: {parent_id!r} is not an Id number of an earlier row")
            code = ident.split("/", 1)[1] if ident.startswith(parent_id + "/") else ident
            kind = kinds.get(d.kind.strip(), "competency")
            block_segment = parent.iri.rsplit("/", 1)[-1]
            iri = mint(programme, "block", block_segment, "ac", code) if kind == "learning" else mint(programme, "competency", code)
            node = Node(iri, kind, parent.iri, code, labels, levels=levels)
        if ident in by_id:
            raise MoodleError(f"{name}:{line}: column Id number: {ident!r} is used twice")
        by_id[ident] = node
        nodes[node.iri] = node
    return Framework(root, nodes)


def to_rdf(fw: Framework) -> list[ox.Triple]:
    """The référentiel of an imported framework, in the ontology's terms."""
    out: list[ox.Triple] = []
    prog = ox.NamedNode(fw.programme.iri)

    def add(s: str | ox.NamedNode, p: str, o) -> None:
        out.append(ox.Triple(ox.NamedNode(s) if isinstance(s, str) else s, ox.NamedNode(p), o))

    add(prog, RDF_TYPE, ox.NamedNode(str(RKG.Programme)))
    for lang, text in fw.programme.labels.items():
        add(prog, SKOS + "prefLabel", ox.Literal(text, language=lang or None))
    link = {"block": RKG.hasBlock, "competency": RKG.hasCompetency, "level": RKG.hasDevelopmentLevel, "learning": RKG.hasCriticalLearning}
    kinds = {n.iri: n.kind for n in fw.nodes.values()}
    years: set[str] = set()
    for node in fw.nodes.values():
        add(node.iri, RDF_TYPE, ox.NamedNode(str(CLASSES[node.kind])))
        add(node.iri, str(RKG.inProgramme), prog)
        if node.code:
            add(node.iri, SKOS + "notation", ox.Literal(node.code))
        for lang, text in node.labels.items():
            add(node.iri, SKOS + "prefLabel", ox.Literal(text, language=lang or None))
        parent = node.parent or fw.programme.iri
        if node.kind == "learning" and kinds.get(parent) == "level":
            add(parent, str(RKG.levelHasCriticalLearning), ox.NamedNode(node.iri))
        elif not (node.kind == "competency" and parent == fw.programme.iri):  # a BUT's compétence: in the programme
            add(parent, str(link[node.kind]), ox.NamedNode(node.iri))
        if node.position is not None and node.kind in ("level", "learning") and kinds.get(parent) in ("competency", "level"):
            add(node.iri, str(RKG.levelRank if node.kind == "level" else RKG.position), _integer(node.position))
        for level in sorted(node.levels):
            if re.fullmatch(r"M[12]", level):
                add(node.iri, str(RKG.atStudyLevel), ox.NamedNode(str(RKG) + level))
            else:  # a year of the programme's own (BUT1): …/period/BUT1
                add(node.iri, str(RKG.atStudyLevel), ox.NamedNode(mint(_id(fw), "period", level)))
                years.add(level)
    for level in sorted(years):
        period = mint(_id(fw), "period", level)
        add(period, RDF_TYPE, ox.NamedNode(str(RKG.StudyLevel)))
        add(period, str(RKG.inProgramme), prog)
        add(period, SKOS + "notation", ox.Literal(level))
    return out


def _id(fw: Framework) -> str:
    return fw.programme.iri.rstrip("/").rsplit("/", 1)[-1]


def _integer(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer"))
