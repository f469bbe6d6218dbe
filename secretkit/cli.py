"""The command line: options → one ``commands.*`` call → output and exit code.

This module is the only place that prints or exits.  It holds the one error
boundary: a :class:`~secretkit.errors.SecretkitError` becomes
``error: <message> (hint: <hint>)`` on stderr and its exit code; anything else is a
bug (exit 5, traceback only with ``--verbose``).  Imports of the heavy parts
happen inside the commands so that ``secretkit hook`` starts fast.
"""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import click

from secretkit import __version__
from secretkit.errors import (
    EXIT_BUG,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    SecretkitError,
)


@dataclass(frozen=True)
class Context:
    """What every command receives from the global options."""

    cwd: Path
    verbose: bool
    engine: str


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run as if secretkit was started in DIR.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks of internal errors.")
@click.option(
    "--engine",
    type=click.Choice(["python", "sops"]),
    default=None,
    help="sops engine: the built-in one (default) or the sops binary on PATH "
    "(also SECRETKIT_ENGINE).",
)
@click.version_option(__version__, prog_name="secretkit")
@click.pass_context
def cli(ctx: click.Context, directory: Path | None, verbose: bool, engine: str | None) -> None:
    """Find hardcoded secrets in a NixOS repository, move them into per-host sops
    files read by sops-nix, and keep the repository safe to publish."""
    cwd = Path.cwd()
    if directory is not None:
        cwd = (cwd / directory).resolve()
        if not cwd.is_dir():
            raise click.BadParameter(f"{directory} is not a directory", param_hint="-C")
    chosen = engine or os.environ.get("SECRETKIT_ENGINE") or "python"
    if chosen not in ("python", "sops"):
        raise click.BadParameter(
            f"SECRETKIT_ENGINE must be 'python' or 'sops', not {chosen!r}", param_hint="--engine"
        )
    ctx.obj = Context(cwd=cwd, verbose=verbose, engine=chosen)


def echo(text: str = "", err: bool = False, nl: bool = True) -> None:
    click.echo(text, err=err, nl=nl)


def main(argv: list[str] | None = None) -> NoReturn:
    """Console-script entry point and the one error boundary."""
    verbose = "-v" in (argv or sys.argv[1:]) or "--verbose" in (argv or sys.argv[1:])
    try:
        code = cli.main(args=argv, prog_name="secretkit", standalone_mode=False)
    except SecretkitError as exc:
        click.echo(f"error: {exc.one_line()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE if exc.exit_code == 2 else exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # the boundary: anything else is a bug
        if verbose:
            traceback.print_exc()
        click.echo(
            f"error: internal error ({type(exc).__name__}); rerun with --verbose and report it",
            err=True,
        )
        sys.exit(EXIT_BUG)
    sys.exit(code if isinstance(code, int) else 0)


# ---------------------------------------------------------------------------
# Commands.  Each one maps options to a ``secretkit.commands.<verb>`` call and its
# result to output and an exit code.  Keep the bodies short.
# ---------------------------------------------------------------------------
