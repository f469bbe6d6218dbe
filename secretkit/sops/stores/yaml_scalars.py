"""go-yaml v3 scalars: the type a plain scalar resolves to, and how one is written.

Reading types plain scalars with go-yaml v3's resolver, so values get the types sops
gives them (``yes`` stays a string, untagged timestamps stay strings).  Writing picks
go-yaml's style for a leaf: plain when the text reads back as itself, double quotes
(v3) or single quotes (v2) for strings that would resolve to another type, literal
blocks for multi-line strings, go's shortest float formatting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from secretkit.lazy_re import lazy
from secretkit.sops import goformat
from secretkit.sops.tree import GoTime, Value

# --- go-yaml v3 resolution ----------------------------------------------------------

_NULLS = {"", "~", "null", "Null", "NULL"}
BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
SPECIAL_FLOATS = {
    **{s: math.inf for s in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")},
    **{s: -math.inf for s in ("-.inf", "-.Inf", "-.INF")},
    **{s: math.nan for s in (".nan", ".NaN", ".NAN")},
}
_OLD_BOOLS = {
    "y", "Y", "yes", "Yes", "YES", "on", "On", "ON",
    "n", "N", "no", "No", "NO", "off", "Off", "OFF",
}  # fmt: skip
_BASE60 = lazy(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_YAML_FLOAT = lazy(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_GO_INT = lazy(r"^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$")
_TIMESTAMP = lazy(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:(?:[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?(Z|[+-]\d{2}:\d{2}))"
    r"|(?: (\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?))?$"
)
_HINTED = set("+-0123456789.yYnNtTfFoO~")


def go_int(text: str) -> int | None:
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
    if text in BOOLS:
        return BOOLS[text]
    if text in SPECIAL_FLOATS:
        return SPECIAL_FLOATS[text]
    if text[0] in "+-0123456789":
        if _timestamp(text):
            return GoTime(text)
        integer = go_int(text)
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


def resolves_to_string(text: str) -> bool:
    return isinstance(resolve(text), str)


# --- writing one scalar -------------------------------------------------------------


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


BREAKS = "\n\r\x85\u2028\u2029"


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
        followed_ws = i + 1 >= n or value[i + 1] in " \t" + BREAKS
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
        if not _printable(ch) and ch not in BREAKS:
            special = True
        if ch in "\r\x85":
            special = True
        if ch in BREAKS:
            line_breaks = True
        if ch == " ":
            if i == 0:
                leading_space = True
            if i == n - 1:
                trailing_space = True
            if previous_break:
                break_space = True
            previous_space, previous_break = True, False
        elif ch in BREAKS:
            if i == 0:
                leading_break = True
            if i == n - 1:
                trailing_break = True
            if previous_space:
                space_break = True
            previous_space, previous_break = False, True
        else:
            previous_space = previous_break = False
        preceded_ws = ch in " \t" + BREAKS
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
        if ch in '"\\' or ch in BREAKS or not _printable(ch) or code == 0xFEFF:
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
class Scalar:
    style: str  # plain, single, double, literal
    text: str


def string_scalar(value: str, key: bool, v2: bool) -> Scalar:
    can_plain = resolves_to_string(value) and not _BASE60.match(value) and value not in _OLD_BOOLS
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
        return Scalar("plain", value)
    if style == "single":
        return Scalar("single", "'" + value.replace("'", "''") + "'")
    if style == "double":
        return Scalar("double", _double_quoted(value))
    return Scalar("literal", value)


def leaf_scalar(value: Value, v2: bool) -> Scalar:
    if value is None:
        return Scalar("plain", "null")
    if isinstance(value, bool):
        return Scalar("plain", "true" if value else "false")
    if isinstance(value, int):
        return Scalar("plain", str(value))
    if isinstance(value, float):
        return Scalar("plain", _go_g(value))
    if isinstance(value, GoTime):
        return Scalar("plain", value.text)
    if isinstance(value, bytes):
        return string_scalar(value.decode("utf-8", "surrogateescape"), False, v2)
    assert isinstance(value, str)
    return string_scalar(value, False, v2)
