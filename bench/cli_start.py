"""Start-up time of the ``rkg`` command: ``rkg --version`` and ``rkg --help`` beside ``python -c pass``.

Each command runs ``--runs`` times (after one warm-up run that is not counted) in a fresh process;
the wall time of each run is measured from spawn to exit. Writes ``bench/results/cli-start-<UTC>.json``
and ``.md`` with the median, minimum and maximum of each command.

    .venv/bin/python bench/cli_start.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def rkg_command() -> list[str]:
    """The installed ``rkg`` script beside this interpreter (what a user runs), else ``python -m rkg``."""
    script = Path(sys.executable).with_name("rkg")
    if script.exists():
        return [str(script)]
    found = shutil.which("rkg")
    return [found] if found else [sys.executable, "-m", "rkg"]


def timed(argv: list[str], runs: int) -> list[float]:
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)  # warm-up: page cache
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        out.append(time.perf_counter() - start)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15, help="timed runs per command (default: 15)")
    args = ap.parse_args()
    rkg = rkg_command()
    commands = {"python -c pass": [sys.executable, "-c", "pass"], "rkg --version": [*rkg, "--version"],
                "rkg --help": [*rkg, "--help"]}
    rows = {}
    for name, argv in commands.items():
        times = timed(argv, args.runs)
        rows[name] = {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "runs": times}
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "machine": platform.machine(), "runs": args.runs, "utc": stamp}
    (RESULTS / f"cli-start-{stamp}.json").write_text(json.dumps({**meta, "commands": rows}, indent=2) + "\n")
    lines = [f"# CLI start-up ({stamp}, Python {meta['python']}, {args.runs} runs each, after one warm-up run)", "",
             "| command | median ms | min ms | max ms |", "|---|---:|---:|---:|"]
    for name, r in rows.items():
        lines.append(f"| `{name}` | {r['median_s'] * 1000:.0f} | {r['min_s'] * 1000:.0f} | {r['max_s'] * 1000:.0f} |")
    text = "\n".join(lines) + "\n"
    (RESULTS / f"cli-start-{stamp}.md").write_text(text)
    print(text + f"\nwritten to bench/results/cli-start-{stamp}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
