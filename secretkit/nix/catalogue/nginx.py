"""nginx ``basicAuth`` → ``basicAuthFile`` rendered as htpasswd."""

from __future__ import annotations

import re
from collections.abc import Sequence

from secretkit.nix import emit
from secretkit.nix.catalogue.base import (
    NIXPKGS,
    Reader,
    Refusal,
    Rewrite,
    Site,
    Source,
    TemplateLine,
    delete_node,
    match,
    slug,
)


class NginxBasicAuth:
    key = "nginx-basic-auth"
    description = (
        "nginx basicAuth.<user> (virtual host or location) → basicAuthFile from a sops "
        "template of htpasswd lines `user:{PLAIN}…`, as the module writes them (owner nginx)"
    )
    reader = Reader(
        "daemon",
        Source(
            NIXPKGS,
            "000007c122b85672b78037272c41adbbe693a1a4",
            "nixos/modules/services/web-servers/nginx/default.nix",
            "# User and group … User = cfg.user; … Group = cfg.group;",
        ),
        since="19.09",
        owner="config.services.nginx.user",
        owner_default="nginx",  # (its user option's default)
        user_from="services.nginx.enable",
    )
    _user = re.compile(r"^[A-Za-z0-9._@+-]+$")

    def matches(self, path: Sequence[str]) -> bool:
        return match("services.nginx.virtualHosts.*.basicAuth.*", path) or match(
            "services.nginx.virtualHosts.*.locations.*.basicAuth.*", path
        )

    def targets(self) -> tuple[str, ...]:
        """nginx runs as its user (no root master: ``User = cfg.user``), so that user
        reads the htpasswd file ``basicAuthFile`` names, a virtual host's TLS key, and
        any file its configuration text names (``auth_basic_user_file ${…}``)."""
        return (
            "services.nginx.virtualHosts.*.basicAuthFile",
            "services.nginx.virtualHosts.*.locations.*.basicAuthFile",
            "services.nginx.virtualHosts.*.sslCertificateKey",
            "services.nginx.virtualHosts.*.extraConfig",
            "services.nginx.virtualHosts.*.locations.*.extraConfig",
            "services.nginx.appendHttpConfig|commonHttpConfig|appendConfig|httpConfig|config",
        )

    @staticmethod
    def _zone(site: Site) -> tuple[str, ...]:
        """The path of the virtual host or location that holds ``basicAuth``."""
        return tuple(site.path[:-2])

    @staticmethod
    def _where(path: Sequence[str]) -> str:
        vhost = slug(path[3])
        if len(path) == 4:
            return vhost
        location = path[5].strip("/")
        return f"{vhost}/{slug(location) if location else 'root'}"

    def name(self, site: Site) -> str:
        return f"nginx/{self._where(self._zone(site))}/basic-auth/{slug(site.path[-1])}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        if "\n" in site.secret.reveal() or "\r" in site.secret.reveal():
            return Refusal("the value spans several lines")
        user = site.path[-1]
        if not self._user.match(user):
            return Refusal("the user name cannot be written into an htpasswd line")
        zone = self._zone(site)
        if site.has_option((*zone, "basicAuthFile")):
            return Refusal("basicAuthFile is set as well")
        binding = site.binding
        if binding is None:
            return Refusal("the secret is not the whole value of an attribute")
        template = "nginx-basic-auth-" + self._where(zone).replace("/", "-")
        return Rewrite(
            site.secret,
            [delete_node(site.tree, binding)],
            f"{'.'.join(zone[3:])}.basicAuthFile (htpasswd template)",
            template=TemplateLine(
                template=template,
                line=f"{user}:{{PLAIN}}{emit.placeholder(name)}",
                option=(*zone, "basicAuthFile"),
                restart_units=("nginx.service",),
            ),
        )
