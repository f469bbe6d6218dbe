"""A value in an inline home-manager module (``home-manager.users.<u> = { … }``): its
``config`` is home-manager's, not the NixOS one that sops-nix's module lives in, so
migrate moves nothing there and says, as check does, how to move it by hand."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from secretkit.nix import cst
from secretkit.nix.catalogue.base import Entry
from secretkit.plan.route_steps import config_arg_steps, inline_name, set_steps

if TYPE_CHECKING:
    from secretkit.nix.hosts.model import Inventory

_HM_USER = re.compile(rb'home-manager\.users\.(?:"([^"\\$]+)"|([A-Za-z_][A-Za-z0-9_\'-]*))')


def home_users(
    inventory: Inventory, hosts: Iterable[str], read: Callable[[str], bytes | None]
) -> list[str]:
    """The users ``home-manager.users.<user>`` names in the modules of ``hosts`` (a
    home-manager module of one of them belongs to one of these users)."""
    users: set[str] = set()
    for host in hosts:
        found = inventory.hosts.get(host)
        for module in found.modules if found is not None else ():
            for m in _HM_USER.finditer(read(module.as_posix()) or b""):
                users.add((m.group(1) or m.group(2)).decode("utf-8", "replace"))
    return sorted(users)


def home_file_steps(module: str, user: str) -> tuple[str, ...]:
    """By hand, for a value in a home-manager module file of ``user``'s: the user's own
    sops file (their age key opens it: sops-nix's homeManagerModules.sops reads it with
    ``sops.age.keyFile``), the value stored there, the declaration and its path."""
    own = f"secrets/{user}.yaml"
    return (
        f"secretkit hosts add {user} --age <{user}'s age public key> (a creation rule for "
        f"{own}, opened by that key)",
        f"secretkit set {own} '[\"<name>\"]'  (type or pipe the value on stdin; the name "
        "is yours to choose)",
        f'in {module} add: sops.secrets."<name>" = {{ sopsFile = <{own} relative to '
        "it>; }; with sops-nix's homeManagerModules.sops in home-manager.sharedModules and "
        f"sops.age.keyFile = <the path of {user}'s age key file>;",
        'and drop the literal: give the program config.sops.secrets."<name>".path through '
        "an option that reads a file (home-manager's *File / *Command options)",
        "secretkit check then says whether each of these holds",
    )


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
