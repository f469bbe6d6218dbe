"""flake.nix and flake.lock, with the real Nix parser and evaluator.

nixpkgs cannot be fetched here, so the flake's ``outputs`` function is applied to a
small stub ``nixpkgs`` written below: every package is a plain attribute set that
remembers its name, every builder returns its arguments.  What is checked is the
structure the flake promises (packages, apps, devShells, overlays, checks for four
systems) and that the derivation's runtime dependencies are exactly those of
pyproject.toml.  Building the package for real needs nixpkgs and is not done here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT, need_tool
from tests.support import fake
from tests.support.fake import secretkit_bin

SYSTEMS = ["aarch64-darwin", "aarch64-linux", "x86_64-darwin", "x86_64-linux"]

# Python packages the stub nixpkgs provides (nixpkgs attribute names).
STUB_PYTHON = [
    "bcrypt",
    "click",
    "cryptography",
    "detect-secrets",
    "python-gnupg",
    "ruamel-yaml",
    "tree-sitter",
    "setuptools",
    "wheel",
    "pytest",
    "pytest-cov",
    "pytest-xdist",
    "hypothesis",
    "jsonschema",
    "pre-commit",
    "mypy",
    "ruff",
]
STUB_TOOLS = ["git", "git-filter-repo", "nix", "age", "gnupg", "nodejs", "openssh"]

STUB_NIXPKGS = """
let
  systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
  named = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
  builder = kind: args:
    args // { builtBy = kind; outPath = "/stub/${args.pname or args.name or kind}"; };
  ps = named (builtins.fromJSON ''@PYTHON@'') (n: { pname = n; }) // {
    buildPythonPackage = builder "buildPythonPackage";
    buildPythonApplication = builder "buildPythonApplication";
    fetchPypi = args: args // { outPath = "/stub/pypi/${args.pname}-${args.version}.tar.gz"; };
  };
  tools = named (builtins.fromJSON ''@TOOLS@'') (n: { name = n; outPath = "/stub/${n}"; });
  pkgsFor = system: tools // {
    stdenv.hostPlatform.system = system;
    python3Packages = ps;
    python3.withPackages = f: { name = "python3-env"; packages = f ps; };
    rustPlatform = {
      importCargoLock = args: { inherit (args) lockFile; };
      cargoSetupHook = { name = "cargoSetupHook"; };
      maturinBuildHook = { name = "maturinBuildHook"; };
    };
    runCommand = name: attrs: script: attrs // { inherit name script; outPath = "/stub/${name}"; };
    mkShell = builder "mkShell";
  };
in { legacyPackages = named systems pkgsFor; stub = pkgsFor "x86_64-linux"; }
"""

SUMMARY = """
let
  nixpkgs = import @STUB@;
  flake = import @FLAKE@;
  self = flake.outputs { inherit self nixpkgs; } // { outPath = "/stub/self"; };
  out = self;
  names = builtins.attrNames;
  perSystem = kind: builtins.mapAttrs (_: v: names v) out.${kind};
  pkg = out.packages.x86_64-linux.default;
  shell = out.devShells.x86_64-linux.default;
