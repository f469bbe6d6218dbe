"""``service-readable``: an owner that is a service's ``DynamicUser``.

A unit with ``DynamicUser = true`` gets a user systemd makes while it runs; no
``/etc/passwd`` entry exists, so sops-nix cannot look the owner up and stops installing
every secret of the host.  Such a service opens a secret file only as root hands it
over: systemd's ``EnvironmentFile`` or ``LoadCredential`` (both read as root)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult
from secretkit.nix.catalogue.base import NIXPKGS, Source

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext

POINT = "service-readable"
# the user name people write -> (the service, its unit, where NixOS says DynamicUser)
DYNAMIC = {
    "alertmanager": (
        "services.prometheus.alertmanager",
        "alertmanager",
        Source(
            NIXPKGS,
            "01f31c2ee7d045a337dff0f858c0ed61dd0f4ddb",
            "nixos/modules/services/monitoring/prometheus/alertmanager.nix",
            "serviceConfig = { … DynamicUser = true; # implies PrivateTmp",
        ),
    ),
}


def dynamic_owners(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.gate.module_sites import line_of

    facts = ctx.nix()
    out = []
    for kind, declared in (("secrets", facts.declarations), ("templates", facts.templates)):
        for decl in declared:
            for field in ("owner", "group"):
                value = getattr(decl, field)
                named = value.strip('"') if value and value.startswith('"') else None
                if named not in DYNAMIC:
                    continue
                service, unit, _source = DYNAMIC[named]
                at = f"{decl.file}:{line_of(ctx, decl.file, decl.offset)}"
                what = f'sops.{kind}."{decl.name}"'
                out.append(
                    CheckResult(
                        POINT,
                        False,
                        f"{at}: {what} sets {field} = {value}; but {service} runs with "
                        f"DynamicUser: no {named} user or group exists outside the running "
                        "unit, and sops-nix stops installing the host's secrets on an "
                        f"{field} it cannot find",
                        f"take {field} out of {what} ({at}) and hand the file over as root "
                        f"does: systemd.services.{unit}.serviceConfig.LoadCredential = "
                        f'[ "<id>:${{config.sops.{kind}."{decl.name}".path}}" ]; with '
                        f"/run/credentials/{unit}.service/<id> where the file is named",
                        (decl.file,),
                    )
                )
    return out
