"""Compressed files and archives are opened and what they hold is scanned as text
(the tree, the index and history alike); what cannot be opened whole is skipped with
a reason, so that ``check`` says "cannot verify", never "safe"."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from secretkit.scan.archives import SEP, kind
from secretkit.scan.history import scan_history
from secretkit.scan.one_file import scan_bytes
from secretkit.scan.staged import scan_staged
from secretkit.scan.worktree import scan_tree
from tests.conftest import commit_all, git
from tests.support import fake


def _creds() -> bytes:
    key = fake.aws_access_key_id("archive")
    return f"[default]\naws_access_key_id = {key}\nregion = eu-west-1\n".encode()


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _tar(members: dict[str, bytes], mode: str = "w:gz") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as archive:  # type: ignore[call-overload]
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _ar(members: dict[str, bytes]) -> bytes:
    """An ar archive (a Debian package's shape), as ar(1) writes it."""
    out = b"!<arch>\n"
    for name, data in members.items():
        out += f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode()
        out += data + (b"\n" if len(data) % 2 else b"")
    return out


def _pdf(stream: bytes, filters: bytes = b"/FlateDecode") -> bytes:
    """A small PDF whose one content stream is ``stream`` under ``filters``."""
    return (
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n2 0 obj\n<< /Length "
        + str(len(stream)).encode()
        + b" /Filter "
        + filters
        + b" >>\nstream\n"
        + stream
        + b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


# file name → (its bytes from the credentials, the member path a finding names)
CASES: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "creds.gz": (gzip.compress, "creds.gz!creds"),
    "creds.bz2": (bz2.compress, "creds.bz2!creds"),
    "creds.xz": (lzma.compress, "creds.xz!creds"),
    "creds.zip": (lambda d: _zip({"inner/file.env": d}), "creds.zip!inner/file.env"),
    "creds.tar.gz": (lambda d: _tar({"etc/aws": d}), "creds.tar.gz!etc/aws"),
    "creds.tgz": (lambda d: _tar({"etc/aws": d}), "creds.tgz!etc/aws"),
    "creds.tar.bz2": (lambda d: _tar({"etc/aws": d}, "w:bz2"), "creds.tar.bz2!etc/aws"),
    "creds.tar": (lambda d: _tar({"etc/aws": d}, "w"), "creds.tar!etc/aws"),
    "creds.lzma": (
        lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE),
        "creds.lzma!creds",
    ),
    "creds.zz": (zlib.compress, "creds.zz!creds"),
    "tool.deb": (
        lambda d: _ar({"debian-binary": b"2.0\n", "data.tar.xz": _tar({"etc/aws": d}, "w:xz")}),
        "tool.deb!data.tar.xz!etc/aws",
    ),
    "manual.pdf": (lambda d: _pdf(zlib.compress(d)), "manual.pdf!stream-0"),
    # recognised by its first bytes, whatever its name
    "backup.bin": (lambda d: _zip({"creds.ini": d}), "backup.bin!creds.ini"),
    "nested.zip": (
        lambda d: _zip({"inner.tgz": _tar({"etc/aws": d})}),
        "nested.zip!inner.tgz!etc/aws",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_archived_secret_is_found_in_the_tree_the_index_and_history(
    tmp_git_repo: Path, name: str
) -> None:
    from secretkit.commands.check import run_check

    pack, member = CASES[name]
    key = fake.aws_access_key_id("archive")
    (tmp_git_repo / "README.md").write_text("hi\n")
    (tmp_git_repo / name).write_bytes(pack(_creds()))
    git(tmp_git_repo, "add", "-A")
    staged = scan_staged(tmp_git_repo)  # (what the hook judges)
    assert [(f.path, f.secret.reveal()) for f in staged.findings] == [(member, key)]
    commit_all(tmp_git_repo, "add")
    tree = scan_tree(tmp_git_repo)
    assert [(f.path, f.file, f.secret.reveal()) for f in tree.findings] == [(member, name, key)]
    assert tree.skipped == []
    failed = run_check(tmp_git_repo).failed
    in_tree = [c for c in failed if c.id == "plaintext-tree"]
    assert [c.paths for c in in_tree] == [(name,)]
    assert f"inside {name}" in in_tree[0].fix  # the archive is what the user can change
    git(tmp_git_repo, "rm", "-q", name)
    commit_all(tmp_git_repo, "remove")
    history = scan_history(tmp_git_repo)
    assert [(f.path, f.secret.reveal()) for f in history.findings] == [(member, key)]
    failed = run_check(tmp_git_repo).failed
    committed = [c for c in failed if c.id == "plaintext-history"]
    assert [c.paths for c in committed] == [(name,)]
    assert (
        f"git filter-repo --force --replace-refs delete-no-add --invert-paths --path={name}"
        in committed[0].fix
    )


def test_the_history_fix_for_an_archived_secret_works(tmp_git_repo: Path) -> None:
    """The fix check prints (take the archive out of every commit) leaves history clean."""
    import shlex
    import shutil
    import subprocess

    from secretkit.commands.check import run_check
    from tests.conftest import need_tool

    need_tool("git-filter-repo")
    (tmp_git_repo / "README.md").write_text("hi\n")
    (tmp_git_repo / "-old creds.zip").write_bytes(_zip({"a.env": _creds()}))  # (a "-")
    commit_all(tmp_git_repo, "add")
    git(tmp_git_repo, "rm", "-q", "--", "-old creds.zip")
    commit_all(tmp_git_repo, "remove")
    (fix,) = [c.fix for c in run_check(tmp_git_repo).failed if c.id == "plaintext-history"]
    command = fix[fix.index("(git filter-repo") + 1 : fix.index(": it rewrites")]
    assert shutil.which("git-filter-repo") is not None
    # as printed, in the user's own clone (not a fresh one)
    subprocess.run(shlex.split(command), cwd=tmp_git_repo, check=True, capture_output=True)
    assert [c for c in run_check(tmp_git_repo).failed if c.id == "plaintext-history"] == []


def _encrypted(data: bytes) -> bytes:
    """A zip whose members say they are encrypted (bit 0 of their flags): zipfile
    cannot write one, so the flags of a plain one are set."""
    out = bytearray(data)
    for signature, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = out.find(signature)
        while start != -1:
            out[start + at] |= 0x1
            start = out.find(signature, start + 4)
    return bytes(out)


def _bomb() -> bytes:
    """A zip of 64 MiB of zeros (written in steps: the test holds none of it)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.txt", "w", force_zip64=True) as member,
    ):
        for _ in range(64):
            member.write(bytes(1024 * 1024))
    return out.getvalue()


def _gzip_bomb(mib: int) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as handle:
        for _ in range(mib):
            handle.write(bytes(1024 * 1024))
    return out.getvalue()


UNREADABLE: dict[str, tuple[Callable[[], bytes], str]] = {
    "locked.zip": (lambda: _encrypted(_zip({"a.env": _creds()})), "a.env is encrypted"),
    "broken.gz": (lambda: gzip.compress(_creds())[:20], "damaged gzip data"),
    "broken.zip": (lambda: _zip({"a.env": _creds()})[:40], "damaged zip archive"),
    "bomb.zip": (_bomb, "decompression bomb"),
    "bomb.gz": (lambda: _gzip_bomb(80), "decompression bomb"),
    "deep.zip": (
        lambda: _zip({"b.zip": _zip({"c.zip": _zip({"a.env": _creds()})})}),
        "nested 3 deep",
    ),
}


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_an_archive_not_read_whole_is_skipped_and_check_cannot_verify_it(
    tmp_git_repo: Path, name: str
) -> None:
    from secretkit.commands.check import run_check

    make, reason = UNREADABLE[name]
    (tmp_git_repo / "README.md").write_text("hi\n")
    (tmp_git_repo / name).write_bytes(make())
    commit_all(tmp_git_repo, "add")
    tree = scan_tree(tmp_git_repo)
    assert [s.path for s in tree.skipped] == [name]
    assert reason in tree.skipped[0].reason
    history = scan_history(tmp_git_repo)
    assert [s.path.split(":", 1)[1] for s in history.skipped] == [name]
    unverified = [c for c in run_check(tmp_git_repo).failed if c.message.startswith("cannot")]
    assert {c.id for c in unverified} == {"plaintext-tree", "plaintext-history"}
    # the way out works: vouching for the path clears both points
    fix = unverified[0].fix
    command = fix[fix.index("echo 'path:") :]
    import subprocess

    subprocess.run(command, shell=True, cwd=tmp_git_repo, check=True)
    commit_all(tmp_git_repo, "vouch")
    assert [c for c in run_check(tmp_git_repo).failed if c.message.startswith("cannot")] == []


def test_a_zip_bomb_is_refused_in_bounded_time_and_memory() -> None:
    bomb = _bomb()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        findings, skipped = scan_bytes("bomb.zip", bomb)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert findings == [] and skipped is not None
    assert time.perf_counter() - started < 2
    assert peak < 8 * 1024 * 1024


def test_a_gzip_bomb_stops_at_a_cap_in_bounded_memory() -> None:
    bomb = _gzip_bomb(128)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        findings, skipped = scan_bytes("bomb.gz", bomb)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert findings == [] and skipped is not None
    assert "bomb" in skipped.reason or "over 64 MiB" in skipped.reason
    assert time.perf_counter() - started < 5
    assert peak < 200 * 1024 * 1024  # (the cap is 64 MiB inflated)


def test_a_member_secret_next_to_a_refused_member_is_still_found() -> None:
    data = _zip({"a.env": _creds(), "zeros": b"\0" * (8 * 1024 * 1024)})
    findings, skipped = scan_bytes("mixed.zip", data)
    assert [f.path for f in findings] == ["mixed.zip!a.env"]
    assert skipped is not None and skipped.path == "mixed.zip"


def test_a_png_is_read_as_before() -> None:
    """A binary that is no archive (a PNG: zlib data inside) pays a look at its first
    bytes and is read as it always was: no skip, no finding."""
    import struct
    import zlib

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    pixels = zlib.compress(b"\0\xff\x00\x00" * 64)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 64, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    assert kind(png) is None
    assert scan_bytes("logo.png", png) == ([], None)


def test_text_that_looks_like_a_tar_header_is_text() -> None:
    """ "ustar" at byte 257 alone does not make a tar: the header checksum must hold."""
    data = b"x" * 257 + b"ustar" + b"\n" * 300
    assert kind(data) is None
    assert scan_bytes("notes.txt", data) == ([], None)


def test_a_secret_in_an_archive_over_the_piece_size_is_found(tmp_git_repo: Path) -> None:
    """An archive over the size a file is read in pieces at is opened whole (the tree
    and history read such files in pieces: the archive is gathered first)."""
    import os

    noise = os.urandom(2 * 1024 * 1024)
    (tmp_git_repo / "big.zip").write_bytes(
        _zip({"noise.bin": noise, "a.env": _creds()}, zipfile.ZIP_STORED)
    )
    commit_all(tmp_git_repo, "add")
    assert [f.path for f in scan_tree(tmp_git_repo).findings] == ["big.zip!a.env"]
    assert [f.path for f in scan_history(tmp_git_repo).findings] == ["big.zip!a.env"]
    assert [f.path for f in scan_staged(tmp_git_repo).findings] == ["big.zip!a.env"]


def test_copies_of_an_archive_each_report_their_own_path(tmp_git_repo: Path) -> None:
    data = _zip({"a.env": _creds()})
    (tmp_git_repo / "one.zip").write_bytes(data)
    (tmp_git_repo / "two.zip").write_bytes(data)
    commit_all(tmp_git_repo, "add")
    expected = [f"one.zip{SEP}a.env", f"two.zip{SEP}a.env"]
    assert sorted(f.path for f in scan_tree(tmp_git_repo).findings) == expected
    assert sorted(f.path for f in scan_tree(tmp_git_repo, use_cache=True).findings) == expected
    # and the tree cache never records the archive as clean
    assert sorted(f.path for f in scan_tree(tmp_git_repo, use_cache=True).findings) == expected


def test_text_that_starts_like_an_archive_is_still_read_as_text() -> None:
    """A text led by a zip's magic bytes is no zip: the skip says so, and its lines are
    read as any file's (the token was never reported)."""
    from secretkit.scan.one_file import scan_bytes

    token = fake.github_token("magic")
    findings, skipped = scan_bytes(
        "notes.txt", f"PK\x03\x04 header\nGITHUB_TOKEN={token}\n".encode()
    )
    assert [f.secret.reveal() for f in findings] == [token]
    assert skipped is not None and skipped.reason.startswith("archive not read whole")


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("app.log.zst", b"\x28\xb5\x2f\xfd\x24\x10" + bytes(range(40)), "zstd data"),
        ("doc.pdf", _pdf(b"<packed>", b"/LZWDecode"), "a filter other than FlateDecode"),
    ],
)
def test_a_format_secretkit_does_not_open_is_never_called_clean(
    name: str, data: bytes, reason: str
) -> None:
    """zstd, a git bundle, a PDF stream under another filter: they were read as bytes
    and called clean though a token inside was never seen (a stranger's)."""
    _findings, skipped = scan_bytes(name, data)
    assert skipped is not None and skipped.reason.startswith("archive not read whole")
    assert reason in skipped.reason


def test_a_git_bundle_is_not_called_clean(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "a.txt").write_text("x\n")
    commit_all(tmp_git_repo)
    git(tmp_git_repo, "bundle", "create", "backup.bundle", "HEAD")
    data = (tmp_git_repo / "backup.bundle").read_bytes()
    _findings, skipped = scan_bytes("backup.bundle", data)
    assert skipped is not None and "git-bundle data" in skipped.reason


@pytest.mark.parametrize("text", [b"x^2 + y^2 = r^2\n", b"x\x01 not zlib at all\n", b"]]\x00\x00"])
def test_text_that_starts_like_zlib_or_lzma_is_not_taken_for_them(text: bytes) -> None:
    assert kind(text) is None
