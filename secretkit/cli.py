"""The command line: options → one ``commands.*`` call → what its result shows
(:func:`secretkit.cli_output.show`).  Errors and exit codes end in the one error
boundary, :mod:`secretkit.boundary`.  Heavy imports happen inside the commands."""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from secretkit import __version__, running
from secretkit.boundary import release_locks, run, verbose_requested
from secretkit.cli_output import ask, confirm, echo, finish, show
from secretkit.cli_params import KIND_NAMES, PathArg, engine_name
from secretkit.hook_group import HookGroup

if TYPE_CHECKING:
    from secretkit.sops.engine import Engine


@dataclass(frozen=True)
class Context:
    """What every command receives from the global options."""

    cwd: Path
    verbose: bool
    engine_name: str

    @functools.cached_property
    def engine(self) -> Engine:
        """Built once, when a command first needs it (never for ``scan``/``hook``)."""
        from secretkit.sops.engine import engine_for

        return engine_for(self.engine_name, self.cwd)


pass_ctx = click.make_pass_decorator(Context)

_TEXT_OR_JSON = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
# keygen --from-ssh: what opens a host's sops file where only its ssh key is at hand
FROM_SSH = "The age identity of this ssh-ed25519 private key (as ssh-to-age -private-key)."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "directory",
    type=PathArg(file_okay=False, path_type=Path),
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
    from secretkit.sops import ENGINE_NAMES

    cwd = Path.cwd()
    if directory is not None:
        cwd = (cwd / directory).resolve()
        if not cwd.is_dir():
            raise click.BadParameter(f"{directory} is not a directory", param_hint="-C")
    chosen = engine_name(engine)
    if chosen not in ENGINE_NAMES:
        raise click.BadParameter(
            f"SECRETKIT_ENGINE must be 'python' or 'sops', not {chosen!r}", param_hint="--engine"
        )
    ctx.obj = Context(cwd=cwd, verbose=verbose, engine_name=chosen)
    ctx.call_on_close(release_locks)  # a writing command's lock ends with it


def version_text(engine: str | None) -> str:
    """``secretkit --version``: the version and the sops engine a command would use."""
    from secretkit.sops.engine import describe

    return f"secretkit {__version__}\nsops engine: {describe(engine_name(engine))}"


