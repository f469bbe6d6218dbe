"""The go-yaml-compatible emitter that writes sops YAML files.

It re-implements the parts of go-yaml's emitter that sops files use: block style
everywhere, indent ``n`` (default 4) with sequences indented inside mappings (go-yaml
v3) or indentless with ``-   `` items (go-yaml v2, sops < 3.7), ``#text`` comments.
How each leaf is written lives in :mod:`secretkit.sops.stores.yaml_scalars`.
"""

from __future__ import annotations

from secretkit.sops.stores.yaml_scalars import BREAKS, leaf_scalar, string_scalar
from secretkit.sops.tree import Comment, Map, Seq, Value


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
        scalar = string_scalar(key, True, self.v2)
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
        scalar = leaf_scalar(value, self.v2)
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
        elif len(text) == 1 or text[-2] in BREAKS:
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
