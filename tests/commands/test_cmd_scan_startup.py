"""`secretkit scan` starts without click (secretkit.entry), and says exactly what the
click CLI says.

Each case runs the real entry point in a fresh interpreter twice on a real
repository: once as the console script runs it (``entry.main``, the fast path for
the scan's own arguments) and once through click (``cli.main``), and compares the
exit code, stdout, stderr and any ``--output`` file byte for byte.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, commit_all, git
from tests.support import fake

PROBE = """\
import json, sys
route = sys.argv[1]
if route == "entry":
    from secretkit.entry import main
else:
    from secretkit.cli import main
try:
    main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
sys.stderr.write("\\n" + json.dumps({"code": code, "click": "click" in sys.modules}) + "\\n")
"""


def _run(repo: Path, route: str, *args: str, env: dict[str, str] | None = None) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "SECRETKIT_"))}
    base["PYTHONPATH"] = str(ROOT)
    base.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, route, *args],
        cwd=repo,
        env=base,
        capture_output=True,
        text=True,
    )
    err, _, last = proc.stderr.rstrip("\n").rpartition("\n")
    state = json.loads(last)
    out = _timeless(proc.stdout)
    return {"code": state["code"], "click": state["click"], "out": out, "err": _timeless(err)}


def _timeless(text: str) -> str:
    """``text`` with the scan's duration (which differs from run to run) left out."""
    text = re.sub(r"in [0-9.]+s\b", "in Ns", text)
    return re.sub(r'"seconds": [0-9.e-]+', '"seconds": 0', text)


@pytest.fixture
def repo(tmp_git_repo: Path) -> Path:
    (tmp_git_repo / "host.nix").write_text(
        '{ ... }:\n{\n  services.foo.settings.password = "' + fake.password("fast") + '";\n}\n'
    )
    (tmp_git_repo / "app.json").write_text('{ "token": "' + fake.github_token("fast") + '" }\n')
    commit_all(tmp_git_repo, "base")
    (tmp_git_repo / "clean").mkdir()
    (tmp_git_repo / "clean/README.md").write_text("# nothing here\n")
    return tmp_git_repo


