"""nixrewrite.py: age.* → sops.* by byte spans, on the forms agenix users write."""

from __future__ import annotations

import pytest

from secretkit.agenix.nixrewrite import (
    Target,
    flake_input_edits,
    mentions,
    rewrite_file,
)
from secretkit.nix import cst
from secretkit.nix.edits import checked_apply

YAML = Target("../secrets/web1.yaml", "api", False)


def _rewrite(source: str, target: Target | str = YAML, rel: str = "hosts/web1.nix") -> str:
    seen: list[tuple[str, bool]] = []

    def target_of(age: str, exact: bool, module: str, offset: int) -> Target | str:
        seen.append((age, exact))
        return target

    result = rewrite_file(rel, cst.parse(source.encode()), target_of)
    if result.refusals:
        return "REFUSED: " + " | ".join(result.refusals)
    return checked_apply(source.encode(), result.edits).decode()


def test_nested_age_attrset_name_symlink_and_identity_paths() -> None:
    source = """{ config, ... }:
{
  age = {
    identityPaths = [ "/etc/ssh/ssh_host_ed25519_key" ];
    secrets.api = {
      file = ../secrets/api.age;
      name = "api.env";
      symlink = false;
    };
  };
  x = config.age.secrets.api.path;
}
"""
    assert (
        _rewrite(source)
        == """{ config, ... }:
{
  sops = {
    age.sshKeyPaths = [ "/etc/ssh/ssh_host_ed25519_key" ];
    secrets.api = {
      sopsFile = ../secrets/web1.yaml;
      path = "/run/agenix/api.env";
    };
  };
  x = config.sops.secrets.api.path;
}
"""
    )


def test_inside_mkif_with_another_name_and_a_binary_file() -> None:
    source = """{ config, lib, ... }:
{
  config = lib.mkIf config.services.x.enable {
    age.secrets.token.file = ./token.age;
    age.secrets.token.path = "/var/lib/x/token";
  };
}
"""
    out = _rewrite(source, Target("./secrets/token.bin", None, True))
    assert "sops.secrets.token.sopsFile = ./secrets/token.bin;" in out
    assert 'sops.secrets.token.path = "/var/lib/x/token";' in out
    assert 'sops.secrets.token.format = "binary";' in out
    keyed = _rewrite(source, Target("../secrets/web1.yaml", "api-token", False))
    assert 'sops.secrets.token.key = "api-token";' in keyed


def test_let_names_called_age_and_module_lists() -> None:
    source = """{ inputs, ... }:
let age = 3; in
{
  imports = [
    ./hardware.nix
    inputs.agenix.nixosModules.default
  ];
  boot.kernelParams = [ "x=${toString age}" ];
}
"""
    out = _rewrite(source)
    assert "let age = 3; in" in out
    assert "imports = [\n    ./hardware.nix\n    inputs.sops-nix.nixosModules.sops\n  ];" in out


def test_host_definitions_outside_the_flake_get_the_sops_nix_argument() -> None:
    source = """{ nixpkgs
, agenix
, ... }@inputs:
{
  web = nixpkgs.lib.nixosSystem {
    modules = [ ./web agenix.nixosModules.default ];
  };
}
"""
    out = _rewrite(source, rel="machines/default.nix")
    assert out.startswith("{ nixpkgs\n, sops-nix\n, ... }@inputs:")
    assert "modules = [ ./web sops-nix.nixosModules.sops ];" in out
    still_used = source.replace("{\n  web", "{\n  pkg = agenix.packages;\n  web")
    assert ", agenix\n" in _rewrite(still_used, rel="machines/default.nix")


@pytest.mark.parametrize(
    ("body", "refusal"),
    [
        ("age.secrets.x = { rekeyFile = ./x.age; };", "age.secrets.x.rekeyFile is an agenix-rekey"),
        ('age.secrets.x.generator.script = "alnum";', "agenix-rekey option"),
        ("age.rekey.masterIdentities = [ ./m.pub ];", "age.rekey is an agenix-rekey option"),
        ('age.secretsDir = "/run/k";', "age.secretsDir is an agenix option without"),
        ("age.secrets.x = import ./x.nix;", "age.secrets.x is not an attrset literal"),
        (
            'age.secrets."backup/s3" = lib.mkDefault { file = ./x.age; };',
            'age.secrets."backup/s3" is `lib.mkDefault { … }`, not an attrset literal: write '
            'the attrset itself (age.secrets."backup/s3" = { … };)',
        ),
        ('age.secrets.x.owner = "a";', "age.secrets.x has no file"),
        ("age.secrets.x.file = ./x.age;", "age.secrets.x: not listed"),
        (
            "imports = [ inputs.agenix.homeManagerModules.default ];",
            "home-manager module: replace it with sops-nix's homeManagerModules.sops",
        ),
    ],
)
def test_what_is_refused(body: str, refusal: str) -> None:
    target = "not listed" if "file =" in body else YAML
    out = _rewrite("{ config, ... }:\n{\n  " + body + "\n}\n", target)
    assert out.startswith("REFUSED: hosts/web1.nix")
    assert refusal in out


