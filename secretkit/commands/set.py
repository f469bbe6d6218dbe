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
from typing import TYPE_CHECKING

from secretkit.atomic import write_atomic
from secretkit.sensitive import Sensitive

if TYPE_CHECKING:
    from secretkit.sops.config import CreationRule


@dataclass(frozen=True)
class SetResult:
    path: Path
    created: bool


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


def set_value(
    cwd: Path,
    file: Path | str,
    key_path: str,
    value: Sensitive[str] | object,
    *,
    engine: str = "python",
) -> SetResult:
    from secretkit.commands import recover_interrupted
    from secretkit.errors import UsageError
    from secretkit.sops import document, operations
    from secretkit.sops.identities import load_identities

    recover_interrupted(cwd)
    path = operations.resolve(cwd, file)
    parts = operations.parse_tree_path(key_path)
    if any(isinstance(part, int) for part in parts):
        raise UsageError("set takes mapping keys only, not list indices")
    keys = tuple(str(part) for part in parts)
    plain_value = value.reveal() if isinstance(value, Sensitive) else value
    if engine == "sops":
        from secretkit.sops.backend_binary import SopsBinary

        existed = path.exists()
        SopsBinary(cwd).set(path, key_path, json.dumps(plain_value).encode("utf-8"))
        return SetResult(path=path, created=not existed)
    fmt = document.format_for_path(path)
    existing = operations.read_input(path) if path.exists() else None
    rule = operations.rule_for_file(cwd, path) if existing is None else _optional_rule(cwd, path)
    data = operations.set_values(
        existing,
        fmt,
        {keys: plain_value},
        rule=rule,
        identities=load_identities(),
        source=operations.display(cwd, path),
    )
    _unchanged_since(path, existing, operations.display(cwd, path))
    write_atomic(path, data)
    return SetResult(path=path, created=existing is None)


def _unchanged_since(path: Path, before: bytes | None, source: str) -> None:
    """Refuse to write when ``path`` changed since it was read (a writer that does not
    take the repository lock, e.g. sops or an editor): writing would undo its change."""
    from secretkit.errors import UserError

    try:
        now: bytes | None = path.read_bytes()
    except FileNotFoundError:
        now = None
    if now != before:
        raise UserError(
            f"{source} changed while set was running; nothing was written",
            hint="run the same `secretkit set` again",
        )


def _optional_rule(cwd: Path, path: Path) -> CreationRule | None:
    """The matching rule (for the store indent) when there is a config; None otherwise."""
    from secretkit.sops.config import find_config

    config = find_config(cwd)
    return config.rule_for(path) if config is not None else None
