"""Paperless: secrets in ``settings`` (``PAPERLESS_SECRET_KEY``, ``PAPERLESS_DBPASS``, …)
→ ``environmentFile`` (every paperless unit's ``EnvironmentFile``, read by systemd,
and sourced by the ``paperless-manage`` script);
the admin password → ``passwordFile``."""

from __future__ import annotations

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.envfile import EnvRow, EnvTemplate
from secretkit.nix.catalogue.sibling import Row, SiblingFile

_MODULE = "nixos/modules/services/misc/paperless.nix"

SETTINGS = EnvTemplate(
    key="paperless-settings",
    description="services.paperless.settings.PAPERLESS_<SECRET> → environmentFile (env template)",
    reader=Reader(
        "systemd",
        Source(
            NIXPKGS,
            "013635633ffe11f70df1d639f563f21c42c1f778",
            _MODULE,
            "Path to a file containing extra paperless config options in the systemd "
            "`EnvironmentFile` format.",
        ),
        since="24.11",
    ),
    rows=(
        EnvRow(
            "services.paperless.settings.PAPERLESS_SECRET_KEY|PAPERLESS_DBPASS"
            "|PAPERLESS_EMAIL_HOST_PASSWORD|PAPERLESS_SOCIAL_ACCOUNT_PROVIDERS",
            ("services", "paperless", "environmentFile"),
            "paperless.env",
            "paperless-web.service",
            # (every paperless unit has it as its EnvironmentFile, and the manage script
            # sources it: `source ${cfg.environmentFile}`, at the reader's commit)
            also=(
                "paperless-scheduler.service",
                "paperless-task-queue.service",
                "paperless-consumer.service",
            ),
            sourced=True,
        ),
    ),
    prefix="paperless",
)

ADMIN = SiblingFile(
    key="paperless-admin",
    description="services.paperless.settings.PAPERLESS_ADMIN_PASSWORD → passwordFile",
    reader=Reader(
        "systemd",
        Source(
            NIXPKGS,
            "013635633ffe11f70df1d639f563f21c42c1f778",
            _MODULE,
            "LoadCredential = lib.optionalString ( cfg.passwordFile != null ) "
            '"PAPERLESS_ADMIN_PASSWORD:${cfg.passwordFile}";',
        ),
        since="22.05",
    ),
    rows=(
        Row(
            "services.paperless.settings.PAPERLESS_ADMIN_PASSWORD",
            "services.paperless.passwordFile",
            "paperless-scheduler.service",
            moved=True,
        ),
    ),
)
