"""sops documents: load, decrypt, encrypt and dump files of every store.

The data key comes from the caller (``secretkit.sops.operations`` unwraps it with the key
sources); this module never touches master keys.  Decryption verifies the MAC and
keeps an IV stash in the :class:`PlainFile`, so re-encrypting unchanged values with
the same data key reproduces their ciphertext byte for byte.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from secretkit.errors import IntegrityError, SecretkitError, UserError
from secretkit.sops import cipher as cipher_mod
from secretkit.sops import goformat
from secretkit.sops.formats import format_for_path as format_for_path
from secretkit.sops.mac import MacHasher
from secretkit.sops.metadata import Metadata
from secretkit.sops.rules import Rule
from secretkit.sops.stores import STORES, Store
from secretkit.sops.stores.metablock import version_tuple
from secretkit.sops.tree import (
    Comment,
    Map,
    Seq,
    Value,
    from_python,
    leaves,
    to_python,
    walk,
)

FORMATS = ("yaml", "json", "dotenv", "ini", "binary")
SOPS_VERSION = "3.13.2"

__all__ = [
    "FORMATS",
    "SOPS_VERSION",
    "PlainFile",
    "SopsFile",
    "decrypt",
    "dump",
    "dump_plain",
    "encrypt",
    "format_for_path",
    "is_sops_file",
    "load_encrypted",
    "load_plain",
]


def _store(fmt: str) -> Store:
    try:
        return STORES[fmt]
    except KeyError:
        raise UserError(
            f"unknown file format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}"
        ) from None


def _where(path: Sequence[str | int]) -> str:
    from secretkit.sensitive import shown_name

    text = ":".join(shown_name(str(part)) for part in path)
    return text[:120] if text else "<top>"


def _item_index(node: Seq, part: str | int) -> int | None:
    """Where in ``node`` (comments are elements too) its item number ``part`` is (an int,
    or its digits), or None."""
    if isinstance(part, str):
        if not part.isdigit() or not part.isascii():
            return None
        part = int(part)
    items = [i for i, child in enumerate(node) if not isinstance(child, Comment)]
    return items[part] if 0 <= part < len(items) else None


@dataclass
class PlainFile:
    """A decrypted (or not yet encrypted) document."""

    fmt: str
    docs: list[Map]
    layout: object = None
    stash: dict[tuple[bytes, str], bytes] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return f"PlainFile({self.fmt}, {len(self.docs)} document(s))"

    @property
    def root(self) -> Map:
        if not self.docs:
            self.docs.append(Map())
        return self.docs[0]

    def _walk_to(self, path: Sequence[str | int]) -> Value:
        node: Value = self.root
        for depth, part in enumerate(path):
            if isinstance(node, Map) and isinstance(part, str):
                index = node.find(part)
                if index >= 0:
                    entry = node[index]
                    assert isinstance(entry, tuple)
                    node = entry[1]
                    continue
            elif isinstance(node, Seq) and (at := _item_index(node, part)) is not None:
                node = node[at]
                continue
            raise UserError(f"no value at {_where(path[: depth + 1])}")
        return node

    def get(self, path: Sequence[str | int]) -> object:
        return to_python(self._walk_to(path))

    def set(self, path: Sequence[str], value: object) -> None:
        """Set the value at ``path``, making the mappings it names; a number names an
        item of a list the file holds already (``environment/1``: secret names join a
        key path with "/", list items by their index), which is replaced."""
        if not path:
            raise UserError("an empty key path cannot be set")
        node: Value = self.root
        for depth, part in enumerate(path[:-1]):
            if isinstance(node, Seq):
                at = _item_index(node, part)
                if at is None:
                    raise UserError(f"no value at {_where(path[: depth + 1])}")
                node = node[at]
                continue
            if not isinstance(node, Map):
                raise UserError(f"{_where(path[:depth])} is not a mapping")
            index = node.find(part)
            if index < 0:
                child = Map()
                node.append((part, child))
                node = child
                continue
            entry = node[index]
            assert isinstance(entry, tuple)
            if not isinstance(entry[1], Map | Seq):
                raise UserError(f"{_where(path[: depth + 1])} is not a mapping")
            node = entry[1]
        if isinstance(node, Seq):
            at = _item_index(node, path[-1])
            if at is None:
                raise UserError(f"no value at {_where(path)}")
            node[at] = from_python(value)
            return
        if not isinstance(node, Map):
            raise UserError(f"{_where(path[:-1])} is not a mapping")
        new = from_python(value)
        index = node.find(path[-1])
        if index >= 0:
            node[index] = (path[-1], new)
        else:
            node.append((path[-1], new))

    def delete(self, path: Sequence[str]) -> None:
        if not path:
            raise UserError("an empty key path cannot be deleted")
        parent = self._walk_to(path[:-1])
        if not isinstance(parent, Map) or parent.find(path[-1]) < 0:
            raise UserError(f"no value at {_where(path)}")
        del parent[parent.find(path[-1])]

    def leaves(self) -> Iterator[tuple[tuple[str | int, ...], object]]:
        for path, value in leaves(self.root):
            yield path, to_python(value)

    def to_python(self) -> object:
        if self.fmt == "yaml" and len(self.docs) > 1:
            return [to_python(doc) for doc in self.docs]
        return to_python(self.root)


@dataclass
class SopsFile:
    """An encrypted file as loaded (values still ``ENC[...]``)."""

    fmt: str
    docs: list[Map]
    metadata: Metadata
    layout: object = None

    def __repr__(self) -> str:
        return f"SopsFile({self.fmt}, version={self.metadata.version!r})"


# --- load / dump -------------------------------------------------------------------


def load_encrypted(data: bytes, fmt: str) -> SopsFile:
    """Parse an encrypted file; UserError when it is malformed or has no sops metadata."""
    store = _store(fmt)
    docs, layout = store.load(data)
    docs, meta = store.split_metadata(docs)
    if meta is None:
        raise UserError(
            f"not a sops file: no sops metadata found ({fmt})",
            hint="encrypt it with `secretkit encrypt -i FILE`, "
            "or restore it from git if it was damaged",
        )
    Rule.of(meta.crypt_rule)  # an untranslatable regex is refused up front
    if not meta.lastmodified:
        # sops refuses a block without lastmodified; a plaintext file that merely has a
        # top-level "sops" key must not pass for an encrypted one.
        raise UserError(
            "not a sops file: the sops metadata has no lastmodified",
            hint="a top-level 'sops' key is reserved for sops metadata",
        )
    if fmt == "json" and meta.version and version_tuple(meta.version) < (3, 13, 2):
        docs = [_ints_to_floats(doc) for doc in docs]
    return SopsFile(fmt, docs, meta, layout)


def _ints_to_floats(doc: Map) -> Map:
    """sops < 3.13.2 decoded every JSON number as float64."""

    def convert(value: Value) -> Value:
        if isinstance(value, Map):
            return Map(e if isinstance(e, Comment) else (e[0], convert(e[1])) for e in value)
        if isinstance(value, Seq):
            return Seq(convert(v) for v in value)
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value

    out = convert(doc)
    assert isinstance(out, Map)
    return out


def is_sops_file(data: bytes, fmt: str) -> bool:
    try:
        load_encrypted(data, fmt)
    except SecretkitError:
        return False
    return True


def load_plain(data: bytes, fmt: str) -> PlainFile:
    """Parse a plaintext file for encryption; refuses a file that is already encrypted."""
    store = _store(fmt)
    docs, layout = store.load_plain(data)
    if fmt != "binary":
        _rest, meta = store.split_metadata(copy.deepcopy(docs))
        if meta is not None:
            raise UserError(
                "the file is already encrypted (it has sops metadata)",
                hint="decrypt it first or edit it with `secretkit edit`",
            )
        if holds_ciphertext(docs):
            # (a sops file cut short or with its metadata lost: encrypting it would wrap
            # the ciphertext as if it were the values, and lose them)
            raise UserError(
                "the file holds sops ciphertext (ENC[…] values) without sops metadata: it is "
                "a damaged sops file, not plaintext",
                hint="restore it from git: `git log -- FILE` lists its versions, "
                "`git restore --source=COMMIT -- FILE` brings one back",
            )
    return PlainFile(fmt, docs, layout)


def holds_ciphertext(docs: Sequence[object]) -> bool:
    """Whether a value of ``docs`` is a sops ``ENC[…]`` string."""
    from secretkit.sops.tree import leaves

    return any(
        isinstance(value, str) and cipher_mod.is_encrypted(value)
        for doc in docs
        for _at, value in leaves(doc)  # type: ignore[arg-type]
    )


def dump_plain(plain: PlainFile, *, indent: int | None = None) -> bytes:
    return _store(plain.fmt).dump_plain(plain.docs, plain.layout, indent)


def dump(sops: SopsFile, *, indent: int | None = None) -> bytes:
    """The file's bytes: its own layout when it was loaded, sops 3.13 for new files."""
    meta = sops.metadata
    if not meta.version:
        meta = replace(meta, version=SOPS_VERSION)
    return _store(sops.fmt).dump_encrypted(sops.docs, meta, sops.layout, indent)


