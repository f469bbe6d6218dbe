"""How the CLI shows a command's result: its bytes and lines on stdout/stderr, its
JSON, its exit code (handed to the boundary through click); and how it asks."""

from __future__ import annotations

import sys

import click

from secretkit.commands import Line, Shown


def echo(lines: list[Line]) -> None:
    for line in lines:
        click.echo(line.text, err=line.err, nl=line.end == "\n")


def show(result: Shown, fmt: str = "text") -> None:
    """Echo what ``result`` shows: its bytes, its lines (or its JSON), and hand its exit
    code to the boundary (through click, so that every way of running ``cli`` sees it)."""
    data = result.data()
    if data is not None:
        # sys.stdout.buffer, not click.get_binary_stream (deprecated in click 8.5); under
        # click's CliRunner sys.stdout is a text wrapper over a bytes buffer as well.
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    if fmt == "json":
        import json

        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        echo(result.lines())
    finish(result.exit_code)


def finish(code: int) -> None:
    """Hand a non-zero exit code to the boundary.  Through click's ``Exit`` (which
    :func:`secretkit.cli.invoke` returns as the code), so that click's own runners
    see it too; :mod:`secretkit.boundary` is what exits."""
    if code:
        raise click.exceptions.Exit(code)


def confirm(yes: bool, question: str, refusal: str) -> None:
    """Ask ``question`` unless ``--yes``; without a terminal, ``refusal`` (exit 2)."""
    from secretkit.errors import UsageError

    if not yes and not sys.stdin.isatty():
        raise UsageError(refusal, hint="pass --yes")
    if not yes:
        ask(question)


def ask(question: str) -> None:
    """A yes/no question on the terminal; no is an abort (exit 130)."""
    click.confirm(question, abort=True)
