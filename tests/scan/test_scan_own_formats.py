"""A file written from Nix whose name picks a format of its own: libpq's password file
(``host:port:db:user:<password>``) and npm's ``.npmrc`` (``//registry/:_authToken=…``).
Their lines name no secret, so the config-line readers passed them by: as
``environment.etc."<name>".text`` and as a ``pkgs.writeText "<name>"`` handed to
``PGPASSFILE`` the password was missed.  Each is found at its field, and migrate moves
the writeText one to a sops template whose path the variable then names."""

from __future__ import annotations

import pytest

from secretkit.scan.one_file import scan_bytes
from secretkit.sensitive import Sensitive
from tests.support import fake
from tests.support.nixfind import FakeFinding, plan_module

V = fake.password("own-format")


def _found(text: str) -> list[tuple[str, str, str | None]]:
    findings, skipped = scan_bytes("h.nix", text.encode())
    assert skipped is None
    return [(f.rule, f.secret.reveal(), f.attrpath) for f in findings]


@pytest.mark.parametrize(
    ("text", "attrpath"),
    [
        (
            '{ environment.etc."app/pgpass".text = "db:5432:app:app:@V@"; }\n',
            'environment.etc."app/pgpass".text',
        ),
        (
            "{ environment.etc.\".pgpass\".text = ''\n  *:*:*:app:@V@\n''; }\n",
            'environment.etc.".pgpass".text',
        ),
        (
            '{ environment.etc."app/.npmrc".text = "//registry.npmjs.org/:_authToken=@V@"; }\n',
            'environment.etc."app/.npmrc".text',
        ),
        (
            "{ pkgs, ... }: { systemd.services.x.environment.PGPASSFILE = "
            'pkgs.writeText "pgpass" "db:5432:app:app:@V@"; }\n',
            "systemd.services.x.environment.PGPASSFILE",
        ),
    ],
)
def test_the_secret_of_a_file_in_its_own_format_is_found(text: str, attrpath: str) -> None:
    assert _found(text.replace("@V@", V)) == [("secret-attribute", V, attrpath)]


@pytest.mark.parametrize(
    "text",
    [
        '{ environment.etc."app/pgpass".text = "db:5432:app:app:*"; }\n',
        '{ environment.etc."app/.npmrc".text = "registry=https://npm.example.org/"; }\n',
        '{ environment.etc."app/notes".text = "db:5432:app:app:@V@"; }\n',  # (not a pgpass)
        '{ environment.etc."app/pgpass.md".text = "db:5432:app:app:@V@"; }\n',  # (about one)
    ],
)
def test_other_lines_and_other_files_stay_quiet(text: str) -> None:
    assert _found(text.replace("@V@", V)) == []


def test_migrate_points_the_variable_at_a_template_of_the_same_text() -> None:
    """PGPASSFILE names a file: the variable keeps naming one (the template's path),
    where the environment route had refused it with steps for an EnvironmentFile."""
    source = (
        "{ pkgs, ... }:\n{\n  systemd.services.x.environment.PGPASSFILE = "
        f'pkgs.writeText "pgpass" "db:5432:app:app:{V}";\n}}\n'
    ).encode()
    start = source.index(V.encode())
    found = [FakeFinding("h.nix", 3, start, start + len(V), Sensitive(V))]
    plan = plan_module(source, "h.nix", findings=found)
    assert not plan.refused
    (move,) = plan.moves
    assert move.new_option == "PGPASSFILE = sops template (was pkgs.writeText)"
    _old, new = plan.nix["h.nix"]
    assert b"PGPASSFILE = config.sops.templates." in new
    assert V.encode() not in new


def test_the_template_is_the_services_own_as_libpq_needs() -> None:
    """libpq ignores a PGPASSFILE that others can read: the template was mode 0444
    ("which user reads its file is not known") though the unit names its User."""
    source = (
        "{ pkgs, ... }:\n{\n"
        '  systemd.services.report.serviceConfig.User = "report";\n'
        "  systemd.services.report.environment.PGPASSFILE = "
        f'pkgs.writeText "pgpass" "db:5432:app:app:{V}";\n}}\n'
    ).encode()
    start = source.index(V.encode())
    found = [FakeFinding("h.nix", 4, start, start + len(V), Sensitive(V))]
    plan = plan_module(source, "h.nix", findings=found)
    new = plan.nix["h.nix"][1].decode()
    template = new[new.index('sops.templates."') :]
    assert 'owner = "report";' in template
    assert "mode" not in template  # (sops-nix's default: 0400)
    assert not [n for n in plan.notes if "which user reads its file" in n]


@pytest.mark.parametrize(
    "name",
    [
        "postgres/replication.pgpass",
        "backup/pgpass.conf",
        "app/pgpass2",  # (one per role or server, numbered or named)
        "pgpass-replica",
        "app/.pgpass_old",
    ],
)
def test_other_names_libpq_s_password_file_goes_by(name: str) -> None:
    text = f'{{ environment.etc."{name}".text = "db:5432:app:app:{V}"; }}\n'
    assert [value for _rule, value, _path in _found(text)] == [V]


@pytest.mark.parametrize("name", ["app/npmrc-ci", "app/.npmrc.ci"])
def test_an_npmrc_under_another_name(name: str) -> None:
    text = f'{{ environment.etc."{name}".text = "//npm.lan/:_authToken={V}"; }}\n'
    assert [value for _rule, value, _path in _found(text)] == [V]
