"""The high-level sops operations: bytes in, bytes out.

Commands that touch one file wrap these with reads and atomic writes; multi-file
callers (migrate, rotate host, updatekeys over a tree) call them directly and
write through a :class:`~secretkit.atomic.Transaction`.  Nothing here writes
files, prints, or exits; only the helpers at the end (for the commands) read
files.  Values passed in may be :class:`~secretkit.sensitive.Sensitive`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from secretkit.errors import IntegrityError, SecretkitError, UsageError, UserError
from secretkit.errors import NoIdentityError as _NoIdentity
from secretkit.lazy_re import lazy
from secretkit.sensitive import Sensitive
from secretkit.sops import document
from secretkit.sops.config import CreationRule, SopsConfig, find_config
from secretkit.sops.document import PlainFile, SopsFile
from secretkit.sops.identities import Identities, how_to_open
from secretkit.sops.keysources import DECRYPTION_ORDER, KEY_SOURCES, ident_field, shamir
from secretkit.sops.metadata import CryptRule, KeyEntry, Metadata

DATA_KEY_SIZE = 32

__all__ = [
    "config_for",
    "data_key_of",
    "decrypt_bytes",
    "display",
    "empty_plain",
    "encrypt_new",
    "load",
    "load_plain",
    "open_file",
    "parse_tree_path",
    "read_input",
    "recipients_of",
    "resolve",
    "rotate_bytes",
    "rule_for_file",
    "rule_recipients",
    "set_values",
    "store_indent",
    "updatekeys_bytes",
    "verify_bytes",
    "wrap_data_key",
]


# ---------------------------------------------------------------------------
# recipients
# ---------------------------------------------------------------------------
def recipients_of(sops: SopsFile) -> list[list[str]]:
    """Per key group: the age recipients / PGP fingerprints / other key ids as written."""
    return [[entry.ident for entry in group] for group in sops.metadata.key_groups]


def rule_recipients(rule: CreationRule) -> list[list[str]]:
    return rule.recipients()


def _describe(groups: Sequence[Sequence[str]], limit: int = 6) -> str:
    flat = [ident for group in groups for ident in group]
    if not flat:
        return "none"
    shown = ", ".join(flat[:limit])
    if len(flat) > limit:
        shown += f", +{len(flat) - limit} more"
    return shown


# ---------------------------------------------------------------------------
# data keys
# ---------------------------------------------------------------------------
def _ordered(group: Sequence[KeyEntry], identities: Identities) -> list[KeyEntry]:
    """sops' decryption order (age, then pgp), entries for our own recipients first."""
    mine = set(identities.recipients)

    def rank(entry: KeyEntry) -> tuple[int, int]:
        kind = (
            DECRYPTION_ORDER.index(entry.kind)
            if entry.kind in DECRYPTION_ORDER
            else len(DECRYPTION_ORDER)
        )
        return (kind, 0 if entry.ident in mine else 1)

    return sorted(group, key=rank)


def _open_group(group: Sequence[KeyEntry], identities: Identities) -> bytes | None:
    for entry in _ordered(group, identities):
        source = KEY_SOURCES.get(entry.kind)
        if source is None:
            continue
        key = source.unwrap(entry, identities)
        if key is not None:
            return key
    return None


class NoIdentityError(_NoIdentity):
    """No identity here opens a file (exit 4, like any integrity failure); ``keys`` are
    its master keys as (kind, recipient), its hint says how to provide one of them."""

    def __init__(self, message: str, hint: str, keys: tuple[tuple[str, str], ...]) -> None:
        super().__init__(message, hint)
        self.keys = keys


class DamagedKeyBlock(IntegrityError):
    """An identity here answers to a recipient of the file, yet that recipient's key
    block does not open with it: the block was damaged (or edited by hand), not a key
    that is missing (exit 4)."""


def _damaged(groups: Sequence[Sequence[KeyEntry]], identities: Identities, source: str) -> None:
    """Raise :class:`DamagedKeyBlock` when a block that should open with a key held here
    did not (called once no group opened)."""
    held = set(identities.recipients)
    mine = [entry.ident for group in groups for entry in group if entry.ident in held]
    if mine:
        raise DamagedKeyBlock(
            f"the key block of {source} for {mine[0]}, a key here, does not open with that "
            "key: it was damaged or edited by hand",
            "restore the file's last version that opens (secretkit check names it), or "
            "have another recipient run secretkit updatekeys on it",
        )


