"""A realistic agenix repository, made in the tests with the real tools.

Four hosts in a flake (web1, web2 share ``modules/web.nix``; every host imports
``modules/common.nix``), user and host keys in ``let`` bindings of
``secrets/secrets.nix``, owners/modes/paths on some secrets, a binary secret, one
secret only the admins can read.  Every ``.age`` file is encrypted by the Debian
``age`` CLI (armored and binary), host keys are made by ``ssh-keygen``: nothing
of secretkit's takes part in building the input.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import ROOT, commit_all, git, need_tool
from tests.support import fake

HOSTS = ("web1", "web2", "db", "laptop")

# secret → (readers: let names, armored?, runtime options the Nix code sets)
SECRETS: dict[str, tuple[tuple[str, ...], bool]] = {
    "nginx-key": (("alice", "bob", "web1", "web2"), False),  # binary (DER-like bytes)
    "api-token": (("alice", "bob", "web1", "web2"), True),
    "db-password": (("alice", "bob", "db"), False),
    "wifi": (("alice", "laptop"), True),
    "backup-pass": (("alice", "bob", "web1", "web2", "db", "laptop"), False),
    "root-recovery": (("alice", "bob"), True),  # admins only
}

FLAKE = """\
{
  description = "homelab";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    agenix.url = "github:ryantm/agenix";
    agenix.inputs.nixpkgs.follows = "nixpkgs";
  };

  outputs = { self, nixpkgs, agenix, ... }:
    let
      mkHost = name: nixpkgs.lib.nixosSystem {
        system = "x86_64-linux";
        modules = [ ./hosts/${name} agenix.nixosModules.default ];
      };
    in {
      nixosConfigurations = {
        web1 = mkHost "web1";
        web2 = mkHost "web2";
        db = mkHost "db";
        laptop = mkHost "laptop";
      };
    };
}
"""

WEB = """\
{ config, ... }:
{
  # TLS key and API token for both web servers
  age.secrets = {
    nginx-key = {
      file = ../secrets/nginx-key.age;
      owner = "nginx";
      group = "nginx";
      mode = "0400";
    };
    api-token.file = ../secrets/api-token.age;
  };
  services.nginx.enable = true; services.nginx.virtualHosts."example.org".sslCertificateKey =
    config.age.secrets.nginx-key.path;
  systemd.services.app.serviceConfig.EnvironmentFile = config.age.secrets.api-token.path;
}
"""

COMMON = """\
{ config, pkgs, ... }:
{
  age.secrets.backup-pass = {
    file = ../secrets/backup-pass.age;
    mode = "0440";
    group = "wheel";
  };
  services.borgbackup.jobs.main.encryption = {
    mode = "repokey";
    passCommand = "cat ${config.age.secrets.backup-pass.path}";
  };
}
"""

HOST = """\
{{ config, ... }}:
{{
  imports = [ {imports} ];
  networking.hostName = "{name}";
{extra}}}
"""

DB_EXTRA = """\
  age.secrets.db-password = {
    file = ../../secrets/db-password.age;
    owner = "postgres";
    mode = "0440";
    path = "/var/lib/postgresql/password";
  };
  services.postgresql.enable = true;
  services.postgresql.initialScript = config.age.secrets.db-password.path;
"""

LAPTOP_EXTRA = """\
  age.identityPaths = [ "/etc/ssh/ssh_host_ed25519_key" ];
  age.secrets.wifi.file = ../../secrets/wifi.age;
  age.secrets.wifi.owner = "wpa_supplicant"; networking.wireless.enable = true;
  networking.wireless.environmentFile = config.age.secrets.wifi.path;
"""

RULES = """\
let
  # people
  alice = "{alice}";
  bob = "{bob}";
  users = [ alice bob ];

  # machines (/etc/ssh/ssh_host_ed25519_key.pub)
  web1 = "{web1}";
  web2 = "{web2}";
  db = "{db}";
  laptop = "{laptop}";
  webservers = [ web1 web2 ];