in {
  outputs = builtins.filter (n: n != "outPath") (names out);
  packages = perSystem "packages";
  apps = perSystem "apps";
  devShells = perSystem "devShells";
  checks = perSystem "checks";
  overlays = names out.overlays;
  builtBy = pkg.builtBy;
  pname = pkg.pname;
  version = pkg.version;
  mainProgram = pkg.meta.mainProgram;
  dependencies = map (d: d.pname) pkg.dependencies;
  extraBuiltBy = map (d: d.builtBy or "nixpkgs") pkg.dependencies;
  pyrageLock = (builtins.elemAt (builtins.filter (d: d.pname == "pyrage") pkg.dependencies) 0)
    .cargoDeps.lockFile.script;
  app = out.apps.x86_64-linux.default;
  appDarwin = out.apps.aarch64-darwin.default.program;
  shellTools = map (p: p.name) (builtins.tail shell.packages);
  shellPython = map (p: p.pname) (builtins.head shell.packages).packages;
  check = out.checks.x86_64-linux.secretkit.script;
  checkRootCommit = out.checks.x86_64-linux.secretkit.SECRETKIT_ROOT_COMMIT;
  checkInputs = map (p: p.name or p.pname) out.checks.x86_64-linux.secretkit.nativeBuildInputs;
  overlay = (out.overlays.default nixpkgs.stub nixpkgs.stub).secretkit.pname;
  userCheck = (out.lib.mkCheck { pkgs = nixpkgs.stub; src = "/stub/user-flake"; }).script;
}
"""


def pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(specs: list[str]) -> list[str]:
    return sorted(pep503(re.match(r"[A-Za-z0-9._-]+", s).group(0)) for s in specs)  # type: ignore[union-attr]


def write_stub(directory: Path) -> Path:
    stub = directory / "stub-nixpkgs.nix"
    stub.write_text(
        STUB_NIXPKGS.replace("@PYTHON@", json.dumps(STUB_PYTHON)).replace(
            "@TOOLS@", json.dumps(STUB_TOOLS)
        )
    )
    return stub


def evaluate(flake_dir: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    nix = need_tool("nix-instantiate")
    stub = write_stub(tmp_path)
    expr = SUMMARY.replace("@STUB@", str(stub)).replace("@FLAKE@", str(flake_dir / "flake.nix"))
    return subprocess.run(
        [nix, "--eval", "--strict", "--json", "--expr", expr],
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    proc = evaluate(ROOT, tmp_path_factory.mktemp("flake"))
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def test_flake_parses_with_the_real_nix_parser() -> None:
    nix = need_tool("nix-instantiate")
    proc = subprocess.run([nix, "--parse", str(ROOT / "flake.nix")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_outputs_have_the_promised_structure_for_four_systems(summary: dict[str, object]) -> None:
    assert summary["outputs"] == ["apps", "checks", "devShells", "lib", "overlays", "packages"]
    for kind in ("packages", "apps", "devShells", "checks"):
        assert sorted(summary[kind]) == SYSTEMS, kind  # type: ignore[arg-type]
    packages = summary["packages"]
    assert all(packages[s] == ["default", "secretkit"] for s in SYSTEMS)  # type: ignore[index]
    assert all(summary["apps"][s] == ["default"] for s in SYSTEMS)  # type: ignore[index]
    assert all(summary["devShells"][s] == ["default"] for s in SYSTEMS)  # type: ignore[index]
    assert all(summary["checks"][s] == ["secretkit"] for s in SYSTEMS)  # type: ignore[index]
    assert summary["overlays"] == ["default"]
    assert summary["overlay"] == "secretkit"


def test_the_package_is_a_python_application_from_pyproject(summary: dict[str, object]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert summary["builtBy"] == "buildPythonApplication"
    assert summary["pname"] == project["name"]
    assert summary["version"] == project["version"]
    assert summary["mainProgram"] == "secretkit"
    app = summary["app"]
    assert app["type"] == "app"  # type: ignore[index]
    assert app["program"] == "/stub/secretkit/bin/secretkit"  # type: ignore[index]
    assert summary["appDarwin"] == "/stub/secretkit/bin/secretkit"


def test_runtime_dependencies_are_exactly_those_of_pyproject(summary: dict[str, object]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = requirement_names(project["dependencies"])
    in_derivation = sorted(pep503(name) for name in summary["dependencies"])  # type: ignore[attr-defined]
    assert in_derivation == declared
    # the two nixpkgs lacks are built in the flake, from their pinned PyPI sdists
    built_here = {
        pep503(name)
        for name, by in zip(summary["dependencies"], summary["extraBuiltBy"], strict=True)  # type: ignore[call-overload]
        if by == "buildPythonPackage"
    }
    assert built_here == {"pyrage", "tree-sitter-nix"}
    assert "tar -xzOf /stub/pypi/pyrage-1.4.0.tar.gz pyrage-1.4.0/Cargo.lock" in str(
        summary["pyrageLock"]
    )


def test_a_dependency_added_to_pyproject_only_stops_evaluation(tmp_path: Path) -> None:
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copy(ROOT / "flake.nix", copy / "flake.nix")
    text = (ROOT / "pyproject.toml").read_text()
    (copy / "pyproject.toml").write_text(
        text.replace('  "bcrypt>=4",\n', '  "bcrypt>=4",\n  "rich",\n')
    )
    proc = evaluate(copy, tmp_path)
    assert proc.returncode != 0
    assert "runtime dependencies differ from pyproject.toml" in proc.stderr


def test_dev_shell_has_python_and_the_test_oracles(summary: dict[str, object]) -> None:
    assert set(summary["shellTools"]) >= {"nix", "age", "gnupg", "git-filter-repo", "nodejs"}  # type: ignore[arg-type]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = requirement_names(project["dependencies"] + project["optional-dependencies"]["test"])
    assert sorted(pep503(n) for n in summary["shellPython"]) == wanted  # type: ignore[attr-defined]


def test_flake_check_runs_scan_and_the_source_only_check(summary: dict[str, object]) -> None:
    lines = [line.strip() for line in str(summary["userCheck"]).splitlines() if line.strip()]
    src = "/stub/user-flake"
    assert lines[1:] == [
        f"secretkit -C {src} scan",
        f"secretkit -C {src} check --source-only",
        'touch "$out"',
    ]
    # this project is not a NixOS configuration: its own check is the scan
    own = [line.strip() for line in str(summary["check"]).splitlines() if line.strip()]
    assert own[1:] == ["secretkit -C /stub/self scan", 'touch "$out"']
    assert "git" in summary["checkInputs"]  # type: ignore[operator]


def run_check_script(script: str, src: Path, tmp_path: Path, root_commit: str) -> int:
    """Run a flake check's script as the Nix builder would: a copy of the source, no
    .git, HOME and TMPDIR empty, secretkit on PATH, $out to create."""
    bin_dir = tmp_path / "bin"
    secretkit_bin(bin_dir)
    out = tmp_path / "out"
    out.unlink(missing_ok=True)
    build = tmp_path / "build"
    build.mkdir(exist_ok=True)
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "TMPDIR": str(build),
        "out": str(out),
        "SECRETKIT_ROOT_COMMIT": root_commit,
    }
    body = script.replace("/stub/self", str(src)).replace("/stub/user-flake", str(src))
    proc = subprocess.run(["bash", "-e", "-c", body], cwd=build, env=env, capture_output=True)
    assert out.exists() == (proc.returncode == 0)
    return proc.returncode


def source_copy(tmp_path: Path) -> Path:
    """The files a flake of this checkout holds: tracked ones (untracked-not-ignored
    too, so that a new file is checked before it is committed)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    dest = tmp_path / "self-source"
    for name in filter(None, listed):
        path, target = ROOT / name.decode(), dest / name.decode()
        if path.is_symlink():  # git keeps links as links (secretkit/_examples/homelab)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(os.readlink(path))
        elif path.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    return dest


