"""Where a project's folders are, and getting a store on its built graph."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import build as build_mod
from .errors import InputError
from .store import EmbeddedStore


class ProjectError(InputError):
    pass


@dataclass(frozen=True)
class Project:
    root: Path
    build_dir: Path
    extra_data: Sequence[Path] = field(default_factory=tuple)

    @property
    def shapes(self) -> Path:
        return self.root / "shapes"

    @property
    def queries(self) -> Path:
        return self.root / "queries"

    @property
    def assets(self) -> Path:
        """Front-end packages installed by ``npm ci`` (package.json at the project root)."""
        return self.root / "node_modules"

    @classmethod
    def locate(cls, root: Path | None = None, build_dir: Path | None = None,
               extra_data: Sequence[Path] = ()) -> "Project":
        """``root`` if given, else the nearest folder upwards from the current one holding ``ontology/``
        and ``data/``, else the checkout this package was installed from."""
        if root is None:
            candidates = [Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parents[2]]
            root = next((c for c in candidates if (c / "ontology").is_dir() and (c / "data").is_dir()), None)
            if root is None:
                raise ProjectError("no rkg project here: run from a folder holding ontology/ and data/, or pass --root")
        elif not (root / "ontology").is_dir():
            raise ProjectError(f"{root}: not an rkg project (no ontology/ folder)")
        return cls(root.resolve(), (build_dir or root / "build").resolve(), tuple(extra_data))

    def build(self, progress: Callable[[str], None] | None = None) -> build_mod.BuildResult:
        result = build_mod.build(self.root, self.extra_data, progress, self.build_dir / build_mod.IMPORTS)
        build_mod.write(result, self.build_dir)
        return result

    def store(self, progress: Callable[[str], None] | None = None) -> EmbeddedStore:
        """A store on the built graph, rebuilding first when ``build/`` is missing or stale."""
        if build_mod.is_stale(self.root, self.build_dir, self.extra_data):
            if progress:
                progress("build/ is missing or older than the sources: building")
            self.build(progress)
        return EmbeddedStore.from_nquads(self.build_dir / build_mod.NQUADS_NAME)
