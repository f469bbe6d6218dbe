"""clan-core's secret layout: read from the folder links, verified by `check` the way
clan does (recipients from users/machines/groups links, MAC with an admin key)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from secretkit.commands.check import run_check
from secretkit.layouts.clan import read_clan
from tests.conftest import commit_all
from tests.layouts.clan_repo import Clan, make_clan


@pytest.fixture
def clan(tmp_git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Clan:
    made = make_clan(tmp_git_repo)
    commit_all(tmp_git_repo, "a tiny clan")
    monkeypatch.setenv("SOPS_AGE_KEY", made.admin_key())
    return made


def _files(root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in root.rglob("*") if ".git" not in p.parts]


def test_layout_is_read_from_the_links(clan: Clan) -> None:
    layout = read_clan(clan.root, _files(clan.root))
    assert layout is not None
    assert sorted(layout.secrets) == [
        "sops/secrets/db-root/secret",
        "sops/secrets/web-db-password/secret",
        "vars/per-machine/web/acme/keys/account.key/secret",
        "vars/shared/wireguard/psk/secret",
    ]
    psk = layout.secrets["vars/shared/wireguard/psk/secret"]
    assert psk.machines(layout) == {"web", "db"}  # through the servers group
    assert layout.expected(psk) == {
        clan.public(o) for o in ("machines/web", "machines/db", "users/alice")
    }


def test_a_consistent_clan_passes_check(clan: Clan) -> None:
    report = run_check(clan.root)
    assert [r.message for r in report.failed] == []
    messages = {r.id: r.message for r in report.results}
    assert "managed by clan: 4 file(s), recipients consistent" in messages["sops-recipients"]
    assert "4 sops file(s) verify" in messages["sops-mac"]
    # clan's sops module gives these declarations their sopsFile: resolved, not "cannot verify"
    assert messages["nix-secret-refs"].startswith(
        "2 declared secret(s) (2 host/file pair(s)), 1 reference(s), all resolve; "
        "2 clan var use(s) by machines, all generated"
    )


def test_a_clan_var_a_machine_uses_but_never_generated(clan: Clan) -> None:
    db = clan.root / "machines/db/configuration.nix"
    db.write_text(
        db.read_text().replace(
            "  sops.secrets.db-root",
            "  services.borgbackup.jobs.x.encryption.passCommand =\n"
            '    "cat ${config.clan.core.vars.generators.borg.files.passphrase.path}";\n'
            "  sops.secrets.db-root",
        )
    )
    (failure,) = run_check(clan.root).failed
    assert failure.id == "nix-secret-refs"
    assert failure.message == (
        "machines/db/configuration.nix:5: machine db uses clan var borg/passphrase, which was "
        "never generated (no vars/per-machine/db/borg/passphrase/)"
    )
    assert failure.fix == "clan vars generate db"


_FEATURE = (
    "{ config, ... }:\n{\n  services.tailscale.authKeyFile =\n"
    "    config.clan.core.vars.generators.tailscale.files.auth_keyTYPO.path;\n}\n"
)


def test_clan_vars_used_where_discovery_cannot_follow_cannot_be_verified(clan: Clan) -> None:
    """A stranger's clan imported its feature modules through a computed list: the
    uses there were never checked, yet nix-secret-refs said "all generated" over a
    misspelt var.  Unread, they fail as "cannot verify" with the way out."""
    (clan.root / "modules/features").mkdir()
    (clan.root / "modules/features/tailscale.nix").write_text(_FEATURE)
    users = clan.root / "modules/users.nix"
    users.write_text(
        users.read_text().replace(
            "{ ... }:",
            "{ lib, ... }:\n{ imports = lib.filter (f: f != null) (map lib.id [ ]); } // ",
        )
    )
    commit_all(clan.root, "features through a computed list")
    failed = [r for r in run_check(clan.root).failed if r.id == "nix-secret-refs"]
    assert len(failed) == 1, [r.message for r in failed]
    assert failed[0].message.startswith(
        "cannot verify: 1 file(s) use clan vars (modules/features/tailscale.nix) but secretkit "
        "found no host importing them: it could not follow modules/users.nix"
    )


def test_clan_vars_used_in_a_module_no_machine_imports_are_named_unchecked(clan: Clan) -> None:
    (clan.root / "modules/features").mkdir()
    (clan.root / "modules/features/tailscale.nix").write_text(_FEATURE)
    commit_all(clan.root, "a feature module nothing imports")
    report = run_check(clan.root)
    assert [r.message for r in report.failed] == []
    messages = {r.id: r.message for r in report.results}
    assert (
        "2 clan var use(s) by machines, all generated (1 file(s) using clan vars no "
        in (messages["nix-secret-refs"])
    )


def test_a_machine_with_its_clan_age_key_is_not_warned_about_ssh_host_keys(clan: Clan) -> None:
    """clan-core points sops.age.keyFile at the machine's own age key when the clan holds
    it (sops/secrets/<machine>-age.key): the ssh host key warning does not apply there;
    host-readable's ok line says what it checked (clan's links, not .sops.yaml)."""
    clan.link("sops/secrets/web-age.key", "users", "alice")
    clan.encrypt("sops/secrets/web-age.key", ["users/alice"], b"key-ish")
    commit_all(clan.root, "web's own age key")
    report = run_check(clan.root)
    assert [r.message for r in report.failed] == []
    readable = [r.message for r in report.results if r.id == "host-readable"]
    assert readable[0] == (
        "each machine's clan key is a recipient of every sops file it declares (2 "
        "machine/file pair(s)); clan vars: see sops-recipients"
    )
    warned = [m for m in readable if m.startswith("warning: host ")]
    assert [m.split(":")[1] for m in warned] == [" host db"]


def test_one_wrong_recipient_link_is_exactly_one_failure(clan: Clan) -> None:
    clan.link("sops/secrets/db-root", "machines", "web")  # linked, but never re-encrypted
    report = run_check(clan.root)
    (failure,) = report.failed
    assert failure.id == "sops-recipients"
    assert failure.paths == ("sops/secrets/db-root/secret",)
    assert "not encrypted for machines/web" in failure.message
    assert "clan secrets machines add-secret <machine> db-root" in failure.fix


def test_a_link_to_another_machine_is_named(clan: Clan) -> None:
    folder = clan.root / "vars/per-machine/web/acme/keys/account.key/machines"
    os.unlink(folder / "web")
    os.symlink("../../../../../../../sops/machines/db", folder / "web")
    (failure,) = run_check(clan.root).failed
    assert failure.id == "sops-recipients"
    assert "machines/web: points to sops/machines/db (another machine)" in failure.message
    assert "clan vars fix web" in failure.fix


def test_a_machine_without_a_link_cannot_read_the_secret_its_module_declares(clan: Clan) -> None:
    shutil.rmtree(clan.root / "sops/secrets/web-db-password/machines")
    clan.encrypt("sops/secrets/web-db-password", ["users/alice"], b"pw-one")
    (failure,) = run_check(clan.root).failed
    assert failure.id == "host-readable"
    assert "machine web uses sops/secrets/web-db-password/secret" in failure.message
    assert failure.fix == "clan secrets machines add-secret web web-db-password"


def test_a_declared_secret_missing_from_the_clan_says_the_clan_command(clan: Clan) -> None:
    shutil.rmtree(clan.root / "sops/secrets/db-root")
    failures = run_check(clan.root).failed
    assert [f.id for f in failures] == ["nix-secret-refs"]
    assert "sops/secrets/db-root/secret, which does not exist" in failures[0].message
    assert failures[0].fix.startswith("create it the clan way: clan secrets set db-root")
    assert "clan secrets machines add-secret db db-root" in failures[0].fix


def test_without_a_key_the_mac_points_is_one_group(
    clan: Clan, monkeypatch: pytest.MonkeyPatch
) -> None:
    from secretkit.gate.render import render

    monkeypatch.delenv("SOPS_AGE_KEY")
    report = run_check(clan.root)
    # (decrypted-copy cannot search the other files for values it could not read)
    assert {r.id for r in report.failed} == {"sops-mac", "decrypted-copy"}
    lines = render(report)
    assert len(lines) == len(set(line for line in lines if line)) + lines.count("")
    (index,) = [i for i, line in enumerate(lines) if "cannot verify the MAC" in line]
    assert lines[index].endswith("— 4 of them")
    assert lines[index + 1].strip().startswith("e.g. sops/secrets/db-root/secret, ")
    assert lines[index + 1].endswith("(+1 more)")


def test_migrate_on_a_clan_repo_says_to_use_clan(
    clan: Clan, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support import fake
    from tests.support.cli import run_main

    web = clan.root / "machines/web/configuration.nix"
    line = f'  services.hostapd.wpaPassphrase = "{fake.password("w")}";\n'
    text = web.read_text().replace(
        "  services.nginx.enable = true;\n", "  services.nginx.enable = true;\n" + line
    )
    web.write_text(text)

    def files() -> list[str]:  # .git/secretkit holds the repository lock, nothing else
        paths = (p.relative_to(clan.root).as_posix() for p in clan.root.rglob("*"))
        return sorted(p for p in paths if not p.startswith(".git/secretkit"))

    before = files()
    code, _out, err = run_main(capsys, "-C", str(clan.root), "migrate", "--yes")
    assert code == 3
    assert "clan-core repository" in err and "second, incompatible secrets layout" in err
    assert "`clan secrets set --machine web hostapd-wpaPassphrase` reads it from stdin" in err
    assert 'clan declares sops.secrets."hostapd-wpaPassphrase"' in err
    assert files() == before  # nothing written: no secrets/, no .sops.yaml


def test_check_and_the_hook_give_a_clan_repos_findings_the_clan_route(clan: Clan) -> None:
    """Their fixes were "run `secretkit migrate`" (it exits 3 in a clan's repository: a
    stranger followed it) and "secretkit set secrets/<host>.yaml" (a second layout, and
    no rule for it): they now store the value with clan, which declares it."""
    import subprocess
    import sys

    from tests.support import fake

    web = clan.root / "machines/web/configuration.nix"
    lines = (
        f'  services.tailscale.authKey = "{fake.tailscale_auth_key("clan")}";\n'
        f'  services.hostapd.wpaPassphrase = "{fake.password("w")}";\n'
    )
    web.write_text(
        web.read_text().replace(
            "  services.nginx.enable = true;\n", "  services.nginx.enable = true;\n" + lines
        )
    )

    def route(name: str) -> str:
        return (
            f"store it with clan (`clan secrets set --machine web {name}` reads it from "
            f'stdin); clan declares sops.secrets."{name}" for the machine (root\'s, mode 0400): '
            "point the option at its .path through the option's file-based twin (a *File "
            f'option: authKeyFile for authKey) or at config.sops.templates."<t>".path with '
            f'${{config.sops.placeholder."{name}"}} in its content (the placeholder is replaced '
            "only inside a template)"
        )

    routed, by_hand = route("tailscale-authKey"), route("hostapd-wpaPassphrase")
    fixes = [r.fix for r in run_check(clan.root).failed if r.id == "plaintext-tree"]
    assert len(fixes) == 2
    assert fixes[0].startswith(routed + ";"), fixes[0]
    assert fixes[1].startswith(by_hand + ";"), fixes[1]
    subprocess.run(["git", "add", "-A"], cwd=clan.root, check=True)
    hook = subprocess.run(
        [sys.executable, "-m", "secretkit", "hook"],
        cwd=clan.root,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    shown = hook.stdout + hook.stderr
    assert hook.returncode == 1
    assert f"fix: {routed};" in shown and f"fix: {by_hand};" in shown, shown
    assert "run `secretkit migrate`" not in shown and "secretkit set" not in shown


def test_hosts_add_on_a_clan_repo_names_the_clan_command(
    clan: Clan, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.cli import run_main

    key = clan.public("machines/db")
    code, _out, err = run_main(capsys, "-C", str(clan.root), "hosts", "add", "cache", "--age", key)
    assert code == 3
    assert "clan keeps machine keys in sops/machines/<name>/key.json" in err
    assert f"clan secrets machines add cache {key}" in err
    assert not (clan.root / ".sops.yaml").exists()
    # a machine the clan has: its key is clan's (adding it again would fail)
    code, _out, err = run_main(capsys, "-C", str(clan.root), "hosts", "add", "db", "--age", key)
    assert code == 3
    assert "db is a clan machine already, with the age key in sops/machines/db/key.json" in err
    assert "clan secrets machines add --force db <its new age key>" in err
    assert not (clan.root / ".sops.yaml").exists()


def test_updatekeys_leaves_clans_files_to_clan_and_says_so(
    clan: Clan, capsys: pytest.CaptureFixture[str]
) -> None:
    """A clan that keeps a .sops.yaml for other files: updatekeys listed each of clan's
    files as "no creation rule matches" and exited 0 having read nothing of theirs."""
    from tests.support.cli import run_main

    (clan.root / ".sops.yaml").write_text(
        "creation_rules:\n  - path_regex: ^other/.*\\.yaml$\n"
        f"    age: {clan.public('users/alice')}\n"
    )
    commit_all(clan.root, "a .sops.yaml for files outside clan")
    before = {p: p.read_bytes() for p in (clan.root / "sops").rglob("secret")}
    code, out, err = run_main(capsys, "-C", str(clan.root), "updatekeys")
    assert code == 0, err
    assert (
        "sops/secrets/db-root/secret: managed by clan (its recipients are its sops/ links), "
        "left alone" in out
    )
    assert "no creation rule matches" not in out
    assert "clan vars fix <machine> for vars" in err
    assert {p: p.read_bytes() for p in before} == before


def test_a_reference_clan_s_store_declares_resolves_and_a_typo_does_not(clan: Clan) -> None:
    # clan-core declares sops.secrets.<name> for each sops/secrets/<name>/ a machine
    # shares; before, such references passed only when some computed sops.secrets
    # elsewhere switched the reference check off for the whole repository
    clan.link("sops/secrets/db-backup", "machines", "db")
    clan.encrypt("sops/secrets/db-backup", ["machines/db", "users/alice"], b"pw-three")
    db = clan.root / "machines/db/configuration.nix"
    db.write_text(
        "{ config, ... }:\n{\n  imports = [ ../../modules/shared.nix ];\n"
        '  sops.secrets.db-root = { owner = "postgres"; };\n'
        "  services.x.passwordFile = config.sops.secrets.db-backup.path;\n"
        "  services.y.passwordFile = config.sops.secrets.db-bakup.path;\n}\n"
    )
    web = clan.root / "machines/web/configuration.nix"
    web.write_text(
        web.read_text().replace("}\n", "  z.file = config.sops.secrets.db-backup.path;\n}\n")
    )
    commit_all(clan.root, "references")
    failed = {r.message: r.fix for r in run_check(clan.root).failed if r.id == "nix-secret-refs"}
    assert failed == {
        'machines/db/configuration.nix:6: config.sops.secrets."db-bakup" is used but never '
        "declared": failed.get(
            'machines/db/configuration.nix:6: config.sops.secrets."db-bakup" is used but never '
            "declared"
        ),
        'machine web reads config.sops.secrets."db-backup", which clan\'s store shares only '
        "with db: web does not evaluate (attribute missing)": "clan secrets machines add-secret "
        "web db-backup",
    }


def test_init_in_a_clan_names_clans_own_command(clan: Clan) -> None:
    """badele/nix-homelab: `init --admin` wrote &admin_root into a .sops.yaml left from an
    older layout, which clan's sops module never reads."""
    from secretkit.commands.init import init
    from secretkit.errors import UserError
    from tests.sops.keys_support import age_key

    (clan.root / ".sops.yaml").write_text("creation_rules: []\n")
    new = age_key().public
    with pytest.raises(UserError) as refused:
        init(clan.root, new, "root")
    assert refused.value.one_line().endswith(f"(hint: clan secrets users add root {new})")
    alice = clan.public("users/alice")
    with pytest.raises(UserError, match="this key is clan user alice's already"):
        init(clan.root, alice, "root")
    assert (clan.root / ".sops.yaml").read_text() == "creation_rules: []\n"


