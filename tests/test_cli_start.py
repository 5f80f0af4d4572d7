"""``rkg --version`` and ``rkg --help`` start fast: the CLI module imports none of the heavy libraries (they
are imported by the subcommands that use them; bench/cli_start.py times it)."""

from __future__ import annotations

import subprocess
import sys

from rkg import cli
from rkg.validation import SEVERITIES

HEAVY = ("rdflib", "pyshacl", "owlready2", "pyoxigraph", "flask", "granian", "openpyxl", "yaml")


def test_parser_severities_are_validations() -> None:
    assert cli.SEVERITIES == SEVERITIES


def test_version_and_help_import_no_heavy_library() -> None:
    probe = ("import sys\nfrom rkg.cli import main\nfor argv in (['--version'], ['--help'], ['validate', '--help']):\n"
             "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
             f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == ""
    assert "rkg 0." in done.stdout and "COMMAND" in done.stdout
