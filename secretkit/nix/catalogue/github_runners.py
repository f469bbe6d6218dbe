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
            "master",
            "nixos/modules/services/continuous-integration/github-runner/service.nix",
            'ExecStartPre = [ "+${unconfigureRunner}" "${configureRunner}" … ]',
            read=False,
        ),
        since="22.11",
    ),
    rows=(Row("services.github-runners.*.token", "tokenFile"),),
)