in
{{
  "nginx-key.age".publicKeys = users ++ webservers;
  "api-token.age".publicKeys = users ++ webservers;
  "db-password.age".publicKeys = users ++ [ db ];
  "wifi.age".publicKeys = [ alice laptop ];
  "backup-pass.age".publicKeys = users ++ webservers ++ [ db laptop ];
  "root-recovery.age" = {{ publicKeys = users; armor = true; }};
}}
"""


def run(*args: str, input: bytes | None = None, cwd: Path | None = None) -> bytes:
    proc = subprocess.run(list(args), input=input, capture_output=True, check=False, cwd=cwd)
    if proc.returncode != 0:
        raise AssertionError(f"{args[0]} failed: {proc.stderr.decode()[:300]}")
    return proc.stdout


@dataclass
class AgenixLab:
    root: Path
    keys: Path  # directory with every private key (outside the repository)
    values: dict[str, bytes] = field(default_factory=dict)
    ssh_pub: dict[str, str] = field(default_factory=dict)  # host/user → ssh-ed25519 line

    @property
    def admin_keyfile(self) -> Path:
        return self.keys / "alice.txt"

    def host_keyfile(self, host: str) -> Path:
        """The age identity sops-nix derives from the host's ssh key."""
        from secretkit.keys.ssh_to_age import ssh_private_key_to_age

        out = self.keys / f"{host}.agekey"
        if not out.exists():
            pem = (self.keys / f"{host}_ssh_host_ed25519_key").read_bytes()
            out.write_text(ssh_private_key_to_age(pem).reveal() + "\n")
            out.chmod(0o600)
        return out

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "SECRETKIT_"))}
        env["SOPS_AGE_KEY_FILE"] = str(self.admin_keyfile)
        env["PYTHONPATH"] = str(ROOT)
        env.update(extra)
        return env

    def run(
        self, *args: str, kill_after: int | None = None, **env: str
    ) -> subprocess.CompletedProcess[bytes]:
        """``secretkit -C ROOT ARGS`` in its own process (os._exit must not end pytest)."""
        extra = dict(env)
        if kill_after is not None:
            extra["SECRETKIT_TEST_KILL_AFTER_WRITES"] = str(kill_after)
        return subprocess.run(
            [sys.executable, "-m", "secretkit", "-C", str(self.root), *args],
            env=self.env(**extra),
            capture_output=True,
            check=False,
            timeout=180,
        )

    def tree(self) -> dict[str, bytes]:
        out = {}
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and ".git" not in path.relative_to(self.root).parts:
                out[path.relative_to(self.root).as_posix()] = path.read_bytes()
        return out

    def copy(self, dest: Path) -> AgenixLab:
        shutil.copytree(self.root, dest, symlinks=True)
        return AgenixLab(dest, self.keys, dict(self.values), dict(self.ssh_pub))


def _values() -> dict[str, bytes]:
    der = bytes([0x30, 0x82, 0x04, 0xA4, 0x02, 0x01, 0x00, 0x02, 0x82, 0x01, 0x01, 0x00])
    der += bytes(range(256))  # every byte value: not text
    return {
        "nginx-key": der,
        "api-token": fake.hex_key(24, "api").encode(),
        "db-password": fake.password("db").encode(),
        "wifi": f"PSK_HOME={fake.passphrase('wifi')}\n".encode(),
        "backup-pass": (fake.passphrase("borg") + "\n").encode(),
        "root-recovery": f"recovery {fake.password('root')}\nsecond line\n".encode(),
    }