# --- decrypt / encrypt -------------------------------------------------------------


def _rule(meta: Metadata) -> Rule:
    return Rule.of(meta.crypt_rule)


def decrypt(sops: SopsFile, data_key: bytes, *, verify_mac: bool = True) -> PlainFile:
    """Decrypt every value; IntegrityError on a bad tag or a MAC mismatch."""
    meta = sops.metadata
    rule = _rule(meta)
    values = cipher_mod.ValueCipher(data_key)
    hasher = MacHasher(meta.mac_only_encrypted)

    def leaf(
        value: Value, path: tuple[str, ...], stack: list[list[str]], is_comment: bool
    ) -> Value:
        encrypted = rule.should_encrypt(path, stack, is_comment)
        aad = ":".join(path) + ":"
        if is_comment:
            assert isinstance(value, Comment)
            if not encrypted or not cipher_mod.is_encrypted(value.text):
                return value
            try:
                opened = values.decrypt(value.text, aad, _where(path))
            except SecretkitError:
                return value  # sops: assume a comment that does not open was never encrypted
            text = opened.text if isinstance(opened, Comment) else str(opened)
            return Comment(text, value.inline)
        if encrypted:
            if not isinstance(value, str):
                raise UserError(
                    f"value at {_where(path)} should be encrypted but is a plain "
                    f"{type(value).__name__}",
                    hint="the file was edited by hand; restore it from git",
                )
            result = values.decrypt(value, aad, _where(path))
        else:
            result = value
        if not isinstance(result, Comment):
            hasher.add(cipher_mod.to_bytes(result), encrypted)
        return result

    docs = [_as_map(walk(doc, leaf)) for doc in sops.docs]
    if verify_mac:
        computed = hasher.hexdigest()
        stored = _open_mac(values, meta)
        if stored != computed:
            raise IntegrityError(
                "MAC mismatch: the file's values do not match its MAC",
                hint="the file was modified outside sops; restore it from git",
            )
    elif meta.mac and meta.lastmodified:
        with contextlib.suppress(SecretkitError):
            _open_mac(values, meta)  # fill the IV stash when the MAC still opens
    return PlainFile(sops.fmt, docs, sops.layout, values.stash)


