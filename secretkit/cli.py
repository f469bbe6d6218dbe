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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from secretkit import __version__
from secretkit.entry import catch_signals
from secretkit.errors import (
    EXIT_BUG,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    EXIT_USER,
    SecretkitError,
    Terminated,
)


@dataclass(frozen=True)
class Context:
    """What every command receives from the global options."""

    cwd: Path
    verbose: bool
    engine: str


pass_ctx = click.make_pass_decorator(Context)

_KIND_NAMES = [
    "password",
    "passphrase",
    "hex",
    "base64",
    "alnum",
    "wireguard",
    "ssh-ed25519",
    "hashed-password",
]


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
    is_eager=True,  # so that `--engine sops --version` shows the sops engine
    help="sops engine: the built-in one (default) or the sops binary on PATH "
    "(also SECRETKIT_ENGINE).",
)
@click.option(
    "--version",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=lambda ctx, _param, value: _show_version(ctx, value),
    help="Show the version and the sops engine in use, and exit.",
)
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
    ctx.call_on_close(_release_locks)  # a writing command's lock ends with it


def version_text(engine: str | None) -> str:
    """``secretkit --version``: the version and the sops engine a command would use."""
    import shutil

    chosen = engine or os.environ.get("SECRETKIT_ENGINE") or "python"
    if chosen == "python":
        used = "python (built-in, writes sops 3.x files)"
    elif chosen == "sops":
        found = shutil.which("sops")
        used = f"sops binary at {found}" if found else "sops binary (not found on PATH)"
    else:
        used = f"{chosen!r} (invalid SECRETKIT_ENGINE: use 'python' or 'sops')"
    return f"secretkit {__version__}\nsops engine: {used}"


