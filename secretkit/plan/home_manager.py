"""A value in an inline home-manager module (``home-manager.users.<u> = { … }``): its
``config`` is home-manager's, not the NixOS one that sops-nix's module lives in, so
migrate moves nothing there and says, as check does, how to move it by hand."""

from __future__ import annotations

from collections.abc import Sequence

from secretkit.nix import cst
from secretkit.nix.catalogue.base import Entry
from secretkit.plan.route_steps import config_arg_steps, inline_name, set_steps


def home_manager_module(tree: cst.Tree | None, inline: cst.Node | None) -> str | None:
    """The user whose home-manager module (``home-manager.users.<u> = { … }``, inline)
    ``inline`` is, else None."""
    if tree is None or inline is None:
        return None
    path = cst.path_of(tree, inline)
    if len(path) == 3 and path[:2] == ["home-manager", "users"]:
        return path[2]
    return None


def home_manager_reason(user: str) -> str:
    return (
        f"it is set in home-manager.users.{user}'s module, whose config is home-manager's: "
        "sops-nix's NixOS module decrypts the host's file, and migrate moves NixOS options"
    )


def home_manager_steps(
    module: str,
    line: int,
    name: str,
    targets: Sequence[str],
    sops_file: str | None,
    user: str,
    tree: cst.Tree,
    inline: cst.Node,
    fingerprint: str | None,
    entry: Entry | None,
) -> list[str]:
    """By hand, for a value in ``user``'s inline home-manager module: the declaration in
    the NixOS module around it (owner: the user), the reference through ``osConfig``,
    which home-manager hands each such module (nix-community/home-manager 05505bb0,
    nixos/common.nix: ``specialArgs = { … osConfig = config; … }``), as check says."""
    steps = set_steps(targets, name, entry)
    steps += config_arg_steps(module, tree)
    body = ([f"sopsFile = {sops_file};"] if sops_file is not None else []) + [f'owner = "{user}";']
    steps.append(
        f"in {module}, outside home-manager.users.{user} (sops-nix's NixOS module decrypts "
        f'it), add: sops.secrets."{name}" = {{ {" ".join(body)} }};'
    )
    steps.append(
        f"in {inline_name(module, tree, inline)} (home-manager's), add osConfig to its "
        f"arguments ({{ osConfig, ... }}:) and drop the literal on line {line}: give the "
        f'program the file osConfig.sops.secrets."{name}".path through an option that reads '
        "a file (its *File option if it has one, or an include of a file the program reads), "
        "never as the option's value (it would hold the path, not the secret)"
    )
    if fingerprint:
        steps.append(
            f"or, if the value is not a secret: add the line `{fingerprint}  # {module}:{line}` "
            "to .secretkit-allow"
        )
    return steps