def _open_mac(values: cipher_mod.ValueCipher, meta: Metadata) -> str:
    if not meta.mac:
        raise IntegrityError(
            "MAC mismatch: the file has no MAC",
            hint="the file was edited by hand or truncated; restore it from git",
        )
    try:
        aad = goformat.mac_aad(meta.lastmodified)
    except ValueError:
        raise IntegrityError(
            "MAC mismatch: lastmodified is not an RFC 3339 timestamp",
            hint="the metadata was edited by hand; restore the file from git",
        ) from None
    try:
        opened = values.decrypt(meta.mac, aad, "sops.mac")
    except IntegrityError:
        raise IntegrityError(
            "MAC mismatch: the MAC does not decrypt (tampered MAC or lastmodified, or wrong key)",
            hint="the file was modified outside sops; restore it from git",
        ) from None
    return str(opened)


def _as_map(value: Value) -> Map:
    assert isinstance(value, Map)
    return value


def encrypt(
    plain: PlainFile,
    data_key: bytes,
    metadata: Metadata,
    *,
    now: datetime | None = None,
    iv_source: Callable[[int], bytes] | None = None,
    touch: bool = True,
) -> SopsFile:
    """Encrypt every value per the crypt rule, recompute the MAC, set lastmodified."""
    if plain.fmt in ("yaml", "json", "binary") and any(doc.find("sops") >= 0 for doc in plain.docs):
        raise UserError(
            "the top-level key 'sops' is reserved for the sops metadata",
            hint="rename that key before encrypting",
        )
    meta = copy.deepcopy(metadata)
    rule = _rule(meta)
    values = cipher_mod.ValueCipher(data_key, iv_source)
    values.stash.update(plain.stash)
    hasher = MacHasher(meta.mac_only_encrypted)
    comment_guard = (
        Rule("unencrypted_comment_regex", meta.crypt_rule.value)
        if meta.crypt_rule is not None and meta.crypt_rule.kind == "unencrypted_comment_regex"
        else None
    )

    def leaf(
        value: Value, path: tuple[str, ...], stack: list[list[str]], is_comment: bool
    ) -> Value:
        encrypted = rule.should_encrypt(path, stack, is_comment)
        if not is_comment:
            if isinstance(value, (Map, Seq)):
                raise UserError(f"unexpected nested value at {_where(path)}")
            hasher.add(cipher_mod.to_bytes(value), encrypted)
        if not encrypted:
            return value
        text = values.encrypt(value, ":".join(path) + ":")
        if is_comment:
            if comment_guard is not None and not comment_guard.should_encrypt((), [[text]], False):
                raise UserError(
                    "an encrypted comment matches unencrypted_comment_regex",
                    hint="make the regex unable to match ENC[...] strings",
                )
            return Comment(text, isinstance(value, Comment) and value.inline)
        return text

    docs: list[Map] = []
    for doc in plain.docs:
        out = walk(doc, leaf)
        docs.append(_seq_comments_as_strings(_as_map(out)))
    if touch or not meta.lastmodified:
        moment = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        meta.lastmodified = goformat.format_rfc3339(moment)
    if not meta.version:
        meta.version = SOPS_VERSION
    meta.mac = values.encrypt(hasher.hexdigest(), goformat.mac_aad(meta.lastmodified))
    return SopsFile(plain.fmt, docs, meta, plain.layout)


def _seq_comments_as_strings(doc: Map) -> Map:
    """sops writes an encrypted comment inside a sequence as a string element."""

    def convert(value: Value) -> Value:
        if isinstance(value, Map):
            return Map(e if isinstance(e, Comment) else (e[0], convert(e[1])) for e in value)
        if isinstance(value, Seq):
            return Seq(
                v.text if isinstance(v, Comment) and cipher_mod.is_encrypted(v.text) else convert(v)
                for v in value
            )
        return value

    return _as_map(convert(doc))


def new_plain(fmt: str, value: object) -> PlainFile:
    """A PlainFile from plain Python data (tests, migrate)."""
    tree = from_python(value)
    if fmt == "yaml" and isinstance(value, list):
        return PlainFile(fmt, [_as_map(from_python(doc)) for doc in value])
    if not isinstance(tree, Map):
        raise UserError("the top level of a document must be a mapping")
    return PlainFile(fmt, [tree])
