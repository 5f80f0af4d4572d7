"""Named queries: read ``queries/*.rq`` headers (grlc/BASIL decorators), check and bind parameters, run.

Header lines start with ``#+`` and hold YAML, as grlc reads them::

    #+ summary: UEs covering a generic dimension
    #+ summary_fr: UE couvrant une dimension générique
    #+ description: ...
    #+ tags:
    #+   - coverage
    #+ defaults:
    #+   - programme: https://w3id.org/rkg/id/rncp31854-pif

Parameters follow grlc: ``?_name`` is required, ``?__name`` optional, and a suffix gives the type
(``?_block_iri``, ``?_n_integer``, ``?_text_fr`` for a literal in French). Values are bound as typed
RDF terms (an inline ``VALUES`` block, see ``bindings``), never pasted into the query text. A parameter
must therefore be used in the query's top-level WHERE group (or in its FILTER/EXISTS), not only inside a
UNION branch or a subquery, which SPARQL evaluates without the outer bindings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

from . import lexer
from .build import search_key
from .errors import InputError, NotFound
from .namespaces import ID, XSD, programme_id, programme_iri, prologue
from .store import Store, Table

_PARAM = re.compile(r"[?$](__?)([A-Za-z][A-Za-z0-9]*)(?:_([A-Za-z]+))?")
_TYPES = {"iri", "integer", "number", "literal"}
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|^`\\]*$")


class ParameterError(InputError):
    """A parameter value does not fit the query's header: says which and what is allowed."""


class QueryFileError(InputError):
    """A query file's ``#+`` header or parameter variables are malformed: says which file and what to fix."""


class UnknownQuery(NotFound):
    """No named query and no ``.rq`` file by that name: says which queries there are."""


class UnknownProgramme(ParameterError):
    """The ``programme`` parameter names no ``rkg:Programme`` of the graph: says which ones it holds."""


PROGRAMMES = prologue("rkg") + """SELECT DISTINCT ?programme WHERE { ?programme a rkg:Programme }
"""
"""The programmes of a graph (their IRIs): what a ``programme`` parameter is checked against."""


@dataclass(frozen=True)
class Parameter:
    name: str
    variable: str
    type: str
    """``iri``, ``integer``, ``literal`` or a two-letter language tag."""
    required: bool
    default: str | None = None
    allowed: tuple[str, ...] = ()

    def bind(self, raw: str) -> ox.NamedNode | ox.Literal:
        if self.allowed and raw not in self.allowed:
            raise ParameterError(f"parameter '{self.name}': '{raw}' is not allowed; allowed values: {', '.join(self.allowed)}")
        if self.type == "iri":
            if self.name == "programme":
                raw = programme_iri(raw)
            if not _IRI.match(raw):
                raise ParameterError(f"parameter '{self.name}': '{raw}' is not an absolute IRI (e.g. https://w3id.org/rkg/id/...)")
            return ox.NamedNode(raw)
        if self.type in ("integer", "number"):
            if not re.fullmatch(r"[+-]?\d+", raw.strip()):
                raise ParameterError(f"parameter '{self.name}': '{raw}' is not an integer")
            return ox.Literal(raw.strip(), datatype=ox.NamedNode(XSD + "integer"))
        if self.type == "literal":
            return ox.Literal(raw)
        return ox.Literal(raw, language=self.type)


@dataclass(frozen=True)
class NamedQuery:
    name: str
    path: Path
    text: str
    meta: dict[str, Any]
    parameters: tuple[Parameter, ...]
    qc: bool = False

    @property
    def summary(self) -> str:
        return str(self.meta.get("summary", self.name))

    def summary_in(self, lang: str) -> str:
        return str(self.meta.get(f"summary_{lang}") or self.summary)

    @property
    def severity(self) -> str:
        """For QC queries: ``violation`` (default), ``warning`` or ``info``."""
        return str(self.meta.get("severity", "violation")).lower()

    def bindings(self, values: Mapping[str, str]) -> dict[str, ox.NamedNode | ox.Literal]:
        known = {p.name for p in self.parameters}
        unknown = sorted(set(values) - known)
        if unknown:
            hint = ", ".join(sorted(known)) or "none"
            raise ParameterError(f"query '{self.name}' has no parameter '{unknown[0]}'; its parameters: {hint}")
        out: dict[str, ox.NamedNode | ox.Literal] = {}
        for p in self.parameters:
            raw = values.get(p.name, p.default)
            if raw is None:
                if p.required:
                    raise ParameterError(f"query '{self.name}' needs parameter '{p.name}' ({p.type})")
                continue
            if p.name in self.folded:
                raw = search_key(str(raw))
            out[p.variable] = p.bind(str(raw))
        return out

    def programme(self, bindings: Mapping[str, ox.NamedNode | ox.Literal]) -> ox.NamedNode | None:
        """The programme these bindings ask for (the ``programme`` IRI parameter), or None."""
        p = next((p for p in self.parameters if p.name == "programme" and p.type == "iri"), None)
        value = bindings.get(p.variable) if p is not None else None
        return value if isinstance(value, ox.NamedNode) else None

    def check_programme(self, bindings: Mapping[str, ox.NamedNode | ox.Literal], known: Iterable[str]) -> None:
        """Refuse a ``programme`` that is not one of ``known`` (the graph's programme IRIs): an unknown id
        would otherwise answer an empty table, as if the programme had nothing."""
        asked = self.programme(bindings)
        if asked is None:
            return
        known = sorted(set(known))
        if asked.value not in known:
            ids = ", ".join(_short(k) for k in known) or "none"
            raise UnknownProgramme(f"parameter 'programme': no programme '{_short(asked.value)}' in the graph; "
                                   f"known programmes: {ids}")

    @property
    def folded(self) -> set[str]:
        """Parameters compared with the build's search keys: folded the same way (``#+ fold:``)."""
        return {str(n) for n in self.meta.get("fold") or []}


