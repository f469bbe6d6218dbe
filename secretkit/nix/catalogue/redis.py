"""Redis: ``requirePass`` → ``requirePassFile`` (of ``services.redis.servers.<name>``,
or of the single server the old ``services.redis.*`` names rename to).

The file is read by the unit's ``ExecStartPre = [ "+…" ]`` (full privileges), which
appends ``requirePass <file>`` to the instance's ``redis.conf``: root-owned is right,
and the instance's unit (``redis-<name>``, ``redis`` for the server named "") reads a
new one when it restarts.
``masterAuth`` has no file option and is left to the user.
"""

from __future__ import annotations

from collections.abc import Sequence

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.sibling import Row, SiblingFile


def _unit(path: Sequence[str]) -> str:
    """The instance's unit, which reads the file when it starts: ``redis-<name>``, and
    ``redis`` for the server named "" (nixpkgs: ``redisName``)."""
    name = path[3] if len(path) > 4 and path[2] == "servers" else ""
    return f"redis-{name}.service" if name else "redis.service"


ENTRY = SiblingFile(
    key="redis-requirepass",
    description="services.redis.servers.<name>.requirePass → requirePassFile "
    "(read by a root ExecStartPre)",
    reader=Reader(
        "root",
        Source(
            NIXPKGS,
            "1f82b8abefc0f719de6d51b95310491f166dc1c1",
            "nixos/modules/services/databases/redis.nix",
            'ExecStartPre = [("+"+pkgs.writeShellScript "${redisName name}-credentials" (\'\'',
        ),
        since="21.11",  # (servers.<name>; before it preStart read the file as redis)
    ),
    rows=(
        Row("services.redis.servers.*.requirePass", "requirePassFile", unit_of=_unit),
        # (renamed to servers."")
        Row("services.redis.requirePass", "requirePassFile", unit_of=_unit),
    ),
)
