"""Speed of the référentiel work of issue 10, measured as a user meets it (whole `rkg` commands):

1. `rkg import orebut` of a BUT référentiel: the real RT export (tests/reference/scodoc/rt.json) and the
   made-up Orébut XML pair (compétences, then formation);
2. `rkg validate` of the bundled Master alone, then of the Master beside three BUTs (RT under two ids
   and the DEMO pair), each in a build folder of its own.

Each command runs ``--rounds`` times (default 3) after one unmeasured warm-up; the table gives the
minimum, median and maximum wall time and the peak memory (the child's ru_maxrss). The import time also
appears without the interpreter's start-up (`python -c pass` measured the same way), which is the part
the import itself costs. Results: bench/results/referentiels-<UTC time>.json and .md (git-ignored);
bench/summary.md holds the account of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RT = ROOT / "tests" / "reference" / "scodoc" / "rt.json"
DEMO = ROOT / "tests" / "fixtures" / "orebut"
RKG = [sys.executable, "-m", "rkg"]


def timed(cmd: list[str], cwd: Path = ROOT) -> tuple[float, int, int]:
    """Wall seconds, peak RSS (KiB) and exit code of one command."""
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child execs the command, so its ru_maxrss is the command's own
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
        os.chdir(cwd)
        os.execv(cmd[0], cmd)
    _, status, usage = os.wait4(pid, 0)
    return time.perf_counter() - started, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def measure(name: str, cmd: list[str], rounds: int, prepare=None, expect: tuple[int, ...] = (0,)) -> dict:
    runs = []
    for i in range(rounds + 1):
        if prepare:
            prepare()
        seconds, rss, code = timed(cmd)
        if code not in expect:
            raise SystemExit(f"{name}: exit {code} (expected {expect}): {' '.join(cmd)}")
        if i:  # the first run warms the file cache and is not counted
            runs.append((seconds, rss))
    times = [s for s, _ in runs]
    return {"name": name, "min": min(times), "median": statistics.median(times), "max": max(times),
            "peak_mib": max(r for _, r in runs) / 1024, "rounds": rounds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rkg-bench-ref-"))
    rows = []
    try:
        rows.append(measure("python start-up (python -c pass)", [sys.executable, "-c", "pass"], args.rounds))
        solo = work / "solo"

        def fresh(folder: Path):
            return lambda: shutil.rmtree(folder / "imports", ignore_errors=True)

        rows.append(measure("rkg import orebut rt.json (ScoDoc JSON, 121 ACs)",
                            [*RKG, "import", "orebut", str(RT), "--build-dir", str(solo), "-q"], args.rounds, fresh(solo)))
        rows.append(measure("rkg import orebut competences.xml (Orébut XML)",
                            [*RKG, "import", "orebut", str(DEMO / "competences.xml"), "--build-dir", str(solo), "-q"],
                            args.rounds, fresh(solo)))
        rows.append(measure("rkg import orebut formation.xml (after its compétences)",
                            [*RKG, "import", "orebut", str(DEMO / "formation.xml"), "--build-dir", str(solo), "-q"],
                            args.rounds))
        master = work / "master"
        subprocess.run([*RKG, "build", "--build-dir", str(master), "-q"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        rows.append(measure("rkg validate: the bundled Master", [*RKG, "validate", "--build-dir", str(master), "-q"],
                            args.rounds))
        four = work / "four"
        for extra in ([str(RT)], [str(RT), "--programme", "but-rt2", "--name", "rt2"],
                      [str(DEMO / "competences.xml")], [str(DEMO / "formation.xml"), "--programme", "but-demo"]):
            subprocess.run([*RKG, "import", "orebut", *extra, "--build-dir", str(four), "-q"], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)
        subprocess.run([*RKG, "build", "--build-dir", str(four), "-q"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        rows.append(measure("rkg validate: the Master + 3 BUTs (RT, RT as but-rt2, DEMO)",
                            [*RKG, "validate", "--build-dir", str(four), "-q"], args.rounds))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    start = rows[0]["median"]
    for r in rows[1:]:
        if r["name"].startswith("rkg import"):
            r["without_start_up"] = r["median"] - start
    machine = f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    lines = [f"# rkg référentiels benchmark ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {machine})", "",
             "| command | min s | median s | max s | median − start-up s | peak MiB |", "|---|---|---|---|---|---|"]
    for r in rows:
        extra = f"{r['without_start_up']:.2f}" if "without_start_up" in r else ""
        lines.append(f"| {r['name']} | {r['min']:.2f} | {r['median']:.2f} | {r['max']:.2f} | {extra} | {r['peak_mib']:.0f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (args.out / f"referentiels-{stamp}.md").write_text(text, encoding="utf-8")
    (args.out / f"referentiels-{stamp}.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=1),
                                                           encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