def _show_version(ctx: click.Context, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo(version_text(ctx.params.get("engine")))
    ctx.exit()


def invoke(argv: list[str] | None = None) -> int | None:
    """Run the click CLI on ``argv``; its exit code (errors propagate)."""
    running.start(running.command_words(sys.argv[1:] if argv is None else argv))
    code = cli.main(args=argv, prog_name="secretkit", standalone_mode=False)
    return code if isinstance(code, int) else 0


def main(argv: list[str] | None = None) -> NoReturn:
    """``secretkit`` through the one error boundary."""
    run(lambda: invoke(argv), verbose=verbose_requested(argv))


@cli.command()
@click.argument("paths", nargs=-1, type=PathArg(path_type=Path))
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
@click.option("--output", type=PathArg(path_type=Path), help="Write the report to this file.")
@pass_ctx
def scan(ctx: Context, /, paths: tuple[Path, ...], history: bool, **options: Any) -> None:
    """Find hardcoded secrets; exit 0 when none, 1 when some are found.

    Scans the work tree (tracked and untracked-not-ignored files), the index
    (--staged) or every blob of the history (--history).  Silence a false positive
    with a `# secretkit: allow` comment on its line, or add its fingerprint to
    .secretkit-allow (one per line).
    """
    from secretkit.commands.scan import scan_report
    from secretkit.progress import history_progress

    progress = history_progress() if history else None
    names = [str(p) for p in paths]
    show(scan_report(ctx.cwd, names, history=history, progress=progress, **options))


@cli.command()
@click.argument("file", type=PathArg(path_type=Path))
@click.option("-i", "--in-place", is_flag=True, help="Replace FILE with its encrypted form.")
@click.option("--output", type=PathArg(path_type=Path), help="Write the result to this file.")
@pass_ctx
def encrypt(ctx: Context, file: Path, in_place: bool, output: Path | None) -> None:
    """Encrypt FILE for the recipients of its .sops.yaml creation rule."""
    from secretkit.commands.encrypt import encrypt as run

    show(run(ctx.cwd, file, in_place=in_place, output=output, engine=ctx.engine))


@cli.command()
@click.argument("file", type=PathArg(path_type=Path))
@click.option("--extract", metavar="PATH", help='Print one value or subtree: \'["a"]["b"]\'.')
@click.option(
    "--output",
    type=PathArg(path_type=Path),
    help="Write the plaintext to this file (mode 0600) instead of stdout.",
)
@pass_ctx
def decrypt(ctx: Context, file: Path, extract: str | None, output: Path | None) -> None:
    """Decrypt a sops FILE (MAC verified) to stdout."""
    from secretkit.commands.decrypt import decrypt as run

    show(run(ctx.cwd, file, extract=extract, output=output, engine=ctx.engine))


@cli.command()
@click.argument("file", type=PathArg(path_type=Path))
@pass_ctx
def edit(ctx: Context, file: Path) -> None:
    """Edit a sops FILE in $VISUAL/$EDITOR (a new FILE is created from its rule)."""
    from secretkit.commands.edit import edit as run

    show(run(ctx.cwd, file, engine=ctx.engine))


@cli.command("set")
@click.argument("file", type=PathArg(path_type=Path))
@click.argument("key_path", metavar='\'["a"]["b"]\'')
@click.option("--json", "as_json", is_flag=True, help="Parse stdin as a JSON value.")
@pass_ctx
def set_(ctx: Context, file: Path, key_path: str, as_json: bool) -> None:
    """Set one value in FILE; the value is read from stdin (one trailing newline dropped)."""
    from secretkit.commands.set import set_value, stdin_value

    value = stdin_value(sys.stdin.buffer.read(), as_json=as_json)
    show(set_value(ctx.cwd, file, key_path, value, engine=ctx.engine))


@cli.command()
@click.argument("files", nargs=-1, type=PathArg(path_type=Path))
@pass_ctx
def updatekeys(ctx: Context, files: tuple[Path, ...]) -> None:
    """Re-wrap data keys for the recipients .sops.yaml now names (values unchanged).

    Without FILE: every sops file of the repository (found by its metadata)."""
    from secretkit.commands.updatekeys import updatekeys as run

    show(run(ctx.cwd, files, engine=ctx.engine))


@cli.group()
def rotate() -> None:
    """Key rotation."""


@rotate.command("data-keys")
@click.argument("files", nargs=-1, type=PathArg(path_type=Path))
@pass_ctx
def rotate_data_keys(ctx: Context, files: tuple[Path, ...]) -> None:
    """New data key for FILE… (default: every sops file a rule matches); values kept."""
    from secretkit.commands.rotate import rotate_data_keys as run

    show(run(ctx.cwd, files, engine=ctx.engine))


@rotate.command("host")
@click.argument("name")
@click.option("--age", metavar="AGE_RECIPIENT", help="The host's new age1… key.")
@click.option("--ssh-pubkey", metavar="'ssh-ed25519 …'", help="The host's new ssh ed25519 key.")
@click.option(
    "--ssh-pubkey-file",
    type=PathArg(path_type=Path, dir_okay=False),
    help="A .pub file or ssh-keyscan output with the host's new ed25519 key.",
)
@click.option(
    "--compromised",
    is_flag=True,
    help="List the secrets the old key could read (change them at their provider).",
)
@pass_ctx
def rotate_host(ctx: Context, /, name: str, compromised: bool, **key: Any) -> None:
    """Give host NAME a new key: .sops.yaml updated, and every file of the host gets a
    new data key, so that the old key opens no current file."""
    from secretkit.commands.hosts import recipient_from_options
    from secretkit.commands.rotate_host import rotate_host as run

    recipient = recipient_from_options(ctx.cwd, **key)
    show(run(ctx.cwd, name, recipient, history=compromised, identities=ctx.engine.identities))


@rotate.command("value")
@click.argument("name")
@click.option("--from-stdin", is_flag=True, help="Read the new value from stdin.")
@click.option("--kind", type=click.Choice(KIND_NAMES), help="Generate it as this kind.")
@click.option("--length", type=int, help="With --kind: characters or bytes.")
@click.option("--words", type=int, help="With --kind passphrase: words.")
@pass_ctx
def rotate_value(ctx: Context, /, name: str, from_stdin: bool, **options: Any) -> None:
    """Replace secret NAME (a/b/c) in every sops file that holds it, in one go: a new
    value from stdin, or generated (its kind from secrets/generators.toml or --kind).
    Lists the units to restart (restartUnits of its sops.secrets declarations)."""
    from secretkit.commands.rotate_value import rotate_value as run
    from secretkit.commands.set import stdin_text

    stdin = stdin_text(sys.stdin.buffer.read()) if from_stdin else None
    show(run(ctx.cwd, name, stdin=stdin, identities=ctx.engine.identities, **options))


@cli.command()
@click.option("--output", type=PathArg(path_type=Path), help="Write the identity here (mode 0600).")
@click.option("--from-ssh", "ssh_key", type=PathArg(path_type=Path), metavar="KEY", help=FROM_SSH)
@pass_ctx
def keygen(ctx: Context, output: Path | None, ssh_key: Path | None) -> None:
    """Generate a new age identity; the public key is printed on stderr."""
    from secretkit.commands.keygen import keygen as run

    show(run(ctx.cwd, output, ssh_key=ssh_key, stdout_is_terminal=sys.stdout.isatty()))


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
    from secretkit.git.repo import find_root

    root = find_root(ctx.cwd)
    identities = ctx.engine.identities
    prepared = prepare(
        root, hosts=hosts, dry_run=dry_run, without_admin=without_admin, identities=identities
    )
    show(prepared)
    if prepared.to_apply:
        confirm(yes, prepared.question, "migrate changes files and needs a confirmation")
        echo(prepared.applied(apply(prepared)))


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
    from secretkit.git.repo import find_root

    prepared = command.prepare(find_root(ctx.cwd), layout_mode=layout, dry_run=dry_run)
    show(prepared)
    if prepared.to_apply:
        confirm(yes, prepared.question, "import changes files and needs a confirmation")
        echo(prepared.applied(command.apply(prepared)))


@cli.group(cls=HookGroup, invoke_without_command=True)
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

    files = click_ctx.meta.get("secretkit.hook.files", ())
    report = run_hook(ctx.cwd, files, strict=strict, allow_unscanned=allow_unscanned)
    for line in render(report):
        click.echo(line)
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    finish(1 if report.blocked else 0)


@hook.command("install")
@pass_ctx
def hook_install(ctx: Context) -> None:
    """Install the plain-git pre-commit hook (an existing hook is kept and chained)."""
    from secretkit.commands.hook_install import install_lines

    for line in install_lines(ctx.cwd):
        click.echo(line)


@hook.command("uninstall")
@pass_ctx
def hook_uninstall(ctx: Context) -> None:
    """Remove the plain-git hook installed by `hook install`; a chained hook is restored."""
    from secretkit.commands.hook_install import uninstall_lines

    for line in uninstall_lines(ctx.cwd):
        click.echo(line)


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=PathArg(file_okay=False, path_type=Path),
    help="Work here (kept) instead of a temporary directory.",
)
@click.option("--keep", is_flag=True, help="Keep the temporary directory and print its path.")
def demo(directory: Path | None, keep: bool) -> None:
    """Run scan → migrate → scan on a copy of the example homelab with generated keys."""
    from secretkit.commands.demo import demo as run

    show(run(directory, keep=keep))


