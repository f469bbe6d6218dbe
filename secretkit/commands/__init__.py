"""One module per CLI verb: each composes the library and returns a value; none prints or exits.

A command's result says what the CLI shows (:class:`Shown`): its lines for stdout and
stderr, raw bytes for stdout, and the exit code; the CLI only echoes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Line:
    """One line of a command's output: on stderr when ``err``; ``end`` is what follows
    it ("" for text that brings its own newlines)."""

    text: str
    err: bool = False
    end: str = "\n"


def out(text: str = "", end: str = "\n") -> Line:
    return Line(text, False, end)


def err(text: str) -> Line:
    return Line(text, True)


class Shown:
    """What a command result shows; a result type overrides what it has."""

    @property
    def exit_code(self) -> int:
        return 0

    def data(self) -> bytes | None:
        """Bytes for stdout, written before the lines (an encrypted file, a key)."""
        return None

    def lines(self) -> list[Line]:
        return []

    def to_json(self) -> object:
        """The ``--format json`` document (only results with a JSON form have one)."""
        raise NotImplementedError(f"{type(self).__name__} has no JSON form")


def recover_interrupted(cwd: Path) -> Path:
    """Take the repository lock, roll back a transaction a killed run left behind;
    return the repository root.  The lock is held until the command ends.

    Every writing command calls this before it reads anything: a half-done
    ``rotate host`` (say) must not be read as the current state, and a single-file
    write on top of it would be undone by the rollback that comes later.
    """
    from secretkit.atomic import recover
    from secretkit.git.repo import find_root

    root = find_root(cwd)
    recover(root)
    return root


def sops_targets(cwd: Path, files: Sequence[Path | str]) -> tuple[Path, list[Path]]:
    """The transaction root and the sops files ``updatekeys`` / ``rotate data-keys``
    process: ``files``, else every sops file a creation rule matches
    (:func:`secretkit.sops.finder.named_or_every`: the files git would publish).

    An interrupted earlier transaction is rolled back first: it may have rewritten
    ``.sops.yaml`` and some files, and reading those half-done versions would mix
    the two runs (the rollback of our own Transaction would come too late)."""
    from secretkit.sops import operations
    from secretkit.sops.finder import named_or_every

    root = recover_interrupted(cwd)
    return root, named_or_every(cwd, operations.config_for(cwd), files)


def shown_path(cwd: Path, path: Path) -> Path:
    """``path`` as the CLI shows it: relative to ``cwd`` when below it."""
    return path.relative_to(cwd) if path.is_relative_to(cwd) else path


def table_lines(rows: Sequence[tuple[str, str, str, str]]) -> list[str]:
    """A migration plan's table (secret, hosts, file, new option), columns aligned."""
    header = ("secret", "hosts", "file", "new option")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    return [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
        for row in [header, *rows]
    ]
