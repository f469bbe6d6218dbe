"""``secretkit migrate`` on the example homelab in a temp git repository.

The proof of issue 5: after migrate no generated value is left in any file;
each host's own identity decrypts exactly the secrets its configuration uses;
every changed file parses with ``nix-instantiate --parse`` and evaluates
against a stub ``config`` to ``/run/secrets/…``; the sops files pass the
independent npm reader; ``scan`` is clean; a second run changes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from secretkit.keys.ssh_to_age import ssh_private_key_to_age
from secretkit.sops import operations
from secretkit.sops.identities import load_identities
from tests.conftest import git, need_tool
from tests.support.nixfind import EXPECTED_ACCESS, Homelab, make_homelab


def run(
    repo: Path, *args: str, env: dict[str, str] | None = None, stdin: bytes = b""
) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "secretkit", "-C", str(repo), *args],
        input=stdin.decode(),
        capture_output=True,
        text=True,
        env=full,
        timeout=300,
    )


def snapshot(repo: Path) -> dict[str, bytes]:
    return {
        p.relative_to(repo).as_posix(): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }


@pytest.fixture
def lab(tmp_git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Homelab:
    homelab = make_homelab(tmp_git_repo, tmp_path / "keys")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(homelab.admin_key))
    return homelab


def host_secrets(lab: Homelab, host: str, file_host: str | None = None) -> set[str]:
    path = lab.repo / "secrets" / f"{file_host or host}.yaml"
    # as sops-nix does on the host: the ssh host key converted to an X25519 identity
    age_key = ssh_private_key_to_age(lab.host_keys[host].read_bytes())
    identities = load_identities({"SOPS_AGE_KEY": age_key.reveal()})
    plain = operations.decrypt_bytes(path.read_bytes(), "yaml", identities)
    return {"/".join(str(k) for k in keys) for keys, _ in plain.leaves()}


def migrated(lab: Homelab) -> subprocess.CompletedProcess[str]:
    proc = run(lab.repo, "migrate", "--yes")
    assert proc.returncode == 0, proc.stderr
    return proc


def test_migrate_moves_every_secret_and_leaves_no_value(lab: Homelab) -> None:
    before = snapshot(lab.repo)
    proc = migrated(lab)
    after = snapshot(lab.repo)
    for value in lab.values.values():
        assert value not in proc.stdout + proc.stderr
        for path, data in after.items():
            assert value.encode() not in data, f"a value is left in {path}"
    changed = {p for p in after if before.get(p) != after[p]}
    assert {f"secrets/{h}.yaml" for h in EXPECTED_ACCESS} <= changed
    assert "flake.nix" in changed and "hosts/observer/monitoring.nix" in changed
    assert "hosts/jellyfin/default.nix" not in changed  # nothing secret there


def test_each_host_decrypts_exactly_what_its_configuration_uses(lab: Homelab) -> None:
    from secretkit.errors import IntegrityError

    migrated(lab)
    for host, expected in EXPECTED_ACCESS.items():
        assert host_secrets(lab, host) == expected, host
    # and cannot open any other host's file
    with pytest.raises(IntegrityError):
        host_secrets(lab, "jellyfin", file_host="observer")
    with pytest.raises(IntegrityError):
        host_secrets(lab, "observer", file_host="stian-dell-nixos")


def test_stored_values_are_the_found_ones(lab: Homelab) -> None:
    migrated(lab)
    identities = load_identities({"SOPS_AGE_KEY_FILE": str(lab.admin_key)})
    observer = operations.decrypt_bytes(
        (lab.repo / "secrets/observer.yaml").read_bytes(), "yaml", identities
    )
    assert observer.get(["alertmanager", "pushover", "token"]) == lab.values["PUSHOVER_TOKEN"]
    assert (
        observer.get(["prometheus", "syncthing", "credentials"]) == lab.values["SYNCTHING_API_KEY"]
    )
    hashed = observer.get(["users", "stian", "hashed-password"])
    assert isinstance(hashed, str) and hashed.startswith("$6$")
    assert hashed != lab.values["STIAN_PASSWORD"]


def test_rewritten_files_parse_with_the_real_nix_parser(lab: Homelab) -> None:
    nix = need_tool("nix-instantiate")
    before = snapshot(lab.repo)
    migrated(lab)
    after = snapshot(lab.repo)
    changed = [p for p in after if p.endswith(".nix") and before.get(p) != after[p]]
    assert len(changed) >= 6
    for path in changed:
        proc = subprocess.run([nix, "--parse", str(lab.repo / path)], capture_output=True)
        assert proc.returncode == 0, f"{path}: {proc.stderr.decode()}"


STUB = """
let
  names = builtins.fromJSON (builtins.readFile ./names.json);
  config = {
    networking.hostName = "observer";
    sops.secrets = builtins.listToAttrs
      (map (n: { name = n; value.path = "/run/secrets/${n}"; }) names);
    sops.templates = {
      "alertmanager.env".path = "/run/secrets/rendered/alertmanager.env";
      "wireless-secrets".path = "/run/secrets/rendered/wireless-secrets";
    };
    sops.placeholder = builtins.listToAttrs (map (n: { name = n; value = "<${n}>"; }) names);
    services.prometheus = { listenAddress = "127.0.0.1"; port = 9001; alertmanager.port = 9093; };
    services.syncthing.user = "syncthing";
  };
  pkgs = { writeText = n: t: n; systemd = "systemd"; };
  m = path: import path { inherit config pkgs; lib = { }; };
  observer = m ./repo/hosts/observer/monitoring.nix;
  immich = m ./repo/hosts/immich/default.nix;
  common = m ./repo/modules/common.nix;
  laptop = m ./repo/hosts/stian-dell-nixos/default.nix;
  at = builtins.elemAt;
  prometheus = observer.services.prometheus;
  receiver = at prometheus.alertmanager.configuration.receivers 0;
