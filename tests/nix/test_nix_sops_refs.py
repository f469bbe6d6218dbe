"""What nix/sops_refs reads from Nix without evaluating it: sopsFile paths resolved
statically or not at all, the secret names a file takes, networking.hostName literals."""

from __future__ import annotations

import pytest

from secretkit.nix import cst
from secretkit.nix.sops_refs import resolve_for_host, resolve_nix_path, secret_names


@pytest.mark.parametrize(
    ("nix_file", "text", "resolved"),
    [
        ("hosts/observer/default.nix", "../../secrets/observer.yaml", "secrets/observer.yaml"),
        ("hosts/observer/default.nix", "./secrets.yaml", "hosts/observer/secrets.yaml"),
        ("flake.nix", "./secrets/observer.yaml", "secrets/observer.yaml"),
        ("hosts/observer/default.nix", '"${./secrets.yaml}"', "hosts/observer/secrets.yaml"),
        ("flake.nix", "../outside.yaml", None),
        ("hosts/a.nix", '"${inputs.self}/secrets/a.yaml"', None),
        ("hosts/a.nix", "self + /secrets/a.yaml", None),
        ("hosts/a.nix", "./${name}.yaml", None),
        # a sum is no path literal (it was read as the path `secrets + "/x.yaml"`)
        ("nixos/server/hermes/default.nix", '../../../secrets + "/hermes.yaml"', None),
        ("hosts/a.nix", "./a.yaml.bak x", None),
    ],
)
def test_sops_file_paths_resolve_statically_or_not_at_all(
    nix_file: str, text: str, resolved: str | None
) -> None:
    assert resolve_nix_path(nix_file, text) == resolved


def test_a_per_host_sops_file_resolves_only_with_the_host() -> None:
    text = '../secrets + "/${config.networking.hostName}.yaml"'
    assert resolve_for_host("hosts/shared.nix", text, "observer") == "secrets/observer.yaml"
    assert resolve_for_host("hosts/shared.nix", text, None) is None
    # a fixed file written as a sum (wimpysworld/nix-config): resolved for every host
    fixed = '../../../secrets + "/hermes.yaml"'
    assert resolve_for_host("nixos/server/hermes/default.nix", fixed, None) == (
        "secrets/hermes.yaml"
    )


@pytest.mark.parametrize(
    ("text", "host", "resolved"),
    [
        ("self + /secrets/secrets.yaml", None, "secrets/secrets.yaml"),
        ('(inputs.self + "/secrets/a.yaml")', None, "secrets/a.yaml"),
        ('"${self}/secrets/a.yaml"', None, "secrets/a.yaml"),
        ('self + "/secrets/${config.networking.hostName}.yaml"', "nas", "secrets/nas.yaml"),
        ('self + "/secrets/${config.networking.hostName}.yaml"', None, None),
        ("self + /../outside.yaml", None, None),
        ("myself + /secrets/a.yaml", None, None),
        ("self.inputs.x + /a.yaml", None, None),
    ],
)
def test_a_path_below_the_flakes_own_source_resolves_from_the_root(
    text: str, host: str | None, resolved: str | None
) -> None:
    """``self + /secrets/secrets.yaml`` (THERAAB/nix-homelab's defaultSopsFile) is the
    repository's own file, wherever the module is."""
    assert resolve_for_host("share/nixos/physical/sops.nix", text, host) == resolved


def test_secret_names_are_every_name_a_secrets_attribute_holds() -> None:
    source = b"""{ config, ... }: {
  sops.secrets."wifi/home" = { };
  sops.secrets = { borg = { }; ${"computed"} = { }; };
  age.secrets.restic.file = ./restic.age;
  services.x.passwordFile = config.sops.secrets.smtp.path;
  services.y.token = "mysecrets.not-this-one = 1";
}
"""
    assert secret_names(cst.parse(source)) == {"wifi/home", "borg", "restic", "smtp"}


