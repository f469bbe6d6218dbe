"""``secretkit encrypt FILE [-i | --output F]``: a plaintext file → a sops file.

Recipients come from the first matching ``.sops.yaml`` creation rule (searched from
the working directory like sops); no rule is a user error (exit 3) with a hint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from secretkit.atomic import write_atomic
from secretkit.commands import Shown
from secretkit.sops.engine import Engine, PythonEngine
from secretkit.user_output import write_user_path


@dataclass(frozen=True)
class EncryptResult(Shown):
    output: bytes | None  # the encrypted file for stdout (None when written to disk)
    written: Path | None

    def data(self) -> bytes | None:
        return self.output


def encrypt(
    cwd: Path,
    file: Path | str,
    *,
    in_place: bool = False,
    output: Path | None = None,
    engine: Engine | None = None,
) -> EncryptResult:
    from secretkit.commands import recover_interrupted
    from secretkit.errors import UsageError
    from secretkit.sops import operations

    if in_place and output is not None:
        raise UsageError("--in-place and --output cannot be combined")
    recover_interrupted(cwd)
    path = operations.resolve(cwd, file)
    encrypted = (engine or PythonEngine(cwd)).encrypt(path)
    if in_place:
        write_atomic(path, encrypted)
        return EncryptResult(output=None, written=path)
    if output is None:
        return EncryptResult(output=encrypted, written=None)
    return EncryptResult(output=None, written=write_user_path(cwd, output, encrypted))
