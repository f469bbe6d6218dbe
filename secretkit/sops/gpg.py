"""The system ``gpg`` (optional at run time): whether it is installed, and one
python-gnupg handle on gpg's own keyring (``$GNUPGHOME``, else ``~/.gnupg``).

Shared by :mod:`~secretkit.sops.identities` (is the keyring one of the user's
identities?) and the PGP key source :mod:`~secretkit.sops.keysources.pgp`.
"""

from __future__ import annotations

import shutil
from functools import cache
from typing import Any


def gpg_available() -> bool:
    return shutil.which("gpg") is not None


@cache
def gpg() -> Any:
    import gnupg

    return gnupg.GPG()
