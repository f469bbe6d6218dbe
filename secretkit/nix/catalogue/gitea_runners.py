"""Gitea/Forgejo Actions runner registration tokens → ``tokenFile``: an environment
file holding ``TOKEN=``, which systemd (root) reads as the unit's ``EnvironmentFile``
before the ``DynamicUser`` runner starts.  The token is used only to register, so
no restart is asked for (the unit's name escapes the instance's name, too)."""

from __future__ import annotations

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.envfile import EnvRow, EnvTemplate

ENTRY = EnvTemplate(
    key="gitea-runner-token",
    description=(
        "services.gitea-actions-runner.instances.<n>.token → tokenFile (TOKEN= env template, "
        "read by systemd as root)"
    ),
    reader=Reader(
        "systemd",
        Source(
            NIXPKGS,
            "014d882725c6ab65982a046f110b73214c0f5e1f",
            "nixos/modules/services/continuous-integration/gitea-actions-runner.nix",
            "} // optionalAttrs (instance.tokenFile != null) { "
            "EnvironmentFile = instance.tokenFile; };",
        ),
        since="23.05",
    ),
    rows=(
        EnvRow(
            "services.gitea-actions-runner.instances.*.token",
            ("services", "gitea-actions-runner", "instances", "{3}", "tokenFile"),
            "gitea-runner-{3}.env",
            var=lambda site: "TOKEN",
        ),
    ),
    prefix="gitea-runner",
)