def data_key_of(sops: SopsFile, identities: Identities, *, source: str = "the file") -> bytes:
    """The file's data key, opened with the first identity that works (Shamir-combined
    when the file has several key groups).  IntegrityError naming the recipients when
    no identity opens it."""
    groups = sops.metadata.key_groups
    recipients = recipients_of(sops)
    keys = tuple((entry.kind, entry.ident) for group in groups for entry in group)
    hint = how_to_open(keys)
    if not groups or not any(groups):
        raise IntegrityError(f"{source} lists no keys in its sops metadata")
    if len(groups) == 1:
        key = _open_group(groups[0], identities)
        if key is None:
            _damaged(groups, identities, source)
            raise NoIdentityError(
                f"no identity decrypts {source} (recipients: {_describe(recipients)})", hint, keys
            )
        if len(key) != DATA_KEY_SIZE:
            raise IntegrityError(f"the data key of {source} has the wrong length")
        return key
    threshold = sops.metadata.shamir_threshold or len(groups)
    shares: list[bytes] = []
    closed: list[Sequence[KeyEntry]] = []  # groups that did not open
    for group in groups:
        share = _open_group(group, identities)
        if share is None:
            closed.append(group)
            continue
        shares.append(share)
        if len(shares) >= threshold:
            break
    if len(shares) < threshold:
        _damaged(closed, identities, source)
        raise NoIdentityError(
            f"cannot decrypt {source}: {len(shares)} of the {threshold} key groups needed "
            f"could be opened (recipients: {_describe(recipients)})",
            hint,
            keys,
        )
    key = shamir.combine(shares)
    if len(key) != DATA_KEY_SIZE:
        raise IntegrityError(f"the Shamir shares of {source} do not combine into a data key")
    return key


def wrap_data_key(
    rule: CreationRule, data_key: bytes, *, source: str = "the file"
) -> tuple[list[list[KeyEntry]], int]:
    """Key groups (with ``enc`` blobs) for the rule's recipients, and the Shamir threshold."""
    groups = [group for group in rule.key_groups if group]
    if not groups:
        raise UserError(
            f"the .sops.yaml rule for {source} names no recipients",
            hint="add age: recipients (or key_groups) to the matching creation rule",
        )
    if len(groups) == 1:
        return [[KEY_SOURCES[ref.kind].wrap(ref.ident, data_key) for ref in groups[0]]], 0
    threshold = rule.shamir_threshold or len(groups)
    shares = shamir.split(data_key, len(groups), threshold)
    wrapped = [
        [KEY_SOURCES[ref.kind].wrap(ref.ident, share) for ref in group]
        for group, share in zip(groups, shares, strict=True)
    ]
    return wrapped, threshold


def _rule_from_metadata(metadata: Metadata) -> CreationRule:
    """A creation rule naming the recipients a file already has (for rotate)."""
    from secretkit.sops.config import KeyRef

    groups: list[list[KeyRef]] = []
    for group in metadata.key_groups:
        refs = []
        for entry in group:
            if entry.kind not in KEY_SOURCES:
                raise UserError(
                    f"cannot re-encrypt for a {entry.kind} key: only age and pgp are supported",
                    hint="use the sops binary (--engine sops) for cloud KMS keys",
                )
            refs.append(KeyRef(entry.kind, entry.fields.get(ident_field(entry.kind), "")))
        groups.append(refs)
    return CreationRule(
        key_groups=groups,
        shamir_threshold=metadata.shamir_threshold,
        crypt_rule=metadata.crypt_rule,
        mac_only_encrypted=metadata.mac_only_encrypted,
    )


def store_indent(fmt: str, rule: CreationRule | None) -> int | None:
    if rule is None:
        return None
    if fmt == "yaml":
        return rule.yaml_indent
    if fmt == "json":
        return rule.json_indent
    return None


# ---------------------------------------------------------------------------
# whole files
# ---------------------------------------------------------------------------
@contextlib.contextmanager
def _naming(source: str) -> Iterator[None]:
    """Re-raise a SecretkitError with ``source`` (the file's name) in front of it."""
    try:
        yield
    except SecretkitError as exc:
        if source == "the file" or exc.message.startswith(source):
            raise
        raise type(exc)(f"{source}: {exc.message}", exc.hint) from None


def load(data: bytes, fmt: str, *, source: str = "the file") -> SopsFile:
    """``document.load_encrypted`` with the file named in its error message."""
    with _naming(source):
        return document.load_encrypted(data, fmt)


def load_plain(data: bytes, fmt: str, *, source: str = "the file") -> PlainFile:
    """``document.load_plain`` with the file named in its error message."""
    with _naming(source):
        return document.load_plain(data, fmt)


def open_file(sops: SopsFile, data_key: bytes, *, source: str = "the file") -> PlainFile:
    """``document.decrypt`` (MAC verified) with the file named in its error message."""
    with _naming(source):
        return document.decrypt(sops, data_key)


