"""The README is the manual, and it is checked (STYLE.md §12)."""

from __future__ import annotations

import re

from click.testing import CliRunner

from secretkit.cli import cli
from secretkit.errors import EXIT_CODES
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_help_text_in_readme_is_current() -> None:
    match = re.search(
        r"<!-- secretkit --help.*?-->\n```\n(.*?)```\n<!-- end of secretkit --help -->",
        README,
        re.S,
    )
    assert match, "the README lost its --help block"
    result = CliRunner().invoke(cli, ["--help"], prog_name="secretkit", terminal_width=80)
    assert result.exit_code == 0
    assert match.group(1) == result.output


def test_readme_test_command_is_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = "python -m pip install -q -e '.[test]' && python -m pytest -q -p no:cacheprovider"
    assert command in README
    assert command in ci


def test_readme_first_command_runs_the_demo() -> None:
    assert "python3 -m pip install . && secretkit demo" in README


def test_exit_code_table_matches_errors_module() -> None:
    rows = re.findall(r"^\| (\d+) \| ", README, re.M)
    assert sorted(int(code) for code in rows) == sorted(EXIT_CODES)
