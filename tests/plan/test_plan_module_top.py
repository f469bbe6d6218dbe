"""A module whose config is ``mkMerge [ … ]`` (every host of linyinfeng/dotfiles): its
values go in the part that holds them; one part per run, the others left with the
way on (run migrate again)."""

from __future__ import annotations

import subprocess

from secretkit.nix import cst
from secretkit.plan.module_top import NO_CONFIG, module_top
from tests.conftest import need_tool
from tests.support.nixfind import fill, plan_module

MODULE = "hosts/web/web.nix"
MERGED = b"""{ lib, pkgs, ... }:
{
  config = lib.mkMerge [
    {
      users.users.guest = {
        isNormalUser = true;
        initialPassword = "@GUEST_PASSWORD@";
      };
    }
    (lib.mkIf true {
      services.tailscale.extraUpFlags = [ "--authkey=@TS_KEY@" ];
    })
  ];
}
"""


def test_values_go_in_the_mkmerge_part_that_holds_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    source, findings, values = fill(MERGED, MODULE)
    plan = plan_module(source, MODULE, hosts=("web",), findings=findings)
    (moved,) = plan.moves
    assert moved.name == "users/guest/hashed-password"
    (refused,) = plan.refused
    assert "another part of the module's mkMerge" in refused.reason
    assert "run secretkit migrate again" in refused.reason
    new = plan.nix[MODULE][1]
    assert new.startswith(b"{ config, lib, pkgs, ... }:")
    first, second = new.split(b"(lib.mkIf true", 1)
    assert b'sops.secrets."users/guest/hashed-password"' in first  # in the part it came from
    assert b"hashedPasswordFile = config.sops.secrets." in first
    assert values["GUEST_PASSWORD"].encode() not in new
    assert values["TS_KEY"].encode() in second  # (left for the next run)
    nix = need_tool("nix-instantiate")
    (tmp_path / "after.nix").write_bytes(new)
    proc = subprocess.run([nix, "--parse", str(tmp_path / "after.nix")], capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()
    # the next run: the other part
    again = {k: v for k, v in values.items() if k == "TS_KEY"}
    rest = [f for f in findings if f.secret.reveal() in again.values()]
    shifted = [type(f)(f.path, f.line, new.index(f.secret.reveal().encode()),
                       new.index(f.secret.reveal().encode()) + len(f.secret.reveal()), f.secret)
               for f in rest]  # fmt: skip
    second_run = plan_module(new, MODULE, hosts=("web",), findings=shifted)
    assert [m.name for m in second_run.moves] == ["tailscale/authkey"]
    assert second_run.refused == []


def test_a_config_that_is_none_of_these_is_refused_with_the_reason() -> None:
    tree = cst.parse(b"{ lib, ... }: { config = lib.foldl' lib.recursiveUpdate { } [ ]; }")
    body = cst.module_body(tree)
    assert module_top(tree, body, 30) == (None, NO_CONFIG)
