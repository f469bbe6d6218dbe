"""The one error boundary: every run of ``secretkit`` ends in :func:`run`.

A command either returns its exit code or raises.  :func:`outcome` maps what it
raised onto one line on stderr and a documented exit code (the table in
:mod:`secretkit.errors`):

* :class:`~secretkit.errors.SecretkitError` → ``error: <message> (hint: <hint>)`` and
  its ``exit_code`` (a ``snippet`` it carries follows on the next lines);
* Ctrl-C → 130; SIGHUP / SIGTERM (raised as :class:`~secretkit.errors.Terminated` by
  the handlers :func:`catch_signals` installs) → 128 + the signal number;
* what the system refused (a file operation, memory, nesting depth) → 3;
* a click usage error → click's own message, exit 2;
* anything else is a bug: exit 5, its traceback only with ``--verbose``.

This module does not import click: the hook's fast path (:mod:`secretkit.entry`)
goes through it too.  A click exception can only reach it once click is loaded.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn, TextIO

from secretkit.errors import (
    EXIT_BUG,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    EXIT_USER,
    SecretkitError,
    Terminated,
)

BUG_LINE = "error: internal error ({name}); rerun with --verbose and report it"


class Aborted(Exception):
    """A KeyboardInterrupt turned into an abort after the blank line (as click's
    ``Abort`` is): ``error: aborted``, or ``error: terminated by …`` when its cause
    is a :class:`~secretkit.errors.Terminated`."""


def verbose_requested(argv: list[str] | None) -> bool:
    args = argv or sys.argv[1:]
    return "-v" in args or "--verbose" in args


def run(
    body: Callable[[], int | None], *, verbose: bool = False, program: bool = False
) -> NoReturn:
    """Run ``body`` (signals caught) and exit with its code, or with what
    :func:`outcome` makes of what it raised.  The only place secretkit exits.
    ``program``: this is the ``secretkit`` process itself, which from the moment its
    code is decided ignores Ctrl-C, SIGTERM and SIGHUP to its end (a signal in its
    last steps or the interpreter's teardown would end it with a traceback and another
    code); called from Python, the handlers are put back.  Whatever is printed
    meanwhile shows a token found in a name as its preview
    (:class:`~secretkit.sensitive.UnshownStream`)."""
    from secretkit.sensitive import UnshownStream

    catch_signals()
    code: int | None = None
    failure: BaseException | None = None
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = UnshownStream(sys.stdout), UnshownStream(sys.stderr)
    try:
        code = body()
    except SystemExit:
        raise
    except BaseException as exc:  # the boundary: everything a command can raise
        failure = exc
    finally:
        from secretkit.signals import ignored

        # the code is decided: a second Ctrl-C (pressed again while a scan's workers
        # stop) would end the report or the lock release with a traceback
        with ignored(restore=not program):
            if failure is not None:
                code = outcome(failure, verbose)
                failure = None  # (its frames let go here: a worker pool's cleanup)
            release_locks()
        sys.stdout, sys.stderr = streams
    sys.exit(code if isinstance(code, int) else 0)


def outcome(exc: BaseException, verbose: bool = False) -> int:
    """Print the line(s) for ``exc`` on stderr and return its exit code."""
    if isinstance(exc, SecretkitError):
        say(f"error: {exc.one_line()}")
        snippet = getattr(exc, "snippet", None)
        if isinstance(snippet, str):
            say(snippet)
        return exc.exit_code
    click = sys.modules.get("click")  # loaded when the click CLI ran
    if isinstance(exc, Aborted) or (click is not None and isinstance(exc, click.exceptions.Abort)):
        if isinstance(exc.__cause__, Terminated):
            return _terminated(exc.__cause__)
        say("error: aborted")
        return EXIT_INTERRUPTED
    if isinstance(exc, Terminated):
        return _terminated(exc)
    if isinstance(exc, KeyboardInterrupt):
        say("error: interrupted")
        return EXIT_INTERRUPTED
    if click is not None and isinstance(exc, click.ClickException):
        exc.show()
        return EXIT_USAGE if exc.exit_code == 2 else int(exc.exit_code)
    if click is not None and isinstance(exc, click.exceptions.Exit):
        return int(exc.exit_code)
    if isinstance(exc, BrokenPipeError):
        return 0
    if isinstance(exc, (OSError, MemoryError, RecursionError)):
        say(f"error: {resource_error(exc)}")
        return EXIT_USER
    if verbose:
        import traceback

        traceback.print_exception(exc)
    say(BUG_LINE.format(name=type(exc).__name__))
    return EXIT_BUG


def _terminated(exc: Terminated) -> int:
    import signal

    say(f"error: terminated by {signal.Signals(exc.signum).name}")
    return 128 + exc.signum


def resource_error(exc: OSError | MemoryError | RecursionError) -> str:
    """One line for what the system refused: a file operation, memory, nesting depth."""
    if isinstance(exc, MemoryError):
        return (
            "the input is too large to process in memory (hint: check the file is the "
            "one you meant; /dev/zero and similar never end)"
        )
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to process (hint: flatten it)"
    from secretkit.atomic import describe_os_error, os_error_hint

    return f"{describe_os_error(exc)} (hint: {os_error_hint(exc)})"


def say(text: str) -> None:
    """One line on stderr: through ``click.echo`` once click is loaded (the CLI ran),
    else written as it writes it."""
    click = sys.modules.get("click")
    if click is not None:
        click.echo(text, err=True)
    else:
        write_lines(sys.stderr, [text])


def write_lines(out: TextIO, lines: list[str]) -> None:
    """As ``click.echo`` writes lines: ANSI escapes removed when not on a terminal."""
    if lines:
        write_text(out, "".join(line + "\n" for line in lines))


def write_text(out: TextIO, text: str) -> None:
    """As ``click.echo(text, nl=False)`` writes it: ANSI escapes removed when not on a
    terminal."""
    if not text:
        return
    if not out.isatty():
        import re

        ansi = re.compile(r"\033\[[0-?]*[ -/]*[@-~]")  # click._compat._ansi_re
        text = ansi.sub("", text)
    out.write(text)
    out.flush()


def _on_signal(signum: int, frame: object) -> None:
    raise Terminated(signum)


def catch_signals() -> None:
    """SIGTERM and SIGHUP (a closed terminal, a dropped ssh session) clean up like Ctrl-C."""
    import signal

    for signum in (signal.SIGTERM, signal.SIGHUP):
        try:
            signal.signal(signum, _on_signal)
        except (ValueError, OSError):  # not the main thread (embedded use)
            return


def release_locks() -> None:
    """Release the repository locks this process holds, and say which interrupted runs
    it rolled back first (:func:`secretkit.atomic.rolled_back`).  A process that never
    loaded :mod:`secretkit.repolock` holds none (the hook's start-up does not pay for it)."""
    repolock = sys.modules.get("secretkit.repolock")
    if repolock is not None:
        repolock.release_all()
    atomic = sys.modules.get("secretkit.atomic")  # (an interrupted run rolled back: said)
    if atomic is not None:
        for line in atomic.rolled_back():
            print(line, file=sys.stderr)