def test_hosts_list_shows_a_clan_machines_own_key(clan: Clan) -> None:
    """badele/nix-homelab: the KEY column showed a stale `&badxps` of a .sops.yaml left
    from an older layout (and `-` for every other machine); clan reads key.json."""
    from secretkit.commands.hosts import list_hosts
    from tests.sops.keys_support import age_key

    stale = age_key().public
    (clan.root / ".sops.yaml").write_text(
        f"keys:\n  - &web {stale}\ncreation_rules:\n  - path_regex: old/web\\.yaml$\n"
        "    key_groups:\n      - age: [*web]\n"
    )
    rows = {row.host: row for row in list_hosts(clan.root).rows}
    assert rows["web"].key == clan.public("machines/web")
    assert rows["db"].key == clan.public("machines/db")
    assert rows["web"].other_rules == ()


def test_the_clan_route_carries_the_catalogue_route_and_the_owner_its_reader_needs() -> None:
    """badele/nix-homelab: grafana's admin_password got "point the option at its .path
    (a *File option: authKeyFile for authKey)": clan declares the secret root's 0400,
    which grafana cannot read, and grafana's route is "$__file{…}"."""
    from secretkit.layouts.clan import clan_store

    stored = clan_store(
        "services.grafana.settings.security.admin_password", "machines/h/configuration.nix", ["h"]
    )
    assert stored.route.endswith(
        'set sops.secrets."security-admin_password".owner = "grafana"; beside it, then replace '
        'the literal by the route "$__file{…}" (owner grafana), using '
        'config.sops.secrets."security-admin_password".path'
    )
    # a module no machine imports: clan would give the secret to none
    alone = clan_store("services.foo.token", "modules/foo.nix", [])
    assert alone.command == "clan secrets set --machine <machine> foo-token"
    assert alone.route.startswith("no clan machine imports modules/foo.nix: import it from")


