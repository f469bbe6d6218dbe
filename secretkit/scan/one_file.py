"""Findings in one file's content: :func:`scan_bytes` for bytes in memory,
:func:`scan_pieces` for content handed over in pieces (a large file or blob).

The file's path picks the reader (:mod:`secretkit.scan.nix` for ``.nix``,
:mod:`secretkit.scan.text_files` for the rest); heavy parts load lazily: tree-sitter
only when a ``.nix`` file is scanned, detect-secrets only when a text could hold a
vendor token.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.scan import archives
from secretkit.scan.allowlist import Allowlist
from secretkit.scan.hits import GENERIC_API_KEY, Hit
from secretkit.scan.model import Finding, Skipped
from secretkit.sensitive import Sensitive, preview

if TYPE_CHECKING:
    from secretkit.scan.decode import Decoded
    from secretkit.scan.versions import Versions

MAX_BYTES = 1024 * 1024


def scan_bytes(
    path: str,
    data: bytes,
    *,
    allow: Allowlist | None = None,
    commit: str | None = None,
    max_bytes: int = MAX_BYTES,
    versions: Versions | None = None,
    lfs: Path | None = None,
) -> tuple[list[Finding], Skipped | None]:
    """Findings in one file's content; ``path`` (repo-relative) picks the file type.

    Text in any common encoding is decoded, binary content is read for its printable
    runs, and content over ``max_bytes`` is scanned in line-aligned pieces
    (:func:`scan_pieces`).  A compressed file or an archive is opened and each file it
    holds scanned (:mod:`secretkit.scan.archives`); ``lfs``: the repository's LFS
    object store (:func:`secretkit.git.lfs.objects_dir`), where the content of an LFS
    pointer is read and scanned at the pointer's path.  What could not be read is the
    :class:`Skipped` (with the findings of what could).  ``versions``: a ``.nix`` file
    is scanned from the scan of the version of its path handed over just before, if
    any (:mod:`secretkit.scan.versions`; the same hits, sooner)."""
    if lfs is not None and data[:8] == b"version ":
        from secretkit.git.lfs import pointer

        named = pointer(data)
        if named is not None:
            return _scan_lfs(path, *named, lfs, allow, commit, max_bytes)
    if archives.kind(data) is not None:  # (a few byte comparisons for any other file)
        return _scan_archive(path, data, allow or Allowlist(), commit, max_bytes)
    found, unparsed = _scan_plain(path, data, allow or Allowlist(), commit, max_bytes, versions)
    return found, Skipped(path, unparsed) if unparsed is not None else None


def _scan_plain(
    path: str,
    data: bytes,
    allow: Allowlist,
    commit: str | None,
    max_bytes: int,
    versions: Versions | None = None,
) -> tuple[list[Finding], str | None]:
    """The findings, and why the file was read only in part (:func:`_scan_one`)."""
    if len(data) > max_bytes:
        view = memoryview(data)
        pieces = (bytes(view[i : i + max_bytes]) for i in range(0, len(data), max_bytes))
        return scan_pieces(path, pieces, allow=allow, commit=commit, max_bytes=max_bytes), None
    return _scan_one(path, data, allow, commit, versions=versions)


def _scan_archive(
    path: str, data: bytes, allow: Allowlist, commit: str | None, max_bytes: int
) -> tuple[list[Finding], Skipped | None]:
    """Each file the archive holds, scanned at ``archive!member``; what it could not
    open is one skip at the archive's own path (what the user can act on)."""
    findings: list[Finding] = []
    reasons: list[str] = []
    for inner, content, reason in archives.unpack(path, data):
        if content is None:
            member = inner[len(path) + len(archives.SEP) :]
            reasons.append(f"{member}: {reason}" if member else str(reason))
            continue
        found, _unparsed = _scan_plain(inner, content, allow, commit, max_bytes)
        findings.extend(replace(f, inside="archive") for f in found)
    if not reasons:
        return findings, None
    if not findings:  # (opened nothing: its bytes are read as any file's, besides the skip)
        findings, _unparsed = _scan_plain(path, data, allow, commit, max_bytes)
    shown = "; ".join(reasons[:3]) + (f"; and {len(reasons) - 3} more" if len(reasons) > 3 else "")
    return findings, Skipped(path, f"archive not read whole: {shown}")


