"""Where the tests find the project and their material, and the IRIs of the two référentiels they use."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository's root folder."""
REFERENCE = ROOT / "tests" / "reference"
"""Outside material the tests read, copied with its source, version and licence (tests/reference/README.md)."""
SEED = ROOT / "data" / "rncp31854-pif" / "source" / "000_5ad04cdbbef53940.txt"
"""The source document the bundled data transcribes (its provenance, so it lives beside the data)."""
DEMO_DATA = ROOT / "tests" / "fixtures" / "demo"
VERSIONS_DATA = ROOT / "tests" / "fixtures" / "versions"
ESCO_FIXTURES = ROOT / "tests" / "fixtures" / "esco"
W3C = REFERENCE / "w3c-sparql11-protocol"
"""The W3C SPARQL 1.1 protocol test suite (its manifest and data files)."""
PIF = "https://w3id.org/rkg/id/rncp31854-pif"
DEMO = "https://w3id.org/rkg/id/rncp99999-demo"
