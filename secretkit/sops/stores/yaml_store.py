"""YAML store: ruamel.yaml reads, a go-yaml-compatible emitter writes.

Reading uses ruamel.yaml's composer (positions, styles, explicit tags) and types
plain scalars with go-yaml v3's resolver (:mod:`~secretkit.sops.stores.yaml_scalars`);
comment lines are placed where go-yaml puts them
(:mod:`~secretkit.sops.stores.yaml_comments`).  Writing is
:class:`~secretkit.sops.stores.yaml_emitter.Emitter`.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from secretkit.errors import UserError
from secretkit.sops import goformat
from secretkit.sops.stores.yaml_comments import comment_lines, place_comments
from secretkit.sops.stores.yaml_emitter import Emitter
from secretkit.sops.stores.yaml_scalars import (
    BOOLS,
    SPECIAL_FLOATS,
    go_int,
    resolve,
    resolves_to_string,
)
from secretkit.sops.tree import GoTime, Map, Seq, Value


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
                    integer = go_int(value)
                    if integer is None:
                        raise ValueError
                    return integer
                if short == "float":
                    return float(value) if value not in SPECIAL_FLOATS else SPECIAL_FLOATS[value]
                if short == "bool":
                    return BOOLS[value]
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
            and not resolves_to_string(node.value)
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
    comments = comment_lines(text, [n for n in nodes if n is not None])
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
        place_comments(value, node, mine, text.split("\n"), (begin, end))
        docs.append(value)
    if not docs:
        docs.append(Map())
    return docs, YamlLayout(_detect_indent(text))


# --- writing ------------------------------------------------------------------------


def dump(docs: list[Map], indent: int = 4, v2: bool = False, inline_comments: bool = True) -> bytes:
    return Emitter(indent, v2, inline_comments).render(docs).encode("utf-8", "surrogateescape")
