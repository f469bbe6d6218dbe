"""The console script's entry point: ``secretkit hook`` starts without click.

The pre-commit hook runs on every commit, so its start-up is time the user waits
for (issue 15: ≤ 100 ms).  click and the definitions of every command in
:mod:`secretkit.cli` cost about 15 ms of it.  When the arguments are exactly the
hook's own — ``hook [--strict] [--allow-unscanned] [--] [FILE…]``, as the
pre-commit framework and the plain-git shim pass them, no global option — this
module runs the hook and prints its report itself, exactly as ``cli.hook`` does.
Anything else, and any error of the hook, goes through :func:`secretkit.cli.main`,
the one error boundary: the hook only reads, so running it again there is harmless
and the error gets its usual line and exit code.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import NoReturn, TextIO

HOOK_FLAGS = ("--strict", "--allow-unscanned")
HOOK_SUBCOMMANDS = ("install", "uninstall", "-h", "--help")


def hook_arguments(argv: Sequence[str]) -> tuple[bool, bool, tuple[str, ...]] | None:
    """``(strict, allow_unscanned, files)`` when ``argv`` runs the hook itself (read
    as ``cli._HookGroup.parse_args`` reads it), else None."""
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
    must run it (an invalid SECRETKIT_ENGINE, any error)."""
    if os.environ.get("SECRETKIT_ENGINE", "python") not in ("", "python", "sops"):
        return None  # cli() refuses it before any command runs
    from pathlib import Path

    from secretkit.commands.hook import render, run_hook
    from secretkit.errors import EXIT_BUG, EXIT_USER

    try:
        report = run_hook(Path.cwd(), files, strict=strict, allow_unscanned=allow_unscanned)
        lines = render(report)
    except Exception:
        return None
    try:
        _write(sys.stdout, lines)
        _write(sys.stderr, [f"note: {note}" for note in report.notes])
    except BrokenPipeError:
        return 0
    except OSError as exc:  # as cli.main reports what the system refused
        from secretkit.atomic import describe_os_error, os_error_hint

        sys.stderr.write(f"error: {describe_os_error(exc)} (hint: {os_error_hint(exc)})\n")
        return EXIT_USER
    except Exception as exc:  # as cli.main's boundary says a bug (output is half written)
        sys.stderr.write(
            f"error: internal error ({type(exc).__name__}); rerun with --verbose and report it\n"
        )
        return EXIT_BUG
    return 1 if report.blocked else 0


def _on_signal(signum: int, frame: object) -> None:
    from secretkit.errors import Terminated

    raise Terminated(signum)


def catch_signals() -> None:
    """SIGTERM and SIGHUP (a closed terminal, a dropped ssh session) clean up like Ctrl-C."""
    import signal

    for signum in (signal.SIGTERM, signal.SIGHUP):
        try:
            signal.signal(signum, _on_signal)
        except (ValueError, OSError):  # not the main thread (embedded use)
            return


def _write(stream: TextIO, lines: list[str]) -> None:
    """As ``click.echo`` writes them: ANSI escapes removed when not on a terminal."""
    if not lines:
        return
    if not stream.isatty():
        import re

        ansi = re.compile(r"\033\[[0-?]*[ -/]*[@-~]")  # click._compat._ansi_re
        lines = [ansi.sub("", line) for line in lines]
    for line in lines:
        stream.write(line + "\n")
    stream.flush()


def main(argv: list[str] | None = None) -> NoReturn:
    """Console-script entry point (``secretkit``)."""
    request = hook_arguments(sys.argv[1:] if argv is None else argv)
    if request is not None:
        from secretkit.errors import EXIT_INTERRUPTED, Terminated

        catch_signals()
        try:
            code = _run_hook(*request)
        except Terminated as exc:
            import signal

            # the blank line first, as click's Abort prints it in the CLI
            sys.stderr.write(f"\nerror: terminated by {signal.Signals(exc.signum).name}\n")
            sys.exit(128 + exc.signum)
        except KeyboardInterrupt:
            sys.stderr.write("\nerror: aborted\n")
            sys.exit(EXIT_INTERRUPTED)
        if code is not None:
            sys.exit(code)
    from secretkit.cli import main as cli_main

    cli_main(argv)
