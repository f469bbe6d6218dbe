"""cloudflared tunnel credentials (the tunnel's JSON) given as ``pkgs.writeText`` →
a sops secret or template.  Who reads it depends on the release: up to 24.11 the
tunnel's unit runs as ``services.cloudflared.user`` and cloudflared opens the file
itself (its path is the config's ``credentials-file``), so the secret is owned by that
user; from 25.05 (nixpkgs PR #383499: ``DynamicUser`` and ``LoadCredential``) systemd
reads it as root and the ``user`` option is removed, so the secret stays root-only.
"""

from __future__ import annotations

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.write_text import WriteTextRoute

_PATH = "nixos/modules/services/networking/cloudflared.nix"

# 25.05 and later: the unit gets the file through LoadCredential (systemd reads, as root)
LOAD_CREDENTIAL = Source(
    NIXPKGS,
    "06bf1a1a2aa648391e629b9efddd35dc63459bbc",
    _PATH,
    '(lib.optional (tunnel.credentialsFile != null) "credentials.json:${tunnel.credentialsFile}")'
    " … DynamicUser = true;",
)

ENTRY = WriteTextRoute(
    key="cloudflared-credentials",
    description=(
        "services.cloudflared.tunnels.<id>.credentialsFile / certificateFile given "
        "pkgs.writeText → sops secret or template (cloudflared's user reads it up to "
        "24.11; from 25.05 systemd does, LoadCredential)"
    ),
    reader=Reader(
        "daemon",
        Source(  # up to 24.11: the unit runs as cfg.user, which opens credentials-file
            NIXPKGS,
            "d18ae5032b8a6b9c7083a339ad41f7668e9bc41d",
            _PATH,
            '"credentials-file" = tunnel.credentialsFile; … User = cfg.user;',
        ),
        since="23.05",
        owner="config.services.cloudflared.user",
        owner_default="cloudflared",  # (its user option's default)
        user_from="services.cloudflared.enable",
        owner_until="25.05",  # DynamicUser + LoadCredential; the user option is removed
    ),
    patterns=(
        "services.cloudflared.tunnels.*.credentialsFile",
        "services.cloudflared.certificateFile",
        "services.cloudflared.tunnels.*.certificateFile",
    ),
    unit="cloudflared-tunnel-{3}.service",
)
