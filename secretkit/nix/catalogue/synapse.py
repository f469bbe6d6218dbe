"""Matrix Synapse: top-level secrets of ``settings`` (``registration_shared_secret``,
``macaroon_secret_key``, ``form_secret``, …) → a YAML file in ``extraConfigFiles``.

Synapse merges extra config files over the generated one key by key at the top
level, so only top-level keys move (a nested ``email.smtp_pass`` would replace the
whole ``email`` section: refused).  Synapse reads the file itself, as
``matrix-synapse``."""

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
    match,
    slug,
)


class SynapseExtraConfig:
    key = "synapse-extra-config"
    description = (
        "services.matrix-synapse.settings.<secret> → a sops template in extraConfigFiles "
        "(owner matrix-synapse)"
    )
    reader = Reader(
        "daemon",
        Source(
            NIXPKGS,
            "02d79c9c8bcba9020b4c93784f96e0cb15709349",
            "nixos/modules/services/matrix/synapse.nix",
            'User = "matrix-synapse"; … (x: "--config-path ${x} \\\\") ( [ configFile ] '
            "++ cfg.extraConfigFiles )",
        ),
        since="23.05",
        owner='"matrix-synapse"',
        user_from="services.matrix-synapse.enable",
    )

    def matches(self, path: Sequence[str]) -> bool:
        return match("services.matrix-synapse.settings.**", path)

    def targets(self) -> tuple[str, ...]:
        """synapse reads each file of ``extraConfigFiles`` (``--config-path``)."""
        return ("services.matrix-synapse.extraConfigFiles",)

    def name(self, site: Site) -> str:
        return "synapse/" + "/".join(slug(p) for p in site.path[3:] if not p.startswith("["))

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if len(site.path) != 4:
            return Refusal(
                "synapse merges extra config files at the top level only: moving "
                f"{'.'.join(site.path[3:])} would replace the whole {site.path[3]} section"
            )
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        line = emit.yaml_line(site.path[3], emit.placeholder(name), site.secret.reveal())
        if line is None:
            return Refusal("the value cannot be written on a line of a YAML file as it is")
        binding = site.binding
        if binding is None:
            return Refusal("the value is not a plain attribute")
        return Rewrite(
            site.secret,
            [delete_node(site.tree, binding)],
            f"extraConfigFiles ({site.path[3]})",
            template=TemplateLine(
                template="synapse-secrets.yaml",
                line=line,
                option=("services", "matrix-synapse", "extraConfigFiles"),
                restart_units=("matrix-synapse.service",),
                list_option=True,
            ),
        )


ENTRY = SynapseExtraConfig()
