"""Compressed files and archives (gzip, bzip2, xz, zip, tar and their compressed
forms), opened in memory with the standard library so that each file they hold is
scanned as text: ``creds.env.gz`` as ``creds.env.gz!creds.env``, a zip's member as
``bundle.zip!dir/file.env`` (:data:`SEP`).  Read as bytes, their printable runs are
noise and a secret in them would be called clean.

Recognised by their first bytes (:func:`kind`: a few comparisons, all a file that is
none of them pays), whatever their name.  Every archive is opened under hard caps
(:class:`Budget`: bytes inflated, members, nesting, expansion ratio): what is over
a cap, an encrypted member, an unsupported method or a damaged archive is a reason
to skip, never silence (:func:`unpack`)."""

from __future__ import annotations

import io
from collections.abc import Iterator

from secretkit.lazy_re import lazy

# Between an archive's path and a member's (``a.zip!dir/file.env``; nested:
# ``a.zip!inner.tgz!file``).
SEP = "!"

MAX_INPUT = 64 * 1024 * 1024  # an archive larger than this is not opened
MAX_TOTAL = 64 * 1024 * 1024  # bytes inflated from one archive, nested ones included
MAX_MEMBERS = 10_000
MAX_DEPTH = 2  # an archive inside an archive is opened; one inside that is not
MAX_RATIO = 200  # inflated/compressed, checked once over RATIO_FROM bytes (a bomb)
RATIO_FROM = 1024 * 1024
_STEP = 1024 * 1024
HEAD_BYTES = 512  # enough of a file's start for :func:`kind`

_GZIP = b"\x1f\x8b\x08"
_XZ = b"\xfd7zXZ\x00"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
# bzip2: "BZh", a block size digit, then a block's or the end's magic
_BZ2_NEXT = (b"1AY&SY", b"\x17rE8P\x90")
_SUFFIXES = {
    ".tgz": ".tar",
    ".tbz2": ".tar",
    ".tbz": ".tar",
    ".txz": ".tar",
    ".gz": "",
    ".bz2": "",
    ".xz": "",
    ".lzma": "",
    ".zz": "",
    ".zlib": "",
}


_ZSTD = b"\x28\xb5\x2f\xfd"
_BUNDLES = (b"# v2 git bundle\n", b"# v3 git bundle\n")
_LZMA_ALONE = b"\x5d\x00\x00"  # (lc/lp/pb 3/0/2, then a dictionary size of 64 KiB and up)
_UNKNOWN_SIZE = 2**64 - 1


def kind(data: bytes) -> str | None:
    """``gzip``, ``bz2``, ``xz``, ``lzma``, ``zlib``, ``zip``, ``tar``, ``ar`` (a .deb),
    ``pdf`` (its deflated streams), or ``zstd`` and ``git-bundle`` (known, not opened:
    a file of those is never called clean) by the first bytes, else None."""
    first = data[:1]
    if first in b"x]%!(#" and first:
        return _other_kind(data)
    if first == b"\x1f":
        return "gzip" if data.startswith(_GZIP) else None
    if first == b"P":
        return "zip" if data[:4] in _ZIP else None
    if first == b"B":
        ok = data.startswith(b"BZh") and data[3:4].isdigit() and data[4:10] in _BZ2_NEXT
        return "bz2" if ok else None
    if first == b"\xfd":
        return "xz" if data.startswith(_XZ) else None
    if data[257:262] == b"ustar" and _tar_header(data[:512]):
        return "tar"
    return None


def _other_kind(data: bytes) -> str | None:
    """:func:`kind` of the formats after the first five."""
    first = data[:1]
    if first == b"(":
        return "zstd" if data.startswith(_ZSTD) else None
    if first == b"#":
        return "git-bundle" if data.startswith(_BUNDLES) else None
    if first == b"!":
        return "ar" if data.startswith(b"!<arch>\n") else None
    if first == b"%":
        return "pdf" if data.startswith(b"%PDF-") else None
    if first == b"]":  # a size that is unknown or no larger than a file holds
        size = int.from_bytes(data[5:13], "little")
        plausible = size == _UNKNOWN_SIZE or size <= MAX_INPUT * MAX_RATIO
        return "lzma" if data.startswith(_LZMA_ALONE) and len(data) > 13 and plausible else None
    # zlib: a header whose check bits hold, and the start of a stream that inflates
    if len(data) < 2 or data[1] not in b"\x01\x5e\x9c\xda" or (data[0] * 256 + data[1]) % 31:
        return None
    import zlib

    inflater = zlib.decompressobj()
    try:
        inflater.decompress(data[:HEAD_BYTES])
    except zlib.error:
        return None
    # (a short text can inflate without error: a whole head must end its stream)
    return "zlib" if inflater.eof or len(data) > HEAD_BYTES else None