in {
  credentials = (at prometheus.scrapeConfigs 1).authorization.credentials_file;
  grafana = observer.services.grafana.settings.security.admin_password;
  alertmanagerEnv = observer.services.prometheus.alertmanager.environmentFile;
  pushover = (at receiver.pushover_configs 0).token;
  passCommand = immich.services.borgbackup.jobs.immich-backup.encryption.passCommand;
  authKeyFile = common.services.tailscale.authKeyFile;
  upFlags = common.services.tailscale.extraUpFlags;
  password = common.users.users.stian.hashedPasswordFile;
  sopsFile = toString common.sops.secrets."tailscale/authkey".sopsFile;
  neededForUsers = common.sops.secrets."users/stian/hashed-password".neededForUsers;
  wireguard = laptop.networking.wireguard.interfaces.wg0.privateKeyFile;
  wifi = laptop.networking.wireless.networks."Home Wifi".pskRaw;
  wifiFile = laptop.networking.wireless.secretsFile;
}
"""


def test_rewritten_modules_evaluate_to_run_secrets(lab: Homelab, tmp_path: Path) -> None:
    nix = need_tool("nix-instantiate")
    migrated(lab)
    work = tmp_path / "eval"
    work.mkdir()
    (work / "repo").symlink_to(lab.repo)
    names = sorted(set().union(*EXPECTED_ACCESS.values()))
    (work / "names.json").write_text(json.dumps(names))
    (work / "stub.nix").write_text(STUB)
    proc = subprocess.run(
        [nix, "--eval", "--strict", "--json", str(work / "stub.nix")],
        capture_output=True,
        text=True,
        env=dict(os.environ, NIX_PATH="", NIX_STATE_DIR=str(tmp_path / "nixstate")),
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["credentials"] == "/run/secrets/prometheus/syncthing/credentials"
    assert got["grafana"] == "$__file{/run/secrets/grafana/security/admin_password}"
    assert got["alertmanagerEnv"] == "/run/secrets/rendered/alertmanager.env"
    assert got["pushover"] == "$PUSHOVER_TOKEN"
    assert got["passCommand"] == "cat /run/secrets/borg/immich-backup/passphrase"
    assert got["authKeyFile"] == "/run/secrets/tailscale/authkey"
    assert got["upFlags"] == ["--ssh"]
    assert got["password"] == "/run/secrets/users/stian/hashed-password"
    assert got["sopsFile"].endswith("/secrets/observer.yaml")
    assert got["neededForUsers"] is True
    assert got["wireguard"] == "/run/secrets/wireguard/wg0/private-key"
    assert got["wifi"] == "ext:psk_home_wifi"
    assert got["wifiFile"] == "/run/secrets/rendered/wireless-secrets"


@pytest.mark.slow
def test_sops_files_pass_the_independent_npm_reader(lab: Homelab) -> None:
    from tests.sops.test_sops_interop import read_with_npm

    migrated(lab)
    tree = read_with_npm(lab.repo / "secrets/observer.yaml", "yaml", lab.admin_key)
    assert isinstance(tree, dict)
    assert tree["alertmanager"]["pushover"]["user_key"] == lab.values["PUSHOVER_USER_KEY"]
    for host in EXPECTED_ACCESS:
        assert read_with_npm(lab.repo / f"secrets/{host}.yaml", "yaml", lab.admin_key)


def test_scan_is_clean_and_a_second_run_changes_nothing(lab: Homelab) -> None:
    migrated(lab)
    scan = run(lab.repo, "scan")
    assert scan.returncode == 0, scan.stdout + scan.stderr
    before = snapshot(lab.repo)
    again = run(lab.repo, "migrate", "--yes")
    assert again.returncode == 0, again.stderr
    assert "nothing to migrate" in again.stdout
    assert snapshot(lab.repo) == before


def test_dry_run_prints_diff_and_table_and_changes_nothing(lab: Homelab) -> None:
    before = snapshot(lab.repo)
    proc = run(lab.repo, "migrate", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert snapshot(lab.repo) == before
    out = proc.stdout
    assert "--- a/hosts/observer/monitoring.nix" in out
    assert (
        '+          credentials_file = config.sops.secrets."prometheus/syncthing/credentials".path;'
        in out
    )
    assert "prometheus/syncthing/credentials  observer" in out
    assert "secrets/observer.yaml" in out
    for value in lab.values.values():
        assert value not in out + proc.stderr


def test_without_yes_and_without_a_terminal_it_stops(lab: Homelab) -> None:
    before = snapshot(lab.repo)
    proc = run(lab.repo, "migrate")
    assert proc.returncode == 2
    assert "pass --yes" in proc.stderr
    assert snapshot(lab.repo) == before


def test_host_selection(lab: Homelab) -> None:
    proc = run(lab.repo, "migrate", "--yes", "--host", "observer")
    assert proc.returncode == 0, proc.stderr
    assert (lab.repo / "secrets/observer.yaml").exists()
    assert not (lab.repo / "secrets/immich.yaml").exists()
    # the shared module is used by hosts that were not selected: left alone, with the reason
    assert "modules/common.nix" in proc.stderr and "not selected with --host" in proc.stderr
    assert host_secrets(lab, "observer") == EXPECTED_ACCESS["observer"] - {
        "tailscale/authkey",
        "users/stian/hashed-password",
    }
    unknown = run(lab.repo, "migrate", "--yes", "--host", "nope")
    assert unknown.returncode == 3 and "no host named nope" in unknown.stderr
    # a host `hosts list` shows from .sops.yaml alone: said so, not "no host named"
    from pyrage import x25519

    ghost = str(x25519.Identity.generate().to_public())
    assert run(lab.repo, "hosts", "add", "ghost", "--age", ghost).returncode == 0
    named = run(lab.repo, "migrate", "--yes", "--host", "ghost")
    assert named.returncode == 3
    assert (
        "host ghost has a key in .sops.yaml, but secretkit found no NixOS configuration of it"
        in named.stderr
    )
    assert "hosts found in the Nix code: " in named.stderr and "observer" in named.stderr


def test_missing_host_key_stops_before_writing(
    tmp_git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab = make_homelab(tmp_git_repo, tmp_path / "keys", add_hosts=False)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(lab.admin_key))
    before = snapshot(lab.repo)
    proc = run(lab.repo, "migrate", "--yes")
    assert proc.returncode == 3
    assert "have no key in .sops.yaml" in proc.stderr
    assert "secretkit hosts add " in proc.stderr and "--ssh-pubkey-file" in proc.stderr
    assert snapshot(lab.repo) == before


def test_every_missing_host_key_is_named_at_once(
    tmp_git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one message per run sent the user through eight runs of migrate
    lab = make_homelab(tmp_git_repo, tmp_path / "keys", add_hosts=False)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(lab.admin_key))
    proc = run(lab.repo, "migrate", "--yes")
    assert proc.returncode == 3
    names = ", ".join(sorted(EXPECTED_ACCESS))
    assert f"error: 8 hosts have no key in .sops.yaml: {names} (hint: " in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_dry_run_shows_the_plan_before_any_key_exists(tmp_git_repo: Path, tmp_path: Path) -> None:
    # the first thing a user runs; it used to stop at "no .sops.yaml yet"
    lab = make_homelab(tmp_git_repo, tmp_path / "keys", add_hosts=False)
    (lab.repo / ".sops.yaml").unlink()
    before = snapshot(lab.repo)
    proc = run(lab.repo, "migrate", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert ["alertmanager/pushover/token", "observer", "secrets/observer.yaml"] in [
        row[:3] for row in rows
    ]
    assert proc.stderr.splitlines()[-1] == (
        "before applying: this repository has no .sops.yaml yet (run: secretkit init "
        "--admin <your age1… public key>, then secretkit hosts add)"
    )
    assert snapshot(lab.repo) == before
    assert run(lab.repo, "migrate", "--yes").returncode == 3
    assert snapshot(lab.repo) == before


def test_host_selection_needs_only_the_selected_hosts_keys(
    tmp_git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the shared module (used by every host) is refused under --host, so the keys of
    # the other hosts are not needed; they were demanded all the same
    from secretkit.keys import sops_yaml_edits
    from secretkit.keys.ssh_to_age import ssh_pubkey_to_age

    lab = make_homelab(tmp_git_repo, tmp_path / "keys", add_hosts=False)
    line = (tmp_path / "keys" / "hosts" / "immich.pub").read_text()
    sops_yaml_edits.add_host(lab.repo, "immich", ssh_pubkey_to_age(line))
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(lab.admin_key))
    proc = run(lab.repo, "migrate", "--yes", "--host", "immich")
    assert proc.returncode == 0, proc.stderr
    assert host_secrets(lab, "immich") == {"borg/immich-backup/passphrase"}
    assert "not selected with --host" in proc.stderr


def test_a_file_no_host_imports_is_refused_and_the_rest_migrates(lab: Homelab) -> None:
    """One file of values no host imports (as a module) must not hold up the others:
    its findings are listed as "cannot migrate safely" with the way out, the rest of
    the repository is migrated."""
    from tests.conftest import commit_all
    from tests.support import fake

    stray = lab.repo / "stray.nix"
    stray_text = '{ services.k3s.token = "' + fake.github_token("stray") + '"; }\n'
    stray.write_text(stray_text)
    commit_all(lab.repo, "stray")
    proc = run(lab.repo, "migrate", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert (
        "stray.nix:1: cannot migrate safely: no host configuration imports this file" in proc.stderr
    )
    assert "import it from the configuration of the hosts that use it" in proc.stderr
    # (the hosts named are the repository's, not ones known to use it: truxnell's seafile)
    assert "(this repository's hosts: " in proc.stderr
    assert "move the value by hand: `secretkit set secrets/<host>.yaml" in proc.stderr
    assert "hosts add" not in proc.stderr  # a host's key does not make it import a file
    assert "migrated 14 secret(s)" in proc.stdout
    assert "1 finding(s) above need a change by hand" in proc.stdout
    # the committed Syncthing API key stays valid in config.xml: said, with the way out
    assert (
        "after deploying: the Syncthing API key that was in the Nix code is now STGUIAPIKEY"
        in proc.stderr
    )
    # the sops files are new: git must see them before a flake can
    (hint,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("before deploying")]
    added = hint.split("git add ", 1)[1].split()
    assert added and all(p.startswith("secrets/") and p.endswith(".yaml") for p in added)
    git(lab.repo, "add", *added)  # the hint, followed: nothing new is left untracked
    assert not git(lab.repo, "ls-files", "--others", "--exclude-standard", "secrets")
    assert stray.read_text() == stray_text  # left alone
    for value in lab.values.values():
        assert value not in proc.stdout + proc.stderr
    # imported through a call discovery cannot follow: the hint names it
    host = lab.repo / "hosts" / "immich" / "default.nix"
    original = host.read_text()
    line = 'networking.hostName = "immich";'
    hidden = ' imports = builtins.concatLists [ (map (p: ../.. + p) [ "/stray.nix" ]) ];'
    host.write_text(original.replace(line, line + hidden))
    commit_all(lab.repo, "immich imports stray through a call")
    proc = run(lab.repo, "migrate", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "could not follow some imports (hosts/immich/default.nix" in proc.stderr
    assert "write those imports as paths" in proc.stderr
    # the way out works: the host imports it by path, and the value is migrated
    host.write_text(original.replace(line, line + " imports = [ ../../stray.nix ];"))
    commit_all(lab.repo, "immich imports stray")
    proc = run(lab.repo, "migrate", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "cannot migrate safely" not in proc.stderr
    assert fake.github_token("stray") not in stray.read_text()


def test_the_git_add_hint_works_when_a_gitignore_hides_the_secrets_directory(
    lab: Homelab,
) -> None:
    """Repositories that kept secrets out of git by hand ship ``secrets/.gitignore``
    with ``*``: a plain ``git add secrets/<host>.yaml`` is refused there (exit 1), so
    the printed hint must be one that works as printed (``-f``) and say why."""
    import shlex

    from tests.conftest import commit_all

    (lab.repo / "secrets").mkdir(exist_ok=True)
    (lab.repo / "secrets" / ".gitignore").write_text("*\n!.gitignore\n")
    commit_all(lab.repo, "keep secrets out of git")
    proc = migrated(lab)
    (hint,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("before deploying")]
    assert "a .gitignore rule excludes secrets/" in hint
    command = shlex.split(hint.split(": ", 1)[1].split(" (", 1)[0])
    assert command[:3] == ["git", "add", "-f"]
    done = subprocess.run(command, cwd=lab.repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    staged = git(lab.repo, "ls-files", "secrets").split()
    assert [p for p in command[3:] if p.startswith("secrets/")]
    assert all(p in staged for p in command[3:] if p.startswith("secrets/"))


def test_an_ignored_sops_yaml_is_said_to_be_generated_perhaps(lab: Homelab) -> None:
    """linyinfeng/dotfiles ignores .sops.yaml: nixago generates it.  migrate's keys and
    rules there are lost at the next generation unless they go in its source."""
    from tests.conftest import commit_all

    (lab.repo / ".gitignore").write_text(".sops.yaml\n")
    git(lab.repo, "rm", "-q", "--cached", "--ignore-unmatch", ".sops.yaml")
    commit_all(lab.repo, "nixago makes .sops.yaml")
    proc = migrated(lab)
    (hint,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("before deploying")]
    assert "a .gitignore rule excludes .sops.yaml" in hint
    assert "if a tool generates .sops.yaml, add the keys and rules migrate wrote to" in hint


def test_no_host_found_says_so_instead_of_a_key_to_add(tmp_git_repo: Path) -> None:
    """A layout whose hosts secretkit cannot see (here: a flake without
    nixosConfigurations): the message says no host was found, not "add a key"."""
    from tests.conftest import commit_all
    from tests.support import fake

    (tmp_git_repo / "flake.nix").write_text("{ outputs = { self }: { }; }\n")
    box = tmp_git_repo / "systems" / "x86_64-linux" / "box"
    box.mkdir(parents=True)
    (box / "default.nix").write_text(
        '{ services.k3s.token = "' + fake.github_token("box") + '"; }\n'
    )
    commit_all(tmp_git_repo, "a host secretkit cannot see")
    proc = run(tmp_git_repo, "migrate", "--dry-run")
    assert proc.returncode == 3
    assert "no host was found in this repository" in proc.stderr
    assert "hosts add" not in proc.stderr

    # hosts defined in a way discovery cannot read (wimpysworld/nix-config's builder):
    # said, with that place, and the by-hand route ("define the hosts" was wrong there)
    (tmp_git_repo / "flake.nix").write_text(
        "{ outputs = { self, nixpkgs }: let builder = import ./lib { inherit nixpkgs; }; in {\n"
        "  nixosConfigurations = builder.mkAllNixos (builtins.fromTOML "
        "(builtins.readFile ./registry.toml));\n}; }\n"
    )
    commit_all(tmp_git_repo, "hosts from a registry")
    proc = run(tmp_git_repo, "migrate", "--dry-run")
    assert proc.returncode == 3
    assert "secretkit found no host: it could not read flake.nix line 2 (" in proc.stderr
    assert "define the hosts" not in proc.stderr
    assert "`secretkit set secrets/<host>.yaml '[\"<name>\"]'`" in proc.stderr


def test_without_sops_yaml_it_says_to_run_init(lab: Homelab) -> None:
    (lab.repo / ".sops.yaml").unlink()
    before = snapshot(lab.repo)
    proc = run(lab.repo, "migrate", "--yes")
    assert proc.returncode == 3
    assert "no .sops.yaml" in proc.stderr and "secretkit init --admin" in proc.stderr
    assert snapshot(lab.repo) == before


def _run_in_pty(repo: Path, answer: bytes, *args: str) -> tuple[int, str]:
    """Run secretkit on a pseudo-terminal (the interactive confirmation path)."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # child
        os.execv(sys.executable, [sys.executable, "-m", "secretkit", "-C", str(repo), *args])
    os.write(fd, answer)
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


