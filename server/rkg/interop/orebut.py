"""BUT référentiels in (``rkg import orebut``): the Orébut XML of a référentiel de compétences, the Orébut
XML of a référentiel de formation, and ScoDoc's JSON export of a référentiel de compétences.

The structure read is the one of ``tests/reference/orebut.md`` (what the public importers read) and of
``tests/reference/scodoc/`` (ScoDoc's JSON, which mirrors the XML field by field). Unknown elements,
attributes and keys are ignored. Strings are kept exactly as written (decomposed Unicode and double
spaces included); IRIs are minted from the NFC form of codes and names, so that « Se\u0301curiser » and
« Sécuriser » name the same compétence.

IRIs (``rkg.namespaces.mint``, programme ``but-rt`` by default: ``but-`` + the specialité in lower case)::

    …/id/but-rt                                         the programme (dcterms:conformsTo …/profile/but-apc)
    …/id/but-rt/periods                                 its scheme of study periods
    …/id/but-rt/period/BUT2, …/period/S3                a year, a semester
    …/id/but-rt/competency/Administrer                  a compétence, by its short name (numbers repeat
                                                        across parcours: RT has five compétences « 4 »)
    …/competency/Administrer/level/2                    its niveau of rank 2
    …/competency/Sécuriser/level/1/ac/AC24.01Cyber      an AC, nested under its niveau (cannot collide)
    …/competency/Administrer/component/1, …/situation/1 composantes essentielles, situations professionnelles
    …/id/but-rt/parcours/Cyber
    …/id/but-rt/resource/R1.01, …/sae/SAÉ1.01           (made URL-safe by namespaces.segment)
    …/resource/R1.01/coefficient/Administrer            the coefficient of a compétence in it
    …/id/but-rt/source/NAME                             the imported file (rkg:SourceDocument)

A formation file names ACs by code and compétences by short name: it is resolved against the
référentiel de compétences already imported into ``build/imports`` for the same programme.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.parsers import expat

import pyoxigraph as ox

from .. import formats
from ..errors import InputError
from ..namespaces import DCTERMS as DCT
from ..namespaces import OWL, PROFILE, PROGRAMME_ID, PROV, RDF_TYPE, RKG, SKOS, XSD, mint

PROFILE_IRI = str(PROFILE) + "but-apc"
R = str(RKG)


class OrebutError(InputError):
    """The file cannot be imported: the message names the place (``file:line`` or the JSON path) and why."""


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# ---------------------------------------------------------------- the model read from either format


@dataclass
class Niveau:
    ordre: int
    libelle: str
    annee: str | None
    acs: list[tuple[str, str]]
    where: str


@dataclass
class Competence:
    name: str
    numero: str | None
    titre_long: str | None
    couleur: str | None
    id_orebut: str | None
    situations: list[str]
    composantes: list[str]
    niveaux: list[Niveau]
    where: str


@dataclass
class Parcours:
    code: str
    libelle: str | None
    annees: list[tuple[int, list[tuple[str, int, str]]]]
    """(year order, [(compétence name, niveau rank, where)])."""
    where: str


@dataclass
class Referentiel:
    specialite: str
    specialite_long: str | None
    type_titre: str | None
    version: str | None
    original_name: str | None
    competences: list[Competence]
    parcours: list[Parcours]


@dataclass
class Item:
    kind: str  # "resource" or "sae"
    code: str
    titre: str | None
    description: str | None
    mots_cles: str | None
    exemples: str | None
    hours: dict[str, str]
    acs: list[tuple[str, str]] = field(default_factory=list)
    competences: list[tuple[str, str | None, str]] = field(default_factory=list)
    ressources: list[tuple[str, str]] = field(default_factory=list)
    where: str = ""


@dataclass
class Semestre:
    numero: int
    ordre_annee: int
    items: list[Item]
    where: str


@dataclass
class Formation:
    semestres: list[Semestre]


# ---------------------------------------------------------------- XML (expat: line numbers, no DTD)


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    line: int
    children: list[Node] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def all(self, tag: str) -> list[Node]:
        return [c for c in self.children if c.tag == tag]

    def first(self, tag: str) -> Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def find(self, tag: str) -> Node | None:
        """The first descendant named ``tag`` (breadth first), for wrappers a source may add."""
        queue = list(self.children)
        while queue:
            n = queue.pop(0)
            if n.tag == tag:
                return n
            queue += n.children
        return None


def parse_xml(path: Path) -> Node:
    p = expat.ParserCreate()
    stack: list[Node] = []
    root: list[Node] = []

    def start(tag, attrs):
        n = Node(tag, attrs, p.CurrentLineNumber)
        (stack[-1].children if stack else root).append(n)
        stack.append(n)

    def end(tag):
        stack.pop()

    def chars(data):
        if stack:
            stack[-1].parts.append(data)

    def doctype(*_):
        raise OrebutError(f"{path}:{p.CurrentLineNumber}: a DTD is not accepted in an Orébut file")

    p.StartElementHandler, p.EndElementHandler, p.CharacterDataHandler = start, end, chars
    p.StartDoctypeDeclHandler = doctype
    p.EntityDeclHandler = doctype
    try:
        with path.open("rb") as f:
            p.ParseFile(f)
    except expat.ExpatError as e:
        raise OrebutError(f"{path}:{e.lineno}:{e.offset + 1}: not well-formed XML ({expat.ErrorString(e.code)})") from None
    return root[0]


def _text(n: Node | None) -> str | None:
    if n is None:
        return None
    t = n.text
    return t if t.strip() else None


def _int(value: str | None, where: str, what: str) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise OrebutError(f"{where}: {what} must be a whole number, found {value!r}") from None


def read_xml(path: Path) -> Referentiel | Formation:
    root = parse_xml(path)
    # A formation file has <competences> too (inside ressources and SAÉ): look for semestres first.
    semestres = root.all("semestre") or _descendants(root, "semestre")
    if semestres:
        return _xml_formation(path, semestres)
    comps = root.first("competences") or root.find("competences")
    if comps is not None:
        return _xml_competences(path, root, comps)
    raise OrebutError(f"{path}:{root.line}: neither a référentiel de compétences (<competences>) nor a référentiel "
                      f"de formation (<semestre>) under <{root.tag}>")


def _descendants(n: Node, tag: str) -> list[Node]:
    out = []
    for c in n.children:
        out += [c] if c.tag == tag else _descendants(c, tag)
    return out


def _xml_competences(path: Path, root: Node, comps: Node) -> Referentiel:
    at = lambda n: f"{path}:{n.line}"  # noqa: E731
    a = root.attrs
    if not a.get("specialite", "").strip():
        raise OrebutError(f"{at(root)}: <{root.tag}> has no specialite attribute")
    competences = []
    for c in comps.all("competence"):
        name = c.attrs.get("name") or c.attrs.get("nom")
        if not name or not name.strip():
            raise OrebutError(f"{at(c)}: <competence> has no name")
        niveaux = []
        for nv in (c.first("niveaux") or Node("", {}, 0)).all("niveau"):
            acs = []
            for ac in (nv.first("acs") or Node("", {}, 0)).all("ac"):
                code = ac.attrs.get("code", "").strip()
                if not code:
                    raise OrebutError(f"{at(ac)}: <ac> has no code")
                acs.append((code, ac.text))
            niveaux.append(Niveau(_int(nv.attrs.get("ordre"), at(nv), "the niveau's ordre"), nv.attrs.get("libelle", ""),
                                  nv.attrs.get("annee") or None, acs, at(nv)))
        competences.append(Competence(
            name, c.attrs.get("numero"), c.attrs.get("libelle_long"), c.attrs.get("couleur"), c.attrs.get("id"),
            [s.text for s in (c.first("situations") or Node("", {}, 0)).all("situation")],
            [s.text for s in (c.first("composantes_essentielles") or Node("", {}, 0)).all("composante")],
            niveaux, at(c)))
    parcours = []
    for p in (root.first("parcours") or Node("", {}, 0)).all("parcour"):
        if not p.attrs.get("code", "").strip():
            raise OrebutError(f"{at(p)}: <parcour> has no code")
        annees = []
        for y in p.all("annee"):
            refs = []
            for ref in y.all("competence"):
                nom = ref.attrs.get("nom") or ref.attrs.get("name")
                if not nom:
                    raise OrebutError(f"{at(ref)}: <competence> of a parcours has no nom")
                refs.append((nom, _int(ref.attrs.get("niveau"), at(ref), "niveau"), at(ref)))
            annees.append((_int(y.attrs.get("ordre"), at(y), "the annee's ordre"), refs))
        parcours.append(Parcours(p.attrs["code"], p.attrs.get("libelle"), annees, at(p)))
    return Referentiel(a["specialite"], a.get("specialite_long"), a.get("type_titre") or a.get("type"),
                       a.get("version_orebut") or a.get("version"), None, competences, parcours)


def _xml_formation(path: Path, semestres: list[Node]) -> Formation:
    at = lambda n: f"{path}:{n.line}"  # noqa: E731
    out = []
    for s in semestres:
        numero = _int(s.attrs.get("numero"), at(s), "the semestre's numero")
        ordre = s.attrs.get("ordreAnnee")
        # Two semesters a year in every BUT (S1 and S2 in BUT1…): the year when the file does not say it.
        ordre_annee = _int(ordre, at(s), "ordreAnnee") if ordre is not None else (numero + 1) // 2
        items = []
        for kind, wrapper, tag in (("resource", "ressources", "ressource"), ("sae", "saes", "sae")):
            for n in (s.first(wrapper) or Node("", {}, 0)).all(tag):
                code = n.attrs.get("code", "").strip()
                if not code:
                    raise OrebutError(f"{at(n)}: <{tag}> has no code")
                hours = {k: n.attrs[k] for k in ("heuresCMTD", "heuresTP", "heuresProjet") if n.attrs.get(k, "").strip()}
                item = Item(kind, code, _text(n.first("titre")), _text(n.first("description")), _text(n.first("motsCles")),
                            _text(n.first("exemples")), hours, where=at(n))
                item.acs = [(ac.text.strip(), at(ac)) for ac in (n.first("acs") or Node("", {}, 0)).all("ac") if ac.text.strip()]
                for ref in (n.first("competences") or Node("", {}, 0)).all("competence"):
                    nom = ref.attrs.get("nom") or ref.attrs.get("name")
                    if not nom:
                        raise OrebutError(f"{at(ref)}: <competence> has no nom")
                    item.competences.append((nom, ref.attrs.get("coefficient"), at(ref)))
                if kind == "sae":
                    item.ressources = [(r.text.strip(), at(r)) for r in (n.first("ressources") or Node("", {}, 0)).all("ressource")
                                       if r.text.strip()]
                items.append(item)
        out.append(Semestre(numero, ordre_annee, items, at(s)))
    return Formation(out)


# ---------------------------------------------------------------- ScoDoc JSON


_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "'": "\\'", "\\": "\\\\"}


def member(path: str, key: str) -> str:
    """``path`` followed by the member ``key``, as an RFC 9535 normalized path writes it (``$['competences']
    ['AC11.01']``: every member in brackets and single quotes, ``'`` and ``\\`` escaped, control characters
    as ``\\n`` or ``\\u001f``), so that a key holding dots, spaces or quotes is one step of the path; an
    array's element is ``[0]``. The ScoDoc JSON's places are written this way, in errors and origins."""
    escaped = "".join(_ESCAPES.get(ch) or (f"\\u{ord(ch):04x}" if ord(ch) < 0x20 else ch) for ch in key)
    return f"{path}['{escaped}']"


def read_json(path: Path) -> Referentiel:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise OrebutError(f"{path}:{e.lineno}:{e.colno}: not JSON ({e.msg})") from None

    def need(obj, key, kind, where):
        if not isinstance(obj, dict) or key not in obj:
            raise OrebutError(f"{path}: {where}: missing {key!r}")
        v = obj[key]
        if not isinstance(v, kind):
            raise OrebutError(f"{path}: {member(where, key)}: expected {_kind(kind)}, found {type(v).__name__}")
        return v

    def opt(obj, key, where):
        v = obj.get(key)
        if v is not None and not isinstance(v, (str, int)):
            raise OrebutError(f"{path}: {member(where, key)}: expected a string, found {type(v).__name__}")
        return None if v is None else str(v)

    if not isinstance(data, dict):
        raise OrebutError(f"{path}: $: expected an object")
    spec = need(data, "specialite", str, "$")
    competences = []
    for key, c in need(data, "competences", dict, "$").items():
        w = member(member("$", "competences"), key)
        if not isinstance(c, dict):
            raise OrebutError(f"{path}: {w}: expected an object")
        name = c.get("titre") or key
        niveaux = []
        for nk, nv in need(c, "niveaux", dict, w).items():
            nw = member(member(w, "niveaux"), nk)
            acs = []
            for code, ac in need(nv, "app_critiques", dict, nw).items():
                acs.append((code, need(ac, "libelle", str, member(member(nw, "app_critiques"), code))))
            ordre = need(nv, "ordre", (int, str), nw)
            niveaux.append(Niveau(_int(ordre, f"{path}: {member(nw, 'ordre')}", "ordre"), need(nv, "libelle", str, nw),
                                  opt(nv, "annee", nw), acs, f"{path}: {nw}"))
        lists = {}
        for k in ("situations", "composantes_essentielles"):
            items = c.get(k) or []
            if not isinstance(items, list):
                raise OrebutError(f"{path}: {member(w, k)}: expected a list")
            lists[k] = [need(x, "libelle", str, f"{member(w, k)}[{i}]") for i, x in enumerate(items)]
        competences.append(Competence(name, opt(c, "numero", w), opt(c, "titre_long", w), opt(c, "couleur", w),
                                      opt(c, "id_orebut", w), lists["situations"], lists["composantes_essentielles"],
                                      niveaux, f"{path}: {w}"))
    parcours = []
    for key, p in (data.get("parcours") or {}).items():
        w = member(member("$", "parcours"), key)
        annees = []
        for yk, y in need(p, "annees", dict, w).items():
            yw = member(member(w, "annees"), yk)
            refs = []
            for nom, ref in need(y, "competences", dict, yw).items():
                rw = member(member(yw, "competences"), nom)
                refs.append((nom, _int(need(ref, "niveau", (int, str), rw), f"{path}: {member(rw, 'niveau')}", "niveau"),
                             f"{path}: {rw}"))
            annees.append((_int(y.get("ordre", yk), f"{path}: {member(yw, 'ordre')}", "ordre"), refs))
        parcours.append(Parcours(opt(p, "code", w) or key, opt(p, "libelle", w), annees, f"{path}: {w}"))
    return Referentiel(spec, opt(data, "specialite_long", "$"), opt(data, "type_titre", "$"),
                       opt(data, "version_orebut", "$"), opt(data, "scodoc_orig_filename", "$"), competences, parcours)


def _kind(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join({str: "a string", int: "an integer", dict: "an object", list: "a list"}[k] for k in kinds)


def read(path: Path) -> Referentiel | Formation:
    if path.suffix.lower() == ".json":
        return read_json(path)
    return read_xml(path)


def default_programme(specialite: str) -> str:
    pid = "but-" + re.sub(r"[^a-z0-9]+", "-", nfc(specialite).lower()).strip("-")
    if not PROGRAMME_ID.match(pid):
        raise OrebutError(f"specialite {specialite!r} gives no usable programme id: pass --programme")
    return pid


# ---------------------------------------------------------------- RDF


class _Out:
    def __init__(self) -> None:
        self.triples: list[ox.Triple] = []

    def add(self, s: str, p: str, o: ox.NamedNode | ox.Literal | str) -> None:
        obj = ox.NamedNode(o) if isinstance(o, str) else o
        self.triples.append(ox.Triple(ox.NamedNode(s), ox.NamedNode(p), obj))

    def type(self, s: str, cls: str) -> None:
        self.add(s, RDF_TYPE, R + cls)


def _fr(text: str) -> ox.Literal:
    return ox.Literal(text, language="fr")


def _lit(text: str) -> ox.Literal:
    return ox.Literal(text)


def _integer(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer"))


def _decimal(value: str, where: str, what: str) -> ox.Literal:
    try:
        d = Decimal(value.strip().replace(",", "."))
    except InvalidOperation:
        raise OrebutError(f"{where}: {what} must be a number, found {value!r}") from None
    if not d.is_finite():
        raise OrebutError(f"{where}: {what} must be a number, found {value!r}")
    return ox.Literal(str(d), datatype=ox.NamedNode(XSD + "decimal"))


def _year(annee: str, where: str) -> int:
    m = re.fullmatch(r"\s*BUT\s*(\d+)\s*", annee)
    if not m:
        raise OrebutError(f"{where}: annee {annee!r} is not a BUT year (BUT1, BUT2, BUT3)")
    return int(m.group(1))


@dataclass
class Result:
    triples: list[ox.Triple]
    programme: str
    counts: dict[str, int]
    origins: dict[str, str] = field(default_factory=dict)
    """Of a JSON file: each entity's place in it (IRI → ``rt.json $['competences']['Administrer']``, an RFC
    9535 normalized path: ``member``), which the written file notes in a comment before the entity's first
    triple."""


def _source(out: _Out, pid: str, name: str, path: Path, fmt: str, graph: str, original: str | None = None) -> str:
    doc = mint(pid, "source", name)
    out.type(doc, "SourceDocument")
    out.add(doc, DCT + "title", _lit(path.name))
    out.add(doc, DCT + "format", _lit(fmt))
    if original:
        out.add(doc, DCT + "identifier", _lit(original))
    out.add(graph, PROV + "wasDerivedFrom", doc)
    return doc


def _periods(out: _Out, pid: str, programme: str, specialite: str | None, doc: str) -> str:
    scheme = mint(pid) + "/periods"
    out.add(scheme, DCT + "source", doc)
    out.add(scheme, RDF_TYPE, SKOS + "ConceptScheme")
    what = f" {specialite}" if specialite else ""
    out.add(scheme, SKOS + "prefLabel", _fr(f"Années et semestres du BUT{what}"))
    out.add(scheme, SKOS + "prefLabel", ox.Literal(f"Years and semesters of the BUT{what}", language="en"))
    out.add(scheme, R + "inProgramme", programme)
    return scheme


def referentiel_to_rdf(ref: Referentiel, pid: str, name: str, path: Path, graph: str, fmt: str) -> Result:
    out = _Out()
    P = mint(pid)
    origins: dict[str, str] = {}

    def came_from(iri: str, where: str) -> None:
        """The JSON path an entity was read at (``where``: ``FILE: $['path']``, as the reader names places)."""
        if fmt == formats.JSON.media:
            origins.setdefault(iri, f"{path.name} {where.removeprefix(f'{path}: ')}")

    came_from(P, "$")
    doc = _source(out, pid, name, path, fmt, graph, ref.original_name)
    out.type(P, "Programme")
    out.add(P, DCT + "conformsTo", PROFILE_IRI)
    out.add(P, SKOS + "notation", _lit(ref.specialite))
    title = f"{ref.type_titre or 'BUT'} {ref.specialite_long or ref.specialite}"
    out.add(P, SKOS + "prefLabel", _fr(title))
    if ref.specialite_long:
        out.add(P, R + "mention", _fr(ref.specialite_long))
    if ref.version:
        out.add(P, OWL + "versionInfo", _lit(ref.version))
    out.add(P, DCT + "source", doc)
    scheme = _periods(out, pid, P, ref.specialite, doc)

    # compétences by their (NFC) short name; parcours placements
    by_name: dict[str, Competence] = {}
    for c in ref.competences:
        if nfc(c.name) in by_name:
            raise OrebutError(f"{c.where}: a second compétence named {c.name!r}")
        by_name[nfc(c.name)] = c
    placed: dict[tuple[str, int], set[int]] = {}
    for p in ref.parcours:
        for y, refs in p.annees:
            for nom, rank, where in refs:
                c = by_name.get(nfc(nom))
                if c is None:
                    raise OrebutError(f"{where}: parcours {p.code!r} names a compétence {nom!r} the file does not define")
                if not any(nv.ordre == rank for nv in c.niveaux):
                    raise OrebutError(f"{where}: parcours {p.code!r} names niveau {rank} of {c.name!r}, which has no such niveau")
                placed.setdefault((nfc(nom), rank), set()).add(y)

    years: set[int] = set()
    counts = {"compétences": 0, "niveaux": 0, "apprentissages critiques": 0, "composantes essentielles": 0,
              "situations professionnelles": 0, "parcours": len(ref.parcours)}
    level_iri: dict[tuple[str, int], str] = {}
    level_year: dict[tuple[str, int], int] = {}
    for c in ref.competences:
        key = nfc(c.name)
        C = mint(pid, "competency", key)
        came_from(C, c.where)
        counts["compétences"] += 1
        out.type(C, "Competency")
        out.add(C, R + "inProgramme", P)
        out.add(C, SKOS + "prefLabel", _fr(c.name))
        if c.numero is not None:
            out.add(C, SKOS + "notation", _lit(c.numero))
        if c.titre_long:
            out.add(C, R + "longTitle", _fr(c.titre_long))
        if c.couleur:
            out.add(C, R + "colour", _lit(c.couleur))
        if c.id_orebut:
            out.add(C, DCT + "identifier", _lit(c.id_orebut))
        out.add(C, DCT + "source", doc)
        for kind, cls, prop, texts, counter, field_name in (
            ("situation", "ProfessionalSituation", "hasProfessionalSituation", c.situations, "situations professionnelles", "situations"),
            ("component", "EssentialComponent", "hasEssentialComponent", c.composantes, "composantes essentielles", "composantes_essentielles"),
        ):
            for i, text in enumerate(texts, 1):
                X = mint(pid, "competency", key, kind, str(i))
                came_from(X, f"{member(c.where, field_name)}[{i - 1}]")
                counts[counter] += 1
                out.type(X, cls)
                out.add(X, R + "inProgramme", P)
                out.add(X, SKOS + "prefLabel", _fr(text))
                out.add(X, R + "position", _integer(i))
                out.add(X, DCT + "source", doc)
                out.add(C, R + prop, X)
        starts_in_but1 = placed.get((key, 1)) == {1}
        for nv in c.niveaux:
            if (key, nv.ordre) in level_iri:
                raise OrebutError(f"{nv.where}: a second niveau {nv.ordre} of {c.name!r}")
            if nv.annee is not None:
                year = _year(nv.annee, nv.where)
            elif starts_in_but1:
                year = nv.ordre  # the compétence starts in BUT1: niveau n is in BUTn (Intranet IUT's fallback)
            else:
                raise OrebutError(
                    f"{nv.where}: niveau {nv.ordre} of compétence {c.name!r} has no annee, and no parcours places "
                    f"niveau 1 of {c.name!r} in BUT1, so its year cannot be told from its ordre (a compétence of a "
                    f"parcours may start in BUT2); add annee=\"BUTn\" to the niveau")
            where_placed = placed.get((key, nv.ordre))
            if where_placed and where_placed != {year}:
                raise OrebutError(f"{nv.where}: niveau {nv.ordre} of {c.name!r} is in BUT{year}, but a parcours places it "
                                  f"in year {', '.join(map(str, sorted(where_placed)))}")
            years.add(year)
            Y = mint(pid, "period", f"BUT{year}")
            L = mint(pid, "competency", key, "level", str(nv.ordre))
            level_iri[(key, nv.ordre)], level_year[(key, nv.ordre)] = L, year
            came_from(L, nv.where)
            counts["niveaux"] += 1
            out.type(L, "DevelopmentLevel")
            out.add(L, R + "inProgramme", P)
            out.add(L, SKOS + "prefLabel", _fr(nv.libelle))
            out.add(L, R + "levelRank", _integer(nv.ordre))
            out.add(L, R + "atStudyLevel", Y)
            out.add(L, DCT + "source", doc)
            out.add(C, R + "hasDevelopmentLevel", L)
            seen: set[str] = set()
            for i, (code, libelle) in enumerate(nv.acs, 1):
                if nfc(code) in seen:
                    raise OrebutError(f"{nv.where}: AC {code} appears twice in niveau {nv.ordre} of {c.name!r}")
                seen.add(nfc(code))
                A = mint(pid, "competency", key, "level", str(nv.ordre), "ac", nfc(code))
                came_from(A, member(member(nv.where, "app_critiques"), code))
                counts["apprentissages critiques"] += 1
                out.type(A, "CriticalLearning")
                out.add(A, R + "inProgramme", P)
                out.add(A, SKOS + "notation", _lit(code))
                out.add(A, SKOS + "prefLabel", _fr(libelle))
                out.add(A, R + "position", _integer(i))
                out.add(A, R + "atStudyLevel", Y)
                out.add(A, DCT + "source", doc)
                out.add(L, R + "levelHasCriticalLearning", A)

    for y in sorted(years):
        Y = mint(pid, "period", f"BUT{y}")
        out.type(Y, "StudyLevel")
        out.add(Y, R + "inProgramme", P)
        out.add(Y, SKOS + "inScheme", scheme)
        out.add(Y, SKOS + "topConceptOf", scheme)
        out.add(scheme, SKOS + "hasTopConcept", Y)
        out.add(Y, SKOS + "notation", _lit(f"BUT{y}"))
        out.add(Y, SKOS + "prefLabel", _fr(f"BUT{y}"))
        out.add(Y, SKOS + "prefLabel", ox.Literal(f"BUT year {y}", language="en"))
        out.add(Y, R + "periodOrder", _integer(y))
        out.add(Y, DCT + "source", doc)

    in_parcours: dict[str, set[str]] = {}
    for p in ref.parcours:
        Pa = mint(pid, "parcours", nfc(p.code))
        came_from(Pa, p.where)
        out.type(Pa, "Parcours")
        out.add(Pa, R + "inProgramme", P)
        out.add(Pa, R + "parcoursOf", P)
        out.add(Pa, SKOS + "notation", _lit(p.code))
        if p.libelle:
            out.add(Pa, SKOS + "prefLabel", _fr(p.libelle))
        out.add(Pa, DCT + "source", doc)
        for _y, refs in p.annees:
            for nom, rank, _where in refs:
                out.add(Pa, R + "parcoursIncludesLevel", level_iri[(nfc(nom), rank)])
                in_parcours.setdefault(nfc(nom), set()).add(Pa)
    all_parcours = {mint(pid, "parcours", nfc(p.code)) for p in ref.parcours}
    for key, ps in in_parcours.items():
        if ps != all_parcours:
            for Pa in sorted(ps):
                out.add(mint(pid, "competency", key), R + "specificToParcours", Pa)
    return Result(out.triples, P, counts, origins)


# ---------------------------------------------------------------- formation, resolved against the compétences


@dataclass
class Known:
    """What the imported référentiel de compétences of one programme names."""

    programme: str
    files: list[Path]
    competencies: dict[str, str]  # NFC short name → IRI
    acs: dict[str, list[str]]  # NFC code → IRIs
    years: dict[int, str]


def but_programmes(folder: Path, skip: Path | None = None) -> dict[str, list[Path]]:
    """Programmes of ``folder``'s N-Triples files that declare the BUT profile, with the files that say so."""
    needle = f"<{DCT}conformsTo> <{PROFILE_IRI}>".encode()
    found: dict[str, list[Path]] = {}
    if not folder.is_dir():
        return found
    for f in sorted(folder.glob("*.nt")):
        if skip is not None and f.resolve() == skip.resolve():
            continue
        with f.open("rb") as lines:
            for line in lines:
                if needle in line:
                    found.setdefault(line.split(b">", 1)[0].lstrip(b"<").decode(), []).append(f)
    return found