def make_lab(base: Path) -> AgenixLab:
    """Build the repository (git, committed) and the keys next to it."""
    need_tool("age")
    need_tool("age-keygen")
    need_tool("ssh-keygen")
    keys = base / "keys"
    keys.mkdir(parents=True)
    root = base / "repo"
    root.mkdir()
    lab = AgenixLab(root, keys, _values())
    run("age-keygen", "-o", str(keys / "alice.txt"))
    alice = run("age-keygen", "-y", str(keys / "alice.txt")).decode().strip()
    recipients: dict[str, str] = {"alice": alice}
    for name in ("bob", *HOSTS):
        path = keys / (f"{name}_ssh_host_ed25519_key" if name in HOSTS else "bob_id_ed25519")
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"root@{name}", "-f", str(path))
        line = Path(f"{path}.pub").read_text().strip()
        recipients[name] = line
        lab.ssh_pub[name] = line
    (root / "secrets").mkdir()
    rules = RULES.format(**recipients)
    (root / "secrets" / "secrets.nix").write_text(rules)
    for name, (readers, armored) in SECRETS.items():
        args = ["age", "-e", *(["-a"] if armored else [])]
        for reader in readers:
            args += ["-r", recipients[reader]]
        out = root / "secrets" / f"{name}.age"
        run(*args, "-o", str(out), input=lab.values[name])
    (root / "flake.nix").write_text(FLAKE)
    (root / "modules").mkdir()
    (root / "modules" / "web.nix").write_text(WEB)
    (root / "modules" / "common.nix").write_text(COMMON)
    for host in HOSTS:
        imports = ["../../modules/common.nix"]
        if host.startswith("web"):
            imports.insert(0, "../../modules/web.nix")
        extra = {"db": DB_EXTRA, "laptop": LAPTOP_EXTRA}.get(host, "")
        (root / "hosts" / host).mkdir(parents=True)
        (root / "hosts" / host / "default.nix").write_text(
            HOST.format(imports=" ".join(imports), name=host, extra=extra)
        )
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test Author")
    git(root, "config", "user.email", "author@example.invalid")
    git(root, "config", "commit.gpgsign", "false")
    commit_all(root, "agenix homelab")
    # the admins of the sops side: alice's age key, bob's ssh key through ssh-to-age
    from secretkit.keys.ssh_to_age import ssh_pubkey_to_age

    init = lab.run("init", "--admin", alice, "--admin-name", "alice")
    assert init.returncode == 0, init.stderr.decode()
    bob = lab.run("init", "--admin", ssh_pubkey_to_age(recipients["bob"]), "--admin-name", "bob")
    assert bob.returncode == 0, bob.stderr.decode()
    commit_all(root, "sops admins")
    return lab


REKEY_FLAKE = """\
{
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    agenix.url = "github:ryantm/agenix";
    agenix-rekey.url = "github:oddlama/agenix-rekey";
  };

  outputs = { self, nixpkgs, agenix, agenix-rekey, ... }: {
    nixosConfigurations = {
      web1 = nixpkgs.lib.nixosSystem {
        modules = [ ./hosts/web1 agenix.nixosModules.default agenix-rekey.nixosModules.default ];
      };
      web2 = nixpkgs.lib.nixosSystem {
        modules = [ ./hosts/web2 agenix.nixosModules.default agenix-rekey.nixosModules.default ];
      };
    };
    agenix-rekey = agenix-rekey.configure {
      userFlake = self;
      nixosConfigurations = self.nixosConfigurations;
    };
  };
}
"""

REKEY_COMMON = """\
{ config, ... }:
{
  age.rekey = {
    masterIdentities = [ ../secrets/master.pub ];
    storageMode = "local";
    localStorageDir = ./.. + "/secrets/rekeyed/${config.networking.hostName}";
  };
  age.secrets.backup = {
    rekeyFile = ../secrets/backup.age;
    owner = "borg";
  };
  services.borgbackup.jobs.main.encryption.passCommand = "cat ${config.age.secrets.backup.path}";
}
"""

REKEY_HOST = """\
{{ config, ... }}:
{{
  imports = [ ../../modules/common.nix ];
  networking.hostName = "{name}";
  age.rekey.hostPubkey = {key};
{extra}}}
"""