def _tar_header(header: bytes) -> bool:
    """Whether a tar header's checksum holds (a text with "ustar" at byte 257 is
    not taken for an archive)."""
    field = header[148:156].split(b"\0", 1)[0].strip()
    try:
        stored = int(field, 8)
    except ValueError:
        return False
    return stored == sum(header[:148]) + 8 * 32 + sum(header[156:512])


class Budget:
    """What one outermost archive may still inflate to, and how many members.  (A
    plain class: the hook imports this module, and a dataclass costs its start-up.)"""

    __slots__ = ("bytes_left", "members_left")

    def __init__(self, bytes_left: int = MAX_TOTAL, members_left: int = MAX_MEMBERS) -> None:
        self.bytes_left = bytes_left
        self.members_left = members_left


class _Stop(Exception):
    """A cap reached or a damaged archive: the rest of the archive is not read."""


def unpack(
    path: str, data: bytes, budget: Budget | None = None, depth: int = 1
) -> Iterator[tuple[str, bytes | None, str | None]]:
    """``(member path, content, None)`` for each file the archive ``data`` (of
    :func:`kind`) holds, nested archives opened in turn, and ``(path, None,
    reason)`` for what could not be read (then the rest of that archive is not read
    either, and the caller must not call the file clean)."""
    budget = budget or Budget()
    what = kind(data)
    if len(data) > MAX_INPUT:
        yield path, None, f"{what} archive over {MAX_INPUT // 2**20} MiB, not opened"
        return
    if what in ("zstd", "git-bundle"):
        yield path, None, f"{what} data, which is not opened here"
        return
    try:
        if what == "zip":
            members = _zip(data, budget)
        elif what == "tar":
            members = _tar(data, budget)
        elif what == "ar":
            members = _ar(data, budget)
        elif what == "pdf":
            members = _pdf(data, budget)
        else:
            members = _stream(path, data, budget)
        for name, content in members:
            inner = f"{path}{SEP}{name}"
            if kind(content) is None:
                yield inner, content, None
            elif depth >= MAX_DEPTH:
                yield inner, None, f"an archive nested {depth + 1} deep, not opened"
            else:
                yield from unpack(inner, content, budget, depth + 1)
    except _Stop as stop:
        yield path, None, str(stop)


def _take(budget: Budget, size: int) -> None:
    budget.members_left -= 1
    budget.bytes_left -= size
    if budget.members_left < 0:
        raise _Stop(f"more than {MAX_MEMBERS} members, the rest not read")
    if budget.bytes_left < 0:
        raise _Stop(f"inflates to over {MAX_TOTAL // 2**20} MiB, the rest not read")


def _ratio(inflated: int, compressed: int) -> None:
    if inflated > RATIO_FROM and inflated > MAX_RATIO * max(compressed, 1):
        raise _Stop(f"inflates over {MAX_RATIO} times (a decompression bomb?), not read")


def _stream(path: str, data: bytes, budget: Budget) -> Iterator[tuple[str, bytes]]:
    """One compressed stream: its content, or a tar's members when it holds one."""
    import bz2
    import gzip
    import lzma
    import zlib

    what = kind(data)
    source = io.BytesIO(data)
    try:
        with (
            gzip.GzipFile(fileobj=source)
            if what == "gzip"
            else bz2.BZ2File(source)
            if what == "bz2"
            else _Inflating(data)
            if what == "zlib"
            else lzma.LZMAFile(source)  # (xz, and lzma's own format)
        ) as handle:
            parts: list[bytes] = []
            held = 0
            # (in steps: a bomb stops at its ratio, not at the total cap)
            while held <= budget.bytes_left and (part := handle.read(_STEP)):
                parts.append(part)
                held += len(part)
                _ratio(held, len(data))
            out = b"".join(parts)
            del parts
    except (OSError, EOFError, lzma.LZMAError, zlib.error, ValueError) as exc:
        raise _Stop(f"damaged {what} data ({type(exc).__name__})") from None
    if kind(out) == "tar":
        yield from _tar(out, budget)
        return
    _take(budget, len(out))
    name = path.rsplit(SEP, 1)[-1].rsplit("/", 1)[-1]
    for suffix, replacement in _SUFFIXES.items():
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)] + replacement
            break
    yield name, out


