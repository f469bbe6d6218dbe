"""``secretkit hook install`` / ``hook uninstall``: the plain-git pre-commit hook put in
place or taken away, and what the CLI shows of it (:mod:`secretkit.git.hooks` does it)."""

from __future__ import annotations

import os
from pathlib import Path

from secretkit.git import require_repo


def install_lines(cwd: Path) -> list[str]:
    """Install the plain-git pre-commit hook; what was done."""
    from secretkit.git.hooks import install

    result = install(require_repo(cwd))
    if result.action == "framework":
        said = (
            f"{result.hook}: the pre-commit framework's, and .pre-commit-config.yaml runs "
            "secretkit already: nothing to install"
        )
        return [said, *_not_on_path()]
    shown = [f"{result.hook}: {result.action}"]
    if result.chained is not None:
        shown.append(f"the previous hook runs first: {result.chained}")
    return shown + _not_on_path()


def _not_on_path() -> list[str]:
    """A warning when the hook would not find ``secretkit`` (it runs ``$SECRETKIT`` or
    ``secretkit`` from PATH): then it blocks every commit, so say it now, with the fix."""
    import shutil
    import sys

    wanted = os.environ.get("SECRETKIT") or "secretkit"
    if shutil.which(wanted) is not None:
        return []
    script = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    if script is not None and script.name == "secretkit" and os.access(script, os.X_OK):
        fix = f'export PATH="{script.parent}:$PATH" (or SECRETKIT={script}) where you commit'
    else:
        fix = "install secretkit on PATH, or export SECRETKIT=/path/to/secretkit where you commit"
    return [
        f"warning: '{wanted}' is not on PATH here, and the hook runs it: until it is, the "
        f"hook blocks every commit; {fix}"
    ]


_UNINSTALLED = {
    "removed": "removed",
    "restored": "removed; the previous hook is back in place",
    "not installed": "no secretkit hook installed, nothing to do",
    "framework": "managed by the pre-commit framework, left alone "
    "(`pre-commit uninstall` removes it)",
    "not ours": "not secretkit's hook, left alone",
}


def uninstall_lines(cwd: Path) -> list[str]:
    """Remove the plain-git hook ``install`` put in place; what was done."""
    from secretkit.git.hooks import uninstall

    result = uninstall(require_repo(cwd))
    return [f"{result.hook}: {_UNINSTALLED[result.action]}"]
