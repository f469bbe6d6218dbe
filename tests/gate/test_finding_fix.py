"""The way out printed after a plaintext finding (``hook`` and ``check``): every route
it names must work when followed.  The allow comment is offered only where it is a
comment the scanner reads and that changes nothing the file says; the allowlist
always; a file that is one secret moves whole into sops and leaves the repository."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from secretkit.gate.finding_fix import ALLOW_COMMENT, finding_fix, mark_works
from secretkit.scan.one_file import scan_bytes
from tests.conftest import ROOT, commit_all, git
from tests.sops.keys_support import age_key
from tests.support import fake

PW = fake.password("finding-fix")  # a value the scanner reports wherever a password goes

NIX_INDENTED = f"""\
{{ pkgs, ... }}:
{{
  environment.etc."app.conf".text = ''
    password = {PW}
  '';
}}
"""
NIX_QUOTED_MULTILINE = (
    f'{{\n  environment.etc."app.conf".text = "user=me\n  password={PW}\n  ";\n}}\n'
)
NIX_ONE_LINE = f'{{\n  services.foo.settings.password = "{PW}";\n}}\n'


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def _with_mark(text: str, line: int) -> str:
    lines = text.split("\n")
    lines[line - 1] += f" {ALLOW_COMMENT}"
    return "\n".join(lines)


def _found(path: str, text: str) -> bool:
    hits, _skipped = scan_bytes(path, text.encode())
    return any(h.secret.reveal() == PW for h in hits)


@pytest.mark.parametrize(
    ("path", "text", "works"),
    [
        ("a.nix", NIX_ONE_LINE, True),
        ("a.nix", NIX_INDENTED, False),  # inside '' … '': no comment, still reported
        ("a.nix", NIX_QUOTED_MULTILINE, False),
        ("a.yaml", f"db:\n  password: {PW}\n", True),
        ("a.toml", f'[db]\npassword = "{PW}"\n', True),
        ("a.sh", f"export DB_PASSWORD='{PW}'\n", True),
    ],
)
def test_the_mark_is_offered_exactly_where_the_scanner_then_stays_silent(
    path: str, text: str, works: bool
) -> None:
    assert _found(path, text)
    line = _line_of(text, PW)
    assert mark_works(path, "secret-attribute", line, text.encode()) is works
    assert _found(path, _with_mark(text, line)) is not works


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("config.json", "secret-attribute"),  # JSON has no comments
        ("app.env", "secret-attribute"),  # systemd's EnvironmentFile keeps "# …" in the value
        ("app.ini", "secret-attribute"),
        ("init.lua", "secret-attribute"),  # comment syntax unknown
        ("hosts/box/restic-password.txt", "secret-file-text"),  # would join the value
        ("id_ed25519.yaml", "private-key"),  # the armour line
        ("a.nix", "secret-attribute"),  # (no source to judge)
    ],
)
def test_the_mark_is_not_offered_where_it_would_change_the_file(path: str, rule: str) -> None:
    assert mark_works(path, rule, 1, None) is False
    fix = finding_fix(path, "sk2:" + "0" * 32, rule=rule, mark=False)
    assert ALLOW_COMMENT not in fix
    assert "allowlist it: echo sk2:" in fix


@pytest.mark.parametrize("path", ["a.nix", "values.yaml", "config.toml", "setup.sh"])
def test_where_the_mark_works_it_is_the_one_way_offered(path: str) -> None:
    """No allowlist line: it would need the value's fingerprint (a scrypt) for a way
    out the comment already gives."""
    fix = finding_fix(path, None, rule="secret-attribute", mark=True)
    assert fix.endswith(f"if it is not a secret, append `{ALLOW_COMMENT}` to the line")
    assert ".secretkit-allow" not in fix


def test_a_secret_in_a_nix_comment_is_deleted_not_moved() -> None:
    """The planner's refusal for a value in a comment gives the fix its one way out:
    no sops file, no option to point anywhere."""
    from secretkit.plan.advice import migrate_refusal

    source = ("{ ... }:\n{\n  # old token: " + fake.chars(fake._ALNUM, 24, "cm") + "\n}\n").encode()
    (finding,) = scan_bytes("hosts/a/default.nix", source)[0]
    refusal = migrate_refusal(finding.path, source, finding)
    assert refusal is not None
    fix = finding_fix(finding.path, None, refusal.reason, rule=finding.rule)
    assert fix.startswith("it is written in a comment, which is published with the file: delete")
    assert "secretkit set" not in fix and ".path" not in fix


def test_a_whole_file_secret_is_moved_whole_and_removed() -> None:
    fix = finding_fix("hosts/my box/pw.txt", None, rule="secret-file-text", mark=False)
    assert "< 'hosts/my box/pw.txt'" in fix  # quoted for the shell
    assert "git rm -f 'hosts/my box/pw.txt'" in fix
    assert "run `secretkit migrate`" not in fix


@pytest.mark.parametrize(
    ("path", "kwargs"),
    [
        ("hosts/gus/pw.txt", {"rule": "secret-file-text"}),  # one secret, the whole file
        ("hosts/gus/app.yaml", {}),  # a value in a config file
        ("hosts/gus/app.tar.gz!app/.env", {"archive": "hosts/gus/app.tar.gz"}),
    ],
)
def test_a_non_nix_files_route_names_the_file_of_the_host_that_reads_it(
    path: str, kwargs: dict[str, str]
) -> None:
    """The host is known (its module names the file): the command it prints is that
    host's, not secrets/<host>.yaml, whose <host> a shell reads as a redirection."""
    fix = finding_fix(path, None, mark=False, sops_file="secrets/gus.yaml", **kwargs)
    assert "`secretkit set secrets/gus.yaml '[\"<name>\"]'" in fix
    assert "<host>" not in fix


