"""The README is the manual, and it is checked (STYLE.md §12)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

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


TEST_COMMAND = (
    "python3 -m pip install -q -e '.[test]' && "
    "python3 -m pytest -q -p no:cacheprovider -n auto --dist loadfile"
)
QUICK_START = (
    "python3 -m venv .venv && . .venv/bin/activate && python3 -m pip install . && secretkit demo"
)


def test_readme_test_command_is_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert TEST_COMMAND in README
    assert TEST_COMMAND in ci


def test_readme_first_command_creates_a_venv_and_runs_the_demo() -> None:
    first_block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert first_block is not None
    assert first_block.group(1) == QUICK_START + "\n"


def test_one_python_spelling() -> None:
    """Debian has no `python` command: every command line says python3."""
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        assert not re.search(r"(^|[\s;&|(])python ", block), block
    assert not re.search(r"`python [^`]*`", README)


def test_readme_output_examples_are_real_runs() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "make_readme_examples.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    blocks = re.findall(r"<!-- example: scan --format json -->\n```json\n(.*?)```", README, re.S)
    (finding,) = json.loads(blocks[0])["findings"]
    assert finding["line"] == finding["end_line"]  # the drift this generator ended
    assert finding["column"] < finding["end_column"]


_TOP = {p.name for p in ROOT.iterdir()} - {".git", ".venv"}
# Paths the README names in the *user's* repository (the layout secretkit writes there),
# which this project does not have itself.
_USER_REPO_PATHS = {"secrets/generators.toml"}


def test_readme_names_only_files_that_are_in_the_project() -> None:
    named = set(re.findall(r"`([^`\s]+)`", README)) | set(re.findall(r"\]\(([^)]+)\)", README))
    named |= set(
        re.findall(r"(?<![\w./-])((?:examples|tests|secretkit|hooks|\.ci)/[\w./-]+)", README)
    )
    checked = []
    for name in named:
        if "://" in name or any(c in name for c in "<>*…$~{}") or name.isupper():
            continue
        first = name.split("/")[0]
        if first not in _TOP or "HOST" in name or "NAME" in name or name in _USER_REPO_PATHS:
            continue
        checked.append(name)
        assert (ROOT / name.rstrip("/")).exists(), f"README names {name}, which is not here"
    assert len(checked) >= 10


def test_every_tool_a_test_needs_has_an_install_hint_and_the_readme_lists_it() -> None:
    from tests.conftest import INSTALL_HINTS

    used = set()
    for path in (ROOT / "tests").rglob("*.py"):
        used |= set(re.findall(r'need_tool\("([^"]+)"\)', path.read_text(encoding="utf-8")))
    assert used <= set(INSTALL_HINTS), used - set(INSTALL_HINTS)
    apt_line = re.search(r"sudo apt install (nix-bin[^`]*)`", README)
    assert apt_line is not None
    listed = set(apt_line.group(1).split())
    for hint in INSTALL_HINTS.values():
        for package in re.findall(r"sudo apt install ([\w -]+)", hint):
            assert set(package.split()) <= listed, package
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert set(re.findall(r"need_apt\+=\(([\w-]+)\)", ci)) <= listed


def test_readme_documents_completion_for_three_shells() -> None:
    for shell in ("bash", "zsh", "fish"):
        assert f"_SECRETKIT_COMPLETE={shell}_source secretkit" in README


def test_completion_scripts_come_from_click(tmp_path: Path) -> None:
    for shell, marker in (("bash", "complete -o"), ("zsh", "compdef"), ("fish", "complete")):
        proc = subprocess.run(
            [sys.executable, "-m", "secretkit"],
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHONPATH=str(ROOT), _SECRETKIT_COMPLETE=f"{shell}_source"),
        )
        assert proc.returncode == 0, proc.stderr
        assert marker in proc.stdout and "_SECRETKIT_COMPLETE" in proc.stdout
    words = dict(os.environ, PYTHONPATH=str(ROOT), _SECRETKIT_COMPLETE="bash_complete")
    words.update(COMP_WORDS="secretkit hook un", COMP_CWORD="2")
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit"], capture_output=True, text=True, env=words
    )
    assert proc.stdout.split() == ["plain,uninstall"]


def test_output_has_no_escape_codes_even_on_a_terminal_like_request(tmp_path: Path) -> None:
    """No color anywhere, so NO_COLOR holds trivially: not even with FORCE_COLOR set."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), FORCE_COLOR="1", CLICOLOR_FORCE="1")
    for args in (["--help"], ["scan", str(tmp_path)], ["check"], ["nosuchcommand"]):
        proc = subprocess.run(
            [sys.executable, "-m", "secretkit", *args],
            capture_output=True,
            cwd=tmp_path,
            env=env,
        )
        assert b"\x1b" not in proc.stdout + proc.stderr, args
    assert "NO_COLOR" in README


def test_version_names_the_engine() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("SECRETKIT_ENGINE", None)
    out = subprocess.run(
        [sys.executable, "-m", "secretkit", "--version"], capture_output=True, text=True, env=env
    ).stdout
    from secretkit import __version__

    assert (
        out == f"secretkit {__version__}\nsops engine: python (built-in, writes sops 3.x files)\n"
    )
    sops = subprocess.run(
        [sys.executable, "-m", "secretkit", "--engine", "sops", "--version"],
        capture_output=True,
        text=True,
        env=dict(env, PATH="/nonexistent"),
    ).stdout
    assert sops.splitlines()[1] == "sops engine: sops binary (not found on PATH)"


def test_exit_code_table_matches_errors_module() -> None:
    rows = re.findall(r"^\| (\d+) \| ", README, re.M)
    assert sorted(int(code) for code in rows) == sorted(EXIT_CODES)
