"""``secretkit rotate data-keys [FILE…]``: a new data key for every file.

Every value is decrypted (MAC verified) and re-encrypted under a fresh data key
wrapped for the file's current recipients; the MAC is recomputed and
``lastmodified`` renewed.  Without FILE arguments every sops file below the
``.sops.yaml`` directory that a rule matches is rotated (the same files as
``updatekeys``: :func:`secretkit.sops.finder.named_or_every`).  One transaction.
(``rotate host`` lives in its own module.)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def rotate_data_keys(
    cwd: Path, files: Sequence[Path | str] = (), *, engine: str = "python"
) -> list[Path]:
    from secretkit.atomic import Transaction
    from secretkit.commands import recover_interrupted
    from secretkit.sops import document, operations
    from secretkit.sops.config import find_config
    from secretkit.sops.finder import named_or_every
    from secretkit.sops.identities import load_identities

    root = recover_interrupted(cwd)  # an interrupted run is rolled back before any read
    paths = named_or_every(cwd, operations.config_for(cwd), files)
    if engine == "sops":
        from secretkit.sops.backend_binary import SopsBinary

        binary = SopsBinary(cwd)
        for path in paths:
            binary.rotate(path)
        return paths
    identities = load_identities()
    config = find_config(cwd)
    pending: list[tuple[Path, bytes]] = []
    for path in paths:
        fmt = document.format_for_path(path)
        rule = config.rule_for(path) if config is not None else None
        rotated = operations.rotate_bytes(
            operations.read_input(path),
            fmt,
            identities,
            source=operations.display(cwd, path),
            indent=operations.store_indent(fmt, rule),
        )
        pending.append((path, rotated))
    with Transaction(root) as txn:
        for path, new in pending:
            txn.write(path, new)
    return paths
