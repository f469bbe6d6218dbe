"""A Git LFS file: git holds a pointer, the content lives in the local LFS store and
``git push`` uploads it.  The scan reads the content at the file's path (tree, index
and history); a pointer whose object this clone lacks is skipped, and ``check`` says
"cannot verify" with a fix that works.  (Pointers and objects are written by hand:
git-lfs need not be installed.)"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from secretkit.git.lfs import MISSING_OBJECT
from secretkit.scan.history import scan_history
from secretkit.scan.staged import scan_staged
from secretkit.scan.worktree import scan_tree
from tests.conftest import commit_all, git
from tests.support import fake


def _content() -> bytes:
    return f"API_TOKEN={fake.github_token('lfs')}\n".encode()


def _pointer(content: bytes) -> bytes:
    oid = hashlib.sha256(content).hexdigest()
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {len(content)}\n"
    ).encode()


def _store_object(store: Path, content: bytes) -> None:
    oid = hashlib.sha256(content).hexdigest()
    place = store / oid[0:2] / oid[2:4]
    place.mkdir(parents=True, exist_ok=True)
    (place / oid).write_bytes(content)


def _lfs_repo(repo: Path, *, with_object: bool = True) -> None:
    (repo / ".gitattributes").write_text("*.dat filter=lfs diff=lfs merge=lfs -text\n")
    (repo / "README.md").write_text("hi\n")
    (repo / "config.dat").write_bytes(_pointer(_content()))  # (no git-lfs: the pointer)
    if with_object:
        _store_object(repo / ".git" / "lfs" / "objects", _content())


def test_an_lfs_file_is_read_from_the_store_in_the_tree_the_index_and_history(
    tmp_git_repo: Path,
) -> None:
    from secretkit.commands.check import run_check

    token = fake.github_token("lfs")
    _lfs_repo(tmp_git_repo)
    git(tmp_git_repo, "add", "-A")
    staged = scan_staged(tmp_git_repo)
    assert [(f.path, f.secret.reveal()) for f in staged.findings] == [("config.dat", token)]
    commit_all(tmp_git_repo, "add")
    tree = scan_tree(tmp_git_repo)
    assert [(f.path, f.inside, f.secret.reveal()) for f in tree.findings] == [
        ("config.dat", "lfs", token)
    ]
    assert [c.paths for c in run_check(tmp_git_repo).failed if c.id == "plaintext-tree"] == [
        ("config.dat",)
    ]
    git(tmp_git_repo, "rm", "-q", "config.dat")
    commit_all(tmp_git_repo, "remove")
    history = scan_history(tmp_git_repo)
    assert [(f.path, f.secret.reveal()) for f in history.findings] == [("config.dat", token)]
    assert history.skipped == []
    (failed,) = [c for c in run_check(tmp_git_repo).failed if c.id == "plaintext-history"]
    # purge rewrites text in blobs: the LFS object is out of its reach
    assert (
        "git filter-repo --force --replace-refs delete-no-add --invert-paths --path=config.dat"
        in failed.fix
    )


def test_lfs_storage_in_git_config_is_where_objects_are_read(tmp_git_repo: Path) -> None:
    _lfs_repo(tmp_git_repo, with_object=False)
    git(tmp_git_repo, "config", "lfs.storage", "elsewhere")
    _store_object(tmp_git_repo / ".git" / "elsewhere" / "objects", _content())
    commit_all(tmp_git_repo, "add")
    assert [f.path for f in scan_tree(tmp_git_repo).findings] == ["config.dat"]


def test_a_missing_lfs_object_cannot_be_verified_and_its_fixes_work(tmp_git_repo: Path) -> None:
    from secretkit.commands.check import run_check

    _lfs_repo(tmp_git_repo, with_object=False)
    commit_all(tmp_git_repo, "add")
    tree = scan_tree(tmp_git_repo)
    assert tree.findings == []
    assert [s.path for s in tree.skipped] == ["config.dat"]
    assert tree.skipped[0].reason.startswith(MISSING_OBJECT)
    history = scan_history(tmp_git_repo)
    assert [s.reason.startswith(MISSING_OBJECT) for s in history.skipped] == [True]
    unverified = [c for c in run_check(tmp_git_repo).failed if c.message.startswith("cannot")]
    assert {c.id for c in unverified} == {"plaintext-tree", "plaintext-history"}
    history_fix = next(c.fix for c in unverified if c.id == "plaintext-history")
    assert "git lfs fetch --all" in history_fix
    # the fetch route: once the object is there (what `git lfs fetch --all` does), the
    # next check reads it (the history cache does not keep the skip) and finds the token
    _store_object(tmp_git_repo / ".git" / "lfs" / "objects", _content())
    failed = run_check(tmp_git_repo).failed
    assert [c for c in failed if c.message.startswith("cannot")] == []
    assert {c.id for c in failed} >= {"plaintext-tree", "plaintext-history"}


def test_the_allowlist_route_for_a_missing_lfs_object_works(tmp_git_repo: Path) -> None:
    from secretkit.commands.check import run_check

    _lfs_repo(tmp_git_repo, with_object=False)
    commit_all(tmp_git_repo, "add")
    (fix,) = {
        c.fix[c.fix.index("echo 'path:") :]
        for c in run_check(tmp_git_repo).failed
        if c.message.startswith("cannot")
    }
    subprocess.run(fix, shell=True, cwd=tmp_git_repo, check=True)
    commit_all(tmp_git_repo, "vouch")
    assert [c for c in run_check(tmp_git_repo).failed if c.message.startswith("cannot")] == []


def test_missing_lfs_objects_are_one_group_whose_allowlist_route_works(
    tmp_git_repo: Path,
) -> None:
    """A repository's LFS files come by the dozen (Misterio77's 44 wallpapers): one
    group, one fix, and a path glob vouches for them all."""
    from secretkit.commands.check import run_check
    from secretkit.gate.model import groups

    (tmp_git_repo / ".gitattributes").write_text("*.png filter=lfs diff=lfs merge=lfs -text\n")
    (tmp_git_repo / "assets").mkdir()
    for n in range(5):
        (tmp_git_repo / "assets" / f"w{n}.png").write_bytes(_pointer(f"image {n}".encode()))
    commit_all(tmp_git_repo, "wallpapers")
    report = run_check(tmp_git_repo)
    lfs = [g for g in groups(report) if "LFS objects" in g.summary]
    assert [(g.results[0].id, len(g.results)) for g in lfs] == [
        ("plaintext-tree", 5),
        ("plaintext-history", 5),
    ]
    (tmp_git_repo / ".secretkit-allow").write_text("path:assets/*\n")  # (the fix's glob)
    commit_all(tmp_git_repo, "vouch")
    assert [c for c in run_check(tmp_git_repo).failed if c.message.startswith("cannot")] == []


def test_a_damaged_lfs_object_is_not_taken_for_the_content(tmp_git_repo: Path) -> None:
    _lfs_repo(tmp_git_repo, with_object=False)
    oid = hashlib.sha256(_content()).hexdigest()
    place = tmp_git_repo / ".git" / "lfs" / "objects" / oid[0:2] / oid[2:4]
    place.mkdir(parents=True)
    (place / oid).write_bytes(b"X" * len(_content()))  # (a truncated or wrong download)
    commit_all(tmp_git_repo, "add")
    assert [s.path for s in scan_tree(tmp_git_repo).skipped] == ["config.dat"]


def test_a_pointer_outside_a_repository_is_plain_text(tmp_path: Path) -> None:
    (tmp_path / "config.dat").write_bytes(_pointer(_content()))
    report = scan_tree(tmp_path)
    assert report.findings == [] and report.skipped == []
