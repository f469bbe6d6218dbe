"""scrypt (RFC 7914), the one hash behind every fingerprint: libsodium's where the
system has it, else OpenSSL's through :func:`hashlib.scrypt`.  Both give the same
bytes (known-answer tests hold both to RFC 7914's vectors); libsodium's runs in
about 30 ms where OpenSSL 3.0's takes 37–46 ms for the fingerprint's N=2^14, r=8
(issue 15: the first run of the hook after a new finding pays one).

libsodium is not a dependency: it is opened by its shared-object name, from the
system's library path (Debian's ``libsodium23``, which ``nix-bin`` pulls in; the
Nix package sets ``SECRETKIT_LIBSODIUM`` to its own copy).  A library that is
missing, too old to export ``crypto_pwhash_scryptsalsa208sha256_ll`` or refuses
the call leaves OpenSSL's, with the same result.  The call releases the GIL, as
hashlib's does: fingerprints still run on every core at once.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

# Names the system's linker knows libsodium by: 1.0.19 and later (.26), 1.0.12–1.0.18
# (.23, Debian 12), macOS.
_SONAMES = ("libsodium.so.26", "libsodium.so.23", "libsodium.so", "libsodium.dylib")
ENV = "SECRETKIT_LIBSODIUM"  # a full path to the library (the Nix package's wrapper)

Scrypt = Callable[[bytes, bytes, int, int, int, int], bytes]


def scrypt(password: bytes, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    """scrypt(``password``, ``salt``, N=``n``, r, p) to ``dklen`` bytes."""
    fast = libsodium()
    if fast is not None:
        try:
            return fast(password, salt, n, r, p, dklen)
        except OSError:
            pass  # (libsodium refused: its memory limit; OpenSSL's is asked instead)
    return openssl(password, salt, n, r, p, dklen)


def openssl(password: bytes, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    import hashlib

    # (maxmem: OpenSSL's default of 32 MiB refuses r=8 from N=2^15 on)
    need = 128 * r * (n + p + 2)
    return hashlib.scrypt(
        password, salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=max(need + (1 << 20), 1 << 25)
    )


@functools.cache
def libsodium() -> Scrypt | None:
    """libsodium's scrypt, or None where the library cannot be opened or lacks it."""
    import ctypes

    names = [os.environ[ENV]] if os.environ.get(ENV) else []
    for name in [*names, *_SONAMES]:
        try:
            lib = ctypes.CDLL(name)
            function = lib.crypto_pwhash_scryptsalsa208sha256_ll
        except (OSError, AttributeError):
            continue
        if lib.sodium_init() >= 0:
            return _bound(function)
    return None


def _bound(function: Any) -> Scrypt:
    import ctypes

    function.restype = ctypes.c_int
    function.argtypes = [
        ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t,
        ctypes.c_uint64, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t,
    ]  # fmt: skip

    def run(password: bytes, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
        out = ctypes.create_string_buffer(dklen)
        if function(password, len(password), salt, len(salt), n, r, p, out, dklen) != 0:
            raise OSError("libsodium refused the scrypt parameters")
        return out.raw

    return run
