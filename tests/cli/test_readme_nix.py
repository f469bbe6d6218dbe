"""The README's Nix: every block parses, and its git-hooks.nix flake example evaluates
against this project's real flake (on the stub nixpkgs of tests/test_flake.py) to a
hook that git-hooks.nix accepts and the offline check."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, need_tool
from tests.test_flake import write_stub

README = (ROOT / "README.md").read_text(encoding="utf-8")

# The options of a hook in cachix/git-hooks.nix (modules/hook.nix).
GIT_HOOKS_OPTIONS = {
    "enable",
    "raw",
    "id",
    "name",
    "description",
    "package",
    "extraPackages",
    "entry",
    "language",
    "files",
    "types",
    "types_or",
    "excludes",
    "exclude_types",
    "pass_filenames",
    "fail_fast",
    "require_serial",
    "stages",
    "verbose",
    "always_run",
    "args",
    "before",
    "after",
}

EVAL = """
let
  nixpkgs = import @STUB@;
  secretkitFlake = import @FLAKE@;
  secretkit = secretkitFlake.outputs { self = secretkit; inherit nixpkgs; }
    // { outPath = "/stub/secretkit-source"; };
  git-hooks.lib.x86_64-linux.run = args: args // { shellHook = "stub shell hook"; };
  example = import @EXAMPLE@;
  inputs = { inherit self nixpkgs git-hooks secretkit; };
  self = example.outputs inputs // { outPath = "/stub/user"; };
  hook = self.checks.x86_64-linux.pre-commit.hooks.secretkit;
in {
  inputs = builtins.attrNames example.inputs;
  hookFields = builtins.attrNames hook;
  hook = removeAttrs hook [ "package" ];
  hookPackage = hook.package.pname;
  src = toString self.checks.x86_64-linux.pre-commit.src;
  check = self.checks.x86_64-linux.secretkit.script;
  shellHook = self.devShells.x86_64-linux.default.shellHook;
}
"""


def nix_blocks() -> list[str]:
    return re.findall(r"```nix\n(.*?)```", README, re.S)


def test_every_nix_block_in_the_readme_parses() -> None:
    nix = need_tool("nix-instantiate")
    blocks = nix_blocks()
    assert blocks
    for block in blocks:
        proc = subprocess.run([nix, "--parse", "-E", block], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    nix = need_tool("nix-instantiate")
    tmp = tmp_path_factory.mktemp("readme-nix")
    marker = "<!-- README flake example: evaluated by tests/cli/test_readme_nix.py -->"
    match = re.search(re.escape(marker) + r"\n```nix\n(.*?)```", README, re.S)
    assert match, "the README lost its git-hooks.nix flake example"
    example_file = tmp / "flake.nix"
    example_file.write_text(match.group(1))
    expr = (
        EVAL.replace("@STUB@", str(write_stub(tmp)))
        .replace("@FLAKE@", str(ROOT / "flake.nix"))
        .replace("@EXAMPLE@", str(example_file))
    )
    proc = subprocess.run(
        [nix, "--eval", "--strict", "--json", "--expr", expr], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def test_the_git_hooks_nix_hook_uses_only_real_hook_options(example: dict[str, object]) -> None:
    fields = set(example["hookFields"])  # type: ignore[arg-type]
    assert fields <= GIT_HOOKS_OPTIONS, fields - GIT_HOOKS_OPTIONS
    assert {"enable", "name", "entry", "pass_filenames", "stages"} <= fields
    hook = example["hook"]
    assert hook["enable"] is True  # type: ignore[index]
    assert hook["language"] == "system"  # type: ignore[index]
    assert hook["stages"] == ["pre-commit"]  # type: ignore[index]
    assert hook["pass_filenames"] is True  # type: ignore[index]
    assert example["hookPackage"] == "secretkit"


def test_the_hook_entry_is_the_one_of_the_pre_commit_manifest(example: dict[str, object]) -> None:
    from pre_commit.clientlib import load_manifest

    (manifest,) = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    entry = example["hook"]["entry"]  # type: ignore[index]
    assert entry == "/stub/secretkit/bin/" + manifest["entry"]
    assert example["hook"]["require_serial"] is manifest["require_serial"]  # type: ignore[index]


def test_the_offline_check_of_the_example_runs_scan_and_the_source_only_check(
    example: dict[str, object],
) -> None:
    lines = [line.strip() for line in str(example["check"]).splitlines() if line.strip()]
    assert "secretkit -C /stub/user scan" in lines
    assert "secretkit -C /stub/user check --source-only" in lines
    assert example["shellHook"] == "stub shell hook"
    assert sorted(example["inputs"]) == ["git-hooks", "nixpkgs", "secretkit"]  # type: ignore[arg-type]


def test_the_readme_lists_exactly_the_points_a_source_tree_allows() -> None:
    from secretkit.commands.check import CHECKS, NEEDS_MORE_THAN_SOURCE

    section = README[README.index("### In `nix flake check`") :]
    section = section[: section.index("\n### ")]
    runs = [c for c in CHECKS if c not in NEEDS_MORE_THAN_SOURCE]
    ran_sentence = section[section.index("runs the points") : section.index("never as passed")]
    for point in runs:
        assert f"`{point}`" in ran_sentence, point
    for point in NEEDS_MORE_THAN_SOURCE:
        assert f"`{point}`" in section[section.index("never as passed") :], point
    assert Path(ROOT / "flake.nix").read_text().count("check --source-only") == 1
