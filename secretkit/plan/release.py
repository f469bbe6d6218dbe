"""Which NixOS release the repository pins, so a route the release lacks is refused.

Read from ``flake.lock`` (the root's ``nixpkgs`` input, or the inputs ``flake.nix``
builds hosts from, :func:`system_inputs`: its ``original.ref`` such as ``nixos-24.11``,
else the ``locked.lastModified`` date of an unstable/master pin; hosts built from inputs
of several releases take the oldest, ``Pin.mixed``) or,
without a lock file, from the ``nixpkgs.url`` in ``flake.nix``; without a flake, from
the branch niv, npins or lon pins nixpkgs to (``nix/sources.json``, ``npins/sources.json``,
``lon.lock``).
An unstable pin of date *d* is taken to have every release whose month has begun by *d* (a release's
options are merged before it branches off).  Unknown → None: nothing is refused for
its version, and migrate says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from secretkit.lazy_re import lazy
from secretkit.nix.catalogue.base import owner_by_release
from secretkit.nix.catalogue.base import release_key as key

_REF = lazy(r"(?:nixos|release|nixpkgs)-(\d{2})\.(\d{2})(?:-small|-darwin)?$")
# inputs.nixpkgs.url = "…", or inputs = { nixpkgs = { url = "…"; … }; }
_URL = lazy(rb'\bnixpkgs(?:\.url|\s*=\s*\{[^{}]*?\burl)\s*=\s*"([^"]+)"')


@dataclass(frozen=True)
class Pin:
    """The NixOS release a repository pins, and how that was found."""

    release: str | None  # "24.11"; None when the pin says nothing usable
    source: str  # how it was found, for messages
    # an unstable pin, dated after ``release`` and before the release that followed
    unstable: bool = False
    # hosts are built from more than one nixpkgs input of other releases: ``release``
    # is the oldest of them (a route it lacks is refused for all), and each host's
    # reader owner is chosen by its own release, in Nix (:func:`owner_on`)
    mixed: bool = False
    input: str = "nixpkgs"  # the flake input of ``release`` (the one to update)

    @property
    def shown(self) -> str:
        """The release as a message says it: ``24.11``, or for an unstable pin ``a
        nixpkgs between 23.11 and 24.05`` (what it has of the next one is not known)."""
        if self.release is None or not self.unstable:
            return self.release or "an unknown release"
        year, month = key(self.release)
        following = f"{year:02d}.11" if month < 11 else f"{year + 1:02d}.05"
        return f"a nixpkgs between {self.release} and {following}"

    def lacks(self, since: str) -> bool:
        """True when the pinned release is older than ``since``."""
        return self.release is not None and key(self.release) < key(since)


def release_refusal(pin: Pin | None, since: str | None, what: str) -> tuple[str, str] | None:
    """(why, the way out) when ``pin`` is older than ``since``, the first release with
    what ``what`` needs; None when it is not (or either is unknown)."""
    if since is None or pin is None or not pin.lacks(since):
        return None
    return (
        f"{what} needs NixOS {since} or newer, and this repository pins {pin.shown} ({pin.source})",
        f"{update_step(pin, since)}; or, on {pin.shown}, the steps below with a route your "
        "release has",
    )


def update_step(pin: Pin, since: str) -> str:
    """The way out of a route ``pin`` is too old for: its nixpkgs input updated."""
    return (
        f"update the {pin.input} input to NixOS {since} or newer and run secretkit migrate "
        "again (it then moves this one)"
    )


def owner_on(
    owner: str | None, since: str | None, pin: Pin | None, until: str | None = None
) -> str | None:
    """A reader's ``owner`` on the pinned release: None (root) where the release is
    older than ``since``, when NixOS still ran the reader as root (the user may not
    even exist there, and sops-nix fails activation on an unknown owner), or is
    ``until`` or newer, when systemd reads the file for it (``LoadCredential``).  On an
    unknown release the owner is chosen by the host's own release, in Nix
    (``config.system.nixos.release``: every NixOS has it; Nix is lazy, so an ``owner``
    naming an option a later release removed is not read there)."""
    if owner is not None and pin is not None and pin.mixed:
        return owner_by_release(owner, since, until)
    if since is not None and pin is not None and pin.lacks(since):
        return None
    known = pin is not None and pin.release is not None
    if until is not None and known and pin is not None and not pin.lacks(until):
        return None
    if owner is not None and not known:
        return owner_by_release(owner, since, until)
    return owner


def _from_ref(ref: str) -> str | None:
    found = _REF.search(ref)
    return f"{found[1]}.{found[2]}" if found else None


def _from_date(epoch: int) -> str:
    import datetime as _dt  # (not at import: the hook loads this module)

    day = _dt.datetime.fromtimestamp(epoch, tz=_dt.UTC).date()
    year = day.year % 100
    if day.month >= 11:
        return f"{year:02d}.11"
    if day.month >= 5:
        return f"{year:02d}.05"
    return f"{year - 1:02d}.11"


def pinned(
    flake_lock: bytes | None,
    flake_nix: bytes | None,
    niv: bytes | None = None,
    npins: bytes | None = None,
    lon: bytes | None = None,
) -> Pin:
    """The release of ``flake.lock``, else of ``flake.nix``'s nixpkgs.url, else of the
    nixpkgs branch niv (``nix/sources.json``), npins (``npins/sources.json``) or lon
    (``lon.lock``) pins."""
    if flake_lock:
        locked = _lock_pin(flake_lock, system_inputs(flake_nix) if flake_nix else set())
        if locked is not None:
            return locked
    if flake_nix:
        found = _URL.search(flake_nix)
        if found:
            url = found[1].decode("utf-8", "replace")
            release = _from_ref(url.rsplit("/", 1)[-1])
            if release is not None:
                return Pin(release, f"flake.nix: nixpkgs.url {url}")
    for name, data in (("nix/sources.json", niv), ("npins/sources.json", npins), ("lon.lock", lon)):
        sourced = _source_pin(data, name) if data else None
        if sourced is not None:
            return sourced
    return Pin(None, "no pinned nixpkgs release found")


def _source_pin(data: bytes, name: str) -> Pin | None:
    """The release of the nixpkgs pin of niv's or npins' sources.json or lon's lock: the
    one named ``nixpkgs``, else the pins of NixOS/nixpkgs and of channels
    (``npins add channel nixos-24.11`` names its pin ``nixos-24.11``); pins of several
    releases give the oldest, ``mixed``."""
    nodes = _nodes(data, name)
    if nodes is None:
        return None
    if "nixpkgs" in nodes:
        chosen = {"nixpkgs": nodes["nixpkgs"]}
    else:
        chosen = {n: node for n, node in nodes.items() if _is_nixpkgs(node)}
    pins = {}
    for pin_name, node in sorted(chosen.items()):
        ref = node.get("branch") or node.get("name")  # (npins: a Channel pin has a name)
        release = _from_ref(ref) if isinstance(ref, str) else None
        if release is not None:
            label = "nixpkgs" if pin_name == "nixpkgs" else f"nixpkgs pin {pin_name}"
            pins[pin_name] = Pin(release, f"{name}: {label} {ref}")
    if not pins:
        return None
    if len({p.release for p in pins.values()}) == 1:
        return next(iter(pins.values()))
    oldest = min(pins.values(), key=lambda p: key(p.release or ""))
    listed = " and ".join(f"{n} ({p.release})" for n, p in pins.items())
    return Pin(oldest.release, f"{name}: nixpkgs pins {listed}", mixed=True)


def _is_nixpkgs(node: dict[str, object]) -> bool:
    repository = node.get("repository")
    repo = repository.get("repo") if isinstance(repository, dict) else node.get("repo")
    return repo == "nixpkgs" or node.get("type") == "Channel"


def _lock_pin(flake_lock: bytes, builders: set[str]) -> Pin | None:
    """The release of the nixpkgs input(s) ``flake.lock`` locks that build the hosts
    (``builders``, :func:`system_inputs`; ``nixpkgs`` when none is named), or None when
    the lock says nothing usable.  Hosts built from inputs of other releases give the
    oldest, ``mixed``; one of them of an unknown release makes the whole unknown."""
    try:
        lock = json.loads(flake_lock)
        nodes = lock["nodes"]
        inputs = nodes[lock.get("root", "root")]["inputs"]
        if not isinstance(inputs, dict):
            return None
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None
    pins: dict[str, Pin | None] = {}
    for name in sorted(builders & set(inputs)) or ["nixpkgs"]:
        try:
            target = inputs.get(name, name)
            node = nodes[target if isinstance(target, str) else target[0]]
        except (KeyError, TypeError, IndexError):
            node = None
        pins[name] = _node_pin(name, node) if isinstance(node, dict) else None
    known = [p for p in pins.values() if p is not None]
    if not known:
        return None  # (flake.nix's nixpkgs.url is read then)
    if len(pins) == 1 or len({(p.release, p.unstable) for p in known}) == 1 == len(known):
        return known[0]
    if len(known) < len(pins):
        return Pin(None, f"flake.lock: hosts are built from {_listed(pins)}")
    oldest = min(known, key=lambda p: (key(p.release or ""), p.unstable))
    return Pin(
        oldest.release,
        f"flake.lock: hosts are built from {_listed(pins)}",
        unstable=oldest.unstable,
        mixed=True,
        input=oldest.input,
    )


def _listed(pins: dict[str, Pin | None]) -> str:
    return " and ".join(
        f"{name} ({p.shown if p is not None else 'an unknown release'})" for name, p in pins.items()
    )


def _node_pin(name: str, node: dict[str, object]) -> Pin | None:
    """The release of the lock's node of input ``name`` (None: it says none)."""
    original, locked = node.get("original"), node.get("locked")
    original = original if isinstance(original, dict) else {}
    locked = locked if isinstance(locked, dict) else {}
    ref = str(original.get("ref", ""))
    release = _from_ref(ref)
    if release is not None:
        return Pin(release, f"flake.lock: {name} ref {ref}", input=name)
    modified = locked.get("lastModified")
    if isinstance(modified, int):
        import datetime as _dt

        day = _dt.datetime.fromtimestamp(modified, tz=_dt.UTC).date()
        rev = str(locked.get("rev", ""))[:12]
        source = f"flake.lock: {name} {ref or 'unstable'} {rev} of {day}"
        return Pin(_from_date(modified), source, unstable=True, input=name)
    return None


