"""``secretkit encrypt FILE [-i | --output F]``: a plaintext file → a sops file.

Recipients come from the first matching ``.sops.yaml`` creation rule (searched from
the working directory like sops); no rule is a user error (exit 3) with a hint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from secretkit.atomic import write_atomic


@dataclass(frozen=True)
class EncryptResult:
    output: bytes | None  # the encrypted file for stdout (None when written to disk)
    written: Path | None


def encrypt(
    cwd: Path,
    file: Path | str,
    *,
    in_place: bool = False,
    output: Path | None = None,
    engine: str = "python",
) -> EncryptResult:
    from secretkit.commands import recover_interrupted
    from secretkit.errors import UsageError
    from secretkit.sops import document, operations

    if in_place and output is not None:
        raise UsageError("--in-place and --output cannot be combined")
    recover_interrupted(cwd)
    path = operations.resolve(cwd, file)
    if engine == "sops":
        from secretkit.sops.backend_binary import SopsBinary

        encrypted = SopsBinary(cwd).encrypt(path)
    else:
        data = operations.read_input(path)
        fmt = document.format_for_path(path)
        rule = operations.rule_for_file(cwd, path)
        source = operations.display(cwd, path)
        plain = operations.load_plain(data, fmt, source=source)
        encrypted = operations.encrypt_new(plain, rule, source=source)
    target = path if in_place else (operations.resolve(cwd, output) if output is not None else None)
    if target is None:
        return EncryptResult(output=encrypted, written=None)
    write_atomic(target, encrypted)
    return EncryptResult(output=None, written=target)
