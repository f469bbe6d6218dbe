"""A secret written into a command substitution that only prints it (``$(echo …)``,
``$(printf '%s' …)``, backquotes) is found at the literal, in a script, in a Nix
string and on a command line; a substitution that runs anything else stays quiet
(it is a program's output)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from secretkit.scan.echoed import echoed_literal, substituted
from secretkit.scan.one_file import scan_bytes
from tests.support import fake

V = fake.password("echoed")


def _found(path: str, text: str) -> list[tuple[str, str, int]]:
    findings, skipped = scan_bytes(path, text.encode())
    assert skipped is None
    return [(f.rule, f.secret.reveal(), f.line) for f in findings]


@pytest.mark.parametrize(
    "sub",
    [
        f"$(echo {V})",
        f'$(echo "{V}")',
        f"$(echo -n '{V}')",
        f"$(echo -n -e {V})",
        f"$( echo {V} )",
        f"$(printf '%s' '{V}')",
        f'$(printf "%s\\n" "{V}")',
        f"$(printf %s {V})",
        f"$(printf '{V}')",
        f"$(command echo {V})",
        f"`echo {V}`",
        f"$(echo '{V}' | base64 -d)",
        f'$(cat <<<"{V}")',
        f"$(cat <<< {V})",
        f'$(echo \\"{V}\\")',  # (inside a double-quoted word: echo prints "V")
        f"$(printf '%s' \\\"{V}\\\")",
    ],
)
def test_the_literal_a_substitution_prints_is_its_value(sub: str) -> None:
    text = f"X={sub} rest"
    span = echoed_literal(text, 2)
    assert span is not None
    assert text[span[0] : span[1]] == V
    assert substituted(text, 2, 4) == span  # (wherever the pair reader cut the value)


@pytest.mark.parametrize(
    "sub",
    [
        "$(cat /run/secrets/token)",
        '$(echo "$PASSWORD")',
        "$(echo ${TOKEN})",
        f"$(echo {V} other)",  # several words
        "$(printf '%d' 5)",
        f"$(printf '%s-%s' a {V})",
        f"$(printf 'a%sb' {V})",  # (a format of its own)
        f"$(echo {V}`",  # two substitutions' ends
        f"`echo {V})",
        f"$(echo '{V}\\n')",  # an escape the shell's echo may read
        f"$(echon {V})",
        f"$(eval {V})",
        f"$(echo{V})",  # (no such command)
        f'$(echo \\"{V}")',  # (one escaped quote: not one literal)
        '$(cat <<<"$TOKEN")',
    ],
)
def test_a_substitution_that_runs_anything_else_gives_no_literal(sub: str) -> None:
    text = f"X={sub}"
    assert echoed_literal(text, 2) is None
    assert substituted(text, 2, len(text)) == (2, len(text))


CASES = [
    ("export", "run.sh", 'export API_KEY=$(echo "@V@")\n'),
    ("quoted-printf", "run.sh", "PASSWORD=\"$(printf '%s' '@V@')\"\n"),
    ("backquotes", "run.sh", "TOKEN=`echo @V@`\n"),
    ("curl-user", "run.sh", "curl -u admin:$(echo @V@) https://nas.lan/api\n"),
    ("env-file", "app.env", "DB_PASSWORD=$(echo @V@)\n"),
    ("bearer-header", "run.sh", 'curl -H "Authorization: Bearer $(echo @V@)" https://x.lan\n'),
    ("key-header", "run.sh", 'curl -H "X-Api-Key: $(echo "@V@")" https://y.lan\n'),
    (
        "escaped-quotes",
        "run.sh",
        'curl -H "Authorization: Bearer $(echo \\"@V@\\")" https://x.lan\n',
    ),
    (
        "nix-script",
        "svc.nix",
        "{ ... }:\n{\n  systemd.services.foo.script = ''\n"
        "    export API_KEY=$(echo \"@V@\")\n  '';\n}\n",
    ),
]


@pytest.mark.parametrize(("_id", "path", "text"), CASES, ids=[c[0] for c in CASES])
def test_an_echoed_secret_is_found_at_its_literal(_id: str, path: str, text: str) -> None:
    body = text.replace("@V@", V)
    found = _found(path, body)
    assert [value for _rule, value, _line in found] == [V]
    line = next(i for i, row in enumerate(body.splitlines(), 1) if V in row)
    assert found[0][2] == line


@pytest.mark.parametrize(
    "text",
    [
        "API_KEY=$(cat /run/secrets/api)\n",
        'PASSWORD="$(printf \'%s\' "$PASS_FROM_ENV")"\n',
        "TOKEN=$(echo $TOKEN | tr -d '\\n')\n",
        'public_key=$(echo "${entries[1]}" | rg key: | cut -f2 -d: | xargs)\n',
        "curl -u admin:$(cat /run/secrets/nas) https://nas.lan/api\n",
        'curl -H "Authorization: Bearer $(cat /run/secrets/tok)" https://x.lan\n',
        "SECRET=$(openssl rand -hex 32)\n",
    ],
)
def test_a_program_s_output_stays_quiet(text: str) -> None:
    assert _found("run.sh", text) == []


def test_the_cli_reports_the_literal_of_a_committed_script(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "deploy.sh").write_text(f'#!/bin/sh\nexport API_TOKEN="$(echo {V})"\n')
    scan = subprocess.run(
        [sys.executable, "-m", "secretkit", "scan", "."],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert scan.returncode == 1, scan.stderr
    assert "deploy.sh" in scan.stdout
    column = len('export API_TOKEN="$(echo ') + 1
    assert f"2:{column} " in scan.stdout  # the literal, not the substitution
    assert V not in scan.stdout + scan.stderr  # a preview only
