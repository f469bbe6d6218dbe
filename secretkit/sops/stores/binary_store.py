"""Binary store: the whole file is one string value under ``data`` (JSON envelope).

A YAML envelope (``sops --output-type yaml``) is accepted on read and kept on write.
"""

from __future__ import annotations

from secretkit.errors import UserError
from secretkit.sops.stores import json_store, yaml_store
from secretkit.sops.tree import Map


def load(data: bytes) -> tuple[list[Map], object]:
    """The envelope of a sops binary file: JSON, or YAML.  Anything else (a Nix file
    starting with ``{``) is no sops file: not "malformed JSON" to fix."""
    stripped = data.lstrip()
    try:
        if stripped.startswith(b"{"):
            return json_store.load(data)
        docs, layout = yaml_store.load(data)
    except UserError:
        raise UserError(
            "not a sops file: neither a JSON nor a YAML envelope (binary)",
            hint="sops stores a file of this type as JSON with a 'data' and a 'sops' key; "
            "restore it from git if it was one",
        ) from None
    return docs[:1], layout


def load_plain(data: bytes) -> list[Map]:
    return [Map([("data", data.decode("utf-8", "surrogateescape"))])]


def dump_plain(docs: list[Map]) -> bytes:
    doc = docs[0] if docs else Map()
    index = doc.find("data")
    if index < 0:
        raise UserError("malformed sops binary file: no 'data' key")
    entry = doc[index]
    assert isinstance(entry, tuple)
    value = entry[1]
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise UserError("malformed sops binary file: 'data' is not a string")
    return value.encode("utf-8", "surrogateescape")