def _same(repo: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    # (each history scan from scratch: the first would leave the second its cache)
    shutil.rmtree(repo / ".git" / "secretkit", ignore_errors=True)
    fast = _run(repo, "entry", *args, env=env)
    shutil.rmtree(repo / ".git" / "secretkit", ignore_errors=True)
    slow = _run(repo, "cli", *args, env=env)
    assert slow["click"]
    for key in ("code", "out", "err"):
        assert fast[key] == slow[key], key
    return fast


@pytest.mark.parametrize(
    "args",
    [
        ("scan",),
        ("scan", "--format", "json"),
        ("scan", "--format=sarif"),
        ("scan", "clean"),
        ("scan", "clean", "--format", "json", "host.nix"),
        ("scan", "--format", "text", "--", "host.nix"),
        ("scan", "--staged"),
        ("scan", "--history", "--format", "json"),
    ],
)
def test_the_fast_path_says_what_click_says(repo: Path, args: tuple[str, ...]) -> None:
    result = _same(repo, *args)
    assert not result["click"]
    assert result["code"] == (0 if args[1:2] == ("clean",) and len(args) == 2 else 1)
    secret = fake.password("fast")
    assert secret not in result["out"] and secret not in result["err"]


def test_the_fast_path_writes_output_as_click_does(repo: Path) -> None:
    # (written beside the repository: a report inside it would be scanned by the next)
    fast = _run(repo, "entry", "scan", "--format", "json", "--output", "../fast.json")
    slow = _run(repo, "cli", "scan", "--format", "json", "--output", "../slow.json")
    assert (fast["code"], fast["out"]) == (slow["code"], slow["out"]) == (1, "")
    assert not fast["click"]
    rows = [json.loads((repo.parent / name).read_text()) for name in ("fast.json", "slow.json")]
    for row in rows:
        row["stats"].pop("seconds")
    assert rows[0] == rows[1] and len(rows[0]["findings"]) == 2


@pytest.mark.parametrize(
    "args",
    [
        ("scan", "missing.nix"),  # no such file: exit 2
        ("scan", "--staged", "--history"),  # cannot be combined: exit 2
        ("scan", "--history", "host.nix"),  # history takes no path: exit 2
    ],
)
def test_an_error_of_the_fast_path_gets_the_clis_line_and_exit_code(
    repo: Path, args: tuple[str, ...]
) -> None:
    result = _same(repo, *args)
    assert result["code"] == 2 and result["err"].startswith("error: ")
    assert not result["click"]


def test_outside_a_repository_history_is_the_clis_exit_3(tmp_path: Path) -> None:
    result = _same(tmp_path, "scan", "--history")
    assert result["code"] == 3


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["scan"], ("scan", (), False, False, "text", None)),
        (["scan", "a", "--format", "json", "b"], ("scan", ("a", "b"), False, False, "json", None)),
        (
            ["scan", "--staged", "--format=sarif", "--format", "text", "--output=r"],
            ("scan", (), True, False, "text", "r"),
        ),
        (
            ["scan", "--history", "--", "--x", "-"],
            ("scan", ("--x", "-"), False, True, "text", None),
        ),
        (["scan", "-"], ("scan", ("-",), False, False, "text", None)),
        (["scan", "--format", "xml"], None),  # click refuses the choice
        (["scan", "--format"], None),  # a missing value
        (["scan", "--output="], None),
        (["scan", "--help"], None),
        (["scan", "-h"], None),
        (["scan", "--form", "json"], None),  # no abbreviations: click says so
        (["-C", "repo", "scan"], None),
        (["-v", "scan"], None),
        (["hook"], None),
    ],
)
def test_only_the_scans_own_arguments_take_the_fast_path(
    argv: list[str], expected: tuple[object, ...] | None
) -> None:
    from secretkit.entry import scan_arguments

    request = scan_arguments(argv)
    if expected is None:
        assert request is None
    else:
        assert request is not None
        got = (request.paths, request.staged, request.history, request.fmt, request.output)
        assert ("scan", *got) == expected


def test_an_invalid_engine_is_refused_by_click_as_before(repo: Path) -> None:
    result = _same(repo, "scan", env={"SECRETKIT_ENGINE": "go"})
    assert result["code"] == 2 and result["click"]
    assert "SECRETKIT_ENGINE" in result["err"]


def test_a_clean_scan_of_a_directory_loads_no_click(repo: Path) -> None:
    result = _run(repo, "entry", "scan", "clean", "--format", "json")
    assert result["code"] == 0 and not result["click"]
    assert json.loads(result["out"])["findings"] == []
    git(repo, "status", "--porcelain")  # (the repository is untouched and still valid)


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_scan_through_its_process_pool_ends_with_its_whole_report(
    tmp_git_repo: Path, fmt: str
) -> None:
    """The console script ends a scan without the interpreter's teardown once the pool
    has shut down (entry._exit_now): the report is whole, the exit code the scan's,
    and a large report through a pipe arrives complete."""
    from secretkit.scan.many_files import PARALLEL_MIN_FILES

    secrets = [fake.password(f"pool{i}") for i in range(40)]
    for i in range(PARALLEL_MIN_FILES + 20):
        value = secrets[i] if i < len(secrets) else None
        line = f'  services.x{i}.settings.password = "{value}";\n' if value else ""
        (tmp_git_repo / f"m{i}.nix").write_text(f"{{\n{line}  services.x{i}.enable = true;\n}}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "SECRETKIT_"))}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", "scan", "--format", fmt],
        cwd=tmp_git_repo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stderr
    if fmt == "json":
        report = json.loads(proc.stdout)
        assert len(report["findings"]) == len(secrets)
        assert report["stats"]["files"] == PARALLEL_MIN_FILES + 20
    else:
        assert proc.stdout.rstrip().endswith("s")  # the summary line, last
        assert f"{len(secrets)} finding(s)" in proc.stdout
