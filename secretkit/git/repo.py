"""Where a command works: the repository root it starts from."""

from __future__ import annotations

from pathlib import Path

from secretkit.errors import UserError
from secretkit.git import inside_git_dir, repo_root


def find_root(cwd: Path) -> Path:
    """Where ``.sops.yaml`` lives: the git work-tree root, or ``cwd`` outside git."""
    root = repo_root(cwd)
    if root is not None:
        return root
    if inside_git_dir(cwd):  # a bare repository: writing here would go into git's own files
        raise UserError(
            f"{cwd} is a git directory with no work tree (a bare repository or .git)",
            hint="run secretkit in a clone with a work tree (git clone <repo> <dir>)",
        )
    return cwd
