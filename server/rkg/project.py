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
        """Build into ``build/``: the sources bulk-loaded into a new on-disk store beside ``build/store``
        (never held in Python), the outputs dumped from it, the store then moved into place. The result's
        store is closed (its counts stay)."""
        import tempfile

        created = not self.build_dir.exists()
        self.build_dir.mkdir(parents=True, exist_ok=True)
        location = Path(tempfile.mkdtemp(dir=self.build_dir, prefix=f".{build_mod.STORE_NAME}."))
        try:
            result = build_mod.build(self.root, self.extra_data, progress, self.build_dir / build_mod.IMPORTS, location)
        except BaseException:
            if location.exists():
                import shutil

                shutil.rmtree(location, ignore_errors=True)
            if created:  # a failed build leaves no build/ it made
                try:
                    self.build_dir.rmdir()
                except OSError:
                    pass
            raise
        try:
            if progress:
                progress(f"writing {self.build_dir}")
            build_mod.write(result, self.build_dir)
        finally:
            result.discard()
        return result

    def store(self, progress: Callable[[str], None] | None = None) -> EmbeddedStore:
        """A store on the built graph, rebuilding first when ``build/`` is missing or stale."""
        if build_mod.is_stale(self.root, self.build_dir, self.extra_data):
            if progress:
                progress("build/ is missing or older than the sources: building")
            self.build(progress)
        return EmbeddedStore.from_nquads(self.build_dir / build_mod.NQUADS_NAME)


def build_isolated(root: str, build_dir: str, extra_data: tuple[str, ...], quiet: bool) -> dict[str, int]:
    """``Project.build`` for ``executor.run_isolated``: the web server's master must not open RocksDB itself.
    Progress goes to stderr; returns the counts."""
    import sys

    project = Project(Path(root), Path(build_dir), tuple(Path(d) for d in extra_data))
    progress = None if quiet else (lambda msg: print(f"rkg: {msg}", file=sys.stderr, flush=True))
    return project.build(progress).counts