def test_a_shared_module_gets_config_for_the_host_name() -> None:
    source = "{ pkgs, ... }:\n{\n  age.secrets.backup.file = ../secrets/backup.age;\n}\n"
    shared = Target('../secrets + "/${config.networking.hostName}.yaml"', "backup", False, True)
    out = _rewrite(source, shared)
    assert out.startswith("{ config, pkgs, ... }:")
    assert (
        'sops.secrets.backup.sopsFile = ../secrets + "/${config.networking.hostName}.yaml";' in out
    )


def test_flake_input_and_argument_removed() -> None:
    source = """{
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs";
    agenix = {
      url = "github:ryantm/agenix";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };
  outputs = { agenix, self, nixpkgs }: { };
}
"""
    tree = cst.parse(source.encode())
    edits, _ = flake_input_edits(tree)
    out = checked_apply(source.encode(), edits)
    assert mentions(out) == 0
    assert b"outputs = { self, nixpkgs }:" in out
    assert mentions(b'path = "/run/agenix/x"; y = inputs.agenix.packages;') == 1


def test_modules_inline_in_the_flake_and_colmena_nodes() -> None:
    source = """{
  outputs = { self, nixpkgs, agenix, ... }: {
    nixosConfigurations.web = nixpkgs.lib.nixosSystem {
      modules = [
        agenix.nixosModules.default
        ({ config, ... }: {
          age.secrets.api.file = ./secrets/api.age;
          users.users.bob.age = 42;
          sops.age.keyFile = "/var/lib/key";
          services.x.tokenFile = config.age.secrets.api.path;
        })
      ];
    };
    colmena.db = { age = { secrets.pw.file = ./secrets/pw.age; }; };
  };
}
"""
    out = _rewrite(source, rel="flake.nix")
    assert "sops.secrets.api.sopsFile = ../secrets/web1.yaml;" in out
    assert "users.users.bob.age = 42;" in out
    assert 'sops.age.keyFile = "/var/lib/key";' in out
    assert "tokenFile = config.sops.secrets.api.path;" in out
    assert "colmena.db = { sops = { secrets.pw.sopsFile = ../secrets/web1.yaml;" in out
    assert "modules = [\n        sops-nix.nixosModules.sops\n" in out


def test_structural_refusals_are_all_read_without_any_key() -> None:
    from secretkit.agenix.nixrewrite import structural_refusals

    sources = {
        "a.nix": b"{ ... }:\n{\n  age.secrets.x = lib.mkDefault { file = ./x.age; };\n}\n",
        "b.nix": (
            b"{ inputs, ... }:\n{\n  imports = [ inputs.agenix.homeManagerModules.default ];\n}\n"
        ),
        "c.nix": b"{ ... }:\n{\n  age.secrets.fine.file = ./fine.age;\n}\n",
    }
    found = structural_refusals(sources)
    assert len(found) == 2
    assert found[0].startswith("a.nix: age.secrets.x is `lib.mkDefault { … }`")
    assert found[1].startswith("b.nix line 3: agenix's home-manager module")


def test_a_users_password_file_is_decrypted_before_users_exist() -> None:
    """agenix decrypts before users are made; sops-nix only with neededForUsers (a
    stranger's converted hashedPasswordFile was missing at boot: a locked account)."""
    from secretkit.agenix.nixrewrite import for_users

    source = """{ config, ... }:
{
  age.secrets.ops-pw.file = ../secrets/ops-pw.age;
  age.secrets."root-pw" = { file = ../secrets/root-pw.age; };
  age.secrets.api = { file = ../secrets/api.age; owner = "api"; };
  users.users.ops.hashedPasswordFile = config.age.secrets.ops-pw.path;
  users.users.root.hashedPasswordFile = config.age.secrets."root-pw".path;
}
"""
    users = for_users({"hosts/web1.nix": source.encode()})
    assert users == {"ops-pw", "root-pw"}
    # a service's passwordFile is its service's (read as its user, after users exist);
    # a user's, written nested, is a user's
    other = """{ config, ... }:
{
  services.restic.backups.b.passwordFile = config.age.secrets.restic.path;
  services.borgbackup.jobs.x.encryption.passwordFile = config.age.secrets.borg.path;
  users.users = { alice = { passwordFile = config.age.secrets.alice.path; }; };
}
"""
    assert for_users({"a.nix": other.encode()}) == {"alice"}
    result = rewrite_file(
        "hosts/web1.nix", cst.parse(source.encode()), lambda *_: YAML, users=users
    )
    assert result.refusals == []
    out = checked_apply(source.encode(), result.edits).decode()
    assert "sops.secrets.ops-pw.neededForUsers = true;" in out
    assert 'sops.secrets."root-pw" = { sopsFile = ../secrets/web1.yaml;' in out
    assert out.count("neededForUsers = true;") == 2  # (not api's)
    # owned by another user: sops-nix makes those root's only, so it is refused
    owned = source.replace(
        "file = ../secrets/root-pw.age;", 'file = ../secrets/root-pw.age; owner = "ops";'
    )
    refused = rewrite_file(
        "hosts/web1.nix", cst.parse(owned.encode()), lambda *_: YAML, users=users
    ).refusals
    assert refused == [
        "hosts/web1.nix: age.secrets.root-pw holds a user's password, which sops-nix "
        'decrypts before users exist, for root only: drop its owner = "ops";'
    ]


