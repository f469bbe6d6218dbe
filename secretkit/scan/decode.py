"""Bytes to text for the scanner, so that files are not skipped lightly.

* UTF-8 (NUL bytes included: a stray NUL does not make a text file binary);
* UTF-16, little or big endian, with or without a byte-order mark;
* any other mostly-printable text as Latin-1 (one byte per character, so it also
  reads Windows-1252 text without shifting positions);
* what is left is binary: its printable runs (as ``strings`` shows them) are
  scanned, every other byte read as a line break, so positions stay exact.

:class:`Decoded` maps a character offset of the text back to a byte offset of the
data (findings are byte spans).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

# Bytes that are text: printable ASCII, tab, LF, CR, FF, ESC and everything >= 0x80.
_TEXT_BYTES = bytes(sorted({*range(0x20, 0x7F), 0x09, 0x0A, 0x0D, 0x0C, 0x1B, *range(0x80, 0x100)}))
# binary → "strings": every non-printable byte becomes a line break.
_STRINGS = bytes(b if 0x20 <= b < 0x7F or b == 0x09 else 0x0A for b in range(256))


@dataclass(frozen=True)
class Decoded:
    """A file's bytes as the text the scanner reads, and how they were decoded."""

    text: str
    encoding: str  # "utf-8", "utf-16-le", "utf-16-be", "latin-1", "strings"
    bom: int = 0  # bytes of byte-order mark before the text

    def byte_offset(self, index: int) -> int:
        """Byte offset in the data of character ``index`` of :attr:`text`."""
        if self.encoding in ("latin-1", "strings"):
            return index
        if self.encoding in ("utf-8", "utf-8-sig"):
            prefix = self.text[:index]
            if prefix.isascii():
                return self.bom + len(prefix)
            return self.bom + len(prefix.encode("utf-8", "surrogatepass"))
        return self.bom + len(self.text[:index].encode(self.encoding, "surrogatepass"))


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when every other byte of a sample is NUL (ASCII
    text in UTF-16), else None."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even = sample[0::2]
    odd = sample[1::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
        return "utf-16-be"
    return None


def _mostly_text(data: bytes) -> bool:
    sample = data[:65536]
    if not sample:
        return True
    other = len(sample.translate(None, _TEXT_BYTES))
    return other <= max(1, len(sample) // 100)  # a few NULs or control bytes are fine


def decode(data: bytes) -> Decoded:
    """The text to scan in ``data`` (never fails)."""
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom) and not data.startswith(codecs.BOM_UTF32_LE):
            try:
                return Decoded(data[len(bom) :].decode(encoding), encoding, len(bom))
            except UnicodeDecodeError:
                break
    if data.startswith(codecs.BOM_UTF8):
        try:
            return Decoded(data[3:].decode("utf-8"), "utf-8-sig", 3)
        except UnicodeDecodeError:
            pass
    if b"\0" in data[:8192]:
        encoding16 = _utf16_without_bom(data)
        if encoding16 is not None:
            try:
                return Decoded(data.decode(encoding16), encoding16)
            except UnicodeDecodeError:
                pass
    if _mostly_text(data):
        try:
            return Decoded(data.decode("utf-8"), "utf-8")
        except UnicodeDecodeError:
            return Decoded(data.decode("latin-1"), "latin-1")
    return Decoded(data.translate(_STRINGS).decode("ascii"), "strings")
