"""Which ``owner`` migrate writes on a secret (or template) a service opens: the
reader's user on the pinned release (:func:`secretkit.plan.release.owner_on`), and in
a module several hosts share, that user only on the hosts that enable the service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from secretkit.nix import cst
    from secretkit.nix.catalogue.base import Reader
    from secretkit.plan.release import Pin


def owner_for(
    reader: Reader, pin: Pin | None, tree: cst.Tree | None = None, hosts: Sequence[str] = ()
) -> str | None:
    """The reader's owner, or None (root) on a pinned release that ran it as root; in a
    module (``tree``) of several ``hosts`` that does not itself enable the module making
    the owner's user, that owner only where a host enables it (:func:`where_enabled`)."""
    from secretkit.plan.release import owner_on

    owner = owner_on(reader.owner, reader.owner_since, pin, reader.owner_until)
    return where_enabled(owner, reader, tree, hosts)


def where_enabled(
    owner: str | None, reader: Reader, tree: cst.Tree | None, hosts: Sequence[str]
) -> str | None:
    """``owner`` as :func:`secretkit.nix.catalogue.base.owner_where_enabled` writes it
    when the reader's user exists only where an option enables it and the module
    (``tree``) is shared by several ``hosts`` without setting that option true itself:
    a host that imports it may not enable the service, and sops-nix stops installing
    every secret of a host on an owner it cannot find there.  (One host's own module
    is left plain: ``check`` fails it if that host does not enable the service.)"""
    from secretkit.nix import cst
    from secretkit.nix.catalogue.base import owner_where_enabled
    from secretkit.nix.syntax import option_path

    option = reader.user_from
    if owner is None or option is None or tree is None or owner == '"root"' or len(hosts) < 2:
        return owner
    wanted = option.split(".")
    for binding in cst.bindings(tree):
        value = cst.unwrap(binding.value)
        true = value is not None and cst.node_text(tree, value) == "true"
        if true and option_path(binding) == wanted:
            return owner  # (the module makes the user itself)
    return owner_where_enabled(owner, option)
