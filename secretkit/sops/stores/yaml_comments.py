"""Comment lines of a sops YAML file: where they are, and where go-yaml puts them.

A comment line is placed in the innermost block collection that encloses it by line
and column, following go-yaml v3's head/foot rules (which sops keeps); a trailing
comment is kept as an inline :class:`~secretkit.sops.tree.Comment` before its entry.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from secretkit.sops.tree import Comment, Map, Seq, Value


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


def comment_lines(text: str, nodes: list[Node]) -> list[tuple[int, int, str, bool]]:
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


def place_comments(
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
