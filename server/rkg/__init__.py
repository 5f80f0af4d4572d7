"""rkg: a knowledge graph of competency frameworks (référentiels de compétences)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rkg")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"
