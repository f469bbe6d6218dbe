"""Will sops-nix find its key on each host's first boot?

sops-nix derives the host's age identity from ``sops.age.sshKeyPaths``: migrate wires
``/etc/ssh/ssh_host_ed25519_key``, unless a module sets ``services.openssh.hostKeys``
(then sops-nix's default, the ed25519 entries of that list, is left to work:
:func:`secretkit.nix.host_key_paths.sets_host_keys`).  NixOS only creates host keys when
``services.openssh.enable`` is true.  This looks at what each host's modules set as
plain values and says, per host, what to add when the key would be missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from secretkit.plan.hostvalues import HostValues

if TYPE_CHECKING:
    from secretkit.nix.cst import Node, Tree

HOST_KEY = "/etc/ssh/ssh_host_ed25519_key"
HOST_KEYS = ("services", "openssh", "hostKeys")
OPENSSH = ("services", "openssh", "enable")
NO_ED25519 = "services.openssh.hostKeys lists no ed25519 key"
# written anywhere, sops-nix may be given a key other than the ssh host key: not judged
OTHER_KEY_SOURCES = (b"age.keyFile", b"sops.gnupg", b"gnupg.sshKeyPaths")


def host_key_problems(
    hosts: Sequence[str],
    host_values: HostValues,
    sources: Mapping[str, bytes],
    host_modules: Mapping[str, Sequence[str]],
    key_path: str = HOST_KEY,
) -> list[str]:
    problems = []
    for host in sorted(hosts):
        enabled, _ = host_values.value([host], OPENSSH)
        # the modules that set services.openssh.hostKeys (read as migrate's wiring reads
        # them: not boot.initrd.network.ssh.hostKeys, which sops-nix does not use)
        keys = [
            sources.get(m, b"")
            for m in host_modules.get(host, [])
            if host_values.sets(m, HOST_KEYS) is not None
        ]
        ed25519 = any(b'"ed25519"' in data for data in keys)
        conditional = enabled is None and any(
            host_values.sets(m, OPENSSH) is not None for m in host_modules.get(host, [])
        )
        if conditional:
            pass  # set under mkIf (a module's own enable option) or to an expression: unknown
        elif enabled != "true":
            state = (
                "is not enabled"
                if enabled == "false"
                else "is not set to true by any module as a plain value (if an option of "
                "yours sets it, this does not apply)"
            )
            problems.append(
                f"host {host}: sops.age.sshKeyPaths uses {key_path}, but services.openssh "
                f"{state}, so that key is never generated and no secret decrypts on boot; "
                f"add services.openssh.enable = true; to {host} (or set sops.age.keyFile "
                "to an age key you install)"
            )
        elif keys and not ed25519:
            named = key_file(sources, host_modules.get(host, []))
            read = (
                f"sops-nix reads {named} (its sops.age.sshKeyPaths), which no entry makes"
                if named not in (None, UNREAD)
                else "sops-nix reads the ed25519 ones (its default sops.age.sshKeyPaths)"
            )
            path = named if named not in (None, UNREAD) else key_path
            problems.append(
                f"host {host}: {NO_ED25519}, and {read}, so unless that key is installed "
                f'by other means no secret decrypts on boot; add {{ path = "{path}"; '
                f'type = "ed25519"; }} to services.openssh.hostKeys of host {host} (sshd '
                "keeps a key that is already there)"
            )
    return problems


UNREAD = "?"


def key_file(sources: Mapping[str, bytes], modules: Sequence[str]) -> str | None:
    """The file a host's sops-nix reads its ssh key from, as its modules write it:
    ``sops.age.sshKeyPaths = [ "<path>" ]``, else the one ed25519 entry of
    ``services.openssh.hostKeys`` (``{ path = "/persist/ssh/…"; type = "ed25519"; }``,
    sops-nix's default), its ``${…}`` settled by the lets around it.  None when no
    module says (the host reads :data:`HOST_KEY`); :data:`UNREAD` when they say it other
    than as one path secretkit can read (an impermanence ``if``, ``config.…``)."""
    from secretkit.nix import cst

    named: set[str] = set()
    listed: set[str] = set()
    for module in modules:
        data = sources.get(module, b"")
        if b"sshKeyPaths" not in data and b"hostKeys" not in data:
            continue
        tree = cst.parse(data)
        for binding in cst.bindings(tree):
            path = binding.full_path
            path = path[1:] if path[:1] == ["config"] else path
            if path == ["sops", "age", "sshKeyPaths"]:
                named.add(_one_path(tree, binding.value) or "?")
            elif tuple(path) == HOST_KEYS and binding.value.type == "list_expression":
                for item in binding.value.named_children:
                    fields = _fields(tree, item)
                    if fields.get("type") == "ed25519":
                        listed.add(fields.get("path") or "?")
    found = sorted(named or listed)
    if not found:
        return None
    return found[0] if len(found) == 1 and found[0].startswith("/") else UNREAD


def _one_path(tree: Tree, value: Node) -> str | None:
    from secretkit.nix import cst

    node = cst.unwrap(value)
    if node is None or node.type != "list_expression":
        return None
    items = [c for c in node.named_children if c.type != "comment"]
    return _text(tree, items[0]) if len(items) == 1 else None


def _text(tree: Tree, node: Node) -> str | None:
    """A string's value, ``${x}`` settled by the lets around it (``"${persist}/ssh/…"``)."""
    from secretkit.nix import cst
    from secretkit.nix.let_names import resolver

    node = cst.unwrap(node)
    if node is None or node.type != "string_expression":
        return None
    return cst.attr_name(tree, node, resolver(tree))


def _fields(tree: Tree, item: Node) -> dict[str, str]:
    """The plain string fields of an attrset ``item`` of a list."""
    from secretkit.nix import cst

    out: dict[str, str] = {}
    if item.type in ("attrset_expression", "rec_attrset_expression"):
        for names, value, _binding in cst.attrset_entries(tree, item):
            text = _text(tree, value) if names and len(names) == 1 else None
            if text is not None and names:
                out[names[0]] = text
    return out


def hosts_add_hint(host: str) -> str:
    """How to give ``host`` its key in ``.sops.yaml``: its ssh host key's public half."""
    return (
        f"run: secretkit hosts add {host} --ssh-pubkey-file {host}_ssh_host_ed25519_key.pub "
        f"(a copy of /etc/ssh/ssh_host_ed25519_key.pub from {host})"
    )