def _cli(repo: Path, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "secretkit", *args],
        cwd=repo,
        input=stdin,
        capture_output=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT), **(env or {})),
    )


def test_the_hook_fix_for_a_secret_in_a_nix_string_works_as_printed(tmp_git_repo: Path) -> None:
    repo = tmp_git_repo
    (repo / "flake.nix").write_text("{ outputs = _: { }; }\n")
    commit_all(repo, "base")
    (repo / "app.nix").write_text(NIX_INDENTED)
    git(repo, "add", "app.nix")
    blocked = _cli(repo, "hook")
    out = blocked.stdout.decode() + blocked.stderr.decode()
    assert blocked.returncode == 1, out
    assert PW not in out
    assert ALLOW_COMMENT not in out  # it would land inside the string
    match = re.search(r"allowlist it: echo (sk2:[0-9a-f]{32}) >> \.secretkit-allow", out)
    assert match, out
    (repo / ".secretkit-allow").write_text(match.group(1) + "\n")
    git(repo, "add", ".secretkit-allow")
    passed = _cli(repo, "hook")
    assert passed.returncode == 0, passed.stdout.decode() + passed.stderr.decode()


def test_the_check_fix_for_a_secret_file_works_as_printed(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    repo = tmp_git_repo
    admin, host = age_key(), age_key()
    key_file = admin.write(tmp_path / "keys" / "admin.txt")
    env = {"SOPS_AGE_KEY_FILE": str(key_file)}
    secret = fake.password("restic-file")
    (repo / "hosts" / "box").mkdir(parents=True)
    (repo / "hosts/box/restic-password.txt").write_text(secret + "\n")
    module = (
        '{ ... }: {\n  services.restic.backups.home.passwordFile = "${./restic-password.txt}";\n}\n'
    )
    (repo / "hosts/box/default.nix").write_text(module)
    assert _cli(repo, "init", "--admin", admin.public, env=env).returncode == 0
    assert _cli(repo, "hosts", "add", "box", "--age", host.public, env=env).returncode == 0
    commit_all(repo, "restic")

    checked = _cli(repo, "check", env=env)
    out = checked.stdout.decode()
    assert checked.returncode == 1
    assert secret not in out + checked.stderr.decode()
    fix = next(
        line for line in out.splitlines() if "restic-password.txt" in line and "fix:" in line
    )
    assert ALLOW_COMMENT not in fix
    command = re.search(r"`(secretkit set secrets/<host>\.yaml '\[\"<name>\"\]' < (\S+))`", fix)
    assert command, fix
    # follow it: the host is box, the name restic
    stored = _cli(
        repo,
        "set",
        "secrets/box.yaml",
        '["restic"]',
        stdin=(repo / command.group(2)).read_bytes(),
        env=env,
    )
    assert stored.returncode == 0, stored.stderr.decode()
    module = module.replace('"${./restic-password.txt}"', 'config.sops.secrets."restic".path')
    module = module.replace("{ ... }:", "{ config, ... }:").replace(
        "{\n  services", '{\n  sops.secrets."restic".sopsFile = ../../secrets/box.yaml;\n  services'
    )
    (repo / "hosts/box/default.nix").write_text(module)
    assert f"git rm -f {command.group(2)}" in fix
    git(repo, "rm", "-q", "-f", command.group(2))  # as printed
    commit_all(repo, "moved into sops")

    decrypted = _cli(repo, "decrypt", "secrets/box.yaml", "--extract", '["restic"]', env=env)
    assert decrypted.stdout.decode().strip() == secret
    tree = _cli(repo, "scan")
    assert tree.returncode == 0, tree.stdout.decode()


def test_the_check_fix_for_a_file_nix_reads_while_evaluating(tmp_git_repo: Path) -> None:
    """A JSON file read with lib.importJSON: encrypted in place, Nix would evaluate the
    ciphertext (a stranger's immich settings did, and scan then exited 0)."""
    from secretkit.commands.check import run_check

    repo = tmp_git_repo
    (repo / "hosts/box").mkdir(parents=True)
    (repo / "flake.nix").write_text(
        "{ outputs = { nixpkgs, ... }: { nixosConfigurations.box = nixpkgs.lib.nixosSystem "
        "{ modules = [ ./hosts/box ]; }; }; }\n"
    )
    (repo / "hosts/box/default.nix").write_text(
        "{ lib, ... }:\n{\n  services.immich.settings = lib.importJSON ./immich.json;\n}\n"
    )
    (repo / "hosts/box/immich.json").write_text(f'{{\n  "clientSecret": "{PW}"\n}}\n')
    commit_all(repo, "immich")
    (result,) = [
        r
        for r in run_check(repo).results
        if r.id == "plaintext-tree" and "immich.json" in r.message
    ]
    assert result.fix.startswith(
        "Nix code names this file: hosts/box/default.nix:3 reads it when Nix evaluates"
    )
    assert 'config.sops.placeholder."<name>"' in result.fix
    assert ALLOW_COMMENT not in result.fix  # JSON has no comments


def test_a_value_inside_an_archive_is_fixed_at_the_archive() -> None:
    """``a.zip!x.env`` is no file git knows: every command names the archive."""
    before_first_commit = finding_fix("a.zip!x.env", lambda: "", archive="a.zip", mark=True)
    assert "inside a.zip" in before_first_commit
    # (a copy left untracked is still found: the stranger who stopped there was not done)
    assert "git rm --cached -- a.zip, then delete it or add it to .gitignore" in (
        before_first_commit
    )
    assert "!x.env" not in before_first_commit
    assert "append" not in before_first_commit  # (no line of the archive to mark)


def test_a_users_password_no_host_imports_is_moved_by_hand_as_a_hash(tmp_git_repo: Path) -> None:
    """A stranger's `users.users.bob.initialPassword` in a file no host imports: check's
    fix said to point the option at the secret's path "(a *File option)", which
    initialPassword has not; migrate's route is hashedPasswordFile with a crypt hash."""
    from secretkit.commands.check import run_check
    from tests.support import fake

    (tmp_git_repo / "flake.nix").write_text(
        "{ outputs = { nixpkgs, ... }: { nixosConfigurations.box = "
        "nixpkgs.lib.nixosSystem { modules = [ ./box.nix ]; }; }; }\n"
    )
    (tmp_git_repo / "box.nix").write_text('{ ... }: { networking.hostName = "box"; }\n')
    (tmp_git_repo / "other.nix").write_text(
        f'{{ ... }}: {{ users.users.bob.initialPassword = "{fake.password("bob")}"; }}\n'
    )
    commit_all(tmp_git_repo, "a user's password in a file no host imports")
    (result,) = [
        r for r in run_check(tmp_git_repo).results if r.id == "plaintext-tree" and not r.ok
    ]
    assert "mkpasswd -m sha-512 | secretkit set secrets/<host>.yaml" in result.fix
    assert "with neededForUsers = true;" in result.fix
    assert (
        'set users.users.<user>.hashedPasswordFile = config.sops.secrets."<name>".path; in '
        "place of the option"
    ) in result.fix
    assert "(a *File option)" not in result.fix


def test_an_environment_file_route_migrate_leaves_by_hand_is_told_as_migrate_tells_it(
    tmp_git_repo: Path,
) -> None:
    """A container's `environment.DB_PASSWORD` beside `environmentFiles` already set:
    check said "point the option at its .path (a *File option)", which the container has
    not; migrate's by-hand step (a template line added to environmentFiles) is said."""
    from secretkit.commands.check import run_check
    from tests.support import fake

    (tmp_git_repo / "flake.nix").write_text(
        "{ outputs = { nixpkgs, ... }: { nixosConfigurations.web = "
        "nixpkgs.lib.nixosSystem { modules = [ ./web.nix ]; }; }; }\n"
    )
    (tmp_git_repo / "web.nix").write_text(
        '{ ... }: {\n  networking.hostName = "web";\n'
        "  virtualisation.oci-containers.containers.db.environment.DB_PASSWORD = "
        f'"{fake.password("db")}";\n'
        "  virtualisation.oci-containers.containers.db.environmentFiles = [ ./db.env ];\n}\n"
    )
    (tmp_git_repo / "db.env").write_text("TZ=UTC\n")
    commit_all(tmp_git_repo, "a container's password")
    (result,) = [
        r for r in run_check(tmp_git_repo).results if r.id == "plaintext-tree" and not r.ok
    ]
    assert "(a *File option)" not in result.fix
    assert (
        "drop the literal on line 3 for the route environmentFiles (--env-file, read by the "
        "root unit): a sops.templates entry whose content is the line <VARIABLE>="
        '${config.sops.placeholder."<name>"} (the variable the literal set), its .path added '
        "to that option next to the files it already lists"
    ) in result.fix
