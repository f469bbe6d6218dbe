"""A database connection string of ``Key=Value;`` pairs (ADO.NET, ODBC) holds its
password as one pair among others: ``Server=db;User Id=sa;Password=…;``.  It was
missed in a Nix string, an ``appsettings.json`` and an environment file alike; each
password is now a finding at its own span, and a lone ``password=…`` or a reference
stays as the other rules judge it."""

from __future__ import annotations

import pytest

from secretkit.scan.one_file import scan_bytes
from tests.support import fake

V = fake.password("connection")


def _found(path: str, text: str) -> list[tuple[str, str]]:
    findings, skipped = scan_bytes(path, text.encode())
    assert skipped is None
    return [(f.rule, f.secret.reveal()) for f in findings]


FOUND = [
    (
        "nix-ado",
        "db.nix",
        '{ services.app.settings.ConnectionString = "Server=db;Database=app;User Id=sa;'
        'Password=@V@;"; }\n',
    ),
    (
        "nix-pwd-last",
        "db.nix",
        '{ services.app.settings.db = "Data Source=db;Initial Catalog=app;Pwd=@V@"; }\n',
    ),
    (
        "appsettings",
        "appsettings.json",
        '{\n  "ConnectionStrings": {\n    "Default": "Host=db;Port=5432;Username=app;'
        'Password=@V@;Database=app"\n  }\n}\n',
    ),
    ("odbc-braces", "odbc.ini", "[app]\nConnection = Driver={ODBC};Uid=sa;PWD={@V@};\n"),
    ("quoted", "app.env", "DB=\"Server=db;User Id=sa;Password='@V@';\"\n"),
    ("password-first", "app.conf", "conn = Password=@V@;User ID=sa;Server=db\n"),
]


@pytest.mark.parametrize(("_id", "path", "text"), FOUND, ids=[f[0] for f in FOUND])
def test_the_password_of_a_connection_string_is_found(_id: str, path: str, text: str) -> None:
    found = _found(path, text.replace("@V@", V))
    assert [value for _rule, value in found] == [V]
    assert found[0][0] == "command-secret"


@pytest.mark.parametrize(
    "text",
    [
        "Server=db;Database=app;Integrated Security=true;\n",  # (Windows auth: none given)
        "Server=db;User Id=sa;Password=${DB_PASSWORD};\n",
        "Server=db;User Id=sa;Password=$(cat /run/secrets/db);\n",
        "Server=db;User Id=sa;Password=;\n",
        "Server=db;User Id=sa;Password={{ .Env.DB_PASSWORD }};\n",
        "Server=db;User Id=sa;Password=%(db_password)s;\n",
        "Server=db;User Id=sa;Password=<your-password>;\n",
    ],
)
def test_a_reference_or_stand_in_stays_quiet(text: str) -> None:
    assert _found("app.conf", text) == []


def test_a_lone_password_assignment_is_not_read_as_a_connection_string() -> None:
    # (the pair readers judge `password=…` themselves; this rule adds nothing there)
    text = f"password={V}\n"
    assert ("command-secret", V) not in _found("notes.txt", text)
