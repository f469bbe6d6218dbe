"""The common shape of many families: an option whose module has a ``*File`` sibling.

``password = "…"`` becomes ``passwordFile = config.sops.secrets."<name>".path`` in the
same attrset (or, with ``moved``, the binding goes and an option elsewhere is set).
Each family is one :class:`SiblingFile` in its own module, with its rows, who reads the
file and the source of that fact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from secretkit.nix import emit
from secretkit.nix.catalogue.base import (
    OptionSpec,
    Reader,
    Refusal,
    Rewrite,
    Site,
    delete_node,
    match,
    rebind,
    slug,
)


@dataclass(frozen=True)
class Row:
    pattern: str
    new: str  # the new last attribute (or a full option path when ``moved``)
    unit: str | None = None  # the unit to restart when the secret changes
    moved: bool = False  # True: delete the binding, set the option ``new`` elsewhere
    # the unit, from the option's path, when it is named after an attribute of it
    unit_of: Callable[[Sequence[str]], str] | None = None


_NOISE = ("config", "settings", "listeners", "users")


@dataclass(frozen=True)
class SiblingFile:
    key: str
    description: str
    reader: Reader
    rows: tuple[Row, ...]
    name_of: Callable[[Site], str] | None = None  # a readable name, when the default is not
    # what a release older than the reader's ``since`` has instead, when no file option
    before_since: str | None = None

    def _row(self, path: Sequence[str]) -> Row | None:
        return next((row for row in self.rows if match(row.pattern, path)), None)

    def matches(self, path: Sequence[str]) -> bool:
        return self._row(path) is not None

    def targets(self) -> tuple[str, ...]:
        """The ``*File`` options this family moves secrets to (patterns): its reader
        reads what any of them names (:func:`secretkit.nix.catalogue.file_reader`)."""
        return tuple(
            row.new if row.moved else f"{row.pattern.rsplit('.', 1)[0]}.{row.new}"
            for row in self.rows
        )

    def name(self, site: Site) -> str:
        if self.name_of is not None:
            return self.name_of(site)
        head = site.path[1] if site.path[0] == "services" else site.path[0]
        middle = [slug(p) for p in site.path[2:-1] if not p.startswith("[")]
        middle = [m for m in middle if m not in _NOISE]
        return "/".join([slug(head), *middle, slug(site.path[-1])])

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        row = self._row(site.path)
        if row is None:  # lookup() checked matches(); a direct call with another path
            return Refusal(f"{'.'.join(site.path)} is not an option of {self.key}")
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        unit = row.unit_of(site.path) if row.unit_of is not None else row.unit
        units = (unit,) if unit else ()
        if row.moved:
            target = tuple(row.new.split("."))
            binding = site.binding
            if binding is None:
                return Refusal("the secret is not the whole value of an attribute")
            return Rewrite(
                site.secret,
                [delete_node(site.tree, binding)],
                row.new,
                restart_units=units,
                options=[OptionSpec(target, emit.secret_ref(name), True)],
                defines=[target],
            )
        sibling = (*site.path[:-1], row.new)
        if site.has_option(sibling):
            return Refusal(f"{row.new} is set as well")
        edits = rebind(site, row.new, emit.secret_ref(name))
        if isinstance(edits, Refusal):
            return edits
        return Rewrite(site.secret, edits, row.new, restart_units=units, defines=[sibling])
