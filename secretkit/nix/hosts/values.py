"""What host discovery reads an expression as: the expression, its file and the names
it can see (:class:`Val`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from secretkit.nix.cst import Node
from secretkit.nix.hosts.files import File


@dataclass(frozen=True)
class Val:
    """An expression together with the file it is in and the names it can see."""

    node: Node
    file: File
    scope: Mapping[str, Val | str | None]
    # an attrset seen through a prefix: only its bindings ``prefix.<rest>`` count, as
    # ``<rest>`` (flake-parts' ``mkFlake {…} { flake.nixosConfigurations = …; }``)
    prefix: tuple[str, ...] = ()
