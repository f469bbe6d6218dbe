"""The only code that runs git.

Everything else receives bytes and paths from here.  git is run with a fixed,
minimal environment: no pager, no user config that could run code (no
``core.fsmonitor``, hooks or external diff drivers are invoked by the plumbing
commands used here), and ``-c`` overrides that disable what remains.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
from pathlib import Path

from secretkit.errors import NotARepoError, UserError

# Settings that would make git run programs named in repository config.
_SAFE = (
    "-c", "core.fsmonitor=false",
    "-c", "core.hooksPath=/dev/null",
    "-c", "diff.external=",
    "-c", "core.pager=cat",
    "-c", "protocol.file.allow=always",
)  # fmt: skip


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in _PASS}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["LC_ALL"] = "C"
    # what a push publishes: the objects themselves, never what `git replace` shows
    env["GIT_NO_REPLACE_OBJECTS"] = "1"
    return env


_PASS = frozenset(
    {
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_AUTHOR_DATE",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_COMMITTER_DATE",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_NOSYSTEM",
        "GIT_INDEX_FILE",  # pre-commit and `git commit -a` hand the index over this way
        "GIT_DIR",
        "GIT_WORK_TREE",
    }
)


def run_git(
    cwd: Path, *args: str, input: bytes | None = None, check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git <args>`` in ``cwd`` and return the completed process (bytes); one
    :func:`start_early` started is finished instead."""
    early = take_early(cwd, args)
    try:
        if early is not None:
            out, err = early.communicate(input)
            proc = subprocess.CompletedProcess(early.args, early.returncode, out, err)
        else:
            proc = subprocess.run(
                ["git", *_SAFE, *args],
                cwd=cwd,
                input=input,
                capture_output=True,
                env=git_env(),
                check=False,
            )
    except FileNotFoundError as exc:
        raise UserError("git is not installed", hint="install git and retry") from exc
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        first = message[-1] if message else f"exit {proc.returncode}"
        raise UserError(f"git {args[0]} failed: {first}")
    return proc


def popen_git(
    cwd: Path, *args: str, stdin: int | None = None, stderr: int = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """``git <args>`` started in ``cwd`` with its stdout piped, for a reader that takes
    its output as it comes (``stdin``: PIPE to write to it)."""
    try:
        return subprocess.Popen(
            ["git", *_SAFE, *args],
            cwd=cwd,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=git_env(),
        )
    except FileNotFoundError as exc:
        raise UserError("git is not installed", hint="install git and retry") from exc


# git runs started before their answer is needed: (cwd, args, stderr kept) -> process
_early: dict[tuple[str, tuple[str, ...], bool], subprocess.Popen[bytes]] = {}


def start_early(cwd: Path, *args: str, keep_stderr: bool = True) -> None:
    """Start ``git <args>`` in ``cwd`` now, so that it runs while Python imports what
    reads its answer (the pre-commit hook's start-up, issue 15).  The first
    :func:`run_git` with the same ``cwd`` and ``args`` (``keep_stderr``), or
    :func:`take_early` for a reader of its own, finishes it; :func:`end_early` ends
    any no one took.  Its input is what that reader writes, so a command that
    reads stdin (``cat-file --batch``) waits for it.  Nothing happens when git
    cannot be started: the reader starts it again and reports why."""
    key = (os.fspath(cwd), args, keep_stderr)
    if key in _early:
        return
    with contextlib.suppress(OSError):
        _early[key] = subprocess.Popen(
            ["git", *_SAFE, *args],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if keep_stderr else subprocess.DEVNULL,
            env=git_env(),
        )


def take_early(
    cwd: Path, args: tuple[str, ...], keep_stderr: bool = True
) -> subprocess.Popen[bytes] | None:
    """The process :func:`start_early` started for ``cwd`` and ``args``, now the
    caller's to finish (once), or None."""
    if not _early:
        return None
    return _early.pop((os.fspath(cwd), args, keep_stderr), None)


def end_early() -> None:
    """End the early git runs no one took (their answers are not needed)."""
    while _early:
        _key, proc = _early.popitem()
        proc.kill()
        proc.communicate()


def inside_git_dir(cwd: Path) -> bool:
    """Whether ``cwd`` is a git directory (a bare repository, or inside ``.git``)."""
    proc = run_git(cwd, "rev-parse", "--is-inside-git-dir", check=False)
    return proc.returncode == 0 and proc.stdout.strip() == b"true"


def repo_root(cwd: Path) -> Path | None:
    """The top of the work tree containing ``cwd``, or None outside a repository."""
    proc = run_git(cwd, "rev-parse", "--show-toplevel", check=False)
    if proc.returncode != 0:
        return None
    return Path(proc.stdout.decode("utf-8", "surrogateescape").strip())


def require_repo(cwd: Path) -> Path:
    root = repo_root(cwd)
    if root is None:
        no_tree = no_work_tree(cwd)
        if no_tree is not None:
            raise no_tree
        raise NotARepoError(
            f"{cwd} is not inside a git repository",
            hint="run it in your dotfiles repository, or pass -C DIR",
        )
    return root


def no_work_tree(cwd: Path) -> NotARepoError | None:
    """The error for ``cwd`` inside a git directory (a bare repository, or a ``.git``),
    where secretkit neither reads nor writes, or None elsewhere."""
    if not inside_git_dir(cwd):
        return None
    bare = run_git(cwd, "rev-parse", "--is-bare-repository", check=False)
    if bare.returncode == 0 and bare.stdout.strip() == b"true":
        top = Path(os.path.abspath(cwd))
        there = shlex.quote(f"{top}-worktree")
        if run_git(cwd, "rev-parse", "--verify", "-q", "HEAD", check=False).returncode == 0:
            # (a worktree of it shares every ref: the whole history is read there)
            add = f"git -C {shlex.quote(str(top))} worktree add --detach {there}"
        else:  # (no commit for a worktree to hold yet)
            add = f"git clone -q {shlex.quote(str(top))} {there}"
        hint = f"add one and run it there: {add} && cd {there}"
    else:
        hint = "run it in the work tree above it, or pass -C DIR"
    return NotARepoError(
        f"{cwd} is a git directory with no work tree (a bare repository or .git)", hint=hint
    )


def git_dir(root: Path) -> Path | None:
    """The (common) git directory of the repository at ``root``."""
    dot = root / ".git"
    if dot.is_dir():
        return dot
    if dot.is_file():
        text = dot.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            gitdir = Path(text.split(":", 1)[1].strip())
            gitdir = gitdir if gitdir.is_absolute() else (root / gitdir).resolve()
            common = gitdir / "commondir"
            if common.is_file():
                rel = common.read_text(encoding="utf-8", errors="replace").strip()
                return (gitdir / rel).resolve()
            return gitdir
    return None
