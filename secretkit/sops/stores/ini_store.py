"""INI store, compatible with sops' go-ini usage.

Each section is a top-level key whose value is a mapping of strings.  As in sops,
a section's comment is the first item of its mapping and a key's comment (the
lines before it) is the item right *after* the key; on output both are written
before what they describe.  Keys are aligned (go-ini ``PrettyFormat``); the
``[sops]`` section holds the flattened metadata with newlines escaped as ``\\n``
(sops 3.13.0/3.13.1 wrote go-ini ``\"\"\"`` multi-line values instead; both are read).
"""

from __future__ import annotations

from secretkit.errors import UserError
from secretkit.sops.metadata import Metadata
from secretkit.sops.stores.dotenv_store import ordered_flat, value_text
from secretkit.sops.stores.metablock import from_tree, unflatten, version_tuple
from secretkit.sops.tree import Comment, Map, Seq

DEFAULT_SECTION = "DEFAULT"
META_SECTION = "sops"


def _strip_comment(text: str) -> str:
    if text.startswith(";"):
        return text.lstrip("; ")
    if text.startswith("#"):
        return text.lstrip("# ")
    return text


def _unquote(value: str, lines: list[str], index: int, number: int) -> tuple[str, int]:
    """go-ini value parsing: triple quotes (multi-line), "…", `…`, inline comments."""
    if value.startswith('"""'):
        body = value[3:]
        if body.endswith('"""') and len(body) >= 3:
            return body[:-3], index
        parts = [body]
        while index + 1 < len(lines):
            index += 1
            line = lines[index].rstrip("\r")
            if line.endswith('"""'):
                parts.append(line[:-3])
                return "\n".join(parts), index
            parts.append(line)
        raise UserError(f'malformed INI file: unterminated """ value starting on line {number}')
    for quote in ('"', "`"):
        if len(value) >= 2 and value.startswith(quote) and value.endswith(quote):
            return value[1:-1], index
    cut = min((i for i in (value.find("#"), value.find(";")) if i >= 0), default=-1)
    if cut >= 0:
        value = value[:cut].rstrip()
    return value, index


def load(data: bytes) -> tuple[list[Map], object]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError("malformed INI file: not UTF-8 text") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    doc = Map()
    section: Map | None = None
    seen_keys: set[str] = set()
    pending: list[str] = []
    index = -1
    while index + 1 < len(lines):
        index += 1
        number = index + 1
        line = lines[index].rstrip("\r").strip()
        if not line:
            continue
        if line[0] in ";#":
            pending.append(line)
            continue
        if line.startswith("["):
            if not line.endswith("]") or len(line) < 3:
                raise UserError(f"malformed INI file: bad section header on line {number}")
            section = Map()
            seen_keys = set()
            if pending:
                section.append(Comment(_strip_comment("\n".join(pending))))
                pending = []
            doc.append((line[1:-1].strip(), section))
            continue
        skip = 0
        for quote in ('"""', "`", '"'):
            if line.startswith(quote):
                close = line.find(quote, len(quote))
                skip = close + len(quote) if close > 0 else 0
                break
        positions = [i for i in (line.find("=", skip), line.find(":", skip)) if i >= 0]
        if not positions:
            raise UserError(
                f"malformed INI file: line {number} is not key = value",
                hint="every line must be [section], key = value or a comment",
            )
        split = min(positions)
        key = line[:split].strip()
        for quote in ('"""', "`", '"'):
            if len(key) >= 2 and key.startswith(quote) and key.endswith(quote):
                key = key[1:-1]
        raw = line[split + 1 :].strip()
        value, index = _unquote(raw, lines, index, number)
        if section is None:
            section = Map()
            doc.append((DEFAULT_SECTION, section))
        if key in seen_keys:
            raise UserError(f"malformed INI file: duplicate key {key[:40]!r} on line {number}")
        seen_keys.add(key)
        section.append((key, value))
        if pending:
            section.append(Comment(_strip_comment("\n".join(pending))))
            pending = []
    return [doc], None


def _comment_lines(text: str) -> list[str]:
    first = text[:1] + " " + text[1:].strip() if text and text[0] in "#;" else "; " + text
    return first.replace("\n", "\n; ").split("\n")


def _quote_value(value: str) -> str:
    if "\n" in value or "`" in value:
        return '"""' + value + '"""'
    if "#" in value or ";" in value:
        return "`" + value + "`"
    if value.strip() != value:
        return '"' + value + '"'
    return value


def _quote_key(key: str) -> str:
    if '"' in key or "=" in key or ":" in key:
        return "`" + key + "`"
    if "`" in key:
        return '"""' + key + '"""'
    return key


def _section_lines(name: str, body: Map) -> list[str]:
    out: list[str] = []
    items = list(body)
    if items and isinstance(items[0], Comment):
        out.extend(_comment_lines(items[0].text))
        items = items[1:]
    if name != DEFAULT_SECTION:
        out.append(f"[{name}]")
    keys = [entry[0] for entry in items if isinstance(entry, tuple)]
    align = max((len(_quote_key(k)) for k in keys), default=0)
    pairs: list[tuple[str, str, str | None]] = []
    for entry in items:
        if isinstance(entry, Comment):
            if pairs:
                key, value, _ = pairs[-1]
                pairs[-1] = (key, value, entry.text)
            continue
        key, leaf = entry
        if isinstance(leaf, (Map, Seq, Comment)):
            raise UserError(f"cannot write a nested value to an INI file (key {key[:40]!r})")
        pairs.append((key, value_text(leaf), None))
    for key, value, comment in pairs:
        if comment is not None:
            out.extend(_comment_lines(comment))
        quoted = _quote_key(key)
        out.append(quoted + " " * (align - len(quoted)) + " = " + _quote_value(value))
    out.append("")
    return out


def dump(doc: Map, *, trailing_blank: bool = False) -> bytes:
    """go-ini output; go-ini before sops 3.13 also ended the last section with a blank line."""
    lines: list[str] = []
    for entry in doc:
        if isinstance(entry, Comment):
            continue
        name, body = entry
        if not isinstance(body, Map):
            raise UserError(f"INI sections must be mappings (section {name[:40]!r})")
        lines.extend(_section_lines(name, body))
    if lines and not trailing_blank:
        lines.pop()
    return ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8", "surrogateescape")


def split_metadata(docs: list[Map]) -> tuple[list[Map], Metadata | None]:
    doc = docs[0]
    index = doc.find(META_SECTION)
    if index < 0:
        return [doc], None
    entry = doc[index]
    assert isinstance(entry, tuple)
    body = entry[1]
    if not isinstance(body, Map):
        raise UserError("malformed sops metadata: [sops] is not a section")
    pairs = [
        (key, value.replace("\\n", "\n") if isinstance(value, str) else "")
        for key, value in (e for e in body if isinstance(e, tuple))
    ]
    meta = from_tree(unflatten(pairs))
    meta.source_order = tuple(name for name, _ in pairs)
    rest = Map(e for i, e in enumerate(doc) if i != index)
    return [rest], meta


def dump_encrypted(docs: list[Map], meta: Metadata) -> bytes:
    raw_newlines = version_tuple(meta.version)[:2] == (3, 13) and version_tuple(meta.version) < (
        3,
        13,
        2,
    )
    section = Map()
    for name, value in ordered_flat(meta):
        section.append((name, value if raw_newlines else value.replace("\n", "\\n")))
    trailing = version_tuple(meta.version) < (3, 13)
    return dump(Map([*docs[0], (META_SECTION, section)]), trailing_blank=trailing)