def test_host_names_are_the_literal_hostname_bindings() -> None:
    source = b"""{
  networking.hostName = "observer";
  networking = { hostName = "nested"; };
  config.networking.hostName = "in-config";
}
"""
    assert [name for _binding, name in cst.host_names(cst.parse(source))] == [
        "observer",
        "nested",
        "in-config",
    ]
    # (set, but not to a literal: its value needs evaluating Nix)
    unread = cst.parse(b'{ networking.hostName = "${x}-1"; }')
    assert [name for _binding, name in cst.host_names(unread)] == [None]


def test_host_names_in_inline_modules_are_read_from_the_module() -> None:
    """In flake.nix a hostName binding's path starts at the outputs: read from the
    inline module holding it, it is the host's name."""
    from secretkit.nix.sops_refs import InlineModules

    source = (
        b"{ outputs = { nixpkgs, ... }: { nixosConfigurations.a = nixpkgs.lib.nixosSystem {"
        b' modules = [ { networking.hostName = "a"; } ({ lib, ... }: { networking.hostName ='
        b" lib.mkDefault name; }) ]; }; }; }"
    )
    tree = cst.parse(source)
    assert cst.host_names(tree) == []
    spans = [
        (source.index(b'{ networking.hostName = "a"'), source.index(b'"a"; }') + 6),
        (source.rindex(b"{ networking"), source.index(b"name; }") + 7),
    ]
    found = cst.host_names(tree, InlineModules(spans).base)
    assert [(source[b.start : b.start + 10], n) for b, n in found] == [
        (b"networking", "a"),
        (b"networking", None),
    ]


def test_declarations_inside_mkmerge_and_inline_imports_are_read() -> None:
    """A module's config under mkIf/mkMerge (and inline modules in imports) declares
    its secrets there: check called them 'used but never declared'."""
    from secretkit.nix.sops_refs import nix_facts

    files = {
        "m.nix": (
            b"{ config, lib, ... }:\n{\n  options.x = lib.mkOption { };\n"
            b"  config = lib.mkIf true (lib.mkMerge [\n"
            b'    { sops.secrets.grafana = { sopsFile = ./s.yaml; owner = "grafana"; }; }\n'
            b"    { y = config.sops.secrets.grafana.path; }\n  ]);\n"
            b"  imports = [ { sops.secrets.other = { }; } ];\n}\n"
        ),
        "n.nix": b"{ lib, ... }: lib.mkMerge [ { sops.defaultSopsFile = ./d.yaml; } ]\n",
        # a list index inside an option is not stripped: not a declaration
        "o.nix": b"{ ... }: { services.x.list = [ { sops.secrets.fake = { }; } ]; }\n",
    }
    facts = nix_facts(files, files.get)
    assert {d.name: d.sops_file for d in facts.declarations} == {
        "grafana": "s.yaml",
        "other": None,
    }
    assert facts.default_files == {"n.nix": "d.yaml"}


def test_references_through_a_name_bound_to_config_sops_are_read() -> None:
    from secretkit.nix.sops_refs import nix_facts

    data = {
        "a.nix": b"{ config, ... }: let s = config.sops.secrets; inherit (config.sops) "
        b'templates; in { x = s.scrape.path; y = templates.t.path; z = s."a/b".path; }'
    }
    facts = nix_facts(["a.nix"], data.get)
    assert [r[0] for r in facts.references] == ["scrape", "a/b"]
    assert [r[0] for r in facts.template_references] == ["t"]


def test_a_name_a_with_of_config_sops_secrets_brings_in_is_a_reference() -> None:
    """Inside ``with config.sops.secrets;`` ``x.path`` is the secret x, unless a let,
    a function or a rec set around it binds x (those win over with in Nix)."""
    from secretkit.nix.sops_refs import nix_facts

    data = {
        "a.nix": b"{ config, pkgs, ... }: with config.sops.secrets; let q = 1; in { "
        b'x = scrape.path; y = pkgs.path; z = (a: a.path) 1; w = q.path; t = "${tok.path}"; '
        b"r = rec { u = 1; v = u.path; }; }"
    }
    facts = nix_facts(["a.nix"], data.get)
    assert [r[0] for r in facts.references] == ["scrape", "tok"]
