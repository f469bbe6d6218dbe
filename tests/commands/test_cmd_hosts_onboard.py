"""Onboarding a host that does not exist yet, on the example homelab (`secretkit demo`
output: migrated, admin + 8 host keys) plus a new host `newbox`:

* `hosts add newbox --generate-host-key --extra-files DIR`: with the generated key
  only, the new host's converted identity opens `secrets/newbox.yaml` right after
  `hosts add` (the age CLI opens its data key too); the tree has modes 0600/0644; the
  private host key is readable by the admin identity and by no host.
* `hosts add newbox --keyscan`: against a real sshd started by the test on
  127.0.0.1 with a throwaway host key, and stopped after."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from secretkit.errors import SecretkitError
from secretkit.keys.ssh_to_age import ssh_private_key_to_age, ssh_pubkey_to_age
from secretkit.sops import document, operations
from secretkit.sops.config import CreationRule, KeyRef
from secretkit.sops.identities import Identities, load_identities
from tests.conftest import commit_all, need, need_tool
from tests.support import fake
from tests.support.cli import run_main


@dataclass
class Homelab:
    root: Path
    admin_keyfile: Path
    host_keys: dict[str, str]  # host → its ssh host key converted to an age identity

    def admin(self) -> Identities:
        return load_identities({"SOPS_AGE_KEY_FILE": str(self.admin_keyfile), "HOME": "/x"})


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`secretkit demo --keep` once per module (the environment pinned like conftest's)."""
    from secretkit.commands.demo import demo
    from tests.conftest import GIT_ENV

    base = tmp_path_factory.mktemp("template")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOME", str(base / "home"))
        env.setenv("GIT_CONFIG_GLOBAL", str(base / "home" / ".gitconfig"))
        for key, value in GIT_ENV.items():
            env.setenv(key, value)
        for var in ("SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE", "SOPS_CONFIG", "SECRETKIT_ENGINE"):
            env.delenv(var, raising=False)
        demo(base / "demo", keep=True)
    return base / "demo"


@pytest.fixture
def lab(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Homelab:
    shutil.copytree(template, tmp_path / "demo", symlinks=True)
    root = tmp_path / "demo" / "homelab"
    keys = tmp_path / "demo" / "keys"
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(keys / "admin.agekey"))
    host_keys = {
        p.name.removesuffix("_ed25519"): ssh_private_key_to_age(p.read_bytes()).reveal()
        for p in (keys / "hosts").glob("*_ed25519")
    }
    return Homelab(root, keys / "admin.agekey", host_keys)


def _ids(secret: str) -> Identities:
    return load_identities({"SOPS_AGE_KEY": secret, "HOME": "/x"})


def _opens(path: Path, identities: Identities) -> bool:
    try:
        operations.decrypt_bytes(path.read_bytes(), "yaml", identities)
    except SecretkitError:
        return False
    return True


def _admin_only_file(lab: Homelab, rel: str, values: dict[tuple[str, ...], str]) -> None:
    """A host file made before the host exists: encrypted for the admin alone."""
    admin = lab.admin().recipients[0]
    rule = CreationRule(key_groups=[[KeyRef("age", admin)]])
    data = operations.set_values(None, "yaml", values, rule=rule, identities=lab.admin())
    (lab.root / rel).write_bytes(data)


