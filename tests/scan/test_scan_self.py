"""The project passes its own scan: no test or example holds a token-shaped literal that
the hook would block (fake secrets are built at run time, or carry the allow comment)."""

from __future__ import annotations

from secretkit.scan.worktree import scan_tree
from tests.conftest import ROOT


def test_the_project_tree_scans_clean() -> None:
    report = scan_tree(ROOT)
    assert [(f.path, f.line, f.rule) for f in report.findings] == []
    assert report.stats["files"] > 100
