"""filter_repo.py: a stop signal that comes while git-filter-repo starts (inside
``Popen``, after the fork) stops it and its processes before the expressions file,
which holds the values, is wiped; it once left it rewriting history alone."""

from __future__ import annotations

import signal
import tempfile
from pathlib import Path

import pytest

from secretkit.git import filter_repo
from secretkit.sensitive import Sensitive
from tests.conftest import commit_all, git, need_tool
from tests.support import fake
from tests.support.popen_signal import sigterm_inside_popen


def test_a_signal_while_filter_repo_starts_stops_it(
    tmp_git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from secretkit.errors import Terminated

    need_tool("git-filter-repo")
    value = fake.password("purge-race")
    (tmp_git_repo / "app.conf").write_text(f"password = {value}\n")
    head = commit_all(tmp_git_repo, "config")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    # (git's own calls go through Popen too)
    picks = lambda argv: "--replace-text" in argv  # noqa: E731
    with sigterm_inside_popen(monkeypatch, filter_repo, "git-filter-repo", picks) as started:
        with pytest.raises(Terminated):
            filter_repo.replace_text(tmp_git_repo, [Sensitive(value.encode())], ["refs/heads/main"])
    assert len(started) == 1 and started[0].returncode == -signal.SIGKILL
    assert list(scratch.iterdir()) == []  # the expressions file and its directory are gone
    assert git(tmp_git_repo, "rev-parse", "HEAD").strip() == head  # nothing was rewritten


def test_renames_take_each_value_out_of_paths_longest_first_each_its_own_name() -> None:
    from secretkit.git.filter_repo import renames

    assert renames([b"ab.c", b"ab.cd+", b"ab.c", b""]) == (
        b"regex:ab\\.cd\\+==>REDACTED-BY-SECRETKIT-1\nregex:ab\\.c==>REDACTED-BY-SECRETKIT-2\n"
    )
    assert renames([]) == b""


def test_a_line_that_is_exactly_a_value_leaves_the_value_replaced_everywhere() -> None:
    """A one-line password file: its line is the value, and its whole-line entry
    once took the place of the value's own, so the value stayed in every other file,
    message and note (a stranger's purge)."""
    from secretkit.git.filter_repo import MARKER, expressions

    value = b"Tr0ub4dor-xk9Qm2-long"
    assert expressions([value], [(value, MARKER)]) == b"literal:" + value + b"==>" + MARKER + b"\n"
    out = expressions([value], [(value, MARKER), (b"pw: " + value, b"pw: " + MARKER)])
    assert b"regex:" + value.replace(b"-", b"\\-") + b"==>" in out  # (anywhere, not ^…$)
    assert b"(?m)^pw:\\ " in out


def test_a_token_in_a_name_becomes_the_path_s_new_name_in_text_too() -> None:
    from secretkit.git.filter_repo import expressions, renames

    token = b"ghp_" + b"a1B2" * 9
    text = expressions([token], [], [token])
    assert text == b"literal:" + token + b"==>REDACTED-BY-SECRETKIT-1\n"
    assert renames([token]).endswith(b"==>REDACTED-BY-SECRETKIT-1\n")
