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
from dataclasses import dataclass
from pathlib import Path

from secretkit.commands import Line, Shown, out, shown_path
from secretkit.sops.engine import Engine, PythonEngine


@dataclass(frozen=True)
class DataKeyRotation(Shown):
    cwd: Path
    files: tuple[Path, ...]

    def lines(self) -> list[Line]:
        return [out(f"{shown_path(self.cwd, path)}: new data key") for path in self.files]


def rotate_data_keys(
    cwd: Path, files: Sequence[Path | str] = (), *, engine: Engine | None = None
) -> DataKeyRotation:
    from secretkit.commands import sops_targets

    root, paths = sops_targets(cwd, files)
    (engine or PythonEngine(cwd)).rotate(root, paths)
    return DataKeyRotation(cwd, tuple(paths))
