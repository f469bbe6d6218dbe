"""Which files a repository holds (secretkit.git.files): git's answer in a work tree,
a directory walk where there is no git."""

from __future__ import annotations

from pathlib import Path

from secretkit.git.files import files_below, ls_files, publishable, walk_files
from tests.conftest import commit_all


def _tree(root: Path) -> None:
    for rel in ("a.nix", "sub/b.yaml", ".hidden/c.yaml", "node_modules/d.js", "out/e.txt"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x\n")


def test_git_lists_tracked_and_untracked_not_ignored(tmp_git_repo: Path) -> None:
    _tree(tmp_git_repo)
    (tmp_git_repo / ".gitignore").write_text("out/\n")
    commit_all(tmp_git_repo)
    (tmp_git_repo / "new.nix").write_text("x\n")
    tracked, others = publishable(tmp_git_repo)
    assert "a.nix" in tracked and "new.nix" not in tracked
    assert others == ["new.nix"]
    assert "out/e.txt" not in tracked
    assert ls_files(tmp_git_repo / "sub", "--cached") == ["b.yaml"]
    below = files_below(tmp_git_repo / "sub")
    assert below == [tmp_git_repo / "sub/b.yaml"]
    everything = files_below(tmp_git_repo)
    assert tmp_git_repo / ".hidden/c.yaml" in everything  # git publishes it
    assert tmp_git_repo / "out/e.txt" not in everything  # ignored


def test_outside_git_the_directory_is_walked(tmp_path: Path) -> None:
    _tree(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in files_below(tmp_path)] == [
        "a.nix",
        "out/e.txt",
        "sub/b.yaml",
    ]
    # the source-only gate's walk keeps hidden directories (only .git is left out)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git/config").write_text("x\n")
    assert walk_files(tmp_path) == [
        ".hidden/c.yaml",
        "a.nix",
        "node_modules/d.js",
        "out/e.txt",
        "sub/b.yaml",
    ]
