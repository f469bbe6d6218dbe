"""Which NixOS release the repository pins, so a route the release lacks is refused.

Read from ``flake.lock`` (the root's ``nixpkgs`` input: its ``original.ref`` such as
``nixos-24.11``, else the ``locked.lastModified`` date of an unstable/master pin) or,
without a lock file, from the ``nixpkgs.url`` in ``flake.nix``; without a flake, from
the branch niv, npins or lon pins nixpkgs to (``nix/sources.json``, ``npins/sources.json``,
``lon.lock``).
An unstable pin of date *d* is taken to have every release whose month has begun by *d* (a release's
options are merged before it branches off).  Unknown → None: nothing is refused for
its version, and migrate says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from secretkit.lazy_re import lazy
from secretkit.nix.catalogue.base import owner_by_release
from secretkit.nix.catalogue.base import release_key as key

_REF = lazy(r"(?:nixos|release|nixpkgs)-(\d{2})\.(\d{2})(?:-small|-darwin)?$")
# inputs.nixpkgs.url = "…", or inputs = { nixpkgs = { url = "…"; … }; }
_URL = lazy(rb'\bnixpkgs(?:\.url|\s*=\s*\{[^{}]*?\burl)\s*=\s*"([^"]+)"')


@dataclass(frozen=True)
class Pin:
    """The NixOS release a repository pins, and how that was found."""

    release: str | None  # "24.11"; None when the pin says nothing usable
    source: str  # how it was found, for messages
    # an unstable pin, dated after ``release`` and before the release that followed
    unstable: bool = False

    @property
    def shown(self) -> str:
        """The release as a message says it: ``24.11``, or for an unstable pin ``a
        nixpkgs between 23.11 and 24.05`` (what it has of the next one is not known)."""
        if self.release is None or not self.unstable:
            return self.release or "an unknown release"
        year, month = key(self.release)
        following = f"{year:02d}.11" if month < 11 else f"{year + 1:02d}.05"
        return f"a nixpkgs between {self.release} and {following}"

    def lacks(self, since: str) -> bool:
        """True when the pinned release is older than ``since``."""
        return self.release is not None and key(self.release) < key(since)


def release_refusal(pin: Pin | None, since: str | None, what: str) -> tuple[str, str] | None:
    """(why, the way out) when ``pin`` is older than ``since``, the first release with
    what ``what`` needs; None when it is not (or either is unknown)."""
    if since is None or pin is None or not pin.lacks(since):
        return None
    return (
        f"{what} needs NixOS {since} or newer, and this repository pins {pin.shown} ({pin.source})",
        f"update the nixpkgs input to NixOS {since} or newer and run secretkit migrate again "
        f"(it then moves this one); or, on {pin.shown}, the steps below with a route your "
        "release has",
    )


def owner_on(
    owner: str | None, since: str | None, pin: Pin | None, until: str | None = None
) -> str | None:
    """A reader's ``owner`` on the pinned release: None (root) where the release is
    older than ``since``, when NixOS still ran the reader as root (the user may not
    even exist there, and sops-nix fails activation on an unknown owner), or is
    ``until`` or newer, when systemd reads the file for it (``LoadCredential``).  On an
    unknown release the owner is chosen by the host's own release, in Nix
    (``config.system.nixos.release``: every NixOS has it; Nix is lazy, so an ``owner``
    naming an option a later release removed is not read there)."""
    if since is not None and pin is not None and pin.lacks(since):
        return None
    known = pin is not None and pin.release is not None
    if until is not None and known and pin is not None and not pin.lacks(until):
        return None
    if owner is not None and not known:
        return owner_by_release(owner, since, until)
    return owner


def _from_ref(ref: str) -> str | None:
    found = _REF.search(ref)
    return f"{found[1]}.{found[2]}" if found else None


def _from_date(epoch: int) -> str:
    import datetime as _dt  # (not at import: the hook loads this module)

    day = _dt.datetime.fromtimestamp(epoch, tz=_dt.UTC).date()
    year = day.year % 100
    if day.month >= 11:
        return f"{year:02d}.11"
    if day.month >= 5:
        return f"{year:02d}.05"
    return f"{year - 1:02d}.11"


def pinned(
    flake_lock: bytes | None,
    flake_nix: bytes | None,
    niv: bytes | None = None,
    npins: bytes | None = None,
    lon: bytes | None = None,
) -> Pin:
    """The release of ``flake.lock``, else of ``flake.nix``'s nixpkgs.url, else of the
    nixpkgs branch niv (``nix/sources.json``), npins (``npins/sources.json``) or lon
    (``lon.lock``) pins."""
    if flake_lock:
        try:
            lock = json.loads(flake_lock)
            nodes = lock["nodes"]
            name = nodes[lock.get("root", "root")]["inputs"].get("nixpkgs", "nixpkgs")
            node = nodes[name if isinstance(name, str) else name[0]]
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            node = None
        if isinstance(node, dict):
            ref = str(node.get("original", {}).get("ref", ""))
            release = _from_ref(ref)
            if release is not None:
                return Pin(release, f"flake.lock: nixpkgs ref {ref}")
            modified = node.get("locked", {}).get("lastModified")
            if isinstance(modified, int):
                release = _from_date(modified)
                import datetime as _dt

                day = _dt.datetime.fromtimestamp(modified, tz=_dt.UTC).date()
                rev = str(node.get("locked", {}).get("rev", ""))[:12]
                source = f"flake.lock: nixpkgs {ref or 'unstable'} {rev} of {day}"
                return Pin(release, source, unstable=True)
    if flake_nix:
        found = _URL.search(flake_nix)
        if found:
            url = found[1].decode("utf-8", "replace")
            release = _from_ref(url.rsplit("/", 1)[-1])
            if release is not None:
                return Pin(release, f"flake.nix: nixpkgs.url {url}")
    for name, data in (("nix/sources.json", niv), ("npins/sources.json", npins), ("lon.lock", lon)):
        branch = _branch(data, name) if data else None
        pinned_release = _from_ref(branch) if branch else None
        if branch is not None and pinned_release is not None:
            return Pin(pinned_release, f"{name}: nixpkgs {branch}")
    return Pin(None, "no pinned nixpkgs release found")


def _branch(data: bytes, name: str) -> str | None:
    """The branch (or channel) of the ``nixpkgs`` pin of niv's or npins' sources.json, or
    of lon's lock (``{"sources": {"nixpkgs": {"branch": …}}}``)."""
    try:
        pins = json.loads(data)
        if name == "lon.lock":
            node = pins["sources"]["nixpkgs"]
        else:
            node = pins["pins"]["nixpkgs"] if name.startswith("npins/") else pins["nixpkgs"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(node, dict):
        return None
    ref = node.get("branch") or node.get("name")  # (npins: a Channel pin has a name)
    return ref if isinstance(ref, str) else None
