"""The graph the servers under test serve: built once into a test folder (again only when a source
changed), its size, and persistent stores made from it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from .paths import ROOT, W3C


def ensure_built(build_dir: Path, data: Sequence[Path] = ()) -> Path:
    """Build the project's sources (and the extra data folders ``data``, as ``--data`` does) into
    ``build_dir`` unless what is there is up to date; return the built N-Quads file. ``rkg serve
    --build-dir build_dir --data …`` then finds it fresh and does not build again."""
    from rkg import build as build_mod
    from rkg.project import Project

    project = Project.locate(ROOT, build_dir, data)
    if build_mod.is_stale(project.root, project.build_dir, project.extra_data):
        project.build()
    return project.build_dir / build_mod.NQUADS_NAME


def union_triples(nquads: Path) -> int:
    """Triples of the union of the graphs of ``nquads`` (a triple in two graphs counts once), the number
    ``/health`` reports as ``triples``."""
    import pyoxigraph as ox

    store = ox.Store()
    store.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    return int(next(iter(store.query(query, use_default_graph_as_union=True)))["n"].value)


def w3c_graphs() -> dict[str, Path]:
    """Named graph IRI → data file, as the W3C protocol manifest's ``ut:graphData`` entries name them."""
    from rdflib import Graph, Namespace
    from rdflib.namespace import RDFS

    ut = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
    manifest = Graph().parse(W3C / "manifest.ttl", format="turtle", publicID=(W3C / "manifest.ttl").as_uri())
    graphs: dict[str, Path] = {}
    for data in manifest.objects(None, ut.graphData):
        file, label = manifest.value(data, ut.graph), manifest.value(data, RDFS.label)
        graphs[str(label)] = Path(url2pathname(urlparse(str(file)).path))
    return graphs


def make_store(folder: Path, nquads: Path | None, *, w3c: bool = True) -> Path:
    """A persistent pyoxigraph store in ``folder`` holding ``nquads`` (if given) and, with ``w3c``, the
    W3C protocol test data in the named graphs its manifest names; closed again, ready for ``--location``."""
    import pyoxigraph as ox

    store = ox.Store(str(folder))
    if nquads is not None:
        store.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    if w3c:
        for graph, file in w3c_graphs().items():
            store.bulk_load(path=str(file), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
    store.flush()
    del store
    return folder
