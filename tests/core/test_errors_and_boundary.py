"""errors.py exit-code table and the one error boundary in cli.main."""

from __future__ import annotations

import pickle

import click
import pytest

from secretkit import cli
from secretkit.errors import (
    EXIT_BUG,
    EXIT_CODES,
    EXIT_INTEGRITY,
    EXIT_USAGE,
    EXIT_USER,
    IntegrityError,
    SecretkitError,
    UsageError,
    UserError,
)
from secretkit.sensitive import Sensitive, preview
from tests.support.cli import run_main


def test_exit_code_table_matches_design() -> None:
    assert sorted(EXIT_CODES) == [0, 1, 2, 3, 4, 5, 129, 130, 143]  # 128 + SIGHUP/SIGTERM
    assert UsageError("x").exit_code == EXIT_USAGE
    assert UserError("x").exit_code == EXIT_USER
    assert IntegrityError("x").exit_code == EXIT_INTEGRITY


def test_one_line_folds_newlines_and_appends_hint() -> None:
    err = UserError("bad\nthing  here", hint="do\nthis")
    assert err.one_line() == "bad thing here (hint: do this)"


@cli.cli.command("_raise_user", hidden=True)
def _raise_user() -> None:
    raise UserError("no such host: web", hint="secretkit hosts add web --age …")


@cli.cli.command("_raise_bug", hidden=True)
def _raise_bug() -> None:
    raise ValueError("sekrit-value-must-not-show")


@cli.cli.command("_raise_integrity", hidden=True)
def _raise_integrity() -> None:
    raise IntegrityError("MAC mismatch in secrets/x.yaml")


run = run_main


def test_user_error_prints_one_line_with_hint(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "_raise_user")
    assert code == EXIT_USER
    assert out == ""
    assert err == "error: no such host: web (hint: secretkit hosts add web --age …)\n"


def test_integrity_error_exit_4(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "_raise_integrity")
    assert code == EXIT_INTEGRITY
    assert err.startswith("error: MAC mismatch")


def test_bug_is_exit_5_without_traceback_or_message(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "_raise_bug")
    assert code == EXIT_BUG
    assert "Traceback" not in err
    assert "sekrit" not in err
    assert err.count("\n") == 1


def test_bug_with_verbose_shows_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--verbose", "_raise_bug")
    assert code == EXIT_BUG
    assert "Traceback" in err


def test_unknown_command_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "no-such-command")
    assert code == EXIT_USAGE
    assert "No such command" in err


def test_bad_directory_is_usage_error(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    code, _, _ = run(capsys, "-C", str(tmp_path / "missing"), "_raise_user")
    assert code == EXIT_USAGE


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.startswith("secretkit 0.")
    assert "\nsops engine: " in out


def test_secretkit_error_is_click_independent() -> None:
    assert not issubclass(SecretkitError, click.ClickException)


def test_sensitive_never_shows_value() -> None:
    value = "".join(["hun", "ter", "2-long-enough"])
    s = Sensitive(value)
    for shown in (repr(s), str(s), f"{s}", f"{s!r}", "%s" % (s,)):  # noqa: UP031
        assert value not in shown
        assert "hun" not in shown
    assert s.reveal() == value
    assert s == Sensitive(value)
    assert s != Sensitive(value + "x")
    assert len(s) == len(value)
    assert pickle.loads(pickle.dumps(s)).reveal() == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "…"),
        ("abc", "…"),
        ("abcdefgh", "ab…"),
        ("abcdefghijklmnop", "abcd…"),
        ("x" * 100, "xxxx…"),
        # (a zigbee network key written as a Nix list: one line in any output)
        ("[\n  1, 2, 3, 4, 5, 6]", "[\\n  …"),
    ],
)
def test_preview_shows_at_most_four_chars(value: str, expected: str) -> None:
    assert preview(value) == expected
    assert preview(Sensitive(value)) == expected
