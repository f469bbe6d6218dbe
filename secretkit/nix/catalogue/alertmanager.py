"""Alertmanager receiver secrets through envsubst and an environment file."""

from __future__ import annotations

from collections.abc import Sequence

from secretkit.nix import emit
from secretkit.nix.catalogue.base import (
    NIXPKGS,
    OptionSpec,
    Reader,
    Refusal,
    Rewrite,
    Site,
    Source,
    TemplateLine,
    env_safe,
    env_var,
    match,
    replace_literal,
    slug,
)


class Alertmanager:
    key = "alertmanager-receiver"
    description = (
        "Alertmanager receiver secrets (Pushover token/user_key, smtp_auth_password, …) "
        "→ $VAR + environmentFile from a sops template (the unit uses DynamicUser)"
    )
    reader = Reader(
        "systemd",
        Source(
            NIXPKGS,
            "01f31c2ee7d045a337dff0f858c0ed61dd0f4ddb",
            "nixos/modules/services/monitoring/prometheus/alertmanager.nix",
            "EnvironmentFile = lib.mkIf (cfg.environmentFile != null) cfg.environmentFile;",
        ),
        since="20.09",
    )
    _pattern = "services.prometheus.alertmanager.configuration.receivers.[].*.[].**"

    # (the unit runs envsubst over the whole configuration file: global's keys too,
    # smtp_auth_password, slack_api_url)
    _global = "services.prometheus.alertmanager.configuration.global.*"
    # A URL field (api_url, webhook url, slack_api_url …) is parsed as a URL when the
    # build checks the file with amtool, before envsubst ran at start: "$VAR" fails
    # ("unsupported scheme"), so the check is turned off.  checkConfig exists since
    # 23.05 (NixOS/nixpkgs PR #207093, merged 2022-12-21); before it, the check always
    # ran, and such a field cannot be moved this way.
    check_config = Source(
        NIXPKGS,
        "01f31c2ee7d045a337dff0f858c0ed61dd0f4ddb",
        "nixos/modules/services/monitoring/prometheus/alertmanager.nix",
        "checkedConfig = file: if cfg.checkConfig then pkgs.runCommand … amtool check-config",
    )
    check_config_since = "23.05"

    @staticmethod
    def checked_as_url(path: Sequence[str]) -> bool:
        """Whether amtool's build-time check parses the field at ``path`` (under
        ``configuration``) as a URL: then ``"$VAR"`` there fails the build unless
        ``checkConfig = false``."""
        return bool(path) and (path[-1] == "url" or path[-1].endswith("_url"))

    def matches(self, path: Sequence[str]) -> bool:
        if match(self._global, path):
            return True
        return match(self._pattern, path) and path[6].endswith("_configs")

    def name(self, site: Site) -> str:
        if site.path[4] == "global":
            return f"alertmanager/global/{slug(site.path[5])}"
        kind = site.path[6].removesuffix("_configs")
        receiver = site.sibling_string(len(site.path) - 6, "name")
        who = kind if receiver in (None, kind) else slug(receiver or kind)
        field_name = "/".join(slug(p) for p in site.path[8:] if not p.startswith("["))
        return f"alertmanager/{who}/{field_name}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        if not env_safe(site.secret):
            return Refusal("the value has characters an environment file cannot carry")
        var = env_var(name.removeprefix("alertmanager/"))
        url = self.checked_as_url(site.path)
        return Rewrite(
            options=(
                [
                    OptionSpec(
                        ("services", "prometheus", "alertmanager", "checkConfig"), "false", True
                    )
                ]
                if url
                else []
            ),
            since=self.check_config_since if url else None,
            value=site.secret,
            edits=[replace_literal(site, emit.nix_string("$" + var))],
            new_option=f"{site.path[-1]} = ${var} (environmentFile)",
            template=TemplateLine(
                template="alertmanager.env",
                line=f"{var}={emit.placeholder(name)}",
                option=("services", "prometheus", "alertmanager", "environmentFile"),
                restart_units=("alertmanager.service",),
            ),
        )
