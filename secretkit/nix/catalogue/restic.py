"""restic: files given as ``pkgs.writeText`` (``passwordFile``, ``repositoryFile``,
``environmentFile``, …) → sops secret or template, owned by the backup's ``user`` (the
unit runs ``User = backup.user`` and restic opens ``RESTIC_PASSWORD_FILE`` itself);
``rcloneConfig`` secrets → ``RCLONE_CONFIG_<REMOTE>_<KEY>`` lines of the backup's
``environmentFile`` (read by systemd)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from secretkit.nix import emit
from secretkit.nix.catalogue.base import (
    NIXPKGS,
    Reader,
    Refusal,
    Rewrite,
    Site,
    Source,
    match,
    rebind,
    slug,
    user_option_reader,
)
from secretkit.nix.catalogue.envfile import EnvRow, EnvTemplate
from secretkit.nix.catalogue.write_text import WriteTextRoute
from secretkit.sensitive import Sensitive

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


_REPOSITORY_FILE = Source(
    "infinixbot/nixpkgs",  # a nixpkgs mirror (24.x): NixOS/nixpkgs's stored copies predate it
    "d670a89a7c00e4d171f677a3f62f6111b312a314",
    _MODULE,
    "repositoryFile = mkOption { type = with types; nullOr path; … assertion = "
    "(v.repository == null) != (v.repositoryFile == null); … RESTIC_REPOSITORY_FILE = "
    "backup.repositoryFile; … User = backup.user;",
)


class Repository:
    """``services.restic.backups.<b>.repository`` holding credentials (``rest:https://
    user:pass@host/repo``, ``s3:https://key:secret@…``) → the whole URL in a sops secret
    given to ``repositoryFile``: restic reads ``RESTIC_REPOSITORY_FILE`` itself, as the
    backup's ``user`` (its owner when not root), and the module asserts that exactly one
    of the two is set, so ``repository`` goes.  ``since`` is 21.11, the first release
    known here to have ``repositoryFile`` (a pin before it is refused).  A backup with
    ``rcloneConfig`` is refused: the module reads the rclone remote's name from
    ``repository`` (``rcloneRemoteName``)."""

    key = "restic-repository"
    description = (
        "services.restic.backups.<b>.repository with credentials → repositoryFile (the whole "
        "URL; restic reads it as the backup's user)"
    )
    reader = Reader("daemon", _REPOSITORY_FILE, since="21.11")

    def matches(self, path: Sequence[str]) -> bool:
        return match("services.restic.backups.*.repository", path)

    def target_reader(self, path: Sequence[str]) -> Reader | None:
        """The backup's user reads its ``repositoryFile`` (root unless ``user`` says)."""
        if not match("services.restic.backups.*.repositoryFile", path):
            return None
        return user_option_reader(self.reader, [*path[:-1], "user"])

    def name(self, site: Site) -> str:
        return f"restic/{slug(site.path[3])}/repository"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        backup = list(site.path[:-1])
        if site.has_option([*backup, "repositoryFile"]):
            return Refusal("repositoryFile is set as well")
        if site.has_option([*backup, "rcloneConfig"]):
            return Refusal(
                "the backup sets rcloneConfig, whose variables the module names after the "
                "rclone remote in repository: it cannot be a file"
            )
        owner = None
        if site.has_option([*backup, "user"]):
            user = site.plain_string([*backup, "user"])
            if user is None:
                return Refusal("the backup's user is not a plain string: the owner is unknown")
            owner = emit.nix_string(user) if user != "root" else None
        if site.holder is not None or site.literal.strip() != site.literal:
            return Refusal("the repository is not one plain string")
        edits = rebind(site, "repositoryFile", emit.secret_ref(name))
        if isinstance(edits, Refusal):
            return edits
        return Rewrite(
            Sensitive(site.literal),  # (the whole URL: restic reads the location from it)
            edits,
            "repositoryFile",
            owner=owner,
            defines=[(*site.path[:-1], "repositoryFile")],
        )


REPOSITORY = Repository()
