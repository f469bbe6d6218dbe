"""dotenv store: ``KEY=VALUE`` lines, ``#`` comments, metadata as ``sops_*`` lines.

Exactly sops' rules: split at the first ``=``, nothing trimmed, only ``\\n`` is
interpreted (as a newline); no quotes, no ``export``.
"""

from __future__ import annotations

from secretkit.errors import UserError
from secretkit.sops.goformat import format_bool, format_float
from secretkit.sops.metadata import Metadata
from secretkit.sops.stores.metablock import flatten, from_tree, to_tree, unflatten
from secretkit.sops.tree import Comment, GoTime, Map, Seq, Value

PREFIX = "sops_"


def load(data: bytes) -> tuple[list[Map], object]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError("malformed dotenv file: not UTF-8 text") from None
    doc = Map()
    seen: set[str] = set()
    for number, line in enumerate(text.split("\n"), start=1):
        if not line:
            continue
        if line.startswith("#"):
            doc.append(Comment(line[1:]))
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise UserError(
                f"malformed dotenv file: line {number} is not KEY=VALUE",
                hint="every line must be KEY=VALUE or a #comment",
            )
        if key in seen:
            raise UserError(f"malformed dotenv file: duplicate key {key[:40]!r} on line {number}")
        seen.add(key)
        doc.append((key, value.replace("\\n", "\n")))
    return [doc], None


def value_text(value: Value) -> str:
    """sops ``ValToString``."""
    if isinstance(value, bool):
        return format_bool(value).lower()
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, GoTime):
        return value.text
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if value is None:
        return ""
    assert isinstance(value, str)
    return value


def dump(doc: Map) -> bytes:
    lines: list[str] = []
    for entry in doc:
        if isinstance(entry, Comment):
            lines.append(f"#{entry.text}\n")
            continue
        key, value = entry
        if isinstance(value, (Map, Seq)):
            raise UserError(f"cannot write a nested value to a dotenv file (key {key[:40]!r})")
        text = value.replace("\n", "\\n") if isinstance(value, str) else value_text(value)
        lines.append(f"{key}={text}\n")
    return "".join(lines).encode("utf-8", "surrogateescape")


def split_metadata(docs: list[Map]) -> tuple[list[Map], Metadata | None]:
    doc = docs[0]
    pairs: list[tuple[str, str]] = []
    rest = Map()
    for entry in doc:
        if isinstance(entry, tuple) and entry[0].startswith(PREFIX):
            value = entry[1]
            pairs.append((entry[0][len(PREFIX) :], value if isinstance(value, str) else ""))
        else:
            rest.append(entry)
    if not pairs:
        return [rest], None
    meta = from_tree(unflatten(pairs))
    meta.source_order = tuple(name for name, _ in pairs)
    return [rest], meta


def ordered_flat(meta: Metadata) -> list[tuple[str, str]]:
    """The flattened block, in the order of the file it came from (else sorted)."""
    pairs = flatten(to_tree(meta))
    if not meta.source_order or not all("__" in n or n.isidentifier() for n in meta.source_order):
        return sorted(pairs)
    rank = {name: index for index, name in enumerate(meta.source_order)}
    if not any(name in rank for name, _ in pairs):
        return sorted(pairs)
    return sorted(pairs, key=lambda pair: (rank.get(pair[0], len(rank)), pair[0]))


def dump_encrypted(docs: list[Map], meta: Metadata) -> bytes:
    doc = Map(docs[0])
    for name, value in ordered_flat(meta):
        doc.append((PREFIX + name, value))
    return dump(doc)
