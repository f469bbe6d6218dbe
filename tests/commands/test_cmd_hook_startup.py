"""`secretkit hook` starts fast: the commit without a finding loads only the scanner.

The hook runs on every commit (issue 15: ≤ 100 ms).  What its common path does not
need — click and every command's definition, the repository lock, the sops engine
and its YAML and crypto libraries, the migration planner and the option catalogue,
detect-secrets — must stay unloaded, so that a stray top-level import cannot bring
the start-up time back silently.  Each case runs the real entry point in a fresh
interpreter on a real repository and lists what it imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, commit_all, git
from tests.support import fake

CLEAN_NIX = """\
{ config, pkgs, ... }:
{
  services.borgbackup.jobs.home = {
    repo = "ssh://backup@nas/./home";
    encryption.mode = "repokey-blake2";
    encryption.passCommand = "cat ${config.sops.secrets.borg.path}";
  };
  environment.systemPackages = with pkgs; [ git htop ];
}
"""

# Loaded only by other commands, or when a finding, a secrets file or a vendor-shaped
# token needs them.
DEFERRED = (
    "click",
    "secretkit.cli",
    "secretkit.repolock",
    "secretkit.atomic",
    "secretkit.sops",
    "secretkit.plan",
    "secretkit.nix.catalogue",
    "secretkit.scan.adapters",
    "ruamel",
    "cryptography",
    "pyrage",
    "detect_secrets",
    "requests",
    "_hashlib",  # OpenSSL (~3.5 ms): one clean file has nothing to hash
    "inspect",  # (with ast, dis, tokenize: codecache imports dataclasses without it)
)

PROBE = """\
import json, sys
from secretkit.entry import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _run_entry(repo: Path, *args: str) -> tuple[int, list[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "SECRETKIT_"))}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=repo, env=env, capture_output=True, text=True
    )
    last = json.loads(proc.stdout.splitlines()[-1])
    return last["code"], last["modules"], proc.stdout


def _loaded(modules: list[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


@pytest.mark.parametrize("files", [["hosts/a/default.nix"], ["README.md"]])
def test_hook_on_a_clean_staged_file_loads_none_of_the_deferred_modules(
    tmp_git_repo: Path, files: list[str]
) -> None:
    (tmp_git_repo / "flake.nix").write_text("{ outputs = { ... }: { }; }\n")
    commit_all(tmp_git_repo, "base")
    (tmp_git_repo / "hosts/a").mkdir(parents=True)
    (tmp_git_repo / "hosts/a/default.nix").write_text(CLEAN_NIX)
    (tmp_git_repo / "README.md").write_text("# dotfiles\n\nRun `nixos-rebuild switch`.\n")
    git(tmp_git_repo, "add", ".")
    code, modules, _out = _run_entry(tmp_git_repo, "hook", "--", *files)
    assert code == 0
    assert "secretkit.scan.staged" in modules  # it did scan
    loaded = [name for name in DEFERRED if _loaded(modules, name)]
    assert loaded == []
    # tree-sitter only when a Nix file is staged
    assert _loaded(modules, "tree_sitter") == files[0].endswith(".nix")


def test_hook_with_a_finding_still_reports_it_and_its_fingerprint(tmp_git_repo: Path) -> None:
    """The deferred modules come in when needed: the Nix finding's fix names the
    planner's decision, the JSON finding's the fingerprint to allowlist (computed in a
    thread; no comment can silence it there)."""
    (tmp_git_repo / "flake.nix").write_text("{ outputs = { ... }: { }; }\n")
    commit_all(tmp_git_repo, "base")
    value, other = fake.password("startup"), fake.password("startup-json")
    (tmp_git_repo / "host.nix").write_text(
        '{ ... }:\n{\n  services.foo.settings.password = "' + value + '";\n}\n'
    )
    (tmp_git_repo / "app.json").write_text('{ "password": "' + other + '" }\n')
    git(tmp_git_repo, "add", ".")
    code, modules, out = _run_entry(tmp_git_repo, "hook", "--", "host.nix", "app.json")
    assert code == 1
    assert "secretkit.plan.advice" in modules
    assert out.count("echo sk2:") == 1 and out.count("append `# secretkit: allow`") == 1
    assert value not in out and other not in out
    assert "click" not in modules
    assert "inspect" not in modules  # (every dataclass on the way has a docstring)


def test_the_git_runs_started_early_are_taken_or_ended(
    tmp_git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hook starts its first git runs before it imports the scanner (and, with a
    finding, the ones that tell it from HEAD's before the planner): from the top each is
    taken, from a subfolder none matches; either way none is left running, and the
    report is the same."""
    from secretkit import git as gitmod
    from secretkit.commands.hook import render, run_hook

    (tmp_git_repo / "flake.nix").write_text("{ outputs = { ... }: { }; }\n")
    commit_all(tmp_git_repo, "base")
    (tmp_git_repo / "hosts/a").mkdir(parents=True)
    value = fake.password("early")
    (tmp_git_repo / "hosts/a/default.nix").write_text(
        '{ ... }:\n{\n  services.foo.settings.password = "' + value + '";\n}\n'
    )
    git(tmp_git_repo, "add", ".")
    started: list[tuple[str, ...]] = []
    start = gitmod.start_early

    def spy(cwd: Path, *args: str, keep_stderr: bool = True) -> None:
        start(cwd, *args, keep_stderr=keep_stderr)
        started.append(args)

    monkeypatch.setattr(gitmod, "start_early", spy)
    shown = []
    for cwd, files in (
        (tmp_git_repo, ["hosts/a/default.nix"]),
        (tmp_git_repo / "hosts/a", ["default.nix"]),
        (tmp_git_repo, []),
    ):
        report = run_hook(cwd, files)
        assert gitmod._early == {}
        shown.append(render(report))
    assert shown[0] == shown[1] == shown[2]
    assert "secret-attribute" in "\n".join(shown[0]) and value not in "\n".join(shown[0])
    assert ("rev-parse", "--show-toplevel") in started and ("diff", "--cached", "-M") in [
        a[:3] for a in started
    ]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["hook"], (False, False, ())),
        (["hook", "--", "a.nix", "-x"], (False, False, ("a.nix", "-x"))),
        (["hook", "--strict", "--allow-unscanned", "a.nix"], (True, True, ("a.nix",))),
        (["hook", "--strict", "--", "install"], (True, False, ("install",))),
        (["hook", "install"], None),
        (["hook", "uninstall"], None),
        (["hook", "--help"], None),
        (["-C", "repo", "hook"], None),
        (["scan"], None),
    ],
)
def test_only_the_hooks_own_arguments_take_the_fast_path(
    argv: list[str], expected: tuple[bool, bool, tuple[str, ...]] | None
) -> None:
    from secretkit.entry import hook_arguments

    assert hook_arguments(argv) == expected


def test_an_error_of_the_fast_path_gets_the_clis_line_and_exit_code(tmp_path: Path) -> None:
    code, modules, _out = _run_entry(tmp_path, "hook", "--", "a.nix")
    assert code == 3  # not a repository: the CLI's boundary said it
    assert "secretkit.cli" in modules
