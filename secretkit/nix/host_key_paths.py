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
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from secretkit.nix import cst
from secretkit.nix.cst import Node, Tree

HOST_KEY = "/etc/ssh/ssh_host_ed25519_key"
KEY_DIR = "/etc/ssh"
# a persisted key whose directory is not a path secretkit reads (``persistentStoragePath
# = cfg.dir``): no path is written for it, the user is told to
UNREAD = "?"
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
        if b"identityPaths" not in data and b"/etc/ssh" not in data:
            continue
        tree = parse(data)
        storage: dict[str, str | None] = {}  # impermanence's name → persistentStoragePath
        kept: list[str] = []  # the names that keep the key (or /etc/ssh)
        for binding in cst.bindings(tree):
            path = binding.full_path
            path = path[1:] if path[:1] == ["config"] else path
            if path == ["age", "identityPaths"]:
                identities += [p for p in _strings(tree, binding.value) if "ed25519" in p]
                continue
            keep = next((path[len(p) :] for p in map(list, _PERSISTENCE) if path[:2] == p), None)
            if not keep or len(keep) != 2:
                continue  # (environment.persistence."/persist".files = [ … ])
            if keep[1] == "persistentStoragePath":
                storage[keep[0]] = _plain(tree, binding.value)
            elif keep[1] in ("files", "directories") and any(
                _kept(tree, item) in (HOST_KEY, KEY_DIR) for item in _items(binding.value)
            ):
                kept.append(keep[0])
        for name in kept:
            # (the name is the directory unless persistentStoragePath says another)
            base = storage[name] if name in storage else name if name.startswith("/") else None
            persisted.append(
                posixpath.join(base, HOST_KEY.lstrip("/")) if base is not None else UNREAD
            )
    found = list(dict.fromkeys(identities or persisted))
    return found or None


def _items(value: Node) -> list[Node]:
    node = cst.unwrap(value)
    if node is None or node.type != "list_expression":
        return []
    return [c for c in node.named_children if c.type != "comment"]


def _kept(tree: Tree, item: Node) -> str | None:
    """A persisted file's or directory's path: ``"/etc/ssh/…"`` or ``{ file = "/etc/ssh/…";
    … }`` (``{ directory = "/etc/ssh"; … }``)."""
    if item.type in cst.STRING_TYPES:
        return _plain(tree, item)
    if item.type in cst.ATTRSETS:
        for names, value, _binding in cst.attrset_entries(tree, item):
            if names in (["file"], ["directory"]):
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
    if UNREAD in paths:
        return UNREAD
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


def unread_note(host: str) -> str:
    """What to write by hand for a host whose persisted key's directory is not read."""
    return (
        f"host {host}: keeps its ssh host key in a persistent directory whose path secretkit "
        "cannot read (environment.persistence's persistentStoragePath, say): set "
        f'sops.age.sshKeyPaths = [ "<that directory>{HOST_KEY}" ]; in a module of its own by '
        "hand (sops-nix reads the key before /etc/ssh is linked to it)"
    )


def host_key_per_host(
    wiring: Any,
    sources: Mapping[str, bytes],
    entry_modules: Mapping[str, Sequence[str]],
    parse: Callable[[bytes], Tree],
    definitions: Collection[str],
    whole: Mapping[str, Sequence[str]],
    keys: Mapping[str, str],
    module_attrset: Callable[[Tree, set[str]], Node | None],
) -> None:
    """``sops.age.sshKeyPaths`` (``keys``: each host's list) in each host's first module
    of its own (``whole``: each host's modules that can take it), added to ``wiring``
    (a :class:`secretkit.nix.wiring.Wiring`; ``module_attrset``: where in a module)."""
    from secretkit.nix import emit

    default_list = f'[ "{HOST_KEY}" ]'

    def own(host: str, module: str) -> bool:  # (no host with another key reads it)
        return all(
            keys.get(other) == keys.get(host) or module not in whole.get(other, ())
            for other in entry_modules
            if other != host
        )

    firsts = [
        [m for m in e if m not in definitions and m in whole.get(host, e) and own(host, m)][:1]
        for host, e in entry_modules.items()
    ]
    for host, first in zip(entry_modules, firsts, strict=True):
        if not first:
            wiring.notes.append(
                f"host {host}: no module of its own that only NixOS hosts import; set "
                f"sops.age.sshKeyPaths = {keys.get(host, default_list)}; in one by hand"
            )
    targets = {
        e[0]: keys.get(host, default_list)
        for host, e in zip(entry_modules, firsts, strict=True)
        if e
    }
    for target, keyed in sorted(targets.items()):
        if target not in sources:
            continue
        line = f"sops.age.sshKeyPaths = {keyed};"
        tree = parse(sources[target])
        top = module_attrset(tree, set(entry_modules))
        if top is None:
            wiring.notes.append(f"{target}: not a module attrset; set {line} by hand")
            continue
        state = emit.ensure_option(tree, top, ["sops", "age", "sshKeyPaths"], keyed)
        wiring.add(target, state.edit, f"{target}: sops.age.sshKeyPaths = {keyed}")
