"""agenix-rekey repositories: who reads what, from the host configurations.

agenix-rekey has no ``secrets.nix``: each secret is ``age.secrets.<n>.rekeyFile``
(encrypted for the master identities), and each host names its own key in
``age.rekey.hostPubkey``.  :func:`read_rekey` turns that into the same
:class:`~secretkit.layouts.agenix_rules.Rule` list a ``secrets.nix`` gives — the readers of
a ``rekeyFile`` are the hosts whose configuration declares it — so the rest of the
import is the same.  Only literal keys are read (a string, or a ``.pub`` file named by
a path literal); anything computed is refused with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from secretkit.agenix.nixrewrite import age_file_of, option_path
from secretkit.errors import UserError
from secretkit.layouts.agenix_rules import PublicKey, Rule
from secretkit.nix import cst
from secretkit.nix.hosts import Inventory


def _refuse(message: str) -> UserError:
    return UserError(
        f"cannot convert this agenix-rekey repository: {message}",
        hint='write the host\'s key as a literal: age.rekey.hostPubkey = "ssh-ed25519 …";',
    )


def read_rekey(
    root: Path, sources: Mapping[str, bytes], inventory: Inventory
) -> tuple[list[Rule], str]:
    """One rule per ``rekeyFile``, its readers the hosts that declare it; and the
    directory the rule file names are relative to (where the sources live)."""
    keys: dict[str, str] = {}
    readers: dict[str, set[str]] = {}
    for rel, data in sorted(sources.items()):
        if b"rekey" not in data:
            continue
        tree = cst.parse(data)
        for binding in cst.walk(tree.root):
            if binding.type != "binding":
                continue
            found = option_path(tree, binding)
            if found is None:
                continue
            full, _ = found
            value = binding.child_by_field_name("expression")
            hosts = inventory.hosts_at(rel, int(binding.start_byte))
            if full == ["age", "rekey", "hostPubkey"]:
                key = _literal_key(root, rel, tree, value)
                if len(hosts) != 1:
                    raise _refuse(f"{rel} sets age.rekey.hostPubkey for {len(hosts)} hosts")
                keys[next(iter(hosts))] = key
            elif len(full) == 4 and full[1] == "secrets" and full[3] == "rekeyFile":
                age_path, exact = age_file_of(tree, value, rel)
                if not exact:
                    raise _refuse(f"{rel}: age.secrets.{full[2]}.rekeyFile is not a path literal")
                readers.setdefault(age_path, set()).update(hosts)
    base = os.path.commonpath([os.path.dirname(p) for p in readers]) if readers else ""
    rules = []
    for age_path, hosts in sorted(readers.items()):
        missing = sorted(h for h in hosts if h not in keys)
        if missing:
            raise _refuse(f"host {missing[0]} has no literal age.rekey.hostPubkey")
        file = os.path.relpath(age_path, base or ".")
        rules.append(Rule(file, tuple(PublicKey(keys[h], h) for h in sorted(hosts))))
    return rules, base


def _literal_key(root: Path, rel: str, tree: cst.NixTree, value: cst.Node) -> str:
    line, _ = tree.position(int(value.start_byte))
    if value.type in cst.STRING_TYPES:
        literal = cst.string_at(tree, value)
        if not literal.has_interpolation:
            return literal.value.strip()
    text = cst.node_text(tree, value)
    if value.type == "path_expression" and text.startswith(("./", "../")):
        path = root / os.path.normpath((PurePosixPath(rel).parent / text).as_posix())
        try:
            return path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            raise _refuse(f"{rel} line {line}: cannot read {text}") from None
    raise _refuse(f"{rel} line {line}: age.rekey.hostPubkey is computed")
