"""``secretkit decrypt FILE [--extract '["a"]["b"]'] [--output F]``.

The MAC is always verified.  Plaintext goes to stdout, or — only because the user
asked with ``--output`` — to a file created with mode 0600.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from secretkit.atomic import write_atomic
from secretkit.sensitive import Sensitive


@dataclass(frozen=True)
class DecryptResult:
    output: Sensitive[bytes] | None  # plaintext for stdout (None when written to disk)
    written: Path | None


def _extract(tree: object, path: list[str | int], fmt: str, source: str) -> bytes:
    from secretkit.errors import UserError

    node = tree
    if isinstance(node, list) and fmt == "yaml":
        node = node[0] if node else {}
    for part in path:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
            continue
        if isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node):
            node = node[part]
            continue
        raise UserError(
            f"the key path does not exist in {source}",
            hint="list the keys with `secretkit decrypt FILE`",
        )
    if isinstance(node, str):
        return node.encode("utf-8")
    if isinstance(node, bytes):
        return node
    if isinstance(node, dict) and fmt in ("yaml", "json"):
        from secretkit.sops import document

        return document.dump_plain(document.new_plain(fmt, node))  # the store's own emitter
    if isinstance(node, (dict, list)):
        return (json.dumps(node, indent=4, ensure_ascii=False) + "\n").encode("utf-8")
    return json.dumps(node).encode("utf-8")


def decrypt(
    cwd: Path,
    file: Path | str,
    *,
    extract: str | None = None,
    output: Path | None = None,
    engine: str = "python",
) -> DecryptResult:
    from secretkit.sops import api, document
    from secretkit.sops.identities import load_identities

    path = api.resolve(cwd, file)
    source = api.display(cwd, path)
    if engine == "sops":
        from secretkit.sops.backend_binary import SopsBinary

        plaintext = SopsBinary(cwd).decrypt(path, extract)
    else:
        data = api.read_input(path)
        fmt = document.format_for_path(path)
        tree_path = api.parse_tree_path(extract) if extract is not None else None
        plain = api.decrypt_bytes(data, fmt, load_identities(), source=source)
        if tree_path is None:
            plaintext = document.dump_plain(plain)
        else:
            plaintext = _extract(plain.to_python(), tree_path, fmt, source)
    if output is None:
        return DecryptResult(output=Sensitive(plaintext), written=None)
    target = api.resolve(cwd, output)
    write_atomic(target, plaintext, mode=0o600)
    return DecryptResult(output=None, written=target)
