"""A tracked file a sparse checkout keeps out of the work tree is still in what a
commit or a push carries: the tree scan reads it from the index instead of passing
over it and saying "no secrets found"."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.scan.worktree import scan_tree
from tests.conftest import commit_all, git
from tests.support import fake


def _repo(repo: Path) -> str:
    token = fake.github_token("sparse")
    (repo / "a").mkdir()
    (repo / "b").mkdir()
    (repo / "a" / "x.txt").write_text("hello\n")
    (repo / "b" / "app.env").write_text(f"GITHUB_TOKEN={token}\n")
    commit_all(repo)
    return token


@pytest.mark.parametrize("use_cache", [False, True])
def test_a_file_outside_a_sparse_checkout_is_scanned_from_the_index(
    tmp_git_repo: Path, use_cache: bool
) -> None:
    token = _repo(tmp_git_repo)
    git(tmp_git_repo, "sparse-checkout", "set", "a")
    assert not (tmp_git_repo / "b" / "app.env").exists()
    report = scan_tree(tmp_git_repo, use_cache=use_cache)
    (finding,) = report.findings
    assert finding.path == "b/app.env" and finding.secret.reveal() == token
    assert report.stats["files"] == 2


def test_a_file_deleted_in_the_work_tree_is_left_out_as_git_add_would(
    tmp_git_repo: Path,
) -> None:
    _repo(tmp_git_repo)
    (tmp_git_repo / "b" / "app.env").unlink()
    assert scan_tree(tmp_git_repo).findings == []  # (the history still holds it)


@pytest.mark.parametrize(("use_cache", "jobs"), [(False, 1), (False, None), (True, None)])
def test_copies_are_scanned_once_only_where_their_paths_read_alike(
    tmp_git_repo: Path, use_cache: bool, jobs: int | None
) -> None:
    """The same bytes are a secret as `secrets/token` (a one-line file its directory
    calls secret) and nothing as `notes.txt`: a copy's findings come from a scan of
    a file whose path reads alike, never from one whose path does not."""
    value = fake.password("copied-file") + "Zq7"
    (tmp_git_repo / "secrets").mkdir()
    for name in ("notes.txt", "secrets/token", "secrets/token2", "b/notes.txt"):
        (tmp_git_repo / name).parent.mkdir(exist_ok=True)
        (tmp_git_repo / name).write_text(value + "\n")
    for i in range(60):  # the process pool, whose chunks scan a content once
        (tmp_git_repo / f"m{i}.nix").write_text(f"{{ services.x{i}.enable = true; }}\n")
    commit_all(tmp_git_repo, "files")
    for _ in range(2):  # (the second run reads the cache the first left)
        report = scan_tree(tmp_git_repo, use_cache=use_cache, jobs=jobs)
        assert sorted(f.path for f in report.findings) == ["secrets/token", "secrets/token2"]


def test_whether_a_content_may_be_a_one_line_secret_file_is_told_alike_from_its_bytes() -> None:
    """one_line reads an ASCII content's bytes without decoding it; it answers what
    the rule's own test answers of the decoded text (a False there would let a copy
    at a secret's path inherit a clean result)."""
    from secretkit.scan.decode import decode
    from secretkit.scan.one_file import one_line
    from secretkit.scan.path_rules import may_be_secret_file

    value = fake.password("one-line") + "Zq7"
    contents = [
        value, f"{value}\n", f"\n\n  {value}  \n\n", f"{value}\n\x1c\x1d", f"{value}\nmore",
        f"{value}\n\u0085", f"{value}\r\n", " " * 5000 + value, "x" * 600, "", "  \n ",
        "../../home-manager", "ENC[AES256_GCM,data:x]\n" + value, f"{value}\0",
        "Done.", "correct horse battery staple", f"{value} {value}\n",
    ]  # fmt: skip
    answers = []
    for text in contents:
        for data in (text.encode(), text.encode("utf-16")):
            answers.append(one_line(data))
            assert one_line(data) == may_be_secret_file(decode(data).text), repr(text[:20])
    assert True in answers and False in answers