def _scan_lfs(
    path: str,
    oid: str,
    size: int,
    store: Path,
    allow: Allowlist | None,
    commit: str | None,
    max_bytes: int,
) -> tuple[list[Finding], Skipped | None]:
    """The content of the LFS object a pointer names (what ``git push`` uploads),
    scanned at the pointer's path; a skip when this clone does not hold it."""
    from secretkit.git.lfs import MISSING_OBJECT, object_path, read_object

    missing = Skipped(path, f"{MISSING_OBJECT} (sha256 {oid[:12]}…): its content was not read")
    if size <= archives.MAX_INPUT:
        content = read_object(store, oid, size, archives.MAX_INPUT)
        if content is None:
            return [], missing
        found, skipped = scan_bytes(path, content, allow=allow, commit=commit, max_bytes=max_bytes)
        return [replace(f, inside=f.inside or "lfs") for f in found], skipped
    try:  # (too large to hold: streamed, unless it is an archive, which is not opened)
        handle = open(object_path(store, oid), "rb")  # noqa: SIM115
    except OSError:
        return [], missing
    with handle:
        if os.fstat(handle.fileno()).st_size != size:
            return [], missing
        head = handle.read(4096)
        if archives.kind(head) is not None:
            return [], Skipped(path, f"LFS object is an archive over {archives.MAX_INPUT} bytes")
        pieces = itertools.chain([head], iter(lambda: handle.read(max_bytes), b""))
        found = scan_pieces(path, pieces, allow=allow, commit=commit, max_bytes=max_bytes)
    return [replace(f, inside="lfs") for f in found], None