def decrypt_bytes(
    data: bytes, fmt: str, identities: Identities, *, source: str = "the file"
) -> PlainFile:
    """The plaintext of an encrypted file; MAC verified."""
    sops = load(data, fmt, source=source)
    key = data_key_of(sops, identities, source=source)
    return open_file(sops, key, source=source)


def verify_bytes(
    data: bytes, fmt: str, identities: Identities, *, source: str = "the file"
) -> None:
    """IntegrityError when the MAC or a value of the file does not verify."""
    decrypt_bytes(data, fmt, identities, source=source)


def encrypt_new(
    plain: PlainFile,
    rule: CreationRule,
    *,
    source: str = "the file",
    now: datetime | None = None,
) -> bytes:
    """A new sops file: fresh data key wrapped for the rule's recipients."""
    data_key = os.urandom(DATA_KEY_SIZE)
    groups, threshold = wrap_data_key(rule, data_key, source=source)
    crypt_rule = rule.crypt_rule
    if crypt_rule is None and plain.fmt != "binary":
        crypt_rule = CryptRule()
    metadata = Metadata(
        key_groups=groups,
        shamir_threshold=threshold,
        version=document.SOPS_VERSION,
        crypt_rule=crypt_rule,
        mac_only_encrypted=rule.mac_only_encrypted,
        explicit_key_groups=len(groups) > 1,
    )
    sops = document.encrypt(plain, data_key, metadata, now=now)
    return document.dump(sops, indent=store_indent(plain.fmt, rule))


def empty_plain(fmt: str) -> PlainFile:
    """An empty document of ``fmt`` (the start of a file created by ``set``/``edit``)."""
    if fmt == "binary":
        return document.load_plain(b"", fmt)
    return document.new_plain(fmt, {})


def set_values(
    existing: bytes | None,
    fmt: str,
    values: Mapping[tuple[str, ...], object],
    *,
    rule: CreationRule | None,
    identities: Identities,
    source: str = "the file",
) -> bytes:
    """Set values in an encrypted file (created from ``rule`` when ``existing`` is None).

    An existing file is decrypted (MAC verified), changed, and re-encrypted with
    the same data key; unchanged values keep their ciphertext, ``lastmodified``
    and the MAC are renewed, ``version`` stays.
    """
    if fmt == "binary":
        raise UserError(
            f"cannot set a key path in {source}: it is a binary sops file",
            hint="use a .yaml, .json, .env or .ini file name",
        )
    if existing is None:
        if rule is None:
            raise UserError(
                f"no .sops.yaml creation rule matches {source}",
                hint="add a creation rule for it (secretkit init / hosts add)",
            )
        plain = empty_plain(fmt)
        for path, value in values.items():
            plain.set(list(path), _reveal(value))
        return encrypt_new(plain, rule, source=source)
    sops = load(existing, fmt, source=source)
    key = data_key_of(sops, identities, source=source)
    plain = open_file(sops, key, source=source)
    for path, value in values.items():
        plain.set(list(path), _reveal(value))
    new = document.encrypt(plain, key, sops.metadata)
    return document.dump(new, indent=store_indent(fmt, rule))


def _reveal(value: object) -> object:
    return value.reveal() if isinstance(value, Sensitive) else value


def _same_keys(sops: SopsFile, rule: CreationRule) -> bool:
    current = recipients_of(sops)
    wanted = rule_recipients(rule)
    if len(current) != len(wanted):
        return False
    if any(set(a) != set(b) for a, b in zip(current, wanted, strict=True)):
        return False
    if len(wanted) > 1:
        return (sops.metadata.shamir_threshold or len(current)) == (
            rule.shamir_threshold or len(wanted)
        )
    return True


def updatekeys_bytes(
    data: bytes,
    fmt: str,
    rule: CreationRule,
    identities: Identities,
    *,
    source: str = "the file",
) -> bytes | None:
    """The file re-wrapped for the recipients ``rule`` names, or None when it already is.

    The data key, every value, the MAC and ``lastmodified`` stay as they are (the
    MAC is not verified, like ``sops updatekeys``)."""
    return updatekeys_loaded(load(data, fmt, source=source), rule, identities, source=source)


def updatekeys_loaded(
    sops: SopsFile, rule: CreationRule, identities: Identities, *, source: str = "the file"
) -> bytes | None:
    """:func:`updatekeys_bytes` for a file already parsed (``sops`` is left unchanged)."""
    if _same_keys(sops, rule):
        return None
    key = data_key_of(sops, identities, source=source)
    groups, threshold = wrap_data_key(rule, key, source=source)
    metadata = dataclasses.replace(
        sops.metadata,
        key_groups=groups,
        shamir_threshold=threshold,
        explicit_key_groups=len(groups) > 1,
    )
    rewrapped = dataclasses.replace(sops, metadata=metadata)
    return document.dump(rewrapped, indent=store_indent(sops.fmt, rule))


