"""clan-core's secret layout, read the way ``clan secrets`` reads it.

Public API::

    read_clan(root: Path, files: Iterable[str]) -> ClanLayout | None
    ClanLayout.secrets: dict[str, ClanSecret]        # by repo-relative path of the sops file
    ClanLayout.problem(secret, recipients) -> str | None
    ClanLayout.declared_file(name) -> str | None     # sops/secrets/<name>/secret, if it exists

Layout (``clan secrets`` and ``clan vars`` with the sops backend)::

    sops/users/<u>/key.json          {"publickey": "age1…", "type": "age"} or a list of them
    sops/machines/<m>/key.json       same
    sops/groups/<g>/{users,machines}/<x> -> ../../../{users,machines}/<x>
    sops/secrets/<name>/secret       a sops file (JSON, binary store)
    sops/secrets/<name>/{users,machines,groups}/<x> -> ../../../{users,machines,groups}/<x>
    vars/per-machine/<m>/<generator>/<file>/secret  (+ users/ machines/ groups/ links)
    vars/shared/<generator>/<file>/secret           (same)

A secret's recipients are the keys of every user, machine and group member linked
from its folder.  A link whose name is not the name of what it points to, or that
points to nothing, is reported; so is a file whose sops recipients differ from the
folder's.  Only public keys and names are read; nothing is decrypted here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

_KINDS = ("users", "machines", "groups")
_MAX_KEY_BYTES = 64 * 1024


@dataclass(frozen=True)
class Member:
    kind: str  # "users" | "machines" | "groups"
    name: str  # the link's name
    target: str | None  # repo-relative target directory, None when the link is broken
    problem: str = ""  # why this link is wrong ("" when fine)


@dataclass
class ClanSecret:
    path: str  # repo-relative path of the sops file (…/secret)
    name: str  # sops/secrets/<name>, or vars/per-machine/<m>/<gen>/<file>
    members: list[Member] = field(default_factory=list)

    def machines(self, layout: ClanLayout) -> set[str]:
        """Machines that can read it: linked directly or through a group."""
        out = {m.name for m in self.members if m.kind == "machines" and not m.problem}
        for m in self.members:
            if m.kind == "groups" and not m.problem:
                out |= layout.group_members.get(m.name, {}).get("machines", set())
        return out


@dataclass
class ClanLayout:
    root: Path
    user_keys: dict[str, frozenset[str]] = field(default_factory=dict)
    machine_keys: dict[str, frozenset[str]] = field(default_factory=dict)
    group_members: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    secrets: dict[str, ClanSecret] = field(default_factory=dict)
    key_problems: list[tuple[str, str]] = field(default_factory=list)  # (path, why)

    def expected(self, secret: ClanSecret) -> frozenset[str]:
        """The recipients the folder layout names."""
        keys: set[str] = set()
        for m in secret.members:
            if m.problem:
                continue
            if m.kind == "users":
                keys |= self.user_keys.get(m.name, frozenset())
            elif m.kind == "machines":
                keys |= self.machine_keys.get(m.name, frozenset())
            else:
                members = self.group_members.get(m.name, {})
                for user in members.get("users", set()):
                    keys |= self.user_keys.get(user, frozenset())
                for machine in members.get("machines", set()):
                    keys |= self.machine_keys.get(machine, frozenset())
        return frozenset(keys)

    def problem(self, secret: ClanSecret, recipients: Iterable[str]) -> str | None:
        """Why ``secret`` is inconsistent with the folder layout, or None."""
        bad = [m for m in secret.members if m.problem]
        if bad:
            return "; ".join(f"{m.kind}/{m.name}: {m.problem}" for m in bad)
        want = self.expected(secret)
        have = frozenset(recipients)
        if want == have:
            return None
        parts = []
        missing = want - have
        extra = have - want
        if missing:
            parts.append(f"not encrypted for {self.describe(missing)}")
        if extra:
            parts.append(f"encrypted for {self.describe(extra)} which no link names")
        return "; ".join(parts)

    def describe(self, keys: Iterable[str]) -> str:
        """Keys by owner name where one is known (``machines/eve``), else the key."""
        owners: dict[str, str] = {}
        for kind, table in (("users", self.user_keys), ("machines", self.machine_keys)):
            for name, values in table.items():
                for key in values:
                    owners.setdefault(key, f"{kind}/{name}")
        return ", ".join(sorted(owners.get(k, k) for k in keys))

    def declared_file(self, name: str) -> str | None:
        path = f"sops/secrets/{name}/secret"
        return path if path in self.secrets else None


def read_clan(root: Path, files: Iterable[str]) -> ClanLayout | None:
    """The clan layout of the repository, or None when it has none.  ``files`` are the
    repository's files (repo-relative, ``/``-separated)."""
    secret_paths = [f for f in files if is_clan_secret(f) and (root / f).is_file()]
    sops_dir = root / "sops"
    if not secret_paths and not (sops_dir / "machines").is_dir():
        return None
    if not (sops_dir / "users").is_dir() and not (sops_dir / "machines").is_dir():
        return None
    layout = ClanLayout(root=root)
    for kind, table in (("users", layout.user_keys), ("machines", layout.machine_keys)):
        base = sops_dir / kind
        for entry in sorted(base.iterdir()) if base.is_dir() else []:
            keys, why = _read_keys(entry / "key.json")
            table[entry.name] = keys
            if why:
                layout.key_problems.append((f"sops/{kind}/{entry.name}/key.json", why))
    groups = sops_dir / "groups"
    for entry in sorted(groups.iterdir()) if groups.is_dir() else []:
        members: dict[str, set[str]] = {"users": set(), "machines": set()}
        for kind in ("users", "machines"):
            for link in _links(root, entry / kind, kind):
                if not link.problem:
                    members[kind].add(link.name)
        layout.group_members[entry.name] = members
    for path in sorted(secret_paths):
        folder = root / path
        secret = ClanSecret(path=path, name=str(Path(path).parent.as_posix()))
        for kind in _KINDS:
            secret.members.extend(_links(root, folder.parent / kind, kind))
        layout.secrets[path] = secret
    return layout


