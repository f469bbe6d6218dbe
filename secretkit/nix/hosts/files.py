"""What host discovery reads of the repository: parsed files, the paths literals name
in them, git submodules, and the notes (:class:`~secretkit.nix.hosts.model.Note`) on
what could not be followed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from secretkit.nix import cst
from secretkit.nix.cst import Node
from secretkit.nix.hosts.model import Note

_MAX_FILE_BYTES = 4 * 1024 * 1024


@dataclass
class File:
    """A parsed repository file (repo-relative path); a :class:`secretkit.nix.cst.Tree`."""

    rel: Path
    tree: cst.NixTree

    @property
    def root(self) -> Node:
        return self.tree.root

    @property
    def source(self) -> bytes:
        return self.tree.source

    def position(self, offset: int) -> tuple[int, int]:
        return self.tree.position(offset)

    def text(self, node: Node) -> str:
        return cst.node_text(self.tree, node)

    def line(self, node: Node) -> int:
        return int(node.start_point[0]) + 1


class Files:
    """The repository at ``root``: each file parsed once, notes collected."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.resolved_root = root.resolve()
        self.cache: dict[Path, File | None] = {}
        self.unresolved: list[Note] = []
        self.current_host: str | None = None  # whose modules are being read (for notes)
        self.note_hosts: dict[Note, set[str]] = {}
        self.external: list[Note] = []
        self._submodules: list[str] | None = None

    # -- reporting ---------------------------------------------------------------
    def note(self, file: File, node: Node, reason: str, kind: str = "", subject: str = "") -> None:
        item = Note(file.rel, file.line(node), reason, kind, subject)
        if item not in self.unresolved:
            self.unresolved.append(item)
        if self.current_host is not None:
            self.note_hosts.setdefault(item, set()).add(self.current_host)

    def note_external(self, file: File, node: Node, name: str) -> None:
        item = Note(file.rel, file.line(node), name)
        if item not in self.external:
            self.external.append(item)

    # -- files -------------------------------------------------------------------
    def load(self, rel: Path) -> File | None:
        if rel in self.cache:
            return self.cache[rel]
        path = self.root / rel
        result: File | None = None
        try:
            if path.stat().st_size <= _MAX_FILE_BYTES:
                source = path.read_bytes()
                tree = cst.parse(source)
                result = File(rel=rel, tree=tree)
                if tree.has_errors:
                    first = min((start for start, _ in tree.error_spans), default=0)
                    line = tree.position(first)[0]
                    reason = "syntax error; what follows may be incomplete"
                    self.unresolved.append(Note(rel, line, reason))
        except OSError:
            result = None
        self.cache[rel] = result
        return result

    def resolve_path(self, file: File, node: Node, text: str) -> Path | None:
        """A path literal's target as a repo-relative ``.nix`` file, or None (noted)."""
        if text.startswith(("/", "~")):
            self.note(file, node, "path outside the repository")
            return None
        target = (self.root / file.rel).parent / text
        try:
            resolved = target.resolve()
            rel = resolved.relative_to(self.resolved_root)
        except ValueError:
            self.note(file, node, "path outside the repository")
            return None
        except OSError:
            self.note(file, node, f"cannot resolve {text}")
            return None
        if (self.root / rel).is_dir():
            rel = rel / "default.nix"
        if not (self.root / rel).is_file():
            module = self.submodule_of(rel)
            if module is not None:  # like a flake input: outside this repository's code
                self.note_external(file, node, f"git submodule {module} ({rel.as_posix()})")
            else:
                self.note(file, node, f"imported file {rel.as_posix()} does not exist")
            return None
        return Path(rel.as_posix())

    def submodule_of(self, rel: Path) -> str | None:
        """The git submodule path (from ``.gitmodules``) that ``rel`` lies in, if any."""
        if self._submodules is None:
            self._submodules = []
            try:
                text = (self.root / ".gitmodules").read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            for line in text.splitlines():
                key, _, value = line.strip().partition("=")
                if key.strip() == "path" and value.strip():
                    self._submodules.append(value.strip().strip("/"))
        posix = rel.as_posix()
        return next((m for m in self._submodules if posix.startswith(m + "/")), None)
