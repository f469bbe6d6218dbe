"""A token stored in a binary file is glued to the bytes beside it: a SQLite record's
header before it, a PNG chunk's CRC after it (a stranger's Grafana database and
screenshot each held a GitHub token; scan and check called them clean).  Fixed-length
formats are read there without word boundaries; text keeps them, placeholders and
broken checksums stay quiet."""

from __future__ import annotations

import sqlite3
import struct
import zlib
from pathlib import Path

import pytest

from secretkit.scan.model import Finding
from secretkit.scan.one_file import scan_bytes
from secretkit.scan.worktree import scan_tree
from tests.support import fake

TOKEN = fake.github_token("glued")
AGE = fake.age_secret_key("glued")


def _found(path: str, data: bytes) -> list[tuple[str, str]]:
    findings, _skipped = scan_bytes(path, data)
    return [(f.rule, f.secret.reveal()) for f in findings]


def test_a_token_in_a_real_sqlite_database_is_found(tmp_path: Path) -> None:
    db = tmp_path / "grafana.db"
    with sqlite3.connect(db) as con:
        con.execute("create table api_key (id integer primary key, key text, role text)")
        con.execute("insert into api_key (key, role) values (?, 'Admin')", (TOKEN,))
    con.close()
    data = db.read_bytes()
    assert TOKEN.encode() + b"Admin" in data  # (glued to the next column's text)
    assert _found("grafana.db", data) == [("github-token", TOKEN)]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@pytest.mark.parametrize("tail", [b"N", b"7x", b""])
def test_a_token_glued_to_a_png_chunk_s_crc_is_found(tail: bytes) -> None:
    # (the CRC's first byte is whatever it is: the letters here stand for one)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + struct.pack(">I", 6 + len(TOKEN))
        + b"tEXtComment\x00"
        + TOKEN.encode()
        + tail
        + b"\xa1\xf2\x00"
        + _chunk(b"IEND", b"")
    )
    assert _found("img.png", png) == [("github-token", TOKEN)]


def test_an_age_key_glued_in_binary_is_found_and_a_broken_one_is_not() -> None:
    blob = b"\x00\x01\x02xy" + AGE.encode() + b"Q\x00\x03"
    assert _found("keys.bin", blob) == [("age-secret-key", AGE)]
    broken = AGE[:-1] + ("Q" if AGE[-1] != "Q" else "P")
    assert _found("keys.bin", b"\x00\x01\x02xy" + broken.encode() + b"Q\x00\x03") == []


def test_text_and_placeholders_stay_quiet() -> None:
    # in text a longer word is not that token
    assert _found("notes.txt", b"id: x" + TOKEN.encode() + b"suffix\n") == []
    placeholder = b"ghp_" + b"x" * 36
    assert _found("blob.bin", b"\x00\x01ab" + placeholder + b"cd\x00\x02" * 50) == []


def _grafana_db(path: Path) -> None:
    with sqlite3.connect(path) as con:
        con.execute("create table api_key (key text, role text)")
        con.execute("insert into api_key values (?, 'Admin')", (TOKEN,))
    con.close()


def test_a_value_in_a_binary_file_says_so_and_the_fix_takes_the_file_out(
    tmp_git_repo: Path,
) -> None:
    from secretkit.commands.check import run_check
    from tests.conftest import commit_all

    _grafana_db(tmp_git_repo / "grafana.db")
    (tmp_git_repo / "notes.txt").write_text(f"token: {TOKEN}\n")
    utf16 = f"token: {fake.github_token('utf16')}\n".encode("utf-16")
    (tmp_git_repo / "win.txt").write_bytes(utf16)  # (NUL bytes: filter-repo passes it over)
    commit_all(tmp_git_repo)
    found = {f.path: f.inside for f in _tree_findings(tmp_git_repo)}
    assert found == {"grafana.db": "binary", "notes.txt": "", "win.txt": "binary"}
    tree = [r for r in run_check(tmp_git_repo).results if r.id == "plaintext-tree" and not r.ok]
    (db,) = [r for r in tree if r.paths == ("grafana.db",)]
    assert "it is in grafana.db, a binary file (a database, an image …)" in db.fix
    assert "git rm --cached -- grafana.db" in db.fix and "secretkit: allow" not in db.fix


def _tree_findings(root: Path) -> list[Finding]:
    return scan_tree(root).findings


def test_purge_names_the_binary_file_it_cannot_rewrite_and_how_to_take_it_out(
    tmp_git_repo: Path,
) -> None:
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT, commit_all, git, need_tool

    need_tool("git-filter-repo")
    repo = tmp_git_repo
    _grafana_db(repo / "grafana.db")
    commit_all(repo, "db")
    git(repo, "rm", "-q", "grafana.db")
    (repo / "README.md").write_text("x\n")
    commit_all(repo, "gone")
    env = dict(os.environ, PYTHONPATH=str(ROOT))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "secretkit", *args],
            cwd=repo, capture_output=True, text=True, input="", env=env,
        )  # fmt: skip

    assert cli("scan", "--history").returncode == 1  # (the cache keeps it: purge reads that)
    proc = cli("purge", "--yes")
    assert proc.returncode == 1, proc.stderr
    assert "still in the rewritten history" not in proc.stderr
    fix = (
        "warning: not rewritten: grafana.db: a secret in a binary file, which git-filter-repo "
        "does not rewrite; delete it: git filter-repo --force --replace-refs delete-no-add "
        "--invert-paths --path=grafana.db"
    )
    assert fix in proc.stderr
    subprocess.run(
        fix.split("delete it: ")[1].split(), cwd=repo, check=True, capture_output=True
    )  # the fix, as printed
    after = cli("scan", "--history", "--format", "json")
    assert json.loads(after.stdout)["findings"] == [], after.stdout