_SYSTEM = ".lib.nixosSystem"


def system_inputs(flake_nix: bytes) -> set[str]:
    """The flake inputs ``flake.nix`` builds hosts from: ``X`` of ``X.lib.nixosSystem``
    (``inputs.X.lib.nixosSystem``; ``lib.nixosSystem`` with ``lib`` bound in a ``let``
    to ``X.lib`` or by ``inherit (X) lib``), of colmena's ``meta.nixpkgs = import X``
    and ``meta.nodeNixpkgs.<host> = import X``.  Empty when it names none (a helper
    in another file, a ``lib`` given as an argument): then ``nixpkgs`` is read."""
    from secretkit.nix import cst

    try:
        return _system_inputs(cst.parse(flake_nix))
    except cst.NixTooDeep:
        return set()


def _system_inputs(tree: Any) -> set[str]:
    from secretkit.nix import cst

    found: set[str] = set()
    held = {"inputs"}  # (the names the outputs function gives all the inputs: `attrs:`)
    for binding in cst.bindings(tree):
        if binding.full_path == ["outputs"] and binding.value.type == "function_expression":
            universal = binding.value.child_by_field_name("universal")
            if universal is not None:
                held.add(cst.node_text(tree, universal))
    for node in cst.walk(tree.root):
        if node.type != "select_expression":
            continue
        name = cst.dotted_name(tree, node)
        if name is None or not (name == _SYSTEM[1:] or name.endswith(_SYSTEM)):
            continue
        if name.endswith(_SYSTEM) and name != _SYSTEM[1:]:
            found.update(_input_named(name[: -len(_SYSTEM)], held))
            continue
        bound = next(cst.let_bound(tree, node, "lib"), None)
        if bound is not None:
            found.update(_input_named(_lib_source(tree, bound), held))
        found.update(_inherited_lib(tree, node, held))
    for binding in cst.bindings(tree):
        path = binding.full_path
        if "meta" in path[:-1] and (path[-1] == "nixpkgs" or path[-2:-1] == ["nodeNixpkgs"]):
            value = binding.value
            head = (
                value.child_by_field_name("function") if value.type == "apply_expression" else None
            )
            while head is not None and head.type == "apply_expression":
                value, head = head, head.child_by_field_name("function")
            if head is not None and cst.node_text(tree, head) == "import":
                argument = value.child_by_field_name("argument")
                if argument is not None:
                    found.update(_input_named(cst.dotted_name(tree, argument), held))
    return found


