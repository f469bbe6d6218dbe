"""``systemd.services.<s>.serviceConfig.Environment = [ "VAR=…" ]`` secrets →
``EnvironmentFile`` from a sops template (the element, or the whole string, goes)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from secretkit.lazy_re import lazy
from secretkit.nix.catalogue.base import Refusal, Rewrite, Site, env_safe, match, slug
from secretkit.nix.catalogue.systemd_environment import ServiceEnvironment, service_env_file

# one assignment, the whole string: `VAR=value` (systemd.exec(5): Environment= also takes
# several, space-separated and quoted: those are left by hand)
_ONE = lazy(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", re.DOTALL)


class ServiceEnvironmentList:
    key = "systemd-environment-list"
    description = (
        'systemd.services.<s>.serviceConfig.Environment = [ "VAR=…" ] → EnvironmentFile '
        "from a sops template"
    )
    reader = ServiceEnvironment.reader  # (EnvironmentFile=: the service manager reads it)

    def matches(self, path: Sequence[str]) -> bool:
        return match("systemd.services.*.serviceConfig.Environment", path) or match(
            "systemd.services.*.serviceConfig.Environment.[]", path
        )

    def name(self, site: Site) -> str:
        found = _ONE.fullmatch(site.literal)
        var = found[1].lower() if found else "environment"
        return f"{slug(site.path[2])}/{slug(var)}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        found = _ONE.fullmatch(site.literal)
        if found is None or found[2] != site.secret.reveal():
            return Refusal("the string is not one VAR=<the secret> assignment")
        if not env_safe(site.secret):
            return Refusal("the value has characters an environment file cannot carry")
        element = site.string if site.path[-1].startswith("[") else site.binding
        if element is None:
            return Refusal("the value is not a plain attribute")
        return service_env_file(site, element, found[1], name)
