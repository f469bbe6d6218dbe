"""Go's number, boolean, time and JSON-string text forms."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from secretkit.sops import goformat


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (7.0, "7"), (3.14, "3.14"), (0.1, "0.1"), (1e21, "1000000000000000000000"),
        (1.5e-7, "0.00000015"),
        (-0.0, "-0"), (1234568000.0, "1234568000"), (2.0**62, "4611686018427388000"),
        (math.inf, "+Inf"), (-math.inf, "-Inf"), (math.nan, "NaN"),
    ],
)  # fmt: skip
def test_format_float_is_go_f_minus_one(value: float, text: str) -> None:
    assert goformat.format_float(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (7.0, "7"),
        (1e21, "1e+21"),
        (1.5e-7, "1.5e-07"),
        (1e-6, "0.000001"),
        (123456.5, "123456.5"),
        (-2.5e300, "-2.5e+300"),
    ],
)
def test_json_float_is_go_encoding_json(value: float, text: str) -> None:
    assert goformat.format_json_float(value) == text


def test_bools() -> None:
    assert goformat.format_bool(True) == "True" and goformat.format_bool(False) == "False"
    for text in ("1", "t", "T", "TRUE", "true", "True"):
        assert goformat.parse_bool(text) is True
    for text in ("0", "f", "F", "FALSE", "false", "False"):
        assert goformat.parse_bool(text) is False
    with pytest.raises(ValueError):
        goformat.parse_bool("yes")


def test_ints_and_floats_parse_like_strconv() -> None:
    assert goformat.parse_int("-12") == -12
    for bad in ("1.0", "0x10", "", str(2**63)):
        with pytest.raises(ValueError):
            goformat.parse_int(bad)
    assert goformat.parse_float("+Inf") == math.inf
    assert goformat.parse_float("1e3") == 1000.0
    with pytest.raises(ValueError):
        goformat.parse_float("abc")


def test_rfc3339_reformat() -> None:
    assert goformat.mac_aad("2024-03-25T22:08:10Z") == "2024-03-25T22:08:10Z"
    assert goformat.mac_aad("2024-03-25T22:08:10.123456789Z") == "2024-03-25T22:08:10Z"
    assert goformat.mac_aad("2024-03-25T23:08:10+01:00") == "2024-03-25T23:08:10+01:00"
    moment = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(-timedelta(hours=5, minutes=30)))
    assert goformat.format_rfc3339(moment) == "2024-01-02T03:04:05-05:30"
    assert goformat.format_rfc3339(datetime(2024, 1, 2, tzinfo=UTC)) == "2024-01-02T00:00:00Z"
    with pytest.raises(ValueError):
        goformat.parse_rfc3339("2024-01-02 00:00:00")


def test_json_string_escapes_like_go() -> None:
    assert (
        goformat.json_string('a"b\\c\n\t\r<>&\u2028\x01é')
        == '"a\\"b\\\\c\\n\\t\\r\\u003c\\u003e\\u0026\\u2028\\u0001é"'
    )


@pytest.mark.parametrize(
    ("text", "marshal"),
    [
        ("2024-01-02", "2024-01-02T00:00:00Z"),
        ("2024-1-2T3:04:05Z", "2024-01-02T03:04:05Z"),
        ("2024-01-02T03:04:05.120+00:00", "2024-01-02T03:04:05.12Z"),
        ("2024-01-02 03:04:05", "2024-01-02T03:04:05Z"),
        ("2024-01-02T03:04:05-05:30", "2024-01-02T03:04:05-05:30"),
    ],
)
def test_yaml_timestamps_take_go_marshal_text(text: str, marshal: str) -> None:
    assert goformat.yaml_time_text(text) == marshal
