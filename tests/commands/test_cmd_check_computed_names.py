"""`check` and sops secrets whose names are built with ``${…}`` (truxnell/nix-config: 29
of its 40 declarations are ``sops.secrets."${category}/${app}/env"``).

A stranger's run: with such names, ``host-readable`` said "no host reads a sops file:
nothing to check", ``sops-nix-module`` "no host uses sops-nix", ``nix-secret-refs``
"0 reference(s), all resolve", and the last line "safe to publish" for a host that
could not decrypt its own secret.  A ``let`` of the same file settles the names now;
what nothing here settles fails as "cannot verify"."""

from __future__ import annotations

from pathlib import Path

from secretkit.commands.check import CheckResult, run_check
from tests.conftest import commit_all
from tests.support.smalllab import SmallLab, make_small_lab

FLAKE = """{
  inputs.sops-nix.url = "github:Mic92/sops-nix";
  outputs = { self, nixpkgs, sops-nix, ... }: {
    nixosConfigurations.alpha = nixpkgs.lib.nixosSystem {
      modules = [ sops-nix.nixosModules.sops ./hosts/alpha ./mod ];
    };
  };
}
"""

RULE = """  - path_regex: ^mod/secrets\\.yaml$
    key_groups:
      - age:
          - *admin_tester
"""


def _lab(tmp_path: Path, module: str) -> SmallLab:
    """The small lab's host alpha alone, importing ``mod/default.nix`` (``module``) that
    reads ``mod/secrets.yaml``: a file its rule encrypts for the admin only."""
    repo = tmp_path / "repo"
    repo.mkdir(parents=True)
    from tests.conftest import git

    git(repo, "init", "-q", "-b", "main")
    lab = make_small_lab(repo, tmp_path / "keys")
    (repo / "flake.nix").write_text(FLAKE)
    (repo / "hosts" / "alpha" / "default.nix").write_text(
        '{ ... }: { networking.hostName = "alpha"; services.openssh.enable = true; }\n'
    )
    (repo / "mod").mkdir()
    (repo / "mod" / "default.nix").write_text(module)
    sops_yaml = repo / ".sops.yaml"
    sops_yaml.write_text(sops_yaml.read_text() + RULE)
    (repo / "mod" / "secrets.yaml").write_text("services:\n  radarr:\n    env: API_KEY=x\n")
    done = lab.run("encrypt", "-i", "mod/secrets.yaml")
    assert done.returncode == 0, done.stderr
    commit_all(repo, "a module with computed names")
    return lab


def _point(lab: SmallLab, point: str) -> list[CheckResult]:
    import os

    os.environ["SOPS_AGE_KEY_FILE"] = str(lab.admin_key)
    try:
        return [r for r in run_check(lab.repo).results if r.id == point]
    finally:
        del os.environ["SOPS_AGE_KEY_FILE"]


LET = """{ config, ... }:
let
  category = "services";
  app = "radarr";
in
{
  sops.secrets."${category}/${app}/@KEY@" = { sopsFile = ./secrets.yaml; };
  systemd.services.radarr.serviceConfig.EnvironmentFile = [
    config.sops.secrets."${category}/${app}/@KEY@".path
  ];
}
"""


def test_a_host_that_cannot_read_a_file_declared_under_a_computed_name_fails(
    tmp_path: Path,
) -> None:
    lab = _lab(tmp_path, LET.replace("@KEY@", "env"))
    (failed,) = [r for r in _point(lab, "host-readable") if not r.ok]
    assert failed.message.startswith("host alpha cannot read mod/secrets.yaml")
    refs = _point(lab, "nix-secret-refs")
    assert all(r.ok for r in refs), [r.message for r in refs]
    assert "1 reference(s), all resolve" in refs[0].message
    (module,) = _point(lab, "sops-nix-module")
    assert module.ok and module.message.startswith("1 host(s) using sops-nix")


