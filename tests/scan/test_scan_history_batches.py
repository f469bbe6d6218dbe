"""The history scan's batches: blobs read in batches, two in flight on the workers,
commit messages scanned by the workers while git reads the first blobs.  Whatever the
batch size and with or without a pool, the findings (and their order, commits and
paths) and the counts are the same."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from secretkit.scan import history_run
from secretkit.scan.history import scan_history
from secretkit.scan.many_files import PARALLEL_MIN_FILES
from tests.conftest import commit_all
from tests.support import fake


@pytest.fixture
def long_history(tmp_git_repo: Path) -> tuple[Path, set[str]]:
    """Enough blobs for the worker pool: secrets in Nix and text files, in some
    commit messages, and files changed again after the secret went in."""
    values: set[str] = set()
    for i in range(PARALLEL_MIN_FILES + 12):
        secret = fake.password(f"batch{i}")
        values.add(secret)
        if i % 3 == 0:
            (tmp_git_repo / f"m{i}.nix").write_text(
                f'{{ users.users.u{i}.password = "{secret}"; }}\n'
            )
        elif i % 3 == 1:
            (tmp_git_repo / f"notes{i}.txt").write_text(f'db_password = "{secret}"\n')
        else:
            (tmp_git_repo / f"clean{i}.nix").write_text(f"{{ x = {i}; }}\n")
            values.discard(secret)
        message = f"step {i}"
        if i % 7 == 0:
            token = fake.github_token(f"msg{i}")
            values.add(token)
            message += f"\n\nused GH={token}"
        commit_all(tmp_git_repo, message)
    return tmp_git_repo, values


def _run(repo: Path) -> tuple[list[dict[str, object]], dict[str, int]]:
    report = scan_history(repo, use_cache=False)
    stats = {k: v for k, v in report.stats.items() if k != "seconds"}
    return [f.to_json() for f in report.findings], stats


@pytest.mark.slow
def test_batches_and_pool_give_the_same_findings(
    long_history: tuple[Path, set[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, values = long_history
    whole = _run(repo)
    assert {f.secret.reveal() for f in scan_history(repo, use_cache=False).findings} == values
    assert any(f["path"] == "(commit message)" for f in whole[0])
    monkeypatch.setattr(history_run, "BATCH_FILES", 7)  # many batches, two in flight
    assert _run(repo) == whole
    monkeypatch.setattr(history_run, "BATCH_BYTES", 100)  # a batch per blob or two
    assert _run(repo) == whole
    monkeypatch.setattr(os, "cpu_count", lambda: 1)  # no pool: scanned in this process
    assert _run(repo) == whole
