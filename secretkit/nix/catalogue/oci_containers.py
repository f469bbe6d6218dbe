"""OCI containers: secrets in ``containers.<c>.environment`` → that container's
``environmentFiles`` (``--env-file`` of the root unit that runs podman/docker)."""

from __future__ import annotations

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.envfile import EnvRow, EnvTemplate

ENTRY = EnvTemplate(
    key="oci-containers-environment",
    description=(
        "virtualisation.oci-containers.containers.<c>.environment.<VAR> → environmentFiles "
        "(--env-file, read by the root unit)"
    ),
    reader=Reader(
        "root",
        Source(
            NIXPKGS,
            "master",
            "nixos/modules/virtualisation/oci-containers.nix",
            'map (f: "--env-file ${escapeShellArg f}") container.environmentFiles',
            read=False,
        ),
        since="21.05",
    ),
    rows=(
        EnvRow(
            "virtualisation.oci-containers.containers.*.environment.*",
            ("virtualisation", "oci-containers", "containers", "{3}", "environmentFiles"),
            "{3}-container.env",
            list_option=True,
            var=lambda site: site.path[-1],
        ),
    ),
    prefix="containers",
)