def test_a_key_missing_under_a_let_settled_name_fails(tmp_path: Path) -> None:
    lab = _lab(tmp_path, LET.replace("@KEY@", "envx"))
    failed = [r.message for r in _point(lab, "nix-secret-refs") if not r.ok]
    assert failed == [
        'mod/default.nix: sops.secrets."services/radarr/envx" needs key "services/radarr/envx" '
        "in mod/secrets.yaml, which has no such key"
    ]


def test_a_name_no_let_settles_cannot_be_verified_and_its_file_is_still_judged(
    tmp_path: Path,
) -> None:
    module = (
        '{ config, ... }:\nlet\n  n = { alpha = "a1"; }.${config.networking.hostName};\nin\n{\n'
        '  sops.secrets."${n}/env".sopsFile = ./secrets.yaml;\n'
        "  systemd.services.radarr.serviceConfig.EnvironmentFile =\n"
        '    [ config.sops.secrets."${n}/env".path ];\n}\n'
    )
    lab = _lab(tmp_path, module)
    (refs,) = [r for r in _point(lab, "nix-secret-refs") if not r.ok]
    assert refs.message.startswith(
        'cannot verify: mod/default.nix:8: config.sops.secrets."${n}/env": its name is computed'
    )
    assert "bind each part with a let" in refs.fix
    (readable,) = [r for r in _point(lab, "host-readable") if not r.ok]
    assert readable.message.startswith("host alpha cannot read mod/secrets.yaml")
    (module_point,) = _point(lab, "sops-nix-module")
    assert module_point.message.startswith("1 host(s) using sops-nix")


HOSTNAME = """{ config, ... }:
{
  sops.secrets."${config.networking.hostName}/env".sopsFile = ./secrets.yaml;
  systemd.services.radarr.serviceConfig.EnvironmentFile =
    [ config.sops.secrets."${config.networking.hostName}/@KEY@".path ];
}
"""


def test_a_name_made_of_the_hosts_name_is_checked_for_each_host(tmp_path: Path) -> None:
    lab = _lab(tmp_path, HOSTNAME.replace("@KEY@", "env"))
    assert all(r.ok for r in _point(lab, "nix-secret-refs"))
    typo = _lab(tmp_path / "typo", HOSTNAME.replace("@KEY@", "envx"))
    failed = [r for r in _point(typo, "nix-secret-refs") if not r.ok]
    assert [r.message for r in failed] == [
        'mod/default.nix:5: config.sops.secrets."${config.networking.hostName}/envx" is '
        '"alpha/envx" on host alpha, and no module declares it'
    ]


KEYED = """{ config, ... }:
let
  category = "services";
  app = "radarr";
in
{
  sops.secrets.radarr-env = { sopsFile = ./secrets.yaml; key = "${category}/${app}/@KEY@"; };
  systemd.services.radarr.serviceConfig.EnvironmentFile = [
    config.sops.secrets.radarr-env.path
  ];
}
"""


def test_a_key_built_with_a_let_is_looked_up_and_one_nothing_settles_cannot_be_verified(
    tmp_path: Path,
) -> None:
    """helper-102: `key = "services/${app}/envx"` was taken for the declaration's name:
    "safe to publish" when the file held a top-level `radarr-env`, a false failure when
    it did not."""
    lab = _lab(tmp_path / "ok", KEYED.replace("@KEY@", "env"))
    assert all(r.ok for r in _point(lab, "nix-secret-refs"))
    typo = _lab(tmp_path / "typo", KEYED.replace("@KEY@", "envx"))
    assert [r.message for r in _point(typo, "nix-secret-refs") if not r.ok] == [
        'mod/default.nix: sops.secrets."radarr-env" needs key "services/radarr/envx" in '
        "mod/secrets.yaml, which has no such key"
    ]
    unknown = KEYED.replace("{ config, ... }:", "{ config, app, ... }:").replace(
        '  app = "radarr";\n', ""
    )
    opaque = _lab(tmp_path / "opaque", unknown.replace("@KEY@", "env"))
    (failed,) = [r for r in _point(opaque, "nix-secret-refs") if not r.ok]
    assert failed.message.startswith(
        'cannot verify: mod/default.nix: sops.secrets."radarr-env".key = "${category}/${app}/env"'
    )
