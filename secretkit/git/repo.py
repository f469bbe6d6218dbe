"""Where a command works: the repository root it starts from."""

from __future__ import annotations

from pathlib import Path

from secretkit.git import no_work_tree, repo_root


def find_root(cwd: Path) -> Path:
    """Where ``.sops.yaml`` lives: the git work-tree root, or ``cwd`` outside git."""
    root = repo_root(cwd)
    if root is not None:
        return root
    no_tree = no_work_tree(cwd)  # writing here would go into git's own files
    if no_tree is not None:
        raise no_tree
    return cwd
