"""A Jupyter notebook's code cells are JSON strings of Python: ``db_password = "…"``
there was missed while the same line in a ``.py`` file was found (a stranger's).
Each string of a cell's source is read as a line of Python, and the finding points at
the notebook's bytes that hold the value."""

from __future__ import annotations

import json

import pytest

from secretkit.scan.one_file import scan_bytes
from tests.support import fake

V = fake.password("notebook")


def _notebook(lines: list[str], indent: int | None) -> bytes:
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "source": lines}
    return json.dumps({"cells": [cell], "nbformat": 4}, indent=indent).encode()


@pytest.mark.parametrize("indent", [1, None])
@pytest.mark.parametrize(
    "line",
    [
        'db_password = "@V@"\n',
        'conn = psycopg2.connect(host="db.lan", user="app", password="@V@")\n',
        "API_KEY = '@V@'\n",
    ],
)
def test_a_code_cell_s_secret_is_found_at_its_bytes(line: str, indent: int | None) -> None:
    data = _notebook(["import os\n", line.replace("@V@", V)], indent)
    findings, _ = scan_bytes("analysis.ipynb", data)
    assert [f.secret.reveal() for f in findings] == [V]
    assert data[findings[0].start : findings[0].end] == V.encode()


def test_a_value_with_an_escape_is_the_value_the_cell_holds() -> None:
    value = V + '"x'  # (a quote inside: \\" in the notebook's JSON)
    data = _notebook([f"token = '{value}'\n"], 1)
    findings, _ = scan_bytes("n.ipynb", data)
    assert [f.secret.reveal() for f in findings] == [value]


@pytest.mark.parametrize(
    "line",
    [
        'db_password = os.environ["DB_PASSWORD"]\n',
        'password = getpass.getpass("password: ")\n',
        'print("hello")\n',
    ],
)
def test_code_that_reads_a_secret_from_elsewhere_stays_quiet(line: str) -> None:
    findings, _ = scan_bytes("n.ipynb", _notebook([line], 1))
    assert findings == []
