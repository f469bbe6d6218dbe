"""``secretkit generate HOST NAME --kind K`` and ``secretkit generate --all``.

A new value goes straight into the host's sops file (``secrets/<host>.yaml``,
created from its ``.sops.yaml`` rule when missing) and is never returned in clear
text: the result holds only names, files and public halves.  ``generate`` never
replaces a value that exists (``rotate value`` does); ``--all`` fills what
``secrets/generators.toml`` declares and is missing, and ``--force KEY``
regenerates one declared secret.  A shared secret missing on some of its hosts
gets the value the others already hold.  All writes of a run go through one
:class:`~secretkit.atomic.Transaction`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.commands import Line, Shown, out
from secretkit.errors import UsageError, UserError
from secretkit.generate.declared import Declared, public_text
from secretkit.generate.model import Options
from secretkit.generate.store import HostFiles
from secretkit.sensitive import Sensitive
from secretkit.sops.engine import identities_of

if TYPE_CHECKING:
    from secretkit.sops.engine import IdentitySource


@dataclass(frozen=True)
class Made:
    """One (host, name) of a run: what happened, never the value."""

    host: str
    name: str
    file: str
    action: str  # "generated" | "kept" (existed) | "copied" (shared value from a sibling)
    kind: str
    public: str | None = None
    public_out: str | None = None
    also_plain: str | None = None


@dataclass(frozen=True)
class GenerateResult(Shown):
    made: tuple[Made, ...]

    @property
    def written(self) -> tuple[Made, ...]:
        return tuple(m for m in self.made if m.action != "kept")

    def lines(self) -> list[Line]:
        shown = []
        for made in self.made:
            if made.action == "kept":
                shown.append(out(f"{made.file}: {made.name} exists, kept"))
                continue
            extra = f" (and the password as {made.also_plain})" if made.also_plain else ""
            how = "copied from another host" if made.action == "copied" else f"new {made.kind}"
            shown.append(out(f"{made.file}: {made.name}: {how}{extra}"))
            if made.public is not None:
                if made.public_out:
                    shown.append(out(f"  public key written to {made.public_out}"))
                else:
                    shown.append(out(f"  public key: {made.public}"))
        return shown


def generate(
    cwd: Path,
    host: str | None,
    name: str | None,
    *,
    kind: str | None = None,
    length: int | None = None,
    words: int | None = None,
    public_out: Path | None = None,
    also_plain: str | None = None,
    all_: bool = False,
    force: str | None = None,
    identities: IdentitySource = None,
) -> GenerateResult:
    """``secretkit generate``: one secret (HOST NAME --kind KIND), or ``--all``."""
    if all_:
        if host or name or kind or length or words or public_out or also_plain:
            raise UsageError("--all takes no HOST/NAME and no per-secret options")
        return generate_all(cwd, force=force, identities=identities)
    if host is None or name is None or kind is None:
        raise UsageError(
            "give HOST NAME --kind KIND, or --all",
            hint="e.g. secretkit generate observer grafana/admin_password --kind password",
        )
    if force is not None:
        raise UsageError("--force goes with --all")
    options = Options(length=length, words=words)
    return generate_one(
        cwd,
        host,
        name,
        kind,
        options,
        public_out=public_out,
        also_plain=also_plain,
        identities=identities,
    )


def _write(root: Path, files: HostFiles, public: dict[Path, str]) -> None:
    from secretkit.atomic import Transaction
    from secretkit.user_output import write_user_path

    outputs = files.outputs()  # everything encrypted in memory before the first write
    if not outputs and not public:
        return
    inside = {p: t for p, t in public.items() if _inside(root, p)}
    with Transaction(root) as txn:
        for path, data in outputs:
            txn.write(path, data)
        for path, text in inside.items():
            txn.write(path, text.encode("utf-8"), 0o644)
    # A public half the user sends outside the repository (``--public-out /elsewhere``)
    # is not the repository's to journal: it is written once the secret is stored.
    for path, text in public.items():
        if path not in inside:
            write_user_path(root, path, text.encode("utf-8"), mode=0o644)


def _inside(root: Path, path: Path) -> bool:
    return path.absolute().is_relative_to(root.absolute())


def _public_path(root: Path, cwd: Path, given: Path | str | None) -> Path | None:
    if given is None:
        return None
    path = Path(given)
    return path if path.is_absolute() else (cwd / path)


def generate_one(
    cwd: Path,
    host: str,
    name: str,
    kind_name: str,
    options: Options,
    *,
    public_out: Path | None = None,
    also_plain: str | None = None,
    identities: IdentitySource = None,
) -> GenerateResult:
    from secretkit.commands import recover_interrupted
    from secretkit.generate.declared import load
    from secretkit.generate.kinds import kind_for

    root = recover_interrupted(cwd)
    kind = kind_for(kind_name)
    if also_plain is not None and kind.name != "hashed-password":
        raise UsageError("--also-plain is for --kind hashed-password only")
    if kind.name == "hashed-password" and also_plain is None:
        # only the hash would be kept: nobody would know the password (rotate value
        # refuses the same)
        raise UsageError(
            f"a random password for {name} would be stored only as its hash, so nobody "
            "could log in with it",
            hint=f"keep the password too: --also-plain {name.rsplit('/', 1)[0]}/password",
        )
    if public_out is not None and not kind.has_public:
        raise UsageError(f"--kind {kind.name} has no public half: drop --public-out")
    files = HostFiles(root, identities_of(identities))
    rel = files.host_file(host)
    for wanted in (name, also_plain):
        if wanted is not None and files.get(rel, wanted) is not None:
            raise UserError(
                f"{rel} already holds {wanted}; nothing was changed",
                hint=f"replace it everywhere with `secretkit rotate value {wanted}"
                + ("" if any(d.name == wanted for d in load(root)) else f" --kind {kind.name}")
                + "`",
            )
    if options.comment == "":
        options = Options(options.length, options.words, comment=f"{host}:{name}")
    made = kind.generate(options)
    files.set(rel, name, made.value)
    if also_plain is not None and made.plain is not None:
        files.set(rel, also_plain, made.plain)
    out = _public_path(root, cwd, public_out)
    if out is not None and public_out is not None and not _inside(root, out):
        from secretkit.user_output import require_parent

        require_parent(Path(public_out), out)  # before the secret is stored
    public = (
        {out: public_text(out, made.public)} if out is not None and made.public is not None else {}
    )
    _write(root, files, public)
    return GenerateResult(
        (
            Made(
                host,
                name,
                rel,
                "generated",
                kind.name,
                made.public,
                str(public_out) if out is not None else None,
                also_plain,
            ),
        )
    )


def _existing_shared(files: HostFiles, decl: Declared, name: str) -> Sensitive[str] | None:
    for host in decl.hosts:
        value = files.get(files.host_file(host), name)
        if value is not None:
            return value
    return None


def plan_declared(
    files: HostFiles, decl: Declared, *, force: bool
) -> tuple[list[Made], dict[Path, str]]:
    """Set what ``decl`` needs in ``files``; the rows to report and public files."""
    from secretkit.generate.kinds import kind_for

    kind = kind_for(decl.kind)
    rows: list[Made] = []
    names = [decl.name] + ([decl.also_plain] if decl.also_plain else [])
    missing = [
        h
        for h in decl.hosts
        if force or any(files.get(files.host_file(h), n) is None for n in names)
    ]
    public: dict[Path, str] = {}
    values: dict[str, Sensitive[str]] = {}
    action = "generated"
    if missing and not force:
        found = {n: _existing_shared(files, decl, n) for n in names}
        if all(v is not None for v in found.values()):
            values = {n: v for n, v in found.items() if v is not None}
            action = "copied"
    made_public: str | None = None
    if missing and not values:
        made = kind.generate(decl.options)
        values[decl.name] = made.value
        if decl.also_plain and made.plain is not None:
            values[decl.also_plain] = made.plain
        made_public = made.public
        target = decl.public_file(files.root)
        if made.public is not None and target is not None:
            public[target] = public_text(target, made.public)
    for host in decl.hosts:
        rel = files.host_file(host)
        if host not in missing:
            rows.append(Made(host, decl.name, rel, "kept", decl.kind))
            continue
        for n, value in values.items():
            files.set(rel, n, value)
        rows.append(
            Made(
                host, decl.name, rel, action, decl.kind, made_public,
                decl.public_out if public else None, decl.also_plain,
            )
        )  # fmt: skip
    return rows, public


def generate_all(
    cwd: Path, *, force: str | None = None, identities: IdentitySource = None
) -> GenerateResult:
    from secretkit.commands import recover_interrupted
    from secretkit.generate.declared import GENERATORS, load

    root = recover_interrupted(cwd)
    declared = load(root)
    if not declared:
        raise UserError(
            f"{GENERATORS} declares no secrets",
            hint='add a table like ["HOST/NAME"] with kind = "password" (see generate --help)',
        )
    if force is not None and force not in {d.key for d in declared}:
        raise UserError(
            f"{GENERATORS} declares no secret {force!r}",
            hint=f"--force takes a table name of {GENERATORS}",
        )
    files = HostFiles(root, identities_of(identities))
    rows: list[Made] = []
    public: dict[Path, str] = {}
    for decl in declared:
        more, files_out = plan_declared(files, decl, force=decl.key == force)
        rows.extend(more)
        public.update(files_out)
    _write(root, files, public)
    return GenerateResult(tuple(rows))
