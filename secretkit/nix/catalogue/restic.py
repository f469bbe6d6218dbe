"""restic: files given as ``pkgs.writeText`` (``passwordFile``, ``repositoryFile``,
``environmentFile``, …) → sops secret or template, owned by the backup's ``user`` (the
unit runs ``User = backup.user`` and restic opens ``RESTIC_PASSWORD_FILE`` itself);
``rcloneConfig`` secrets → ``RCLONE_CONFIG_<REMOTE>_<KEY>`` lines of the backup's
``environmentFile`` (read by systemd)."""

from __future__ import annotations

import re

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Site, Source
from secretkit.nix.catalogue.envfile import EnvRow, EnvTemplate
from secretkit.nix.catalogue.write_text import WriteTextRoute

_MODULE = "nixos/modules/services/backup/restic.nix"

FILES = WriteTextRoute(
    key="restic-files",
    description=(
        "services.restic.backups.<b>.passwordFile / repositoryFile / environmentFile … "
        "given pkgs.writeText → sops secret or template (owner: the backup's user)"
    ),
    reader=Reader(
        "daemon",
        Source(
            NIXPKGS,
            "00976b194fe32d3e425ff3b457eeb6e4ec7ba12c",
            _MODULE,
            "RESTIC_PASSWORD_FILE = backup.passwordFile; … restartIfChanged = false; … "
            'User = backup.user; … user = mkOption { type = types.str; default = "root";',
        ),
        since="18.03",
    ),
    patterns=(
        "services.restic.backups.*.passwordFile|repositoryFile|environmentFile"
        "|s3CredentialsFile|rcloneConfigFile",
    ),
    # no restartUnits: the backup unit is a oneshot its timer starts, with
    # restartIfChanged = false in the module; restarting it on a changed secret would
    # run a whole backup during activation (the next run reads the new file anyway)
    owner_sibling="user",
)


def _rclone_var(site: Site) -> str | None:
    """``RCLONE_CONFIG_<REMOTE>_<KEY>``, the remote read from ``repository = "rclone:<remote>:…"``
    as the module does (``rcloneAttrToConf``)."""
    repository = site.sibling_string(2, "repository")
    if repository is None or not repository.startswith("rclone:"):
        return None
    remote = repository.split(":")[1]
    if not remote:
        return None
    var = "RCLONE_CONFIG_" + f"{remote}_{site.path[-1]}".upper()  # exactly as the module
    return var if re.fullmatch(r"[A-Z0-9_]+", var) else None  # else no env-file name


RCLONE = EnvTemplate(
    key="restic-rclone-config",
    description=(
        "services.restic.backups.<b>.rcloneConfig.<key> → RCLONE_CONFIG_<REMOTE>_<KEY> in "
        "the backup's environmentFile (systemd reads it)"
    ),
    reader=Reader(
        "systemd",
        Source(
            "infinixbot/nixpkgs",  # a nixpkgs mirror; NixOS/nixpkgs's stored copy predates it
            "d670a89a7c00e4d171f677a3f62f6111b312a314",
            _MODULE,
            'rcloneAttrToConf = v: "RCLONE_CONFIG_" + toUpper (rcloneRemoteName + "_" + v);'
            " … EnvironmentFile = backup.environmentFile;",
        ),
        since="21.05",
    ),
    rows=(
        EnvRow(
            "services.restic.backups.*.rcloneConfig.*",
            ("services", "restic", "backups", "{3}", "environmentFile"),
            "restic-{3}.env",
            None,  # (no restart: as above)
            var=_rclone_var,
        ),
    ),
    prefix="restic/rclone",
)
