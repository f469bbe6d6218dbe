"""The console script's entry point: ``secretkit hook`` starts without click.

The pre-commit hook runs on every commit, so its start-up is time the user waits
for (issue 15: ≤ 100 ms).  click and the definitions of every command in
:mod:`secretkit.cli` cost about 15 ms of it.  When the arguments are exactly the
hook's own — ``hook [--strict] [--allow-unscanned] [--] [FILE…]``, as the
pre-commit framework and the plain-git shim pass them, no global option — this
module runs the hook and prints its report itself, exactly as ``cli.hook`` does.
Anything else, and any error of the hook, runs the click CLI (:func:`secretkit.cli.invoke`):
the hook only reads, so running it again there is harmless and the error gets its
usual line and exit code.  Both run inside the one error boundary
(:func:`secretkit.boundary.run`), which decides the exit code; the hook's process
then ends without the interpreter's teardown (:func:`_exit_now`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import NoReturn

HOOK_FLAGS = ("--strict", "--allow-unscanned")
HOOK_SUBCOMMANDS = ("install", "uninstall", "-h", "--help")


def hook_arguments(argv: Sequence[str]) -> tuple[bool, bool, tuple[str, ...]] | None:
    """``(strict, allow_unscanned, files)`` when ``argv`` runs the hook itself (read
    as ``hook_group.HookGroup.parse_args`` reads it), else None."""
    if not argv or argv[0] != "hook":
        return None
    args = list(argv[1:])
    if args and args[0] in HOOK_SUBCOMMANDS:
        return None
    flags: set[str] = set()
    while args and args[0] in HOOK_FLAGS:
        flags.add(args.pop(0))
    files = tuple(args[1:] if args[:1] == ["--"] else args)
    return "--strict" in flags, "--allow-unscanned" in flags, files


def _run_hook(strict: bool, allow_unscanned: bool, files: tuple[str, ...]) -> int | None:
    """Run the hook and print its report; the exit code, or None when the full CLI
    must run it (an invalid SECRETKIT_ENGINE, any error of the hook)."""
    if os.environ.get("SECRETKIT_ENGINE", "python") not in ("", "python", "sops"):
        return None  # cli() refuses it before any command runs
    from pathlib import Path

    from secretkit.boundary import write_lines
    from secretkit.commands.hook import render, run_hook

    try:
        report = run_hook(Path.cwd(), files, strict=strict, allow_unscanned=allow_unscanned)
        lines = render(report)
    except Exception:
        return None
    write_lines(sys.stdout, lines)
    write_lines(sys.stderr, [f"note: {note}" for note in report.notes])
    return 1 if report.blocked else 0


def _hook_or_cli(request: tuple[bool, bool, tuple[str, ...]], argv: list[str] | None) -> int | None:
    from secretkit.boundary import Aborted

    try:
        code = _run_hook(*request)
    except KeyboardInterrupt as exc:  # the blank line first, as click's Abort prints it
        sys.stderr.write("\n")
        raise Aborted from exc
    if code is not None:
        return code
    from secretkit.cli import invoke

    return invoke(argv)


def main(argv: list[str] | None = None) -> NoReturn:
    """Console-script entry point (``secretkit``)."""
    from secretkit.boundary import run, verbose_requested

    request = hook_arguments(sys.argv[1:] if argv is None else argv)
    if request is None:
        from secretkit.cli import invoke

        run(lambda: invoke(argv), verbose=verbose_requested(argv))
    try:
        run(lambda: _hook_or_cli(request, argv), verbose=verbose_requested(argv))
    except SystemExit as done:
        if argv is None:  # the program itself, not main() called from Python
            _exit_now(done.code)
        raise


def _exit_now(code: object) -> None:
    """End the hook's process without the interpreter's teardown (freeing a few hundred
    modules and the parse trees: ~7 ms of the hook's ~100) once its report is out:
    stdout and stderr flushed, no other thread, no child process, no exit handler.
    Returns (and the usual exit follows) when any of that does not hold."""
    import atexit
    import threading

    if not isinstance(code, int) or not 0 <= code <= 255:
        return
    if threading.active_count() > 1 or "multiprocessing" in sys.modules:
        return
    if atexit._ncallbacks():
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # a closed pipe: the usual exit deals with it
        return
    os._exit(code)
