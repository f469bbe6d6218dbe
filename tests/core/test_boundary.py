"""The one error boundary (secretkit.boundary): each exception class → one line on
stderr and its documented exit code; signals; what the system refused; bugs."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from secretkit import boundary
from secretkit.boundary import Aborted, outcome
from secretkit.errors import (
    EXIT_BUG,
    EXIT_CODES,
    EXIT_INTEGRITY,
    EXIT_INTERRUPTED,
    EXIT_SIGHUP,
    EXIT_SIGTERM,
    EXIT_USAGE,
    EXIT_USER,
    ConfigError,
    IntegrityError,
    Interrupted,
    NotARepoError,
    Terminated,
    UsageError,
    UserError,
)
from secretkit.git.hooks import PRE_COMMIT_SNIPPET, FrameworkHookError
from tests.conftest import ROOT


def _aborted_by(cause: BaseException) -> BaseException:
    try:
        raise Aborted from cause
    except Aborted as exc:
        return exc


def _click_abort_by(cause: BaseException) -> BaseException:
    try:
        raise click.exceptions.Abort from cause
    except click.exceptions.Abort as exc:
        return exc


BUG = "error: internal error (ValueError); rerun with --verbose and report it\n"
TERM, HUP = "error: terminated by SIGTERM\n", "error: terminated by SIGHUP\n"
CASES: list[tuple[str, Callable[[], BaseException], int, str]] = [
    ("usage", lambda: UsageError("bad flag"), EXIT_USAGE, "error: bad flag\n"),
    ("user", lambda: UserError("no key", hint="add"), EXIT_USER, "error: no key (hint: add)\n"),
    ("config", lambda: ConfigError("bad config"), EXIT_USER, "error: bad config\n"),
    ("not a repo", lambda: NotARepoError("no repo"), EXIT_USER, "error: no repo\n"),
    ("integrity", lambda: IntegrityError("MAC mismatch"), EXIT_INTEGRITY, "error: MAC mismatch\n"),
    ("interrupted", lambda: Interrupted("stopped"), EXIT_INTERRUPTED, "error: stopped\n"),
    ("ctrl-c", lambda: KeyboardInterrupt(), EXIT_INTERRUPTED, "error: interrupted\n"),
    ("sigterm", lambda: Terminated(signal.SIGTERM), EXIT_SIGTERM, TERM),
    ("sighup", lambda: Terminated(signal.SIGHUP), EXIT_SIGHUP, HUP),
    ("aborted", lambda: Aborted(), EXIT_INTERRUPTED, "error: aborted\n"),
    ("aborted by sigterm", lambda: _aborted_by(Terminated(signal.SIGTERM)), EXIT_SIGTERM, TERM),
    ("click abort", lambda: click.exceptions.Abort(), EXIT_INTERRUPTED, "error: aborted\n"),
    ("click abort by sighup", lambda: _click_abort_by(Terminated(signal.SIGHUP)), EXIT_SIGHUP, HUP),
    ("click exit", lambda: click.exceptions.Exit(1), 1, ""),
    ("broken pipe", lambda: BrokenPipeError(errno.EPIPE, "Broken pipe"), 0, ""),
    ("bug", lambda: ValueError("sekrit-must-not-show"), EXIT_BUG, BUG),
]


@pytest.mark.parametrize(
    ("make", "code", "line"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_exception_class_maps_to_its_exit_code_and_one_line(
    make: Callable[[], BaseException], code: int, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert outcome(make()) == code
    out, err = capsys.readouterr()
    assert out == ""
    assert err == line


def test_every_exit_code_of_the_mapping_is_documented() -> None:
    assert {c[2] for c in CASES} <= set(EXIT_CODES)


def test_a_click_usage_error_shows_clicks_message_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert outcome(click.UsageError("No such command 'x'.")) == EXIT_USAGE
    assert "Error: No such command 'x'." in capsys.readouterr().err


def test_the_pre_commit_snippet_follows_the_framework_hook_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    exc = FrameworkHookError("the pre-commit framework manages this hook", hint="add it")
    assert outcome(exc) == EXIT_USER
    err = capsys.readouterr().err
    assert err == f"error: {exc.one_line()}\n{PRE_COMMIT_SNIPPET}\n"


@pytest.mark.parametrize(
    ("exc", "start"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "error: "),
        (MemoryError(), "error: the input is too large to process in memory (hint: "),
        (RecursionError(), "error: the input is nested too deeply to process (hint: flatten it)"),
    ],
)
def test_what_the_system_refused_is_a_user_error_with_a_hint(
    exc: BaseException, start: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert outcome(exc) == EXIT_USER
    err = capsys.readouterr().err
    assert err.startswith(start) and "(hint: " in err and err.count("\n") == 1


def test_a_bug_shows_its_traceback_only_when_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        raise ValueError("inner")
    except ValueError as exc:
        assert outcome(exc, verbose=True) == EXIT_BUG
    assert "Traceback" in capsys.readouterr().err


def test_run_exits_with_the_body_code_or_the_mapped_one() -> None:
    with pytest.raises(SystemExit) as info:
        boundary.run(lambda: 7)
    assert info.value.code == 7
    with pytest.raises(SystemExit) as info:
        boundary.run(lambda: None)
    assert info.value.code == 0

    def fail() -> int:
        raise IntegrityError("tampered")

    with pytest.raises(SystemExit) as info:
        boundary.run(fail)
    assert info.value.code == EXIT_INTEGRITY


def test_a_second_signal_once_the_code_is_decided_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def terminated() -> int:
        raise Terminated(signal.SIGTERM)

    def release_locks() -> None:  # Ctrl-C pressed again as the process ends
        signal.raise_signal(signal.SIGINT)

    before = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(boundary, "release_locks", release_locks)
    with pytest.raises(SystemExit) as info:
        boundary.run(terminated)
    assert info.value.code == EXIT_SIGTERM
    assert capsys.readouterr().err == "error: terminated by SIGTERM\n"
    assert signal.getsignal(signal.SIGINT) is before  # (put back for an embedding caller)


def test_the_boundary_and_the_hook_entry_do_not_import_click_or_the_cli() -> None:
    probe = (
        "import sys, secretkit.boundary, secretkit.entry; "
        "print(sorted(m for m in sys.modules if m == 'click' or m.startswith('secretkit.cli')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "[]"


LATE_SIGNAL = """\
import os, signal, sys
from secretkit import entry
real_exit_now = entry._exit_now

def exit_now(code):  # SIGTERM arrives as the program ends, its code decided
    signal.raise_signal(signal.SIGTERM)
    real_exit_now(code)

entry._exit_now = exit_now
sys.argv = ["secretkit", "scan", sys.argv[1]]
entry.main()
"""


def test_the_program_ends_with_its_decided_code_whatever_signal_comes_late(
    tmp_path: Path,
) -> None:
    (tmp_path / "notes.txt").write_text("nothing secret here\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", LATE_SIGNAL, str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert "no secrets found" in done.stdout or "0 finding" in done.stdout
