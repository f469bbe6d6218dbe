"""GitHub runner registration tokens → ``tokenFile`` (copied by a privileged
``ExecStartPre`` into the runner's state directory)."""

from __future__ import annotations

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.sibling import Row, SiblingFile

ENTRY = SiblingFile(
    key="github-runner-token",
    description="services.github-runners.<n>.token → tokenFile (root ExecStartPre copies it)",
    reader=Reader(
        "root",
        Source(
            NIXPKGS,
            "5927a0f50934a1e8c37dfca2909f9d613fddf90b",
            "nixos/modules/services/continuous-integration/github-runner/service.nix",
            # the root ExecStartPre copies tokenFile for the DynamicUser unit
            '"+${unconfigureRunner}" # runs as root … '
            'install --mode=666 ${escapeShellArg cfg.tokenFile} "${newConfigTokenPath}"',
        ),
        since="22.11",
    ),
    rows=(Row("services.github-runners.*.token", "tokenFile"),),
)
