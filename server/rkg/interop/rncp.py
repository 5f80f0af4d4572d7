"""RNCP in: France Compétences' XML export v4.1 (``tests/reference/rncp-export.md``) → N-Quads, one named
graph per fiche (``https://w3id.org/rkg/graph/imports/rncp/RNCP31854``).

The file is read as a stream (``iterparse``): each ``FICHE`` is mapped, written, then cleared, so memory
stays bounded whatever the export's size (``bench/rncp_import.py`` measures it). The output is written
to a temporary file and renamed once the whole export has been read: a malformed file (reported with
its line and column) leaves nothing behind.

Mapping: the certification and its blocks get the RNCP IRIs of ``rkg.namespaces.mint_rncp``, which the
programmes' blocks already point to (``rkg:rncpCertification``, ``rkg:rncpBlock``): the official record
and a university's detailed référentiel meet without being merged (no ``rkg:inProgramme`` here, so
per-programme counts do not change). ``NIVn`` gives the EQF level n; ROME, NSF and Formacode codes become
``skos:Concept``s of concept schemes of our own IRIs (their owners publish no SKOS), keyed by the code.
Competencies and evaluation modalities are cut out of the free text heuristically (``split_items``);
the original text is kept on the block.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pyoxigraph as ox

from ..errors import InputError
from ..files import atomic_file
from ..namespaces import DCTERMS as DCT
from ..namespaces import EQF, GRAPH, ID, RDF_TYPE, RKG, SKOS, XSD, mint_rncp, segment

GRAPHS = str(GRAPH) + "imports/rncp/"
SCHEMES = {"ROME": str(ID) + "rome", "NSF": str(ID) + "nsf", "FORMACODE": str(ID) + "formacode"}
"""Concept schemes of the code systems, under our IRIs (rncp-export.md, « Code systems »)."""
BLOCK_TAGS = ("BLOC_COMPETENCES", "BLOC")
"""Some exports write BLOC instead of BLOC_COMPETENCES."""
PROGRESS_EVERY = 1000

Progress = Callable[[str], None]


class RncpError(InputError):
    """An export that cannot be read: ``file:line:column: reason``."""


@dataclass
class Report:
    fiches: int = 0
    """Fiches written."""
    seen: int = 0
    """Fiches read (written or not selected)."""
    blocks: int = 0
    triples: int = 0
    missing: list[str] = field(default_factory=list)
    """Numbers asked for and not found in the export (then nothing is written)."""


# ---------------------------------------------------------------- free text


class _Text(HTMLParser):
    """HTML fragment → plain text, block-level tags turned into line breaks."""

    BREAKS = {"br", "p", "li", "div", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def plain(text: str) -> str:
    """The text of an HTML fragment, entities decoded (also when escaped twice: ``&amp;eacute;``)."""
    for _ in range(2):
        if "&" not in text:
            break
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    parser = _Text()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts).replace("\r", "\n").replace("\xa0", " ")


_BULLET = re.compile(r"^\s*(?:[-*•·▪◦–—]|\(?\d{1,2}[.)°]|\(?[a-zA-Z][.)])\s+")
_HEADING = re.compile(r"^\s*(?:bloc\s+de\s+comp[ée]tences?\b.*|(?:les\s+)?comp[ée]tences\s*(?:attest[ée]es)?\s*:?|modalit[ée]s?\s+d['’]?[ée]valuation\s*:?)\s*$", re.I)


def split_items(text: str) -> list[str]:
    """Items of a free-text list: one per line (HTML breaks and list items count as lines), bullets and
    numbering removed, headings (« BLOC DE COMPETENCES n », « Compétences : ») dropped; a single line of
    items separated by « ; » is split there. Whitespace collapsed; empty items dropped."""
    lines = [ln.strip() for ln in plain(text).split("\n")]
    lines = [ln for ln in lines if ln]
    if len(lines) == 1 and ";" in lines[0]:
        lines = [p.strip() for p in lines[0].split(";")]
    items = []
    for ln in lines:
        if _HEADING.match(ln):
            continue
        item = " ".join(_BULLET.sub("", ln).split()).rstrip(" ;,")
        if item:
            items.append(item)
    return items


# ---------------------------------------------------------------- one fiche → quads


def _text(elem: ET.Element | None, path: str) -> str:
    found = elem.find(path) if elem is not None else None
    return (found.text or "").strip() if found is not None and found.text else ""


def _date(value: str) -> ox.Literal | None:
    """ISO dates as xsd:date; « dd/mm/yyyy » (seen in exports) turned into ISO; anything else as written."""
    value = value.strip()
    if not value:
        return None
    m = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", value)
    if m:
        value = f"{m.group(3)}-{m.group(2)}-{m.group(1)}"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value[:10]) and len(value) in (10, 19, 20, 24, 25):
        return ox.Literal(value[:10], datatype=ox.NamedNode(XSD + "date"))
    return ox.Literal(value)


def fiche_quads(fiche: ET.Element) -> tuple[str, list[ox.Quad], int]:
    """(RNCP number, quads in the fiche's graph, number of blocks) of one FICHE element."""
    number = _text(fiche, "NUMERO_FICHE")
    if not re.fullmatch(r"RNCP\d+", number):
        raise RncpError(f"NUMERO_FICHE {number!r} is not an RNCP number (RNCPnnnnn)")
    graph = ox.NamedNode(GRAPHS + number)
    cert = ox.NamedNode(mint_rncp(number))
    out: list[ox.Quad] = []

    def add(s, p: str, o) -> None:
        if o is not None:
            out.append(ox.Quad(s, ox.NamedNode(p), o, graph))

    def lit(value: str, lang: str | None = None) -> ox.Literal | None:
        return ox.Literal(value, language=lang) if value else None

    add(cert, RDF_TYPE, ox.NamedNode(str(RKG.RncpCertification)))
    add(cert, str(RKG.rncpNumber), lit(number))
    add(cert, SKOS + "notation", lit(number))
    add(cert, DCT + "identifier", lit(_text(fiche, "ID_FICHE")))
    title = " ".join(plain(_text(fiche, "INTITULE")).split())
    add(cert, SKOS + "prefLabel", lit(title, "fr"))
    add(cert, DCT + "title", lit(title, "fr"))
    add(cert, SKOS + "altLabel", lit(" ".join(plain(_text(fiche, "ABREGE/LIBELLE")).split()), "fr"))
    add(cert, str(RKG.rncpStatus), lit(_text(fiche, "ETAT_FICHE")))
    active = _text(fiche, "ACTIF").lower()
    if active in ("oui", "non"):
        add(cert, str(RKG.rncpActive), ox.Literal("true" if active == "oui" else "false", datatype=ox.NamedNode(XSD + "boolean")))
    level = _text(fiche, "NOMENCLATURE_EUROPE/NIVEAU")
    add(cert, str(RKG.rncpLevel), lit(level))
    m = re.fullmatch(r"NIV([1-8])", level)
    if m:
        add(cert, str(RKG.eqfLevel), ox.NamedNode(EQF + m.group(1)))
    for tag, prop in (("DATE_DECISION", RKG.decisionDate), ("DATE_EFFET", RKG.effectiveDate),
                      ("DATE_FIN_ENREGISTREMENT", RKG.registrationEndDate), ("DATE_DE_PUBLICATION", RKG.publicationDate)):
        add(cert, str(prop), _date(_text(fiche, tag)))
    for c in fiche.iterfind("CERTIFICATEURS/CERTIFICATEUR"):
        siret, name = _text(c, "SIRET_CERTIFICATEUR"), " ".join(plain(_text(c, "NOM_CERTIFICATEUR")).split())
        key = siret or name
        if not key:
            continue
        org = ox.NamedNode(str(ID) + "certifier/" + segment(key))
        add(cert, str(RKG.certifier), org)
        add(org, RDF_TYPE, ox.NamedNode(str(RKG.Certifier)))
        add(org, str(RKG.siret), lit(siret))
        add(org, SKOS + "prefLabel", lit(name, "fr"))
    for system, path, label_tag in (("ROME", "CODES_ROME/ROME", "LIBELLE"), ("NSF", "CODES_NSF/NSF", "INTITULE"),
                                    ("FORMACODE", "FORMACODES/FORMACODE", "LIBELLE")):
        for c in fiche.iterfind(path):
            code = _text(c, "CODE")
            if not code:
                continue
            concept = ox.NamedNode(SCHEMES[system] + "/" + segment(code))
            add(cert, DCT + "subject", concept)
            add(concept, RDF_TYPE, ox.NamedNode(SKOS + "Concept"))
            add(concept, SKOS + "inScheme", ox.NamedNode(SCHEMES[system]))
            add(concept, SKOS + "notation", lit(code))
            add(concept, SKOS + "prefLabel", lit(" ".join(plain(_text(c, label_tag)).split()), "fr"))
    blocks = 0
    for tag in BLOCK_TAGS:
        for b in fiche.iterfind(f"BLOCS_COMPETENCES/{tag}"):
            code = _text(b, "CODE")
            if not code:
                continue
            blocks += 1
            block = ox.NamedNode(mint_rncp(code))
            add(block, RDF_TYPE, ox.NamedNode(str(RKG.RncpBlock)))
            add(block, SKOS + "notation", lit(code))
            add(block, str(RKG.blockOfCertification), cert)
            label = " ".join(plain(_text(b, "LIBELLE")).split())
            add(block, SKOS + "prefLabel", lit(label, "fr"))
            add(block, DCT + "title", lit(label, "fr"))
            for source_tag, text_prop, item_prop, kind, cls in (
                    ("LISTE_COMPETENCES", RKG.competencyListText, RKG.statesCompetency, "competency", RKG.RncpCompetencyStatement),
                    ("MODALITES_EVALUATION", RKG.evaluationText, RKG.statesEvaluation, "evaluation", RKG.RncpEvaluationStatement)):
                raw = _text(b, source_tag)
                add(block, str(text_prop), lit(raw))
                for i, item in enumerate(split_items(raw), 1):
                    node = ox.NamedNode(f"{mint_rncp(code)}/{kind}/{i}")
                    add(block, str(item_prop), node)
                    add(node, RDF_TYPE, ox.NamedNode(str(cls)))
                    add(node, SKOS + "prefLabel", lit(item, "fr"))
                    add(node, str(RKG.position), ox.Literal(str(i), datatype=ox.NamedNode(XSD + "integer")))
    return number, out, blocks


# ---------------------------------------------------------------- the export


def _fiches(path: Path) -> Iterator[ET.Element]:
    """FICHE elements one at a time; each is cleared after use, and so is the root's list of children."""
    context = ET.iterparse(path, events=("start", "end"))
    root = None
    for event, elem in context:
        if root is None and event == "start":
            root = elem
        if event == "end" and elem.tag == "FICHE":
            yield elem
            elem.clear()
            if root is not None:
                root.clear()


def import_xml(path: Path, target: Path, fiches: Iterable[str] = (), progress: Progress | None = None) -> Report:
    """The fiches of an RNCP XML export (all, or those of ``fiches``) → N-Quads at ``target``."""
    wanted = {f.strip().upper() for f in fiches}
    written: set[str] = set()
    report = Report()
    try:
        with atomic_file(target) as f:
            for fiche in _fiches(path):
                report.seen += 1
                number = _text(fiche, "NUMERO_FICHE")
                if wanted and number.upper() not in wanted:
                    continue
                try:
                    number, quads, blocks = fiche_quads(fiche)
                except (RncpError, ValueError) as e:  # ValueError: a code that makes no IRI segment
                    raise RncpError(f"{path.name}: fiche {report.seen} ({number or 'no number'}): {e}") from None
                ox.serialize(quads, f, ox.RdfFormat.N_QUADS)
                if wanted:
                    written.add(number.upper())
                report.fiches += 1
                report.blocks += blocks
                report.triples += len(quads)
                if progress and report.seen % PROGRESS_EVERY == 0:
                    progress(f"{path.name}: {report.seen} fiches read, {report.fiches} written")
            if report.seen == 0:
                raise RncpError(f"{path.name}: no FICHE element: not an RNCP export v4.1 (FICHES/FICHE)")
            report.missing = sorted(wanted - written)
            if report.missing:
                raise RncpError(f"{path.name}: not in the export: {', '.join(report.missing)}; nothing imported")
    except ET.ParseError as e:
        line, column = e.position
        raise RncpError(f"{path.name}:{line}:{column + 1}: malformed XML: {str(e).split(':')[0]}") from None
    if progress:
        progress(f"{path.name}: {report.seen} fiches read, {report.fiches} written")
    return report