def test_interactive_confirmation(lab: Homelab) -> None:
    before = snapshot(lab.repo)
    code, out = _run_in_pty(lab.repo, b"n\n", "migrate")
    assert code == 130 and "Move 14 secret(s) and rewrite the Nix files?" in out
    assert snapshot(lab.repo) == before
    code, out = _run_in_pty(lab.repo, b"y\n", "migrate")
    assert code == 0, out
    assert "migrated 14 secret(s); wrote 15 file(s)" in out
    for value in lab.values.values():
        assert value not in out


def test_findings_left_for_a_manual_change_are_counted_in_the_summary(lab: Homelab) -> None:
    # "nothing to migrate" (exit 0) read as "done" while a refused secret stayed put
    from tests.conftest import commit_all
    from tests.support import fake

    jelly = lab.repo / "hosts/jellyfin/default.nix"
    text = jelly.read_text()
    value = fake.password("foo-api-key")
    jelly.write_text(text.rstrip()[:-1] + f'  services.foo.apiKey = "{value}";\n}}\n')
    commit_all(lab.repo, "unknown option")
    first = run(lab.repo, "migrate", "--yes")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[-1] == (
        "migrated 14 secret(s); wrote 15 file(s); 1 finding(s) above need a change by hand"
    )
    assert "services.foo.apiKey" in first.stderr
    again = run(lab.repo, "migrate", "--yes")
    assert again.stdout == "nothing to migrate; 1 finding(s) above need a change by hand\n"
    assert value not in first.stdout + first.stderr + again.stdout + again.stderr