def known(programme: str, files: list[Path]) -> Known:
    store = ox.Store()
    for f in files:
        store.bulk_load(path=str(f), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph())
    values = f"VALUES ?p {{ {ox.NamedNode(programme)} }}"  # a NamedNode checks the IRI; Oxigraph substitutes projected variables only
    q = lambda text: store.query(text.replace("WHERE {", "WHERE { " + values, 1), prefixes={"rkg": R, "skos": str(SKOS)})  # noqa: E731
    comps = {nfc(r["n"].value): r["c"].value for r in q("SELECT ?c ?n WHERE { ?c a rkg:Competency ; rkg:inProgramme ?p ; skos:prefLabel ?n }")}
    acs: dict[str, list[str]] = {}
    for r in q("SELECT ?a ?n WHERE { ?a a rkg:CriticalLearning ; rkg:inProgramme ?p ; skos:notation ?n }"):
        acs.setdefault(nfc(r["n"].value), []).append(r["a"].value)
    years = {int(r["o"].value): r["y"].value for r in q("SELECT ?y ?o WHERE { ?y a rkg:StudyLevel ; rkg:inProgramme ?p ; rkg:periodOrder ?o }")}
    return Known(programme, files, comps, acs, years)


def formation_to_rdf(f: Formation, k: Known, name: str, path: Path, graph: str) -> Result:
    out = _Out()
    P = k.programme
    pid = P.rsplit("/", 1)[-1]
    doc = _source(out, pid, name, path, formats.XML, graph)
    out.add(P, DCT + "source", doc)
    scheme = mint(pid) + "/periods"
    codes = {(i.kind, nfc(i.code)) for s in f.semestres for i in s.items}
    counts = {"semestres": 0, "ressources": 0, "SAÉ": 0, "AC links": 0, "coefficients": 0}
    seen_sem: set[int] = set()
    seen_items: set[tuple[str, str]] = set()
    for s in f.semestres:
        if s.numero in seen_sem:
            raise OrebutError(f"{s.where}: a second semestre {s.numero}")
        seen_sem.add(s.numero)
        Y = k.years.get(s.ordre_annee)
        if Y is None:
            raise OrebutError(f"{s.where}: semestre {s.numero} is in year {s.ordre_annee}, which the référentiel de "
                              f"compétences of {P} does not have")
        S = mint(pid, "period", f"S{s.numero}")
        counts["semestres"] += 1
        out.type(S, "StudyPeriod")
        out.add(S, R + "inProgramme", P)
        out.add(S, SKOS + "inScheme", scheme)
        out.add(S, SKOS + "notation", _lit(f"S{s.numero}"))
        out.add(S, SKOS + "prefLabel", _fr(f"Semestre {s.numero}"))
        out.add(S, SKOS + "prefLabel", ox.Literal(f"Semester {s.numero}", language="en"))
        out.add(S, R + "periodOrder", _integer(s.numero))
        out.add(S, DCT + "source", doc)
        out.add(S, SKOS + "broader", Y)
        out.add(Y, SKOS + "narrower", S)
        for it in s.items:
            if (it.kind, nfc(it.code)) in seen_items:
                raise OrebutError(f"{it.where}: {it.code} is defined twice")
            seen_items.add((it.kind, nfc(it.code)))
            X = mint(pid, it.kind, nfc(it.code))
            counts["ressources" if it.kind == "resource" else "SAÉ"] += 1
            out.type(X, "Resource" if it.kind == "resource" else "LearningSituation")
            out.add(X, R + "inProgramme", P)
            out.add(X, SKOS + "notation", _lit(it.code))
            if it.titre:
                out.add(X, SKOS + "prefLabel", _fr(it.titre))
            if it.description:
                out.add(X, DCT + "description", _fr(it.description))
            if it.mots_cles:
                out.add(X, DCT + "subject", _fr(it.mots_cles))
            if it.exemples:
                out.add(X, SKOS + "example", _fr(it.exemples))
            out.add(X, R + "inPeriod", S)
            out.add(X, DCT + "source", doc)
            for attr, prop in (("heuresCMTD", "hoursCMTD"), ("heuresTP", "hoursTP"), ("heuresProjet", "hoursProject")):
                if attr in it.hours:
                    out.add(X, R + prop, _decimal(it.hours[attr], it.where, attr))
            for code, where in it.acs:
                targets = k.acs.get(nfc(code), [])
                if len(targets) != 1:
                    why = "is not an AC of" if not targets else f"names {len(targets)} ACs of"
                    raise OrebutError(f"{where}: {code} {why} the référentiel de compétences of {P}")
                out.add(X, R + "mobilisesCriticalLearning", targets[0])
                counts["AC links"] += 1
            for nom, coef, where in it.competences:
                C = k.competencies.get(nfc(nom))
                if C is None:
                    raise OrebutError(f"{where}: {nom!r} is not a compétence of the référentiel de compétences of {P}")
                out.add(X, R + "mobilisesCompetency", C)
                if coef is not None and coef.strip():
                    K = mint(pid, it.kind, nfc(it.code), "coefficient", nfc(nom))
                    out.type(K, "CompetencyCoefficient")
                    out.add(K, R + "inProgramme", P)
                    out.add(K, R + "coefficientForCompetency", C)
                    out.add(K, R + "coefficient", _decimal(coef, where, "coefficient"))
                    out.add(K, DCT + "source", doc)
                    out.add(X, R + "hasCompetencyCoefficient", K)
                    counts["coefficients"] += 1
            for code, where in it.ressources:
                if ("resource", nfc(code)) not in codes:
                    raise OrebutError(f"{where}: {code} is not a ressource of this file")
                out.add(X, R + "usesResource", mint(pid, "resource", nfc(code)))
    return Result(out.triples, P, counts)