def test_a_name_set_on_its_own_line_folds_into_the_path() -> None:
    """`age.secrets.<n>.name = …;` beside `.file = …;` stopped the import with
    "overlapping edits" (the line was renamed and deleted at once)."""
    source = """{ config, ... }:
{
  age.secrets.restic-pw.file = ../secrets/restic.age;
  age.secrets.restic-pw.name = "restic-password";
  age.secrets.grafana = { file = ../secrets/grafana.age; symlink = false; };
}
"""
    result = rewrite_file("hosts/web1.nix", cst.parse(source.encode()), lambda *_: YAML)
    assert result.refusals == []
    out = checked_apply(source.encode(), result.edits).decode()
    assert "sops.secrets.restic-pw.sopsFile = ../secrets/web1.yaml;" in out
    assert 'sops.secrets.restic-pw.path = "/run/agenix/restic-password";' in out
    assert "name =" not in out and "symlink" not in out
    assert [n for n in result.notes if "symlink = false dropped" in n] == [
        "line 5: age.secrets.grafana.symlink = false dropped: sops-nix puts a symlink at "
        "path (to its file under /run/secrets.d, or /run/secrets-for-users.d for a "
        "neededForUsers secret), where agenix put a plain file; check that the program "
        "reading it follows symlinks"
    ]


def test_config_age_secrets_bound_to_a_name_becomes_sops_nixs() -> None:
    """`secrets = config.age.secrets;` was left as it was: after the import removed
    agenix's module the host would not evaluate (attribute 'age' missing), its root
    password (read as `secrets.rootpw.path`) got no neededForUsers, and check passed."""
    from secretkit.agenix.nixrewrite import for_users

    source = """{ config, ... }: let secrets = config.age.secrets; in {
  age.secrets.rootpw.file = ./secrets/rootpw.age;
  users.users.root.hashedPasswordFile = secrets.rootpw.path;
  x = config.age.secrets.rootpw.symlink;
}
"""
    users = for_users({"a.nix": source.encode()})
    assert users == {"rootpw"}
    result = rewrite_file("a.nix", cst.parse(source.encode()), lambda *_: YAML, users=users)
    assert result.refusals == [
        "a.nix line 4: config.age.secrets.rootpw.symlink has no sops-nix counterpart; change "
        "it by hand (agenix's module is removed by the import)"
    ]
    fine = source.replace("  x = config.age.secrets.rootpw.symlink;\n", "")
    result = rewrite_file("a.nix", cst.parse(fine.encode()), lambda *_: YAML, users=users)
    assert result.refusals == []
    out = checked_apply(fine.encode(), result.edits).decode()
    assert "let secrets = config.sops.secrets; in" in out
    assert "age." not in out.replace("rootpw.age", "")
    assert "neededForUsers = true;" in out
    assert result.notes[0].startswith("line 1: config.age.secrets became config.sops.secrets")


def test_config_age_itself_and_wrapped_password_files_are_followed() -> None:
    """`inherit (config.age) secrets;` and `ageS = config.age;` were left (the host would
    not evaluate after the import), and a password file behind lib.mkForce or
    parentheses got no neededForUsers (written after users were made)."""
    from secretkit.agenix.nixrewrite import for_users

    source = """{ config, lib, ... }: let inherit (config.age) secrets; ageS = config.age; in {
  age.secrets.a.file = ./a.age;
  age.secrets.b.file = ./b.age;
  age.secrets.carolpw.file = ./carolpw.age;
  age.secrets.davepw.file = ./davepw.age;
  x.aFile = secrets.a.path;
  y.bFile = ageS.secrets.b.path;
  users.users.carol.hashedPasswordFile = lib.mkForce config.age.secrets.carolpw.path;
  users.users.dave.hashedPasswordFile = (ageS.secrets.davepw.path);
}
"""
    users = for_users({"a.nix": source.encode()})
    assert users == {"carolpw", "davepw"}
    result = rewrite_file("a.nix", cst.parse(source.encode()), lambda *_: YAML, users=users)
    assert result.refusals == []
    out = checked_apply(source.encode(), result.edits).decode()
    assert "inherit (config.sops) secrets; ageS = config.sops; in" in out
    assert "config.age" not in out
    assert out.count("neededForUsers = true;") == 2


def test_a_comment_that_names_agenix_is_no_mention() -> None:
    """helper-127: `# … not in agenix yet` kept the agenix input and its outputs argument
    in flake.nix after the import."""
    assert mentions(b"{ inputs, ... }: {\n  # not in agenix yet\n  x = 1; /* agenix */\n}\n") == 0
    assert mentions(b"{ agenix, ... }: { # agenix\n  m = agenix.nixosModules.default;\n}\n") == 2
