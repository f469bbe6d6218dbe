"""OCI containers: secrets in ``containers.<c>.environment`` → that container's
``environmentFiles`` (``--env-file``, read by the backend the unit runs: as root, or as
``podman.user`` for a rootless podman container — then that user owns the file)."""

from __future__ import annotations

from secretkit.nix import cst, emit
from secretkit.nix.catalogue.base import NIXPKGS, Reader, Site, Source
from secretkit.nix.catalogue.envfile import EnvRow, EnvTemplate


def _unit(site: Site) -> str:
    """The container's unit: its ``serviceName`` (``default = "${cfg.backend}-${name}"``
    in oci-containers.nix at the entry's commit; nixpkgs #370089, in 24.11 by the
    backport #370887), else ``<backend>-<name>`` as releases before it name it (the
    backend is the host's choice: docker or podman)."""
    name = site.path[3]
    quoted = emit.nix_string(name)[1:-1]
    service = f"config.virtualisation.oci-containers.containers.{emit.attr(name)}.serviceName"
    backend = f'"${{config.virtualisation.oci-containers.backend}}-{quoted}"'
    return emit.NixExpr(f'"${{{service} or {backend}}}.service"')


def _podman_user(site: Site) -> str | None:
    binding = cst.find_option(site.tree, site.top, [*site.path[:4], "podman", "user"])
    value = cst.unwrap(binding.child_by_field_name("expression")) if binding else None
    if value is None or value.type != "string_expression":
        return None
    user = cst.string_text(site.tree, value)
    return None if user == "root" else emit.nix_string(user)


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
            "035a24e7ed33009b8a503ad0b76679665b8977a8",
            "nixos/modules/virtualisation/oci-containers.nix",
            '++ map (f: "--env-file ${escapeShellArg f}") container.environmentFiles … '
            "User = effectiveUser;",
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
            owner_of=_podman_user,
            unit_of=_unit,
        ),
    ),
    prefix="containers",
)
