"""Database initial scripts given as ``pkgs.writeText "…" ''CREATE ROLE … PASSWORD '…'; ''``
→ a sops template of the same SQL, owned by the user that runs it.

* PostgreSQL: ``postgresql.service`` runs as ``User = "postgres"`` and its
  ``postStart`` feeds the file to ``psql -f`` on the first start: the postgres user
  opens it.
* MySQL/MariaDB: the first-start setup ``cat``s the file into ``mysql``, in a script
  that runs as ``cfg.user`` (older modules) or as root (``+`` ExecStartPost); owned by
  ``services.mysql.user`` either can read it.

Neither unit is restarted when the script changes: it runs once, on the first start.
"""

from __future__ import annotations

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.write_text import WriteTextRoute

POSTGRESQL = WriteTextRoute(
    key="postgresql-initial-script",
    description=(
        "services.postgresql.initialScript given pkgs.writeText → sops template of the "
        "same SQL, owned by postgres (psql -f in postgresql.service's postStart)"
    ),
    reader=Reader(
        "daemon",
        Source(
            NIXPKGS,
            "86cdf5f981057c6eed14872b560ddfb91e9daee5",
            "nixos/modules/services/databases/postgresql.nix",
            'PSQL="psql --port=${toString cfg.port}" … $PSQL -f "${cfg.initialScript}" -d '
            'postgres … serviceConfig = mkMerge [ { … User = "postgres";',
        ),
        since="17.03",
        owner='"postgres"',
        user_from="services.postgresql.enable",
    ),
    patterns=("services.postgresql.initialScript",),
)

MYSQL = WriteTextRoute(
    key="mysql-initial-script",
    description=(
        "services.mysql.initialScript given pkgs.writeText → sops template of the same "
        "SQL, owned by services.mysql.user (the first-start setup cats it into mysql)"
    ),
    reader=Reader(
        "daemon",
        Source(
            NIXPKGS,
            "169227bfd248f1bc4175e62d2e3d77658f9b0738",
            "nixos/modules/services/databases/mysql.nix",
            "cat ${toString cfg.initialScript} | ${cfg.package}/bin/mysql -u ${superUser} "
            "-N … User = cfg.user;",
        ),
        since="17.03",
        owner="config.services.mysql.user",
        owner_default="mysql",  # (its user option's default)
        user_from="services.mysql.enable",
    ),
    patterns=("services.mysql.initialScript",),
)
