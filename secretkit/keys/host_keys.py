"""Host keys made before the host exists (``hosts add NAME --generate-host-key``).

The ed25519 host key pair is generated here; the host is registered by the
``age1…`` key derived from it (what sops-nix derives from
``/etc/ssh/ssh_host_ed25519_key`` on the host).  The private key is kept in
``secrets/host-keys/<name>.yaml``, encrypted for the admins only — an admins-only
creation rule is added to ``.sops.yaml`` for that folder, before every other
rule, so no host (and no catch-all rule) ever gets it.  The tree handed to
nixos-anywhere (``--extra-files DIR``) is written outside the repository:
``etc/ssh/ssh_host_ed25519_key`` (0600) and ``.pub`` (0644).

Public API::

    new_host_key(name) -> HostKey
    host_key_file(name) -> str                          # 'secrets/host-keys/<name>.yaml'
    admin_rule_text(data: bytes, admins: Sequence[str], path) -> bytes | None
        # .sops.yaml with the admins-only rule for secrets/host-keys/ (None: present)
    key_values(key) -> {key path: value}                # what the sops file holds
    key_from_plain(plain) -> HostKey                    # and back
    write_extra_files(directory, key, root) -> list[Path]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from secretkit.errors import UserError
from secretkit.layouts.sops_nix import HOST_KEYS_DIR, admin_anchor
from secretkit.lazy_re import lazy
from secretkit.sensitive import Sensitive
from secretkit.sops.config import parse_config
from secretkit.sops.document import PlainFile

HOST_KEYS_REGEX = rf"^{HOST_KEYS_DIR}/[^/]+\.yaml$"
PRIVATE = "ssh_host_ed25519_key"
PUBLIC = "ssh_host_ed25519_key_pub"
KEY_PATH = "etc/ssh/ssh_host_ed25519_key"


@dataclass(frozen=True)
class HostKey:
    private: Sensitive[str]  # OpenSSH PEM
    public: str  # 'ssh-ed25519 AAAA… root@<name>'

    @property
    def recipient(self) -> str:
        from secretkit.keys.ssh_to_age import ssh_pubkey_to_age

        return ssh_pubkey_to_age(self.public)


def new_host_key(name: str) -> HostKey:
    from secretkit.keys.ssh_keygen import ed25519_key_pair

    private, public = ed25519_key_pair(f"root@{name}")
    return HostKey(private, public)


def host_key_file(name: str) -> str:
    return f"{HOST_KEYS_DIR}/{name}.yaml"


def key_values(key: HostKey) -> dict[tuple[str, ...], object]:
    return {(PRIVATE,): key.private, (PUBLIC,): key.public}


def key_from_plain(plain: PlainFile, source: str) -> HostKey:
    values = dict(plain.leaves())
    private, public = values.get((PRIVATE,)), values.get((PUBLIC,))
    if not isinstance(private, str) or not isinstance(public, str):
        raise UserError(
            f"{source} does not hold {PRIVATE} and {PUBLIC}",
            hint="it is written by `secretkit hosts add NAME --generate-host-key`",
        )
    return HostKey(Sensitive(private), public)


# ---------------------------------------------------------------------------
# the admins-only rule: a span insertion before the first creation rule
# ---------------------------------------------------------------------------
_RULES_KEY = lazy(r"creation_rules:[ \t]*(?:#[^\n]*)?\n")


def admin_rule_text(data: bytes, admins: Sequence[str], path: Path) -> bytes | None:
    """``data`` with the admins-only rule for ``secrets/host-keys/`` inserted as the
    first creation rule (None when a rule with that regex exists).  The place comes from
    the span tree of the one parse; the result is parsed again and must keep every
    other rule as it was (:func:`~secretkit.keys.sops_yaml_doc.validate` is not used:
    its messages name no path, these name the file as the engine does)."""
    from secretkit.keys.sops_yaml import key_kind
    from secretkit.keys.sops_yaml_doc import SopsYamlDoc
    from secretkit.sops.yaml_spans import column, dash_of, line_end, line_start

    before = parse_config(data, path)
    if any(rule.path_regex == HOST_KEYS_REGEX for rule in before.rules):
        return None
    if not admins:
        from secretkit.keys.sops_yaml_edits import no_admin_key

        raise no_admin_key(SopsYamlDoc(data, path))
    manual = (
        f"add a first creation rule by hand: path_regex: {HOST_KEYS_REGEX} with only the admin keys"
    )
    d = SopsYamlDoc(data, path)
    key = d.tree.key_node("creation_rules") if d.tree is not None else None
    rules = d.tree.get("creation_rules") if d.tree is not None else None
    key_line = d.text[line_start(d.text, key.start) : line_end(d.text, key.end)] if key else ""
    if not _RULES_KEY.fullmatch(key_line):  # its list starts on the next line
        raise UserError(".sops.yaml has no block-style creation_rules list", hint=manual)
    first = rules.items[0] if rules is not None and not rules.flow and rules.items else None
    dash = dash_of(d.text, first) if first is not None else -1
    if first is None or not d.text.startswith("- ", dash):  # "- " on the line of rule 1
        raise UserError(".sops.yaml: creation_rules is not a list of rules", hint=manual)
    indent = " " * column(d.text, dash)
    recipients = {n.anchor: n.value for _, _, n in d.key_items() if n.anchor}
    fields: dict[str, list[str]] = {"age": [], "pgp": []}  # a PGP admin goes under pgp:
    for name in admins:
        fields[key_kind(recipients.get(admin_anchor(name), ""))].append(f"*{admin_anchor(name)}")
    group = [f"{field}: [{', '.join(listed)}]" for field, listed in fields.items() if listed]
    block = (
        f"{indent}- path_regex: {HOST_KEYS_REGEX}"
        "  # admins only: host keys made by `secretkit hosts add --generate-host-key`\n"
        f"{indent}  key_groups:\n"
        f"{indent}    - " + f"\n{indent}      ".join(group) + "\n"
    )
    at = len(d.text[: line_start(d.text, dash)].encode("utf-8"))
    new = data[:at] + block.encode("utf-8") + data[at:]
    after = parse_config(new, path)
    if [r.path_regex for r in after.rules[1:]] != [r.path_regex for r in before.rules] or [
        r.recipients() for r in after.rules[1:]
    ] != [r.recipients() for r in before.rules]:
        raise UserError("could not add the host-keys rule to .sops.yaml safely", hint=manual)
    return new


# ---------------------------------------------------------------------------
# the nixos-anywhere --extra-files tree
# ---------------------------------------------------------------------------
def write_extra_files(
    directory: Path, key: HostKey, root: Path, key_path: str = KEY_PATH
) -> list[Path]:
    """``DIR/<key_path>`` (``etc/ssh/ssh_host_ed25519_key`` unless the host reads its key
    elsewhere; 0600) and ``.pub`` (0644); DIR must be outside the repository, and an
    existing different key there is never replaced."""
    target = directory.resolve()
    if target == root.resolve() or target.is_relative_to(root.resolve()):
        raise UserError(
            f"--extra-files {directory} is inside the repository: the private host key "
            "must not land in the work tree",
            hint="give a directory outside the repository, e.g. /tmp/NAME-extra-files",
        )
    private = target / key_path
    public = target / f"{key_path}.pub"
    if private.exists() and private.read_text(errors="replace") != key.private.reveal():
        raise UserError(
            f"{private} already holds another key; nothing was written there",
            hint="remove it or choose another --extra-files directory",
        )
    private.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    from secretkit.atomic import write_atomic

    write_atomic(private, key.private.reveal().encode("ascii"), 0o600)
    os.chmod(private, 0o600)
    write_atomic(public, (key.public + "\n").encode("ascii"), 0o644)
    return [private, public]
