"""YAML store: ruamel.yaml reads, a go-yaml-compatible emitter writes.

Reading uses ruamel.yaml's composer (positions, styles, explicit tags) and types
plain scalars with go-yaml v3's resolver, so values get the types sops gives them
(``yes`` stays a string, untagged timestamps stay strings).  Comment lines are
placed in the innermost block collection that encloses them by line and column.

Writing re-implements the parts of go-yaml's emitter that sops files use: block
style everywhere, indent ``n`` (default 4) with sequences indented inside mappings
(go-yaml v3) or indentless with ``-   `` items (go-yaml v2, sops < 3.7), literal
blocks for multi-line strings, double quotes (v3) or single quotes (v2) for
strings that would resolve to another type, ``#text`` comments.
"""

from __future__ import annotations

import base64
import bisect
import io
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from secretkit.errors import UserError
from secretkit.sops import goformat
from secretkit.sops.tree import Comment, GoTime, Map, Seq, Value

# --- go-yaml v3 resolution ----------------------------------------------------------

_NULLS = {"", "~", "null", "Null", "NULL"}
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_SPECIAL_FLOATS = {
    **{s: math.inf for s in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")},
    **{s: -math.inf for s in ("-.inf", "-.Inf", "-.INF")},
    **{s: math.nan for s in (".nan", ".NaN", ".NAN")},
}
_OLD_BOOLS = {
    "y", "Y", "yes", "Yes", "YES", "on", "On", "ON",
    "n", "N", "no", "No", "NO", "off", "Off", "OFF",
}  # fmt: skip
_BASE60 = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_GO_INT = re.compile(r"^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$")
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:(?:[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?(Z|[+-]\d{2}:\d{2}))"
    r"|(?: (\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?))?$"
)
_HINTED = set("+-0123456789.yYnNtTfFoO~")


def _go_int(text: str) -> int | None:
    plain = text.replace("_", "")
    if not _GO_INT.match(plain):
        return None
    sign = -1 if plain.startswith("-") else 1
    body = plain.lstrip("+-")
    if len(body) > 1 and body[0] == "0" and body[1] in "xXoObB":
        value = int(body[2:], {"x": 16, "o": 8, "b": 2}[body[1].lower()])
    elif len(body) > 1 and body[0] == "0":
        value = int(body, 8)
    else:
        value = int(body)
    value *= sign
    if -(2**63) <= value < 2**64:
        return value
    return None


def _timestamp(text: str) -> bool:
    m = _TIMESTAMP.match(text)
    if not m:
        return False
    try:
        from datetime import date

        date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return False
    for hour, minute, second in (
        (m.group(4), m.group(5), m.group(6)),
        (m.group(9), m.group(10), m.group(11)),
    ):
        if hour is not None and (int(hour) > 23 or int(minute) > 59 or int(second) > 59):
            return False
    return True


def resolve(text: str) -> Value | GoTime:
    """The value go-yaml v3 gives a plain scalar (``str`` when it stays a string)."""
    if text in _NULLS:
        return None
    if not text or text[0] not in _HINTED:
        return text
    if text in _BOOLS:
        return _BOOLS[text]
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    if text[0] in "+-0123456789":
        if _timestamp(text):
            return GoTime(text)
        integer = _go_int(text)
        if integer is not None:
            if integer == 0 and text.startswith("-"):
                return -0.0  # go-yaml writes float -0 as "-0": keep the sign (and the MAC bytes)
            return integer
        plain = text.replace("_", "")
        if _YAML_FLOAT.match(plain):
            return float(plain)
        return text
    if text[0] == ".":
        try:
            return goformat.parse_float(text)
        except ValueError:
            return text
    return text


def _resolves_to_string(text: str) -> bool:
    return isinstance(resolve(text), str)


# --- reading ------------------------------------------------------------------------


@dataclass
class YamlLayout:
    indent: int = 4


def _err(message: str, node: Node | None = None) -> UserError:
    where = f" at line {node.start_mark.line + 1}" if node is not None else ""
    return UserError(f"malformed YAML{where}: {message}", hint="fix the file's YAML syntax")


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.split("\n")

    def scalar(self, node: ScalarNode) -> Value:
        explicit = self.text[node.start_mark.index : node.start_mark.index + 1] == "!"
        tag = str(node.tag)
        value: str = str(node.value)
        if explicit:
            short = tag.rsplit(":", 1)[-1] if tag.startswith("tag:yaml.org,2002:") else tag
            try:
                if short == "str":
                    return value
                if short == "int":
                    integer = _go_int(value)
                    if integer is None:
                        raise ValueError
                    return integer
                if short == "float":
                    return float(value) if value not in _SPECIAL_FLOATS else _SPECIAL_FLOATS[value]
                if short == "bool":
                    return _BOOLS[value]
                if short == "null":
                    return None
                if short == "timestamp":
                    return GoTime(goformat.yaml_time_text(value))
                if short == "binary":
                    return base64.b64decode("".join(value.split())).decode(
                        "utf-8", "surrogateescape"
                    )
            except (ValueError, KeyError):
                raise _err(f"value does not match its !!{short} tag", node) from None
            return value
        if node.style is None:
            resolved = resolve(value)
            if isinstance(resolved, GoTime):
                return value  # go-yaml v3: untagged timestamps stay strings
            return resolved
        return value

    def key(self, node: Node) -> str:
        if not isinstance(node, ScalarNode):
            raise _err("only string keys are supported", node)
        explicit = self.text[node.start_mark.index : node.start_mark.index + 1] == "!"
        if (
            node.style is None
            and not explicit
            and node.value != "<<"
            and not _resolves_to_string(node.value)
        ):
            raise _err("only string keys are supported", node)
        if explicit and not str(node.tag).endswith(":str"):
            raise _err("only string keys are supported", node)
        return str(node.value)

    def convert(self, node: Node, depth: int = 0) -> Value:
        if depth > 200:
            raise _err("nesting too deep", node)
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if isinstance(node, SequenceNode):
            return Seq(self.convert(child, depth + 1) for child in node.value)
        if isinstance(node, MappingNode):
            out = Map()
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = self.key(key_node)
                if key in seen:
                    raise _err(f"duplicate key {key[:40]!r}", key_node)
                seen.add(key)
                out.append((key, self.convert(value_node, depth + 1)))
            return out
        raise _err("unsupported node", node)


@dataclass
class _Block:
    """Where a block collection's items start, for placing comment lines."""

    value: Value
    node: Node
    items: list[tuple[int, Node | None, Node]]  # (item start line, key node, value node)
    column: int
    starts: list[int] = field(default_factory=list)
    children: dict[int, _Block | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.starts = [start for start, _key, _value in self.items]


def _comment_lines(text: str, nodes: list[Node]) -> list[tuple[int, int, str, bool]]:
    """(line, column, text after '#') of every comment, full-line or trailing."""
    lines = text.split("\n")
    inside: set[int] = set()
    trailing: dict[int, int] = {}
    stack: list[Node] = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, ScalarNode):
            start, end = node.start_mark.line, node.end_mark.line
            last = end if node.end_mark.column > 0 else end - 1
            if node.style in ("|", ">"):
                inside.update(range(start + 1, last + 1))
                header = lines[start]
                column = node.start_mark.column + 1
                while column < len(header) and header[column] in "123456789+-":
                    column += 1
                trailing[start] = max(trailing.get(start, 0), column)
            else:
                inside.update(range(start + 1, end + 1))
                trailing[end] = max(trailing.get(end, 0), node.end_mark.column)
        elif isinstance(node, SequenceNode):
            if node.flow_style:
                trailing[node.end_mark.line] = max(
                    trailing.get(node.end_mark.line, 0), node.end_mark.column
                )
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            if node.flow_style:
                trailing[node.end_mark.line] = max(
                    trailing.get(node.end_mark.line, 0), node.end_mark.column
                )
            for key_node, value_node in node.value:
                stack.append(key_node)
                stack.append(value_node)
    found: list[tuple[int, int, str, bool]] = []
    for number, line in enumerate(lines):
        stripped = line.lstrip(" \t")
        if number not in inside and stripped.startswith("#"):
            found.append((number, len(line) - len(stripped), stripped[1:].rstrip("\r"), False))
        elif number in trailing:
            rest = line[trailing[number] :]
            hash_at = rest.find("#")
            if (
                hash_at >= 0
                and rest[:hash_at].strip() == ""
                and (hash_at > 0 or trailing[number] == 0)
            ):
                text = rest[hash_at + 1 :].rstrip("\r")
                found.append((number, trailing[number] + hash_at, text, True))
    return found


def _block_of(value: Value, node: Node) -> _Block | None:
    if (
        isinstance(node, MappingNode)
        and not node.flow_style
        and isinstance(value, Map)
        and node.value
    ):
        items = [(k.start_mark.line, k, v) for k, v in node.value]
        return _Block(value, node, items, node.value[0][0].start_mark.column)
    if (
        isinstance(node, SequenceNode)
        and not node.flow_style
        and isinstance(value, Seq)
        and node.value
    ):
        items = [(v.start_mark.line, None, v) for v in node.value]
        return _Block(value, node, items, _dash_column(node))
    return None


def _last_item_at(block: _Block, line: int) -> int:
    """Index of the last item starting on or before ``line`` (-1 if none)."""
    return bisect.bisect_right(block.starts, line) - 1


def _child_block(block: _Block, index: int) -> _Block | None:
    if index not in block.children:
        value = _child_value(block.value, index)
        child = _block_of(value, block.items[index][2]) if value is not None else None
        block.children[index] = child
    return block.children[index]


class _Placer:
    """Decides where comment lines go, following go-yaml v3's head/foot rules.

    go-yaml attaches a run of comment lines either to the following token (a head
    comment: sops stores it before that entry) or, as a foot comment, to the block the
    preceding content belongs to: the first comment line right after content (no blank
    line between) is a foot unless that content opens a nested block, and so is any
    part of the run written at a column dedented from that block and different from
    where the next line starts.  sops keeps foot comments at the end of that block.
    """

    def __init__(
        self, root: Map, root_node: MappingNode, lines: list[str], comment_lines: set[int]
    ):
        self.root = root
        self.root_block = _block_of(root, root_node)
        self.root_node = root_node
        self.lines = lines
        self.comment_lines = comment_lines
        self.inserts: dict[int, tuple[Map | Seq, list[tuple[int, Comment]]]] = {}

    def add(self, target: Map | Seq, position: int, comment: Comment) -> None:
        self.inserts.setdefault(id(target), (target, []))[1].append((position, comment))

    def apply(self) -> None:
        for target, items in self.inserts.values():
            by_position: dict[int, list[Comment]] = {}
            for position, comment in items:
                by_position.setdefault(position, []).append(comment)
            for position in sorted(by_position, reverse=True):
                target[position:position] = by_position[position]

    # -- positions ----------------------------------------------------------------

    def by_indent(self, line: int, column: int, inline: bool) -> tuple[Map | Seq, int, bool]:
        """Container and position implied by line and column (and same-line for inline)."""
        block = self.root_block
        if block is None:
            at_end = bool(self.root) and line >= self.root_node.start_mark.line
            return self.root, len(self.root) if at_end else 0, False
        while True:
            index = _last_item_at(block, line)
            if index < 0:
                return block.value, 0, False  # type: ignore[return-value]
            child = _child_block(block, index)
            if child is not None and column >= child.column and line >= child.items[0][0]:
                block = child
                continue
            if child is not None and block.items[index][0] < line < child.items[0][0]:
                return child.value, 0, False  # type: ignore[return-value]
            same_line = block.items[index][0] == line
            # sops keeps a trailing comment *before* the entry it ends the line of
            position = index if inline and same_line else index + 1
            return block.value, position, same_line  # type: ignore[return-value]

    def innermost(self, line: int) -> tuple[_Block, int] | None:
        """The innermost block holding the content of ``line`` and that item's index."""
        block = self.root_block
        if block is None:
            return None
        while True:
            index = _last_item_at(block, line)
            if index < 0:
                return None
            child = _child_block(block, index)
            if child is not None and child.items[0][0] <= line:
                block = child
                continue
            return block, index

    def starting_at(self, line: int) -> tuple[_Block, int] | None:
        """The outermost block with an item that starts on ``line``."""
        block = self.root_block
        while block is not None:
            index = _last_item_at(block, line)
            if index < 0:
                return None
            if block.items[index][0] == line:
                return block, index
            block = _child_block(block, index)
        return None

    # -- runs ---------------------------------------------------------------------

    def _content_line(self, number: int) -> bool:
        return number not in self.comment_lines and self.lines[number].strip() != ""

    def run(self, run: list[tuple[int, int, str]], begin: int, end: int) -> None:
        first = run[0][0]
        previous = next((n for n in range(first - 1, begin - 1, -1) if self._content_line(n)), None)
        following = next((n for n in range(run[-1][0] + 1, end) if self._content_line(n)), None)
        holder = self.innermost(previous) if previous is not None else None
        if previous is not None and self.lines[previous].lstrip().startswith("---"):
            holder = None
        foot: list[tuple[int, int, str]] = []
        rest = list(run)
        if holder is not None and previous is not None:
            block, _index = holder
            indent = block.column
            head = self.lines[previous].split(" #")[0].strip()
            opens = head.endswith(":") or head == "-" or head.endswith(" -")  # ``key:`` / ``-``
            if first == previous + 1 and (not opens or run[0][1] < indent):
                foot.append(rest.pop(0))
            group: list[tuple[int, int, str]] = []
            for item in rest:
                if group and item[1] < indent and item[1] != group[0][1]:
                    foot.extend(group)
                    group = []
                group.append(item)
            if group and following is not None:
                next_col = len(self.lines[following]) - len(self.lines[following].lstrip(" "))
                if next_col < indent and next_col != group[0][1]:
                    foot.extend(group)
                    group = []
            rest = group
            for _line, _col, text in foot:
                self.add(block.value, _last_item_at(block, previous) + 1, Comment(text))  # type: ignore[arg-type]
        if not rest:
            return
        target = self.starting_at(following) if following is not None else None
        for line, column, text in rest:
            if target is not None:
                block, index = target
                self.add(block.value, index, Comment(text))  # type: ignore[arg-type]
            else:  # end of the document (or no entry starts there): by indentation
                container, position, _same = self.by_indent(line, column, False)
                self.add(container, position, Comment(text))


def _place_comments(
    root: Map,
    root_node: MappingNode,
    comments: list[tuple[int, int, str, bool]],
    lines: list[str],
    region: tuple[int, int],
) -> None:
    """Insert comment items into the tree where go-yaml (and so sops) would put them."""
    placer = _Placer(root, root_node, lines, {c[0] for c in comments if not c[3]})
    runs: list[list[tuple[int, int, str]]] = []
    inline_comments: list[tuple[int, int, str]] = []
    for line, column, text, inline in comments:
        if inline:
            inline_comments.append((line, column, text))
        elif runs and all(not placer._content_line(n) for n in range(runs[-1][-1][0] + 1, line)):
            runs[-1].append((line, column, text))
        else:
            runs.append([(line, column, text)])
    # In file order, so that comments landing on the same position keep their order.
    events = [(run[0][0], 0, run) for run in runs] + [(c[0], 1, [c]) for c in inline_comments]
    for _line, kind, items in sorted(events, key=lambda event: (event[0], event[1])):
        if kind == 0:
            placer.run(items, region[0], region[1])
        else:
            line, column, text = items[0]
            container, position, same_line = placer.by_indent(line, column, True)
            placer.add(container, position, Comment(text, same_line))
    placer.apply()


def _child_value(container: Value, index: int) -> Value | None:
    if isinstance(container, Map):
        entry = container[index]
        return entry[1] if isinstance(entry, tuple) else None
    if isinstance(container, Seq):
        return container[index]
    return None


def _dash_column(node: SequenceNode) -> int:
    first: Node = node.value[0]
    column: int = first.start_mark.column
    return max(0, column - 2)


def _detect_indent(text: str) -> int:
    for line in text.split("\n"):
        stripped = line.lstrip(" ")
        if stripped and not stripped.startswith("#") and len(line) != len(stripped):
            width = len(line) - len(stripped)
            if 2 <= width <= 9:
                return width
            break
    return 4


def _document_regions(text: str, nodes: list[Node | None]) -> list[tuple[int, int]]:
    """The line range of each document, split at its ``---`` marker (comments after a
    marker belong to the document it starts)."""
    lines = text.split("\n")
    total = len(lines)
    markers = [n for n, line in enumerate(lines) if re.match(r"---(\s|$)", line)]
    if len(markers) == len(nodes) - 1:
        starts = [0, *markers]
    elif len(markers) == len(nodes) and nodes:
        starts = [0, *markers[1:]]
    else:  # markers inside scalars or "..." ends: fall back to where the content starts
        starts = [0] + [n.start_mark.line if n is not None else total for n in nodes[1:]]
    ends = [*starts[1:], total]
    return list(zip(starts, ends, strict=True))


def load(data: bytes) -> tuple[list[Map], YamlLayout]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError("malformed YAML: the file is not UTF-8 text") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    yaml = YAML(typ="rt", pure=True)
    try:
        nodes = list(yaml.compose_all(io.StringIO(text)))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = (exc.problem or "syntax error").split("\n")[0]
        problem = re.sub(r"'.*'|\".*\"", "<text>", problem)
        raise UserError(
            f"malformed YAML{where}: {problem}", hint="fix the file's YAML syntax"
        ) from None
    except (YAMLError, ValueError, RecursionError) as exc:
        raise UserError(
            f"malformed YAML: {type(exc).__name__}", hint="fix the file's YAML syntax"
        ) from None
    reader = _Reader(text)
    docs: list[Map] = []
    comments = _comment_lines(text, [n for n in nodes if n is not None])
    regions = _document_regions(text, nodes)
    for position, node in enumerate(nodes):
        if node is None or (
            isinstance(node, ScalarNode) and node.value == "" and node.style is None
        ):
            docs.append(Map())
            continue
        if not isinstance(node, MappingNode):
            raise _err("the top level of a document must be a mapping", node)
        value = reader.convert(node)
        assert isinstance(value, Map)
        begin, end = regions[position]
        mine = [c for c in comments if begin <= c[0] < end]
        _place_comments(value, node, mine, text.split("\n"), (begin, end))
        docs.append(value)
    if not docs:
        docs.append(Map())
    return docs, YamlLayout(_detect_indent(text))


# --- writing ------------------------------------------------------------------------


def _go_g(value: float) -> str:
    """``strconv.FormatFloat(v, 'g', -1, 64)`` as go-yaml writes floats."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    digit_text = "".join(map(str, digits)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    point = len(digits) + exponent  # position of the decimal point in the digit string
    exp = point - 1
    prefix = "-" if sign else ""
    if exp < -4 or exp >= 6:  # shortest formatting: Go uses precision 6 for the decision
        mantissa = digit_text[0] + ("." + digit_text[1:] if len(digit_text) > 1 else "")
        esign = "-" if exp < 0 else "+"
        return f"{prefix}{mantissa}e{esign}{abs(exp):02d}"
    return prefix + goformat.format_float(abs(value))


def _printable(ch: str) -> bool:
    code = ord(ch)
    return (
        code == 0x0A
        or 0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
    )


_BREAKS = "\n\r\x85\u2028\u2029"


@dataclass
class _Analysis:
    multiline: bool
    flow_plain: bool
    block_plain: bool
    single_quoted: bool
    block: bool


def _analyze(value: str) -> _Analysis:
    if not value:
        return _Analysis(False, False, True, True, False)
    block_ind = flow_ind = False
    if value.startswith(("---", "...")):
        block_ind = flow_ind = True
    line_breaks = special = False
    leading_space = leading_break = trailing_space = trailing_break = False
    break_space = space_break = previous_space = previous_break = False
    preceded_ws = True
    n = len(value)
    for i, ch in enumerate(value):
        followed_ws = i + 1 >= n or value[i + 1] in " \t" + _BREAKS
        if i == 0:
            if ch in "#,[]{}&*!|>'\"%@`":
                flow_ind = block_ind = True
            if ch in "?:":
                flow_ind = True
                if followed_ws:
                    block_ind = True
            if ch == "-" and followed_ws:
                flow_ind = block_ind = True
        else:
            if ch in ",?[]{}":
                flow_ind = True
            if ch == ":":
                flow_ind = True
                if followed_ws:
                    block_ind = True
            if ch == "#" and preceded_ws:
                flow_ind = block_ind = True
        if not _printable(ch) and ch not in _BREAKS:
            special = True
        if ch in "\r\x85":
            special = True
        if ch in _BREAKS:
            line_breaks = True
        if ch == " ":
            if i == 0:
                leading_space = True
            if i == n - 1:
                trailing_space = True
            if previous_break:
                break_space = True
            previous_space, previous_break = True, False
        elif ch in _BREAKS:
            if i == 0:
                leading_break = True
            if i == n - 1:
                trailing_break = True
            if previous_space:
                space_break = True
            previous_space, previous_break = False, True
        else:
            previous_space = previous_break = False
        preceded_ws = ch in " \t" + _BREAKS
    flow_plain = block_plain = single = block = True
    if leading_space or leading_break or trailing_space or trailing_break:
        flow_plain = block_plain = False
    if trailing_space:
        block = False
    if break_space:
        flow_plain = block_plain = single = False
    if space_break or special:
        flow_plain = block_plain = single = block = False
    if line_breaks:
        flow_plain = block_plain = False
    if flow_ind:
        flow_plain = False
    if block_ind:
        block_plain = False
    return _Analysis(line_breaks, flow_plain, block_plain, single, block)


_DQ_ESCAPES = {
    "\0": "0", "\a": "a", "\b": "b", "\t": "t", "\n": "n", "\v": "v", "\f": "f",
    "\r": "r", "\x1b": "e", '"': '"', "\\": "\\", "\x85": "N", "\xa0": "_",
    "\u2028": "L", "\u2029": "P",
}  # fmt: skip


def _double_quoted(value: str) -> str:
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch in '"\\' or ch in _BREAKS or not _printable(ch) or code == 0xFEFF:
            if ch in _DQ_ESCAPES and ch != "\xa0":
                out.append("\\" + _DQ_ESCAPES[ch])
            elif code <= 0xFF:
                out.append(f"\\x{code:02X}")
            elif code <= 0xFFFF:
                out.append(f"\\u{code:04X}")
            else:
                out.append(f"\\U{code:08X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


@dataclass
class _Scalar:
    style: str  # plain, single, double, literal
    text: str


def _string_scalar(value: str, key: bool, v2: bool) -> _Scalar:
    can_plain = _resolves_to_string(value) and not _BASE60.match(value) and value not in _OLD_BOOLS
    if "\n" in value:
        style = "literal"
    elif can_plain:
        style = "plain"
    else:
        style = "single" if v2 else "double"
    analysis = _analyze(value)
    if key and analysis.multiline:
        style = "double"
    if style == "plain" and (not analysis.block_plain or (not value and key)):
        style = "single"
    if style == "single" and not analysis.single_quoted:
        style = "double"
    if style == "literal" and (not analysis.block or key):
        style = "double"
    if style == "plain":
        return _Scalar("plain", value)
    if style == "single":
        return _Scalar("single", "'" + value.replace("'", "''") + "'")
    if style == "double":
        return _Scalar("double", _double_quoted(value))
    return _Scalar("literal", value)


def _leaf_scalar(value: Value, v2: bool) -> _Scalar:
    if value is None:
        return _Scalar("plain", "null")
    if isinstance(value, bool):
        return _Scalar("plain", "true" if value else "false")
    if isinstance(value, int):
        return _Scalar("plain", str(value))
    if isinstance(value, float):
        return _Scalar("plain", _go_g(value))
    if isinstance(value, GoTime):
        return _Scalar("plain", value.text)
    if isinstance(value, bytes):
        return _string_scalar(value.decode("utf-8", "surrogateescape"), False, v2)
    assert isinstance(value, str)
    return _string_scalar(value, False, v2)


class Emitter:
    """Writes documents the way go-yaml (v3, or v2 for old sops) does for sops.

    ``inline_comments``: sops >= 3.13 writes a trailing comment back at the end of
    its line; older sops wrote it as a comment line above the entry.
    """

    def __init__(self, indent: int = 4, v2: bool = False, inline_comments: bool = True) -> None:
        self.best = indent if 2 <= indent <= 9 else 2
        self.v2 = v2
        self.inline = inline_comments
        self.out: list[str] = []

    def _child_indent(self, col: int) -> int:
        if self.v2:
            return col + self.best
        return self.best * ((col + self.best) // self.best)

    def _item_indent(self, col: int) -> int:
        """Where the content of a ``- `` item starts."""
        return col + self.best if self.v2 else col + 2

    def document(self, doc: Map) -> None:
        if not doc.keys():
            for entry in doc:
                if isinstance(entry, Comment):
                    self.out.append("#" + entry.text + "\n")
            self.out.append("{}\n")
            return
        self._map(doc, 0, None)

    def render(self, docs: list[Map]) -> str:
        for number, doc in enumerate(docs):
            if number:
                self.out.append("---\n")
            self.document(doc)
        return "".join(self.out)

    def _line_start(self, col: int, prefix: list[str] | None) -> str:
        if prefix:
            return prefix.pop()
        return " " * col

    def _comment_line(self, col: int, comment: Comment) -> None:
        self.out.append(" " * col + "#" + comment.text + "\n")

    def _inline_fits(self, pending: list[Comment], value: Value) -> bool:
        return (
            self.inline
            and bool(pending)
            and pending[-1].inline
            and not isinstance(value, (Map, Seq))
        )

    def _lines_pending(self, pending: list[Comment], value: Value) -> bool:
        """Whether some pending comments will be written as lines of their own."""
        return len(pending) > (1 if self._inline_fits(pending, value) else 0)

    def _suffix(self, pending: list[Comment], col: int, value: Value) -> str:
        """Emit pending comments; return the inline one (if any) for the next line."""
        inline = ""
        if self._inline_fits(pending, value):
            inline = " #" + pending.pop().text
        for comment in pending:
            self._comment_line(col, comment)
        pending.clear()
        return inline

    def _after_block(self, value: Value) -> bool:
        """Whether ``value`` was written as a nested block whose last line is content
        (a comment there already ends go-yaml's foot of that block)."""
        if not isinstance(value, (Map, Seq)) or all(isinstance(v, Comment) for v in value):
            return False
        last = value[-1]
        if isinstance(last, Comment):
            return False
        child = last[1] if isinstance(last, tuple) else last
        return (
            True
            if not isinstance(child, (Map, Seq))
            else self._after_block(child) or (not any(not isinstance(v, Comment) for v in child))
        )

    def _separate(self, deeper: bool) -> bool:
        """go-yaml reads a comment right after a deeper block as that block's foot; a
        blank line keeps it with the entry that follows (sops itself omits the line
        and then cannot decrypt such a comment)."""
        if deeper:
            self.out.append("\n")
        return False

    def _map(self, node: Map, col: int, prefix: list[str] | None) -> None:
        pending: list[Comment] = []
        deeper = False
        for entry in node:
            if isinstance(entry, Comment):
                if entry.inline:
                    pending.append(entry)
                else:
                    deeper = self._separate(deeper)
                    for comment in pending:
                        self._comment_line(col, comment)
                    pending.clear()
                    self._comment_line(col, entry)
                continue
            key, value = entry
            if self._lines_pending(pending, value):
                deeper = self._separate(deeper)
            suffix = self._suffix(pending, col, value)
            head = self._line_start(col, prefix) + self._key(key) + ":"
            self._value(head, value, col, in_seq=False, suffix=suffix)
            deeper = self._after_block(value)
        if pending:
            self._separate(deeper)
        for comment in pending:
            self._comment_line(col, comment)

    def _key(self, key: str) -> str:
        scalar = _string_scalar(key, True, self.v2)
        return scalar.text

    def _hoist(self, head: str, value: Map | Seq) -> Map | Seq:
        """Leading comments of a collection that starts on its ``- `` line go above it."""
        count = 0
        while count < len(value) and isinstance(value[count], Comment):
            count += 1
        if not count:
            return value
        margin = head[: len(head) - len(head.lstrip(" "))]
        for comment in value[:count]:
            assert isinstance(comment, Comment)
            self.out.append(margin + "#" + comment.text + "\n")
        return Map(value[count:]) if isinstance(value, Map) else Seq(value[count:])

    def _value(self, head: str, value: Value, col: int, in_seq: bool, suffix: str = "") -> None:
        if (
            in_seq
            and isinstance(value, (Map, Seq))
            and any(not isinstance(v, Comment) for v in value)
        ):
            value = self._hoist(head, value)
        if isinstance(value, Map):
            if not value.keys():
                self.out.append(head + " {}" + suffix + "\n")
                for entry in value:
                    if isinstance(entry, Comment):
                        self._comment_line(col, entry)
                return
            if in_seq:
                child = self._item_indent(col)
                self._map(value, child, [head + " " * (child - len(head))])
            else:
                self.out.append(head + suffix + "\n")
                self._map(value, self._child_indent(col), None)
            return
        if isinstance(value, Seq):
            if not [v for v in value if not isinstance(v, Comment)]:
                self.out.append(head + " []" + suffix + "\n")
                for child_value in value:
                    assert isinstance(child_value, Comment)
                    self._comment_line(col, child_value)
                return
            if in_seq:
                child = self._item_indent(col)
                self._seq(value, child, [head + " " * (child - len(head))])
            else:
                self.out.append(head + suffix + "\n")
                dash = col if self.v2 else self._child_indent(col)
                self._seq(value, dash, None)
            return
        if isinstance(value, Comment):  # defensive: comments are entries, not values
            self.out.append(head + suffix + "\n")
            return
        scalar = _leaf_scalar(value, self.v2)
        if scalar.style != "literal":
            self.out.append(head + " " + scalar.text + suffix + "\n")
            return
        content = self._item_indent(col) if in_seq else self._child_indent(col)
        text = scalar.text
        hints = ""
        if text[0] in " \n":
            # go-yaml writes best_indent here; the offset from the parent's column is
            # what a reader applies, and the two agree except inside sequence items
            hints += str(content - col)
        if not text.endswith("\n"):
            hints += "-"
        elif len(text) == 1 or text[-2] in _BREAKS:
            hints += "+"
        self.out.append(head + " |" + hints + suffix + "\n")
        body = text[:-1] if text.endswith("\n") else text
        for line in body.split("\n"):
            self.out.append((" " * content + line if line else "") + "\n")

    def _seq(self, node: Seq, dash: int, prefix: list[str] | None) -> None:
        pending: list[Comment] = []
        deeper = False
        for item in node:
            if isinstance(item, Comment):
                if item.inline:
                    pending.append(item)
                else:
                    deeper = self._separate(deeper)
                    for comment in pending:
                        self._comment_line(dash, comment)
                    pending.clear()
                    self._comment_line(dash, item)
                continue
            if self._lines_pending(pending, item):
                deeper = self._separate(deeper)
            suffix = self._suffix(pending, dash, item)
            head = self._line_start(dash, prefix) + "-"
            self._value(head, item, dash, in_seq=True, suffix=suffix)
            deeper = self._after_block(item)
        if pending:
            self._separate(deeper)
        for comment in pending:
            self._comment_line(dash, comment)


def dump(docs: list[Map], indent: int = 4, v2: bool = False, inline_comments: bool = True) -> bytes:
    return Emitter(indent, v2, inline_comments).render(docs).encode("utf-8", "surrogateescape")
