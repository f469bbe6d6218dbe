"""A ``*File`` option given ``pkgs.writeText`` → the sops secret's path."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar

from secretkit.nix import emit
from secretkit.nix.catalogue.base import (
    NIXPKGS,
    Reader,
    Refusal,
    Rewrite,
    Site,
    Source,
    slug,
)
from secretkit.nix.edits import Edit


class WriteTextFile:
    key = "write-text-file"
    description = (
        'a *File option given pkgs.writeText "…" "<secret>" (restic passwordFile, …) '
        "→ the sops secret's path"
    )
    reader = Reader(
        "root",
        Source(
            NIXPKGS,
            "master",
            "nixos/modules/services/backup/restic.nix",
            "passwordFile: read by restic as the backup's user (root unless set)",
            read=False,
        ),
        since="20.09",
    )
    _units: ClassVar[dict[str, str]] = {"restic": "restic-backups-{}.service"}

    def matches(self, path: Sequence[str]) -> bool:
        return bool(path) and path[-1].endswith(("File", "_file", "Path"))

    def name(self, site: Site) -> str:
        head = site.path[1] if site.path[0] == "services" and len(site.path) > 2 else site.path[0]
        middle = [slug(p) for p in site.path[2:-1] if not p.startswith("[")]
        middle = [m for m in middle if m not in ("backups", "jobs", "settings", "config")]
        last = re.sub(r"(File|_file|Path)$", "", site.path[-1]) or "secret"
        return "/".join([slug(head), *middle, slug(last)])

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.holder is None:
            return Refusal(f"{site.path[-1]} holds a file name, not the secret itself")
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the file text")
        units: tuple[str, ...] = ()
        if site.path[:3] == ("services", "restic", "backups") and len(site.path) > 3:
            units = (self._units["restic"].format(site.path[3]),)
        return Rewrite(
            site.secret,
            [Edit(site.holder.start_byte, site.holder.end_byte, emit.secret_ref(name))],
            f"{site.path[-1]} = sops secret (was pkgs.writeText)",
            restart_units=units,
        )
