"""SECRETKIT_ROOT_COMMIT: the committed allowlist applies to a source tree without
.git (what `nix flake check` sees) when the repository's first commit is given."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import commit_all, git
from tests.support import fake
from tests.support.cli import run_main


def test_allowlist_applies_outside_git_with_the_root_commit(
    tmp_git_repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    borg = f'{{ services.borgbackup.jobs.b.encryption.passphrase = "{fake.passphrase("rc")}"; }}\n'
    (tmp_git_repo / "b.nix").write_text(borg)
    root_commit = commit_all(tmp_git_repo, "first")
    code, out, _ = run_main(capsys, "-C", str(tmp_git_repo), "scan", "--format", "json")
    (finding,) = json.loads(out)["findings"]
    (tmp_git_repo / ".secretkit-allow").write_text(finding["fingerprint"] + "\n")
    commit_all(tmp_git_repo, "allow it")
    assert run_main(capsys, "-C", str(tmp_git_repo), "scan")[0] == 0
    assert git(tmp_git_repo, "rev-list", "--max-parents=0", "HEAD").strip() == root_commit

    source = tmp_path / "source"
    shutil.copytree(tmp_git_repo, source, ignore=shutil.ignore_patterns(".git"))
    assert run_main(capsys, "-C", str(source), "scan")[0] == 1  # other key: entry does not match
    monkeypatch.setenv("SECRETKIT_ROOT_COMMIT", root_commit)
    assert run_main(capsys, "-C", str(source), "scan")[0] == 0
    assert run_main(capsys, "-C", str(source), "check", "--source-only")[0] == 0
    monkeypatch.setenv("SECRETKIT_ROOT_COMMIT", "HEAD")
    code, _, err = run_main(capsys, "-C", str(source), "scan")
    assert code == 2
    assert "SECRETKIT_ROOT_COMMIT is not a full commit id" in err
