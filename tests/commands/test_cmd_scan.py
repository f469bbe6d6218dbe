"""`secretkit scan PATH…`: scans what was asked and only that, names the root it
scanned, scans an ignored path the user named, and never says "no secrets found"
after reading nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import commit_all, git
from tests.support import fake
from tests.support.cli import run_main


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code, out, _err = run_main(capsys, *args, "--format", "json")
    return code, json.loads(out)


def test_scan_dir_from_a_parent_folder_reads_only_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = tmp_path / "parent"
    (parent / "dotfiles").mkdir(parents=True)
    for i in range(5):
        (parent / f"other{i}.env").write_text(f"API_TOKEN={fake.password(f'other{i}')}\n")
    value = fake.password("inside")
    (parent / "dotfiles" / "host.nix").write_text(f'{{ password = "{value}"; }}\n')
    (parent / "dotfiles" / "README").write_text("hello\n")
    monkeypatch.chdir(parent)
    code, doc = _json(capsys, "scan", "dotfiles")
    assert code == 1
    assert doc["stats"]["files"] == 2  # type: ignore[index]
    assert [f["path"] for f in doc["findings"]] == ["host.nix"]  # type: ignore[union-attr]
    code, out, _ = run_main(capsys, "scan", "dotfiles")
    assert f"scanned {parent / 'dotfiles'}" in out.splitlines()


def test_an_ignored_directory_named_explicitly_is_scanned(
    tmp_git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_git_repo / ".gitignore").write_text("private/\n")
    (tmp_git_repo / "private").mkdir()
    token = fake.github_token("ignored")
    (tmp_git_repo / "private" / "deploy.sh").write_text(f"export GH={token}\n")
    commit_all(tmp_git_repo)
    code, doc = _json(capsys, "-C", str(tmp_git_repo), "scan")
    assert code == 0 and doc["findings"] == []
    code, doc = _json(capsys, "-C", str(tmp_git_repo), "scan", "private")
    assert code == 1
    assert [f["path"] for f in doc["findings"]] == ["private/deploy.sh"]  # type: ignore[union-attr]
    code, doc = _json(capsys, "-C", str(tmp_git_repo), "scan", "private/deploy.sh")
    assert code == 1 and doc["stats"]["files"] == 1  # type: ignore[index]


def test_a_scan_that_reads_nothing_does_not_say_no_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    _code, out, _ = run_main(capsys, "-C", str(tmp_path), "scan", "empty")
    assert "no secrets found" not in out
    assert "nothing scanned: 0 files read" in out


def test_a_missing_path_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run_main(capsys, "-C", str(tmp_path), "scan", "nope")
    assert code == 2
    assert "nope: no such file or directory" in err


def test_dash_c_in_a_subdirectory_scans_its_repository_and_says_so(
    tmp_git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_git_repo / "hosts" / "a").mkdir(parents=True)
    value = fake.password("dash-c")
    (tmp_git_repo / "top.nix").write_text(f'{{ password = "{value}"; }}\n')
    (tmp_git_repo / "hosts" / "a" / "default.nix").write_text("{ }\n")
    commit_all(tmp_git_repo)
    code, out, _ = run_main(capsys, "-C", str(tmp_git_repo / "hosts" / "a"), "scan")
    assert code == 1
    assert "top.nix" in out.splitlines()
    top = git(tmp_git_repo, "rev-parse", "--show-toplevel").strip()
    assert f"scanned {top}" in out.splitlines()
    assert os.path.samefile(top, tmp_git_repo)


def test_a_scan_that_skipped_a_blob_does_not_say_no_secrets(
    tmp_git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A partial clone: the history scan reads every blob but one, finds nothing, and
    says that not everything was read (never "no secrets found")."""
    from tests.conftest import commit_all, git

    (tmp_git_repo / "w.png").write_bytes(b"one\n")
    commit_all(tmp_git_repo)
    (tmp_git_repo / "w.png").write_bytes(b"two\n")
    commit_all(tmp_git_repo)
    oid = git(tmp_git_repo, "rev-parse", "HEAD~1:w.png").strip()
    (tmp_git_repo / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    _code, out, _ = run_main(capsys, "-C", str(tmp_git_repo), "scan", "--history")
    assert "no secrets found" not in out
    assert ":w.png: its content is missing from the git object store" in out
    assert "not everything was read" in out and "1 skipped" in out


def test_history_of_the_repository_named_by_its_top(
    tmp_git_repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`scan --history .` at the top (three strangers typed it; the contract shows
    `scan [PATH…] --history`) was refused: "drop the PATH arguments".  The top names the
    whole repository; a directory inside it is still refused, saying why."""
    (tmp_git_repo / "hosts").mkdir()
    (tmp_git_repo / "hosts" / "a.nix").write_text(f'{{ password = "{fake.password("h")}"; }}\n')
    commit_all(tmp_git_repo)
    monkeypatch.chdir(tmp_git_repo)
    code, named = _json(capsys, "scan", "--history", ".")
    assert code == 1
    code, whole = _json(capsys, "scan", "--history")
    assert named["findings"] == whole["findings"] and len(whole["findings"]) == 1  # type: ignore[arg-type]
    code, _out, err = run_main(capsys, "scan", "--history", "hosts")
    assert code == 2
    assert "hosts: --history scans a whole repository: name its top directory" in err


def test_a_bare_repository_named_as_a_path_is_refused_not_called_clean(
    tmp_git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stranger's re-run: `scan .` in a bare clone scanned git's own files and said
    "no secrets found" (its secrets are in objects no reader opens)."""
    (tmp_git_repo / "a.nix").write_text(f'{{ password = "{fake.password("bare")}"; }}\n')
    commit_all(tmp_git_repo)
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(tmp_git_repo), str(bare))
    code, out, err = run_main(capsys, "-C", str(bare), "scan", ".")
    assert code == 3
    assert "no secrets found" not in out
    assert "is a git directory with no work tree" in err