def _short(iri: str) -> str:
    """A programme IRI as its short id when it is one of ours (``rncp31854-pif``), else as written."""
    return programme_id(iri) if iri.startswith(str(ID)) and programme_iri(programme_id(iri)) == iri else iri


def parse_header(text: str) -> dict[str, Any]:
    lines = []
    for line in text.splitlines():
        if line.startswith("#+"):
            lines.append(line[3:] if line.startswith("#+ ") else line[2:])
        elif line.strip() and not line.startswith("#"):
            break
    meta = yaml.safe_load("\n".join(lines)) if lines else {}
    if not isinstance(meta, dict):
        raise QueryFileError("the #+ header is not a YAML mapping")
    return meta


def _pairs(value: Any) -> dict[str, Any]:
    """grlc writes ``defaults`` as a list of one-key mappings; accept a mapping too."""
    if isinstance(value, dict):
        return dict(value)
    out: dict[str, Any] = {}
    for item in value or []:
        if isinstance(item, dict):
            out.update(item)
    return out


def load(path: Path, qc: bool = False) -> NamedQuery:
    text = path.read_text(encoding="utf-8")
    try:
        meta = parse_header(text)
    except (yaml.YAMLError, ValueError, QueryFileError) as e:  # ValueError: a date YAML cannot read
        raise QueryFileError(f"{path}: bad #+ header: {e}") from None
    defaults = _pairs(meta.get("defaults"))
    allowed = _pairs(meta.get("allowed"))
    params: dict[str, Parameter] = {}
    for kind, token, _ in lexer.tokens(text):  # variables only: not inside strings, IRIs or comments
        if kind != "var" or token[1:2] != "_":
            continue
        m = _PARAM.fullmatch(token)
        if m is None:
            raise QueryFileError(f"{path}: variable {token} starts with '_' (a parameter) but is not ?_name or ?_name_type")
        optional, name, typ = m.group(1) == "__", m.group(2), (m.group(3) or "literal")
        if typ.lower() not in _TYPES and not re.fullmatch(r"[a-z]{2}", typ):
            raise QueryFileError(f"{path}: parameter ?{token[1:]} has an unknown type '{typ}' "
                                 f"(known: {', '.join(sorted(_TYPES))}, or a two-letter language tag)")
        variable = token[1:]
        if name not in params:
            default = defaults.get(name)
            params[name] = Parameter(
                name, variable, typ.lower(), required=not optional,
                default=None if default is None else str(default),
                allowed=tuple(str(v) for v in allowed.get(name, ())),
            )
    return NamedQuery(path.stem, path, text, meta, tuple(params.values()), qc)


@dataclass
class Catalog:
    folder: Path
    queries: dict[str, NamedQuery] = field(default_factory=dict)

    @classmethod
    def from_folder(cls, folder: Path) -> "Catalog":
        cat = cls(folder)
        for p in sorted(folder.glob("*.rq")):
            cat.queries[p.stem] = load(p)
        for p in sorted((folder / "qc").glob("*.rq")):
            cat.queries[f"qc/{p.stem}"] = load(p, qc=True)
        return cat

    def get(self, name_or_file: str) -> NamedQuery:
        if name_or_file in self.queries:
            return self.queries[name_or_file]
        path = Path(name_or_file)
        if path.suffix == ".rq" and path.is_file():
            return load(path)
        names = ", ".join(n for n in self.queries if not n.startswith("qc/"))
        raise UnknownQuery(f"no query named '{name_or_file}' and no such .rq file; named queries: {names}")

    @property
    def qc(self) -> list[NamedQuery]:
        return [q for q in self.queries.values() if q.qc]


def programmes(store: Store) -> list[str]:
    """IRIs of the graph's programmes."""
    return [str(r[0]) for r in store.select(PROGRAMMES).values()]


def run(store: Store, query: NamedQuery, values: Mapping[str, str] | None = None) -> Table:
    """Run a SELECT named query with checked, typed parameters; a ``programme`` must be one of the graph's."""
    bindings = query.bindings(values or {})
    if query.programme(bindings) is not None:
        query.check_programme(bindings, programmes(store))
    return store.select(query.text, bindings)
