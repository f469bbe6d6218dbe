"""What `secretkit check` reads from Nix without evaluating it: `sops.secrets`
declarations (name, sopsFile, key, format), `sops.defaultSopsFile`, and the
`config.sops.secrets."<name>"` / `config.sops.placeholder."<name>"` references."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.gate.context import CheckContext
from secretkit.gate.model import CheckResult
from secretkit.gate.nix_checks import check_nix_refs
from secretkit.gate.sops_verify import SopsJudge
from tests.conftest import git

CASES: dict[str, tuple[str, dict[str, tuple[str | None, str | None, str | None]], set[str]]] = {
    # name: (source of hosts/h/mod.nix, {declared: (sopsFile, key, format)}, referenced)
    "nested attrset with options": (
        '{ sops.secrets."a/b" = { sopsFile = ./s.yaml; key = "k"; format = "yaml"; }; }',
        {"a/b": ("hosts/h/s.yaml", "k", "yaml")},
        set(),
    ),
    "secrets attrset": (
        '{ sops.secrets = { foo = { }; bar.owner = "x"; "baz/q".sopsFile = ../../x.json; }; }',
        {"foo": (None, None, None), "bar": (None, None, None), "baz/q": ("x.json", None, None)},
        set(),
    ),
    "sops attrset": (
        "{ sops = { secrets.baz = { }; defaultSopsFile = ../../secrets/h.yaml; }; }",
        {"baz": (None, None, None)},
        set(),
    ),
    "references": (
        '{ config, ... }: { x = config.sops.secrets."a/b".path; '
        'y = "${config.sops.secrets.c.path}"; z = config.sops.placeholder.d; '
        't = config.sops.templates."e".path; u = cfg.sops.secrets.f.path; }',
        {},
        {"a/b", "c", "d"},
    ),
    # the options every generated secret gets (dc-bond/nixos-configs): the names the
    # written-out lists give, not the options' names
    "generated with options": (
        '{ lib, ... }: { sops.secrets = lib.genAttrs [ "a" "b" ] (_: { neededForUsers = true; '
        'owner = "x"; }); sops = { secrets = lib.genAttrs [ "c" ] (n: { key = n; }); }; }',
        {"a": (None, None, None), "b": (None, None, None), "c": (None, "c", None)},
        set(),
    ),
    # a let of the file settles a computed name (truxnell/nix-config: 29 of 40
    # declarations are "${category}/${app}/env" with let-bound strings)
    "let-bound and computed": (
        '{ config, ... }: let n = "v"; cat = "services"; app = "${n}x"; in { '
        "sops.secrets.${n} = { }; w = config.sops.secrets.${n}.path; "
        'sops.secrets."${cat}/${app}/env".sopsFile = ./s.yaml; '
        'x = config.sops.secrets."${cat}/${app}/env".path; }',
        {"v": (None, None, None), "services/vx/env": ("hosts/h/s.yaml", None, None)},
        {"v", "services/vx/env"},
    ),
    # what no let settles: no name (the reference is kept aside, the declaration's file is)
    "computed from an argument": (
        '{ config, name, ... }: { sops.secrets."${name}/env".sopsFile = ./s.yaml; '
        'x = config.sops.secrets."${name}/env".path; }',
        {},
        set(),
    ),
}


def facts_of(tmp_git_repo: Path, source: str) -> CheckContext:
    mod = tmp_git_repo / "hosts" / "h" / "mod.nix"
    mod.parent.mkdir(parents=True)
    mod.write_text(source + "\n")
    git(tmp_git_repo, "add", "-A")
    return CheckContext(root=tmp_git_repo, judge=SopsJudge())


@pytest.mark.parametrize("case", list(CASES))
def test_declarations_and_references(tmp_git_repo: Path, case: str) -> None:
    source, declared, referenced = CASES[case]
    facts = facts_of(tmp_git_repo, source).nix()
    got = {d.name: (d.sops_file, d.key, d.fmt) for d in facts.declarations}
    assert got == declared
    assert {name for name, *_ in facts.references} == referenced
    assert all(file == "hosts/h/mod.nix" for _, file, *_ in facts.references)


def test_names_no_let_settles_are_kept_aside(tmp_git_repo: Path) -> None:
    facts = facts_of(tmp_git_repo, CASES["computed from an argument"][0]).nix()
    assert [(d.name, d.sops_file) for d in facts.computed_declarations] == [
        ("${name}/env", "hosts/h/s.yaml")
    ]
    assert [(f, line, text, host) for f, _, line, text, host in facts.opaque_references] == [
        ("hosts/h/mod.nix", 1, '"${name}/env"', None)
    ]


def test_default_sops_file_is_resolved_per_file(tmp_git_repo: Path) -> None:
    facts = facts_of(tmp_git_repo, CASES["sops attrset"][0]).nix()
    assert facts.default_files == {"hosts/h/mod.nix": "secrets/h.yaml"}


def test_computed_declarations_make_references_unverifiable_not_undeclared(
    tmp_git_repo: Path,
) -> None:
    ctx = facts_of(
        tmp_git_repo,
        "{ config, lib, ... }: { sops.secrets = lib.mapAttrs (n: _: { }) (builtins.readDir ./s); "
        "x = config.sops.secrets.a.path; }",
    )
    (result,) = check_nix_refs(ctx)
    assert not result.ok
    assert result.message.startswith('cannot verify: hosts/h/mod.nix:1: config.sops.secrets."a"')


def test_an_undeclared_reference_fails_with_its_line(tmp_git_repo: Path) -> None:
    ctx = facts_of(tmp_git_repo, "{ config, ... }:\n{\n  x = config.sops.secrets.nope.path;\n}")
    (result,) = check_nix_refs(ctx)
    assert not result.ok
    assert result.message.startswith('hosts/h/mod.nix:3: config.sops.secrets."nope"')
    # no host imports it: the path is relative to the module, with the host left open
    assert "sopsFile = ../../secrets/<host>.yaml;" in result.fix


@pytest.mark.parametrize(
    ("module", "expected"),
    [("configuration.nix", "./secrets/box.yaml"), ("hosts/box/x.nix", "../../secrets/box.yaml")],
)
def test_the_declaration_a_fix_suggests_names_the_hosts_file_relative_to_the_module(
    tmp_git_repo: Path, module: str, expected: str
) -> None:
    """``../secrets/<host>.yaml`` from a file at the top of the repository points outside
    it; the fix names the file of the host importing the module, from where it is."""
    (tmp_git_repo / "flake.nix").write_text(
        "{ outputs = { nixpkgs, ... }: { nixosConfigurations.box = nixpkgs.lib.nixosSystem"
        f" {{ modules = [ ./{module} ]; }}; }}; }}\n"
    )
    target = tmp_git_repo / module
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("{ config, ... }: { x = config.sops.secrets.nope.path; }\n")
    git(tmp_git_repo, "add", "-A")
    (result,) = check_nix_refs(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    assert f'sops.secrets."nope" = {{ sopsFile = {expected}; owner = "<the user x' in result.fix


def test_the_declaration_a_fix_suggests_asks_for_the_reader_of_its_option(
    tmp_git_repo: Path,
) -> None:
    """synapse reads extraConfigFiles as matrix-synapse: a declaration without an
    owner leaves the file root's alone (the fix said only sopsFile)."""
    ctx = facts_of(
        tmp_git_repo,
        "{ config, ... }:\n{\n  services.matrix-synapse.extraConfigFiles = [\n"
        "    config.sops.secrets.synapse-extra.path\n  ];\n}",
    )
    (result,) = check_nix_refs(ctx)
    assert (
        'owner = "<the user services.matrix-synapse.extraConfigFiles is read as>"; }; (leave '
        "owner out only if root reads it" in result.fix
    )
    assert "migrate writes" not in result.fix


