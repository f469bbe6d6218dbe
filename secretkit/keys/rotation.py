"""Rotation plans: which sops files a host change touches, and what each one becomes.

A plan is computed from what is on disk (``.sops.yaml`` and the sops files) and
changes nothing; :mod:`secretkit.keys.host_rekey` (``rotate host``, ``hosts
remove``) and :func:`secretkit.commands.updatekeys.updatekeys_tree` execute plans
(in memory first, then one :class:`~secretkit.atomic.Transaction`).

Public API::

    sops_file_infos(root: Path, base: Path | None = None) -> list[SopsFileInfo]
        # the sops files below ``base`` (secretkit.sops.finder: by content, never
        # by name), with their recipients and the names of their encrypted values
    plan_rotate_host(root, host, new_recipient, files=None) -> HostPlan
    plan_remove_host(root, host, files=None) -> HostPlan
    plan_updatekeys(config: SopsConfig, files) -> list[FileOp]
    rekey(ops, identities) -> Rekeyed          # new bytes per file, failures collected
    exposed_names(sops) -> tuple[str, ...]     # key paths of the encrypted values
    history_exposures(root, recipient, current) -> tuple[Exposure, ...]
        # names only older commits hold (deleted files, removed values)

Rules of the plans:

* ``rotate host``: every file the old host key can open, and every file whose
  (new) creation rule names the host, gets a new data key wrapped for its rule's
  recipients (a file no rule matches: its current recipients with the old key
  replaced).  Every other file is left alone, byte for byte.
* ``hosts remove``: every file the removed key can open, or whose old rule named
  the host, gets a new data key.  A file whose rule was removed with the host
  (``secrets/<host>.yaml``) is an *orphan*: it is kept, re-encrypted for its
  remaining recipients (the admins) — never widened to a catch-all rule — and
  reported so that the user can delete it (``git rm``) once its values are gone
  from every configuration.
* The *exposed names* are the key paths of the encrypted values in the files the
  old key could open on its own (a single key group, or a Shamir threshold of 1):
  old ciphertext in git history still opens with that key, so these secrets
  must be changed at their provider.  The same holds for every committed
  version: :func:`history_exposures` adds the names that only git history
  still holds (a file deleted since, a value removed since).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from secretkit.errors import IntegrityError, SecretkitError, UserError
from secretkit.keys import sops_yaml, sops_yaml_edits
from secretkit.sops import document, operations
from secretkit.sops.config import CreationRule, KeyRef, SopsConfig, parse_config
from secretkit.sops.identities import Identities, how_to_open
from secretkit.sops.keysources.bech32 import normalize_age_recipient

MAX_BYTES = 16 * 1024 * 1024

Groups = tuple[tuple[str, ...], ...]


# ---------------------------------------------------------------------------
# the files
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SopsFileInfo:
    """One sops file as found on disk (content kept: the plan works on these bytes)."""

    path: Path  # absolute
    rel: str  # relative to the repository root, '/'-separated
    fmt: str
    data: bytes = field(repr=False)
    groups: tuple[tuple[KeyRef, ...], ...]  # recipients per key group, with their kind
    threshold: int
    names: tuple[str, ...]  # key paths of the encrypted values
    # the parse of ``data`` (re-keying reads it instead of parsing the file again)
    loaded: document.SopsFile | None = field(default=None, repr=False, compare=False)

    @property
    def recipients(self) -> Groups:
        return tuple(tuple(ref.ident for ref in group) for group in self.groups)

    def lists(self, recipient: str) -> bool:
        """Whether ``recipient`` holds (a share of) the data key."""
        wanted = recipient.strip().lower()
        return any(ref.ident.lower() == wanted for group in self.groups for ref in group)

    def readable_by(self, recipient: str) -> bool:
        """Whether ``recipient`` alone opens the file (its key group suffices)."""
        if not self.lists(recipient):
            return False
        return len(self.groups) == 1 or self.threshold == 1


def _key_path(path: Sequence[str | int]) -> str:
    return "/".join(str(part) for part in path)


def exposed_names(sops: document.SopsFile) -> tuple[str, ...]:
    """Key paths (``a/b/c``, list positions as numbers) of the values stored encrypted."""
    from secretkit.sops.cipher import is_encrypted
    from secretkit.sops.tree import leaves

    names: list[str] = []
    multi = len(sops.docs) > 1
    for number, doc in enumerate(sops.docs):
        for path, value in leaves(doc):
            if isinstance(value, str) and is_encrypted(value):
                name = _key_path(path) or "data"
                names.append(f"[{number}]/{name}" if multi else name)
    return tuple(dict.fromkeys(names))


def _info(root: Path, path: Path, data: bytes) -> SopsFileInfo | None:
    from secretkit.sops.finder import load_sops

    fmt = document.format_for_path(path)
    sops, _why = load_sops(data, fmt)
    return None if sops is None else _info_of(_rel(root, path), path, data, sops)


def _info_of(rel: str, path: Path, data: bytes, sops: document.SopsFile) -> SopsFileInfo:
    groups = tuple(
        tuple(KeyRef(entry.kind, entry.ident) for entry in group)
        for group in sops.metadata.key_groups
    )
    return SopsFileInfo(
        path=path,
        rel=rel,
        fmt=sops.fmt,
        data=data,
        groups=groups,
        threshold=sops.metadata.shamir_threshold,
        names=exposed_names(sops),
        loaded=sops,
    )


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def sops_file_infos(
    root: Path,
    base: Path | None = None,
    *,
    config: SopsConfig | None = None,
    relevant: Callable[[Path, bytes], bool] | None = None,
    must_parse: Callable[[bytes], bool] | None = None,
) -> list[SopsFileInfo]:
    """Every sops file below ``base`` (default ``root``), as
    :func:`secretkit.sops.finder.find_sops_files` finds it, with what the plans read.

    ``relevant(path, data)`` skips files before they are parsed (a plan that only
    needs the files naming one key need not parse all the others).  A file that
    does not load as a sops file is left out — unless ``must_parse(data)`` says it
    has to be one (it names the key being replaced), or ``config`` has a rule of its
    own for it and it holds sops ciphertext: then IntegrityError."""
    from secretkit.sops.finder import find_sops_files, refuse_damaged

    result = find_sops_files(root, base, config=config, relevant=relevant, must_parse=must_parse)
    named = [d for d in result.damaged if must_parse is not None and must_parse(d.data)]
    if named:
        _refuse_damaged(root, named[0].path, named[0].data)
    refuse_damaged(result.damaged)
    return [_info_of(f.rel, f.path, f.data, f.sops) for f in result.found]


def _refuse_damaged(root: Path, path: Path, data: bytes) -> None:
    rel = _rel(root, path)
    problem = "its sops metadata is incomplete"
    try:
        operations.load(data, document.format_for_path(path), source=rel)
    except SecretkitError as exc:
        problem = exc.message
    raise IntegrityError(
        f"{rel} names the key being replaced but is not a readable sops file ({problem}); "
        "nothing was changed",
        hint="restore the file from git (or delete it), then retry",
    )


def _naming(recipient: str | None) -> Callable[[bytes], bool] | None:
    if recipient is None:
        return None
    needle = recipient.lower().encode()
    return lambda data: needle in data.lower()


# ---------------------------------------------------------------------------
# operations
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class FileOp:
    """What happens to one file."""

    file: SopsFileInfo
    action: str  # "rotate" (new data key) | "updatekeys" (re-wrap) | "up to date" | "no rule"
    rule: CreationRule | None  # the recipients it gets (None for "up to date"/"no rule")
    orphan: bool = False  # its creation rule was removed (hosts remove)

    @property
    def target(self) -> Groups:
        if self.rule is None:
            return self.file.recipients
        return tuple(tuple(group) for group in operations.rule_recipients(self.rule))

    @property
    def added(self) -> tuple[str, ...]:
        before = {r.lower() for g in self.file.recipients for r in g}
        return tuple(dict.fromkeys(r for g in self.target for r in g if r.lower() not in before))

    @property
    def removed(self) -> tuple[str, ...]:
        after = {r.lower() for g in self.target for r in g}
        return tuple(
            dict.fromkeys(r for g in self.file.recipients for r in g if r.lower() not in after)
        )


@dataclass(frozen=True)
class Exposure:
    rel: str
    names: tuple[str, ...]
    history: bool = False  # names only committed versions hold (gone from the work tree)


@dataclass(frozen=True)
class HostPlan:
    root: Path
    host: str
    edit: sops_yaml_edits.Edit  # the .sops.yaml change (edit.data None: unchanged)
    old_recipient: str | None
    new_recipient: str | None
    ops: tuple[FileOp, ...]
    exposed: tuple[Exposure, ...]  # what the old key could read (current files)

    @property
    def orphans(self) -> tuple[str, ...]:
        return tuple(op.file.rel for op in self.ops if op.orphan)


def _rule_like(
    config: SopsConfig, groups: Iterable[Iterable[KeyRef]], threshold: int
) -> CreationRule:
    """A creation rule naming exactly ``groups`` (empty groups dropped)."""
    kept = [list(group) for group in groups if list(group)]
    return CreationRule(
        key_groups=kept,
        shamir_threshold=min(threshold, len(kept)) if len(kept) > 1 else 0,
        yaml_indent=config.yaml_indent,
        json_indent=config.json_indent,
        origin="current recipients",
    )


def _without(
    groups: Iterable[Iterable[KeyRef]], recipient: str, replacement: str | None = None
) -> list[list[KeyRef]]:
    wanted = recipient.lower()
    out: list[list[KeyRef]] = []
    for group in groups:
        refs: list[KeyRef] = []
        for ref in group:
            if ref.ident.lower() == wanted:
                if replacement is not None:
                    refs.append(KeyRef(ref.kind, replacement))
                continue
            refs.append(ref)
        out.append(list(dict.fromkeys(refs)))
    return out


def _names_host(rule: CreationRule | None, recipient: str | None) -> bool:
    if rule is None or recipient is None:
        return False
    wanted = recipient.lower()
    return any(ref.ident.lower() == wanted for group in rule.key_groups for ref in group)


def _mentions(
    recipient: str | None, config: SopsConfig, rule_recipient: str | None
) -> Callable[[Path, bytes], bool]:
    """A cheap pre-filter: the file's text names ``recipient`` (every store writes
    recipients verbatim), or its rule names ``rule_recipient``."""
    needle = recipient.lower().encode() if recipient else None

    def relevant(path: Path, data: bytes) -> bool:
        if needle is not None and needle in data.lower():
            return True
        return _names_host(config.rule_for(path), rule_recipient)

    return relevant


def _read_sops_yaml(root: Path) -> tuple[Path, bytes]:
    path = root / sops_yaml.SOPS_YAML
    try:
        return path, path.read_bytes()
    except FileNotFoundError:
        raise UserError(
            f"no {sops_yaml.SOPS_YAML} in {root}",
            hint="run `secretkit init --admin age1…` first",
        ) from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None


def _exposures(files: Iterable[SopsFileInfo], recipient: str | None) -> tuple[Exposure, ...]:
    if recipient is None:
        return ()
    return tuple(
        Exposure(info.rel, info.names)
        for info in files
        if info.readable_by(recipient) and info.names
    )


def history_exposures(
    root: Path, recipient: str, current: Iterable[Exposure] = ()
) -> tuple[Exposure, ...]:
    """Secret names that committed versions readable by ``recipient`` hold and that
    ``current`` does not list: a deleted file, a value removed since.  Old
    ciphertext stays in git history, so these were exposed to the key as well."""
    from secretkit.git import repo_root
    from secretkit.git.objects import history_blobs, object_sizes, read_blobs

    top = repo_root(root)
    if top is None:
        return ()
    blobs = {blob.oid: blob for blob in history_blobs(top)}
    sizes = object_sizes(top, blobs)
    wanted = [oid for oid in blobs if sizes.get(oid, MAX_BYTES + 1) <= MAX_BYTES]
    needle = recipient.lower().encode()
    known = {(item.rel, name) for item in current for name in item.names}
    found: dict[str, dict[str, None]] = {}
    for oid, data in read_blobs(top, wanted):
        if needle not in data.lower():
            continue
        path = top / blobs[oid].path
        info = _info(root, path, data)
        if info is None or not info.readable_by(recipient):
            continue
        for name in info.names:
            if (info.rel, name) not in known:
                found.setdefault(info.rel, {})[name] = None
    return tuple(Exposure(rel, tuple(names), history=True) for rel, names in sorted(found.items()))


def plan_rotate_host(
    root: Path,
    host: str,
    new_recipient: str,
    files: Sequence[SopsFileInfo] | None = None,
) -> HostPlan:
    """Put ``new_recipient`` in place of the host's key and give every file of the host
    a new data key.  When ``.sops.yaml`` already has the new key the files are still
    re-keyed (a previous ``updatekeys`` kept the old data key)."""
    path, data = _read_sops_yaml(root)
    current = sops_yaml.read_keys(root).hosts.get(host)
    edit = sops_yaml_edits.set_host_key_text(data, host, new_recipient, path)
    old = edit.change.old_recipient or current
    new = edit.change.new_recipient or normalize_age_recipient(new_recipient)
    config = edit.config or parse_config(data, path)
    if files is None:
        files = sops_file_infos(root, relevant=_mentions(old, config, new), must_parse=_naming(old))
    ops: list[FileOp] = []
    for info in files:
        rule = config.rule_for(info.path)
        if not ((old is not None and info.lists(old)) or _names_host(rule, new)):
            continue
        if rule is None and old is not None:  # no rule: keep its recipients, key swapped
            rule = _rule_like(config, _without(info.groups, old, new), info.threshold)
        if rule is None:
            continue
        ops.append(FileOp(info, "rotate", rule))
    return HostPlan(
        root=root,
        host=host,
        edit=edit,
        old_recipient=old,
        new_recipient=new,
        ops=tuple(ops),
        exposed=_exposures(files, old),
    )


def plan_remove_host(
    root: Path, host: str, files: Sequence[SopsFileInfo] | None = None
) -> HostPlan:
    """Drop the host from ``.sops.yaml`` and give every file it could read a new data key
    without it; its own file (rule removed) is kept for the remaining recipients."""
    path, data = _read_sops_yaml(root)
    edit = sops_yaml_edits.remove_host_text(data, host, path)
    old_config = parse_config(data, path)
    old = edit.change.old_recipient
    new_config = edit.config or old_config
    removed_rules = set(edit.change.removed_rules)
    if files is None:
        files = sops_file_infos(
            root, relevant=_mentions(old, old_config, old), must_parse=_naming(old)
        )
    ops: list[FileOp] = []
    if edit.change.changed:
        for info in files:
            old_rule = old_config.rule_for(info.path)
            own = old_rule is not None and old_rule.path_regex in removed_rules
            if not ((old is not None and info.lists(old)) or _names_host(old_rule, old) or own):
                continue
            rule = None if own else new_config.rule_for(info.path)
            if rule is None:
                groups = _without(info.groups, old) if old is not None else info.groups
                if not any(groups):
                    raise UserError(
                        f"{info.rel} is encrypted only for host {host}: removing the host "
                        "would leave it readable by nobody",
                        hint=f"add an admin key to it first, or delete {info.rel}",
                    )
                rule = _rule_like(new_config, groups, info.threshold)
            ops.append(FileOp(info, "rotate", rule, orphan=own))
    return HostPlan(
        root=root,
        host=host,
        edit=edit,
        old_recipient=old,
        new_recipient=None,
        ops=tuple(ops),
        exposed=_exposures(files, old),
    )


def plan_updatekeys(config: SopsConfig, files: Iterable[SopsFileInfo]) -> list[FileOp]:
    """Each file against the first rule matching it: re-wrap when the recipients differ."""
    ops: list[FileOp] = []
    for info in files:
        rule = config.rule_for(info.path)
        if rule is None:
            ops.append(FileOp(info, "no rule", None))
            continue
        wanted = tuple(tuple(g) for g in operations.rule_recipients(rule))
        same = len(wanted) == len(info.recipients) and all(
            {r.lower() for r in a} == {r.lower() for r in b}
            for a, b in zip(wanted, info.recipients, strict=True)
        )
        if same and len(wanted) > 1:
            same = (info.threshold or len(wanted)) == (rule.shamir_threshold or len(wanted))
        ops.append(FileOp(info, "up to date" if same else "updatekeys", rule))
    return ops


# ---------------------------------------------------------------------------
# executing the crypto in memory (the caller writes)
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Rekeyed:
    outputs: tuple[tuple[FileOp, bytes], ...]  # new content per changed file
    unopened: tuple[str, ...]  # no available identity opens these
    broken: tuple[tuple[str, str], ...]  # (file, one-line problem): MAC mismatch, tampering
    unopened_keys: tuple[tuple[str, str], ...] = ()  # (kind, recipient) of their master keys


def rekey(ops: Iterable[FileOp], identities: Identities) -> Rekeyed:
    """New bytes for every "rotate"/"updatekeys" op: each data key decrypted once."""
    mine = {r.lower() for r in identities.recipients}
    outputs: list[tuple[FileOp, bytes]] = []
    unopened: list[str] = []
    unopened_keys: list[tuple[str, str]] = []
    broken: list[tuple[str, str]] = []
    for op in ops:
        if op.action not in ("rotate", "updatekeys") or op.rule is None:
            continue
        info = op.file
        try:
            sops = info.loaded or operations.load(info.data, info.fmt, source=info.rel)
            if op.action == "rotate":
                new = operations.rotate_loaded(sops, identities, op.rule, source=info.rel)
            else:
                changed = operations.updatekeys_loaded(sops, op.rule, identities, source=info.rel)
                if changed is None:
                    continue
                new = changed
        except operations.NoIdentityError as exc:
            flat = {ref.ident.lower() for group in info.groups for ref in group}
            if flat & mine:  # our own age key is a recipient and does not open it: tampered
                broken.append((info.rel, exc.message))
            else:  # none of its keys is here (a PGP key not in the keyring either)
                unopened.append(info.rel)
                unopened_keys.extend(exc.keys)
            continue
        except IntegrityError as exc:
            broken.append((info.rel, exc.message))
            continue
        except SecretkitError as exc:
            broken.append((info.rel, exc.message))
            continue
        outputs.append((op, new))
    return Rekeyed(tuple(outputs), tuple(unopened), tuple(broken), tuple(unopened_keys))


def require_all_opened(result: Rekeyed, identities: Identities) -> None:
    """Stop before anything changes when a file cannot be re-keyed."""
    if result.unopened:
        shown = ", ".join(result.unopened[:8])
        if len(result.unopened) > 8:
            shown += f", +{len(result.unopened) - 8} more"
        have = ", ".join(identities.recipients[:3]) or "none"
        raise UserError(
            f"no available identity opens {len(result.unopened)} file(s): {shown} "
            f"(identities found: {have}); nothing was changed",
            hint=how_to_open(result.unopened_keys),
        )
    if result.broken:
        rel, problem = result.broken[0]
        more = f" (and {len(result.broken) - 1} more file(s))" if len(result.broken) > 1 else ""
        raise IntegrityError(
            f"cannot re-key {rel}: {problem}{more}; nothing was changed",
            hint="restore the file from git (git checkout -- FILE), then retry",
        )