def _show_version(ctx: click.Context, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo(version_text(ctx.params.get("engine")))
    ctx.exit()


def echo(text: str = "", err: bool = False, nl: bool = True) -> None:
    click.echo(text, err=err, nl=nl)


def _release_locks() -> None:
    """Release the repository locks this process holds.  A process that never loaded
    :mod:`secretkit.repolock` holds none (the hook's start-up does not pay for it)."""
    repolock = sys.modules.get("secretkit.repolock")
    if repolock is not None:
        repolock.release_all()


def main(argv: list[str] | None = None) -> NoReturn:
    """Console-script entry point and the one error boundary."""
    verbose = "-v" in (argv or sys.argv[1:]) or "--verbose" in (argv or sys.argv[1:])
    catch_signals()
    try:
        code = cli.main(args=argv, prog_name="secretkit", standalone_mode=False)
    except SecretkitError as exc:
        click.echo(f"error: {exc.one_line()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort as exc:  # click turns KeyboardInterrupt into Abort
        if isinstance(exc.__cause__, Terminated):
            _terminated(exc.__cause__)
        click.echo("error: aborted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Terminated as exc:
        _terminated(exc)
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
    except (OSError, MemoryError, RecursionError) as exc:
        click.echo(f"error: {_resource_error(exc)}", err=True)
        sys.exit(EXIT_USER)
    except Exception as exc:  # the boundary: anything else is a bug
        if verbose:
            traceback.print_exc()
        click.echo(
            f"error: internal error ({type(exc).__name__}); rerun with --verbose and report it",
            err=True,
        )
        sys.exit(EXIT_BUG)
    finally:
        _release_locks()
    sys.exit(code if isinstance(code, int) else 0)


def _terminated(exc: Terminated) -> NoReturn:
    import signal

    click.echo(f"error: terminated by {signal.Signals(exc.signum).name}", err=True)
    sys.exit(128 + exc.signum)


def _resource_error(exc: OSError | MemoryError | RecursionError) -> str:
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


# ---------------------------------------------------------------------------
# Commands.  Each one maps options to a ``secretkit.commands.<verb>`` call and its
# result to output and an exit code.  Keep the bodies short.
# ---------------------------------------------------------------------------


# --- scan (scanner) -----------------------------------------------------------------
@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--staged", is_flag=True, help="Scan the index: what the next commit will hold.")
@click.option("--history", is_flag=True, help="Scan every blob of every commit (each once).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option("--output", type=click.Path(path_type=Path), help="Write the report to this file.")
@pass_ctx
def scan(
    ctx: Context,
    paths: tuple[Path, ...],
    staged: bool,
    history: bool,
    fmt: str,
    output: Path | None,
) -> None:
    """Find hardcoded secrets; exit 0 when none, 1 when some are found.

    Scans the work tree (tracked and untracked-not-ignored files), the index
    (--staged) or every blob of the history (--history).  Silence a false positive
    with a `# secretkit: allow` comment on its line, or add its fingerprint to
    .secretkit-allow (one per line).
    """
    from secretkit.commands.scan import scan as run
    from secretkit.scan.report import render

    progress = _history_progress() if history else None
    report = run(
        ctx.cwd, [str(p) for p in paths], staged=staged, history=history, progress=progress
    )
    text = render(report, fmt)
    if output is not None:
        from secretkit.atomic import write_atomic

        write_atomic(ctx.cwd / output, text.encode())
    else:
        echo(text, nl=False)
    raise click.exceptions.Exit(1 if report.findings else 0)


# --- sops file commands (engine-keys) --------------------------------------------
def _write_stdout(data: bytes) -> None:
    # sys.stdout.buffer, not click.get_binary_stream (deprecated in click 8.5); under
    # click's CliRunner sys.stdout is a text wrapper over a bytes buffer as well.
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-i", "--in-place", is_flag=True, help="Replace FILE with its encrypted form.")
@click.option("--output", type=click.Path(path_type=Path), help="Write the result to this file.")
@pass_ctx
def encrypt(ctx: Context, file: Path, in_place: bool, output: Path | None) -> None:
    """Encrypt FILE for the recipients of its .sops.yaml creation rule."""
    from secretkit.commands.encrypt import encrypt as run

    result = run(ctx.cwd, file, in_place=in_place, output=output, engine=ctx.engine)
    if result.output is not None:
        _write_stdout(result.output)


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--extract", metavar="PATH", help='Print one value or subtree: \'["a"]["b"]\'.')
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    help="Write the plaintext to this file (mode 0600) instead of stdout.",
)
@pass_ctx
def decrypt(ctx: Context, file: Path, extract: str | None, output: Path | None) -> None:
    """Decrypt a sops FILE (MAC verified) to stdout."""
    from secretkit.commands.decrypt import decrypt as run

    result = run(ctx.cwd, file, extract=extract, output=output, engine=ctx.engine)
    if result.output is not None:
        _write_stdout(result.output.reveal())


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@pass_ctx
def edit(ctx: Context, file: Path) -> None:
    """Edit a sops FILE in $VISUAL/$EDITOR (a new FILE is created from its rule)."""
    from secretkit.commands.edit import edit as run

    result = run(ctx.cwd, file, engine=ctx.engine)
    if result.status == "unchanged":
        echo(f"{file}: no changes", err=True)


@cli.command("set")
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("key_path", metavar='\'["a"]["b"]\'')
@click.option("--json", "as_json", is_flag=True, help="Parse stdin as a JSON value.")
@pass_ctx
def set_(ctx: Context, file: Path, key_path: str, as_json: bool) -> None:
    """Set one value in FILE; the value is read from stdin (one trailing newline dropped)."""
    from secretkit.commands.set import set_value, stdin_value

    value = stdin_value(sys.stdin.buffer.read(), as_json=as_json)
    result = set_value(ctx.cwd, file, key_path, value, engine=ctx.engine)
    echo(f"{file}: {'created' if result.created else 'updated'}", err=True)


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@pass_ctx
def updatekeys(ctx: Context, files: tuple[Path, ...]) -> None:
    """Re-wrap data keys for the recipients .sops.yaml now names (values unchanged).

    Without FILE: every sops file of the repository (found by its metadata)."""
    if not files and ctx.engine == "python":
        _updatekeys_tree(ctx)
        return
    from secretkit.commands.updatekeys import updatekeys as run

    for item in run(ctx.cwd, files, engine=ctx.engine):
        shown = item.path.relative_to(ctx.cwd) if item.path.is_relative_to(ctx.cwd) else item.path
        message = "updated" if item.status == "updated" else "already up to date"
        echo(f"{shown}: {message}")


def _updatekeys_tree(ctx: Context) -> None:
    from secretkit.commands.updatekeys_tree import updatekeys_tree

    result = updatekeys_tree(ctx.cwd)
    messages = {"updated": "updated", "up to date": "already up to date"}
    for row in result.rows:
        echo(f"{row.rel}: {messages.get(row.status, 'no creation rule matches, left alone')}")
    for row in result.updated:
        changes = [f"+{r}" for r in row.added] + [f"-{r}" for r in row.removed]
        echo(f"  {row.rel}: {' '.join(changes)}", err=True)
    up_to_date = sum(1 for row in result.rows if row.status == "up to date")
    echo(f"{len(result.updated)} file(s) updated, {up_to_date} already up to date", err=True)
    if result.removed_any:
        echo(
            "note: removed recipients may still hold the unchanged data keys; "
            "lock them out with `secretkit rotate data-keys` (or `rotate host`)",
            err=True,
        )


@cli.group()
def rotate() -> None:
    """Key rotation."""


@rotate.command("data-keys")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@pass_ctx
def rotate_data_keys(ctx: Context, files: tuple[Path, ...]) -> None:
    """New data key for FILE… (default: every sops file a rule matches); values kept."""
    from secretkit.commands.rotate import rotate_data_keys as run

    for path in run(ctx.cwd, files, engine=ctx.engine):
        shown = path.relative_to(ctx.cwd) if path.is_relative_to(ctx.cwd) else path
        echo(f"{shown}: new data key")


@rotate.command("host")
@click.argument("name")
@click.option("--age", metavar="AGE_RECIPIENT", help="The host's new age1… key.")
@click.option("--ssh-pubkey", metavar="'ssh-ed25519 …'", help="The host's new ssh ed25519 key.")
@click.option(
    "--ssh-pubkey-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A .pub file or ssh-keyscan output with the host's new ed25519 key.",
)
@click.option(
    "--compromised",
    is_flag=True,
    help="List the secrets the old key could read (change them at their provider).",
)
@pass_ctx
def rotate_host(
    ctx: Context,
    name: str,
    age: str | None,
    ssh_pubkey: str | None,
    ssh_pubkey_file: Path | None,
    compromised: bool,
) -> None:
    """Give host NAME a new key: .sops.yaml updated, and every file of the host gets a
    new data key, so that the old key opens no current file."""
    from secretkit.commands.hosts import recipient_from_options
    from secretkit.commands.rotate_host import rotate_host as run

    recipient = recipient_from_options(ctx.cwd, age, ssh_pubkey, ssh_pubkey_file)
    result = run(ctx.cwd, name, recipient, history=compromised)
    if result.sops_yaml_changed:
        echo(f".sops.yaml: host {name} now has key {result.new_recipient}")
    else:
        echo(f".sops.yaml: host {name} already has key {result.new_recipient}")
    _print_rekeyed(result.files)
    old = "the old key" if result.old_recipient != result.new_recipient else "no older key"
    echo(f"rotated {len(result.files)} file(s) of host {name}: {old} opens none of them")
    _print_exposed(result, compromised, "the old key")


@rotate.command("value")
@click.argument("name")
@click.option("--from-stdin", is_flag=True, help="Read the new value from stdin.")
@click.option("--kind", type=click.Choice(_KIND_NAMES), help="Generate it as this kind.")
@click.option("--length", type=int, help="With --kind: characters or bytes.")
@click.option("--words", type=int, help="With --kind passphrase: words.")
@pass_ctx
def rotate_value(
    ctx: Context,
    name: str,
    from_stdin: bool,
    kind: str | None,
    length: int | None,
    words: int | None,
) -> None:
    """Replace secret NAME (a/b/c) in every sops file that holds it, in one go: a new
    value from stdin, or generated (its kind from secrets/generators.toml or --kind).
    Lists the units to restart (restartUnits of its sops.secrets declarations)."""
    from secretkit.commands.rotate_value import rotate_value as run
    from secretkit.commands.set import stdin_value
    from secretkit.errors import UsageError
    from secretkit.generate.model import Options
    from secretkit.sensitive import Sensitive

    stdin = None
    if from_stdin:
        value = stdin_value(sys.stdin.buffer.read(), as_json=False)
        assert isinstance(value, Sensitive)
        if not value.reveal():
            raise UsageError("the value on stdin is empty")
        stdin = value
    result = run(ctx.cwd, name, stdin=stdin, kind=kind, options=Options(length, words))
    for rel in result.files:
        also = f" (and {result.also})" if result.also else ""
        echo(f"{rel}: {name}{also}: new value ({result.source})")
    for rel, other in result.twins:
        echo(f"{rel}: {other}: held the same value, new value too")
    for rel in result.unchecked:
        echo(f"note: no identity opens {rel}; it was not searched for the old value", err=True)
    if result.public is not None:
        echo(f"new public key: {result.public}")
    if result.restarts:
        echo("restart after deploying:")
        for item in result.restarts:
            echo(f"  {item.unit}  ({item.declared_in})")
    else:
        echo("no restartUnits declared for it: restart its services after deploying")
    echo("change it at its provider too, if it is a credential issued elsewhere")


def _print_rekeyed(files: Sequence[Any]) -> None:
    for item in files:
        changes = " ".join([f"+{r}" for r in item.added] + [f"-{r}" for r in item.removed])
        orphan = ", kept for admins only (its rule is gone)" if item.orphan else ""
        echo(f"{item.rel}: new data key{f' ({changes})' if changes else ''}{orphan}")


def _print_exposed(result: Any, show: bool, who: str) -> None:
    if not result.exposed:
        return
    if not show:
        echo(
            f"note: {who} could read {result.exposed_count} secret(s); if it may be "
            "compromised, list them with --compromised and change them at their provider",
            err=True,
        )
        return
    echo(
        f"{who} could read these {result.exposed_count} secret(s); change them at their "
        "provider (old ciphertext in git history still opens with that key):"
    )
    for item in result.exposed:
        where = " (only in git history)" if item.history else ""
        for secret in item.names:
            echo(f"  {item.rel}: {secret}{where}")


@cli.command()
@click.option(
    "--output", type=click.Path(path_type=Path), help="Write the identity here (mode 0600)."
)
@pass_ctx
def keygen(ctx: Context, output: Path | None) -> None:
    """Generate a new age identity; the public key is printed on stderr."""
    from secretkit.commands.keygen import keygen as run
    from secretkit.errors import UserError

    if output is None and sys.stdout.isatty():
        raise UserError(
            "refusing to print a private key to the terminal",
            hint="use --output FILE, or redirect stdout to a file",
        )
    result = run(ctx.cwd, output)
    if result.written is None:
        _write_stdout(result.text.reveal().encode("ascii"))
    echo(f"Public key: {result.public}", err=True)


# --- migrate and demo (migrate) ----------------------------------------------------
def _print_plan_table(rows: list[tuple[str, str, str, str]]) -> None:
    header = ("secret", "hosts", "file", "new option")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3])


@cli.command()
@click.option("--dry-run", is_flag=True, help="Print the diff and the plan; change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Apply without asking.")
@click.option("--host", "hosts", multiple=True, metavar="NAME", help="Only these hosts (repeat).")
@click.option(
    "--yes-without-admin",
    "without_admin",
    is_flag=True,
    help="Allow host files whose .sops.yaml rule names no admin key.",
)
@pass_ctx
def migrate(
    ctx: Context, dry_run: bool, yes: bool, hosts: tuple[str, ...], without_admin: bool
) -> None:
    """Move hardcoded secrets in Nix files into per-host sops files read by sops-nix."""
    from secretkit.commands.migrate import apply, prepare
    from secretkit.errors import UsageError
    from secretkit.git.repo import find_root

    prepared = prepare(
        find_root(ctx.cwd), hosts=hosts, dry_run=dry_run, without_admin=without_admin
    )
    plan = prepared.plan
    for refused in plan.refused:
        echo(refused.message(), err=True)
    left = f"; {len(plan.refused)} finding(s) above need a change by hand" if plan.refused else ""
    if plan.empty:
        for note in prepared.notes:
            echo(note, err=True)
        echo(f"nothing to migrate{left}")
        return
    if dry_run:
        echo(plan.diff(), nl=False)
    _print_plan_table(plan.table())
    for note in plan.wiring:
        echo(f"sops-nix: {note}")
    for note in prepared.notes:  # after the plan: what to do before applying it
        echo(note, err=True)
    if dry_run:
        if left:
            echo(left.removeprefix("; "))
        return
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("migrate changes files and needs a confirmation", hint="pass --yes")
        click.confirm(f"Move {len(plan.moves)} secret(s) and rewrite the Nix files?", abort=True)
    written = apply(prepared)
    echo(f"migrated {len(plan.moves)} secret(s); wrote {len(written)} file(s){left}")


# --- import agenix --------------------------------------------------------------
@cli.group(name="import")
def import_group() -> None:
    """Convert another secret manager's repository to sops files and sops-nix."""


@import_group.command(name="agenix")
@click.option("--dry-run", is_flag=True, help="Print the plan and the diff; change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Apply without asking.")
@click.option(
    "--layout",
    type=click.Choice(["per-host", "per-secret"]),
    default="per-host",
    show_default=True,
    help="secrets/<host>.yaml per host, or one sops file per former .age file.",
)
@pass_ctx
def import_agenix(ctx: Context, dry_run: bool, yes: bool, layout: str) -> None:
    """Move an agenix/ragenix repository (secrets.nix + *.age) to sops files and sops-nix."""
    from secretkit.commands import import_agenix as command
    from secretkit.errors import UsageError
    from secretkit.git.repo import find_root

    prepared = command.prepare(find_root(ctx.cwd), layout_mode=layout)
    if prepared.empty:
        echo("nothing to import: no agenix secrets.nix in this repository")
        return
    if dry_run:
        echo(command.diff(prepared), nl=False)
    for row in command.table(prepared):
        echo(row)
    for note in prepared.notes:
        echo(note, err=True)
    if dry_run:
        return
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("import changes files and needs a confirmation", hint="pass --yes")
        click.confirm(f"Convert {len(prepared.layout.moves)} agenix secret(s)?", abort=True)
    written = command.apply(prepared)
    echo(
        f"imported {len(prepared.layout.moves)} agenix secret(s) from {prepared.rules_file}: "
        f"{len(prepared.declared)} declaration(s) and {prepared.refs} reference(s) now use "
        f"sops-nix; changed {len(written)} file(s)"
    )


# --- hook, purge, check (keep-clean) ---------------------------------------
class _HookGroup(click.Group):
    """``hook [FILE…]`` runs the hook; ``hook install`` is a subcommand.

    click cannot combine a variadic argument with subcommands, so the group takes
    its FILE arguments itself: anything that is not a subcommand name (or help) is
    a file, and ``--`` ends the options so that a file named ``install`` or ``-x`` is
    still a file (the pre-commit entry is ``secretkit hook --``).
    """

    _FLAGS = ("--strict", "--allow-unscanned")

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and (args[0] in self.commands or args[0] in ctx.help_option_names):
            return super().parse_args(ctx, args)
        flags = []
        while args and args[0] in self._FLAGS:
            flags.append(args[0])
            args = args[1:]
        ctx.meta["secretkit.hook.files"] = tuple(args[1:] if args[:1] == ["--"] else args)
        return super().parse_args(ctx, flags)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return ["[--strict] [--allow-unscanned] [--] [FILE]...", "|", "install", "|", "uninstall"]


@cli.group(cls=_HookGroup, invoke_without_command=True)
@click.option(
    "--strict", is_flag=True, help="Also block secrets the touched files already held in HEAD."
)
@click.option(
    "--allow-unscanned", is_flag=True, help="Do not block a staged file that could not be read."
)
@click.pass_context
@pass_ctx
def hook(ctx: Context, click_ctx: click.Context, strict: bool, allow_unscanned: bool) -> None:
    """Block a commit that adds a plaintext secret or a decrypted secrets file.

    Judges the staged content (the index) of FILE… — or, without FILE, of every
    path the commit adds or changes.  A secret the file already held in HEAD is a
    warning (blocked with --strict).  Exit 1 blocks the commit.
    """
    if click_ctx.invoked_subcommand is not None:
        return
    from secretkit.commands.hook import render, run_hook

    report = run_hook(
        ctx.cwd,
        click_ctx.meta.get("secretkit.hook.files", ()),
        strict=strict,
        allow_unscanned=allow_unscanned,
    )
    for line in render(report):
        echo(line)
    for note in report.notes:
        echo(f"note: {note}", err=True)
    click_ctx.exit(1 if report.blocked else 0)


@hook.command("install")
@pass_ctx
def hook_install(ctx: Context) -> None:
    """Install the plain-git pre-commit hook (an existing hook is kept and chained)."""
    from secretkit.git import require_repo
    from secretkit.git.hooks import FrameworkHookError, install

    try:
        result = install(require_repo(ctx.cwd))
    except FrameworkHookError as exc:
        echo(f"error: {exc.one_line()}", err=True)
        echo(exc.snippet, err=True)
        raise click.exceptions.Exit(exc.exit_code) from None
    echo(f"{result.hook}: {result.action}")
    if result.chained is not None:
        echo(f"the previous hook runs first: {result.chained}")


@hook.command("uninstall")
@pass_ctx
def hook_uninstall(ctx: Context) -> None:
    """Remove the plain-git hook installed by `hook install`; a chained hook is restored."""
    from secretkit.git import require_repo
    from secretkit.git.hooks import uninstall

    result = uninstall(require_repo(ctx.cwd))
    messages = {
        "removed": "removed",
        "restored": "removed; the previous hook is back in place",
        "not installed": "no secretkit hook installed, nothing to do",
        "framework": "managed by the pre-commit framework, left alone "
        "(`pre-commit uninstall` removes it)",
        "not ours": "not secretkit's hook, left alone",
    }
    echo(f"{result.hook}: {messages[result.action]}")


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Work here (kept) instead of a temporary directory.",
)
@click.option("--keep", is_flag=True, help="Keep the temporary directory and print its path.")
def demo(directory: Path | None, keep: bool) -> None:
    """Run scan → migrate → scan on a copy of the example homelab with generated keys."""
    from secretkit.commands.demo import demo as run

    result = run(directory, keep=keep)
    echo(f"example homelab with fake secrets: {len(result.hosts)} hosts")
    echo(f"scan: {result.findings_before} finding(s)")
    _print_plan_table(result.table)
    for note in result.wiring:
        echo(f"sops-nix: {note}")
    for line in result.refused:
        echo(line)
    excerpt = result.diff.splitlines()
    shown = next((i for i, line in enumerate(excerpt) if "monitoring.nix" in line), 0)
    echo("diff (excerpt):")
    for line in excerpt[shown : shown + 40]:
        echo("  " + line)
    for host, names in sorted(result.host_access.items()):
        echo(f"{host} can decrypt: {', '.join(names) if names else '(nothing)'}")
    clean = "clean" if result.findings_after == 0 else f"{result.findings_after} finding(s) left"
    echo(f"scan: {clean}")
    if result.leaked:
        echo(f"values still in: {', '.join(result.leaked)}", err=True)
    if result.kept:
        echo(f"repository: {result.directory}")
    if result.leaked or result.findings_after:
        sys.exit(1)


