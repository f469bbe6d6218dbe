"""``migrate`` of a secret in an inline module: ``{ … }`` in a ``modules`` list of
``flake.nix`` (or of a flake-parts file calling ``nixosSystem``) and a colmena node.

The module is the inline one, not the file around it: the value goes to the sops file
of the host whose modules list holds it (only that host), the inline module becomes a
function of ``config`` (``({ config, ... }: { … })``, or ``config`` added to its
formals) and gets the declaration.  The rewritten host evaluates through the semantic
harness with each file owned by its reader.  Where that cannot be done safely (the
inline module reads a ``config`` of the code around it; the value is in the file that
defines the hosts but in none of their modules), migrate refuses with steps that
work there, not steps for the file as a module.  Real git, real age keys, the CLI,
real ``nix-instantiate``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from secretkit.plan.refusals import keys_of
from secretkit.sops import operations
from secretkit.sops.identities import load_identities
from tests.commands.test_cmd_migrate_wiring import secretkit
from tests.conftest import commit_all, git, need_tool
from tests.sops.keys_support import AgeKey, age_key
from tests.support import fake
from tests.support.harness import evaluate, problems

FLAKE = """{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";
  outputs = { self, nixpkgs, ... }: {
    nixosConfigurations.alpha = nixpkgs.lib.nixosSystem {
      modules = [
        ./hosts/alpha
        {
          services.grafana.enable = true;
          services.grafana.settings.security.admin_password = "@VALUE@";
        }
      ];
    };
    nixosConfigurations.beta = nixpkgs.lib.nixosSystem {
      modules = [ ./hosts/beta ];
    };
  };
}
"""
HOST = '{ ... }:\n{\n  networking.hostName = "@HOST@";\n  services.openssh.enable = true;\n}\n'
# the flake's outputs called with stand-in inputs: the modules list of one host
FLAKE_MODULES = """{
  imports = ((import @REPO@/flake.nix).outputs {
    self = { };
    nixpkgs = { lib.nixosSystem = args: args; };
    sops-nix = { nixosModules.sops = { }; };
  }).nixosConfigurations.@HOST@.modules;
}
"""
HIVE = """{
  meta.nixpkgs = <nixpkgs>;

  web = { name, nodes, ... }: {
    networking.hostName = name;
    services.openssh.enable = true;
    services.grafana.settings.security.admin_password = "@WEB@";
  };

  db = { config, lib, ... }: {
    networking.hostName = "db";
    services.openssh.enable = true;
    services.syncthing.settings.gui.password = "@DB@";
  };
}
"""
# a colmena node as a NixOS module: colmena gives it `name` and `nodes`
HIVE_NODE = """{ config, lib, pkgs, ... }@args:
  (import @REPO@/hive.nix).@HOST@ (args // { name = "@HOST@"; nodes = { }; })
"""


def keyed_repo(
    root: Path, tmp_path: Path, hosts: tuple[str, ...]
) -> tuple[Path, dict[str, AgeKey]]:
    from secretkit.keys import sops_yaml_edits

    admin = age_key()
    key_file = admin.write(tmp_path / "admin.txt")
    sops_yaml_edits.init(root, admin.public, "alice")
    keys = {host: age_key() for host in hosts}
    for host, key in keys.items():
        sops_yaml_edits.add_host(root, host, key.public)
    return key_file, keys


def two_hosts(
    root: Path, tmp_path: Path, flake: str, beta: str = HOST.replace("@HOST@", "beta")
) -> tuple[Path, dict[str, AgeKey]]:
    """Hosts alpha and beta with keys in .sops.yaml, ``flake`` and their modules
    written (``beta``: beta's module)."""
    key_file, keys = keyed_repo(root, tmp_path, ("alpha", "beta"))
    files = {"flake.nix": flake, "hosts/alpha/default.nix": HOST.replace("@HOST@", "alpha")}
    write(root, {**files, "hosts/beta/default.nix": beta})
    return key_file, keys


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def stored(root: Path, host: str, key: AgeKey) -> dict[str, str]:
    """What ``host``'s own key decrypts in its sops file."""
    identities = load_identities({"SOPS_AGE_KEY": key.secret})
    plain = operations.decrypt_bytes(
        (root / f"secrets/{host}.yaml").read_bytes(), "yaml", identities
    )
    return {"/".join(str(k) for k in keys): str(value) for keys, value in plain.leaves()}


def test_a_flake_inline_module_is_rewritten_for_its_host_only(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    root = tmp_git_repo
    value = fake.password("inline")
    key_file, keys = two_hosts(root, tmp_path, FLAKE.replace("@VALUE@", value))
    commit_all(root, "an inline module with a secret")
    # (nothing declared yet: the point says it checked nothing, not that all is readable)
    assert _points(root, key_file)["host-readable"] == (
        True,
        "no host reads a sops file: nothing to check",
    )

    proc = secretkit(root, key_file, "migrate", "--yes")
    assert proc.returncode == 0, proc.stderr
    flake = (root / "flake.nix").read_text()
    assert value not in flake
    assert "        ({ config, ... }: {\n          services.grafana.enable = true;\n" in flake
    assert (
        "          services.grafana.settings.security.admin_password = "
        '"$__file{${config.sops.secrets."grafana/security/admin_password".path}}";\n'
    ) in flake
    assert '          sops.secrets."grafana/security/admin_password" = {\n' in flake
    assert "            sopsFile = ./secrets/alpha.yaml;\n" in flake
    assert "        })\n" in flake
    assert stored(root, "alpha", keys["alpha"]) == {"grafana/security/admin_password": value}
    assert not (root / "secrets/beta.yaml").exists()  # beta never had the value

    need_tool("nix-instantiate")
    for host, secrets in (("alpha", {"grafana/security/admin_password"}), ("beta", set())):
        wrapper = tmp_path / f"{host}.nix"
        wrapper.write_text(FLAKE_MODULES.replace("@REPO@", str(root)).replace("@HOST@", host))
        facts = evaluate(root, [str(wrapper)], host, tmp_path / f"eval-{host}")
        assert set(facts["secrets"]) == secrets
        assert problems(host, facts, job_users=set()) == []
    # the gate reads the declaration in the inline module as declared, for alpha
    points = _points(root, key_file)
    assert points["plaintext-tree"][0] is True
    assert points["nix-secret-refs"] == (
        True,
        "1 declared secret(s) (1 host/file pair(s)), 1 reference(s), all resolve",
    )
    assert points["host-readable"] == (
        True,
        "the key .sops.yaml names for each host is named a recipient of every sops file it "
        "uses (1 host/file pair(s); a key block relabelled by hand: sops-recipients)",
    )


def _points(root: Path, key_file: Path) -> dict[str, tuple[bool, str]]:
    import json

    if git(root, "status", "--porcelain").strip():
        commit_all(root, "migrated")
    proc = secretkit(root, key_file, "check", "--format", "json")
    return {c["id"]: (c["ok"], c["message"]) for c in json.loads(proc.stdout)["checks"]}


def test_colmena_nodes_get_config_and_evaluate(tmp_git_repo: Path, tmp_path: Path) -> None:
    root = tmp_git_repo
    key_file, keys = keyed_repo(root, tmp_path, ("db", "web"))
    web, db = fake.password("web"), fake.password("db")
    write(root, {"hive.nix": HIVE.replace("@WEB@", web).replace("@DB@", db)})
    commit_all(root, "a hive with two nodes")

    proc = secretkit(root, key_file, "migrate", "--yes")
    # (non-flake colmena: sops-nix's module is added to the nodes by hand first)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "to colmena's defaults.imports by hand" in proc.stderr
    hive = HIVE.replace("@WEB@", web).replace("@DB@", db)
    hive = hive.replace(
        "  meta.nixpkgs = <nixpkgs>;\n",
        '  meta.nixpkgs = <nixpkgs>;\n\n  defaults.imports = [ "${<sops-nix>}/modules/sops" ];\n',
    )
    write(root, {"hive.nix": hive})
    commit_all(root, "sops-nix for every node")
    proc = secretkit(root, key_file, "migrate", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (root / "hive.nix").read_text()
    assert "  web = { config, name, nodes, ... }: {\n" in text
    assert "  db = { config, lib, ... }: {\n" in text  # (it had config already)
    assert web not in text and db not in text
    assert stored(root, "web", keys["web"]) == {"grafana/security/admin_password": web}
    assert stored(root, "db", keys["db"]) == {"syncthing/gui/password": db}

    points = _points(root, key_file)
    assert points["nix-secret-refs"] == (
        True,
        "2 declared secret(s) (2 host/file pair(s)), 2 reference(s), all resolve",
    )
    need_tool("nix-instantiate")
    for host in ("web", "db"):
        node = tmp_path / f"{host}.nix"
        node.write_text(HIVE_NODE.replace("@REPO@", str(root)).replace("@HOST@", host))
        # (the harness has no <sops-nix>: the node without the hive's defaults)
        facts = evaluate(root, [str(node)], host, tmp_path / f"eval-{host}")
        assert len(facts["secrets"]) == 1
        assert problems(host, facts, job_users=set()) == []


def test_an_inline_module_reading_an_outer_config_is_refused_with_steps_there(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    """``config`` bound around the inline module (a flake-parts module's own, a ``let``):
    a function of the NixOS config would hide it, so nothing is written and the steps
    name the inline module, not flake.nix as a module."""
    root = tmp_git_repo
    key_file, keys = keyed_repo(root, tmp_path, ("alpha",))
    value = fake.password("outer")
    flake = FLAKE.replace("@VALUE@", value).replace(
        "  outputs = { self, nixpkgs, ... }: {\n",
        '  outputs = { self, nixpkgs, ... }: let config = { domain = "example.org"; }; in {\n',
    )
    flake = flake.replace(
        "          services.grafana.enable = true;\n",
        "          services.grafana.enable = true;\n"
        "          services.grafana.settings.server.domain = config.domain;\n",
    )
    write(root, {"flake.nix": flake, "hosts/alpha/default.nix": HOST.replace("@HOST@", "alpha")})
    commit_all(root, "an inline module using an outer config")

    proc = secretkit(root, key_file, "migrate", "--yes")
    assert proc.returncode == 0, proc.stderr
    shown = proc.stdout + proc.stderr
    assert (
        "flake.nix:10: cannot migrate safely: the inline module reads a `config` of the code"
        in (shown)
    )
    assert (root / "flake.nix").read_text() == flake
    shown = secretkit(root, key_file, "migrate", "--dry-run")
    dry = shown.stdout + shown.stderr
    steps = [line.removeprefix("  by hand: ") for line in dry.splitlines() if "by hand: " in line]
    assert "add config to the arguments of flake.nix" not in dry
    assert "in flake.nix add:" not in dry
    assert "in the module on line 7" not in dry  # (it cannot read the NixOS config)
    name = "grafana/security/admin_password"
    assert steps[:5] == [
        f"secretkit set secrets/alpha.yaml '{keys_of(name)}'  (type or pipe the value on stdin)",
        "the module on line 7 of flake.nix cannot read the NixOS config: the inline module "
        "reads a `config` of the code around it (a function of the NixOS config would hide "
        "that one); move the definition on line 10 of flake.nix into hosts/alpha/default.nix "
        "(a module of alpha only) and do the steps below there",
        "add config to the arguments of hosts/alpha/default.nix ({ config, ... }:)",
        f'in hosts/alpha/default.nix add: sops.secrets."{name}" = '
        '{ sopsFile = ../../secrets/alpha.yaml; owner = "grafana"; };',
        'and replace the literal moved from line 10 of flake.nix by the route "$__file{…}" '
        f'(owner grafana), using config.sops.secrets."{name}".path',
    ], dry

    # check and the hook say the same: not "declare it and point the option" in flake.nix
    import json

    report = json.loads(secretkit(root, key_file, "check", "--format", "json").stdout)
    (tree,) = [c for c in report["checks"] if c["id"] == "plaintext-tree" and not c["ok"]]
    assert (
        "in hosts/alpha/default.nix, not in flake.nix (move the option's definition "
        in (tree["fix"])
    ), tree["fix"]
    hook = secretkit(root, key_file, "hook", "--strict", "--", "flake.nix")
    fixes = [line for line in hook.stdout.splitlines() if line.strip().startswith("fix:")]
    assert fixes and all("in hosts/alpha/default.nix, not in flake.nix" in f for f in fixes), (
        hook.stdout + hook.stderr
    )

    # the steps, done as written, give a host that reads its secret
    proc = secretkit(root, key_file, "set", "secrets/alpha.yaml", keys_of(name), stdin=value)
    assert proc.returncode == 0, proc.stderr
    line = f'          services.grafana.settings.security.admin_password = "{value}";\n'
    assert flake.splitlines(keepends=True)[9] == line
    declaration = steps[3].partition(" add: ")[2]
    reference = f'"$__file{{${{config.sops.secrets."{name}".path}}}}"'
    # the reference written in the inline module instead (its config is the let's): check
    # fails the point, where it said "all resolve" and the host did not evaluate
    wrong = flake.replace(
        line,
        f"          services.grafana.settings.security.admin_password = {reference};\n"
        f'          sops.secrets."{name}".sopsFile = ./secrets/alpha.yaml;\n',
    )
    write(root, {"flake.nix": wrong})
    report = json.loads(secretkit(root, key_file, "check", "--format", "json").stdout)
    refs = [c for c in report["checks"] if c["id"] == "nix-secret-refs"]
    assert (
        (
            False,
            f'flake.nix:10: config.sops.secrets."{name}" is in an inline module whose config '
            "is not the NixOS config (a config bound around it, or none): the host does not "
            "evaluate",
            "move the definition that uses it into hosts/alpha/default.nix (a module of alpha "
            "only, with config among its arguments)",
        )
    ) in [(c["ok"], c["message"], c["fix"]) for c in refs], refs
    write(
        root,
        {
            "flake.nix": flake.replace(line, ""),
            "hosts/alpha/default.nix": HOST.replace("@HOST@", "alpha")
            .replace("{ ... }:", "{ config, ... }:")
            .replace(
                "  services.openssh.enable = true;\n",
                "  services.openssh.enable = true;\n"
                f"  services.grafana.settings.security.admin_password = {reference};\n"
                f"  {declaration}\n",
            ),
        },
    )
    assert stored(root, "alpha", keys["alpha"]) == {name: value}
    points = _points(root, key_file)
    assert points["plaintext-tree"][0] is True
    assert points["nix-secret-refs"] == (
        True,
        "1 declared secret(s) (1 host/file pair(s)), 1 reference(s), all resolve",
    )
    assert points["host-readable"][0] is True
    need_tool("nix-instantiate")
    wrapper = tmp_path / "alpha.nix"
    wrapper.write_text(FLAKE_MODULES.replace("@REPO@", str(root)).replace("@HOST@", "alpha"))
    facts = evaluate(root, [str(wrapper)], "alpha", tmp_path / "eval-alpha")
    assert set(facts["secrets"]) == {name}
    assert problems("alpha", facts, job_users=set()) == []


def test_a_value_outside_the_hosts_modules_is_refused_with_a_route_that_works(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    """A value in flake.nix's ``specialArgs`` is in no module: no option there reads a
    file, so migrate does not offer to declare a secret in flake.nix."""
    root = tmp_git_repo
    key_file, _keys = keyed_repo(root, tmp_path, ("beta",))
    value = fake.password("special")
    flake = FLAKE.replace(
        "      modules = [ ./hosts/beta ];\n",
        f'      specialArgs = {{ grafanaPassword = "{value}"; }};\n'
        "      modules = [ ./hosts/beta ];\n",
    )
    flake = flake.replace('"@VALUE@"', "null")
    write(root, {"flake.nix": flake, "hosts/beta/default.nix": HOST.replace("@HOST@", "beta")})
    commit_all(root, "a value passed to modules")

    dry = secretkit(root, key_file, "migrate", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    shown = dry.stdout + dry.stderr
    assert (
        "flake.nix:14: cannot migrate safely: secretkit finds it in none of the hosts' "
        "modules in flake.nix, the file that defines them" in shown
    )
    assert "  by hand: move the value into a module file of the host that uses it" in shown
    assert "to the arguments of flake.nix" not in shown
    assert value not in dry.stdout + dry.stderr


def test_the_hook_sends_an_inline_secret_to_migrate(tmp_git_repo: Path, tmp_path: Path) -> None:
    root = tmp_git_repo
    key_file, _keys = keyed_repo(root, tmp_path, ("alpha", "beta"))
    write(
        root,
        {
            "flake.nix": FLAKE.replace("@VALUE@", "x"),
            "hosts/alpha/default.nix": HOST.replace("@HOST@", "alpha"),
            "hosts/beta/default.nix": HOST.replace("@HOST@", "beta"),
        },
    )
    commit_all(root, "no secret yet")
    write(root, {"flake.nix": FLAKE.replace("@VALUE@", fake.password("hook"))})
    subprocess.run(["git", "-C", str(root), "add", "flake.nix"], check=True)
    proc = secretkit(root, key_file, "hook")
    assert proc.returncode == 1
    assert "fix: run `secretkit migrate` to move it into a sops file" in proc.stdout + proc.stderr


@pytest.mark.parametrize("offset_of", ["grafana.enable", "hosts/alpha"])
def test_inline_at_is_the_innermost_inline_module(tmp_git_repo: Path, offset_of: str) -> None:
    from secretkit.nix.hosts import discover

    root = tmp_git_repo
    write(
        root,
        {
            "flake.nix": FLAKE.replace("@VALUE@", "x"),
            "hosts/alpha/default.nix": HOST.replace("@HOST@", "alpha"),
            "hosts/beta/default.nix": HOST.replace("@HOST@", "beta"),
        },
    )
    inventory = discover(root)
    source = (root / "flake.nix").read_bytes()
    at = source.index(offset_of.encode())
    span = inventory.inline_at("flake.nix", at)
    if offset_of == "hosts/alpha":  # the modules list itself: no inline module
        assert span is None
        assert inventory.hosts_at("flake.nix", at) == set()
    else:
        assert span is not None
        assert source[span[0] : span[1]].startswith(b"{\n          services.grafana.enable")
        assert inventory.hosts_at("flake.nix", at) == {"alpha"}


SHARED = """{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";
  outputs = { self, nixpkgs, ... }:
    let
      common = {
        services.grafana.enable = true;
        services.grafana.settings.security.admin_password = "@VALUE@";
      };
    in {
      nixosConfigurations.alpha = nixpkgs.lib.nixosSystem { modules = [ ./hosts/alpha common ]; };
      nixosConfigurations.beta = nixpkgs.lib.nixosSystem { modules = [ ./hosts/beta common ]; };
    };
}
"""
NAMELESS = "{ ... }:\n{\n  services.openssh.enable = true;\n}\n"


def test_a_shared_inline_module_needs_each_host_named(tmp_git_repo: Path, tmp_path: Path) -> None:
    """The module both hosts use reads secrets/<networking.hostName>.yaml: a host that
    sets no hostName is called "nixos" by NixOS and would read secrets/nixos.yaml, so
    migrate stops before writing and says how to name it; named, both files get the
    value and the gate resolves each host's file.  Then a host that loses its name
    again fails the gate with the same way out."""
    root = tmp_git_repo
    value = fake.password("shared")
    key_file, keys = two_hosts(root, tmp_path, SHARED.replace("@VALUE@", value), NAMELESS)
    commit_all(root, "a module shared by two hosts, one unnamed")
    before = (root / "flake.nix").read_text()

    proc = secretkit(root, key_file, "migrate", "--yes")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert (
        'host beta sets no networking.hostName, so NixOS names it "nixos" and the secrets of '
        "modules it shares with other hosts would be read from secrets/nixos.yaml instead of "
        "secrets/beta.yaml"
    ) in proc.stderr
    assert 'set networking.hostName = "beta"; in a module of beta' in proc.stderr
    assert (root / "flake.nix").read_text() == before
    assert not (root / "secrets").exists()

    write(root, {"hosts/beta/default.nix": HOST.replace("@HOST@", "beta")})
    commit_all(root, "beta named")
    proc = secretkit(root, key_file, "migrate", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'sopsFile = ./secrets + "/${config.networking.hostName}.yaml";' in (
        (root / "flake.nix").read_text()
    )
    for host in ("alpha", "beta"):
        assert stored(root, host, keys[host]) == {"grafana/security/admin_password": value}
    points = _points(root, key_file)
    assert points["nix-secret-refs"] == (
        True,
        "1 declared secret(s) (2 host/file pair(s)), 1 reference(s), all resolve",
    )

    write(root, {"hosts/beta/default.nix": NAMELESS})
    points = _points(root, key_file)
    assert points["nix-secret-refs"][0] is False
    assert (
        'cannot verify: flake.nix: sops.secrets."grafana/security/admin_password" for host '
        'beta: host beta sets no networking.hostName, so NixOS names it "nixos"'
    ) in points["nix-secret-refs"][1]


IMPORTS = """{ config, lib, ... }:
{
  networking.hostName = "alpha";
  services.openssh.enable = true;
  imports = [
    {
      services.grafana.enable = true;
      services.grafana.settings.security.admin_password = "@GRAFANA@";
    }
    {
      services.syncthing.enable = true;
      services.syncthing.settings.gui.user = config.networking.hostName;
      services.syncthing.settings.gui.password = "@SYNCTHING@";
    }
  ];
}
"""


def test_inline_modules_in_a_modules_imports_use_its_config(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    """`imports = [ { … } ]` in a host's own module: the file's `config` is the NixOS
    config, so the inline modules are rewritten in place, with no function of their own
    (the second even reads config itself), and the host evaluates."""
    root = tmp_git_repo
    key_file, keys = keyed_repo(root, tmp_path, ("alpha",))
    grafana, syncthing = fake.password("imp-g"), fake.password("imp-s")
    write(
        root,
        {
            # (syncthing's guiPasswordFile is known to be NixOS 26.05's)
            "flake.nix": FLAKE.replace("@VALUE@", "x")
            .replace("nixos-24.11", "nixos-26.05")
            .replace(
                "        {\n          services.grafana.enable = true;\n"
                '          services.grafana.settings.security.admin_password = "x";\n'
                "        }\n",
                "",
            ),
            "hosts/alpha/default.nix": IMPORTS.replace("@GRAFANA@", grafana).replace(
                "@SYNCTHING@", syncthing
            ),
            "hosts/beta/default.nix": HOST.replace("@HOST@", "beta"),
        },
    )
    commit_all(root, "inline modules in a host's imports")
    proc = secretkit(root, key_file, "migrate", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    module = (root / "hosts/alpha/default.nix").read_text()
    assert grafana not in module and syncthing not in module
    assert "({ config" not in module  # (no function of their own)
    assert (
        "      services.syncthing.guiPasswordFile = "
        'config.sops.secrets."syncthing/gui/password".path;\n'
    ) in module
    assert stored(root, "alpha", keys["alpha"]) == {
        "grafana/security/admin_password": grafana,
        "syncthing/gui/password": syncthing,
    }
    points = _points(root, key_file)
    assert points["nix-secret-refs"] == (
        True,
        "2 declared secret(s) (2 host/file pair(s)), 2 reference(s), all resolve",
    )
    need_tool("nix-instantiate")
    facts = evaluate(root, ["hosts/alpha/default.nix"], "alpha", tmp_path / "eval")
    assert set(facts["secrets"]) == {"grafana/security/admin_password", "syncthing/gui/password"}
    assert problems("alpha", facts, job_users=set()) == []


def test_after_a_run_the_lines_its_steps_name_are_given_anew(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    """A refused finding below a module the run rewrote: its steps name the lines as
    they were (what the dry run and the question show), and the run then says where
    they are now, so the steps work in the rewritten file."""
    root = tmp_git_repo
    key_file, _keys = keyed_repo(root, tmp_path, ("alpha", "beta"))
    kept = fake.password("kept")
    flake = FLAKE.replace("@VALUE@", fake.password("moved")).replace(
        "  outputs = { self, nixpkgs, ... }: {\n",
        '  outputs = { self, nixpkgs, ... }: let config = { domain = "lan"; }; in {\n',
    )
    flake = flake.replace(
        "      modules = [ ./hosts/beta ];\n",
        "      modules = [\n        ./hosts/beta\n        {\n"
        "          services.grafana.settings.server.domain = config.domain;\n"
        f'          services.grafana.settings.security.admin_password = "{kept}";\n'
        "        }\n      ];\n",
    )
    write(
        root,
        {
            "flake.nix": flake,
            "hosts/alpha/default.nix": HOST.replace("@HOST@", "alpha"),
            "hosts/beta/default.nix": HOST.replace("@HOST@", "beta"),
        },
    )
    commit_all(root, "two inline modules, the second reads an outer config")
    old_line = next(i for i, t in enumerate(flake.split("\n"), 1) if kept in t)
    proc = secretkit(root, key_file, "migrate", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"flake.nix:{old_line}: cannot migrate safely" in proc.stderr
    new = (root / "flake.nix").read_text().split("\n")
    new_line = next(i for i, t in enumerate(new, 1) if kept in t)
    assert new_line > old_line  # (the module above it grew)
    assert (
        "the steps above name lines as they were; this run moved them: "
        f"flake.nix line {old_line} is now {new_line}"
    ) in proc.stderr
    assert kept not in proc.stdout + proc.stderr