def test_migrate_in_a_clan_names_only_clan_machines_and_where_the_rest_is(
    clan: Clan, capsys: pytest.CaptureFixture[str]
) -> None:
    """badele/nix-homelab at 834c008a: `clan secrets set --machine iso …` for a host of
    the flake's own (no clan machine: the command cannot work), and nothing for the
    other 4 values."""
    from tests.support import fake
    from tests.support.cli import run_main

    (clan.root / "flake.nix").write_text(
        (clan.root / "flake.nix")
        .read_text()
        .replace(
            "nixosModules.base = ./modules/base.nix;",
            "nixosModules.base = ./modules/base.nix;\n      nixosConfigurations.iso = "
            "nixpkgs.lib.nixosSystem { modules = [ ./modules/shared.nix ]; };",
        )
        .replace("inherit (clan.config) nixosConfigurations darwinConfigurations;", "")
    )
    shared = clan.root / "modules/shared.nix"
    assert shared.read_text().rstrip().endswith("}")
    body = shared.read_text().rstrip()[:-1]
    shared.write_text(
        body + f'  services.hostapd.wpaPassphrase = "{fake.password("s1")}";\n'
        f'  services.k3s.token = "{fake.password("s2")}";\n}}\n'
    )
    code, _out, err = run_main(capsys, "-C", str(clan.root), "migrate", "--yes")
    assert code == 3
    assert "(hint: for each value (`secretkit check` names each one's command), " in err
    assert "--machine iso" not in err
    assert "iso uses modules/shared.nix too but is no clan machine: clan gives it no secret" in err


