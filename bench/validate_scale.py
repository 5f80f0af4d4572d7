"""Validation at scale (issue 12): `rkg validate` beside ESCO-shaped imports of growing size.

For each size N (triples of imports), a build folder of its own gets ``imports/esco-bench.nt``: N-Triples
shaped like what ``rkg import esco`` writes (server/rkg/interop/esco.py: occupations and skills as
skos:Concept + esco:Occupation|Skill + esco:MemberConcept, labels in several languages, alt labels,
descriptions, schemes, status, dates, notations, skos:broader towards ISCO groups and skill groups, essential
and optional skills with their inverses). Then `rkg build --build-dir DIR`, and, timed as whole commands:

* `rkg validate` with no imports (the baseline: a build folder without imports/);
* `rkg validate` with the imports present (the référentiels only: the imports are left out);
* `rkg validate --include-imports --engine turbo`;
* `rkg validate --include-imports --engine pyshacl`, only at sizes up to ``--pyshacl-max`` (it takes minutes).

Each command runs ``--rounds`` times (default 1) after one unmeasured warm-up (none for the long
--include-imports runs); wall seconds and peak memory (the child's ru_maxrss). Results:
bench/results/validate_scale.md (git-ignored); the section "Validation at scale" of bench/summary.md is
written from the same table with ``--summary``.

    python bench/validate_scale.py --sizes 500000 2000000 [--summary]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from referentiels import timed  # noqa: E402  (one timer for the benches that time whole rkg commands)

ROOT = Path(__file__).resolve().parents[1]
RKG = [sys.executable, "-m", "rkg"]
SUMMARY = ROOT / "bench" / "summary.md"
SECTION = "## Validation at scale"

ESCO = "http://data.europa.eu/esco/"
MODEL = ESCO + "model#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
LANGS = ("en", "fr", "de")


def _lit(text: str, lang: str) -> str:
    return f'"{text}"@{lang}'


def write_esco(path: Path, triples: int) -> int:
    """ESCO-shaped N-Triples, at least ``triples`` lines (about 40 per occupation, 30 per skill); the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    skills_per_occupation = 10
    with path.open("w", encoding="utf-8") as f:
        def t(s: str, p: str, o: str) -> None:
            nonlocal n
            f.write(f"<{s}> <{p}> {o} .\n")
            n += 1

        groups = [f"{ESCO}skill/group-{g}" for g in range(200)]
        for g, group in enumerate(groups):
            t(group, RDF_TYPE, f"<{SKOS}Concept>")
            t(group, f"{SKOS}prefLabel", _lit(f"skill group {g}", "en"))
            t(group, f"{SKOS}inScheme", f"<{ESCO}concept-scheme/skills>")
        for isco in range(100):
            t(f"{ESCO}isco/C{1000 + isco}", RDF_TYPE, f"<{SKOS}Concept>")
            t(f"{ESCO}isco/C{1000 + isco}", f"{SKOS}notation", f'"{1000 + isco}"')
        i = 0
        while n < triples:
            occupation = f"{ESCO}occupation/bench-{i}"
            for kind in (f"{SKOS}Concept", f"{MODEL}Occupation", f"{MODEL}MemberConcept"):
                t(occupation, RDF_TYPE, f"<{kind}>")
            for lang in LANGS:
                t(occupation, f"{SKOS}prefLabel", _lit(f"occupation {i} ({lang})", lang))
                t(occupation, f"{SKOS}altLabel", _lit(f"job {i} ({lang})", lang))
            t(occupation, f"{DCT}description", _lit(f"What occupation {i} does, in a sentence or two.", "en"))
            t(occupation, f"{SKOS}inScheme", f"<{ESCO}concept-scheme/occupations>")
            t(occupation, f"{MODEL}status", '"released"')
            t(occupation, f"{DCT}modified", f'"2023-12-0{1 + i % 9}T10:00:00Z"^^<{XSD_DATETIME}>')
            t(occupation, f"{SKOS}notation", f'"{1000 + i % 100}.{i}"')
            t(occupation, f"{SKOS}broader", f"<{ESCO}isco/C{1000 + i % 100}>")
            for k in range(skills_per_occupation):
                skill = f"{ESCO}skill/bench-{i}-{k}"
                related = "relatedEssentialSkill" if k < 6 else "relatedOptionalSkill"
                inverse = "isEssentialSkillFor" if k < 6 else "isOptionalSkillFor"
                t(occupation, MODEL + related, f"<{skill}>")
                t(skill, MODEL + inverse, f"<{occupation}>")
                for kind in (f"{SKOS}Concept", f"{MODEL}Skill", f"{MODEL}MemberConcept"):
                    t(skill, RDF_TYPE, f"<{kind}>")
                for lang in LANGS:
                    t(skill, f"{SKOS}prefLabel", _lit(f"skill {i}.{k} ({lang})", lang))
                t(skill, f"{SKOS}altLabel", _lit(f"ability {i}.{k}", "en"))
                t(skill, f"{SKOS}hiddenLabel", _lit(f"abil {i}.{k}", "en"))
                t(skill, f"{DCT}description", _lit(f"What skill {i}.{k} is about.", "en"))
                t(skill, f"{SKOS}inScheme", f"<{ESCO}concept-scheme/skills>")
                t(skill, f"{MODEL}skillType", f"<{ESCO}skill-type/skill>")
                t(skill, f"{MODEL}skillReuseLevel", f"<{ESCO}skill-reuse-level/sector-specific>")
                t(skill, f"{MODEL}status", '"released"')
                t(skill, f"{SKOS}broader", f"<{groups[(i + k) % len(groups)]}>")
            i += 1
    return n