def test_a_host_name_that_differs_from_its_hostname_stops_before_writing(lab: Homelab) -> None:
    # a shared module reads secrets/${networking.hostName}.yaml: immich-vm would look
    # for a file migrate never writes, and the deploy fails far from the cause
    from tests.conftest import commit_all

    module = lab.repo / "hosts/immich/default.nix"
    module.write_text(module.read_text().replace('hostName = "immich"', 'hostName = "immich-vm"'))
    commit_all(lab.repo, "hostName differs")
    before = snapshot(lab.repo)
    proc = run(lab.repo, "migrate", "--yes")
    assert proc.returncode == 3
    assert proc.stderr.startswith(
        'error: host immich sets networking.hostName = "immich-vm", so the secrets of modules '
        "it shares with other hosts would be read from secrets/immich-vm.yaml instead of "
        "secrets/immich.yaml (hint: "
    )
    assert snapshot(lab.repo) == before
    dry = run(lab.repo, "migrate", "--dry-run")
    assert dry.returncode == 0
    assert 'before applying: host immich sets networking.hostName = "immich-vm"' in dry.stderr


def test_a_host_name_no_reading_can_tell_stops_before_writing(lab: Homelab) -> None:
    """`networking.hostName = host.hostName` (a stranger's `lib.mapAttrs (name: host: …)`
    flake, host nas named "nas-01"): migrate took the host's name for it and wrote a
    shared module that would read a file it never wrote."""
    from tests.conftest import commit_all

    module = lab.repo / "hosts/immich/default.nix"
    module.write_text(
        module.read_text().replace('hostName = "immich"', "hostName = hosts.immich.hostName")
    )
    commit_all(lab.repo, "hostName from a host set")
    before = snapshot(lab.repo)
    proc = run(lab.repo, "migrate", "--yes")
    assert proc.returncode == 3
    assert proc.stderr.startswith(
        "error: host immich sets networking.hostName = hosts.immich.hostName "
        "(hosts/immich/default.nix), which secretkit cannot read without evaluating Nix"
    )
    assert snapshot(lab.repo) == before