def test_this_projects_own_flake_check_passes_on_its_source(
    summary: dict[str, object], tmp_path: Path
) -> None:
    root_commit = subprocess.run(
        ["git", "rev-list", "--max-parents=0", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    assert summary["checkRootCommit"] in root_commit
    src = source_copy(tmp_path)
    code = run_check_script(str(summary["check"]), src, tmp_path, str(summary["checkRootCommit"]))
    assert code == 0


def test_the_user_check_fails_on_a_plaintext_secret(
    summary: dict[str, object], tmp_path: Path
) -> None:
    src = tmp_path / "user-flake"
    (src / "hosts").mkdir(parents=True)
    borg = f'{{ services.borgbackup.jobs.b.encryption.passphrase = "{fake.passphrase("fl")}"; }}\n'
    (src / "hosts" / "b.nix").write_text(borg)
    assert run_check_script(str(summary["userCheck"]), src, tmp_path, "") == 1
    (src / "hosts" / "b.nix").write_text("{ services.borgbackup.jobs = { }; }\n")
    assert run_check_script(str(summary["userCheck"]), src, tmp_path, "") == 0


def test_lock_pins_the_nixpkgs_input_to_a_revision_and_nar_hash() -> None:
    lock = json.loads((ROOT / "flake.lock").read_text())
    assert lock["version"] == 7
    root = lock["nodes"][lock["root"]]
    assert root["inputs"] == {"nixpkgs": "nixpkgs"}
    node = lock["nodes"]["nixpkgs"]
    locked, original = node["locked"], node["original"]
    assert re.fullmatch(r"[0-9a-f]{40}", locked["rev"])
    assert re.fullmatch(r"sha256-[A-Za-z0-9+/]{43}=", locked["narHash"])
    assert isinstance(locked["lastModified"], int)
    assert locked["type"] == original["type"] == "github"
    url = f"github:{original['owner']}/{original['repo']}/{original['ref']}"
    flake = (ROOT / "flake.nix").read_text()
    assert f'inputs.nixpkgs.url = "{url}";' in flake
