"""``# secretkit: allow`` silences a finding only where it is a comment after the
value: never in JSON, env or INI files, never inside a quoted value, a YAML block
scalar, a TOML multi-line string or a shell here-document; and the hook offers it
only where it would work."""

from __future__ import annotations

import pytest

from secretkit.gate.finding_fix import mark_works
from secretkit.scan.one_file import scan_bytes
from tests.support import fake

TOKEN = fake.github_token("allow-marks")
PASSWORD = fake.password("allow-marks")


def _found(path: str, text: str) -> list[str]:
    findings, skipped = scan_bytes(path, text.encode())
    assert skipped is None
    return [f.rule for f in findings]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("config.json", f'{{"github_token":"{TOKEN}","note":"secretkit: allow"}}\n'),
        ("config.yaml", f'password: "{PASSWORD} # secretkit: allow"\n'),
        ("config.yaml", f"script: |\n  curl -u admin:{PASSWORD} x  # secretkit: allow\n"),
        ("config.yaml", f"key: >-\n  token {TOKEN} # secretkit: allow\n"),
        ("app.toml", f'password = "{PASSWORD} # secretkit: allow"\n'),
        ("app.toml", f'text = """\ntoken = {TOKEN} # secretkit: allow\n"""\n'),
        (".env", f'TOKEN="{TOKEN} # secretkit: allow"\n'),
        (".env", f"TOKEN={TOKEN} # secretkit: allow\n"),
        ("app.ini", f"password = {PASSWORD} ; secretkit: allow\n"),
        ("run.sh", f"cat > /etc/x <<EOF\nTOKEN={TOKEN} # secretkit: allow\nEOF\n"),
        ("run.sh", f"cat > /etc/x <<-'END'\n\tTOKEN={TOKEN} # secretkit: allow\n\tEND\n"),
        ("run.sh", f'export TOKEN="{TOKEN} # secretkit: allow"\n'),
        ("notes.py", f'token = "{TOKEN} # secretkit: allow"\n'),
        # a Nix comment before the value on its line
        ("hosts/a.nix", f'{{\n  b = /* # secretkit: allow */ "{TOKEN}";\n}}\n'),
        ("hosts/a.nix", f'{{\n  /* secretkit: allow */ password = "{PASSWORD}";\n}}\n'),
    ],
)
def test_the_words_inside_a_value_or_without_comments_silence_nothing(path: str, text: str) -> None:
    assert _found(path, text) != []


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("config.yaml", f'password: "{PASSWORD}"  # secretkit: allow\n'),
        ("config.yaml", f"script: |\n  echo hi\nother: {TOKEN} # secretkit: allow\n"),
        ("app.toml", f'password = "{PASSWORD}" # secretkit: allow\n'),
        ("run.sh", f"cat > /etc/x <<EOF\nhi\nEOF\nexport TOKEN={TOKEN} # secretkit: allow\n"),
        ("tool.py", f'token = "{TOKEN}"  # secretkit: allow\n'),
        ("tool.js", f'const token = "{TOKEN}"; // secretkit: allow\n'),
    ],
)
def test_a_comment_after_the_value_silences_it(path: str, text: str) -> None:
    assert _found(path, text) == []


@pytest.mark.parametrize(
    ("path", "text", "line", "works"),
    [
        ("config.yaml", f"password: {PASSWORD}\n", 1, True),
        ("config.yaml", f"script: |\n  curl -u admin:{PASSWORD} x\n", 2, False),
        ("app.toml", f'text = """\ntoken = {TOKEN}\n"""\n', 2, False),
        ("run.sh", f"cat > /etc/x <<EOF\nTOKEN={TOKEN}\nEOF\n", 2, False),
        ("run.sh", f"export TOKEN={TOKEN}\n", 1, True),
        ("config.json", f'{{"token": "{TOKEN}"}}\n', 1, False),
        (".env", f"TOKEN={TOKEN}\n", 1, False),
    ],
)
def test_the_hook_offers_the_mark_only_where_it_works(
    path: str, text: str, line: int, works: bool
) -> None:
    assert mark_works(path, "secret-attribute", line, text.encode()) is works
    if works:  # and appended as offered, it silences the finding
        lines = text.split("\n")
        lines[line - 1] += "  # secretkit: allow"
        assert _found(path, "\n".join(lines)) == []
