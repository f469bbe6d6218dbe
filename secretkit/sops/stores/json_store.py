"""JSON store: order-preserving reader, Go-compatible writer (tab indent by default)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from secretkit.errors import UserError
from secretkit.sops import goformat
from secretkit.sops.tree import Comment, GoTime, Map, Seq, Value


@dataclass
class JsonLayout:
    indent: str = "\t"
    final_newline: bool = True


def _pairs(pairs: list[tuple[str, object]]) -> Map:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _Dup(key)
        seen.add(key)
    return Map((key, value) for key, value in pairs)  # type: ignore[misc]


class _Dup(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _int(text: str) -> int | float:
    if text == "-0":  # Go writes float -0 as "-0"; keep it a float so its MAC bytes survive
        return -0.0
    value = int(text)
    if goformat.INT64_MIN <= value <= goformat.INT64_MAX:
        return value
    return float(text)


def _constant(name: str) -> float:
    raise ValueError(name)


MAX_DEPTH = 200


def _convert(value: object, depth: int = 0) -> Value:
    if depth > MAX_DEPTH:
        raise UserError("malformed JSON: nesting too deep")
    if isinstance(value, Map):
        return Map((k, _convert(v, depth + 1)) for k, v in value)  # type: ignore[misc]
    if isinstance(value, list):
        return Seq(_convert(v, depth + 1) for v in value)
    return value  # type: ignore[return-value]


def _detect(text: str) -> JsonLayout:
    layout = JsonLayout(final_newline=text.endswith("\n"))
    for line in text.split("\n")[1:]:
        stripped = line.lstrip(" \t")
        if stripped and len(stripped) != len(line):
            layout.indent = line[: len(line) - len(stripped)]
            break
    return layout


def load(data: bytes) -> tuple[list[Map], JsonLayout]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError("malformed JSON: the file is not UTF-8 text") from None
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_int=_int, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            hint="fix the file's JSON syntax",
        ) from None
    except _Dup as exc:
        raise UserError(f"malformed JSON: duplicate key {exc.key[:40]!r}") from None
    except (ValueError, RecursionError):
        raise UserError("malformed JSON: unsupported number or nesting") from None
    if not isinstance(value, Map):
        raise UserError("malformed JSON: the top level must be an object")
    tree = _convert(value)
    assert isinstance(tree, Map)
    return [tree], _detect(text)


def _scalar(value: Value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise UserError("cannot write NaN or infinity to a JSON file")
        return goformat.format_json_float(value)
    if isinstance(value, GoTime):
        return goformat.json_string(value.text)
    if isinstance(value, bytes):
        import base64

        return goformat.json_string(base64.b64encode(value).decode())
    assert isinstance(value, str)
    return goformat.json_string(_valid_utf8(value))


def _valid_utf8(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _emit(value: Value, indent: str, depth: int, out: list[str]) -> None:
    pad = indent * (depth + 1)
    if isinstance(value, Map):
        items = [entry for entry in value if isinstance(entry, tuple)]
        if not items:
            out.append("{}")
            return
        out.append("{\n")
        for number, (key, child) in enumerate(items):
            out.append(pad + goformat.json_string(_valid_utf8(key)) + ": ")
            _emit(child, indent, depth + 1, out)
            out.append(",\n" if number < len(items) - 1 else "\n")
        out.append(indent * depth + "}")
        return
    if isinstance(value, Seq):
        children = [child for child in value if not isinstance(child, Comment)]
        if not children:
            out.append("[]")
            return
        out.append("[\n")
        for number, child in enumerate(children):
            out.append(pad)
            _emit(child, indent, depth + 1, out)
            out.append(",\n" if number < len(children) - 1 else "\n")
        out.append(indent * depth + "]")
        return
    out.append(_scalar(value))


def dump(doc: Map, layout: JsonLayout | None = None) -> bytes:
    layout = layout or JsonLayout()
    out: list[str] = []
    _emit(doc, layout.indent, 0, out)
    if layout.final_newline:
        out.append("\n")
    return "".join(out).encode("utf-8")
