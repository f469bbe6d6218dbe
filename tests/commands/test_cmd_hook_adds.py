"""The hook judges what the commit adds, in real git repositories (plain git hook and
the pre-commit framework): a new secret blocks; a secret the touched file already
held in HEAD warns with its way out and does not block; ``--strict`` blocks it; a
staged file that cannot be read blocks unless ``--allow-unscanned``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.commands.test_cmd_hook import HookRepo, hook_repo  # noqa: F401  (fixture)
from tests.conftest import ROOT, git
from tests.support import fake

HOST = "hosts/observer/extra.nix"


def _module(*lines: str) -> str:
    return "{ config, ... }:\n{\n" + "".join(f"  {line}\n" for line in lines) + "}\n"


def _old_secret(repo: HookRepo) -> str:
    """Commit a module holding a secret past the hook (as a repo that predates it)."""
    value = fake.password("preexisting")
    repo.write(HOST, _module(f'services.grafana.settings.security.admin_password = "{value}";'))
    repo.stage(HOST)
    done = repo.commit("--no-verify")
    assert done.returncode == 0, done.stderr
    return value


def _run_hook(repo: HookRepo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secretkit", "hook", *args],
        cwd=repo.root,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT), **repo.env),
    )


def test_a_new_secret_is_blocked(hook_repo: HookRepo) -> None:  # noqa: F811
    before = hook_repo.head()
    value = fake.password("new")
    hook_repo.write(HOST, _module(f'services.grafana.settings.smtp.password = "{value}";'))
    hook_repo.stage(HOST)
    proc = hook_repo.commit()
    assert proc.returncode != 0
    assert hook_repo.head() == before
    out = proc.stdout + proc.stderr
    assert f"{HOST}:3:" in out and "commit blocked" in out
    assert value not in out


def test_a_changed_value_is_blocked(hook_repo: HookRepo) -> None:  # noqa: F811
    _old_secret(hook_repo)
    before = hook_repo.head()
    value = fake.password("changed")
    hook_repo.write(
        HOST, _module(f'services.grafana.settings.security.admin_password = "{value}";')
    )
    hook_repo.stage(HOST)
    proc = hook_repo.commit()
    assert proc.returncode != 0
    assert hook_repo.head() == before


def test_a_secret_already_in_the_touched_file_warns_and_does_not_block(
    hook_repo: HookRepo,  # noqa: F811
) -> None:
    value = _old_secret(hook_repo)
    before = hook_repo.head()
    hook_repo.write(
        HOST,
        _module(
            f'services.grafana.settings.security.admin_password = "{value}";',
            "services.grafana.enable = true;",
        ),
    )
    hook_repo.stage(HOST)
    proc = hook_repo.commit()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert hook_repo.head() != before
    if hook_repo.mode == "plain-git":  # pre-commit shows a passing hook's output only with -v
        out = proc.stdout + proc.stderr
        assert f"warning: {HOST}:3:" in out
        assert "already in HEAD, not added by this commit" in out
        assert "`secretkit hook --strict` blocks it" in out
        # (hosts/observer/default.nix does not import extra.nix: migrate would leave it)
        assert "fix: `secretkit migrate` cannot move this one (no host configuration" in out
        assert value not in out


def test_strict_blocks_what_the_touched_file_already_held(
    hook_repo: HookRepo,  # noqa: F811
) -> None:
    value = _old_secret(hook_repo)
    hook_repo.write(
        HOST,
        _module(
            f'services.grafana.settings.security.admin_password = "{value}";',
            "services.grafana.enable = true;",
        ),
    )
    hook_repo.stage(HOST)
    if hook_repo.mode == "pre-commit":
        config = hook_repo.root / ".pre-commit-config.yaml"
        config.write_text(config.read_text().replace("hook --", "hook --strict --"))
        git(hook_repo.root, "add", ".pre-commit-config.yaml")
        before = hook_repo.head()
        proc = hook_repo.commit()
        assert proc.returncode != 0
        assert hook_repo.head() == before
        assert "(already in HEAD; --strict)" in proc.stdout + proc.stderr
    else:
        strict = _run_hook(hook_repo, "--strict")
        assert strict.returncode == 1
        assert f"{HOST}:3:" in strict.stdout and "(already in HEAD; --strict)" in strict.stdout
        assert _run_hook(hook_repo).returncode == 0


@pytest.mark.parametrize("hook_repo", ["plain-git"], indirect=True)
def test_an_unreadable_staged_file_blocks_unless_allowed(
    hook_repo: HookRepo,  # noqa: F811
) -> None:
    hook_repo.write("notes.txt", "nothing secret\n")
    hook_repo.stage("notes.txt")
    oid = git(hook_repo.root, "rev-parse", ":notes.txt").strip()
    (hook_repo.root / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    proc = _run_hook(hook_repo, "--", "notes.txt")
    assert proc.returncode == 1
    assert "notes.txt: cannot scan it (its content is missing from the git object store)" in (
        proc.stdout
    )
    assert "echo 'path:notes.txt' >> .secretkit-allow" in proc.stdout
    allowed = _run_hook(hook_repo, "--allow-unscanned", "--", "notes.txt")
    assert allowed.returncode == 0, allowed.stdout
    assert "not scanned for secrets (--allow-unscanned): notes.txt" in allowed.stderr


@pytest.mark.parametrize("hook_repo", ["plain-git"], indirect=True)
def test_the_fix_names_the_manual_route_when_migrate_would_refuse(
    hook_repo: HookRepo,  # noqa: F811
) -> None:
    value = fake.password("refused")
    hook_repo.write(HOST, _module(f'some.thing.password = "{value}";'))
    hook_repo.stage(HOST)
    proc = _run_hook(hook_repo)
    assert proc.returncode == 1
    fixes = [line for line in proc.stdout.splitlines() if line.startswith("  fix:")]
    assert fixes and all("run `secretkit migrate`" not in fix for fix in fixes)
    assert all("`secretkit migrate` cannot move this one (" in fix for fix in fixes)


@pytest.mark.parametrize("hook_repo", ["plain-git"], indirect=True)
def test_a_builders_text_is_fixed_by_its_path_in_place_of_the_call(
    hook_repo: HookRepo,  # noqa: F811
) -> None:
    # OpenVPN reads "user\npassword" from the file: its path goes where writeText was,
    # never into the text (the route "point the option at its .path" would write it there)
    value = fake.password("openvpn")
    call = f'pkgs.writeText "auth" "jdoe\\n{value}"'
    line = f'services.openvpn.servers.a.config = "auth-user-pass ${{{call}}}";'
    hook_repo.write(HOST, _module(line).replace("{ config, ...", "{ config, pkgs, ..."))
    hook_repo.stage(HOST)
    proc = _run_hook(hook_repo)
    assert proc.returncode == 1, proc.stdout
    [fix] = [line for line in proc.stdout.splitlines() if line.startswith("  fix:")]
    assert "put its .path in place of the `pkgs.writeText …` call" in fix
    assert "point the option" not in fix and value not in proc.stdout


@pytest.mark.parametrize("hook_repo", ["plain-git"], indirect=True)
def test_a_renamed_file_keeps_its_preexisting_secret_a_warning(
    hook_repo: HookRepo,  # noqa: F811
) -> None:
    _old_secret(hook_repo)
    git(hook_repo.root, "mv", HOST, "hosts/observer/grafana.nix")
    proc = hook_repo.commit()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warning: hosts/observer/grafana.nix:3:" in proc.stdout + proc.stderr


@pytest.mark.parametrize("hook_repo", ["plain-git"], indirect=True)
def test_the_fix_follows_the_pinned_release_as_migrate_does(
    hook_repo: HookRepo,  # noqa: F811
) -> None:
    """A route the pinned NixOS release lacks (wifi secretsFile before 24.11) is one
    migrate refuses: the hook must not send the user to migrate for it."""
    import json

    lock = {
        "nodes": {
            "nixpkgs": {
                "locked": {"lastModified": 1730000000, "rev": "ab" * 20, "type": "github"},
                "original": {"owner": "NixOS", "ref": "nixos-24.05", "repo": "nixpkgs",
                             "type": "github"},
            },
            "root": {"inputs": {"nixpkgs": "nixpkgs"}},
        },
        "root": "root",
        "version": 7,
    }  # fmt: skip
    hook_repo.write("flake.lock", json.dumps(lock))
    hook_repo.write(
        HOST, _module(f'networking.wireless.networks.home.psk = "{fake.password("wifi")}";')
    )
    # (a module of the host: a file no host imports is refused for that first)
    hook_repo.write("hosts/observer/default.nix", _module("imports = [ ./extra.nix ];"))
    hook_repo.stage(HOST, "hosts/observer/default.nix")
    proc = _run_hook(hook_repo)
    assert proc.returncode == 1
    fixes = [line for line in proc.stdout.splitlines() if line.startswith("  fix:")]
    assert fixes and all("run `secretkit migrate`" not in fix for fix in fixes)
    assert any("needs NixOS 24.11 or newer" in fix for fix in fixes), fixes
