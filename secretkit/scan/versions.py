"""The scan of the version of a path handed over just before: a history's blobs come
grouped by path, and each version is scanned from what the one before left.

A ``.nix`` blob is scanned from the previous version's :class:`NixScan`
(:mod:`secretkit.scan.nix_delta`: only what changed is parsed and read again); a text
blob starts from what the scan of the previous version learnt about its text, carried
over the changed lines (:meth:`secretkit.scan.match_starts.Known.after`: which
substrings and words it holds, so the detectors' pre-filters need not search the whole
text again).  Either way the hits are those of a scan of the blob alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from secretkit.scan.hits import Hit
    from secretkit.scan.match_starts import Known
    from secretkit.scan.nix_delta import NixScan


class Versions:
    """What the scan of the last blob of a scan of many left, with its path."""

    def __init__(self) -> None:
        self.path: str | None = None
        self.nix: NixScan | None = None
        self.text: str | None = None
        self.known: Known | None = None

    def nix_hits(self, path: str, data: bytes) -> tuple[list[Hit], bool]:
        """:func:`secretkit.scan.nix.scan_nix` of one ``.nix`` blob of ``path``."""
        from secretkit.scan import nix_delta

        previous = self.nix if path == self.path else None
        hits, errors, kept = nix_delta.scan(data, previous)
        self._keep(path, kept, None, None)
        return hits, errors

    def text_hits(self, path: str, text: str, read_as: str) -> list[Hit]:
        """:func:`secretkit.scan.text_files.scan_text` of the text of one blob of
        ``path`` (``read_as``: the path that picks its format)."""
        from secretkit.scan.match_starts import Known
        from secretkit.scan.text_files import scan_text

        if path == self.path and self.text is not None and self.known is not None:
            known = self.known.after(self.text, text)
        else:
            known = Known()
        hits = scan_text(text, read_as, known)
        self._keep(path, None, text, known)
        return hits

    def forget(self) -> None:
        """Nothing to scan the next version from (the last one could not be read as Nix)."""
        self._keep("", None, None, None)

    def _keep(self, path: str, nix: NixScan | None, text: str | None, known: Known | None) -> None:
        self.path, self.nix, self.text, self.known = path, nix, text, known
