"""``secretkit hosts list|add|bootstrap|remove``: the hosts and their keys in ``.sops.yaml``.

``add`` takes the key as ``--age age1…``, ``--ssh-pubkey 'ssh-ed25519 …'`` or
``--ssh-pubkey-file F`` (a ``.pub`` file or ``ssh-keyscan`` output) and always
writes the ``age1…`` form; an existing file the new rule matches is re-wrapped for
the host in the same transaction (:mod:`secretkit.keys.onboarding`).
:func:`add_generated` makes the host key itself (``--generate-host-key``, kept
for the admins only, :mod:`secretkit.keys.host_keys`) and :func:`bootstrap`
re-creates its nixos-anywhere ``--extra-files`` tree; :func:`_keyscan` fetches a
running host's key (:mod:`secretkit.keys.keyscan`) for the CLI to confirm.
``hosts remove`` lives in :mod:`secretkit.commands.remove_host` (it re-keys the
files the host could read, on top of :func:`secretkit.keys.sops_yaml_edits.remove_host_text`).
``hosts remove`` lives in :mod:`secretkit.commands.rotate_host` (it re-keys the
files the host could read, on top of :func:`secretkit.keys.sops_yaml_edits.remove_host_text`).
``list`` joins what discovery finds in the Nix code with what ``.sops.yaml`` holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.commands import Line, Shown, err, out, recover_interrupted
from secretkit.errors import UsageError, UserError
from secretkit.git.repo import find_root
from secretkit.keys import sops_yaml
from secretkit.keys.sops_yaml_edits import Change
from secretkit.layouts.sops_nix import host_key, host_secrets_path
from secretkit.nix.hosts.declare import declare_hint

if TYPE_CHECKING:
    from secretkit.keys.host_keys import HostKey
    from secretkit.nix.hosts import Inventory
    from secretkit.sops.engine import IdentitySource


@dataclass(frozen=True)
class HostChange(Shown):
    name: str
    recipient: str | None
    change: Change
    in_nix: bool | None = None  # add: whether discovery found a host of that name
    rekeyed: tuple[str, ...] = ()  # existing files re-wrapped for the new host
    host_key_file: str | None = None  # --generate-host-key: the admins-only key file
    declare: str = ""  # add, when not in the Nix code: what to declare, where
    own_key: str | None = None  # add: the key the host's sops-nix is told to use instead

    def lines(self) -> list[Line]:
        name = self.name
        if self.change.changed:
            shown = [
                out(
                    f"added host {name} ({self.recipient}) and a rule for {host_secrets_path(name)}"
                )
            ]
        else:
            shown = [out(f"host {name} already present with this key, nothing to do")]
        shown += [out(f"{rel}: re-wrapped for host {name}") for rel in self.rekeyed]
        if self.in_nix is False:
            shown.append(
                err(
                    f"note: no host named {name} was found in the Nix code "
                    "(see `secretkit hosts list`)"
                )
            )
            shown.append(
                err(
                    f"  if it is a NixOS host, declare it: {self.declare} (the key of a user's "
                    "home-manager or another configuration needs nothing more)"
                )
            )
        if self.own_key:
            shown.append(
                err(
                    f"note: host {name}'s sops-nix decrypts with the key its modules name "
                    f"({self.own_key}): the key added must be the public half of that one, "
                    "or nothing decrypts there"
                )
            )
        return shown


@dataclass(frozen=True)
class HostRow:
    host: str
    key: str | None
    source: str  # "flake", "colmena", "hosts-dir" (joined with "+"), or ".sops.yaml only"
    entry_modules: tuple[str, ...]
    modules: int
    rule: bool  # a creation rule for secrets/<host>.yaml (where migrate writes)
    # the path_regex of each other rule that lists the host's key (its own layout:
    # hosts/<host>/secrets.yaml)
    other_rules: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "host": self.host,
            "key": self.key,
            "source": self.source,
            "entry_modules": list(self.entry_modules),
            "modules": self.modules,
            "rule": self.rule,
            "other_rules": list(self.other_rules),
        }

    def rule_cell(self) -> str:
        if self.rule:
            return "yes"
        return ("no; " + " ".join(self.other_rules)) if self.other_rules else "no"


@dataclass(frozen=True)
class HostList(Shown):
    rows: list[HostRow]
    unresolved: list[tuple[str, str, tuple[str, ...]]]  # (path, reason, hosts using it)
    external: list[tuple[str, str]]  # (path, "line N: name") modules from inputs/nixpkgs

    def to_json(self) -> dict[str, object]:
        return {
            "version": 1,
            "hosts": [row.to_json() for row in self.rows],
            "unresolved": [
                {"path": p, "reason": r, "hosts": list(h)} for p, r, h in self.unresolved
            ],
            "external": [{"path": p, "module": m} for p, m in self.external],
        }

    def lines(self) -> list[Line]:
        header = ("HOST", "KEY", "SOURCE", "MODULES", "RULE", "ENTRY MODULES")
        table = [
            (
                row.host,
                row.key or "-",
                row.source,
                str(row.modules),
                row.rule_cell(),
                ", ".join(row.entry_modules) or "-",
            )
            for row in self.rows
        ]
        widths = [max(len(r[i]) for r in [header, *table]) for i in range(5)]
        shown = [
            out("  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)) + "  " + r[5])
            for r in [header, *table]
        ]
        for path, reason, users in self.unresolved:
            who = f" (host {', '.join(users)})" if users else ""
            shown.append(err(f"unresolved: {path}: {reason}{who}"))
        if not self.rows and not self.unresolved:
            shown.append(err(NO_HOSTS))
        return shown


# What an empty host list means: what was looked for, so that no list reads as "none".
NO_HOSTS = (
    "no host found: secretkit reads flake.nix's outputs (nixosConfigurations, colmena, "
    "deploy-rs, flake-parts, clan, snowfall-lib), a hive.nix, hosts/<h>/default.nix "
    "directories and a top-level configuration.nix; none of them defines a host here"
)


def check_add_options(
    age: str | None,
    ssh_pubkey: str | None,
    ssh_pubkey_file: Path | None,
    generate_host_key: bool,
    extra_files: Path | None,
    keyscan: str | None,
    fingerprint: str | None,
    yes: bool,
) -> None:
    """``hosts add``: the option combinations that make sense."""
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


def recipient_from_options(
    cwd: Path, age: str | None, ssh_pubkey: str | None, ssh_pubkey_file: Path | None
) -> str:
    """Exactly one of the three key options, as an ``age1…`` recipient."""
    given = [x for x in (age, ssh_pubkey, ssh_pubkey_file) if x is not None]
    if len(given) != 1:
        raise UsageError(
            "give exactly one of --age, --ssh-pubkey, --ssh-pubkey-file",
            hint="e.g. --ssh-pubkey-file /etc/ssh/ssh_host_ed25519_key.pub",
        )
    if age is not None:
        from secretkit.sops.keysources.bech32 import normalize_age_recipient

        return normalize_age_recipient(age)
    from secretkit.keys.ssh_to_age import ssh_pubkey_file_to_age, ssh_pubkey_to_age

    if ssh_pubkey is not None:
        return ssh_pubkey_to_age(ssh_pubkey)
    assert ssh_pubkey_file is not None
    path = ssh_pubkey_file if ssh_pubkey_file.is_absolute() else cwd / ssh_pubkey_file
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UserError(
            f"cannot read {ssh_pubkey_file}: {exc.strerror}",
            hint="pass the host's ssh_host_ed25519_key.pub",
        ) from None
    return ssh_pubkey_file_to_age(text)


def add(cwd: Path, name: str, recipient: str, *, identities: IdentitySource = None) -> HostChange:
    """Register host ``name`` with ``recipient``; existing files its rule matches are
    re-wrapped for it (one transaction with the ``.sops.yaml`` edit)."""
    return _add(cwd, name, recipient, identities=identities)


def _add(
    cwd: Path,
    name: str,
    recipient: str,
    *,
    identities: IdentitySource = None,
    host_key: HostKey | None = None,
) -> HostChange:
    from secretkit.atomic import Transaction
    from secretkit.keys.onboarding import plan_add
    from secretkit.layouts.clan import read_clan
    from secretkit.nix.hosts import discover
    from secretkit.sops.engine import identities_of

    root = recover_interrupted(cwd)  # a half-done rotate/remove is rolled back first
    if read_clan(root, []) is not None and name not in sops_yaml.read_keys(root).hosts:
        # clan reads machine keys from its own folders; clan's sops module ignores
        # .sops.yaml (which such a repository may keep for files outside clan)
        if (root / "sops" / "machines" / name / "key.json").is_file():
            raise UserError(
                f"{name} is a clan machine already, with the age key in "
                f"sops/machines/{name}/key.json (clan makes and deploys it: the ssh host "
                "key is not it); nothing to add",
                hint=f"to give it another key: clan secrets machines add --force {name} "
                "<its new age key>",
            )
        raise UserError(
            f"this is a clan-core repository: clan keeps machine keys in "
            f"sops/machines/<name>/key.json, not in {sops_yaml.SOPS_YAML}",
            hint=f"clan secrets machines add {name} {recipient}",
        )
    plan = plan_add(root, name, recipient, lambda: identities_of(identities), host_key=host_key)
    if plan.writes:
        with Transaction(root) as txn:
            for path, data in plan.writes:
                txn.write(path, data)
    inventory = discover(root)
    in_nix = name in inventory.hosts
    declare = "" if in_nix else declare_hint(inventory, name)
    return HostChange(
        name=name,
        recipient=recipient,
        change=plan.change,
        in_nix=in_nix,
        rekeyed=plan.rekeyed,
        host_key_file=plan.host_key_file,
        declare=declare,
        own_key=_own_key(root, inventory, name) if in_nix else None,
    )


def _own_key(root: Path, inventory: Inventory, name: str) -> str | None:
    from secretkit.nix.sops_refs import nix_facts, own_key

    host = inventory.hosts[name]
    modules = sorted(m.as_posix() for m in host.modules - host.home_modules)
    return own_key(nix_facts(modules, lambda rel: _read(root / rel)), modules)


@dataclass(frozen=True)
class Generated(Shown):
    host: HostChange
    public: str  # the new ssh host key's public line
    extra_files: tuple[Path, ...]  # written outside the repository (private key first)
    key_file_ignored: bool = False  # a .gitignore rule excludes host.host_key_file
    key_path_unread: bool = False  # its modules name the key's file in a way not read

    def lines(self) -> list[Line]:
        """What ``hosts add --generate-host-key`` did."""
        name = self.host.name
        kept = self.host.host_key_file
        shown = [
            out(f"new ssh host key for {name}: {self.public}"),
            out(f"its private key is in {kept}, encrypted for the admins only"),
        ]
        if self.key_file_ignored:  # (secrets/.gitignore with `*`): a clone would lack it
            shown.append(
                err(
                    f"note: git ignores {kept} (`git check-ignore -v {kept}` names the rule), "
                    f"so a clone cannot run `secretkit hosts bootstrap {name}`; "
                    f"commit it with: git add -f {kept}"
                )
            )
        shown += [out(f"wrote {path}") for path in self.extra_files]
        shown += self.unread_note()
        if not self.extra_files:
            shown.append(
                out(
                    f"next: secretkit hosts bootstrap {name} --extra-files DIR (for nixos-anywhere)"
                )
            )
        return shown + self.host.lines()

    def unread_note(self) -> list[Line]:
        if not (self.key_path_unread and self.extra_files):
            return []
        return [
            err(
                f"note: {self.host.name}'s modules name the file its sops-nix reads the key "
                "from (services.openssh.hostKeys or sops.age.sshKeyPaths) in a way secretkit "
                "cannot read: the key was written to etc/ssh; move both files to that path "
                "under the --extra-files directory before installing, or no secret decrypts "
                "there"
            )
        ]


@dataclass(frozen=True)
class Bootstrapped(Shown):
    made: Generated
    directory: Path  # --extra-files as given

    def lines(self) -> list[Line]:
        shown = [out(f"wrote {path}") for path in self.made.extra_files]
        name = self.made.host.name
        installs = f"installs host {name} with this key"
        shown.append(out(f"nixos-anywhere --extra-files {self.directory} … {installs}"))
        return shown + self.made.unread_note()


def add_generated(
    cwd: Path, name: str, extra_files: Path | None, *, identities: IdentitySource = None
) -> Generated:
    """A new ed25519 host key: the host registered by its ``age1…`` form, the private
    key stored for the admins only, and the nixos-anywhere ``--extra-files`` tree."""
    from secretkit.git.objects import ignored
    from secretkit.keys.host_keys import new_host_key, write_extra_files

    root = find_root(cwd)
    key_path, unread = _key_path(root, name)
    if extra_files is not None:
        _outside(root, cwd, extra_files)
        # A new key never equals one already there: refused before the host is added
        # (after, the user's way out, another directory, would meet "already added").
        there = _abs(cwd, extra_files) / key_path
        if there.exists() or there.is_symlink():
            raise UserError(
                f"{there} already holds a host key; nothing was changed",
                hint="remove it or choose another --extra-files directory",
            )
    key = new_host_key(name)
    change = _add(cwd, name, key.recipient, identities=identities, host_key=key)
    hidden = bool(change.host_key_file and ignored(root, [change.host_key_file]))
    if extra_files is None:
        return Generated(change, key.public, (), hidden)
    try:
        written = write_extra_files(_abs(cwd, extra_files), key, root, key_path)
    except (OSError, UserError) as exc:
        reason = exc.message if isinstance(exc, UserError) else exc.strerror or str(exc)
        raise UserError(
            f"host {name} was added, but its --extra-files were not written: {reason}",
            hint=f"write them from the stored key: secretkit hosts bootstrap {name} "
            "--extra-files DIR",
        ) from None
    return Generated(change, key.public, tuple(written), hidden, unread)


def bootstrap(
    cwd: Path, name: str, extra_files: Path, *, identities: IdentitySource = None
) -> Bootstrapped:
    """Re-create the ``--extra-files`` tree from the admin-encrypted host key."""
    from secretkit.keys.host_keys import host_key_file, key_from_plain, write_extra_files
    from secretkit.sops import document, operations
    from secretkit.sops.engine import identities_of

    root = recover_interrupted(cwd)
    sops_yaml.validate_name(name)
    _outside(root, cwd, extra_files)
    rel = host_key_file(name)
    path = root / rel
    if not path.exists():
        raise UserError(
            f"{rel} does not exist: host {name} has no key generated by secretkit",
            hint=f"secretkit hosts add {name} --generate-host-key --extra-files DIR",
        )
    plain = operations.decrypt_bytes(
        operations.read_input(path), document.format_for_path(rel), identities_of(identities),
        source=rel,
    )  # fmt: skip
    key = key_from_plain(plain, rel)
    current = sops_yaml.read_keys(root).hosts.get(name)
    if current != key.recipient:
        raise UserError(
            f"the key in {rel} is not host {name}'s key in .sops.yaml "
            f"({current or 'none'}); nothing was written",
            hint=f"the host was rotated to another key since, and {rel} holds its old key, "
            f"which would not decrypt: delete it (git rm {rel}), or store the new key there",
        )
    key_path, unread = _key_path(root, name)
    written = write_extra_files(_abs(cwd, extra_files), key, root, key_path)
    change = HostChange(name, key.recipient, Change(root / sops_yaml.SOPS_YAML, False))
    return Bootstrapped(Generated(change, key.public, tuple(written), False, unread), extra_files)


def _key_path(root: Path, name: str) -> tuple[str, bool]:
    """Where in ``--extra-files`` the host's key goes: the file its modules have sops-nix
    read (``services.openssh.hostKeys`` under ``/persist`` on an impermanent host),
    else ``etc/ssh/ssh_host_ed25519_key``; and whether they name one secretkit cannot
    read (then that default, and a note)."""
    from secretkit.keys.host_keys import KEY_PATH
    from secretkit.nix.hosts import discover
    from secretkit.plan.hostkeys import UNREAD, key_file

    host = discover(root).hosts.get(name)
    if host is None:
        return KEY_PATH, False
    modules = sorted(m.as_posix() for m in host.modules - host.home_modules)
    sources = {m: data for m in modules for data in [_read(root / m)] if data is not None}
    found = key_file(sources, modules)
    if found is None or found == UNREAD:
        return KEY_PATH, found == UNREAD
    return found.lstrip("/"), False


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _abs(cwd: Path, path: Path) -> Path:
    return path if path.is_absolute() else cwd / path


def _outside(root: Path, cwd: Path, directory: Path) -> None:
    target = _abs(cwd, directory).resolve()
    if target == root.resolve() or target.is_relative_to(root.resolve()):
        raise UserError(
            f"--extra-files {directory} is inside the repository: the private host key "
            "must not land in the work tree; nothing was changed",
            hint=f"give a directory outside the repository, e.g. /tmp/{root.name}-extra-files",
        )


@dataclass(frozen=True)
class Scanned(Shown):
    target: str
    port: int | None
    source: str
    line: str
    fingerprint: str
    recipient: str

    def lines(self) -> list[Line]:
        where = f"{self.target}:{self.port}" if self.port else self.target
        return [out(f"{where} ({self.source}) presents ssh-ed25519 key {self.fingerprint}")]


def must_ask(seen: str, expected: str | None, yes: bool, *, can_ask: bool) -> bool:
    """Whether the user must confirm the fingerprint ``seen`` (``hosts add --keyscan``);
    a mismatch with ``expected``, or no way to ask, is refused."""
    if expected is not None:
        if expected.strip() != seen:
            from secretkit.errors import IntegrityError

            raise IntegrityError(
                f"the host presents {seen}, not the expected {expected.strip()}; nothing was "
                "changed",
                hint="check the fingerprint on the host: ssh-keygen -lf "
                "/etc/ssh/ssh_host_ed25519_key.pub",
            )
        return False
    if yes:
        raise UsageError(
            "--yes needs --fingerprint SHA256:… (a key nobody checked would be trusted)"
        )
    if not can_ask:
        raise UsageError(
            "cannot ask for confirmation without a terminal",
            hint=f"pass --fingerprint {seen} --yes after checking it on the host",
        )
    return True


def _keyscan(cwd: Path, name: str, target: str | None) -> Scanned:
    """The ed25519 key host ``name`` presents (nothing is written): at ``target``, else
    where colmena/deploy-rs deploy it, else at ``name`` itself."""
    from secretkit.keys import keyscan as ks
    from secretkit.keys.ssh_to_age import ssh_pubkey_to_age

    root = find_root(cwd)
    sops_yaml.validate_name(name)
    if target:
        host, port = ks.parse_target(target)
        found = ks.Target(host, port, "argument")
    else:
        found = ks.deploy_target(root, name) or ks.Target(name, None, "host name")
    try:
        line = ks.scan(found.host, found.port)
    except UserError as exc:
        if found.source != "host name":
            raise
        raise UserError(
            f"{exc.message} (no deploy target of {name} was read from the Nix code: its "
            "name was scanned)",
            hint=f"give the address: secretkit hosts add {name} --keyscan HOST[:PORT]",
        ) from None
    return Scanned(
        found.host, found.port, found.source, line, ks.fingerprint(line), ssh_pubkey_to_age(line)
    )


def add_host(
    cwd: Path,
    name: str,
    *,
    age: str | None = None,
    ssh_pubkey: str | None = None,
    ssh_pubkey_file: Path | None = None,
    generate_host_key: bool = False,
    extra_files: Path | None = None,
    keyscan: str | None = None,
    fingerprint: str | None = None,
    yes: bool = False,
    show: Callable[[Shown], None] = lambda shown: None,
    ask: Callable[[str], None] | None = None,
    identities: IdentitySource = None,
) -> HostChange | Generated:
    """``secretkit hosts add``: with a key given, a new key made (``generate_host_key``)
    or the key the host presents (``keyscan``: ``show`` gets it before ``ask``, None
    when there is no terminal to ask at, has to confirm it)."""
    options = (age, ssh_pubkey, ssh_pubkey_file, generate_host_key, extra_files, keyscan)
    check_add_options(*options, fingerprint, yes)
    if generate_host_key:
        return add_generated(cwd, name, extra_files, identities=identities)
    if keyscan is not None:
        scanned = _keyscan(cwd, name, keyscan or None)
        show(scanned)
        if must_ask(scanned.fingerprint, fingerprint, yes, can_ask=ask is not None) and ask:
            ask("Is this the host's key (compare it on the host)?")
        return add(cwd, name, scanned.recipient, identities=identities)
    recipient = recipient_from_options(cwd, age, ssh_pubkey, ssh_pubkey_file)
    return add(cwd, name, recipient, identities=identities)


def list_hosts(cwd: Path) -> HostList:
    from secretkit.nix.hosts import discover

    root = find_root(cwd)
    inventory = discover(root)
    config = sops_yaml.read_keys(root)
    clan_keys: dict[str, frozenset[str]] = {}
    if any("clan" in h.source for h in inventory.hosts.values()):
        from secretkit.layouts.clan import read_clan

        clan = read_clan(root, [])
        clan_keys = clan.machine_keys if clan is not None else {}
    rows: list[HostRow] = []
    for name in sorted(set(inventory.hosts) | set(config.hosts)):
        host = inventory.hosts.get(name)
        key = host_key(config.hosts, config.keys, name)
        if host is not None and "clan" in host.source and clan_keys.get(name):
            # (clan reads a machine's key from sops/machines/<name>/key.json, never from
            # .sops.yaml: an anchor of that name there may be a stale one)
            key = sorted(clan_keys[name])[0]
        own = config.rule_for(host_secrets_path(name))  # as sops picks
        rows.append(
            HostRow(
                host=name,
                key=key,
                source=host.source if host is not None else ".sops.yaml only",
                entry_modules=tuple(p.as_posix() for p in host.entry_modules) if host else (),
                modules=len(host.modules) if host is not None else 0,
                rule=own is not None,
                other_rules=tuple(
                    r.path_regex or "(any file)"
                    for r in config.rules
                    if key is not None and key in r.recipients and r is not own
                ),
            )
        )
    unresolved = [
        (note.file.as_posix(), note.text, tuple(sorted(inventory.hosts_of_note(note))))
        for note in inventory.notes
    ]
    external = [(p.as_posix(), what) for p, what in inventory.external]
    return HostList(rows=rows, unresolved=unresolved, external=external)
