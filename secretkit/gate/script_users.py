"""Who runs a service's script, for the gate's ``service-readable``: a sops file read
in ``systemd.services.<u>.script`` (``preStart``, …) is opened by the unit's ``User=``,
root when the unit sets none — NixOS runs the script as the unit's ``ExecStart``
(:class:`secretkit.nix.catalogue.systemd_script.ServiceScript` records the source).

migrate writes that user as the secret's owner; this reads the same option again on
each host, so a declaration edited since (or a ``User=`` changed since) is judged.
Units whose NixOS module picks the user are the catalogue's
(:meth:`~secretkit.nix.catalogue.systemd_script.ServiceScript.target_reader`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext
    from secretkit.gate.model import CheckResult
    from secretkit.nix.catalogue.base import Reader


def script_reader(ctx: CheckContext, file: str, path: Sequence[str]) -> Reader | None:
    """The reader of a file a unit's script at ``path`` (of ``file``) reads: the
    unit's ``User=`` where the hosts using ``file`` set it to one plain name, a root
    reader where none sets it (or sets ``root``); None when it is not a script, its
    module picks the user, or the user cannot be told (``DynamicUser``, an expression,
    two names: not judged, as before)."""
    from secretkit.gate.option_values import values_by_host
    from secretkit.nix import emit
    from secretkit.nix.catalogue.base import Reader
    from secretkit.nix.catalogue.systemd_script import ServiceScript

    script = ServiceScript()
    if not script.matches(path) or script.target_reader(path) is not None:
        return None
    unit = list(path[:3])
    dynamic = values_by_host(ctx, [*unit, "serviceConfig", "DynamicUser"], at=file)
    if any(values for values in dynamic.values()):
        return None  # (a user systemd makes up: dynamic_users' question)
    by_host = values_by_host(ctx, [*unit, "serviceConfig", "User"], at=file)
    users = {value for values in by_host.values() for value in values}
    if None in users or len(users) > 1:
        return None
    user = next((u for u in users if u is not None), "root")
    base = script.reader
    if user == "root":
        return Reader("root", base.source, base.since)
    return Reader("daemon", base.source, base.since, owner=emit.nix_string(user))


def dynamic_reader(
    ctx: CheckContext, file: str, line: int, path: Sequence[str], what: str, readable: bool
) -> CheckResult | None:
    """A failure for a script of a ``DynamicUser`` unit reading the sops file ``what``
    (``readable``: its mode lets every user read it): systemd makes the user up when
    the unit starts, so no sops-nix ``owner`` can name it, and the file is root's."""
    from secretkit.gate.model import CheckResult
    from secretkit.gate.option_values import values_by_host
    from secretkit.nix.catalogue.systemd_script import ServiceScript

    if readable or not ServiceScript().matches(path):
        return None
    unit = list(path[:3])
    dynamic = values_by_host(ctx, [*unit, "serviceConfig", "DynamicUser"], at=file)
    if not any("true" in values for values in dynamic.values()):
        return None
    shown = ".".join(path)
    credential = path[2].replace('"', "")
    return CheckResult(
        "service-readable",
        False,
        f"{file}:{line}: {shown} reads {what}, but the unit sets DynamicUser = true: its "
        "user is made up when it starts, so no owner can name it, and sops-nix makes the "
        "file root's, mode 0400: the script cannot open it",
        f"hand it to the unit: systemd.services.{unit[2]}.serviceConfig.LoadCredential = "
        f'[ "{credential}:${{{what}}}" ]; and read "$CREDENTIALS_DIRECTORY/{credential}" in '
        "the script in its place (systemd reads the file as root and gives the unit a copy)",
        (file,),
    )
