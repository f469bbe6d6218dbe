"""The scanner's findings on fixed fixtures, held against a committed list, so that
a change meant to make scanning faster (or any refactoring underneath) cannot
change what is found without the list being updated on purpose.

The fixtures: the labelled homelab corpus (built at test time) and the example
homelab (three copies, so that the worker pool runs), as a tree — serial and in
parallel — and as a two-commit history.  A finding is listed by place, rule, kind,
severity and attribute path, and its value by the first 12 hex digits of its
SHA-256 (never the value).  After an intended change of findings, rewrite the list
with ``SECRETKIT_UPDATE_FINDING_SETS=1`` and review its diff.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from secretkit.scan.history import scan_history
from secretkit.scan.many_files import PARALLEL_MIN_FILES
from secretkit.scan.model import Finding
from secretkit.scan.worktree import scan_tree
from tests.conftest import commit_all
from tests.scan.test_scan_labelled_corpus import build

EXPECTED = Path(__file__).resolve().parents[1] / "data" / "scan-finding-sets.txt"
HOMELAB = Path(__file__).resolve().parents[2] / "examples" / "homelab"


def _line(f: Finding) -> str:
    digest = hashlib.sha256(f.secret.reveal().encode("utf-8", "surrogateescape")).hexdigest()
    return (
        f"{f.path}:{f.line}:{f.column}-{f.end_line}:{f.end_column} {f.rule} {f.kind} "
        f"{f.severity} {f.attrpath or '-'} {digest[:12]}"
    )


def _fixture(root: Path) -> None:
    build().write(root)
    for copy in ("c1", "c2", "c3"):
        shutil.copytree(HOMELAB, root / "homelab" / copy)


def _blocks(text: str) -> list[str]:
    return [b.strip() for b in text.split("\n\n") if b.strip()]


def _check(section: str, lines: list[str]) -> None:
    block = [f"[{section}]", *lines]
    if os.environ.get("SECRETKIT_UPDATE_FINDING_SETS"):
        text = EXPECTED.read_text() if EXPECTED.exists() else ""
        kept = [b for b in _blocks(text) if not b.startswith(f"[{section}]")]
        EXPECTED.write_text("\n\n".join([*kept, "\n".join(block)]) + "\n")
        return
    sections = {b.split("\n", 1)[0]: b for b in _blocks(EXPECTED.read_text())}
    assert sections[f"[{section}]"].splitlines() == block


@pytest.mark.parametrize("jobs", [1, 2])
def test_tree_findings_are_the_committed_list(tmp_path: Path, jobs: int) -> None:
    _fixture(tmp_path)
    assert sum(1 for p in tmp_path.rglob("*") if p.is_file()) >= PARALLEL_MIN_FILES
    report = scan_tree(tmp_path, jobs=jobs)
    assert report.skipped == []
    assert len(report.findings) >= 40
    _check("tree", [_line(f) for f in report.findings])


@pytest.mark.slow
def test_history_findings_are_the_committed_list(tmp_git_repo: Path) -> None:
    _fixture(tmp_git_repo)
    commit_all(tmp_git_repo, "first")
    env_file = tmp_git_repo / "hosts" / "nas" / "app.env"
    env_file.write_text(env_file.read_text().replace("LOG_LEVEL=debug", "LOG_LEVEL=info"))
    commit_all(tmp_git_repo, "second")
    report = scan_history(tmp_git_repo)
    assert report.skipped == []
    _check("history", sorted(_line(f) for f in report.findings))
