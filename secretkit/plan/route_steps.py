"""The steps every by-hand route shares: the ``secretkit set`` of the value, making a
module a function of ``config``, how a step names an inline module and a sops key."""

from __future__ import annotations

from collections.abc import Sequence

from secretkit.nix import cst, emit
from secretkit.nix.catalogue.base import Entry
from secretkit.nix.inline import inline_function


def keys_of(name: str) -> str:
    """``a/b/c`` → ``["a"]["b"]["c"]`` (the ``secretkit set`` / sops key path)."""
    return "".join(f'["{part}"]' for part in name.split("/"))


# what the first step pipes into `secretkit set` when the option reads a crypt hash
# (plan.advice reads it back)
HASH_FEED = "mkpasswd -m sha-512 | "


def stores_crypt_hash(entry: Entry) -> bool:
    """Whether the entry's option reads a crypt hash of the value, not the value
    (``users.users.<n>.hashedPasswordFile``)."""
    from secretkit.nix.catalogue.users import UserPassword  # (loaded when one is refused)

    return isinstance(entry, UserPassword)


def set_steps(files: Sequence[str], name: str, entry: Entry | None) -> list[str]:
    """``secretkit set`` of the value into each file (a password's route reads a crypt
    hash: the value itself in hashedPasswordFile would lock the user out)."""
    feed, what = (
        (HASH_FEED, "mkpasswd asks for the password and pipes its crypt hash")
        if entry is not None and stores_crypt_hash(entry)
        else ("", "type or pipe the value on stdin")
    )
    return [f"{feed}secretkit set {f} '{keys_of(name)}'  ({what})" for f in dict.fromkeys(files)]


def config_blocked(
    tree: cst.Tree | None, inline: cst.Node | None = None, in_module: bool = False
) -> str | None:
    """Why the module (parsed: ``tree``; ``inline``: the attrset of an inline module in
    it) cannot be made a function of the NixOS ``config``, which the declaration and
    the reference need; None when it is one or can become one."""
    if tree is None:
        return None
    if inline is not None:
        edits = emit.ensure_inline_config_arg(tree, inline, in_module=in_module)
        return edits if isinstance(edits, str) else None
    missing = emit.ensure_config_arg(tree)
    return missing if isinstance(missing, str) else None


def config_arg_steps(
    module: str, tree: cst.Tree | None, inline: cst.Node | None = None, in_module: bool = False
) -> list[str]:
    """What makes ``module`` (that :func:`config_blocked` does not refuse) a function
    of ``config`` (nothing when it already is one)."""
    if tree is not None and inline is not None:
        edits = emit.ensure_inline_config_arg(tree, inline, in_module=in_module)
        if isinstance(edits, str) or not edits:
            return []
        if inline_function(inline) is not None:
            return [f"add config to the arguments of {module} ({{ config, ... }}:)"]
        return [f"make {module} a function of config: ({{ config, ... }}: {{ … }})"]
    missing = emit.ensure_config_arg(tree) if tree is not None else None
    if missing is not None and not isinstance(missing, str):
        return [f"add config to the arguments of {module} ({{ config, ... }}:)"]
    return []


def inline_name(path: str, tree: cst.Tree, inline: cst.Node) -> str:
    """How steps name an inline module: by the line its ``{`` is on."""
    line = tree.source.count(b"\n", 0, inline.start_byte) + 1
    return f"the module on line {line} of {path}"
