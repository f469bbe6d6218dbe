"""``secretkit decrypt FILE [--extract '["a"]["b"]'] [--output F]``.

The MAC is always verified.  Plaintext goes to stdout, or — only because the user
asked with ``--output`` — to a file created with mode 0600.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.atomic import write_atomic
from secretkit.errors import IntegrityError
from secretkit.sensitive import Sensitive

if TYPE_CHECKING:
    from secretkit.sops.identities import Identities


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


def _explain_ssh(
    exc: IntegrityError, data: bytes, fmt: str, identities: Identities
) -> IntegrityError:
    """A better hint when an ssh key was given for a file made for its ssh-to-age key.

    sops (and so secretkit) opens only ``ssh-ed25519`` stanzas with an ssh key, but
    host files are encrypted for the ``age1…`` recipient derived from the host key
    (what sops-nix uses): the user holding the right key deserves to be told so."""
    from secretkit.errors import SecretkitError
    from secretkit.keys.ssh_to_age import ssh_pubkey_to_age
    from secretkit.sops import document, operations

    if not exc.message.startswith("no identity decrypts"):
        return exc
    try:
        wanted = {
            r
            for group in operations.recipients_of(document.load_encrypted(data, fmt))
            for r in group
        }
        derived = {
            ssh_pubkey_to_age(r) for r in identities.recipients if r.startswith("ssh-ed25519 ")
        }
    except SecretkitError:
        return exc
    if not derived & wanted:
        return exc
    return IntegrityError(
        exc.message,
        "the file is encrypted for the age key derived from your ssh key (as sops-nix "
        "uses it), which sops opens only as an age identity: convert the private key "
        "(ssh-to-age -private-key -i KEY) into a file and set SOPS_AGE_KEY_FILE to it",
    )


def decrypt(
    cwd: Path,
    file: Path | str,
    *,
    extract: str | None = None,
    output: Path | None = None,
    engine: str = "python",
) -> DecryptResult:
    from secretkit.sops import document, operations
    from secretkit.sops.identities import load_identities

    path = operations.resolve(cwd, file)
    source = operations.display(cwd, path)
    if engine == "sops":
        from secretkit.sops.backend_binary import SopsBinary

        plaintext = SopsBinary(cwd).decrypt(path, extract)
    else:
        data = operations.read_input(path)
        fmt = document.format_for_path(path)
        tree_path = operations.parse_tree_path(extract) if extract is not None else None
        identities = load_identities()
        try:
            plain = operations.decrypt_bytes(data, fmt, identities, source=source)
        except IntegrityError as exc:
            raise _explain_ssh(exc, data, fmt, identities) from None
        if tree_path is None:
            plaintext = document.dump_plain(plain)
        else:
            plaintext = _extract(plain.to_python(), tree_path, fmt, source)
    if output is None:
        return DecryptResult(output=Sensitive(plaintext), written=None)
    target = operations.resolve(cwd, output)
    write_atomic(target, plaintext, mode=0o600)
    return DecryptResult(output=None, written=target)
