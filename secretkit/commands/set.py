"""``secretkit set FILE '["a"]["b"]'`` with the value on stdin.

The value is read from stdin as raw text (UTF-8) and stored as a string; one
trailing newline (``\\n`` or ``\\r\\n``) is removed so that ``echo value | secretkit
set …`` and a here-string store ``value``.  With ``--json`` stdin is parsed as a
JSON value instead, like ``sops set`` (``'"text"'``, ``42``, ``{"a": 1}``).  A file
that does not exist yet is created from its ``.sops.yaml`` creation rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from secretkit.commands import Line, Shown, err
from secretkit.sensitive import Sensitive
from secretkit.sops.engine import Engine, PythonEngine


@dataclass(frozen=True)
class SetResult(Shown):
    path: Path
    created: bool
    name: str = ""  # FILE as given

    def lines(self) -> list[Line]:
        return [err(f"{self.name}: {'created' if self.created else 'updated'}")]


def stdin_value(raw: bytes, *, as_json: bool) -> Sensitive[str] | object:
    """The value to store from the bytes read on stdin (see the module docstring)."""
    from secretkit.errors import UsageError

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError("the value on stdin is not UTF-8 text") from None
    if as_json:
        try:
            parsed: object = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"the value on stdin is not valid JSON (line {exc.lineno}, column {exc.colno})",
                hint="quote strings: echo '\"value\"' | secretkit set --json …",
            ) from None
        return parsed
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    return Sensitive(text)


def stdin_text(raw: bytes) -> Sensitive[str]:
    """A text value from stdin (one trailing newline dropped), as :func:`stdin_value`."""
    value = stdin_value(raw, as_json=False)
    assert isinstance(value, Sensitive)
    return value


def set_value(
    cwd: Path,
    file: Path | str,
    key_path: str,
    value: Sensitive[str] | object,
    *,
    engine: Engine | None = None,
) -> SetResult:
    from secretkit.commands import recover_interrupted
    from secretkit.errors import UsageError
    from secretkit.sops import operations

    recover_interrupted(cwd)
    path = operations.resolve(cwd, file)
    parts = operations.parse_tree_path(key_path)
    if any(isinstance(part, int) for part in parts):
        raise UsageError("set takes mapping keys only, not list indices")
    plain_value = value.reveal() if isinstance(value, Sensitive) else value
    created = (engine or PythonEngine(cwd)).set(path, key_path, plain_value)
    return SetResult(path=path, created=created, name=str(file))