def _zip(data: bytes, budget: Budget) -> Iterator[tuple[str, bytes]]:
    import zipfile
    import zlib

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _Stop(f"damaged zip archive ({type(exc).__name__})") from None
    if len(infos) > budget.members_left:
        raise _Stop(f"more than {MAX_MEMBERS} members, not read")
    for info in infos:
        if info.is_dir():
            continue
        if info.flag_bits & 0x1:
            raise _Stop(f"member {info.filename} is encrypted, not read")
        _ratio(info.file_size, info.compress_size)
        _take(budget, info.file_size)
        try:
            with archive.open(info) as handle:
                content = handle.read(info.file_size + 1)
        except NotImplementedError:
            raise _Stop(f"member {info.filename}: compression method not supported") from None
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, ValueError) as exc:
            raise _Stop(f"damaged zip member {info.filename} ({type(exc).__name__})") from None
        if len(content) != info.file_size:
            raise _Stop(f"zip member {info.filename} is not the size it declares")
        yield info.filename.lstrip("/"), content


def _tar(data: bytes, budget: Budget) -> Iterator[tuple[str, bytes]]:
    import tarfile

    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            for info in archive:
                if not info.isfile():
                    continue
                _take(budget, info.size)
                handle = archive.extractfile(info)
                content = handle.read() if handle is not None else b""
                yield info.name.lstrip("/").removeprefix("./"), content
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise _Stop(f"damaged tar archive ({type(exc).__name__})") from None


class _Inflating:
    """A zlib stream read in steps, as the other readers are (``read``, a context)."""

    def __init__(self, data: bytes) -> None:
        import zlib

        self._inflater = zlib.decompressobj()
        self._data = data
        self._at = 0

    def __enter__(self) -> _Inflating:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def read(self, size: int) -> bytes:
        out = b""
        while len(out) < size and not self._inflater.eof:
            if self._inflater.unconsumed_tail:
                out += self._inflater.decompress(self._inflater.unconsumed_tail, size - len(out))
            elif self._at < len(self._data):
                piece = self._data[self._at : self._at + _STEP]
                self._at += len(piece)
                out += self._inflater.decompress(piece, size - len(out))
            else:
                raise EOFError("the zlib stream ends early")
        return out


def _ar(data: bytes, budget: Budget) -> Iterator[tuple[str, bytes]]:
    """The members of an ar archive (a Debian package's debian-binary, control.tar.*,
    data.tar.*: those are opened in turn)."""
    at = 8
    while at + 60 <= len(data):
        header = data[at : at + 60]
        if header[58:60] != b"`\n":
            raise _Stop("damaged ar archive (a member's header)")
        try:
            size = int(header[48:58].strip() or b"0")
        except ValueError:
            raise _Stop("damaged ar archive (a member's size)") from None
        name = header[:16].rstrip(b" ").rstrip(b"/").decode("utf-8", "replace")
        start = at + 60
        if start + size > len(data):
            raise _Stop("damaged ar archive (a member runs past its end)")
        _take(budget, size)
        yield name or f"member-{at}", data[start : start + size]
        at = start + size + (size & 1)


# a PDF's streams: the dictionary before each names its filters
_PDF_STREAM = lazy(rb"<<((?:[^<>]|<<(?:[^<>]|<<[^<>]*>>)*>>)*)>>\s*stream\r?\n")
_PDF_IMAGES = (b"/DCTDecode", b"/JPXDecode", b"/CCITTFaxDecode", b"/JBIG2Decode")


def _pdf(data: bytes, budget: Budget) -> Iterator[tuple[str, bytes]]:
    """A PDF's own bytes (its uncompressed objects) and each deflated stream inflated;
    a stream under another filter than an image's is not read, and says so."""
    import zlib

    _take(budget, len(data))
    yield "document", data[len(b"%PDF-") :]  # (not a PDF to kind() again)
    for number, m in enumerate(_PDF_STREAM.finditer(data)):
        filters = m.group(1)
        end = data.find(b"endstream", m.end())
        if end < 0:
            raise _Stop("damaged PDF (a stream without its end)")
        if b"/Filter" not in filters or any(f in filters for f in _PDF_IMAGES):
            continue  # (read as the document's own bytes; an image holds no text)
        if filters.count(b"Decode") != 1 or b"/FlateDecode" not in filters:
            raise _Stop("a PDF stream under a filter other than FlateDecode, not read")
        inflater = zlib.decompressobj()
        try:
            out = inflater.decompress(data[m.end() : end], budget.bytes_left + 1)
        except zlib.error:
            raise _Stop("damaged PDF stream (its deflated data)") from None
        _ratio(len(out), end - m.end())
        _take(budget, len(out))
        yield f"stream-{number}", out
