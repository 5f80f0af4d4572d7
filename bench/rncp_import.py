"""Memory of `rkg import rncp` on large synthetic RNCP exports: the streaming importer against reading the
whole XML tree first, side by side, at several export sizes.

    .venv/bin/python bench/rncp_import.py [--sizes 1000 10000 30000]

For each size the script writes a synthetic export v4.1 (``synthetic_export``: every fiche with ROME,
NSF and Formacode codes, a certifier and four blocks whose competency lists are HTML fragments), then runs,
each in a fresh child process, (a) ``rkg.interop.rncp.import_xml`` and (b) the same mapping after
``xml.etree.ElementTree.parse`` of the whole file, and records each child's peak resident memory
(``ru_maxrss``) and time. Results go to ``bench/results/rncp-import-<UTC time>.json`` and ``.md``.
Streaming memory should stay flat as the export grows; the whole-tree baseline grows with it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"

CHILD = r"""
import resource, sys, time
from pathlib import Path
mode, source, target = sys.argv[1:4]
started = time.perf_counter()
if mode == "stream":
    from rkg.interop.rncp import import_xml
    fiches = import_xml(Path(source), Path(target)).fiches
else:
    import xml.etree.ElementTree as ET
    import pyoxigraph as ox
    from rkg.interop.rncp import fiche_quads
    tree = ET.parse(source)
    fiches = 0
    with open(target, "wb") as f:
        for fiche in tree.getroot().iter("FICHE"):
            ox.serialize(fiche_quads(fiche)[1], f, ox.RdfFormat.N_QUADS)
            fiches += 1
print(fiches, time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def synthetic_export(path: Path, fiches: int) -> None:
    """An RNCP export v4.1 of ``fiches`` made-up fiches (numbers RNCP900000…), written as a stream."""
    competencies = "".join(f"&lt;p&gt;- Comp&amp;eacute;tence {i} du bloc&lt;br/&gt;&lt;/p&gt;" for i in range(1, 9))
    with path.open("w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<FICHES>\n')
        for n in range(fiches):
            number = f"RNCP{900000 + n}"
            blocks = "".join(
                f"<BLOC_COMPETENCES><CODE>{number}BC0{b}</CODE><LIBELLE>Bloc {b} de la fiche {n}</LIBELLE>"
                f"<LISTE_COMPETENCES>{competencies}</LISTE_COMPETENCES>"
                f"<MODALITES_EVALUATION>Étude de cas ; mise en situation ; dossier</MODALITES_EVALUATION></BLOC_COMPETENCES>"
                for b in range(1, 5))
            f.write(f"<FICHE><ID_FICHE>{n}</ID_FICHE><NUMERO_FICHE>{number}</NUMERO_FICHE>"
                    f"<INTITULE>{escape(f'Titre synthétique n° {n} & co')}</INTITULE><ETAT_FICHE>Publiée</ETAT_FICHE><ACTIF>Oui</ACTIF>"
                    f"<NOMENCLATURE_EUROPE><NIVEAU>NIV{1 + n % 8}</NIVEAU></NOMENCLATURE_EUROPE>"
                    f"<CODES_ROME><ROME><CODE>K{2100 + n % 50}</CODE><LIBELLE>Rome {n % 50}</LIBELLE></ROME></CODES_ROME>"
                    f"<CODES_NSF><NSF><CODE>{300 + n % 40}</CODE><INTITULE>Nsf {n % 40}</INTITULE></NSF></CODES_NSF>"
                    f"<FORMACODES><FORMACODE><CODE>{44000 + n % 900}</CODE><LIBELLE>Formacode</LIBELLE></FORMACODE></FORMACODES>"
                    f"<CERTIFICATEURS><CERTIFICATEUR><SIRET_CERTIFICATEUR>{10000000000000 + n % 700}</SIRET_CERTIFICATEUR>"
                    f"<NOM_CERTIFICATEUR>Certificateur {n % 700}</NOM_CERTIFICATEUR></CERTIFICATEUR></CERTIFICATEURS>"
                    f"<BLOCS_COMPETENCES>{blocks}</BLOCS_COMPETENCES><DATE_DECISION>2021-06-30</DATE_DECISION></FICHE>\n")
        f.write("</FICHES>\n")


def run(mode: str, source: Path, target: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(source), str(target)], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    fiches, seconds, kib = out.stdout.split()
    return {"mode": mode, "fiches": int(fiches), "seconds": round(float(seconds), 2), "peak_mib": round(int(kib) / 1024, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 30000], help="fiches per synthetic export")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            source = Path(tmp) / f"export-{size}.xml"
            synthetic_export(source, size)
            mb = source.stat().st_size / 1e6
            for mode in ("stream", "whole-tree"):
                r = run(mode, source, Path(tmp) / f"{mode}-{size}.nq")
                r["export_mb"] = round(mb, 1)
                rows.append(r)
                print(f"{size:>7} fiches  {mb:>7.1f} MB  {mode:<10}  {r['seconds']:>7.2f} s  peak {r['peak_mib']:>8.1f} MiB", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    (RESULTS / f"rncp-import-{stamp}.json").write_text(json.dumps(rows, indent=1))
    table = ["| fiches | export (MB) | mode | time (s) | peak memory (MiB) |", "|---:|---:|---|---:|---:|"]
    table += [f"| {r['fiches']} | {r['export_mb']} | {r['mode']} | {r['seconds']} | {r['peak_mib']} |" for r in rows]
    (RESULTS / f"rncp-import-{stamp}.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