def measure(name: str, cmd: list[str], rounds: int, warmup: bool = True) -> dict:
    runs = []
    for i in range(rounds + (1 if warmup else 0)):
        seconds, rss, code = timed(cmd)
        if code not in (0, 1):  # 1: findings, a report all the same
            raise SystemExit(f"{name}: exit {code}: {' '.join(cmd)}")
        if i or not warmup:
            runs.append((seconds, rss))
    times = [s for s, _ in runs]
    return {"name": name, "median": statistics.median(times), "min": min(times), "max": max(times),
            "peak_mib": max(r for _, r in runs) / 1024, "rounds": len(runs)}


def commands(folder: Path, pyshacl: bool = True) -> list[tuple[str, list[str]]]:
    """The timed ``rkg validate`` commands on the build folder ``folder`` (which has imports): name and
    command line, the pySHACL one only with ``pyshacl`` (bench/scale.py runs them too)."""
    out = [("validate, imports present", [*RKG, "validate", "--build-dir", str(folder), "-q"]),
           ("validate --include-imports --engine turbo",
            [*RKG, "validate", "--build-dir", str(folder), "-q", "--include-imports", "--engine", "turbo"])]
    if pyshacl:
        out.append(("validate --include-imports --engine pyshacl",
                    [*RKG, "validate", "--build-dir", str(folder), "-q", "--include-imports", "--engine", "pyshacl"]))
    return out


def warmup(name: str) -> bool:
    """Whether a command gets an unmeasured warm-up run: not the long --include-imports ones."""
    return "include" not in name


def run(sizes: list[int], rounds: int = 1, pyshacl_max: int = 500_000, work: Path | None = None) -> list[dict]:
    """Build and time, for each size; the rows of the table (one per size and command)."""
    own = work is None
    work = work or Path(tempfile.mkdtemp(prefix="rkg-bench-validate-"))
    rows: list[dict] = []
    try:
        base = work / "no-imports"
        subprocess.run([*RKG, "build", "--build-dir", str(base), "-q"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        baseline = measure("validate (no imports)", [*RKG, "validate", "--build-dir", str(base), "-q"], rounds)
        for size in sizes:
            folder = work / f"imports-{size}"
            started = time.perf_counter()
            written = write_esco(folder / "imports" / "esco-bench.nt", size)
            subprocess.run([*RKG, "build", "--build-dir", str(folder), "-q"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            print(f"size {size}: {written} triples written and built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            cmds = [("validate (no imports)", None), *commands(folder, size <= pyshacl_max)]
            for name, cmd in cmds:
                row = dict(baseline) if cmd is None else measure(name, cmd, rounds, warmup=warmup(name))
                row.update(size=written, ratio=row["median"] / baseline["median"])
                rows.append(row)
                print(f"  {name}: {row['median']:.1f} s", file=sys.stderr)
            shutil.rmtree(folder)
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| import triples | command | median s | min s | max s | runs | × no imports | peak MiB |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['size']:,} | `{r['name']}` | {r['median']:.1f} | {r['min']:.1f} | {r['max']:.1f} | "
                     f"{r['rounds']} | {r['ratio']:.2f} | {r['peak_mib']:.0f} |")
    return "\n".join(lines) + "\n"


def write_summary(text: str) -> None:
    """Replace (or append) the section "Validation at scale" of bench/summary.md."""
    old = SUMMARY.read_text(encoding="utf-8") if SUMMARY.exists() else ""
    start = old.find(SECTION)
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = old.find("\n## ", start + len(SECTION))
        new = old[:start] + text + (old[end + 1:] if end >= 0 else "")
    SUMMARY.write_text(new, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500_000, 2_000_000])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--pyshacl-max", type=int, default=500_000, help="the largest size also run with --engine pyshacl")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--summary", action="store_true", help="write the table into bench/summary.md too")
    args = parser.parse_args()
    rows = run(args.sizes, args.rounds, args.pyshacl_max)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    body = (f"{SECTION}\n\n`bench/validate_scale.py --sizes {' '.join(map(str, args.sizes))}` ({when}, commit {commit}, "
            f"{os.cpu_count()} cores): the bundled référentiel beside ESCO-shaped imports, whole `rkg validate` "
            f"commands, wall seconds.\n\n" + table(rows))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "validate_scale.md").write_text(body, encoding="utf-8")
    sys.stdout.write(body)
    if args.summary:
        write_summary(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
