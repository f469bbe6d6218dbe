"""Where ``# secretkit: allow`` is a comment in a file that is not Nix: in YAML, TOML
and shell after the value, outside any quoted or multi-line string (a YAML block
scalar, a TOML ``\"\"\"`` string, a shell here-document); in other text (source code:
``#``, ``//``, ``--`` or ``;`` before the words) after the value and outside quotes on
its line.  In JSON, env and INI files, or inside a value, the words are content: they
silence nothing.  The hook offers the mark only where YAML, TOML or shell read it as a
comment (``gate.finding_fix.mark_works``)."""

from __future__ import annotations

from secretkit.lazy_re import lazy

COMMENT_FORMATS = ("yaml", "toml", "shell")
_MARK = lazy(r"(?:^|[ \t])#[ \t]*secretkit: allow\b")
_CODE_MARK = lazy(r"(?:^|[ \t])(?:#|//|--|;)[ \t]*secretkit: allow\b")
_BLOCK_SCALAR = lazy(r"(?:^|[:\-][ \t]*|[ \t])[|>][+-]?[0-9]?[+-]?[ \t]*(?:#.*)?$")
_HEREDOC = lazy(r"(?<!<)<<(-?)[ \t]*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")


def honoured(text: str, fmt: str, line_start: int, after: int) -> bool:
    """Whether the line of ``text`` starting at ``line_start`` ends in a comment
    ``# secretkit: allow`` that follows ``after`` (the value's end) in ``fmt``."""
    if fmt not in (*COMMENT_FORMATS, "text"):
        return False
    end = text.find("\n", line_start)
    line = text[line_start : end if end != -1 else len(text)]
    for found in (_MARK if fmt != "text" else _CODE_MARK).finditer(line):
        at = found.end() - len(found.group().lstrip(" \t"))  # the comment's mark
        if line_start + at >= after and comment_at(text, fmt, line_start, at):
            return True
    return False


def comment_at(text: str, fmt: str, line_start: int, at: int) -> bool:
    """Whether a ``#`` at column ``at`` of the line starting at ``line_start`` starts a
    comment: outside quotes on its line and outside any multi-line string."""
    line = text[line_start : line_start + at]
    if _in_quotes(line, fmt):
        return False
    before = text[:line_start]
    if fmt == "toml":
        return before.count('"""') % 2 == 0 and before.count("'''") % 2 == 0
    if fmt == "yaml":
        return not _in_block_scalar(before, line)
    return fmt == "text" or not _in_heredoc(before)


def _in_quotes(prefix: str, fmt: str) -> bool:
    quote = None
    escaped = False
    for c in prefix:
        if escaped:
            escaped = False
        elif quote is None and c in "\"'":
            quote = c
        elif quote == '"' and c == "\\" and fmt != "yaml":
            escaped = True
        elif c == quote:
            quote = None
    return quote is not None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _in_block_scalar(before: str, line: str) -> bool:
    """Whether the YAML line after ``before`` is content of a block scalar: the nearest
    line above it that is less indented ends in ``|`` or ``>``."""
    indent = _indent(line) if line.strip() else len(line)
    for above in reversed(before.split("\n")[:-1] if before.endswith("\n") else []):
        if not above.strip():
            continue
        if _indent(above) < indent:
            return _BLOCK_SCALAR.search(above.rstrip()) is not None
    return False


def _in_heredoc(before: str) -> bool:
    """Whether the shell line after ``before`` is inside a here-document: one opened
    above (``<<EOF``, ``<<-'EOF'``) whose closing line has not come yet."""
    lines = before.split("\n")
    open_until: str | None = None
    dash = False
    for line in lines:
        if open_until is not None:
            if (line.lstrip("\t") if dash else line) == open_until:
                open_until = None
            continue
        found = _HEREDOC.search(line)
        if found is not None:
            dash, open_until = bool(found.group(1)), found.group(3)
    return open_until is not None


def nix_marks(data: bytes, tree: object) -> dict[int, int]:
    """Line → byte offset of the last ``secretkit: allow`` a comment of the Nix file
    ``data`` (parsed: ``tree``) says on that line (what comes before it is allowed:
    :func:`nix_allowed`)."""
    from secretkit.nix import cst
    from secretkit.scan.hits import ALLOW_MARK

    marks: dict[int, int] = {}
    if ALLOW_MARK.encode() in data:
        for start, _end, text in cst.comments(tree):  # type: ignore[arg-type]
            if ALLOW_MARK in text:
                mark = start + len(text[: text.rindex(ALLOW_MARK)].encode())
                marks[data.count(b"\n", 0, start) + 1] = mark
    return marks


def nix_allowed(marks: dict[int, int], data: bytes, start: int) -> bool:
    """Whether a hit at byte ``start`` of a Nix file has an allow mark after it on its
    line (``marks``: :meth:`secretkit.scan.nix.FileFacts.allowed_lines`): a mark before
    the value (``x = /* secretkit: allow */ "…";``) allows nothing."""
    mark = marks.get(data.count(b"\n", 0, start) + 1) if marks else None
    return mark is not None and mark > start
