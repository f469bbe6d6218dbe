"""Gitea: the mailer password, the database password and the metrics token →
``mailerPasswordFile`` / ``database.passwordFile`` / ``metricsTokenFile``.

The unit's ``preStart`` (``User = cfg.user``) splices each file into ``app.ini`` with
``replace-secret``, so the files belong to the Gitea user.  The module itself sets
``settings.mailer.PASSWD = "#mailerpass#"`` once ``mailerPasswordFile`` is set: the
literal must go, or the two definitions conflict.
"""

from __future__ import annotations

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.sibling import Row, SiblingFile

ENTRY = SiblingFile(
    key="gitea-secrets",
    description=(
        "services.gitea.settings.mailer.PASSWD / database.password / settings.metrics.TOKEN "
        "→ mailerPasswordFile / database.passwordFile / metricsTokenFile (owner gitea)"
    ),
    reader=Reader(
        "daemon",
        Source(
            NIXPKGS,
            "0197a805bd6ac4518360c39ea37b1c7e8d238906",
            "nixos/modules/services/misc/gitea.nix",
            "${replaceSecretBin} '#mailerpass#' '${cfg.mailerPasswordFile}' '${runConfig}' "
            "(preStart; serviceConfig.User = cfg.user)",
        ),
        since="21.11",
        owner="config.services.gitea.user",
        owner_default="gitea",  # (its user option's default)
        user_from="services.gitea.enable",
    ),
    rows=(
        Row(
            "services.gitea.settings.mailer.PASSWD",
            "services.gitea.mailerPasswordFile",
            "gitea.service",
            moved=True,
        ),
        Row("services.gitea.database.password", "passwordFile", "gitea.service"),
        Row(
            "services.gitea.settings.metrics.TOKEN",
            "services.gitea.metricsTokenFile",
            "gitea.service",
            moved=True,
        ),
    ),
)
