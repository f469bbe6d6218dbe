"""``systemd.services.<s>.environment`` secrets → ``EnvironmentFile`` from a template."""

from __future__ import annotations

from collections.abc import Sequence

from secretkit.nix import emit
from secretkit.nix.catalogue.base import (
    Reader,
    Refusal,
    Rewrite,
    Site,
    Source,
    TemplateLine,
    delete_node,
    env_safe,
    match,
    slug,
)
from secretkit.nix.cst import Node


class ServiceEnvironment:
    key = "systemd-environment"
    description = "systemd.services.<s>.environment.VAR → EnvironmentFile from a sops template"
    reader = Reader(
        "systemd",
        Source(
            "systemd/systemd",
            "8d0e0ddda6501479eb69164687c83c1a7667b33a",
            "man/systemd.exec.xml",
            # EnvironmentFile=: read by the service manager (root), before User= applies
            "The files listed with this directive will be read shortly before the process "
            "is executed",
        ),
        since="16.03",
    )

    def matches(self, path: Sequence[str]) -> bool:
        return match("systemd.services.*.environment.*", path)

    def name(self, site: Site) -> str:
        return f"{slug(site.path[2])}/{slug(site.path[4])}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.holder is not None:  # VAR = pkgs.writeText "…" "<text>": VAR names a file
            return _file_for_the_service(site, name)
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        if not env_safe(site.secret):
            return Refusal("the value has characters an environment file cannot carry")
        binding = site.binding
        if binding is None:
            return Refusal("the value is not a plain attribute")
        return service_env_file(site, binding, site.path[4], name)


def _file_for_the_service(site: Site, name: str) -> Rewrite | Refusal:
    """``VAR = pkgs.writeText …``: the write-text route (the variable names a template
    of the same text, or the secret), its file the service's own: the unit's plain
    ``User`` (root without one), as a program opening it needs (libpq ignores a
    PGPASSFILE others can read); with ``DynamicUser`` or a computed user, not known."""
    from dataclasses import replace

    from secretkit.nix.catalogue.write_text import WRITE_TEXT_FILE

    result = WRITE_TEXT_FILE.rewrite(site, name)
    unit = ("systemd", "services", site.path[2], "serviceConfig")
    user = site.plain_string((*unit, "User"))
    if not isinstance(result, Rewrite) or site.has_option((*unit, "DynamicUser")):
        return result
    if user is None and site.has_option((*unit, "User")):
        return result  # (a user the module computes)
    owner = emit.nix_string(user) if user not in (None, "root") else None
    if result.template is not None:
        line = replace(result.template, owner=owner, mode=None)
        return replace(result, template=line, note=None)
    return replace(result, owner=owner, mode=None, note=None)


def service_env_file(site: Site, drop: Node, var: str, name: str) -> Rewrite:
    """``drop`` (the literal's binding or list element) removed, and ``var=<the
    secret>`` a line of the service's ``<service>.env`` template, its EnvironmentFile."""
    service = site.path[2]
    option = ("systemd", "services", service, "serviceConfig", "EnvironmentFile")
    return Rewrite(
        site.secret,
        [delete_node(site.tree, drop)],
        f"{service}: EnvironmentFile {var}",
        template=TemplateLine(
            template=f"{service}.env",
            line=f"{var}={emit.placeholder(name)}",
            option=option,
            restart_units=site.service_restarts(service),
            # a list: it adds to an EnvironmentFile the service's own module sets
            # (glance's cfg.environmentFile); two strings conflict
            list_option=True,
        ),
    )
