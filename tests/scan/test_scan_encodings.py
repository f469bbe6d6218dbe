"""Files are not skipped lightly: other encodings, NUL bytes, binary content, large
files (bounded memory), symlink targets, and blobs git cannot read."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from secretkit.scan.many_files import MISSING_BLOB
from secretkit.scan.one_file import scan_bytes, scan_pieces
from secretkit.scan.staged import scan_staged
from secretkit.scan.worktree import scan_tree
from tests.conftest import commit_all, git
from tests.support import fake


def _token() -> str:
    return fake.github_token("enc")


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("utf-16-bom", lambda t: t.encode("utf-16")),
        ("utf-16-le-no-bom", lambda t: t.encode("utf-16-le")),
        ("utf-16-be-no-bom", lambda t: t.encode("utf-16-be")),
        ("latin-1", lambda t: t.encode("latin-1")),
        ("windows-1252", lambda t: t.encode("cp1252")),
        ("utf-8-bom", lambda t: b"\xef\xbb\xbf" + t.encode()),
        ("nul-in-text", lambda t: t.replace("#", "\0").encode()),
    ],
)
def test_env_files_in_other_encodings_are_scanned(name: str, encode: object) -> None:
    value = fake.password("enc-" + name)
    text = f"# café crème\nAPI_TOKEN={value}\nGH={_token()}\n"
    data = encode(text)  # type: ignore[operator]
    findings, skipped = scan_bytes("app.env", data)
    assert skipped is None
    assert sorted(f.secret.reveal() for f in findings) == sorted([value, _token()])
    assert {f.line for f in findings} == {2, 3}


def test_a_utf16_span_points_at_the_value_bytes() -> None:
    value = fake.password("span16")
    data = f"DB_PASSWORD={value}\n".encode("utf-16")
    (finding,), _ = scan_bytes(".env", data)
    assert data[finding.start : finding.end].decode("utf-16-le") == value


def test_binary_content_is_read_for_printable_runs() -> None:
    token = _token()
    data = bytes(range(256)) * 4 + b"\0" + token.encode() + b"\0" + bytes(range(256))
    findings, skipped = scan_bytes("app.db", data)
    assert skipped is None
    assert [(data[f.start : f.end]).decode() for f in findings] == [token]


def test_large_file_is_scanned_in_bounded_memory(tmp_path: Path) -> None:
    value = fake.password("large")
    token = _token()
    filler = b"# " + b"x" * 77 + b"\n"
    lines_before = (4 * 1024 * 1024) // len(filler)
    (tmp_path / "big").mkdir()
    big = tmp_path / "big" / "dump.env"
    with big.open("wb") as handle:
        handle.write(f"FIRST_TOKEN={token}\n".encode())
        for _ in range(lines_before):
            handle.write(filler)
        handle.write(f"DB_PASSWORD={value}\n".encode())
    # the modules a scan loads lazily are loaded first: what is measured is the scan
    warm = tmp_path / "warm"
    warm.mkdir()
    (warm / "a.env").write_text(f"FIRST_TOKEN={token}\nDB_PASSWORD={value}\n")
    scan_tree(warm)
    tracemalloc.start()
    try:
        report = scan_tree(tmp_path / "big")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.skipped == []
    got = [(f.line, f.secret.reveal()) for f in report.findings]
    assert got == [(1, token), (lines_before + 2, value)]
    data = big.read_bytes()
    assert data[report.findings[1].start : report.findings[1].end] == value.encode()
    assert peak < 6 * 1024 * 1024  # about two 1 MiB pieces, never the 4 MiB file


def test_pieces_cut_at_line_breaks_keep_positions() -> None:
    value = fake.password("pieces")
    lines = [f"N{i}=1\n".encode() for i in range(2000)]
    lines[1500] = f"SMTP_PASSWORD={value}\n".encode()
    data = b"".join(lines)
    pieces = [data[i : i + 1000] for i in range(0, len(data), 1000)]
    (finding,) = scan_pieces("x.env", pieces, max_bytes=1024)
    assert finding.line == 1501
    assert data[finding.start : finding.end] == value.encode()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_large_utf16_file_is_read_as_its_text(encoding: str) -> None:
    """Cut at a "\\n" byte, UTF-16 pieces started mid-character: none was read."""
    token = _token()
    lines = [f"GITHUB_TOKEN={token}"] + [f"# filler {i:06d} {'y' * 40}" for i in range(3000)]
    lines[2500] = f"DB_PASSWORD={fake.password('utf16-late')}"
    data = ("\n".join(lines) + "\n").encode(encoding)
    pieces = [data[i : i + 999] for i in range(0, len(data), 999)]
    found = scan_pieces("deploy.env", pieces, max_bytes=8192)
    assert [(f.line, f.rule) for f in found] == [(1, "github-token"), (2501, "secret-attribute")]


def test_a_private_key_across_a_cut_is_found_once() -> None:
    key = fake.pem_private_key("OPENSSH")
    for filler in range(150, 175):  # the cut falls before, inside and after the block
        text = "".join(f"# filler {i:07d} {'z' * 30}\n" for i in range(filler)) + key + "\n"
        data = text.encode()
        pieces = [data[i : i + 700] for i in range(0, len(data), 700)]
        found = scan_pieces("notes.txt", pieces, max_bytes=8192)
        assert [f.rule for f in found] == ["private-key"], filler
        assert found[0].line == filler + 1


def test_a_value_across_a_cut_inside_a_long_line_is_found_where_it_is() -> None:
    """A line longer than a part (minified code, JSON on one line) was cut with no
    overlap: a token across the cut was never found, and columns after the first part
    counted from the cut."""
    token = _token()
    size = 8192
    for before in range(size - 45, size + 5, 7):  # the cut falls before, inside, after it
        data = b"x" * before + b" " + token.encode() + b" " + b"y" * 3 * size + b"\nz\n"
        pieces = [data[i : i + 999] for i in range(0, len(data), 999)]
        found = scan_pieces("bundle.min.js", pieces, max_bytes=size)
        assert [(f.line, f.column, f.end_column) for f in found] == [
            (1, before + 2, before + 2 + len(token))
        ], before
        assert data[found[0].start : found[0].end] == token.encode()
    # past several cuts, after a multi-byte character, a key and its value
    value = fake.password("long-json")
    data = ('{"a": "' + "é" * 3 * size + f'", "password": "{value}"}}').encode()
    found = scan_pieces("one.json", [data], max_bytes=size)
    assert [(f.line, f.column, f.secret.reveal()) for f in found] == [(1, 3 * size + 24, value)]


def test_symlink_target_is_scanned(tmp_path: Path) -> None:
    token = _token()
    os.symlink(f"/srv/{token}", tmp_path / "link")
    report = scan_tree(tmp_path)
    assert [f.secret.reveal() for f in report.findings] == [token]


def test_staged_symlink_and_large_file_are_scanned(tmp_git_repo: Path) -> None:
    token = _token()
    os.symlink(f"/srv/{token}", tmp_git_repo / "link")
    value = fake.password("staged-large")
    (tmp_git_repo / "big.env").write_bytes(b"# pad\n" * 300_000 + f"PW={value}\n".encode())
    git(tmp_git_repo, "add", "-A")
    report = scan_staged(tmp_git_repo)
    assert report.skipped == []
    assert sorted((f.path, f.secret.reveal()) for f in report.findings) == [
        ("big.env", value),
        ("link", token),
    ]


def test_a_blob_git_cannot_read_is_a_skip(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "a.nix").write_text("{ }\n")
    git(tmp_git_repo, "add", "a.nix")
    oid = git(tmp_git_repo, "rev-parse", ":a.nix").strip()
    (tmp_git_repo / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    report = scan_staged(tmp_git_repo)
    assert [(s.path, s.reason) for s in report.skipped] == [("a.nix", MISSING_BLOB)]


def test_history_symlink_target_is_scanned(tmp_git_repo: Path) -> None:
    from secretkit.scan.history import scan_history

    token = _token()
    os.symlink(f"/srv/{token}", tmp_git_repo / "link")
    commit_all(tmp_git_repo)
    assert [f.secret.reveal() for f in scan_history(tmp_git_repo).findings] == [token]