@cli.command()
@click.option("--admin", required=True, metavar="AGE_RECIPIENT", help="Admin key (age1…).")
@click.option("--admin-name", metavar="NAME", help="Anchor name (default: $USER, else login).")
@pass_ctx
def init(ctx: Context, admin: str, admin_name: str | None) -> None:
    """Create .sops.yaml at the repository root with the admin key."""
    from secretkit.commands.init import init as run

    show(run(ctx.cwd, admin, admin_name))


@cli.group()
def hosts() -> None:
    """Hosts and their age keys in .sops.yaml."""


@hosts.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@pass_ctx
def hosts_list(ctx: Context, fmt: str) -> None:
    """Hosts found in the Nix code and in .sops.yaml, with their keys."""
    from secretkit.commands.hosts import list_hosts

    show(list_hosts(ctx.cwd), fmt)


@hosts.command("add")
@click.argument("name")
@click.option("--age", metavar="AGE_RECIPIENT", help="The host's age1… key.")
@click.option("--ssh-pubkey", metavar="'ssh-ed25519 …'", help="The host's ssh ed25519 public key.")
@click.option(
    "--ssh-pubkey-file",
    type=PathArg(path_type=Path, dir_okay=False),
    help="A .pub file or ssh-keyscan output with the host's ed25519 key.",
)
@click.option(
    "--generate-host-key",
    is_flag=True,
    help="Make a new ed25519 host key (private key kept for the admins only).",
)
@click.option(
    "--extra-files",
    type=PathArg(path_type=Path, file_okay=False),
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
def hosts_add(ctx: Context, /, name: str, **options: Any) -> None:
    """Add host NAME: its key anchor and a rule for secrets/NAME.yaml (an existing
    secrets/NAME.yaml is re-wrapped for it)."""
    from secretkit.commands.hosts import add_host

    asking = ask if sys.stdin.isatty() else None
    show(
        add_host(ctx.cwd, name, show=show, ask=asking, identities=ctx.engine.identities, **options)
    )


@hosts.command("bootstrap")
@click.argument("name")
@click.option(
    "--extra-files",
    type=PathArg(path_type=Path, file_okay=False),
    required=True,
    help="Directory (outside the repository) for nixos-anywhere --extra-files.",
)
@pass_ctx
def hosts_bootstrap(ctx: Context, name: str, extra_files: Path) -> None:
    """Re-create the --extra-files tree of host NAME from its admin-encrypted host key."""
    from secretkit.commands.hosts import bootstrap

    show(bootstrap(ctx.cwd, name, extra_files, identities=ctx.engine.identities))


@hosts.command("remove")
@click.argument("name")
@pass_ctx
def hosts_remove(ctx: Context, name: str) -> None:
    """Remove host NAME: its key anchor, its rule and its key in every rule; every
    file it could read gets a new data key without it (its own file is kept for the
    admins), and the secrets it could read are listed."""
    from secretkit.commands.rotate_host import remove_host

    show(remove_host(ctx.cwd, name, identities=ctx.engine.identities))


@cli.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def purge(ctx: Context, yes: bool) -> None:
    """Replace every secret found in git history by a marker (git-filter-repo).

    Keeps a backup under refs/secretkit/backup/, then tells how to force-push and
    which secrets were exposed and must be rotated at their provider.
    """
    from secretkit.commands import purge as command
    from secretkit.progress import history_progress

    plan = command.plan_purge(ctx.cwd, progress=history_progress())
    echo(command.plan_lines(plan))
    if plan.clean:
        return
    question = "Rewrite history now (a backup ref is kept)?"
    confirm(yes, question, "purge rewrites history and needs a confirmation")
    result = command.apply_purge(plan, progress=history_progress())
    echo(command.result_lines(result))
    finish(command.result_exit_code(result))


@cli.command()
@_TEXT_OR_JSON
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
    from secretkit.progress import clear_line, history_progress, stage_progress

    clock = [0.0]
    progress, stage = history_progress(clock), stage_progress(clock)
    report = run_check(ctx.cwd, progress=progress, stage=stage, source_only=source_only)
    clear_line()  # the progress line, before the report
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        for line in render(report):
            click.echo(line)
    finish(0 if report.ok else 1)


@cli.command()
@click.argument("host", required=False)
@click.argument("name", required=False)
@click.option("--kind", type=click.Choice(KIND_NAMES), help="What to generate.")
@click.option("--length", type=int, help="Characters (password, alnum) or bytes (hex, base64).")
@click.option("--words", type=int, help="Words of a passphrase (default 6).")
@click.option(
    "--public-out",
    type=PathArg(path_type=Path, dir_okay=False),
    help="Write the public half (wireguard, ssh-ed25519) to this file (.nix: a Nix string).",
)
@click.option("--also-plain", metavar="NAME", help="hashed-password: keep the password as NAME.")
@click.option("--all", "all_", is_flag=True, help="Fill what secrets/generators.toml declares.")
@click.option("--force", metavar="KEY", help="With --all: regenerate this declared secret.")
@pass_ctx
def generate(ctx: Context, /, host: str | None, name: str | None, **options: Any) -> None:
    """Generate a secret into secrets/HOST.yaml at NAME (a/b/c), never printed.

    Public halves (WireGuard, ssh keys) are printed or written to --public-out.
    `generate --all` fills what secrets/generators.toml declares and is missing
    (["HOST/NAME"] or ["NAME"] with hosts = [...], kind = "…", length, words,
    public_out, also_plain); it never overwrites, except the one --force KEY.
    """
    from secretkit.commands.generate import generate as run

    show(run(ctx.cwd, host, name, identities=ctx.engine.identities, **options))


@cli.command()
@_TEXT_OR_JSON
@click.option("--rotated", multiple=True, metavar="SK2", help="Value changed at its provider.")
@pass_ctx
def exposed(ctx: Context, fmt: str, rotated: tuple[str, ...]) -> None:
    """Every value ever committed in plaintext (history, and purge's backups and record)
    and whether it was rotated since: a checklist.  Exit 1 until all are rotated."""
    from secretkit.commands.exposed import exposed as run
    from secretkit.progress import history_progress

    progress = history_progress() if fmt == "text" else None
    show(run(ctx.cwd, progress=progress, identities=ctx.engine.identities, rotated=rotated), fmt)
