"""Where a host's ssh host key is when sops-nix reads it, as its modules say.

sops-nix reads ``sops.age.sshKeyPaths`` while the system activates.  On a host whose
root is wiped at boot (impermanence's ``environment.persistence."<dir>"``,
preservation's ``preservation.preserveAt."<dir>"``), ``/etc/ssh`` holds the key only
once those modules have linked it from ``<dir>``, which may be later: sops-nix's own
README tells such hosts to name the key under the persistent directory.  A host that
used agenix says it already: ``age.identityPaths``, the keys agenix decrypted with at
the same point of activation.

:func:`activation_key_paths` gives the ed25519 keys to name for a host, or None when
nothing says (``/etc/ssh/ssh_host_ed25519_key``, the default, is right).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence

from secretkit.nix import cst
from secretkit.nix.cst import Node, Tree

HOST_KEY = "/etc/ssh/ssh_host_ed25519_key"
_PERSISTENCE = (("environment", "persistence"), ("preservation", "preserveAt"))


def activation_key_paths(
    sources: Mapping[str, bytes], modules: Sequence[str], parse: Callable[[bytes], Tree]
) -> list[str] | None:
    """The ed25519 ssh host keys a host's modules say are in place at activation
    (agenix's identity paths first), or None when none says."""
    identities: list[str] = []
    persisted: list[str] = []
    for module in modules:
        data = sources.get(module, b"")
        if b"identityPaths" not in data and HOST_KEY.encode() not in data:
            continue
        tree = parse(data)
        for binding in cst.bindings(tree):
            path = binding.full_path
            path = path[1:] if path[:1] == ["config"] else path
            if path == ["age", "identityPaths"]:
                identities += [p for p in _strings(tree, binding.value) if "ed25519" in p]
                continue
            keep = next((path[len(p) :] for p in map(list, _PERSISTENCE) if path[:2] == p), None)
            if not keep or len(keep) < 2 or keep[1] != "files":
                continue  # (environment.persistence."/persist".files = [ … ])
            if any(_kept(tree, item) == HOST_KEY for item in _items(binding.value)):
                persisted.append(posixpath.join(keep[0], HOST_KEY.lstrip("/")))
    found = list(dict.fromkeys(identities or persisted))
    return found or None


def _items(value: Node) -> list[Node]:
    node = cst.unwrap(value)
    if node is None or node.type != "list_expression":
        return []
    return [c for c in node.named_children if c.type != "comment"]


def _kept(tree: Tree, item: Node) -> str | None:
    """A persisted file's path: ``"/etc/ssh/…"`` or ``{ file = "/etc/ssh/…"; … }``."""
    if item.type in cst.STRING_TYPES:
        return _plain(tree, item)
    if item.type in cst.ATTRSETS:
        for names, value, _binding in cst.attrset_entries(tree, item):
            if names == ["file"]:
                return _plain(tree, value)
    return None


def _strings(tree: Tree, value: Node) -> list[str]:
    return [s for s in (_plain(tree, item) for item in _items(value)) if s is not None]


def _plain(tree: Tree, node: Node) -> str | None:
    node = cst.unwrap(node)
    if node is None or node.type != "string_expression":
        return None
    if any(c.type == "interpolation" for c in node.named_children):
        return None
    return cst.string_text(tree, node)


def key_paths(
    sources: Mapping[str, bytes], modules: Sequence[str], parse: Callable[[bytes], Tree]
) -> str:
    """The Nix list ``sops.age.sshKeyPaths`` is given for a host with ``modules``."""
    from secretkit.nix import emit

    paths = activation_key_paths(sources, modules, parse) or [HOST_KEY]
    return "[ " + " ".join(emit.nix_string(p) for p in paths) + " ]"


def key_source_configured(sources: Mapping[str, bytes]) -> bool:
    """Some module already tells sops-nix which key to use."""
    needles = (
        b"sops.age.",
        b"age.sshKeyPaths",
        b"age.keyFile",
        b"sops.gnupg",
        b"gnupg.sshKeyPaths",
    )
    return any(n in data for data in sources.values() for n in needles)


def sets_host_keys(
    sources: Mapping[str, bytes], modules: Sequence[str], parse: Callable[[bytes], Tree]
) -> bool:
    """Some module of ``modules`` sets ``services.openssh.hostKeys``.  sops-nix's
    default ``sops.age.sshKeyPaths`` is then its ed25519 entries (sops-nix
    modules/sops/default.nix, ``defaultImportKeys``: research/sops-nix.md), which a
    path written here would override: ``/persist/etc/ssh/…`` hosts keep no key at
    ``/etc/ssh``."""
    from secretkit.nix.sops_refs import option_path

    for rel in modules:
        data = sources.get(rel)
        if data is not None and b"hostKeys" in data:
            tree = parse(data)
            if any(
                option_path(b) == ["services", "openssh", "hostKeys"] for b in cst.bindings(tree)
            ):
                return True
    return False
