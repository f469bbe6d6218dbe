"""A small clan-core repository written at run time: three machines (web, db and a
darwin laptop), a module shared by web and db, one admin user, two groups, legacy
``sops/secrets`` and ``vars`` secrets encrypted for exactly the keys their links name.
Keys are generated per test; nothing token-shaped is written in this file."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pyrage

from secretkit.sops import document, operations
from secretkit.sops.config import CreationRule, KeyRef

FLAKE = """{
  inputs.clan-core.url = "git+https://git.clan.lol/clan/clan-core";
  inputs.nixpkgs.follows = "clan-core/nixpkgs";
  outputs = { self, clan-core, nixpkgs, ... }:
    let
      clan = import ./clan.nix self;
    in
    {
      inherit (clan.config) nixosConfigurations darwinConfigurations;
      nixosModules.base = ./modules/base.nix;
    };
}
"""

CLAN = """self:
self.inputs.clan-core.lib.clan {
  inherit self;
  meta.name = "tinyclan";
  inventory.machines = {
    web.deploy.targetHost = "root@web.lan";
    db = { };
    laptop.machineClass = "darwin";
  };
  machines.db = { networking.firewall.allowedTCPPorts = [ 5432 ]; };
  inventory.machines.web.tags = [ "offsite" ];
  inventory.instances.monitoring = {
    roles.agent.tags.nixos = { };
    roles.agent.extraModules = [ ./modules/agent.nix ];
    roles.server.machines.db = { };
    roles.server.extraModules = [ ./modules/server.nix ];
    roles.backup.tags.offsite = { };
    roles.backup.extraModules = [ ./modules/offsite.nix ];
  };
}
"""

FILES = {
    "machines/web/configuration.nix": (
        "{ self, config, ... }:\n{\n"
        "  imports = [ ../../modules/shared.nix self.nixosModules.base ];\n"
        "  services.nginx.enable = true;\n"
        '  sops.secrets.web-db-password.owner = "nginx";\n'
        "  services.nginx.virtualHosts.web.basicAuthFile =\n"
        "    config.sops.secrets.web-db-password.path;\n}\n"
    ),
    "machines/db/configuration.nix": (
        "{ ... }:\n{\n  imports = [ ../../modules/shared.nix ];\n"
        '  sops.secrets.db-root = { owner = "postgres"; }; services.postgresql.enable = true;\n}\n'
    ),
    "machines/laptop/configuration.nix": "{ ... }:\n{\n  system.stateVersion = 5;\n}\n",
    "modules/shared.nix": (
        "{ config, ... }:\n{\n  imports = [ ./users.nix ];\n"
        "  networking.wireguard.interfaces.wg0.peers = [ {\n"
        "    presharedKeyFile = config.clan.core.vars.generators.wireguard.files.psk.path;\n"
        "  } ];\n}\n"
    ),
    "modules/users.nix": "{ ... }:\n{\n  users.mutableUsers = false;\n}\n",
    "modules/base.nix": '{ ... }:\n{\n  time.timeZone = "UTC";\n}\n',
    "modules/agent.nix": "{ ... }:\n{\n  services.prometheus.exporters.node.enable = true;\n}\n",
    "modules/server.nix": "{ ... }:\n{\n  services.prometheus.enable = true;\n}\n",
    "modules/offsite.nix": "{ ... }:\n{\n  services.borgbackup.jobs = { };\n}\n",
}


@dataclass
class Clan:
    root: Path
    identities: dict[str, pyrage.x25519.Identity]

    def public(self, owner: str) -> str:
        return str(self.identities[owner].to_public())

    def admin_key(self) -> str:
        return str(self.identities["users/alice"])

    def link(self, secret_dir: str, kind: str, name: str) -> None:
        folder = self.root / secret_dir / kind
        folder.mkdir(parents=True, exist_ok=True)
        depth = len(Path(secret_dir).parts) + 1  # up from <secret_dir>/<kind>/ to the root
        target = Path(*([".."] * depth), "sops", kind, name)
        os.symlink(target, folder / name)

    def encrypt(self, secret_dir: str, owners: list[str], value: bytes) -> None:
        rule = CreationRule(key_groups=[[KeyRef("age", self.public(o)) for o in owners]])
        plain = document.load_plain(value, "binary")
        (self.root / secret_dir).mkdir(parents=True, exist_ok=True)
        (self.root / secret_dir / "secret").write_bytes(operations.encrypt_new(plain, rule))


def _key_json(path: Path, keys: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    items = [{"publickey": k, "type": "age"} for k in keys]
    path.write_text(json.dumps(items[0] if len(items) == 1 else items, indent=2))


def make_clan(root: Path) -> Clan:
    """Write the clan repository into ``root`` (an empty git work tree)."""
    owners = ["users/alice", "machines/web", "machines/db", "machines/laptop"]
    clan = Clan(root, {o: pyrage.x25519.Identity.generate() for o in owners})
    (root / "flake.nix").write_text(FLAKE)
    (root / "clan.nix").write_text(CLAN)
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    for owner in owners:
        _key_json(root / "sops" / owner / "key.json", [clan.public(owner)])
    for group, members in (
        ("admins", ["users/alice"]),
        ("servers", ["machines/web", "machines/db"]),
    ):
        for member in members:
            kind, name = member.split("/")
            clan.link(f"sops/groups/{group}", kind, name)
    # web-db-password: web directly, db through no link (web only), admins group
    clan.link("sops/secrets/web-db-password", "machines", "web")
    clan.link("sops/secrets/web-db-password", "groups", "admins")
    clan.encrypt("sops/secrets/web-db-password", ["machines/web", "users/alice"], b"pw-one")
    # db-root: db and alice directly
    clan.link("sops/secrets/db-root", "machines", "db")
    clan.link("sops/secrets/db-root", "users", "alice")
    clan.encrypt("sops/secrets/db-root", ["machines/db", "users/alice"], b"pw-two")
    # vars: a per-machine file (nested name) and a shared one through the servers group
    per_machine = "vars/per-machine/web/acme/keys/account.key"
    clan.link(per_machine, "machines", "web")
    clan.link(per_machine, "users", "alice")
    clan.encrypt(per_machine, ["machines/web", "users/alice"], b"pem-ish")
    (root / "vars/per-machine/web/acme/keys/account.pub").mkdir(parents=True)
    (root / "vars/per-machine/web/acme/keys/account.pub/value").write_text("public\n")
    shared = "vars/shared/wireguard/psk"
    clan.link(shared, "groups", "servers")
    clan.link(shared, "users", "alice")
    clan.encrypt(shared, ["machines/web", "machines/db", "users/alice"], b"psk-ish")
    return clan
