"""The console script's entry point: ``secretkit hook`` and ``secretkit scan`` start
without click.

The pre-commit hook runs on every commit, so its start-up is time the user waits
for (issue 15: ≤ 100 ms), and a scan's start-up is part of every scan's time.
click and the definitions of every command in :mod:`secretkit.cli` cost about 15 ms
of it.  When the arguments are exactly the hook's own — ``hook [--strict]
[--allow-unscanned] [--] [FILE…]``, as the pre-commit framework and the plain-git
shim pass them, no global option — this module runs the hook and prints its report
itself, exactly as ``cli.hook`` does.  Anything else, and any error of the hook, runs
the click CLI (:func:`secretkit.cli.invoke`): the hook only reads, so running it
again there is harmless and the error gets its usual line and exit code.  The same
holds for ``scan [PATH…] [--staged] [--history] [--format F] [--output F]``
(:func:`scan_arguments`), except that an error of the scan is not run again: it
raises what ``cli.scan`` raises, and the boundary words it the same way.  All of it
runs inside the one error boundary (:func:`secretkit.boundary.run`), which decides
the exit code; the hook's process then ends without the interpreter's teardown
(:func:`_exit_now`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
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


SCAN_FLAGS = ("--staged", "--history")
SCAN_OPTIONS = ("--format", "--output")  # each takes a value
SCAN_FORMATS = ("text", "json", "sarif")


class ScanRequest:
    """The arguments of ``secretkit scan``, as ``cli.scan`` receives them.  (A plain
    class: a dataclass costs the hook's start-up the making of its methods.)"""

    __slots__ = ("fmt", "history", "output", "paths", "staged")

    def __init__(
        self,
        paths: tuple[str, ...] = (),
        staged: bool = False,
        history: bool = False,
        fmt: str = "text",
        output: str | None = None,
    ) -> None:
        self.paths, self.staged, self.history = paths, staged, history
        self.fmt, self.output = fmt, output


def scan_arguments(argv: Sequence[str]) -> ScanRequest | None:
    """The scan's arguments when ``argv`` is ``scan`` with nothing but its own flags,
    ``--format``/``--output`` (``--x V`` or ``--x=V``) and paths, each read as click
    reads them (a later ``--format`` wins, ``--`` ends the options); else None, and
    click reads ``argv`` (global options, ``--help``, an unknown option, a format
    click would refuse, a missing value)."""
    if not argv or argv[0] != "scan":
        return None
    args = list(argv[1:])
    paths: list[str] = []
    given: dict[str, object] = {}
    while args:
        arg = args.pop(0)
        if arg == "--":
            if "" in args:
                return None  # click refuses an empty path (cli_params.PathArg)
            paths.extend(args)
            break
        if not arg:
            return None
        if arg == "-" or not arg.startswith("-"):
            paths.append(arg)
        elif arg in SCAN_FLAGS:
            given[arg] = True
        else:
            name, equals, value = arg.partition("=")
            if name not in SCAN_OPTIONS:
                return None
            if not equals:
                if not args:
                    return None
                value = args.pop(0)
            if not value or (name == "--format" and value not in SCAN_FORMATS):
                return None
            given[name] = value
    return ScanRequest(
        paths=tuple(paths),
        staged="--staged" in given,
        history="--history" in given,
        fmt=str(given.get("--format", "text")),
        output=str(given["--output"]) if "--output" in given else None,
    )


def _engine_valid() -> bool:
    """Whether ``SECRETKIT_ENGINE`` names an engine (``cli()`` refuses it before any
    command runs otherwise)."""
    return os.environ.get("SECRETKIT_ENGINE", "python") in ("", "python", "sops")


def _run_scan(request: ScanRequest) -> int:
    """``cli.scan``: the report on stdout (or in ``--output``), exit 1 with findings."""
    from pathlib import Path

    from secretkit.boundary import Aborted, write_text
    from secretkit.commands.scan import scan_report
    from secretkit.progress import history_progress

    try:
        result = scan_report(
            Path.cwd(),
            request.paths,
            staged=request.staged,
            history=request.history,
            fmt=request.fmt,
            output=None if request.output is None else Path(request.output),
            progress=history_progress() if request.history else None,
        )
    except KeyboardInterrupt as exc:  # the blank line first, as click's Abort prints it
        sys.stderr.write("\n")
        raise Aborted from exc
    for line in result.lines():
        write_text(sys.stderr if line.err else sys.stdout, line.text + line.end)
    return result.exit_code


def _run_hook(strict: bool, allow_unscanned: bool, files: tuple[str, ...]) -> int | None:
    """Run the hook and print its report; the exit code, or None when the full CLI
    must run it (an invalid SECRETKIT_ENGINE, any error of the hook)."""
    if not _engine_valid():
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
    from secretkit import codecache

    codecache.install()  # before any module that defines a dataclass is imported
    from secretkit.boundary import run, verbose_requested

    args = sys.argv[1:] if argv is None else argv
    body: Callable[[], int | None] | None = None
    request = hook_arguments(args)
    if request is not None:
        hook = request
        body = lambda: _hook_or_cli(hook, argv)  # noqa: E731
    elif _engine_valid() and (scan := scan_arguments(args)) is not None:
        body = lambda: _run_scan(scan)  # noqa: E731
    if body is None:
        from secretkit.cli import invoke

        body = lambda: invoke(argv)  # noqa: E731
        fast = False
    else:
        fast = argv is None  # the program itself, hook or scan: no teardown
    command: Callable[[], int | None] = body

    def saving() -> int | None:
        # inside the boundary: a signal while the cache is written ends as any other
        try:
            return command()
        finally:
            codecache.save()

    try:
        run(saving, verbose=verbose_requested(argv), program=argv is None)
    except SystemExit as done:
        if fast:
            _exit_now(done.code)
        raise


def _exit_now(code: object) -> None:
    """End the hook's or the scan's process without the interpreter's teardown
    (freeing a few hundred modules and the parse trees: ~7 ms of the hook's ~100;
    after a scan's process pool, ~19 ms more) once its report is out: stdout and
    stderr flushed, no other thread, no child process, no exit handler but those
    multiprocessing and logging register with nothing to do (no child is left once
    the pool has shut down, no log handler was made).  Returns (and the usual exit
    follows) when any of that does not hold."""
    import atexit
    import threading

    if not isinstance(code, int) or not 0 <= code <= 255:
        return
    if threading.active_count() > 1:
        return
    handlers = 0  # exit handlers with nothing left to do
    if "multiprocessing" in sys.modules:
        import multiprocessing

        if multiprocessing.active_children():
            return
        handlers += "multiprocessing.util" in sys.modules
    logging = sys.modules.get("logging")  # (imported by multiprocessing; flushes handlers)
    if logging is not None:
        if getattr(logging, "_handlerList", None) != []:
            return  # a handler was made: its shutdown may have output to flush
        handlers += 1
    if atexit._ncallbacks() > handlers:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # a closed pipe: the usual exit deals with it
        return
    os._exit(code)