def test_the_host_key_path_stays_out_of_a_module_a_darwin_system_imports(
    tmp_git_repo: Path,
) -> None:
    """kclejeune's layout in small (a stranger's run): modules/common.nix is imported by
    a NixOS host and a nix-darwin system.  migrate's wiring saw the NixOS hosts only,
    wrote sops.age.sshKeyPaths into common.nix, and the darwin system would not
    evaluate.  It now goes into the NixOS host's own module."""
    from tests.conftest import commit_all
    from tests.support import fake

    files = {
        "flake.nix": (
            "{\n  outputs = { nixpkgs, darwin, ... }: {\n"
            "    nixosConfigurations.haven = nixpkgs.lib.nixosSystem {\n"
            "      modules = [ ./haven.nix ./common.nix ];\n    };\n"
            "    darwinConfigurations.mac = darwin.lib.darwinSystem {\n"
            "      modules = [ ./mac.nix ./common.nix ];\n    };\n  };\n}\n"
        ),
        "haven.nix": (
            '{ config, ... }:\n{\n  networking.hostName = "haven";\n'
            "  services.grafana.settings.security.admin_password = "
            f'"{fake.password("haven-grafana")}";\n}}\n'
        ),
        "mac.nix": '{ ... }:\n{\n  networking.hostName = "mac";\n}\n',
        "common.nix": '{ ... }:\n{\n  time.timeZone = "UTC";\n}\n',
    }
    for name, text in files.items():
        (tmp_git_repo / name).write_text(text)
    commit_all(tmp_git_repo)
    proc = run(tmp_git_repo, "migrate", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "+++ b/common.nix" not in proc.stdout
    assert "haven.nix: sops.age.sshKeyPaths" in proc.stdout + proc.stderr


def test_home_manager_and_darwin_configurations_are_refused_not_wired(
    tmp_git_repo: Path,
) -> None:
    """A home-manager config named the usual way ("me@box") stopped the whole run
    (invalid host name), and sops.age.sshKeyPaths went into darwin and home-manager
    modules that import no sops-nix module; now their findings are refused with the
    module to use, and only the NixOS host is migrated and wired."""
    from tests.conftest import commit_all
    from tests.support import fake

    files = {
        "flake.nix": (
            "{\n  outputs = { nixpkgs, darwin, home-manager, ... }: {\n"
            "    nixosConfigurations.box = nixpkgs.lib.nixosSystem { modules = [ ./box.nix ]; };\n"
            "    darwinConfigurations.mac = darwin.lib.darwinSystem { modules = [ ./mac.nix ]; };\n"
            '    homeConfigurations."me@box" = home-manager.lib.homeManagerConfiguration {\n'
            "      modules = [ ./home.nix ];\n    };\n  };\n}\n"
        ),
        "box.nix": "{ ... }:\n{\n  services.k3s.token = \"" + fake.github_token("box") + '";\n}\n',
        "mac.nix": (
            "{ ... }:\n{\n  launchd.daemons.x.serviceConfig.EnvironmentVariables.API_TOKEN = \""
            + fake.github_token("mac") + '";\n}\n'
        ),
        "home.nix": (
            "{ ... }:\n{\n  home.sessionVariables.GITHUB_TOKEN = \""
            + fake.github_token("home") + '";\n}\n'
        ),
    }  # fmt: skip
    for name, text in files.items():
        (tmp_git_repo / name).write_text(text)
    commit_all(tmp_git_repo, "three kinds of configuration")
    proc = run(tmp_git_repo, "migrate", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert (
        "home.nix:3: cannot migrate safely: the file is used by the home-manager "
        "configuration me@box: migrate writes NixOS hosts' sops files; move it by hand "
        "with sops-nix's homeManagerModules.sops" in proc.stderr
    )
    assert "mac.nix:3: cannot migrate safely: the file is used by the nix-darwin" in proc.stderr
    assert "+++ b/box.nix" in proc.stdout
    assert "+++ b/mac.nix" not in proc.stdout and "+++ b/home.nix" not in proc.stdout
    # check names the same way out, not migrate
    check = run(tmp_git_repo, "check")
    assert "homeManagerModules.sops" in check.stdout + check.stderr


def test_a_home_manager_module_of_a_nixos_host_gets_the_home_manager_route_everywhere(
    tmp_git_repo: Path,
) -> None:
    """home-manager as a NixOS module (``home-manager.users.alice = import …``): the
    hook judged the literal first and said no route is known for the option, with the
    host's sops file to store it in (which the user's key does not open); migrate and
    check named homeManagerModules.sops.  Now all three give the home-manager route
    and a file of the user's own."""
    from tests.conftest import commit_all, git
    from tests.support import fake

    files = {
        "flake.nix": (
            "{\n  outputs = { nixpkgs, home-manager, ... }: {\n"
            "    nixosConfigurations.box = nixpkgs.lib.nixosSystem {\n"
            "      modules = [\n        ./box.nix\n        home-manager.nixosModules.home-manager\n"
            "        { home-manager.users.alice = import ./home/alice.nix; }\n      ];\n"
            "    };\n  };\n}\n"
        ),
        "box.nix": '{ ... }:\n{\n  networking.hostName = "box";\n}\n',
        "home/alice.nix": "{ ... }:\n{\n  home.stateVersion = \"24.11\";\n}\n",
    }  # fmt: skip
    for name, text in files.items():
        (tmp_git_repo / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_git_repo / name).write_text(text)
    commit_all(tmp_git_repo, "a host with a user's home-manager configuration")
    token = fake.github_token("alice")
    (tmp_git_repo / "home/alice.nix").write_text(
        '{ ... }:\n{\n  home.stateVersion = "24.11";\n'
        f'  home.sessionVariables.GITHUB_TOKEN = "{token}";\n}}\n'
    )
    git(tmp_git_repo, "add", "home/alice.nix")
    hook = run(tmp_git_repo, "hook", "--", "home/alice.nix")
    assert hook.returncode == 1, hook.stdout + hook.stderr
    shown = hook.stdout + hook.stderr
    assert token not in shown
    (fix,) = [line for line in shown.splitlines() if line.lstrip().startswith("fix: ")]
    assert "the file is a home-manager module of host box" in fix, fix
    # (the user is the one home-manager.users names: helper-122 was told <user>)
    assert "homeManagerModules.sops" in fix and "secretkit hosts add alice --age" in fix
    assert "secretkit set secrets/alice.yaml" in fix
    assert "secrets/<host>.yaml" not in fix and "no file-based option" not in fix
    commit_all(tmp_git_repo, "the token, past the hook")
    check = run(tmp_git_repo, "check")
    assert "the file is a home-manager module of host box" in check.stdout
    assert "secrets/<host>.yaml" not in check.stdout
    dry = run(tmp_git_repo, "migrate", "--dry-run")
    assert "home/alice.nix:4: cannot migrate safely: the file is a home-manager module" in (
        dry.stderr
    )
    # each step by hand, as for any other refusal
    by_hand = [line for line in dry.stderr.splitlines() if line.startswith("  by hand: ")]
    assert by_hand[0].startswith("  by hand: secretkit hosts add alice --age <alice's age")
    assert "secretkit set secrets/alice.yaml" in by_hand[1]
    assert 'in home/alice.nix add: sops.secrets."<name>"' in by_hand[2]


def test_a_refusal_names_the_option_as_nix_writes_it() -> None:
    """``home.file.".aws/credentials".text`` was shown as ``home.file..aws/credentials.text``."""
    from secretkit.plan.refusals import no_route_reason

    assert no_route_reason(["home", "file", ".aws/credentials", "text"]) == (
        'no file-based option or template route is known for home.file.".aws/credentials".text'
    )
    assert no_route_reason(["services", "x", "[0]", "password"]).endswith("services.x.[0].password")


def test_a_host_file_no_key_here_opens_refuses_that_hosts_findings_only(
    lab: Homelab, tmp_path: Path
) -> None:
    """A dry run stopped with exit 4 and showed nothing when one host's existing sops
    file was encrypted for keys not at hand; now that host's findings are listed with
    the reason and the rest of the plan is shown."""
    from secretkit.sops import operations
    from tests.conftest import commit_all

    stranger = tmp_path / "stranger.agekey"
    subprocess.run(["age-keygen", "-o", str(stranger)], check=True, capture_output=True)
    recipient = subprocess.run(
        ["age-keygen", "-y", str(stranger)], check=True, capture_output=True, text=True
    ).stdout.strip()
    from secretkit.sops import document
    from secretkit.sops.config import CreationRule, KeyRef

    rule = CreationRule(key_groups=[[KeyRef("age", recipient)]])
    data = operations.encrypt_new(document.new_plain("yaml", {"old": "value"}), rule)
    (lab.repo / "secrets").mkdir(exist_ok=True)
    (lab.repo / "secrets" / "immich.yaml").write_bytes(data)
    commit_all(lab.repo, "a file for someone else")
    proc = run(lab.repo, "migrate", "--dry-run", env={"SOPS_AGE_KEY_FILE": str(lab.admin_key)})
    assert proc.returncode == 0, proc.stderr
    assert "cannot migrate safely: no identity decrypts secrets/immich.yaml" in proc.stderr
    assert "secrets/observer.yaml" in proc.stdout  # the other hosts are planned


def test_the_by_hand_count_includes_findings_in_files_that_are_not_nix(lab: Homelab) -> None:
    """Their notes are listed above the summary, so they count in it."""
    import re

    from tests.conftest import commit_all
    from tests.support import fake

    def by_hand() -> int:
        proc = run(lab.repo, "migrate", "--dry-run", env={"SOPS_AGE_KEY_FILE": str(lab.admin_key)})
        assert proc.returncode == 0, proc.stderr
        found = re.search(r"(\d+) finding\(s\) above need a change by hand", proc.stdout)
        return int(found[1]) if found else 0

    before = by_hand()
    (lab.repo / "docker").mkdir()
    (lab.repo / "docker" / ".env").write_text(
        f"DB_PASSWORD={fake.password('env1')}\nAPI_TOKEN={fake.password('env2')}\n"
    )
    commit_all(lab.repo, "an env file")
    assert by_hand() == before + 2


def test_no_key_that_opens_any_host_file_is_exit_3_and_writes_nothing(
    lab: Homelab, tmp_path: Path
) -> None:
    """The hosts' sops files exist (a first migrate wrote them) and the key at hand opens
    none: nothing can move, and that is a missing key (exit 3, README), not "nothing to
    migrate" and 0."""
    from tests.conftest import commit_all, git

    admin = {"SOPS_AGE_KEY_FILE": str(lab.admin_key)}
    assert run(lab.repo, "migrate", "--yes", env=admin).returncode == 0
    git(lab.repo, "add", "secrets")
    git(lab.repo, "checkout", "--", ".")  # the plaintext Nix again, the files kept
    commit_all(lab.repo, "host files written, Nix not yet")
    stranger = tmp_path / "stranger.agekey"
    subprocess.run(["age-keygen", "-o", str(stranger)], check=True, capture_output=True)
    for args in (["--dry-run"], ["--yes"]):
        proc = run(lab.repo, "migrate", *args, env={"SOPS_AGE_KEY_FILE": str(stranger)})
        assert proc.returncode == 3, proc.stdout + proc.stderr
        assert "cannot migrate safely: no identity decrypts secrets/" in proc.stderr
        assert proc.stdout.startswith("nothing to migrate")
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=lab.repo, capture_output=True, text=True
    )
    assert status.stdout == ""  # nothing written


def test_a_home_manager_module_inside_a_nixos_host_is_refused_and_does_not_block(
    tmp_git_repo: Path,
) -> None:
    """The home-manager module's own sops.defaultSopsFile once blocked the host's NixOS
    secrets ('not one path'), and its secrets got NixOS routes."""
    from tests.conftest import commit_all
    from tests.support import fake

    files = {
        "flake.nix": (
            "{\n  outputs = { nixpkgs, ... }: {\n"
            "    nixosConfigurations.box = nixpkgs.lib.nixosSystem {\n"
            "      modules = [ ./hosts/box/default.nix ];\n    };\n  };\n}\n"
        ),
        "hosts/box/default.nix": (
            "{ ... }:\n{\n  sops.defaultSopsFile = ./secrets.yaml;\n"
            "  home-manager.users.me = import ../../home/me.nix;\n"
            '  services.k3s.token = "' + fake.github_token("box") + '";\n}\n'
        ),
        "home/me.nix": (
            "{ ... }:\n{\n  sops.defaultSopsFile = ./secrets.yaml;\n"
            '  programs.msmtp.accounts.work.password = "' + fake.password("hm") + '";\n}\n'
        ),
    }  # fmt: skip
    for name, text in files.items():
        path = tmp_git_repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    commit_all(tmp_git_repo, "a host with a home-manager user")
    proc = run(tmp_git_repo, "migrate", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "is not one path" not in proc.stderr
    assert "home/me.nix:4: cannot migrate safely: the file is a home-manager module" in (
        proc.stderr
    )
    assert "+++ b/hosts/box/default.nix" in proc.stdout
    assert "+++ b/home/me.nix" not in proc.stdout  # no NixOS route, no wiring there


def test_a_nix_file_outside_a_sparse_checkout_is_refused_with_a_fix_that_works(
    tmp_git_repo: Path,
) -> None:
    from tests.conftest import commit_all, git
    from tests.support import fake

    (tmp_git_repo / "flake.nix").write_text(
        "{ outputs = { nixpkgs, ... }: { nixosConfigurations.h = "
        "nixpkgs.lib.nixosSystem { modules = [ ./b/host.nix ]; }; }; }\n"
    )
    (tmp_git_repo / "a").mkdir()
    (tmp_git_repo / "a" / "x.txt").write_text("x\n")
    (tmp_git_repo / "b").mkdir()
    (tmp_git_repo / "b" / "host.nix").write_text(
        '{ ... }: { services.k3s.token = "' + fake.github_token("sp") + '"; }\n'
    )
    commit_all(tmp_git_repo)
    git(tmp_git_repo, "sparse-checkout", "set", "a")
    proc = run(tmp_git_repo, "migrate", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "b/host.nix:1: cannot migrate safely: the file is not in the work tree" in proc.stderr
    fix = proc.stderr.split("it out to migrate it (git ", 1)[1].split(")", 1)[0]
    git(tmp_git_repo, *fix.split())  # the fix, followed
    proc = run(tmp_git_repo, "migrate", "--dry-run")
    assert "cannot migrate safely" not in proc.stderr
    assert "b/host.nix: tokenFile" in proc.stdout


def test_the_by_hand_route_of_a_darwin_configuration_works_as_printed(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    """migrate leaves a nix-darwin configuration's secret to the hand: the route names
    the hosts add that gives its file a rule, without which `secretkit set` refuses."""
    from tests.conftest import commit_all
    from tests.support import fake

    (tmp_git_repo / "flake.nix").write_text(
        "{\n  outputs = { darwin, ... }: {\n    darwinConfigurations.mac = "
        "darwin.lib.darwinSystem { modules = [ ./mac.nix ]; };\n  };\n}\n"
    )
    (tmp_git_repo / "mac.nix").write_text(
        '{ ... }: { services.syncer.settings.api_token = "' + fake.password("mac") + '"; }\n'
    )
    admin, host = tmp_path / "admin.agekey", tmp_path / "mac.agekey"
    for key in (admin, host):
        subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    public = {
        key: subprocess.run(
            ["age-keygen", "-y", str(key)], check=True, capture_output=True, text=True
        ).stdout.strip()
        for key in (admin, host)
    }
    assert run(tmp_git_repo, "init", "--admin", public[admin]).returncode == 0
    commit_all(tmp_git_repo, "a darwin machine")
    env = {"SOPS_AGE_KEY_FILE": str(admin)}
    dry = run(tmp_git_repo, "migrate", "--dry-run", env=env)
    assert (
        "cannot migrate safely: the file is used by the nix-darwin configuration mac" in dry.stderr
    )
    assert "after `secretkit hosts add mac --age <the age key it decrypts with>`" in dry.stderr
    # check's fix names that file too (it said secrets/<user>.yaml, a home-manager user's)
    fixes = [line for line in run(tmp_git_repo, "check", env=env).stdout.splitlines()]
    (fix,) = [line for line in fixes if "secretkit set secrets/" in line]
    assert "`secretkit set secrets/mac.yaml '[\"<name>\"]'`" in fix and "<user>" not in fix
    # as printed: the rule first, then the value
    assert run(tmp_git_repo, "hosts", "add", "mac", "--age", public[host]).returncode == 0
    stored = run(tmp_git_repo, "set", "secrets/mac.yaml", '["syncer"]', env=env, stdin=b"value")
    assert stored.returncode == 0, stored.stderr
    shown = run(tmp_git_repo, "decrypt", "secrets/mac.yaml", "--extract", '["syncer"]', env=env)
    assert shown.stdout == "value"


def test_a_value_left_for_the_next_run_is_not_counted_as_by_hand(lab: Homelab) -> None:
    """A module whose config is mkMerge [ … ] is written one part per run: the other
    part's value moves on the next run, which the summary said was "a change by hand"."""
    from tests.conftest import commit_all
    from tests.support import fake

    jellyfin = lab.repo / "hosts/jellyfin/default.nix"
    text = jellyfin.read_text()
    assert text.startswith("{ ... }:\n{\n")
    jellyfin.write_text(
        "{ lib, ... }:\n{\n  config = lib.mkMerge [\n    {\n"
        f'      services.k3s.token = "{fake.github_token("part-one")}";\n    }}\n'
        "    (lib.mkIf true {\n"
        "      users.users.guest.isNormalUser = true;\n"
        f'      users.users.guest.initialPassword = "{fake.password("part-two")}";\n'
        "    })\n  ];\n" + text[len("{ ... }:\n{\n") :]
    )
    commit_all(lab.repo, "a merged module")
    proc = run(lab.repo, "migrate", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().endswith("; 1 move on the next run (secretkit migrate again)")
    assert "need a change by hand" not in proc.stdout
    commit_all(lab.repo, "first run")
    again = run(lab.repo, "migrate", "--yes")
    assert again.returncode == 0, again.stderr
    assert "migrated 1 secret(s)" in again.stdout, again.stderr
    assert "next run" not in again.stdout


def test_a_let_bound_password_given_to_options_is_moved_after_the_step_it_names(
    lab: Homelab,
) -> None:
    """badele/nix-homelab: `let installpassword = "…"; in { users.users.root
    .initialPassword = installpassword; … }`.  The by-hand step said to give the
    secret's path to "an option that reads a file": the clear text in
    hashedPasswordFile, without neededForUsers.  The step now is to write the value
    at its options, after which migrate moves each by its own route (a hash)."""
    from tests.conftest import commit_all
    from tests.support import fake

    jellyfin = lab.repo / "hosts/jellyfin/default.nix"
    text = jellyfin.read_text()
    assert text.startswith("{ ... }:\n{\n")
    password = fake.password("install")
    jellyfin.write_text(
        f'{{ ... }}:\nlet\n  installpassword = "{password}";\nin\n{{\n'
        "  users.users.root.initialPassword = installpassword;\n"
        "  users.users.nixos.initialPassword = installpassword;\n" + text[len("{ ... }:\n{\n") :]
    )
    commit_all(lab.repo, "a let-bound password")
    dry = run(lab.repo, "migrate", "--dry-run")
    assert (
        "by hand: write the string itself at users.users.root.initialPassword (line 6), "
        "users.users.nixos.initialPassword (line 7) in hosts/jellyfin/default.nix in place of "
        "`installpassword`, delete its binding in the let, then run `secretkit migrate` again"
    ) in dry.stderr
    assert "an option that reads a file" not in dry.stderr
    # as the step says
    inlined = jellyfin.read_text().replace(f'  installpassword = "{password}";\n', "")
    inlined = inlined.replace("= installpassword;", f'= "{password}";')
    jellyfin.write_text(inlined.replace("let\nin\n", ""))
    commit_all(lab.repo, "written at its options")
    moved = run(lab.repo, "migrate", "--yes")
    assert moved.returncode == 0, moved.stderr
    after = jellyfin.read_text()
    assert password not in after
    assert after.count("hashedPasswordFile = config.sops.secrets.") == 2
    assert after.count("neededForUsers = true;") == 2
