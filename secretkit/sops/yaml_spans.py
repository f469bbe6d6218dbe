"""A YAML document as nodes with character spans, for editing by splicing text.

``.sops.yaml`` is edited like the Nix files: find the spans to change in a parse
tree, replace them from the end backwards, re-parse the result and validate it
before anything is written (pre-commit's ``migrate_config`` does the same).  The
user's indentation, quoting, comments and blank lines outside the edited spans
stay byte for byte, and the work is linear in the size of the file.

The tree comes from ruamel.yaml's event stream (pure-Python parser, marks with
character offsets).  Each node's ``end`` is the end of its last character of
content (for block collections: of their last item, not the start of whatever
follows), so that "the lines of an item" are exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from secretkit.lazy_re import lazy


@dataclass
class Node:
    kind: str  # "scalar" | "alias" | "seq" | "map"
    start: int
    end: int
    anchor: str | None = None  # &anchor on this node; for an alias: the name it refers to
    value: str = ""  # a scalar's value
    style: str | None = None  # a scalar's quote character, or None for plain
    flow: bool = False
    items: list[Node] = field(default_factory=list)  # seq items
    pairs: list[tuple[Node, Node]] = field(default_factory=list)  # map (key, value)

    def get(self, key: str) -> Node | None:
        return next((v for k, v in self.pairs if k.kind == "scalar" and k.value == key), None)

    def key_node(self, key: str) -> Node | None:
        return next((k for k, _ in self.pairs if k.kind == "scalar" and k.value == key), None)

    def walk(self) -> Iterator[Node]:
        yield self
        for item in self.items:
            yield from item.walk()
        for key, value in self.pairs:
            yield from key.walk()
            yield from value.walk()


MAX_DEPTH = 64  # far more than any configuration file needs; no runaway nesting


class YamlSyntaxError(ValueError):
    """Not YAML this module can read (the caller turns it into a ConfigError).

    ``kind`` is "syntax", "duplicate anchor", "undefined alias" or "too deep".
    """

    def __init__(
        self, kind: str, message: str, line: int | None = None, column: int | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.line = line
        self.column = column


def parse(text: str) -> Node | None:
    """The first document of ``text`` as a span tree (None when it is empty)."""
    from ruamel.yaml import YAML, events
    from ruamel.yaml.error import YAMLError

    stack: list[Node] = []
    pending_key: list[Node | None] = []
    root: Node | None = None
    anchors: set[str] = set()

    def define(event: object) -> None:
        anchor = getattr(event, "anchor", None)
        if anchor is None:
            return
        if anchor in anchors:
            mark = event.start_mark  # type: ignore[attr-defined]
            raise YamlSyntaxError("duplicate anchor", anchor, mark.line + 1, mark.column + 1)
        anchors.add(anchor)

    def attach(node: Node) -> None:
        nonlocal root
        if not stack:
            root = node if root is None else root
            return
        parent = stack[-1]
        if parent.kind == "seq":
            parent.items.append(node)
        elif pending_key[-1] is None:
            pending_key[-1] = node
        else:
            key = pending_key[-1]
            assert key is not None
            parent.pairs.append((key, node))
            pending_key[-1] = None

    try:
        for event in YAML(typ="safe", pure=True).parse(text):
            start, end = event.start_mark.index, event.end_mark.index
            if isinstance(event, events.AliasEvent) and event.anchor not in anchors:
                mark = event.start_mark
                raise YamlSyntaxError("undefined alias", "", mark.line + 1, mark.column + 1)
            if isinstance(event, events.ScalarEvent | events.CollectionStartEvent):
                define(event)
            if isinstance(event, events.ScalarEvent):
                style = event.style if event.style in ("'", '"') else None
                attach(Node("scalar", start, end, event.anchor, event.value, style))
            elif isinstance(event, events.AliasEvent):
                attach(Node("alias", start, end, event.anchor))
            elif isinstance(event, events.SequenceStartEvent | events.MappingStartEvent):
                kind = "seq" if isinstance(event, events.SequenceStartEvent) else "map"
                node = Node(kind, start, end, event.anchor, flow=bool(event.flow_style))
                attach(node)
                stack.append(node)
                pending_key.append(None)
                if len(stack) > MAX_DEPTH:
                    mark = event.start_mark
                    raise YamlSyntaxError("too deep", "", mark.line + 1, mark.column + 1)
            elif isinstance(event, events.SequenceEndEvent | events.MappingEndEvent):
                node = stack.pop()
                pending_key.pop()
                if node.flow:
                    node.end = end
                else:
                    children = [*node.items, *(v for _, v in node.pairs)]
                    node.end = max((c.end for c in children), default=node.start)
            elif isinstance(event, events.DocumentEndEvent):
                break
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise YamlSyntaxError(
            "syntax",
            str(getattr(exc, "problem", "") or "invalid YAML"),
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
        ) from None
    return root


# ---------------------------------------------------------------------------
# positions
# ---------------------------------------------------------------------------


def line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def line_end(text: str, index: int) -> int:
    """Just past the newline of the line holding ``text[index - 1]``."""
    at = text.find("\n", max(index - 1, 0))
    return len(text) if at < 0 else at + 1


def column(text: str, index: int) -> int:
    return index - line_start(text, index)


def dash_of(text: str, item: Node) -> int:
    """Where the ``-`` of a block sequence item is (it may be on an earlier line)."""
    j = item.start - 1
    while j >= 0 and text[j] in " \t\r\n":
        j -= 1
    return j if j >= 0 and text[j] == "-" else item.start


def item_lines(text: str, item: Node) -> tuple[int, int]:
    """The whole lines of a block sequence item: from its dash's line to the end of the
    line of its last content (its same-line comment included)."""
    return line_start(text, dash_of(text, item)), line_end(text, item.end)


def value_span(text: str, node: Node) -> tuple[int, int]:
    """The span of a scalar's text without its ``&anchor``/``!tag`` properties."""
    i = node.start
    while i < node.end and text[i] in "&!":
        while i < node.end and text[i] not in " \t\r\n":
            i += 1
        while i < node.end and text[i] in " \t\r\n":
            i += 1
    return i, node.end


