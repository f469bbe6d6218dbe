"""A tailscale auth key in ``extraUpFlags``, or given ``authKeyFile`` as a store file →
``authKeyFile`` from sops."""

from __future__ import annotations

import re
from collections.abc import Sequence

from secretkit.nix import cst, emit
from secretkit.nix.catalogue.base import (
    OptionSpec,
    Reader,
    Refusal,
    Rewrite,
    Site,
    Source,
    delete_node,
    match,
)
from secretkit.nix.catalogue.write_text import WriteTextRoute
from secretkit.sensitive import Sensitive


class Tailscale:
    key = "tailscale-authkey"
    description = "tailscale --authkey=… in extraUpFlags → services.tailscale.authKeyFile"
    reader = Reader(
        "root",
        Source(
            "infinixbot/nixpkgs",  # a nixpkgs mirror; NixOS/nixpkgs's stored copy predates it
            "4046575e530e0574b2672e5ab29dce702d83496a",
            "nixos/modules/services/networking/tailscale.nix",
            # tailscaled-autoconnect sets no User=: a root oneshot
            "${cfg.package}/bin/tailscale up --auth-key 'file:${cfg.authKeyFile}'",
        ),
        since="23.05",
    )
    _flag = re.compile(r"^--auth-?key(?:=(.*))?$", re.S)

    def matches(self, path: Sequence[str]) -> bool:
        return match("services.tailscale.extraUpFlags.[]", path)

    def name(self, site: Site) -> str:
        return "tailscale/authkey"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        option = ("services", "tailscale", "authKeyFile")
        flag = self._flag.match(site.literal)
        doomed = [site.string]
        if flag and flag[1] is not None:
            value = flag[1]
        elif flag is None and site.literal == site.secret.reveal():
            before = site.string.prev_named_sibling
            if before is None or before.type != "string_expression":
                return Refusal("the auth key is not the value of a tailscale auth-key flag")
            if not self._flag.match(cst.string_text(site.tree, before)):
                return Refusal("the auth key is not the value of a tailscale auth-key flag")
            doomed.insert(0, before)
            value = site.literal
        else:
            return Refusal("the auth key is not the value of a tailscale auth-key flag")
        return Rewrite(
            Sensitive(value),
            [delete_node(site.tree, node) for node in doomed],
            "services.tailscale.authKeyFile",
            restart_units=("tailscaled-autoconnect.service",),
            options=[OptionSpec(option, emit.secret_ref(name), True)],
            defines=[option],
        )


# ``authKeyFile = pkgs.writeText "…" "<key>"``: the same reader (a root oneshot), so
# the sops file stays root's 0400 (the catch-all would leave it 0444, reader unknown).
AUTHKEY_FILE = WriteTextRoute(
    key="tailscale-authkey-file",
    description=(
        'services.tailscale.authKeyFile given pkgs.writeText "…" "<key>" → the sops '
        "secret's path (tailscaled-autoconnect, a root oneshot, reads it)"
    ),
    reader=Tailscale.reader,
    patterns=("services.tailscale.authKeyFile",),
    unit="tailscaled-autoconnect.service",
)
