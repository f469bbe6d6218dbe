"""The common shape of options a module turns into environment variables: the literal
leaves the Nix code and becomes a ``VAR=<placeholder>`` line of a sops template that the
module's environment-file option (read by systemd, as root) points at.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from secretkit.nix import emit
from secretkit.nix.catalogue.base import (
    Reader,
    Refusal,
    Rewrite,
    Site,
    TemplateLine,
    delete_node,
    env_safe,
    match,
    slug,
)


def upper_snake(name: str) -> str:
    """``adminToken`` → ``ADMIN_TOKEN``; names already in upper snake case stay."""
    if re.fullmatch(r"[A-Z0-9_]+", name):
        return name
    return re.sub(r"(?<!^)(?=[A-Z0-9])", "_", name).upper()


@dataclass(frozen=True)
class EnvRow:
    pattern: str
    option: tuple[str, ...]  # the environment-file option ("{3}": that part of the site's path)
    template: str  # the sops template's name
    unit: str | None = None
    list_option: bool = False  # the option takes a list of files
    var: Callable[[Site], str | None] = lambda site: upper_snake(site.path[-1])
    form: str = "{var}={value}"  # the line, for modules that want another shape
    owner_of: Callable[[Site], str | None] | None = None  # a reader other than root, per site
    unit_of: Callable[[Site], str] | None = None  # the unit, when ``unit`` cannot name it
    also: tuple[str, ...] = ()  # the other units that read the file
    # a shell sources the file too (paperless-manage: `source ${cfg.environmentFile}`): a
    # value with a shell's own characters is written between single quotes, which
    # systemd's EnvironmentFile reads as it is too
    sourced: bool = False


def _units(row: EnvRow, site: Site) -> tuple[str, ...]:
    if row.unit_of is not None:
        return (row.unit_of(site), *row.also)
    return ((row.unit.format(*site.path),) if row.unit else ()) + row.also


_SHELL_CHARS = frozenset("();&|<>")


@dataclass(frozen=True)
class EnvTemplate:
    key: str
    description: str
    reader: Reader
    rows: tuple[EnvRow, ...]
    prefix: str  # the secret name's first part

    def _row(self, path: Sequence[str]) -> EnvRow | None:
        return next((row for row in self.rows if match(row.pattern, path)), None)

    def matches(self, path: Sequence[str]) -> bool:
        return self._row(path) is not None

    def targets(self) -> tuple[str, ...]:
        """The environment-file options of the rows whose reader is the entry's."""
        return tuple(
            ".".join("*" if part.startswith("{") else part for part in row.option)
            for row in self.rows
            if row.owner_of is None
        )

    def target_units(self, path: Sequence[str]) -> tuple[str, ...]:
        """The unit that reads the environment file the option at ``path`` names
        (given something else than a template: ``pkgs.writeText``), when a row says."""
        for row in self.rows:
            pattern = ".".join("*" if p.startswith("{") else p for p in row.option)
            if row.unit is not None and match(pattern, path):
                try:
                    return (row.unit.format(*path),)
                except IndexError:
                    continue
        return ()

    def name(self, site: Site) -> str:
        row = self._row(site.path)
        var = (row.var(site) if row is not None else None) or site.path[-1]
        return f"{self.prefix}/{slug(var).replace('_', '-')}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        row = self._row(site.path)
        if row is None:
            return Refusal(f"{'.'.join(site.path)} is not an option of {self.key}")
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        if not env_safe(site.secret):
            return Refusal("the value has characters an environment file cannot carry")
        binding = site.binding
        if binding is None:
            return Refusal("the secret is not the whole value of an attribute")
        var = row.var(site)
        if var is None:
            return Refusal(f"the variable that carries {site.path[-1]} cannot be told")
        option = tuple(part.format(*site.path) for part in row.option)
        value = emit.placeholder(name)
        if row.sourced and not _SHELL_CHARS.isdisjoint(site.secret.reveal()):
            value = f"'{value}'"  # (env_safe: no quote of its own inside)
        line = row.form.format(var=var, value=value)
        return Rewrite(
            site.secret,
            [delete_node(site.tree, binding)],
            f"{'.'.join(option)} ({var} from a sops template)",
            template=TemplateLine(
                template=row.template.format(*site.path),
                line=line,
                option=option,
                restart_units=_units(row, site),
                owner=row.owner_of(site) if row.owner_of is not None else None,
                list_option=row.list_option,
            ),
        )