def rotate_bytes(
    data: bytes,
    fmt: str,
    identities: Identities,
    rule: CreationRule | None = None,
    *,
    source: str = "the file",
    indent: int | None = None,
) -> bytes:
    """A new data key: every value re-encrypted, MAC recomputed, ``lastmodified`` renewed.

    Recipients are the rule's when given, else the file's current ones."""
    sops = load(data, fmt, source=source)
    return rotate_loaded(sops, identities, rule, source=source, indent=indent)


def rotate_loaded(
    sops: SopsFile,
    identities: Identities,
    rule: CreationRule | None = None,
    *,
    source: str = "the file",
    indent: int | None = None,
) -> bytes:
    """:func:`rotate_bytes` for a file already parsed (``sops`` is left unchanged):
    a tree-wide rotation parses each file once, for its plan and its re-key."""
    old_key = data_key_of(sops, identities, source=source)
    plain = open_file(sops, old_key, source=source)
    target = rule if rule is not None else _rule_from_metadata(sops.metadata)
    new_key = os.urandom(DATA_KEY_SIZE)
    groups, threshold = wrap_data_key(target, new_key, source=source)
    metadata = dataclasses.replace(
        sops.metadata,
        key_groups=groups,
        shamir_threshold=threshold,
        explicit_key_groups=len(groups) > 1,
    )
    new = document.encrypt(plain, new_key, metadata)
    fmt = sops.fmt
    return document.dump(new, indent=indent if indent is not None else store_indent(fmt, rule))


# ---------------------------------------------------------------------------
# tree paths: '["a"]["b"][0]'
# ---------------------------------------------------------------------------
_PATH_PART = lazy(r'\[\s*(?:"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|(-?\d+))\s*\]')


def parse_tree_path(text: str) -> list[str | int]:
    """sops' ``--extract``/``set`` index syntax: ``["a"]["b"][0]``."""
    parts: list[str | int] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _PATH_PART.match(text, position)
        if match is None:
            raise UsageError(
                f"cannot parse the key path at character {position + 1}",
                hint='write key paths like \'["a"]["b"]\' (a list index as [0])',
            )
        if match.group(1) is not None:
            parts.append(json.loads(f'"{match.group(1)}"'))
        elif match.group(2) is not None:
            parts.append(match.group(2))
        else:
            parts.append(int(match.group(3)))
        position = match.end()
    if not parts:
        raise UsageError("the key path is empty", hint='write key paths like \'["a"]["b"]\'')
    return parts


# ---------------------------------------------------------------------------
# file-level helpers for the commands (reading, rule lookup); writes stay with the caller
# ---------------------------------------------------------------------------
def resolve(cwd: Path, file: Path | str) -> Path:
    path = Path(file)
    return path if path.is_absolute() else cwd / path


MAX_INPUT = 128 * 1024 * 1024  # sops files are small; /dev/zero or a FIFO must not fill memory


def read_input(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_INPUT + 1)
        if len(data) > MAX_INPUT:
            raise UserError(
                f"{path} is larger than {MAX_INPUT // (1024 * 1024)} MiB; not read",
                hint="check that this is the file you meant (devices like /dev/zero never end)",
            )
        return data
    except FileNotFoundError:
        raise UserError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a directory, not a file") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None


def config_for(cwd: Path) -> SopsConfig:
    """The ``.sops.yaml`` sops would use from ``cwd``; UserError when there is none."""
    config = find_config(cwd)
    if config is None:
        raise UserError(
            f"no .sops.yaml found in {cwd} or its parents",
            hint="create one with `secretkit init --admin age1…` (or set SOPS_CONFIG)",
        )
    return config


def rule_for_file(cwd: Path, path: Path) -> CreationRule:
    """The creation rule for ``path``; UserError (exit 3) when none matches."""
    config = config_for(cwd)
    rule = config.rule_for(path)
    if rule is None:
        raise UserError(
            f"no creation rule in {config.path} matches {_display(cwd, path)}",
            hint="add a creation_rules entry whose path_regex matches the file "
            "(secretkit hosts add adds one per host)",
        )
    return rule


def _display(cwd: Path, path: Path) -> str:
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)


def display(cwd: Path, path: Path) -> str:
    """``path`` relative to ``cwd`` when below it (for messages)."""
    return _display(cwd, path)