def test_the_declaration_a_fix_suggests_names_a_reader_the_catalogue_knows(
    tmp_git_repo: Path,
) -> None:
    """ACME's environmentFile is read by systemd (EnvironmentFile): the fix asked for
    "<the user … is read as>" where the answer is known (a stranger's nit)."""
    ctx = facts_of(
        tmp_git_repo,
        "{ config, ... }:\n{\n  security.acme.certs.lan.environmentFile =\n"
        "    config.sops.secrets.acme-env.path;\n}",
    )
    (result,) = check_nix_refs(ctx)
    assert "is read as>" not in result.fix
    assert "; }; (no owner: systemd reads it, as root)" in result.fix


def test_a_sops_file_of_a_home_manager_module_is_a_warning_not_the_hosts_failure(
    tmp_git_repo: Path,
) -> None:
    """sops-nix's home-manager module opens its file with the user's age key: 'host
    box cannot read home/secrets.yaml' with 'add *box to the rule' fixed nothing."""
    from secretkit.gate.host_readable import check_host_readable

    files = {
        "flake.nix": (
            "{ outputs = { nixpkgs, ... }: { nixosConfigurations.box = "
            "nixpkgs.lib.nixosSystem { modules = [ ./box.nix ]; }; }; }\n"
        ),
        "box.nix": "{ ... }: { home-manager.users.me = import ./home/me.nix; }\n",
        "home/me.nix": (
            "{ config, ... }: { sops.secrets.token = { sopsFile = ./secrets.yaml; }; "
            "x = config.sops.secrets.token.path; }\n"
        ),
    }
    for name, text in files.items():
        path = tmp_git_repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(tmp_git_repo, "add", "-A")
    results = check_host_readable(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    assert all(r.ok for r in results), [r.message for r in results]
    (warning,) = [r for r in results if r.warning]
    assert warning.message.startswith("warning: home/secrets.yaml is read by a home-manager")
    # helper-122: the host's own NixOS module declaring from that file is the host's to
    # read (sops-install-secrets on box), and was passed once the home module had it
    (tmp_git_repo / "box.nix").write_text(
        "{ ... }: { home-manager.users.me = import ./home/me.nix; "
        "sops.secrets.api = { sopsFile = ./home/secrets.yaml; }; }\n"
    )
    (tmp_git_repo / "home" / "secrets.yaml").write_text("a: 1\n")
    git(tmp_git_repo, "add", "-A")
    results = check_host_readable(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    failed = [r.message for r in results if not r.ok]
    assert failed == [
        "host box uses home/secrets.yaml (in box.nix) but has no &host_box key in .sops.yaml"
    ]


def test_a_let_bound_sops_file_is_followed(tmp_git_repo: Path) -> None:
    ctx = facts_of(
        tmp_git_repo,
        "{ config, ... }:\nlet\n  defaultSopsFile = shared;\n  shared = ../../secrets/h.yaml;\n"
        "  apiFile = ./api.yaml;\nin {\n  sops.defaultSopsFile = defaultSopsFile;\n"
        "  sops.secrets.x = { };\n  sops.secrets.y.sopsFile = (apiFile);\n}",
    )
    facts = ctx.nix()
    assert facts.default_files == {"hosts/h/mod.nix": "secrets/h.yaml"}
    assert {d.name: d.sops_file for d in facts.declarations} == {"x": None, "y": "hosts/h/api.yaml"}


def test_an_unfollowable_default_sops_file_is_named_as_written(tmp_git_repo: Path) -> None:
    from secretkit.gate.secret_targets import cannot_verify, targets
    from secretkit.nix.hosts import discover

    ctx = facts_of(
        tmp_git_repo,
        "{ config, mySecrets, ... }: {\n  sops.defaultSopsFile = mySecrets;\n"
        "  sops.secrets.x = { };\n}",
    )
    (decl,) = ctx.nix().declarations
    (target,) = targets(ctx, decl, discover(tmp_git_repo))
    assert target.path is None
    assert target.why == "sops.defaultSopsFile = mySecrets needs evaluating Nix"
    result = cannot_verify("nix-secret-refs", decl, target)
    assert result.fix.startswith("write sops.defaultSopsFile as a relative path literal")
    # (the hostName form fails in a home-manager module: wimpysworld/nix-config)
    assert "a home-manager module has no networking.hostName" in result.fix


def test_a_host_with_its_own_sops_key_is_told_to_add_that_key(tmp_git_repo: Path) -> None:
    """A host whose sops-nix uses another key (sops.age.sshKeyPaths of a user's key):
    the fix named its ssh_host_ed25519_key.pub, which that host never uses."""
    from secretkit.gate.host_readable import check_host_readable

    files = {
        "flake.nix": (
            "{ outputs = { nixpkgs, ... }: { nixosConfigurations.box = "
            "nixpkgs.lib.nixosSystem { modules = [ ./box.nix ]; }; }; }\n"
        ),
        "box.nix": (
            '{ config, ... }: { sops.age.sshKeyPaths = [ "/home/me/.ssh/id_ed25519" ]; '
            "sops.secrets.token.sopsFile = ./secrets/box.yaml; "
            "x = config.sops.secrets.token.path; }\n"
        ),
    }
    for name, text in files.items():
        (tmp_git_repo / name).write_text(text)
    git(tmp_git_repo, "add", "-A")
    (problem,) = [
        r
        for r in check_host_readable(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
        if not r.ok
    ]
    assert "ssh_host_ed25519_key" not in problem.fix
    assert 'sops.age.sshKeyPaths = [ "/home/me/.ssh/id_ed25519" ] in box.nix' in problem.fix
    # hosts add refuses a key other hosts share (THERAAB/nix-homelab: one key for five
    # hosts): the fix says so, and what works then
    assert "a key other hosts share is refused" in problem.fix
    assert "give box a key of its own there first" in problem.fix


@pytest.mark.parametrize("flake", [True, False])
def test_an_untracked_sops_file_fails_only_where_a_flake_reads_the_git_tree(
    tmp_git_repo: Path, flake: bool
) -> None:
    """nixos-rebuild without a flake reads the work tree: an untracked sops file is
    there; a flake sees only what git tracks."""
    import pyrage

    from secretkit.sops import document, operations
    from secretkit.sops.config import CreationRule, KeyRef

    recipient = str(pyrage.x25519.Identity.generate().to_public())
    rule = CreationRule(key_groups=[[KeyRef("age", recipient)]])
    (tmp_git_repo / "secrets").mkdir()
    (tmp_git_repo / "secrets" / "box.yaml").write_bytes(
        operations.encrypt_new(document.new_plain("yaml", {"token": "x"}), rule)
    )
    (tmp_git_repo / "configuration.nix").write_text(
        '{ config, ... }: { networking.hostName = "box"; '
        "sops.secrets.token.sopsFile = ./secrets/box.yaml; x = config.sops.secrets.token.path; }\n"
    )
    if flake:
        (tmp_git_repo / "flake.nix").write_text(
            "{ outputs = { nixpkgs, ... }: { nixosConfigurations.box = "
            "nixpkgs.lib.nixosSystem { modules = [ ./configuration.nix ]; }; }; }\n"
        )
    git(tmp_git_repo, "add", "*.nix")  # the sops file stays untracked
    results = check_nix_refs(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    untracked = [r for r in results if "git does not track yet" in r.message]
    assert bool(untracked) == flake


def _sops_module_check(repo: Path) -> CheckResult:
    """``sops-nix-module`` for ``repo`` with box.nix declaring and reading a sops
    secret (all staged, as check reads what git tracks)."""
    from secretkit.gate.nix_checks import check_sops_module

    (repo / "box.nix").write_text(
        "{ config, ... }: { sops.secrets.x = { }; x = config.sops.secrets.x.path; }\n"
    )
    git(repo, "add", "-A")
    (result,) = check_sops_module(CheckContext(root=repo, judge=SopsJudge()))
    return result


def test_the_sops_module_fix_for_a_colmena_flake_names_the_outputs_argument(
    tmp_git_repo: Path,
) -> None:
    """bubylou/nixos-config's outputs take `inputs @ { nixpkgs, colmena, … }`: adding
    sops-nix.nixosModules.sops to defaults.imports alone is an undefined variable."""

    (tmp_git_repo / "flake.nix").write_text(
        "{\n  outputs = inputs @ { nixpkgs, colmena, ... }: {\n"
        "    colmenaHive = colmena.lib.makeHive {\n"
        "      meta.nixpkgs = import nixpkgs { };\n"
        "      box = { ... }: { imports = [ ./box.nix ]; };\n    };\n  };\n}\n"
    )
    result = _sops_module_check(tmp_git_repo)
    assert not result.ok
    assert "colmena's defaults.imports in flake.nix" in result.fix
    assert "sops-nix among the outputs arguments" in result.fix


def test_the_sops_module_fix_for_a_hive_without_a_flake_names_the_module_path(
    tmp_git_repo: Path,
) -> None:
    """hive.nix with npins sources: there is no flake input; the fix is the module's
    path (which host discovery then recognises)."""
    from secretkit.nix.wiring import NO_FLAKE_MODULE

    hive = (
        "let sources = import ./npins; in {\n  meta.nixpkgs = import sources.nixpkgs { };\n"
        "  defaults = { ... }: { imports = [ IMPORT ]; };\n"
        "  box = { ... }: { imports = [ ./box.nix ]; };\n}\n"
    )
    (tmp_git_repo / "hive.nix").write_text(hive.replace("IMPORT", ""))
    result = _sops_module_check(tmp_git_repo)
    assert not result.ok
    assert "colmena's defaults.imports in hive.nix" in result.fix
    assert NO_FLAKE_MODULE in result.fix and "nixosModules" not in result.fix
    (tmp_git_repo / "hive.nix").write_text(hive.replace("IMPORT", NO_FLAKE_MODULE))
    result = _sops_module_check(tmp_git_repo)
    assert result.ok, result.message


@pytest.mark.parametrize(
    ("output", "builder", "needed", "other"),
    [
        ("darwinConfigurations", "nix-darwin.lib.darwinSystem", "darwinModules", "nixosModules"),
        ("nixosConfigurations", "nixpkgs.lib.nixosSystem", "nixosModules", "darwinModules"),
    ],
)
def test_each_kind_of_host_needs_sops_nix_module_of_its_kind(
    tmp_git_repo: Path, output: str, builder: str, needed: str, other: str
) -> None:
    """A nix-darwin system with sops-nix's NixOS module does not evaluate (its options
    are NixOS's); check passed it, and its fix named nixosModules.sops for it."""
    flake = (
        "{\n  outputs = { nixpkgs, nix-darwin, sops-nix, ... }: {\n"
        f"    {output}.box = {builder} {{\n"
        "      modules = [ ./box.nix MODULE ];\n    };\n  };\n}\n"
    )
    (tmp_git_repo / "flake.nix").write_text(flake.replace("MODULE", f"sops-nix.{other}.sops"))
    result = _sops_module_check(tmp_git_repo)
    assert not result.ok
    assert f"add sops-nix.{needed}.sops to the modules list at flake.nix:4" in result.fix
    kind = "nix-darwin" if needed == "darwinModules" else "NixOS"
    assert f"does not import its {kind} module" in result.message
    (tmp_git_repo / "flake.nix").write_text(flake.replace("MODULE", f"sops-nix.{needed}.sops"))
    result = _sops_module_check(tmp_git_repo)
    assert result.ok, result.message


HM_FLAKE = """{
  outputs = { nixpkgs, home-manager, sops-nix, ... }: {
    nixosConfigurations.box = nixpkgs.lib.nixosSystem {
      modules = [
        ./box.nix
        home-manager.nixosModules.home-manager
        {
          @SHARED@
          home-manager.users.bob = import ./home/bob.nix;
        }
      ];
    };
  };
}
"""


@pytest.mark.parametrize("shared", [True, False])
def test_a_home_manager_module_using_sops_needs_sops_nix_home_manager_module(
    tmp_git_repo: Path, shared: bool
) -> None:
    """home/bob.nix declares sops.secrets: that is sops-nix's home-manager module's
    option.  Without homeManagerModules.sops check said "ok" (the host imported the
    NixOS one); with it and without the NixOS one it failed asking for the NixOS one."""
    from secretkit.gate.nix_checks import check_sops_module

    line = "home-manager.sharedModules = [ sops-nix.homeManagerModules.sops ];" if shared else ""
    (tmp_git_repo / "home").mkdir()
    (tmp_git_repo / "flake.nix").write_text(HM_FLAKE.replace("@SHARED@", line))
    (tmp_git_repo / "box.nix").write_text('{ ... }: { networking.hostName = "box"; }\n')
    (tmp_git_repo / "home" / "bob.nix").write_text(
        "{ config, ... }: { sops.secrets.tok = { }; x = config.sops.secrets.tok.path; }\n"
    )
    git(tmp_git_repo, "add", "-A")
    (result,) = check_sops_module(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    if shared:
        assert result.ok, result.message
        assert result.message == (
            "no host uses sops-nix in its NixOS modules; 1 host(s) using it in home-manager "
            "modules, each with homeManagerModules.sops"
        )
    else:
        assert not result.ok
        assert result.message == (
            "a home-manager module of host box uses sops-nix (home/bob.nix:1) but no "
            "home-manager configuration of it imports homeManagerModules.sops: sops.* is no "
            "option there, and the host does not evaluate"
        )
        assert result.fix.startswith("add sops-nix's homeManagerModules.sops to home-manager.")


def test_sops_secrets_no_host_is_found_to_import_cannot_be_said_readable(
    tmp_git_repo: Path,
) -> None:
    """sgrimee/nix-unified: discovery could not read how nixosConfigurations is built,
    so no host imported the module declaring sops secrets, and host-readable said "no
    host reads a sops file: nothing to check" (ok).  It cannot verify that."""
    from secretkit.gate.host_readable import check_host_readable

    (tmp_git_repo / "flake.nix").write_text(
        "{ outputs = { self, nixpkgs, ... }: {\n  nixosConfigurations = mkHosts ./hosts;\n}; }\n"
    )
    (tmp_git_repo / "secrets.nix").write_text(
        "{ config, ... }: { sops.secrets.x.sopsFile = ./secrets/a.yaml; }\n"
    )
    git(tmp_git_repo, "add", "-A")
    (failed,) = [
        r
        for r in check_host_readable(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
        if not r.ok
    ]
    assert failed.message.startswith(
        "cannot verify: 1 file(s) declare sops secrets (secrets.nix) but secretkit found no "
        "host configuration importing them: it could not follow flake.nix: line 2:"
    )
    assert "secretkit hosts list" in failed.fix


def test_the_git_add_fix_adds_untracked_creation_rules_too(tmp_git_repo: Path) -> None:
    """check said `git add secrets/nas.yaml secrets/web.yaml` where migrate said
    `git add .sops.yaml secrets/…`; done as check said, the rules stayed out of the
    repository while check passed.  The fix adds them with the sops files."""
    import pyrage

    from secretkit.sops import document, operations
    from secretkit.sops.config import CreationRule, KeyRef

    recipient = str(pyrage.x25519.Identity.generate().to_public())
    rule = CreationRule(key_groups=[[KeyRef("age", recipient)]])
    (tmp_git_repo / "secrets").mkdir()
    for host in ("nas", "web"):
        (tmp_git_repo / "secrets" / f"{host}.yaml").write_bytes(
            operations.encrypt_new(document.new_plain("yaml", {"token": "x"}), rule)
        )
        (tmp_git_repo / f"{host}.nix").write_text(
            f'{{ config, ... }}: {{ networking.hostName = "{host}"; sops.secrets.token.sopsFile '
            f"= ./secrets/{host}.yaml; x = config.sops.secrets.token.path; }}\n"
        )
    (tmp_git_repo / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: {recipient}\n"
    )
    (tmp_git_repo / "flake.nix").write_text(
        "{ outputs = { nixpkgs, ... }: { nixosConfigurations = {"
        " nas = nixpkgs.lib.nixosSystem { modules = [ ./nas.nix ]; };"
        " web = nixpkgs.lib.nixosSystem { modules = [ ./web.nix ]; }; }; }; }\n"
    )
    git(tmp_git_repo, "add", "*.nix")
    results = check_nix_refs(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    fixes = {r.group_fix for r in results if "git does not track yet" in r.message}
    assert fixes == {"git add secrets/nas.yaml secrets/web.yaml .sops.yaml"}
    git(tmp_git_repo, "add", ".sops.yaml")
    results = check_nix_refs(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    fixes = {r.group_fix for r in results if "git does not track yet" in r.message}
    assert fixes == {"git add secrets/nas.yaml secrets/web.yaml"}


def test_a_host_that_sets_a_sops_option_needs_the_module_too(tmp_git_repo: Path) -> None:
    """common.nix set sops.age.sshKeyPaths and a nix-darwin system imported it without
    sops-nix's darwin module: check said ok (it counted declarations and references
    only), and the darwin system would not evaluate."""
    from secretkit.gate.nix_checks import check_sops_module

    (tmp_git_repo / "flake.nix").write_text(
        "{ outputs = { nixpkgs, darwin, sops-nix, ... }: {\n"
        "  nixosConfigurations.web = nixpkgs.lib.nixosSystem {\n"
        "    modules = [ sops-nix.nixosModules.sops ./common.nix ]; };\n"
        "  darwinConfigurations.mac = darwin.lib.darwinSystem { modules = [ ./common.nix ]; };\n"
        "}; }\n"
    )
    (tmp_git_repo / "common.nix").write_text(
        '{ sops.age.sshKeyPaths = [ "/etc/ssh/ssh_host_ed25519_key" ]; }\n'
    )
    git(tmp_git_repo, "add", "-A")
    results = check_sops_module(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    failed = [r for r in results if not r.ok]
    assert len(failed) == 1 and failed[0].message.startswith(
        "host mac uses sops-nix (common.nix:1)"
    )
    assert "nix-darwin module" in failed[0].message


def test_a_host_reading_a_secret_only_another_host_declares_fails(tmp_git_repo: Path) -> None:
    """Host a read config.sops.secrets."smtp" that only b's module declares: "all
    resolve" and safe to publish, though a does not evaluate (attribute missing)."""
    (tmp_git_repo / "flake.nix").write_text(
        "{ outputs = { nixpkgs, sops-nix, ... }: { nixosConfigurations = {\n"
        "  a = nixpkgs.lib.nixosSystem { modules = [ sops-nix.nixosModules.sops ./a.nix ]; };\n"
        "  b = nixpkgs.lib.nixosSystem { modules = [ sops-nix.nixosModules.sops ./b.nix ]; };\n"
        "}; }; }\n"
    )
    (tmp_git_repo / "a.nix").write_text(
        '{ config, ... }: { networking.hostName = "a";\n'
        '  x.passwordFile = config.sops.secrets."smtp".path; }\n'
    )
    (tmp_git_repo / "b.nix").write_text(
        '{ config, ... }: { networking.hostName = "b";\n'
        '  sops.secrets."smtp" = { }; y.passwordFile = config.sops.secrets."smtp".path; }\n'
    )
    git(tmp_git_repo, "add", "-A")
    results = check_nix_refs(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    elsewhere = [r for r in results if "only other hosts' modules declare" in r.message]
    assert [r.message.split(": host ")[1][:41] for r in elsewhere] == [
        'a reads config.sops.secrets."smtp", which'
    ]
    assert elsewhere[0].message.startswith("a.nix:2:")


def test_a_file_of_the_flakes_inputs_naming_sops_nix_without_the_input_fails(
    tmp_git_repo: Path,
) -> None:
    """BonusPlay/sysconf's layout (nixosConfigurations = import ./machines inputs;
    machines/default.nix takes { nixpkgs, sops-nix, ... }@inputs): after an agenix
    import the file named sops-nix.nixosModules.sops with no such input, and check said
    "each imports its NixOS module … safe to publish"."""
    from secretkit.gate.nix_checks import check_sops_module

    (tmp_git_repo / "flake.nix").write_text(
        '{ inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";\n'
        "  outputs = inputs: { nixosConfigurations = import ./machines inputs; }; }\n"
    )
    (tmp_git_repo / "machines").mkdir()
    (tmp_git_repo / "machines" / "default.nix").write_text(
        "{ nixpkgs, sops-nix, ... }@inputs: {\n  web = nixpkgs.lib.nixosSystem { modules = "
        "[ ./web.nix sops-nix.nixosModules.sops ]; };\n}\n"
    )
    (tmp_git_repo / "machines" / "web.nix").write_text(
        "{ config, ... }: { sops.secrets.x = { }; y.file = config.sops.secrets.x.path; }\n"
    )
    git(tmp_git_repo, "add", "-A")
    failed = [
        r for r in check_sops_module(CheckContext(root=tmp_git_repo, judge=SopsJudge())) if not r.ok
    ]
    assert [r.message.split(":")[0] for r in failed] == [
        "machines/default.nix names the sops-nix input, but flake.nix declares no sops-nix input"
    ]
    # a file that binds the name itself (fetchTarball) names no input
    (tmp_git_repo / "machines" / "default.nix").write_text(
        'let sops-nix = import (builtins.fetchTarball "https://x.invalid/s.tar.gz"); in\n'
        "{ nixpkgs, ... }@inputs: {\n  web = nixpkgs.lib.nixosSystem { modules = "
        "[ ./web.nix sops-nix.nixosModules.sops ]; };\n}\n"
    )
    git(tmp_git_repo, "add", "-A")
    results = check_sops_module(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    assert not [r for r in results if "declares no sops-nix input" in r.message]


def test_a_flake_naming_inputs_sops_nix_without_the_input_fails(tmp_git_repo: Path) -> None:
    """After an agenix import whose module was `inputs.agenix.nixosModules.default`,
    flake.nix named inputs.sops-nix.nixosModules.sops but had no sops-nix input: the
    flake would not evaluate, and check said "each imports its NixOS module"."""
    from secretkit.gate.nix_checks import check_sops_module

    flake = (
        '{ inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";\n'
        "  outputs = inputs@{ self, nixpkgs, ... }: { nixosConfigurations.web ="
        " nixpkgs.lib.nixosSystem { modules = [ inputs.sops-nix.nixosModules.sops ./web.nix ]; };"
        " }; }\n"
    )
    (tmp_git_repo / "flake.nix").write_text(flake)
    (tmp_git_repo / "web.nix").write_text(
        "{ config, ... }: { sops.secrets.x = { }; y.file = config.sops.secrets.x.path; }\n"
    )
    git(tmp_git_repo, "add", "-A")
    (failed,) = [
        r for r in check_sops_module(CheckContext(root=tmp_git_repo, judge=SopsJudge())) if not r.ok
    ]
    assert failed.message.startswith("flake.nix names the sops-nix input, but flake.nix declares")
    # the wiring adds the input (migrate and import run it on the code they write)
    from secretkit.nix import cst, wiring
    from secretkit.nix.hosts import discover

    sources = {"flake.nix": flake.encode(), "web.nix": (tmp_git_repo / "web.nix").read_bytes()}
    plan = wiring.plan_wiring(sources, discover(tmp_git_repo), cst.parse, release="24.11")
    from secretkit.nix.edits import apply_edits

    wired = apply_edits(sources["flake.nix"], plan.edits["flake.nix"]).decode()
    # (pinned for 24.11, as migrate writes it: an unpinned input with no flake.lock is
    # master's newest at the first lock, which 24.11 cannot build)
    assert (
        'sops-nix.url = "github:Mic92/sops-nix/3223c7a92724b5d804e9988c6b447a0d09017d48";' in wired
    )
    (tmp_git_repo / "flake.nix").write_text(wired)
    git(tmp_git_repo, "add", "-A")
    assert all(r.ok for r in check_sops_module(CheckContext(root=tmp_git_repo, judge=SopsJudge())))


@pytest.mark.parametrize(("key", "fails"), [('""', False), ('"weather"', True), (None, True)])
def test_key_empty_is_the_whole_file_not_a_key_of_it(
    tmp_git_repo: Path, key: str | None, fails: bool
) -> None:
    """sops-nix reads `key = "";` as the whole file: check said it "needs key weather"
    (the secret's name) and its fix would have added a junk key to the file."""
    import pyrage

    from secretkit.sops import document, operations
    from secretkit.sops.config import CreationRule, KeyRef

    recipient = str(pyrage.x25519.Identity.generate().to_public())
    rule = CreationRule(key_groups=[[KeyRef("age", recipient)]])
    (tmp_git_repo / "files").mkdir()
    (tmp_git_repo / "files" / "weather.json").write_bytes(
        operations.encrypt_new(document.new_plain("json", {"api": {"token": "x"}}), rule)
    )
    told = f" key = {key};" if key is not None else ""
    (tmp_git_repo / "configuration.nix").write_text(
        "{ config, ... }: { sops.secrets.weather = { sopsFile = ./files/weather.json; "
        f'format = "json";{told} }}; x = config.sops.secrets.weather.path; }}\n'
    )
    git(tmp_git_repo, "add", "-A")
    results = check_nix_refs(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    needs = [r for r in results if "needs key" in r.message]
    assert bool(needs) == fails, [r.message for r in results]


def test_a_module_nix_refuses_to_parse_fails_with_the_merge_that_fixes_it(
    tmp_git_repo: Path,
) -> None:
    # what migrate wrote before 15dde1e: our parser read it and said "all resolve"
    source = (
        '{ config, lib, ... }:\nlet h = { ProtectSystem = "strict"; }; in\n{\n'
        '  sops.templates."up.env".content = "T=${config.sops.placeholder.t}";\n'
        "  sops.secrets.t = { };\n"
        "  systemd.services.up = {\n    serviceConfig = h;\n"
        '    serviceConfig.EnvironmentFile = [ config.sops.templates."up.env".path ];\n'
        "  };\n}\n"
    )
    failed = [r for r in check_nix_refs(facts_of(tmp_git_repo, source)) if not r.ok]
    twice = [r for r in failed if "twice" in r.message]
    assert [r.message for r in twice] == [
        "hosts/h/mod.nix:8 gives serviceConfig.EnvironmentFile twice, which Nix refuses to "
        "parse: no host importing the file builds"
    ]
    assert "serviceConfig = lib.mkMerge [ <the value> { EnvironmentFile = …; } ];" in twice[0].fix
    # the fix, done: the point has nothing more to say about the file
    fixed = source.replace(
        "serviceConfig = h;\n    serviceConfig.EnvironmentFile = [",
        "serviceConfig = lib.mkMerge [ h { EnvironmentFile = [",
    ).replace(".path ];\n  };", ".path ]; } ];\n  };")
    assert "serviceConfig = lib.mkMerge [ h { EnvironmentFile = [" in fixed
    (tmp_git_repo / "hosts/h/mod.nix").write_text(fixed)
    again = check_nix_refs(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    assert not [r for r in again if "twice" in r.message]


def _two_hosts(repo: Path, a: str, b: str) -> list[CheckResult]:
    (repo / "flake.nix").write_text(
        "{ outputs = { nixpkgs, sops-nix, ... }: { nixosConfigurations = {\n"
        "  a = nixpkgs.lib.nixosSystem { modules = [ sops-nix.nixosModules.sops ./a.nix ]; };\n"
        "  b = nixpkgs.lib.nixosSystem { modules = [ sops-nix.nixosModules.sops ./b.nix ]; };\n"
        "}; }; }\n"
    )
    (repo / "a.nix").write_text(a)
    (repo / "b.nix").write_text(b)
    git(repo, "add", "-A")
    return check_nix_refs(CheckContext(root=repo, judge=SopsJudge()))


def test_a_computed_declaration_leaves_other_hosts_references_checked(
    tmp_git_repo: Path,
) -> None:
    """One `sops.secrets = <computed>` anywhere used to leave every reference of the
    repository unchecked, with "ok … all resolve": a typo in another host passed."""
    results = _two_hosts(
        tmp_git_repo,
        '{ config, lib, ... }: { networking.hostName = "a";\n'
        "  sops.secrets = lib.mapAttrs (n: _: { }) (builtins.readDir ./s);\n"
        '  x.passwordFile = config.sops.secrets."smtp".path; }\n',
        '{ config, ... }: { networking.hostName = "b";\n'
        '  sops.secrets."wg" = { };\n  y.privateKeyFile = config.sops.secrets."wq".path; }\n',
    )
    failed = sorted(r.message for r in results if not r.ok and "config.sops" in r.message)
    assert failed == [
        'b.nix:3: config.sops.secrets."wq" is used but never declared',
        'cannot verify: a.nix:3: config.sops.secrets."smtp" is declared nowhere by name, and '
        "a.nix computes sops.secrets names, which secretkit does not evaluate",
    ]
    (maybe,) = [r for r in results if r.message.startswith("cannot verify: a.nix")]
    assert maybe.fix.startswith('declare it by name beside the computed ones: sops.secrets."smtp"')


def test_names_a_genattrs_lists_are_declared_with_its_fields(tmp_git_repo: Path) -> None:
    source = (
        "{ config, lib, ... }: {\n"
        '  sops.secrets = lib.genAttrs [ "db" "smtp" ] (n: { sopsFile = ../../secrets/h.yaml;'
        ' key = n; owner = "x"; });\n'
        '  a = config.sops.secrets.db.path; b = config.sops.secrets."smtp".path; }\n'
    )
    facts = facts_of(tmp_git_repo, source).nix()
    got = {d.name: (d.sops_file, d.key) for d in facts.declarations}
    assert got == {"db": ("secrets/h.yaml", "db"), "smtp": ("secrets/h.yaml", "smtp")}
    assert facts.dynamic == []


@pytest.mark.parametrize(
    "value",
    [
        "lib.genAttrs names (_: { })",  # a list that is not written out
        'lib.genAttrs [ "a" ] (n: { sopsFile = ./. + "/${n}.yaml"; })',  # a field of the name
        "mkSecrets [ ]",
    ],
)
def test_what_genattrs_reading_cannot_know_stays_computed(tmp_git_repo: Path, value: str) -> None:
    facts = facts_of(tmp_git_repo, f"{{ lib, ... }}: {{ sops.secrets = {value}; }}").nix()
    assert facts.declarations == [] and set(facts.dynamic) == {"hosts/h/mod.nix"}


@pytest.mark.parametrize(
    ("value", "fails"),
    [
        ('config.sops.placeholder."wifi"', True),
        ('"${config.sops.placeholder.wifi}"', True),
        ('"@WIFI@"', False),  # (the environmentFile route's own marker)
    ],
)
def test_a_placeholder_given_to_an_option_a_program_reads_fails(
    tmp_git_repo: Path, value: str, fails: bool
) -> None:
    # following a fix that said "or at config.sops.placeholder.<name> in a sops.templates
    # file" literally: the Wi-Fi key became the placeholder's text, and check passed
    source = (
        "{ config, ... }: {\n  sops.secrets.wifi = { sopsFile = ./s.yaml; };\n"
        f'  networking.wireless.networks."Home".psk = {value};\n'
        '  sops.templates."ok.env".content = "K=${config.sops.placeholder.wifi}";\n'
        '  x = let t = "${config.sops.placeholder.wifi}"; in t;\n}\n'
    )
    results = check_nix_refs(facts_of(tmp_git_repo, source))
    placed = [r for r in results if "sops-nix replaces only inside" in r.message]
    assert [r.message.split(" is given")[0] for r in placed] == (
        ["hosts/h/mod.nix:3: networking.wireless.networks.Home.psk"] if fails else []
    )
    if fails:
        assert 'pskRaw = "ext:…" + networking.wireless.secretsFile' in placed[0].fix


def test_the_sops_module_fix_names_it_as_the_files_own_arguments_can(
    tmp_git_repo: Path,
) -> None:
    """notthebee/nix-config builds its hosts in a file taking `{ lib, self, ... }`: the fix
    said to add `inputs.sops-nix.nixosModules.sops` there, an undefined variable.  Both
    check's fix and migrate's wiring name it `self.inputs.…` (the flake's own inputs)."""
    from secretkit.gate.nix_checks import check_sops_module
    from secretkit.nix import cst, wiring
    from secretkit.nix.hosts import discover

    files = {
        "flake.nix": (
            '{ inputs.sops-nix.url = "github:Mic92/sops-nix";\n'
            "  outputs = { self, nixpkgs, ... }: {\n"
            "    nixosConfigurations = import ./machines.nix { inherit self nixpkgs; };\n"
            "  };\n}\n"
        ),
        "machines.nix": (
            "{ self, nixpkgs }: {\n"
            "  box = nixpkgs.lib.nixosSystem { modules = [ ./box.nix ]; };\n}\n"
        ),
        "box.nix": "{ config, ... }: { sops.secrets.x = { }; x = config.sops.secrets.x.path; }\n",
    }
    for name, text in files.items():
        (tmp_git_repo / name).write_text(text)
    git(tmp_git_repo, "add", "-A")
    (result,) = check_sops_module(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    assert not result.ok
    assert result.fix.startswith(
        "add self.inputs.sops-nix.nixosModules.sops to the modules list at machines.nix:2"
    ), result.fix
    sources = {name: text.encode() for name, text in files.items()}
    plan = wiring.plan_wiring(sources, discover(tmp_git_repo), cst.parse)
    (edit,) = plan.edits["machines.nix"]
    assert edit.text.strip().endswith("self.inputs.sops-nix.nixosModules.sops")


def test_a_placeholder_in_an_etc_files_text_gets_the_template_at_its_path(
    tmp_git_repo: Path,
) -> None:
    """helper-119: the fix named "environment.etc.app/config.ini.text's *File twin", an
    option that does not exist; an /etc file's text is a template at its path."""
    source = (
        "{ config, ... }: {\n  sops.secrets.k = { sopsFile = ./s.yaml; };\n"
        '  environment.etc."app/config.ini".text = "key=${config.sops.placeholder.k}";\n}\n'
    )
    results = check_nix_refs(facts_of(tmp_git_repo, source))
    (placed,) = [r for r in results if "sops-nix replaces only inside" in r.message]
    assert "*File twin" not in placed.fix
    assert placed.fix.startswith(
        'delete the environment.etc entry: declare sops.templates."<t>" with path = '
        '"/etc/app/config.ini"'
    )
    assert '${config.sops.placeholder."k"} in place of the value' in placed.fix
