"""git/__init__.py, start_early: a git run started before its answer is needed answers
exactly as one started then, is taken once, only for the same folder and arguments, and
one no one takes is ended."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from secretkit import git as gitmod
from secretkit.errors import UserError
from secretkit.git import end_early, run_git, start_early
from secretkit.git.objects import INDEX_LISTING, index_entries, read_blobs
from tests.conftest import git


@pytest.fixture(autouse=True)
def _none_left() -> object:
    yield
    end_early()


def _started(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen[bytes]]:
    """The processes start_early makes from now on."""
    made: list[subprocess.Popen[bytes]] = []
    popen = subprocess.Popen

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        proc = popen(*args, **kwargs)
        made.append(proc)
        return proc

    monkeypatch.setattr(gitmod.subprocess, "Popen", spy)
    return made


def test_early_runs_answer_as_late_ones(committed_repo: Path) -> None:
    (committed_repo / "b.txt").write_text("staged\n")
    git(committed_repo, "add", "b.txt")
    late_top = run_git(committed_repo, "rev-parse", "--show-toplevel").stdout
    late_index = index_entries(committed_repo)
    late_blobs = list(read_blobs(committed_repo, [e.oid for e in late_index]))

    start_early(committed_repo, "rev-parse", "--show-toplevel")
    start_early(committed_repo, *INDEX_LISTING)
    start_early(committed_repo, "cat-file", "--batch", keep_stderr=False)
    assert len(gitmod._early) == 3
    assert run_git(committed_repo, "rev-parse", "--show-toplevel").stdout == late_top
    assert index_entries(committed_repo) == late_index
    assert list(read_blobs(committed_repo, [e.oid for e in late_index])) == late_blobs
    assert gitmod._early == {}  # each was taken, once
    assert [data for _oid, data in late_blobs] == [b"hi\n", b"staged\n"]


def test_a_run_elsewhere_or_with_other_arguments_is_not_taken_and_is_ended(
    committed_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (committed_repo / "sub").mkdir()
    made = _started(monkeypatch)
    start_early(committed_repo / "sub", "rev-parse", "--show-toplevel")
    start_early(committed_repo, "cat-file", "--batch")  # waits for input no one gives
    start_early(committed_repo, "cat-file", "--batch")  # (started once)
    early = list(made)
    assert len(early) == 2
    top = run_git(committed_repo, "rev-parse", "--show-toplevel").stdout.decode().strip()
    assert Path(top).resolve() == committed_repo.resolve()
    assert len(made) == 3 and len(gitmod._early) == 2  # run anew: neither was that run
    # cat-file --batch for read_blobs: it keeps no stderr, so the one above is not it
    assert list(read_blobs(committed_repo, [])) == []
    assert len(gitmod._early) == 2
    end_early()
    assert gitmod._early == {}
    assert all(proc.returncode is not None for proc in early)  # ended and reaped


def test_an_early_run_keeps_its_failure(tmp_path: Path) -> None:
    start_early(tmp_path, "rev-parse", "--show-toplevel")
    proc = run_git(tmp_path, "rev-parse", "--show-toplevel", check=False)
    assert proc.returncode != 0 and b"not a git repository" in proc.stderr
    start_early(tmp_path, "rev-parse", "--show-toplevel")
    with pytest.raises(UserError) as info:
        run_git(tmp_path, "rev-parse", "--show-toplevel")
    assert info.value.message.startswith("git rev-parse failed: fatal: not a git repository")


def test_without_git_nothing_starts_and_the_run_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    start_early(tmp_path, "rev-parse", "--show-toplevel")
    assert gitmod._early == {}
    with pytest.raises(UserError) as info:
        run_git(tmp_path, "rev-parse", "--show-toplevel")
    assert info.value.message == "git is not installed"