def _input_named(name: str | None, held: set[str]) -> list[str]:
    """``X`` of ``X`` or ``inputs.X`` (an input's name; ``held``: the names of the
    set of inputs), else nothing."""
    if name is None:
        return []
    parts = name.split(".")
    if parts[0] in held and len(parts) == 2:
        return [parts[1]]
    return [parts[0]] if len(parts) == 1 else []


def _lib_source(tree: Any, bound: Any) -> str | None:
    """``X`` of ``lib = X.lib`` (``inputs.X.lib``, ``X.lib.extend …``)."""
    from secretkit.nix import cst

    while bound.type == "apply_expression":
        function = bound.child_by_field_name("function")
        if function is None:
            return None
        bound = function
    name = cst.dotted_name(tree, bound)
    for tail in (".lib.extend", ".lib"):
        if name is not None and name.endswith(tail):
            return name[: -len(tail)]
    return None


def _inherited_lib(tree: Any, node: Any, held: set[str]) -> list[str]:
    """``X`` of an ``inherit (X) lib;`` in a ``let`` around ``node``."""
    from secretkit.nix import cst

    current = node.parent
    while current is not None:
        if current.type == "let_expression":
            for source, names in cst.inherited_from(tree, current):
                if "lib" in names:
                    return _input_named(cst.dotted_name(tree, source), held)
        current = current.parent
    return []


def _nodes(data: bytes, name: str) -> dict[str, dict[str, object]] | None:
    """The pins of niv's or npins' sources.json, or of lon's lock, by name."""
    try:
        pins = json.loads(data)
        if name == "lon.lock":
            nodes = pins["sources"]
        else:
            nodes = pins["pins"] if name.startswith("npins/") else pins
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(nodes, dict):
        return None
    return {k: v for k, v in nodes.items() if isinstance(v, dict)}