def test_generated_host_key_opens_the_new_hosts_file_right_after_hosts_add(
    lab: Homelab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = {("borg", "passphrase"): fake.passphrase("newbox")}
    _admin_only_file(lab, "secrets/newbox.yaml", values)
    commit_all(lab.root, "newbox secrets, admins only")
    extra = tmp_path / "extra"

    code, out, err = run_main(capsys, "-C", str(lab.root), "hosts", "add", "newbox",
                              "--generate-host-key", "--extra-files", str(extra))  # fmt: skip
    assert code == 0, err
    assert "secrets/newbox.yaml: re-wrapped for host newbox" in out
    private = extra / "etc/ssh/ssh_host_ed25519_key"
    public = extra / "etc/ssh/ssh_host_ed25519_key.pub"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(public.stat().st_mode) == 0o644
    assert public.read_text().split()[:2] == out.split("newbox: ")[1].split()[:2]
    assert private.read_text() not in out + err

    # the host's own view: nothing but the converted ssh host key
    identity = ssh_private_key_to_age(private.read_bytes()).reveal()
    host_only = _ids(identity)
    newbox = lab.root / "secrets/newbox.yaml"
    plain = operations.decrypt_bytes(newbox.read_bytes(), "yaml", host_only)
    assert dict(plain.leaves()) == values
    assert (
        f"&host_newbox {ssh_pubkey_to_age(public.read_text())}"
        in (lab.root / ".sops.yaml").read_text()
    )

    # the reference age CLI opens the data key with the converted identity as well
    age = need_tool("age")
    sops = document.load_encrypted(newbox.read_bytes(), "yaml")
    (enc,) = [e.enc for e in sops.metadata.all_keys() if e.ident == host_only.recipients[0]]
    keyfile = tmp_path / "newbox.agekey"
    keyfile.write_text(identity + "\n")
    keyfile.chmod(0o600)
    opened = subprocess.run([age, "-d", "-i", str(keyfile)], input=enc.encode(),
                            capture_output=True, check=True)  # fmt: skip
    assert opened.stdout == operations.data_key_of(sops, lab.admin())

    # the private host key: admins only, never a host (not even newbox itself)
    stored = lab.root / "secrets/host-keys/newbox.yaml"
    kept = operations.decrypt_bytes(stored.read_bytes(), "yaml", lab.admin())
    assert dict(kept.leaves())[("ssh_host_ed25519_key",)] == private.read_text()
    assert operations.recipients_of(document.load_encrypted(stored.read_bytes(), "yaml")) == [
        lab.admin().recipients
    ]
    assert not _opens(stored, host_only)
    assert lab.host_keys, "the demo keeps the hosts' identities"
    for host, secret in lab.host_keys.items():
        assert not _opens(stored, _ids(secret)), host
        own = lab.root / f"secrets/{host}.yaml"
        assert not own.exists() or _opens(own, _ids(secret)), host
    # no plaintext private key anywhere in the repository
    needle = private.read_text().splitlines()[2].encode()
    assert not any(needle in p.read_bytes() for p in lab.root.rglob("*") if p.is_file())

    # bootstrap re-creates the same tree later from the admin-encrypted key
    again = tmp_path / "again"
    code, out, err = run_main(capsys, "-C", str(lab.root), "hosts", "bootstrap", "newbox",
                              "--extra-files", str(again))  # fmt: skip
    assert code == 0, err
    assert (again / "etc/ssh/ssh_host_ed25519_key").read_bytes() == private.read_bytes()
    assert stat.S_IMODE((again / "etc/ssh/ssh_host_ed25519_key").stat().st_mode) == 0o600
    assert private.read_text() not in out + err


def test_extra_files_inside_the_repository_are_refused(
    lab: Homelab, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (lab.root / ".sops.yaml").read_bytes()
    code, _, err = run_main(capsys, "-C", str(lab.root), "hosts", "add", "newbox",
                            "--generate-host-key", "--extra-files", "keys-out")  # fmt: skip
    assert code == 3 and "is inside the repository" in err
    assert (lab.root / ".sops.yaml").read_bytes() == before
    assert not (lab.root / "keys-out").exists()
    assert not (lab.root / "secrets/host-keys").exists()


def test_a_key_already_in_the_extra_files_is_refused_before_the_host_is_added(
    lab: Homelab, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The way out it names (another directory) then works: the host was not added."""
    extra = tmp_path / "extra"
    add = ("-C", str(lab.root), "hosts", "add")
    code, _, err = run_main(capsys, *add, "newbox", "--generate-host-key", "--extra-files",
                            str(extra))  # fmt: skip
    assert code == 0, err
    before = (lab.root / ".sops.yaml").read_bytes()
    code, _, err = run_main(capsys, *add, "otherbox", "--generate-host-key", "--extra-files",
                            str(extra))  # fmt: skip
    assert code == 3 and "already holds a host key; nothing was changed" in err, err
    assert "choose another --extra-files directory" in err
    assert (lab.root / ".sops.yaml").read_bytes() == before
    assert not (lab.root / "secrets/host-keys/otherbox.yaml").exists()
    code, _, err = run_main(capsys, *add, "otherbox", "--generate-host-key", "--extra-files",
                            str(tmp_path / "another"))  # fmt: skip
    assert code == 0, err


def test_extra_files_that_cannot_be_written_name_the_bootstrap_that_writes_them(
    lab: Homelab, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "etc").write_text("a file where the etc/ directory goes\n")
    code, _, err = run_main(capsys, "-C", str(lab.root), "hosts", "add", "newbox",
                            "--generate-host-key", "--extra-files", str(extra))  # fmt: skip
    assert code == 3 and "host newbox was added, but its --extra-files were not written" in err
    hint = "secretkit hosts bootstrap newbox --extra-files DIR"
    assert hint in err, err
    again = tmp_path / "again"
    args = hint.replace("DIR", str(again)).split()[1:]
    code, _, err = run_main(capsys, "-C", str(lab.root), *args)
    assert code == 0, err
    public = (again / "etc/ssh/ssh_host_ed25519_key.pub").read_text()
    assert f"&host_newbox {ssh_pubkey_to_age(public)}" in (lab.root / ".sops.yaml").read_text()


def test_a_host_key_file_git_ignores_is_named_with_the_command_that_commits_it(
    lab: Homelab, capsys: pytest.CaptureFixture[str]
) -> None:
    """secrets/.gitignore with `*` (a common guard): the admins-only key file would
    never reach a clone, where `hosts bootstrap` needs it."""
    add = ("-C", str(lab.root), "hosts", "add")
    code, _, err = run_main(capsys, *add, "plainbox", "--generate-host-key")
    assert code == 0, err
    assert "git ignores" not in err
    (lab.root / "secrets/.gitignore").write_text("*\n!.gitignore\n")
    code, _, err = run_main(capsys, *add, "newbox", "--generate-host-key")
    assert code == 0, err
    kept = "secrets/host-keys/newbox.yaml"
    assert f"note: git ignores {kept}" in err
    command = err.split("commit it with: ")[1].splitlines()[0].split()
    assert command == ["git", "add", "-f", kept]
    subprocess.run(command, cwd=lab.root, check=True, capture_output=True)
    listed = subprocess.run(["git", "ls-files", kept], cwd=lab.root, capture_output=True)
    assert listed.stdout.decode().split() == [kept]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("hosts", "bootstrap", "newbox", "--extra-files", "/tmp/x-sk"), 3,
         "secrets/host-keys/newbox.yaml does not exist"),
        (("hosts", "add", "newbox", "--extra-files", "/tmp/x-sk"), 2,
         "--extra-files goes with --generate-host-key"),
        (("hosts", "add", "newbox", "--generate-host-key", "--age", "age1x"), 2,
         "give exactly one of"),
        (("hosts", "add", "newbox", "--fingerprint", "SHA256:x"), 2,
         "--fingerprint and --yes go with --keyscan"),
        (("hosts", "add", "observer", "--generate-host-key"), 3,
         "host observer already has a different key"),
    ],
)  # fmt: skip
def test_onboarding_usage(
    lab: Homelab,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    code: int,
    message: str,
) -> None:
    got, _, err = run_main(capsys, "-C", str(lab.root), *args)
    assert (got, message in err) == (code, True), err


# ---------------------------------------------------------------------------
# keyscan against a real sshd on the loopback
# ---------------------------------------------------------------------------
@dataclass
class Sshd:
    port: int
    public: str  # 'ssh-ed25519 AAAA…'
    fingerprint: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    binary = "/usr/sbin/sshd"
    need(os.path.exists(binary), "sshd is not installed (apt package openssh-server)")
    keygen = need_tool("ssh-keygen")
    need(os.geteuid() == 0 or os.path.isdir("/run/sshd"), "sshd needs /run/sshd")
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    key = tmp_path / "sshd" / "host_key"
    key.parent.mkdir()
    subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    port = _free_port()
    config = key.parent / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {key}\nPidFile none\nUsePAM no\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nAuthorizedKeysFile none\n"
    )
    proc = subprocess.Popen([binary, "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    assert proc.stderr is not None
                    pytest.fail(f"sshd did not start: {proc.stderr.read().decode()}")
                time.sleep(0.05)
        listed = subprocess.run([keygen, "-lf", f"{key}.pub"], capture_output=True, check=True)
        public = " ".join(Path(f"{key}.pub").read_text().split()[:2])
        yield Sshd(port, public, listed.stdout.decode().split()[1])
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        assert proc.stderr is not None
        proc.stderr.close()


def _hive_entry(lab: Homelab, port: int) -> None:
    """newbox in the colmena hive, deployed to the loopback sshd."""
    flake = lab.root / "flake.nix"
    text = flake.read_text()
    anchor = "      offsite-vm = {\n"
    entry = (
        "      newbox = {\n"
        '        deployment.targetHost = "127.0.0.1";\n'
        f"        deployment.targetPort = {port};\n"
        "      };\n"
    )
    assert anchor in text
    flake.write_text(text.replace(anchor, entry + anchor, 1))


def test_keyscan_takes_the_target_from_colmena_and_checks_the_fingerprint(
    lab: Homelab, sshd: Sshd, capsys: pytest.CaptureFixture[str]
) -> None:
    need_tool("ssh-keyscan")
    _hive_entry(lab, sshd.port)
    before = (lab.root / ".sops.yaml").read_bytes()
    wrong = "SHA256:" + "A" * 43
    code, out, err = run_main(capsys, "-C", str(lab.root), "hosts", "add", "newbox",
                              "--keyscan", "--fingerprint", wrong, "--yes")  # fmt: skip
    assert code == 4, err
    assert f"presents ssh-ed25519 key {sshd.fingerprint}" in out
    assert "colmena deployment.targetHost in flake.nix" in out
    assert (lab.root / ".sops.yaml").read_bytes() == before

    code, _, err = run_main(capsys, "-C", str(lab.root), "hosts", "add", "newbox",
                            "--keyscan", "--yes")  # fmt: skip
    assert code == 2 and "--yes needs --fingerprint" in err
    code, _, err = run_main(capsys, "-C", str(lab.root), "hosts", "add", "newbox", "--keyscan")
    assert code == 2 and f"pass --fingerprint {sshd.fingerprint} --yes" in err
    assert (lab.root / ".sops.yaml").read_bytes() == before

    code, out, err = run_main(capsys, "-C", str(lab.root), "hosts", "add", "newbox",
                              "--keyscan", "--fingerprint", sshd.fingerprint, "--yes")  # fmt: skip
    assert code == 0, err
    expected = ssh_pubkey_to_age(sshd.public)
    assert f"added host newbox ({expected})" in out
    assert f"&host_newbox {expected}" in (lab.root / ".sops.yaml").read_text()


def test_keyscan_with_an_explicit_target_and_a_closed_port(
    lab: Homelab, sshd: Sshd, capsys: pytest.CaptureFixture[str]
) -> None:
    need_tool("ssh-keyscan")
    code, out, err = run_main(capsys, "-C", str(lab.root), "hosts", "add", "newbox",
                              "--keyscan", f"127.0.0.1:{sshd.port}",
                              "--fingerprint", sshd.fingerprint)  # fmt: skip
    assert code == 0, err
    assert f"127.0.0.1:{sshd.port} (argument) presents" in out
    closed = _free_port()
    code, _, err = run_main(capsys, "-C", str(lab.root), "hosts", "add", "other",
                            "--keyscan", f"127.0.0.1:{closed}",
                            "--fingerprint", "SHA256:x")  # fmt: skip
    assert code == 3 and f"no ssh-ed25519 host key from 127.0.0.1:{closed}" in err


def test_rotating_a_host_whose_key_was_generated_says_the_stored_key_is_stale(
    lab: Homelab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stranger rotated a host made with --generate-host-key: secrets/host-keys/<h>.yaml
    kept the old private key, `hosts bootstrap` then refused, and nothing said why or
    what to do."""
    from pyrage import x25519

    add = ("hosts", "add", "newbox", "--generate-host-key", "--extra-files", str(tmp_path / "x"))
    code, _, err = run_main(capsys, "-C", str(lab.root), *add)
    assert code == 0, err
    new = str(x25519.Identity.generate().to_public())
    code, _, err = run_main(capsys, "-C", str(lab.root), "rotate", "host", "newbox", "--age", new)
    assert code == 0, err
    assert "note: secrets/host-keys/newbox.yaml still holds the host's old private key" in err
    code, _, err = run_main(capsys, "-C", str(lab.root), "hosts", "bootstrap", "newbox",
                            "--extra-files", str(tmp_path / "y"))  # fmt: skip
    assert code != 0
    assert "delete it (git rm secrets/host-keys/newbox.yaml)" in err


def test_a_host_reading_its_key_from_persist_gets_it_there(
    tmp_git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """notthebee/nix-config keeps its host keys in /persist/ssh (services.openssh.hostKeys,
    which sops-nix reads): the key went to etc/ssh of --extra-files, sshd made a new one
    in /persist at first boot, and no secret decrypted.  bootstrap writes it there too."""
    (tmp_git_repo / "flake.nix").write_text(
        "{ outputs = { nixpkgs, ... }: { nixosConfigurations.spencer = "
        "nixpkgs.lib.nixosSystem { modules = [ ./spencer.nix ]; }; }; }\n"
    )
    (tmp_git_repo / "spencer.nix").write_text(
        '{ ... }: {\n  networking.hostName = "spencer";\n  services.openssh.enable = true;\n'
        '  services.openssh.hostKeys = [\n    { path = "/persist/ssh/ssh_host_ed25519_key"; '
        'type = "ed25519"; }\n    { path = "/persist/ssh/ssh_host_rsa_key"; type = "rsa"; }\n'
        "  ];\n}\n"
    )
    import pyrage

    admin = pyrage.x25519.Identity.generate()
    keyfile = tmp_path / "admin.txt"
    keyfile.write_text(str(admin) + "\n")
    commit_all(tmp_git_repo, "an impermanent host")
    repo = ("-C", str(tmp_git_repo))
    assert run_main(capsys, *repo, "init", "--admin", str(admin.to_public()))[0] == 0
    extra = tmp_path / "extra"
    code, out, err = run_main(capsys, *repo, "hosts", "add", "spencer", "--generate-host-key",
                              "--extra-files", str(extra))  # fmt: skip
    assert code == 0, err
    assert f"wrote {extra}/persist/ssh/ssh_host_ed25519_key\n" in out
    assert not (extra / "etc").exists()
    again = tmp_path / "again"
    os.environ["SOPS_AGE_KEY_FILE"] = str(keyfile)
    try:
        code, out, err = run_main(capsys, *repo, "hosts", "bootstrap", "spencer",
                                  "--extra-files", str(again))  # fmt: skip
    finally:
        del os.environ["SOPS_AGE_KEY_FILE"]
    assert code == 0, err
    assert (again / "persist/ssh/ssh_host_ed25519_key").read_text() == (
        extra / "persist/ssh/ssh_host_ed25519_key"
    ).read_text()


@pytest.mark.parametrize(
    ("path", "where", "noted"),
    [
        ('"${persist}/ssh/ssh_host_ed25519_key"', "persist/ssh", False),  # a let settles it
        ('"${config.my.persistDir}/ssh/ssh_host_ed25519_key"', "etc/ssh", True),
    ],
)
def test_a_key_path_built_with_a_let_is_followed_and_one_not_read_is_said(
    tmp_git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str,
    where: str, noted: bool,
) -> None:  # fmt: skip
    """helper-102: `path = "${persist}/ssh/…"` put the key in etc/ssh without a word."""
    import pyrage

    (tmp_git_repo / "flake.nix").write_text(
        "{ outputs = { nixpkgs, ... }: { nixosConfigurations.spencer = "
        "nixpkgs.lib.nixosSystem { modules = [ ./spencer.nix ]; }; }; }\n"
    )
    (tmp_git_repo / "spencer.nix").write_text(
        '{ config, ... }:\nlet persist = "/persist"; in {\n  networking.hostName = "spencer";\n'
        f'  services.openssh.hostKeys = [ {{ path = {path}; type = "ed25519"; }} ];\n}}\n'
    )
    commit_all(tmp_git_repo, "an impermanent host")
    repo = ("-C", str(tmp_git_repo))
    assert (
        run_main(
            capsys, *repo, "init", "--admin", str(pyrage.x25519.Identity.generate().to_public())
        )[0]
        == 0
    )
    extra = tmp_path / "extra"
    code, _out, err = run_main(capsys, *repo, "hosts", "add", "spencer", "--generate-host-key",
                               "--extra-files", str(extra))  # fmt: skip
    assert code == 0, err
    assert (extra / where / "ssh_host_ed25519_key").is_file()
    assert ("cannot read: the key was written to etc/ssh" in err) == noted
