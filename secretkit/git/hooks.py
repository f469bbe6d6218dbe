"""The plain-git pre-commit hook (and its pre-merge-commit twin, which git runs instead
for a merge's commit): where it lives, and installing it without losing one.

``install`` writes :data:`SHIM` (the same bytes as the repository's
``hooks/pre-commit``) to ``<hooks dir>/pre-commit``.  The hooks directory is the one
git itself uses: ``core.hooksPath`` when set (relative values are relative to the
work tree root, as git runs hooks there), else ``hooks/`` in the common git dir (so
worktrees share it).

A hook already in place is never overwritten: it is moved aside to
``pre-commit.secretkit-chained`` and the shim runs it first, failing the commit when
it fails.  Installing twice is a no-op (or refreshes an outdated shim).  A hook
written by the pre-commit framework is left alone: that framework should run
secretkit itself from ``.pre-commit-config.yaml`` (:data:`PRE_COMMIT_SNIPPET`).

``uninstall`` undoes ``install``: our shim is removed and a chained hook is put back
in its place (one rename over the shim, so there is never a moment without the
user's hook).  A hook that is not ours is never touched.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from secretkit.errors import UserError
from secretkit.git import run_git
from secretkit.lazy_re import lazy

HOOK_NAME = "pre-commit"
CHAINED_SUFFIX = ".secretkit-chained"
# The line that identifies a hook file as ours (for idempotent installs).
SHIM_MARKER = "# secretkit-managed-hook"


def _shim(name: str, why: str) -> str:
    return f"""#!/bin/sh
{SHIM_MARKER}
# secretkit {name} hook, installed by `secretkit hook install`.
# {why}
# A hook that was here before was moved to {name}{CHAINED_SUFFIX}; it runs
# first and the commit fails when it fails.  Bypass once: git commit --no-verify
chained="$(dirname -- "$0")/{name}{CHAINED_SUFFIX}"
if [ -x "$chained" ]; then
    "$chained" "$@" || exit $?
fi
secretkit="${{SECRETKIT:-secretkit}}"
if ! command -v "$secretkit" >/dev/null 2>&1; then
    echo "secretkit hook: '$secretkit' not found on PATH; the commit is blocked." >&2
    echo "  install secretkit, set SECRETKIT=/path/to/secretkit, or bypass once" >&2
    echo "  with git commit --no-verify" >&2
    exit 1