def test_a_file_only_hosts_beside_the_clan_use_says_they_get_no_clan_secret() -> None:
    """helper-105: a plain flake host beside the clan machines: check said "no clan
    machine imports hosts/old/configuration.nix: import it from the machines that use
    it", which cannot be followed (old uses it)."""
    from secretkit.layouts.clan import clan_store

    alone = clan_store("services.foo.token", "hosts/old/configuration.nix", [], ["old"])
    assert alone.route.startswith(
        "hosts/old/configuration.nix is used only by old, which is no clan machine: clan "
        "gives it no secret; make it one (machines/<name>/ in the clan), then store it with "
        "clan (`clan secrets set --machine <machine> foo-token`"
    )
    both = clan_store("services.foo.token", "modules/x.nix", ["web"], ["old"])
    assert both.command == "clan secrets set --machine web foo-token"
    assert "; old uses modules/x.nix too but is no clan machine: clan gives it no secret" in (
        both.route
    )


def test_init_in_a_clan_without_sops_yet_is_refused_too(tmp_path: Path) -> None:
    """helper-105: a clan whose sops/ clan has not made yet: init wrote a .sops.yaml."""
    from secretkit.commands.init import init
    from secretkit.errors import UserError
    from tests.keys.layouts import write
    from tests.sops.keys_support import age_key

    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = { self, clan-core, ... }:\n"
                "    let clan = clan-core.lib.clan { inherit self; };\n"
                "    in { inherit (clan.config) nixosConfigurations; };\n}\n"
            ),
            "machines/web/configuration.nix": "{ ... }: { }\n",
        },
    )
    with pytest.raises(UserError, match="this is a clan-core repository"):
        init(tmp_path, age_key().public, "root")
    assert not (tmp_path / ".sops.yaml").exists()
