"""The optional Go ``sops`` binary as the engine (``--engine sops`` / ``SECRETKIT_ENGINE=sops``).

Used only when chosen and found on PATH; chosen but absent is a user error
(exit 3).  Values never go on a command line: ``set`` passes the value on stdin
(``--value-stdin``).  sops' stderr is not echoed (it may quote file content); its
exit code is mapped onto ours.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from secretkit.errors import IntegrityError, UserError

# sops exit codes (cmd/sops/codes) that mean "the file or its keys do not verify".
_INTEGRITY_CODES = {
    24: "the MAC could not be decrypted",
    25: "the file could not be decrypted",
    51: "MAC mismatch",
    52: "the file has no MAC",
    128: "no identity decrypts the data key",
}
_USER_CODES = {
    2: "could not read the input file",
    3: "could not write the output file",
    5: "error reading .sops.yaml",
    61: "no .sops.yaml found",
    91: "invalid tree path",
    100: "no file specified",
    111: "no encryption key found (no matching creation rule?)",
    200: "file has not been modified",
    201: "no editor found",
    203: "the file is already encrypted",
}


class SopsBinary:
    """Runs ``sops`` in ``cwd``; every method returns bytes or None, never prints."""

    def __init__(self, cwd: Path, env: Mapping[str, str] | None = None) -> None:
        found = shutil.which("sops")
        if found is None:
            raise UserError(
                "the sops engine was chosen but `sops` is not on PATH",
                hint="install sops, or drop --engine sops / SECRETKIT_ENGINE=sops "
                "to use the built-in engine",
            )
        self.binary = found
        self.cwd = cwd
        self.env = dict(env) if env is not None else None

    def _run(self, args: list[str], *, stdin: bytes | None = None, capture: bool = True) -> bytes:
        proc = subprocess.run(
            [self.binary, "--disable-version-check", *args],
            cwd=self.cwd,
            env=self.env,
            input=stdin,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.PIPE if capture else None,
            check=False,
        )
        if proc.returncode != 0:
            code = proc.returncode
            if code in _INTEGRITY_CODES:
                raise IntegrityError(f"sops: {_INTEGRITY_CODES[code]} (sops exit {code})")
            meaning = _USER_CODES.get(code, "failed")
            raise UserError(f"sops: {meaning} (sops exit {code})")
        return proc.stdout or b""

    def encrypt(self, path: Path) -> bytes:
        return self._run(["encrypt", str(path)])

    def decrypt(self, path: Path, extract: str | None = None) -> bytes:
        args = ["decrypt"]
        if extract:
            args += ["--extract", extract]
        return self._run([*args, str(path)])

    def edit(self, path: Path) -> None:
        self._run(["edit", str(path)], capture=False)

    def set(self, path: Path, tree_path: str, json_value: bytes) -> None:
        self._run(["set", "--value-stdin", str(path), tree_path], stdin=json_value)

    def updatekeys(self, path: Path) -> None:
        self._run(["updatekeys", "-y", str(path)])

    def rotate(self, path: Path) -> None:
        self._run(["rotate", "-i", str(path)])
