"""k3s / rke2 cluster tokens → ``tokenFile`` / ``agentTokenFile`` (passed as
``--token-file`` to the server or agent, which runs as root)."""

from __future__ import annotations

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.sibling import Row, SiblingFile

K3S = SiblingFile(
    key="k3s-token",
    description="services.k3s.token / agentToken → tokenFile / agentTokenFile (root reads)",
    reader=Reader(
        "root",
        Source(
            NIXPKGS,
            "01f31c2ee7d045a337dff0f858c0ed61dd0f4ddb",
            "nixos/modules/services/cluster/k3s/default.nix",
            '++ (optional (cfg.tokenFile != null) "--token-file ${cfg.tokenFile}")',
        ),
        since="21.05",
    ),
    rows=(
        Row("services.k3s.token", "tokenFile", "k3s.service"),
        Row("services.k3s.agentToken", "agentTokenFile", "k3s.service"),
    ),
)

RKE2 = SiblingFile(
    key="rke2-token",
    description="services.rke2.token / agentToken → tokenFile / agentTokenFile (root reads)",
    reader=Reader(
        "root",
        Source(
            NIXPKGS,
            "1945ffc21a5c8a17c9b9f71332498540c5c171d5",
            "nixos/modules/services/cluster/rke2/default.nix",
            # systemd.services.rke2 sets no User=: root reads the file
            '++ (optional (cfg.tokenFile != null) "--token-file=${cfg.tokenFile}")',
        ),
        since="24.05",
    ),
    rows=(
        Row("services.rke2.token", "tokenFile", "rke2-server.service"),
        Row("services.rke2.agentToken", "agentTokenFile", "rke2-server.service"),
    ),
)