@dataclass(frozen=True)
class Splice:
    start: int
    end: int
    text: str


def apply(text: str, splices: list[Splice]) -> str:
    """Apply non-overlapping splices (insertions at one point keep their given order)."""
    ordered = sorted(enumerate(splices), key=lambda p: (p[1].start, p[1].end, p[0]))
    out: list[str] = []
    at = 0
    for _, splice in ordered:
        if splice.start < at:
            raise ValueError("overlapping edits")
        out.append(text[at : splice.start])
        out.append(splice.text)
        at = splice.end
    out.append(text[at:])
    return "".join(out)


# ---------------------------------------------------------------------------
# plain Python values (what a YAML 1.2 "safe" load gives), from the same tree
# ---------------------------------------------------------------------------

_NULL = ("", "~", "null", "Null", "NULL")
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")
_INT = lazy(r"[-+]?[0-9]+")
_FLOAT = lazy(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")


def scalar_value(node: Node) -> object:
    """The value of a scalar under the YAML 1.2 core schema."""
    text = node.value
    if node.style is not None:
        return text
    if text in _NULL:
        return None
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    if _INT.fullmatch(text):
        return int(text)
    if text[:2] in ("0o", "0x") and len(text) > 2:
        try:
            return int(text, 8 if text[1] == "o" else 16)
        except ValueError:
            return text
    if _FLOAT.fullmatch(text) and any(c.isdigit() for c in text):
        return float(text)
    return text


def to_python(root: Node | None) -> object:
    """dict/list/str/int/float/bool/None for the tree (aliases resolved, ``<<`` merged)."""
    anchors: dict[str, object] = {}

    def convert(node: Node) -> object:
        if node.kind == "alias":
            return anchors.get(node.anchor or "")
        if node.kind == "scalar":
            value = scalar_value(node)
        elif node.kind == "seq":
            value = []
        else:
            value = {}
        if node.anchor:
            anchors[node.anchor] = value
        if isinstance(value, list):
            value.extend(convert(item) for item in node.items)
        elif isinstance(value, dict):
            merged: dict[object, object] = {}
            for key, item in node.pairs:
                k = convert(key)
                v = convert(item)
                if k == "<<" and key.style is None:
                    for source in v if isinstance(v, list) else [v]:
                        if isinstance(source, dict):
                            for mk, mv in source.items():
                                merged.setdefault(mk, mv)
                    continue
                value[k if isinstance(k, str | int | float | bool) or k is None else str(k)] = v
            for mk, mv in merged.items():
                value.setdefault(mk, mv)
        return value

    return None if root is None else convert(root)