def is_clan_secret(path: str) -> bool:
    """Whether ``path`` (repo-relative) is a secret of clan's layout (``sops/secrets/<n>/secret``,
    a var's ``…/secret``): its recipients are its links, not a creation rule's."""
    parts = path.split("/")
    if parts[-1] != "secret":
        return False
    if len(parts) == 4 and parts[:2] == ["sops", "secrets"]:
        return True
    # vars files may have nested names (secureboot/keys/PK/PK.key)
    if len(parts) >= 6 and parts[:2] == ["vars", "per-machine"]:
        return True
    return len(parts) >= 5 and parts[:2] == ["vars", "shared"]


def _links(root: Path, directory: Path, kind: str) -> list[Member]:
    """The ``users``/``machines``/``groups`` links of a folder, each checked: a link must
    point to ``sops/<kind>/<its own name>``, which must exist."""
    out: list[Member] = []
    try:
        entries = sorted(directory.iterdir()) if directory.is_dir() else []
    except OSError:
        return out
    expected_parent = (root / "sops" / kind).resolve()
    for entry in entries:
        if not entry.is_symlink():
            out.append(Member(kind, entry.name, None, "is not a symlink"))
            continue
        try:
            raw = os.readlink(entry)
        except OSError:
            out.append(Member(kind, entry.name, None, "cannot be read"))
            continue
        target = (entry.parent / raw).resolve()
        if not target.is_dir():
            out.append(Member(kind, entry.name, None, f"points to {raw}, which does not exist"))
            continue
        try:
            rel = target.relative_to(root.resolve()).as_posix()
        except ValueError:
            out.append(Member(kind, entry.name, None, "points outside the repository"))
            continue
        if target.parent != expected_parent:
            out.append(Member(kind, entry.name, rel, f"points to {rel}, not into sops/{kind}/"))
        elif target.name != entry.name:
            out.append(Member(kind, entry.name, rel, f"points to {rel} (another {kind[:-1]})"))
        else:
            out.append(Member(kind, entry.name, rel))
    return out


def _read_keys(path: Path) -> tuple[frozenset[str], str]:
    """The public keys in a clan ``key.json`` (one object or a list), and a problem."""
    try:
        if path.stat().st_size > _MAX_KEY_BYTES:
            return frozenset(), "too large"
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return frozenset(), "missing"
    except (OSError, ValueError):
        return frozenset(), "not valid JSON"
    items = data if isinstance(data, list) else [data]
    keys = set()
    for item in items:
        key = item.get("publickey") if isinstance(item, dict) else None
        if isinstance(key, str) and key:
            keys.add(key)
    return frozenset(keys), "" if keys else "holds no publickey"


