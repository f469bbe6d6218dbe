"""Where a value is after its key when its quote does not close on its line: an open
quote (a file a strict reader refuses) and a YAML quoted scalar over several lines."""

from __future__ import annotations

import pytest

from secretkit.scan.one_file import scan_bytes

V = "Xk29fjQmz81LpRtq"
TWO = "Xk29fjQmz81\n    LpRtq7Hd"


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        # (a quote never closed: what a reader that errs on the file would still hold)
        ("mail.yaml", 'smtp:\n  host: mail.example.org\n  password: "' + V + "\n", V),
        (".env", 'DB_HOST=db\nDB_PASSWORD="' + V + "\nOTHER=1\n", V),
        # a YAML quoted scalar over two lines (valid YAML: the break folds to a space)
        ("multi.yaml", 'smtp:\n  password: "' + TWO + '"\n  port: 25\n', TWO),
    ],
)  # fmt: skip
def test_a_value_whose_quote_does_not_close_on_its_line_is_read(
    name: str, text: str, value: str
) -> None:
    """A stranger's mail.yaml and .env with an open quote, and a valid two-line quoted
    YAML password, were read as nothing (and no "cannot verify" either)."""
    found, _skipped = scan_bytes(name, text.encode())
    assert [f.secret.reveal() for f in found] == [value]