# --- init and hosts (hosts engineer) ----------------------------------------------
def _show_change_hint(change: object) -> None:
    rules = getattr(change, "changed_rules", ())
    if rules:
        echo(
            f"{len(rules)} creation rule(s) changed recipients: "
            "run `secretkit updatekeys` on their files",
            err=True,
        )


@cli.command()
@click.option("--admin", required=True, metavar="AGE_RECIPIENT", help="Admin key (age1…).")
@click.option("--admin-name", metavar="NAME", help="Anchor name (default: $USER or 'admin').")
@pass_ctx
def init(ctx: Context, admin: str, admin_name: str | None) -> None:
    """Create .sops.yaml at the repository root with the admin key."""
    from secretkit.commands.init import init as run

    result = run(ctx.cwd, admin, admin_name)
    if not result.change.changed:
        echo(f"{result.path.name}: admin {result.admin_name} already present, nothing to do")
    elif result.change.created:
        echo(f"created {result.path} with admin {result.admin_name} ({result.recipient})")
    else:
        echo(f"{result.path.name}: added admin {result.admin_name} ({result.recipient})")
        _show_change_hint(result.change)


@cli.group()
def hosts() -> None:
    """Hosts and their age keys in .sops.yaml."""


@hosts.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@pass_ctx
def hosts_list(ctx: Context, fmt: str) -> None:
    """Hosts found in the Nix code and in .sops.yaml, with their keys."""
    import json

    from secretkit.commands.hosts import list_hosts

    result = list_hosts(ctx.cwd)
    if fmt == "json":
        payload = {
            "version": 1,
            "hosts": [row.to_json() for row in result.rows],
            "unresolved": [
                {"path": p, "reason": r, "hosts": list(h)} for p, r, h in result.unresolved
            ],
            "external": [{"path": p, "module": m} for p, m in result.external],
        }
        echo(json.dumps(payload, indent=2))
        return
    header = ("HOST", "KEY", "SOURCE", "MODULES", "RULE", "ENTRY MODULES")
    table = [
        (
            row.host,
            row.key or "-",
            row.source,
            str(row.modules),
            "yes" if row.rule else "no",
            ", ".join(row.entry_modules) or "-",
        )
        for row in result.rows
    ]
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(5)]
    for r in [header, *table]:
        echo("  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)) + "  " + r[5])
    for path, reason, users in result.unresolved:
        who = f" (host {', '.join(users)})" if users else ""
        echo(f"unresolved: {path}: {reason}{who}", err=True)


@hosts.command("add")
@click.argument("name")
@click.option("--age", metavar="AGE_RECIPIENT", help="The host's age1… key.")
@click.option("--ssh-pubkey", metavar="'ssh-ed25519 …'", help="The host's ssh ed25519 public key.")
@click.option(
    "--ssh-pubkey-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A .pub file or ssh-keyscan output with the host's ed25519 key.",
)
@click.option(
    "--generate-host-key",
    is_flag=True,
    help="Make a new ed25519 host key (private key kept for the admins only).",
)
@click.option(
    "--extra-files",
    type=click.Path(path_type=Path, file_okay=False),
    help="With --generate-host-key: write etc/ssh/ssh_host_ed25519_key{,.pub} here "
    "(outside the repository) for nixos-anywhere --extra-files.",
)
@click.option(
    "--keyscan",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[HOST[:PORT]]",
    help="Fetch the host key with ssh-keyscan (target: the argument, colmena "
    "deployment.targetHost, deploy-rs hostname, or NAME).",
)
@click.option("--fingerprint", metavar="SHA256:…", help="With --keyscan: the expected key.")
@click.option("--yes", is_flag=True, help="With --keyscan --fingerprint: do not ask.")
@pass_ctx
def hosts_add(
    ctx: Context,
    name: str,
    age: str | None,
    ssh_pubkey: str | None,
    ssh_pubkey_file: Path | None,
    generate_host_key: bool,
    extra_files: Path | None,
    keyscan: str | None,
    fingerprint: str | None,
    yes: bool,
) -> None:
    """Add host NAME: its key anchor and a rule for secrets/NAME.yaml (an existing
    secrets/NAME.yaml is re-wrapped for it)."""
    from secretkit.commands import hosts as run
    from secretkit.errors import UsageError
    from secretkit.layouts.sops_nix import host_secrets_path

    given = [age, ssh_pubkey, ssh_pubkey_file, generate_host_key or None, keyscan]
    if sum(x is not None for x in given) > 1:
        raise UsageError(
            "give exactly one of --age, --ssh-pubkey, --ssh-pubkey-file, "
            "--generate-host-key, --keyscan"
        )
    if extra_files is not None and not generate_host_key:
        raise UsageError("--extra-files goes with --generate-host-key (or hosts bootstrap)")
    if (fingerprint is not None or yes) and keyscan is None:
        raise UsageError("--fingerprint and --yes go with --keyscan")
    if generate_host_key:
        made = run.add_generated(ctx.cwd, name, extra_files)
        result = made.host
        echo(f"new ssh host key for {name}: {made.public}")
        echo(f"its private key is in {result.host_key_file}, encrypted for the admins only")
        for path in made.extra_files:
            echo(f"wrote {path}")
        if not made.extra_files:
            echo(f"next: secretkit hosts bootstrap {name} --extra-files DIR (for nixos-anywhere)")
    elif keyscan is not None:
        scanned = run.keyscan(ctx.cwd, name, keyscan or None)
        where = f"{scanned.target}:{scanned.port}" if scanned.port else scanned.target
        echo(f"{where} ({scanned.source}) presents ssh-ed25519 key {scanned.fingerprint}")
        _confirm_fingerprint(scanned.fingerprint, fingerprint, yes)
        result = run.add(ctx.cwd, name, scanned.recipient)
    else:
        recipient = run.recipient_from_options(ctx.cwd, age, ssh_pubkey, ssh_pubkey_file)
        result = run.add(ctx.cwd, name, recipient)
    if result.change.changed:
        echo(f"added host {name} ({result.recipient}) and a rule for {host_secrets_path(name)}")
    else:
        echo(f"host {name} already present with this key, nothing to do")
    for rel in result.rekeyed:
        echo(f"{rel}: re-wrapped for host {name}")
    if result.in_nix is False:
        echo(
            f"note: no host named {name} was found in the Nix code (see `secretkit hosts list`)",
            err=True,
        )
        echo(f"  to declare it: {result.declare}", err=True)


def _confirm_fingerprint(seen: str, expected: str | None, yes: bool) -> None:
    from secretkit.errors import IntegrityError, UsageError

    if expected is not None:
        if expected.strip() != seen:
            raise IntegrityError(
                f"the host presents {seen}, not the expected {expected.strip()}; nothing was "
                "changed",
                hint="check the fingerprint on the host: ssh-keygen -lf "
                "/etc/ssh/ssh_host_ed25519_key.pub",
            )
        return
    if yes:
        raise UsageError(
            "--yes needs --fingerprint SHA256:… (a key nobody checked would be trusted)"
        )
    if not sys.stdin.isatty():
        raise UsageError(
            "cannot ask for confirmation without a terminal",
            hint=f"pass --fingerprint {seen} --yes after checking it on the host",
        )
    click.confirm("Is this the host's key (compare it on the host)?", abort=True)


@hosts.command("bootstrap")
@click.argument("name")
@click.option(
    "--extra-files",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Directory (outside the repository) for nixos-anywhere --extra-files.",
)
@pass_ctx
def hosts_bootstrap(ctx: Context, name: str, extra_files: Path) -> None:
    """Re-create the --extra-files tree of host NAME from its admin-encrypted host key."""
    from secretkit.commands.hosts import bootstrap

    made = bootstrap(ctx.cwd, name, extra_files)
    for path in made.extra_files:
        echo(f"wrote {path}")
    echo(f"nixos-anywhere --extra-files {extra_files} … installs host {name} with this key")


@hosts.command("remove")
@click.argument("name")
@pass_ctx
def hosts_remove(ctx: Context, name: str) -> None:
    """Remove host NAME: its key anchor, its rule and its key in every rule; every
    file it could read gets a new data key without it (its own file is kept for the
    admins), and the secrets it could read are listed."""
    from secretkit.commands.remove_host import remove_host

    result = remove_host(ctx.cwd, name)
    if not result.change.changed:
        echo(f"host {name} is not in .sops.yaml, nothing to do")
        return
    echo(f"removed host {name}")
    _print_rekeyed(result.rotation.files)
    for rel in result.orphans:
        echo(
            f"note: {rel} is no longer used by any rule; delete it (git rm) when no "
            "configuration needs its values",
            err=True,
        )
    if result.still_in_nix:
        echo(
            f"note: host {name} is still defined in the Nix code and can no longer decrypt "
            "its secrets; remove it from the flake / colmena hive before the next deploy",
            err=True,
        )
    _print_exposed(result.rotation, True, f"the key of {name}")


# --- purge (keep-clean) -----------------------------------------------------
def _stage_progress(clock: list[float]) -> Callable[[str], None]:
    """Which point ``check`` is at, on stderr: redrawn in place on a terminal, else a
    line when the point changes and then about once a second."""
    import time

    tty = sys.stderr.isatty()
    when = clock  # when any progress line was last written (shared with the history's)
    shown = [""]

    def show(name: str) -> None:
        now = time.monotonic()
        if name == shown[0] and now - when[0] < 0.85:
            return  # the history scan's own lines count too: no echo while they flow
        when[0], shown[0] = now, name
        sys.stderr.write(f"\rcheck: {name}…\033[K" if tty else f"check: {name}…\n")
        sys.stderr.flush()

    return show


def _history_progress(clock: list[float] | None = None) -> Callable[[int, int], None] | None:
    """History-scan progress on stderr: a bar redrawn in place on a terminal, else a
    plain line at most once a second (and the last one)."""
    import time

    tty = sys.stderr.isatty()
    last = clock if clock is not None else [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if total == 0:  # still walking the commit graph
            if now - last[0] >= 0.75:
                last[0] = now
                sys.stderr.write(("\r" if tty else "") + "scanning history: walking commits…")
                sys.stderr.write("" if tty else "\n")
                sys.stderr.flush()
            return
        final = done >= total
        if not final and now - last[0] < (0.1 if tty else 0.75):
            return
        last[0] = now
        pct = 100 * done // total if total else 100
        if tty:
            bar = "#" * (pct // 4)
            end = "\n" if final else ""
            sys.stderr.write(f"\rscanning history [{bar:<25}] {done}/{total} blobs{end}")
        else:
            sys.stderr.write(f"scanning history: {done}/{total} blobs ({pct}%)\n")
        sys.stderr.flush()

    return show


@cli.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def purge(ctx: Context, yes: bool) -> None:
    """Replace every secret found in git history by a marker (git-filter-repo).

    Keeps a backup under refs/secretkit/backup/, then tells how to force-push and
    which secrets were exposed and must be rotated at their provider.
    """
    from secretkit.commands.purge import apply_purge, plan_purge
    from secretkit.errors import UsageError

    plan = plan_purge(ctx.cwd, progress=_history_progress())
    if plan.clean:
        echo("history holds no plaintext secret; nothing to purge")
        return
    echo(f"{len(plan.exposed)} secret(s) found in history:")
    for item in plan.exposed:
        echo(f"  {item.describe()}")
    echo(f"refs to rewrite: {', '.join(plan.refs)}")
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("purge rewrites history and needs a confirmation", hint="pass --yes")
        click.confirm("Rewrite history now (a backup ref is kept)?", abort=True)
    result = apply_purge(plan, progress=_history_progress())
    echo(f"history rewritten; backup of the old refs: {result.backup}/")
    if result.remaining:
        echo(
            f"warning: {len(result.remaining)} finding(s) still in the rewritten history "
            "(run secretkit scan --history)",
            err=True,
        )
    for what, command in result.unrewritten:
        echo(f"warning: not rewritten: {what}; delete it: {command}", err=True)
    if result.stashed:
        echo("note: older stash entries (stash@{1}…) still hold old content: git stash list")
    if result.too_short:
        echo(
            f"warning: {result.too_short} value(s) shorter than 4 characters were not replaced "
            "(replacing them in every file would corrupt unrelated text); rotate them",
            err=True,
        )
    if result.allowlist_stale:
        echo(
            "note: the root commit changed, so .secretkit-allow fingerprints no longer match; "
            "re-create the entries (secretkit scan --format json shows the new fingerprints)"
        )
    echo("next:")
    if result.remotes:
        echo("  1. publish the rewritten history (every clone must re-clone afterwards):")
        for command in result.push_commands():
            echo(f"       {command}")
    else:
        echo("  1. no remote is configured; nothing to force-push")
    echo("  2. rotate these secrets at their provider: they were committed, and forks,")
    echo("     clones and caches may still hold them:")
    for item in result.exposed:
        echo(f"       - {item.describe()}")
    echo("     `secretkit exposed` keeps this checklist: where each one is used now and")
    echo("     whether it has been replaced since (`secretkit rotate value NAME`)")
    echo("  3. once the new history is pushed and verified, drop the backup:")
    drop = f"git for-each-ref --format='delete %(refname)' {result.backup}/"
    echo(f"       {drop} | git update-ref --stdin")
    echo("       git reflog expire --expire=now --all && git gc --prune=now")
    if result.remaining or result.unrewritten:
        raise click.exceptions.Exit(1)


# --- check (keep-clean) -----------------------------------------------------
@cli.command()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--source-only",
    is_flag=True,
    help="Check a plain source tree (no .git, no private key, e.g. in `nix flake check`): "
    "the points that need history or keys are listed as not run.",
)
@pass_ctx
def check(ctx: Context, fmt: str, source_only: bool) -> None:
    """Publish gate: exit 0 only when the repository is safe to make public.

    No plaintext secret in the tree or history, every sops file verifies and has the
    recipients its rule names, every secret used in Nix is declared and present in
    its sops file, every host can read its secrets, no decrypted copy in the tree.
    """
    import json

    from secretkit.commands.check import render, run_check

    clock = [0.0]
    report = run_check(
        ctx.cwd,
        progress=_history_progress(clock),
        stage=_stage_progress(clock),
        source_only=source_only,
    )
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")  # clear the progress line before the report
    if fmt == "json":
        echo(json.dumps(report.to_json(), indent=2))
    else:
        for line in render(report):
            echo(line)
    if not report.ok:
        raise click.exceptions.Exit(1)


# --- generate / rotate value / exposed (secret generation) ---------------------


@cli.command()
@click.argument("host", required=False)
@click.argument("name", required=False)
@click.option("--kind", type=click.Choice(_KIND_NAMES), help="What to generate.")
@click.option("--length", type=int, help="Characters (password, alnum) or bytes (hex, base64).")
@click.option("--words", type=int, help="Words of a passphrase (default 6).")
@click.option(
    "--public-out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the public half (wireguard, ssh-ed25519) to this file (.nix: a Nix string).",
)
@click.option("--also-plain", metavar="NAME", help="hashed-password: keep the password as NAME.")
@click.option("--all", "all_", is_flag=True, help="Fill what secrets/generators.toml declares.")
@click.option("--force", metavar="KEY", help="With --all: regenerate this declared secret.")
@pass_ctx
def generate(
    ctx: Context,
    host: str | None,
    name: str | None,
    kind: str | None,
    length: int | None,
    words: int | None,
    public_out: Path | None,
    also_plain: str | None,
    all_: bool,
    force: str | None,
) -> None:
    """Generate a secret into secrets/HOST.yaml at NAME (a/b/c), never printed.

    Public halves (WireGuard, ssh keys) are printed or written to --public-out.
    `generate --all` fills what secrets/generators.toml declares and is missing
    (["HOST/NAME"] or ["NAME"] with hosts = [...], kind = "…", length, words,
    public_out, also_plain); it never overwrites, except the one --force KEY.
    """
    from secretkit.commands.generate import generate_all, generate_one
    from secretkit.errors import UsageError
    from secretkit.generate.model import Options

    if all_:
        if host or name or kind or length or words or public_out or also_plain:
            raise UsageError("--all takes no HOST/NAME and no per-secret options")
        result = generate_all(ctx.cwd, force=force)
    else:
        if host is None or name is None or kind is None:
            raise UsageError(
                "give HOST NAME --kind KIND, or --all",
                hint="e.g. secretkit generate observer grafana/admin_password --kind password",
            )
        if force is not None:
            raise UsageError("--force goes with --all")
        options = Options(length=length, words=words)
        result = generate_one(
            ctx.cwd, host, name, kind, options, public_out=public_out, also_plain=also_plain
        )
    for made in result.made:
        if made.action == "kept":
            echo(f"{made.file}: {made.name} exists, kept")
            continue
        extra = f" (and the password as {made.also_plain})" if made.also_plain else ""
        how = "copied from another host" if made.action == "copied" else f"new {made.kind}"
        echo(f"{made.file}: {made.name}: {how}{extra}")
        if made.public is not None:
            if made.public_out:
                echo(f"  public key written to {made.public_out}")
            else:
                echo(f"  public key: {made.public}")


@cli.command()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@pass_ctx
def exposed(ctx: Context, fmt: str) -> None:
    """Every value ever committed in plaintext (history, and purge's backups), where
    it is used now and whether it was replaced since: a rotation checklist.  Exit 1
    while a value is still in use (plaintext or unchanged in a sops file) or unknown."""
    import json

    from secretkit.commands.exposed import exposed as run

    report = run(ctx.cwd, progress=_history_progress() if fmt == "text" else None)
    if fmt == "json":
        echo(json.dumps(report.to_json(), indent=2))
    elif not report.values:
        echo("no value was ever committed in plaintext (history and purge backups scanned)")
    else:
        echo(f"{len(report.values)} value(s) were committed in plaintext; rotate each one:")
        for item in report.values:
            where = "only in purge's backup refs" if item.in_backup_only else ", ".join(item.paths)
            echo(f"  [{item.status}] {', '.join(item.names)} ({item.preview}) — was in {where}")
            for place in item.plaintext:
                echo(f"      still in plaintext: {place}")
            for place in item.stored:
                name = place.split(": ")[1].split(" ")[0]
                echo(f"      unchanged in {place}")
                echo(f"        new value: secretkit rotate value {name} --from-stdin (or --kind …)")
        for rel in report.unchecked:
            echo(f"note: no identity opens {rel}; values in it could not be compared", err=True)
    if report.to_rotate:
        raise click.exceptions.Exit(1)