def import_file(path: Path, folder: Path, name: str, programme: str | None, graph: str) -> Result:
    """Read ``path`` and turn it into the triples of the import ``name`` (nothing is written here)."""
    if programme is not None and not PROGRAMME_ID.match(programme):
        raise OrebutError(f"--programme {programme!r}: use lower-case letters, digits and '-' (e.g. but-rt)")
    data = read(path)
    target = folder / f"{name}.nt"
    if isinstance(data, Referentiel):
        pid = programme or default_programme(data.specialite)
        fmt = formats.JSON.media if path.suffix.lower() == ".json" else formats.XML
        return referentiel_to_rdf(data, pid, name, path, graph, fmt)
    for iri, files in but_programmes(folder).items():
        if target.exists() and target.resolve() in {f.resolve() for f in files}:
            raise OrebutError(f"{path}: the import {name!r} holds the référentiel de compétences of {iri.rsplit('/', 1)[-1]}; "
                              f"give the référentiel de formation another --name")
    found = but_programmes(folder, skip=target)
    if programme is not None:
        iri = mint(programme)
        if iri not in found:
            raise OrebutError(f"{path}: a référentiel de formation, for {programme}, but no référentiel de compétences of "
                              f"{programme} has been imported (rkg import orebut COMPETENCES first)")
    elif len(found) == 1:
        iri = next(iter(found))
    elif not found:
        raise OrebutError(f"{path}: a référentiel de formation names no programme, and no BUT référentiel de compétences "
                          f"has been imported: import the référentiel de compétences first, or pass --programme ID")
    else:
        ids = ", ".join(sorted(i.rsplit("/", 1)[-1] for i in found))
        raise OrebutError(f"{path}: a référentiel de formation names no programme, and several BUT programmes are imported "
                          f"({ids}): pass --programme ID")
    return formation_to_rdf(data, known(iri, found[iri]), name, path, graph)

