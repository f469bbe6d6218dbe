"""A committed file a Nix file hands to a secret option by its path is that secret,
whatever its name: ``files/rp`` given to ``passwordFile``, ``./grafana-admin`` read
by ``builtins.readFile`` for ``admin_password`` (a stranger's four repositories: scan
and check said nothing, and the file is published and copied into the store)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.commands.check import run_check
from secretkit.scan.worktree import scan_tree
from tests.conftest import commit_all
from tests.support import fake

V = fake.password("file-ref")


def _tree(root: Path, nix: str, files: dict[str, str]) -> list[tuple[str, str, str]]:
    (root / "host.nix").write_text("{ pkgs, lib, ... }:\n{\n" + nix + "}\n")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return sorted((f.path, f.rule, f.kind) for f in scan_tree(root).findings)


@pytest.mark.parametrize(
    ("nix", "kind"),
    [
        ('  services.restic.backups.b.passwordFile = "${./files/rp}";\n', "password"),
        ("  services.restic.backups.b.passwordFile = ./files/rp;\n", "password"),
        ("  services.restic.backups.b.passwordFile = toString ./files/rp;\n", "password"),
        ("  services.tailscale.authKeyFile = ./files/rp;\n", "secret-key"),
        (
            "  services.grafana.settings.security.admin_password = builtins.readFile ./files/rp;\n",
            "password",
        ),
        ("  x.token = lib.fileContents ./files/rp;\n", "token"),
        # (the spellings a stranger's modules used that were read as nothing)
        ("  services.restic.backups.b.passwordFile =\n    ./files/rp;\n", "password"),
        ('  services.restic.backups.b.passwordFile = "${toString ./files/rp}";\n', "password"),
        ("  x.token = lib.strings.fileContents ./files/rp;\n", "token"),
        ('  x.password = lib.removeSuffix "\\n" (builtins.readFile ./files/rp);\n', "password"),
        ("  x.password = lib.trim (builtins.readFile ./files/rp);\n", "password"),
        ("  x.password =\n    builtins.readFile ./files/rp;\n", "password"),
        ("  services.restic.backups.b.passwordFile = lib.mkForce ./files/rp;\n", "password"),
        ("  x.password = lib.mkDefault (builtins.readFile ./files/rp);\n", "password"),
        ('  services.restic.backups.b.passwordFile = "${self}/files/rp";\n', "password"),
        ('  services.restic.backups.b.passwordFile = self + "/files/rp";\n', "password"),
        ('  services.restic.backups.b.passwordFile = "${./files}/rp";\n', "password"),
        ('  services.restic.backups.b.passwordFile = "${./.}/files/rp";\n', "password"),
        ('  services.restic.backups.b.passwordFile = ./files + "/rp";\n', "password"),
        ('  services.restic.backups.b.passwordFile = ./. + "/files/rp";\n', "password"),
        ('  services.restic.backups.b = { "passwordFile" = ./files/rp; };\n', "password"),
        (
            '  services.restic.backups.b.passwordFile = builtins.toFile "rp" '
            "(builtins.readFile ./files/rp);\n",
            "password",
        ),
        (
            '  services.restic.backups.b.passwordFile = "${pkgs.writeText "rp" '
            '(builtins.readFile ./files/rp)}";\n',
            "password",
        ),
    ],
)
def test_a_file_handed_to_a_secret_option_is_that_secret(
    tmp_path: Path, nix: str, kind: str
) -> None:
    found = _tree(tmp_path, nix, {"files/rp": V + "\n"})
    assert found == [("files/rp", "secret-file-text", kind)]


@pytest.mark.parametrize(
    ("nix", "files"),
    [
        # a public key, an environment file (scanned as one), a hash, a config's lines
        ("  x.keyFile = ./k.pub;\n", {"k.pub": "ssh-ed25519 " + "A" * 68 + " me@host\n"}),
        ("  x.environmentFile = ./app.env;\n", {"app.env": "MODE=prod\n"}),
        ("  users.users.a.hashedPasswordFile = ./h;\n", {"h": "$6$salt$" + "x" * 86 + "\n"}),
        ("  x.passwordFile = ./cfg;\n", {"cfg": "a = 1\nb = 2\n"}),
        ("  x.passwordFile = ./files/rp;\n  x.description = ./files/other;\n", {}),
        ("  x.configFile = ./files/rp;\n", {"files/rp": V + "\n"}),  # (no secret's option)
    ],
)
def test_other_files_and_options_stay_quiet(
    tmp_path: Path, nix: str, files: dict[str, str]
) -> None:
    assert _tree(tmp_path, nix, files) == []


def test_check_cannot_pass_it_and_says_how_the_file_moves(tmp_git_repo: Path) -> None:
    _tree(tmp_git_repo, "  services.restic.backups.b.passwordFile = ./files/rp;\n", {})
    (tmp_git_repo / "files").mkdir()
    (tmp_git_repo / "files" / "rp").write_text(V + "\n")
    commit_all(tmp_git_repo)
    tree = [r for r in run_check(tmp_git_repo).results if r.id == "plaintext-tree" and not r.ok]
    assert [r.paths for r in tree] == [("files/rp",)]
    assert "the whole file is the secret: store it with `secretkit set" in tree[0].fix
    assert "< files/rp`" in tree[0].fix
    assert "point the option that names this file at its .path" in tree[0].fix
    assert V not in tree[0].message + tree[0].fix


def test_the_hook_blocks_a_staged_module_handing_a_staged_file_to_a_secret_option(
    tmp_git_repo: Path,
) -> None:
    from secretkit.scan.staged import scan_staged
    from tests.conftest import git

    _tree(tmp_git_repo, "  services.restic.backups.b.passwordFile = ./files/rp;\n", {})
    (tmp_git_repo / "files").mkdir()
    (tmp_git_repo / "files" / "rp").write_text(V + "\n")
    git(tmp_git_repo, "add", "-A")
    found = scan_staged(tmp_git_repo, ["host.nix", "files/rp"]).findings
    assert [(f.path, f.rule) for f in found] == [("files/rp", "secret-file-text")]


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_workers_mark_the_modules_that_hand_files_on_and_only_those_are_read_again(
    tmp_path: Path, jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from secretkit.scan import nix_file_refs

    for i in range(60):  # (over PARALLEL_MIN_FILES: the workers scan them)
        (tmp_path / f"m{i}.nix").write_text(f'{{ ... }}: {{ networking.hostName = "h{i}"; }}\n')
    (tmp_path / "host.nix").write_text(
        "{ ... }: {\n  services.restic.backups.b.passwordFile = ./files/rp;\n}\n"
    )
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "rp").write_text(V + "\n")
    asked: list[str] = []
    given = nix_file_refs.given_files

    def counted(path: str, data: bytes) -> dict[str, str]:
        asked.append(path)
        return given(path, data)

    monkeypatch.setattr(nix_file_refs, "given_files", counted)
    found = scan_tree(tmp_path, jobs=jobs).findings
    assert [(f.path, f.rule) for f in found] == [("files/rp", "secret-file-text")]
    if jobs == 1:  # (the workers' own calls are in their processes)
        # each module asked once by the mark, and only the one marked read again
        assert asked.count("host.nix") == 2 and len(asked) == 62