def secret_name_for(attrpath: str | None, path: str) -> str:
    """A clan secret name for a value found at ``attrpath`` (``hostapd-wpaPassphrase``)."""
    parts = [p for p in (attrpath or "").split(".") if p and not p.startswith("[")]
    if len(parts) >= 2:
        parts = parts[-2:]
    elif not parts:
        parts = [Path(path).stem]
    name = "-".join(parts)
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name)


def store_route(
    attrpath: str | None, path: str, machines: Iterable[str], others: Iterable[str] = ()
) -> str:
    """How a value found in a clan repository's Nix code is moved: stored with clan,
    read through the declaration clan makes for it (migrate writes no second layout)."""
    return clan_store(attrpath, path, machines, others).route


@dataclass(frozen=True)
class ClanStore:
    """Where a value of a clan repository goes: the secret ``name`` ``clan secrets set``
    stores for the machines using its file (``command``), and the route that works
    when an option takes a file (``route``)."""

    name: str
    command: str
    route: str


def clan_store(
    attrpath: str | None, path: str, machines: Iterable[str], others: Iterable[str] = ()
) -> ClanStore:
    """``machines``: the clan machines using the file; ``others``: its hosts that are
    no clan machines (a flake's own systems beside the clan), which clan gives nothing."""
    name = secret_name_for(attrpath, path)
    others = sorted(others)
    flags = " ".join(f"--machine {m}" for m in sorted(machines))
    command = f"clan secrets set {flags or '--machine <machine>'} {name}"
    point = (
        "point the option at its .path through the option's file-based twin (a *File "
        f'option: authKeyFile for authKey) or at config.sops.templates."<t>".path with '
        f'${{config.sops.placeholder."{name}"}} in its content (the placeholder is replaced '
        "only inside a template)"
    )
    known = _catalogue_route(attrpath, name)
    route = (
        f"store it with clan (`{command}` reads it from stdin); clan declares "
        f'sops.secrets."{name}" for the machine (root\'s, mode 0400): {known or point}'
    )
    if others and not flags:  # (only hosts that are no clan machines use it)
        one = len(others) == 1
        route = (
            f"{path} is used only by {', '.join(others)}, "
            + ("which is no clan machine: clan gives it no secret; make it one" if one else
               "which are no clan machines: clan gives them no secret; make them clan machines")
            + f" (machines/<name>/ in the clan), then {route}"
        )  # fmt: skip
    elif others:  # (clan gives them no secret: a machine of the clan would have it)
        one = len(others) == 1
        route += (
            f"; {', '.join(others)} use{'s' if one else ''} {path} too but "
            + ("is no clan machine" if one else "are no clan machines")
            + f": clan gives {'it' if one else 'them'} no secret (make "
            + ("it a clan machine" if one else "them clan machines")
            + ", machines/<name>/ in the clan, or keep the value out of the file)"
        )
    elif not flags:  # (no machine imports the file: clan would give the secret to none)
        route = f"no clan machine imports {path}: import it from the machines that use it, {route}"
    return ClanStore(name, command, route)


def _catalogue_route(attrpath: str | None, name: str) -> str | None:
    """The route migrate's catalogue knows for the option, told for clan's declaration
    (the owner its reader needs set beside it), else None."""
    from secretkit.nix.catalogue import lookup
    from secretkit.nix.catalogue.base import owner_by_release

    entry = lookup(attrpath.split(".")) if attrpath and '"' not in attrpath else None
    if entry is None or "→" not in entry.description:
        return None
    route = entry.description.partition("→")[2].strip()
    reader = entry.reader
    owner = reader.owner and owner_by_release(reader.owner, reader.owner_since, reader.owner_until)
    own = f'set sops.secrets."{name}".owner = {owner}; beside it, then ' if owner else ""
    using = (
        f'with ${{config.sops.placeholder."{name}"}} where the value stood in the template'
        if "template" in route
        else f'using config.sops.secrets."{name}".path'
    )
    return f"{own}replace the literal by the route {route}, {using}"
