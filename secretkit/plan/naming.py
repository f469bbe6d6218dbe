"""Stable, readable secret names, unique per host file.

A catalogue entry proposes a base name (``alertmanager/pushover/token``); the
:class:`Names` registry makes it unique: the same value used again in the same
module reuses the name, anything else gets ``-2``, ``-3``, …  A name also may not
be a prefix of another one (``a/b`` and ``a/b/c`` cannot both be sops keys), and
names already declared in the Nix code or present in a host's sops file are
taken.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from secretkit.sensitive import Sensitive


def _without(base: str, secret: str) -> str:
    """``base`` with each part that holds ``secret`` (as written or as a name part
    writes it) replaced by ``value``."""
    from secretkit.nix.catalogue.base import slug

    if len(secret) < 4:
        return base
    forms = {secret, secret.lower(), slug(secret)}
    return "/".join("value" if any(f in part for f in forms) else part for part in base.split("/"))


def _clash(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


@dataclass
class Names:
    """Names handed out in this run, plus those that exist already."""

    reserved: set[str] = field(default_factory=set)  # declared in Nix, present in sops files
    given: dict[str, tuple[str, Sensitive[str]]] = field(default_factory=dict)

    def reserve(self, names: Iterable[str]) -> None:
        self.reserved.update(names)

    def claim(self, base: str, module: str, value: Sensitive[str]) -> str:
        """A unique name for ``value`` used in ``module``.  Under a name that is taken
        whole (``users/alice``), no ``users/alice/…`` is free, however numbered: the
        rest of ``base`` joins its last part (``users/alice-password``).  A part holding
        the value itself (a user whose password is their name) is ``value``: a sops
        file's keys are in clear."""
        base = self._below_taken(_without(base, value.reveal()))
        for n in range(1, 1000):
            name = base if n == 1 else f"{base}-{n}"
            if name in self.given:
                owner, existing = self.given[name]
                if owner == module and existing == value:
                    return name
                continue
            if any(_clash(name, other) for other in (*self.reserved, *self.given)):
                continue
            self.given[name] = (module, value)
            return name
        raise RuntimeError(f"no free secret name for {base}")

    def _below_taken(self, base: str) -> str:
        taken = (*self.reserved, *self.given)
        while True:
            under = max((t for t in taken if base.startswith(t + "/")), key=len, default=None)
            if under is None:
                return base
            base = under + "-" + base[len(under) + 1 :].replace("/", "-")
