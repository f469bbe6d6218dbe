"""Which files a repository holds: ``git ls-files`` (the one place outside the
plumbing of :mod:`secretkit.git.objects` that runs it), and the directory walk
that stands for it where there is no git."""

from __future__ import annotations

import os
from pathlib import Path

from secretkit.git import repo_root, run_git


def ls_files(cwd: Path, *options: str) -> list[str]:
    """``git ls-files -z <options>`` run in ``cwd``: the names as git prints them
    (relative to ``cwd``, or to the top with ``--full-name``), ``/``-separated."""
    proc = run_git(cwd, "ls-files", "-z", *options)
    return [p.decode("utf-8", "surrogateescape") for p in proc.stdout.split(b"\0") if p]


def publishable(root: Path) -> tuple[list[str], list[str]]:
    """``(tracked, untracked_not_ignored)`` below ``root``: what a ``git add -A``
    would publish is both."""
    return ls_files(root, "--cached"), ls_files(root, "--others", "--exclude-standard")


def walk_files(root: Path) -> list[str]:
    """Every file under ``root`` (``.git`` left out, links not followed), ``/``-separated."""
    out: list[str] = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        rel = os.path.relpath(directory, root)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        out.extend(prefix + name for name in files)
    return sorted(out)


def files_below(base: Path) -> list[Path]:
    """Tracked and untracked-not-ignored files below ``base`` (absolute, sorted); outside
    a git repository every file below it, hidden directories and ``node_modules``
    left out."""
    top = repo_root(base)
    if top is None:
        found: list[Path] = []
        for directory, subdirs, files in os.walk(base):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith(".") and d != "node_modules")
            found.extend(Path(directory) / name for name in sorted(files))
        return found
    names = ls_files(base, "--cached", "--others", "--exclude-standard", "--full-name")
    paths = sorted({top / name for name in names})
    return [p for p in paths if p.is_relative_to(base)]