REKEY_WEB1_EXTRA = """\
  age.secrets.api = {
    rekeyFile = ../../secrets/api.age;
    generator.script = "alnum";
  };
  systemd.services.app.serviceConfig.EnvironmentFile = config.age.secrets.api.path;
"""

REKEY_SECRETS = {"backup": ("web1", "web2"), "api": ("web1",)}


def make_rekey_lab(base: Path) -> AgenixLab:
    """An agenix-rekey repository: master-key sources, host keys in the host configs
    (a literal and a .pub path), a generator, rekeyed outputs in git (local mode)."""
    need_tool("age")
    keys = base / "keys"
    keys.mkdir(parents=True)
    root = base / "repo"
    (root / "secrets").mkdir(parents=True)
    lab = AgenixLab(
        root,
        keys,
        {"backup": (fake.passphrase("rk") + "\n").encode(), "api": fake.password("rk").encode()},
    )
    run("age-keygen", "-o", str(keys / "alice.txt"))
    master = run("age-keygen", "-y", str(keys / "alice.txt")).decode().strip()
    (root / "secrets" / "master.pub").write_text(master + "\n")
    for host in ("web1", "web2"):
        path = keys / f"{host}_ssh_host_ed25519_key"
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"root@{host}", "-f", str(path))
        lab.ssh_pub[host] = Path(f"{path}.pub").read_text().strip()
    for name, value in lab.values.items():
        run("age", "-e", "-r", master, "-o", str(root / "secrets" / f"{name}.age"), input=value)
        for host in REKEY_SECRETS[name]:  # what `agenix rekey` leaves in local mode
            out = root / "secrets" / "rekeyed" / host / f"0a1b2c3d-{name}.age"
            out.parent.mkdir(parents=True, exist_ok=True)
            run("age", "-e", "-r", lab.ssh_pub[host], "-o", str(out), input=value)
    (root / "flake.nix").write_text(REKEY_FLAKE)
    (root / "modules").mkdir()
    (root / "modules" / "common.nix").write_text(REKEY_COMMON)
    (root / "hosts" / "web1").mkdir(parents=True)
    (root / "hosts" / "web2").mkdir(parents=True)
    (root / "hosts" / "web1" / "default.nix").write_text(
        REKEY_HOST.format(name="web1", key=f'"{lab.ssh_pub["web1"]}"', extra=REKEY_WEB1_EXTRA)
    )
    (root / "hosts" / "web2" / "host.pub").write_text(lab.ssh_pub["web2"] + "\n")
    (root / "hosts" / "web2" / "default.nix").write_text(
        REKEY_HOST.format(name="web2", key="./host.pub", extra="")
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test Author")
    git(root, "config", "user.email", "author@example.invalid")
    git(root, "config", "commit.gpgsign", "false")
    commit_all(root, "agenix-rekey homelab")
    init = lab.run("init", "--admin", master, "--admin-name", "alice")
    assert init.returncode == 0, init.stderr.decode()
    commit_all(root, "sops admin")
    return lab


BUILT_RULES = """\
let
  keys = import ./keys.nix;
  readers = import ./readers.nix;
in
builtins.mapAttrs (_: names: { publicKeys = map (n: keys.${n}) names; }) readers
"""


def build_the_rules(lab: AgenixLab) -> None:
    """secrets.nix made by a function over a list of files (JulienMalka/snowfield's
    form): the same readers, no rule written out."""
    keys = "{\n" + "".join(f'  {n} = "{k}";\n' for n, k in lab.ssh_pub.items()) + "}\n"
    readers = (
        "{\n"
        + "".join(
            f'  "{name}.age" = [ {" ".join(r for r in who if r in lab.ssh_pub)} ];\n'
            for name, (who, _armored) in SECRETS.items()
        )
        + "}\n"
    )
    (lab.root / "secrets" / "keys.nix").write_text(keys)
    (lab.root / "secrets" / "readers.nix").write_text(readers)
    (lab.root / "secrets" / "secrets.nix").write_text(BUILT_RULES)
    commit_all(lab.root, "rules built by a function")
