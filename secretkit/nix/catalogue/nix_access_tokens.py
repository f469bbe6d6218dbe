"""``nix.settings.access-tokens`` → ``!include`` of a sops template; a token in the
``nix.extraOptions`` text is refused with the same route to take by hand."""

from __future__ import annotations

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
    env_safe,
    match,
    slug,
)
from secretkit.sensitive import Sensitive

# /etc/nix/nix.conf is every user's; the template is root's (the reader above)
NARROWED = (
    "nix.settings.access-tokens was read by every user's nix commands; the token's "
    "template is root's, and Nix skips an !include it cannot read: the nix daemon and "
    "root's nix commands get the token, a user's own (nix flake update of a private "
    "input) fetches without it. Give that user the token in ~/.config/nix/nix.conf "
    "(access-tokens = host=token; outside the repository) if it needs one"
)


class NixAccessTokens:
    key = "nix-access-tokens"
    description = (
        "nix.settings.access-tokens → extra-access-tokens lines in a sops template "
        'pulled in with nix.extraOptions = "!include …"'
    )
    reader = Reader(
        "root",
        Source(
            NIXPKGS,
            "2d0f4a7ec19082248094eb04a35c93c94b1d35d5",
            "nixos/modules/config/nix.nix",
            # every nix process reads the !include and Nix skips an unreadable one: only
            # root's nix commands and the daemon get the tokens
            '${cfg.extraOptions} … environment.etc."nix/nix.conf".source = nixConf;',
        ),
        since="22.05",
    )

    def matches(self, path: Sequence[str]) -> bool:
        return (
            match("nix.settings.access-tokens", path)
            or match("nix.settings.access-tokens.[]", path)
            or match("nix.extraOptions", path)
        )

    def _split(self, site: Site) -> tuple[str, str] | None:
        host, sep, token = site.literal.strip().partition("=")
        if not sep or not host or " " in site.literal.strip() or not token:
            return None
        return host, token

    def name(self, site: Site) -> str:
        parts = self._split(site)
        return f"nix/access-tokens/{slug(parts[0]) if parts else 'token'}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.path[-1] == "extraOptions":  # a line of nix.conf text: moved by hand
            return Refusal(
                "the secret is a line of the nix.conf text in nix.extraOptions",
                manual=(
                    "in nix.extraOptions, !include ${config.sops.templates."
                    f'"nix-access-tokens".path}} in place of the line holding the value, and '
                    'sops.templates."nix-access-tokens".content = that line with '
                    f'${{config.sops.placeholder."{name}"}} in place of the value (root reads '
                    "it: the daemon and root's nix commands get the token)"
                ),
            )
        parts = self._split(site)
        if parts is None:
            return Refusal("access-tokens is not a single host=token entry")
        host, token = parts
        if token != site.secret.reveal() and site.literal != site.secret.reveal():
            return Refusal("the secret is not the token of the entry")
        if not env_safe(Sensitive(token)):
            return Refusal("the token has characters nix.conf cannot carry")
        doomed = site.binding if site.binding is not None else site.string
        return Rewrite(
            Sensitive(token),
            [delete_node(site.tree, doomed)],
            "nix.extraOptions = !include (extra-access-tokens)",
            template=TemplateLine(
                template="nix-access-tokens",
                line=f"extra-access-tokens = {host}={emit.placeholder(name)}",
                option=("nix", "extraOptions"),
                include=True,
            ),
            note=NARROWED,
        )
