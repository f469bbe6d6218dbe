"""Go's text forms of numbers, booleans and times, as sops writes them.

sops formats values with Go's ``strconv`` and ``time`` packages; the MAC and the
ciphertexts depend on those exact bytes, so Python's own ``repr`` is not enough
(``1e+21`` vs Go's ``1000000000000000000000``, ``true`` vs ``True``).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from secretkit.lazy_re import lazy

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def format_float(value: float) -> str:
    """``strconv.FormatFloat(v, 'f', -1, 64)``: shortest round-trip digits, no exponent."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_json_float(value: float) -> str:
    """``encoding/json``'s float text: 'f' form, exponent outside [1e-6, 1e21)."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError("JSON cannot represent NaN or infinity")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = repr(value)
        if "e" not in text:
            text = f"{value:e}"
        mantissa, _, exponent = text.partition("e")
        if mantissa.endswith(".0"):
            mantissa = mantissa[:-2]
        sign = exponent[0] if exponent[0] in "+-" else "+"
        digits = exponent.lstrip("+-").lstrip("0") or "0"
        if len(digits) < 2:
            digits = "0" + digits
        if sign == "-":
            return f"{mantissa}e-{digits}"
        return f"{mantissa}e+{digits}"
    return format_float(value)


def format_bool(value: bool) -> str:
    """sops writes booleans Title-case ("Python compatibility")."""
    return "True" if value else "False"


_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def parse_bool(text: str) -> bool:
    """``strconv.ParseBool``."""
    if text in _GO_TRUE:
        return True
    if text in _GO_FALSE:
        return False
    raise ValueError("not a Go boolean")


_GO_INT = lazy(r"[+-]?[0-9]+\Z")


def parse_int(text: str) -> int:
    """``strconv.Atoi`` (decimal, optional sign, int64 range)."""
    if not _GO_INT.match(text):
        raise ValueError("not a Go integer")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError("integer out of range")
    return value


_GO_FLOAT = lazy(
    r"[+-]?(?:(?:[0-9](?:_?[0-9])*)?\.?[0-9]*(?:[eE][+-]?[0-9]+)?"
    r"|0[xX][0-9a-fA-F_.]+[pP][+-]?[0-9]+|[Ii][Nn][Ff](?:[Ii][Nn][Ii][Tt][Yy])?|[Nn][Aa][Nn])\Z"
)


def parse_float(text: str) -> float:
    """``strconv.ParseFloat(s, 64)`` for the forms sops writes and users type."""
    if not text or not _GO_FLOAT.match(text) or text in {"+", "-", ".", "+.", "-."}:
        raise ValueError("not a Go float")
    if "x" in text.lower():
        return float.fromhex(text.replace("_", ""))
    return float(text.replace("_", ""))


_RFC3339 = lazy(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z"
)


def parse_rfc3339(text: str) -> datetime:
    """``time.Parse(time.RFC3339, s)``; ValueError when it is not one."""
    m = _RFC3339.match(text)
    if not m:
        raise ValueError("not an RFC 3339 timestamp")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    frac = m.group(7) or ""
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    zone = m.group(8)
    if zone in ("Z", "z"):
        tz: timezone = UTC
    else:
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)


def format_rfc3339(moment: datetime) -> str:
    """``t.Format(time.RFC3339)``: no fraction, ``Z`` for UTC, else ``±hh:mm``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    offset = moment.utcoffset() or timedelta(0)
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if offset == timedelta(0):
        return base + "Z"
    total = int(offset.total_seconds()) // 60
    sign = "+" if total >= 0 else "-"
    total = abs(total)
    return f"{base}{sign}{total // 60:02d}:{total % 60:02d}"


_YAML_TIME = lazy(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[Tt ](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?\s*(Z|[+-]\d{2}:\d{2})?)?\Z"
)


def yaml_time_text(text: str) -> str:
    """A YAML timestamp as Go's ``time.Time.MarshalText`` prints it (RFC 3339, nanoseconds).

    This is the text sops encrypts and hashes for a ``!!timestamp`` value.
    """
    m = _YAML_TIME.match(text)
    if not m:
        raise ValueError("not a YAML timestamp")
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    hour, minute, second = (int(g) if g else 0 for g in (m.group(4), m.group(5), m.group(6)))
    datetime(year, month, day, hour, minute, second)  # validates the ranges
    frac = (m.group(7) or "")[:9].rstrip("0")
    zone = m.group(8) or "Z"
    if zone in ("+00:00", "-00:00"):
        zone = "Z"
    base = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    return base + (f".{frac}" if frac else "") + zone


def mac_aad(lastmodified: str) -> str:
    """The MAC's AAD: ``lastmodified`` parsed and re-formatted as RFC 3339."""
    return format_rfc3339(parse_rfc3339(lastmodified))


# --- Go encoding/json string escaping --------------------------------------------

_JSON_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JSON_NEEDS = lazy('["\\\\<>&\u2028\u2029\x00-\x1f\x7f]')


def _json_escape_char(m: re.Match[str]) -> str:
    ch = m.group(0)
    if ch in _JSON_ESCAPES:
        return _JSON_ESCAPES[ch]
    if ch == "\x7f":
        return ch
    return f"\\u{ord(ch):04x}"


def json_string(text: str) -> str:
    """``json.Marshal(string)``: HTML-safe escapes, control chars as ``\\u00XX``."""
    return '"' + _JSON_NEEDS.sub(_json_escape_char, text) + '"'