fi
exec "$secretkit" hook
"""


SHIM = _shim(HOOK_NAME, "Blocks a commit that adds a plaintext secret or a decrypted secrets file.")
# git runs pre-merge-commit, not pre-commit, for the commit of a merge without conflicts
MERGE_HOOK_NAME = "pre-merge-commit"
MERGE_SHIM = _shim(MERGE_HOOK_NAME, "Judges a merge's commit as pre-commit judges a commit.")
SHIMS = {HOOK_NAME: SHIM, MERGE_HOOK_NAME: MERGE_SHIM}

# What to add instead when the pre-commit framework owns the hook.
PRE_COMMIT_SNIPPET = """\
  - repo: local
    hooks:
      - id: secretkit
        name: secretkit
        entry: secretkit hook --
        language: system
        pass_filenames: true
        require_serial: true"""

# pre-commit identifies its own hook files by these ids (pre_commit/commands/install_uninstall.py).
_PRE_COMMIT_IDS = (
    b"138fd403232d2ddd5efb44317e38bf03",
    b"4d9958c90bc262f47553e2c073f14cfe",
    b"d8ee923c46731b42cd95cc869add4062",
    b"49fd668cb42069aa1b6048464be5d395",
    b"79f09a650522a87b0da915d0d983b2de",
    b"e358c9dae00eac5d06b38dfdb1e33a8c",
)


class FrameworkHookError(UserError):
    """The pre-commit framework owns the hook; :data:`PRE_COMMIT_SNIPPET` is the way in."""

    snippet = PRE_COMMIT_SNIPPET


@dataclass(frozen=True)
class InstallResult:
    """What ``install`` did: ``action`` is ``installed``, ``updated``, ``unchanged`` or
    ``framework`` (the pre-commit framework's hook runs secretkit already)."""

    hook: Path
    action: str
    chained: Path | None


def _configured_hooks_path(root: Path) -> str | None:
    """``core.hooksPath`` from the user's and repository's config (``~`` expanded).

    :func:`secretkit.git.run_git` forces ``core.hooksPath=/dev/null`` on the command
    line so that nothing it runs triggers a hook; that override is skipped here.
    """
    proc = run_git(
        root,
        "config",
        "--show-origin",
        "--type=path",
        "--get-all",
        "core.hooksPath",
        check=False,
    )
    value: str | None = None
    for line in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
        origin, _, path = line.partition("\t")
        if origin.startswith("command line:"):
            continue
        value = path
    return value or None


def hooks_dir(root: Path) -> Path:
    """The directory git runs hooks from for the repository at ``root`` (work tree top)."""
    configured = _configured_hooks_path(root)
    if configured:
        path = Path(configured)
        return path if path.is_absolute() else root / path
    proc = run_git(root, "rev-parse", "--git-common-dir")
    common = Path(proc.stdout.decode("utf-8", "surrogateescape").strip())
    if not common.is_absolute():
        common = root / common
    return common / "hooks"


def is_ours(content: bytes) -> bool:
    return SHIM_MARKER.encode() in content


def is_pre_commit_framework(content: bytes) -> bool:
    return b"File generated by pre-commit" in content or any(i in content for i in _PRE_COMMIT_IDS)


def install(root: Path) -> InstallResult:
    """Install the shim as the pre-commit hook of the repository at ``root``, and its
    twin as the pre-merge-commit hook (left alone when the pre-commit framework has it)."""
    directory = hooks_dir(root)
    try:
        try:
            result = _install(directory)
        except FrameworkHookError:
            if not _framework_runs_secretkit(root):
                raise
            # (its config runs secretkit already: there is nothing to install)
            return InstallResult(directory / HOOK_NAME, "framework", None)
        # (where the framework has it, it runs its hooks at the stages its config names)
        with contextlib.suppress(FrameworkHookError):
            _install(directory, MERGE_HOOK_NAME)
        return result
    except OSError as exc:
        raise UserError(
            f"cannot install the hook in {directory}: {exc.strerror or type(exc).__name__}",
            hint="check core.hooksPath (git config --show-origin core.hooksPath) and the "
            "directory's permissions",
        ) from None


_SECRETKIT_HOOK = lazy(rb"(?m)^\s*(?:-\s*)?id:\s*['\"]?secretkit['\"]?\s*(?:#.*)?$")


def _framework_runs_secretkit(root: Path) -> bool:
    """Whether the pre-commit framework's config has a hook with id ``secretkit``."""
    try:
        config = (root / ".pre-commit-config.yaml").read_bytes()
    except OSError:
        return False
    return _SECRETKIT_HOOK.search(config) is not None


def _install(directory: Path, name: str = HOOK_NAME) -> InstallResult:
    from secretkit.atomic import write_atomic  # not at the top: the hook itself never writes

    hook = directory / name
    chained = directory / (name + CHAINED_SUFFIX)
    chained_or_none = chained if os.path.lexists(chained) else None
    shim = SHIMS[name].encode()
    if os.path.lexists(hook):
        try:
            content = hook.read_bytes()
        except OSError as exc:
            raise UserError(
                f"cannot read the existing hook {hook}: {exc.strerror}",
                hint="fix or remove it, then run `secretkit hook install` again",
            ) from None
        if is_ours(content):
            if content == shim and _is_executable(hook):
                return InstallResult(hook, "unchanged", chained_or_none)
            write_atomic(hook, shim, mode=0o755)
            return InstallResult(hook, "updated", chained_or_none)
        if is_pre_commit_framework(content):
            raise FrameworkHookError(
                f"{hook} is managed by the pre-commit framework; not replacing it",
                hint="add secretkit to .pre-commit-config.yaml instead (snippet below), "
                "then run `pre-commit install`",
            )
        if chained_or_none is not None:
            raise UserError(
                f"{hook} exists and {chained.name} is already taken; not overwriting either",
                hint=f"merge or remove one of them in {directory}, then run "
                "`secretkit hook install` again",
            )
        os.rename(hook, chained)
        chained_or_none = chained
    write_atomic(hook, shim, mode=0o755)
    return InstallResult(hook, "installed", chained_or_none)


@dataclass(frozen=True)
class UninstallResult:
    """What ``uninstall`` did: ``action`` is ``removed``, ``restored`` (the chained
    hook is back in place), ``not installed``, ``framework`` (the pre-commit
    framework's hook, left alone) or ``not ours`` (left alone)."""

    hook: Path
    action: str


def uninstall(root: Path) -> UninstallResult:
    """Remove our shims from the repository at ``root`` and restore chained hooks (what
    is said is the pre-commit hook's)."""
    directory = hooks_dir(root)
    try:
        result = _uninstall(directory)
        _uninstall(directory, MERGE_HOOK_NAME)
        return result
    except OSError as exc:
        raise UserError(
            f"cannot remove the hook in {directory}: {exc.strerror or type(exc).__name__}",
            hint="check the directory's permissions, then run `secretkit hook uninstall` again",
        ) from None


def _uninstall(directory: Path, name: str = HOOK_NAME) -> UninstallResult:
    hook = directory / name
    chained = directory / (name + CHAINED_SUFFIX)
    if os.path.lexists(hook):
        content = hook.read_bytes()
        if not is_ours(content):
            return UninstallResult(
                hook, "framework" if is_pre_commit_framework(content) else "not ours"
            )
        if os.path.lexists(chained):
            os.replace(chained, hook)  # the user's hook takes the shim's place at once
            return UninstallResult(hook, "restored")
        os.unlink(hook)
        return UninstallResult(hook, "removed")
    if os.path.lexists(chained):  # our shim was deleted by hand: give the hook back
        os.rename(chained, hook)
        return UninstallResult(hook, "restored")
    return UninstallResult(hook, "not installed")


def _is_executable(path: Path) -> bool:
    return bool(stat.S_IMODE(path.stat().st_mode) & stat.S_IXUSR)


# ---------------------------------------------------------------------------
# What the hook judges: paths and contents of the index.
# ---------------------------------------------------------------------------
def _split_z(data: bytes) -> list[str]:
    return [p.decode("utf-8", "surrogateescape") for p in data.split(b"\0") if p]


# what staged_paths runs
STAGED_PATHS = (
    "diff", "--cached", "--name-only", "-z", "--no-renames", "--no-ext-diff",
    "--diff-filter=d", "--ignore-submodules=all",
)  # fmt: skip


def staged_paths(root: Path) -> list[str]:
    """Paths added, copied, modified or type-changed in the index (deletions left out).

    Works on an unborn branch too (then everything in the index is new).  Gitlinks
    (submodules) are left out: their content is another repository's.
    """
    return _split_z(run_git(root, *STAGED_PATHS).stdout)


# what renamed_from runs
RENAMES = ("diff", "--cached", "-M", "-C", "-z", "--name-status", "--no-ext-diff", "HEAD")


def renamed_from(root: Path) -> dict[str, str]:
    """``new path → old path`` for the files the index renames (or copies) from ``HEAD``."""
    proc = run_git(root, *RENAMES, check=False)
    if proc.returncode != 0:
        return {}  # no HEAD yet
    tokens = _split_z(proc.stdout)
    out: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        status = tokens[i]
        if status[:1] in ("R", "C") and i + 2 < len(tokens) + 1:
            out[tokens[i + 2]] = tokens[i + 1]
            i += 3
        else:
            i += 2
    return out


def index_contents(root: Path, paths: Sequence[str]) -> dict[str, bytes]:
    """The staged bytes of ``paths`` (stage 0)."""
    found = blob_contents(root, [":" + p for p in paths])
    return {spec[1:]: data for spec, data in found.items()}


def blob_contents(root: Path, specs: Sequence[str]) -> dict[str, bytes]:
    """The bytes of the blobs named by ``specs`` (``:path``, ``<commit>:path``), in one
    ``cat-file --batch``; specs that name no blob are left out."""
    specs = list(dict.fromkeys(s for s in specs if "\n" not in s))
    if not specs:
        return {}
    request = b"".join(s.encode("utf-8", "surrogateescape") + b"\n" for s in specs)
    proc = run_git(root, "cat-file", "--batch", input=request)
    out = proc.stdout
    contents: dict[str, bytes] = {}
    pos = 0
    for spec in specs:
        end = out.index(b"\n", pos)
        header = out[pos:end].split(b" ")
        pos = end + 1
        if len(header) != 3 or header[1] != b"blob":
            continue  # "<spec> missing", or not a blob
        size = int(header[2])
        contents[spec] = out[pos : pos + size]
        pos += size + 1
    return contents
