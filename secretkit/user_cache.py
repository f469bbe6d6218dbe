"""The user's cache directory, as the XDG Base Directory specification names it.

``$XDG_CACHE_HOME`` when it is set to an absolute path; a relative one is invalid
and ignored, as the specification asks, and ``~/.cache`` is used instead.  None when
neither gives an absolute path (no usable home): a caller then keeps no cache.  Read
by every cache and lock secretkit keeps outside a repository: the code cache, the
detect-secrets pattern cache, the lock of a folder that is not a git repository.
"""

from __future__ import annotations

import os

SUBDIR = "secretkit"


def cache_home() -> str | None:
    """The absolute cache directory (without secretkit's own folder), or None."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(base):
        return base
    home = os.path.expanduser("~")
    return os.path.join(home, ".cache") if os.path.isabs(home) else None


def secretkit_cache() -> str | None:
    """``<cache home>/secretkit``, or None (see :func:`cache_home`)."""
    base = cache_home()
    return None if base is None else os.path.join(base, SUBDIR)
