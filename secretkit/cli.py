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
@pass_ctx
def migrate(ctx: Context, dry_run: bool, yes: bool, hosts: tuple[str, ...]) -> None:
    """Move hardcoded secrets in Nix files into per-host sops files read by sops-nix."""
    from secretkit.commands.migrate import apply, prepare
    from secretkit.errors import UsageError
    from secretkit.keys.sops_yaml import find_root

    prepared = prepare(find_root(ctx.cwd), hosts=hosts, dry_run=dry_run)
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


# --- hook, purge, check (keep-clean) ---------------------------------------
class _HookGroup(click.Group):
    """``hook [FILE…]`` runs the hook; ``hook install`` is a subcommand.

    click cannot combine a variadic argument with subcommands, so the group takes
    its FILE arguments itself: anything that is not a subcommand name (or help) is
    a file, and ``--`` ends the options so that a file named ``install`` or ``-x`` is
    still a file (the pre-commit entry is ``secretkit hook --``).
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and (args[0] in self.commands or args[0] in ctx.help_option_names):
            return super().parse_args(ctx, args)
        ctx.meta["secretkit.hook.files"] = tuple(args[1:] if args[:1] == ["--"] else args)
        return super().parse_args(ctx, [])

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return ["[--] [FILE]...", "|", "install"]


@cli.group(cls=_HookGroup, invoke_without_command=True)
@click.pass_context
@pass_ctx
def hook(ctx: Context, click_ctx: click.Context) -> None:
    """Block a commit that adds a plaintext secret or a decrypted secrets file.

    Judges the staged content (the index) of FILE… — or, without FILE, of every
    path the commit adds or changes.  Exit 1 blocks the commit.
    """
    if click_ctx.invoked_subcommand is not None:
        return
    from secretkit.commands.hook import render, run_hook

    report = run_hook(ctx.cwd, click_ctx.meta.get("secretkit.hook.files", ()))
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
@pass_ctx
def hosts_add(
    ctx: Context, name: str, age: str | None, ssh_pubkey: str | None, ssh_pubkey_file: Path | None
) -> None:
    """Add host NAME: its key anchor and a rule for secrets/NAME.yaml."""
    from secretkit.commands.hosts import add, recipient_from_options

    recipient = recipient_from_options(ctx.cwd, age, ssh_pubkey, ssh_pubkey_file)
    result = add(ctx.cwd, name, recipient)
    if result.change.changed:
        echo(f"added host {name} ({recipient}) and a rule for secrets/{name}.yaml")
    else:
        echo(f"host {name} already present with this key, nothing to do")
    if result.in_nix is False:
        echo(
            f"note: no host named {name} was found in the Nix code (see `secretkit hosts list`)",
            err=True,
        )
        echo(f"  to declare it: {result.declare}", err=True)


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
    echo("  3. once the new history is pushed and verified, drop the backup:")
    drop = f"git for-each-ref --format='delete %(refname)' {result.backup}/"
    echo(f"       {drop} | git update-ref --stdin")
    echo("       git reflog expire --expire=now --all && git gc --prune=now")
    if result.remaining:
        raise click.exceptions.Exit(1)


# --- check (keep-clean) -----------------------------------------------------
@cli.command()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@pass_ctx
def check(ctx: Context, fmt: str) -> None:
    """Publish gate: exit 0 only when the repository is safe to make public.

    No plaintext secret in the tree or history, every sops file verifies and has the
    recipients its rule names, every secret used in Nix is declared and present in
    its sops file, every host can read its secrets, no decrypted copy in the tree.
    """
    import json

    from secretkit.commands.check import render, run_check

    clock = [0.0]
    report = run_check(ctx.cwd, progress=_history_progress(clock), stage=_stage_progress(clock))
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")  # clear the progress line before the report
    if fmt == "json":
        echo(json.dumps(report.to_json(), indent=2))
    else:
        for line in render(report):
            echo(line)
    if not report.ok:
        raise click.exceptions.Exit(1)