def scan_pieces(
    path: str,
    pieces: Iterable[bytes],
    *,
    allow: Allowlist | None = None,
    commit: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> list[Finding]:
    """Findings in content handed over in ``pieces`` (a large file or blob), holding
    at most about two pieces of ``max_bytes`` in memory: the content is cut after a
    line break near each ``max_bytes`` and every part is scanned on its own, each
    starting :data:`OVERLAP_LINES` lines before its cut (a private key's block, a
    multi-line value that straddles a cut is whole in one part; what two parts both
    find is reported once), positions shifted to the whole content.  UTF-16 content
    is read as its text (in UTF-8: its findings' byte offsets count that text's UTF-8
    bytes; lines are its own)."""
    allow = allow or Allowlist()
    found: dict[tuple[int, str], Finding] = {}  # (start, rule): one finding per place
    probe: list[bytes] = []  # (what git-filter-repo reads to call the whole blob binary)
    parts = _line_parts(_as_utf8(_probed(iter(pieces), probe)), max_bytes)
    for part, base, lines_before, columns_before in parts:
        binary = BINARY_BLOB in probe[0]
        for f in _scan_one(path, part, allow, commit, as_text=True)[0]:
            where = (f.start + base, f.rule)
            before = found.get(where)
            if before is not None and before.end >= f.end + base:
                continue  # (found in the overlap of the part before)
            # (a value the cut shortened in the part before is found whole here)
            found[where] = replace(
                f,
                line=f.line + lines_before,
                end_line=f.end_line + lines_before,
                # a part that starts inside a line: its first line's columns go on
                column=f.column + (columns_before if f.line == 1 else 0),
                end_column=f.end_column + (columns_before if f.end_line == 1 else 0),
                start=f.start + base,
                end=f.end + base,
                inside="binary" if binary else "",
            )
    return list(found.values())


# How many lines before its cut each part starts again: a PEM private key of 4096 bits
# is 51 lines; an OpenSSH one of 16384 bits, 50.
OVERLAP_LINES = 128


def _probed(pieces: Iterator[bytes], probe: list[bytes]) -> Iterator[bytes]:
    """``pieces``; ``probe`` gains the first :data:`BINARY_PROBE` bytes of the first."""
    for piece in pieces:
        if not probe:
            probe.append(piece[:BINARY_PROBE])
        yield piece


# A line longer than a part is cut inside it: the next part starts again this many
# bytes before the cut (at most 1/16 of a part), so a value across the cut (a token, a
# key written on one line as JSON writes it: 3.3 KB for RSA 4096) is whole in it.
OVERLAP_BYTES = 64 * 1024


def _line_parts(pieces: Iterable[bytes], size: int) -> Iterator[tuple[bytes, int, int, int]]:
    """``(part, its offset, line breaks before it, characters of its first line before
    it)``: parts of about ``size`` bytes cut after a line break, each after the first
    beginning :data:`OVERLAP_LINES` lines before the previous part's end; a part
    holding no line break is cut where it ends, and the next begins
    :data:`OVERLAP_BYTES` before that cut (then inside a line: the characters before
    it on that line are counted, for columns)."""
    buffer = b""
    base = 0  # offset of buffer[0] in the content
    lines = 0  # line breaks before buffer[0]
    columns = 0  # characters between the last line break before buffer[0] and it
    for piece in pieces:
        buffer += piece
        while len(buffer) >= size:
            cut = buffer.rfind(b"\n", 0, size) + 1
            if cut:
                yield buffer[:cut], base, lines, columns
                again = cut
                for _ in range(OVERLAP_LINES):
                    back = buffer.rfind(b"\n", 0, again - 1)
                    if back == -1 or cut - back > size // 8:
                        break
                    again = back + 1
            else:  # one line longer than a part: cut inside it, start again before the cut
                cut = size
                while cut > size - 4 and cut < len(buffer) and 0x80 <= buffer[cut] < 0xC0:
                    cut -= 1  # (not inside a UTF-8 character)
                yield buffer[:cut], base, lines, columns
                again = max(1, cut - min(OVERLAP_BYTES, size // 16))
                again = _word_start(buffer, again)
                while again > 1 and 0x80 <= buffer[again] < 0xC0:
                    again -= 1
            again = max(again, 1) if cut > 1 else cut  # (always moves on)
            breaks = buffer.count(b"\n", 0, again)
            if breaks:
                lines += breaks
                columns = _characters(buffer, buffer.rfind(b"\n", 0, again) + 1, again)
            else:
                columns += _characters(buffer, 0, again)
            base += again
            buffer = buffer[again:]
    if buffer:
        yield buffer, base, lines, columns


def _word_start(data: bytes, at: int, back: int = 4096) -> int:
    """``at`` moved back to just after the last space, tab, comma, semicolon, brace or
    bracket at most ``back`` bytes before it (where a key or a word of a long line
    begins, not inside one); ``at`` when there is none."""
    low = max(1, at - back)
    last = max(data.rfind(c, low, at) for c in (b" ", b"\t", b",", b";", b"{", b"}", b"[", b"]"))
    return last + 1 if last >= 0 else at


def _characters(data: bytes, start: int, end: int) -> int:
    """How many characters ``data[start:end]`` holds as :func:`_position` counts them
    (UTF-8, a bad byte one), read 64 KiB at a time (no copy of a long line)."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    view = memoryview(data)
    count = 0
    for at in range(start, end, 65536):
        count += len(decoder.decode(view[at : min(end, at + 65536)]))
    return count + len(decoder.decode(b"", final=True))


def _as_utf8(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """``pieces`` as they are, or, for UTF-16 content (a byte-order mark, or ASCII text
    with every other byte NUL), its text in UTF-8: cut into pieces a UTF-16 text's
    line breaks are two bytes, and a part would start in the middle of a character."""
    import codecs

    from secretkit.scan.decode import _utf16_without_bom

    first = next(pieces, b"")
    while len(first) < 4096:  # (enough to tell)
        more = next(pieces, None)
        if more is None:
            break
        first += more
    encoding = None
    skip = 0
    for bom, name in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if first.startswith(bom) and not first.startswith(codecs.BOM_UTF32_LE):
            encoding, skip = name, len(bom)
    if encoding is None and b"\0" in first[:4096]:
        encoding = _utf16_without_bom(first[:4096])
    held = [first]  # (handed on without keeping it: memory stays at about two pieces)
    del first
    if encoding is None:
        yield held.pop()
        yield from pieces
        return
    decoder = codecs.getincrementaldecoder(encoding)(errors="surrogatepass")
    yield decoder.decode(held.pop()[skip:]).encode("utf-8", "surrogatepass")
    for piece in pieces:
        yield decoder.decode(piece).encode("utf-8", "surrogatepass")
    yield decoder.decode(b"", final=True).encode("utf-8", "surrogatepass")


@functools.lru_cache(maxsize=4096)  # (a first copy's path is asked about again and again)
def reading(path: str, one_line: bool = True) -> tuple[object, ...]:
    """All that the scan of a file's bytes reads of its path (:func:`_scan_one`): its
    format, and what the text reader reads of it (for a Nix file, as the text its
    parse errors leave); ``one_line``: whether the text may be a one-line secret file
    (:func:`secretkit.scan.path_rules.may_be_secret_file`).  Equal bytes at paths that
    read alike give the same hits, so copies are scanned once."""
    from secretkit.scan.formats import file_format
    from secretkit.scan.path_rules import path_reading

    fmt = file_format(path)
    if fmt == "nix":  # (read as text, path + ".txt", where tree-sitter cannot place it)
        return fmt, path_reading(path + ".txt", one_line)
    # (the text reader reads more of a path only for the plain-text format)
    return fmt, path_reading(path, one_line) if fmt == "text" else None


def one_line(data: bytes) -> bool:
    """Whether the text of ``data`` may be a one-line secret file (its reading then
    takes in the name and directory too)."""
    from secretkit.scan.decode import decode
    from secretkit.scan.path_rules import SECRET_FILE_MAX, may_be_secret_file

    if data.isascii() and not any(mark in data for mark in (b"\0", b"ENC[", b"-----BEGIN")):
        # (its text is itself, and str.strip strips exactly these of an ASCII text)
        value = data.strip(b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f")
        if not value or len(value) > SECRET_FILE_MAX or b"\n" in value:
            return False
    return may_be_secret_file(decode(data).text)


def _scan_one(
    path: str,
    data: bytes,
    allow: Allowlist,
    commit: str | None,
    *,
    as_text: bool = False,
    versions: Versions | None = None,
) -> tuple[list[Finding], str | None]:
    """The findings, and, for a ``.nix`` file that does not parse, why it was read
    only in part: what tree-sitter could not place was read as plain text, which knows
    no attribute paths (:func:`partly_read`)."""
    from secretkit.scan.decode import decode
    from secretkit.scan.formats import file_format

    fmt = file_format(path)
    decoded = decode(data)
    hits: list[Hit]
    unparsed = None
    if fmt == "nix" and not as_text and decoded.encoding == "utf-8" and b"\0" not in data:
        from secretkit.nix.syntax import NixTooDeep
        from secretkit.scan.nix import scan_nix

        try:
            hits, errors = versions.nix_hits(path, data) if versions is not None else scan_nix(data)
        except NixTooDeep:  # (no configuration nests so deep: all of it read as text)
            hits, errors = [], True
            unparsed = f"{NIX_SYNTAX_ERROR}: nests too deep to parse, read as plain text"
            if versions is not None:
                versions.forget()
        if errors:
            from secretkit.scan.text_files import scan_text

            # What tree-sitter could not place is still read, as text.
            taken = [(h.start, h.end) for h in hits]
            hits.extend(
                h
                for h in _text_hits(decoded, scan_text(decoded.text, path + ".txt"))
                if not any(a < h.end and h.start < b for a, b in taken)
            )
            unparsed = unparsed or syntax_error_reason(data)
    else:
        text_path = path + ".txt" if fmt == "nix" else path
        if versions is not None:
            found = versions.text_hits(path, decoded.text, text_path)
        else:
            from secretkit.scan.text_files import scan_text

            found = scan_text(decoded.text, text_path)
        if decoded.encoding == "strings":  # (a binary file: tokens glued to their bytes)
            from secretkit.scan.glued_tokens import glued_hits

            found = [*found, *glued_hits(decoded.text, found)]
        hits = _text_hits(decoded, found)
    findings = hit_findings(path, data, hits, allow, commit)
    if findings and BINARY_BLOB in data[:BINARY_PROBE]:
        findings = [replace(f, inside="binary") for f in findings]
    return findings, unparsed


# What git-filter-repo's --replace-text takes for a binary blob, and passes over: a
# NUL byte in its first 8 KiB (purge cannot rewrite a value there)
BINARY_BLOB = b"\0"
BINARY_PROBE = 8192


# A .nix file that does not parse: read, but part of it only as plain text
NIX_SYNTAX_ERROR = "Nix syntax error"


def partly_read(reason: str) -> bool:
    """Whether a skip's ``reason`` says the file was read, but part of it only as plain
    text (a ``.nix`` file that does not parse: the tree's is reported, so that no
    gate says "clean" of it; a version in history is not, as no one can fix it there)."""
    return reason.startswith(NIX_SYNTAX_ERROR)


def syntax_error_reason(data: bytes) -> str:
    """:data:`NIX_SYNTAX_ERROR` with the line of the first place tree-sitter could
    not parse in ``data``."""
    from secretkit.nix import cst

    spans = cst.parse(data).error_spans
    where = f" at line {data.count(NEWLINE, 0, spans[0][0]) + 1}" if spans else ""
    return f"{NIX_SYNTAX_ERROR}{where}: read as plain text where it does not parse"


NEWLINE = b"\n"


def hit_findings(
    path: str, data: bytes, hits: list[Hit], allow: Allowlist, commit: str | None
) -> list[Finding]:
    """The findings of ``hits`` (byte offsets into ``data``, the file at ``path``)
    that the allowlist does not allow."""
    findings = []
    syncthing: bool | None = None  # whether the file names Syncthing (asked once)
    for hit in hits:
        rule = hit.rule
        if rule == "syncthing-api-key":
            if syncthing is None:
                syncthing = b"syncthing" in data.lower()
            rule = rule if syncthing else GENERIC_API_KEY
        raw = data[hit.start : hit.end]
        value = _value_of(raw, hit)
        if allow.allowed and allow.allows(allow.fingerprint(value)):
            continue  # (the fingerprint is computed only against a non-empty list)
        line, column = _position(data, hit.start)
        end_line, end_column = _position(data, hit.end)
        attrpath = hit.attrpath
        if attrpath and len(value) >= 4 and value in attrpath:  # (the user is the password)
            attrpath = attrpath.replace(value, "<the value>")
        findings.append(
            Finding(
                path=path,
                line=line,
                column=column,
                end_line=end_line,
                end_column=end_column,
                rule=rule,
                kind=hit.kind,
                severity=hit.severity,
                attrpath=attrpath,
                commit=commit,
                preview=preview(value),
                start=hit.start,
                end=hit.end,
                secret=Sensitive(value),
                keyring=allow,
            )
        )
    return findings


def _text_hits(decoded: Decoded, hits: list[Hit]) -> list[Hit]:
    """Character offsets of ``decoded.text`` → byte offsets of the data; the value is
    kept as text (the bytes may be UTF-16 or Latin-1)."""
    out = []
    for hit in hits:
        start = decoded.byte_offset(hit.start)
        end = decoded.byte_offset(hit.end)
        value = hit.value if hit.value is not None else decoded.text[hit.start : hit.end]
        out.append(replace(hit, start=start, end=end, value=value))
    return out


def _value_of(raw: bytes, hit: Hit) -> str:
    """The secret as the program using it sees it (Nix escapes resolved)."""
    if hit.value is not None:
        return hit.value
    return raw.decode("utf-8", "replace")


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return line, column
