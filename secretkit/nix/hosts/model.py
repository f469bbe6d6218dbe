"""What host discovery hands out: hosts, the inventory, and notes as values.

A :class:`Note` says what could not be followed (``unresolved``) or what was only
recorded (``external``: ``inputs.x.nixosModules.y``, nixpkgs modules, submodules): a
file, a line, a reason naming node kinds, identifiers and paths only, never string
contents.  :attr:`Inventory.unresolved` and :attr:`Inventory.external` render them as
``(file, "line N: why")`` pairs for output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secretkit.lazy_re import lazy

# an external module that is sops-nix's own: ``sops-nix.nixosModules.sops``,
# ``inputs."sops-nix".nixosModules.default``, ``<sops-nix/modules/sops>``
_SOPS_NIX = lazy(r"sops[^.]*\.(nixosModules|darwinModules)\.|<sops-nix/")
# the one a host of each kind needs: a nix-darwin system does not evaluate with the
# NixOS module, nor a NixOS one with the nix-darwin module (sops-nix's flake.nix)
_SOPS_NIX_NIXOS = lazy(r"sops[^.]*\.nixosModules\.|<sops-nix/modules/sops")
_SOPS_NIX_DARWIN = lazy(r"sops[^.]*\.darwinModules\.|<sops-nix/modules/nix-darwin")
_SOPS_NIX_HOME = lazy(r"sops[^.]*\.homeManagerModules\.")
# external modules that do not bring sops-nix: nixpkgs' own and those of well-known
# flakes that never import it (every other one may import modules secretkit cannot read)
_WELL_KNOWN = (
    "agenix|ragenix|agenix-rekey|nixos-hardware|disko|home-manager|impermanence|lanzaboote"
)
_NIXPKGS = lazy(
    rf"^a nixpkgs module|^<nixpkgs[/>]|^(inputs\.|self\.inputs\.)?({_WELL_KNOWN})\.nixosModules\."
    # ("${nixpkgs}/nixos/modules/installer/…": nixpkgs brings no sops-nix)
    r"|^a module of the flake input nixpkgs(?:[-_][\w-]*)?$"
)


@dataclass(frozen=True)
class Note:
    """Something discovery could not follow, with where it is."""

    file: Path  # repo-relative
    line: int | None  # None: about the file as a whole
    reason: str
    kind: str = field(default="", compare=False)  # what the reason is about, for callers
    subject: str = field(default="", compare=False)  # the expression a "host-set" note names

    @property
    def text(self) -> str:
        return self.reason if self.line is None else f"line {self.line}: {self.reason}"

    def order(self) -> tuple[str, int, str]:
        return (self.file.as_posix(), self.line or 0, self.text)


@dataclass
class Host:
    """A host discovery found: its entry modules, the modules it reaches, and its source."""

    name: str
    entry_modules: list[Path]
    modules: frozenset[Path]
    source: str  # "flake" | "colmena" | "hosts-dir", several joined with "+"
    inline: tuple[tuple[Path, int, int], ...] = ()  # inline module spans (file, start, end)
    files: frozenset[Path] = frozenset()  # modules used as whole files (not only inline code)
    # files the host uses only as home-manager modules (home-manager.users.<u>,
    # home-manager.sharedModules): their options are home-manager's, not NixOS's
    home_modules: frozenset[Path] = frozenset()
    external: frozenset[str] = frozenset()  # modules from outside: inputs.x.nixosModules.y
    # of those, modules of inputs that flake.lock shows not to depend on sops-nix
    inert: frozenset[str] = frozenset()
    gaps: tuple[Note, ...] = ()  # what could not be followed from this host's modules
    module_sites: tuple[tuple[Path, int, int], ...] = ()  # its builder's `modules = …` value
    # files only read for their value (`creds = import ./creds.nix;`, `callPackage ./p.nix`),
    # never used as modules, each with the files importing it: no `config` reaches them
    values: dict[Path, frozenset[Path]] = field(default_factory=dict)
    # its colmena node is `mapAttrs (n: v: { imports = v._module.args.modules; })
    # self.nixosConfigurations`: the node's modules are its nixosSystem's
    mapped_node: bool = False
    # networking.hostName where an inline module sets it to what this reading can tell
    # (`host.hostName` of a host set's value): (file, binding offset, the name)
    host_names: tuple[tuple[str, int, str], ...] = ()
    # its builder sets networking.hostName to its name: snowfall-lib's systems, built by
    # flake-utils-plus (gytis-ivaskevicius/flake-utils-plus 062bc257, lib/mkFlake.nix:
    # `networking.hostName = hostname;`, the name's first DNS label)
    named: bool = False
    # False when discovery could not read the list of its modules at all (`mkSystem`
    # of a helper it cannot follow): it may import any module of the repository
    resolved: bool = True

    @property
    def darwin(self) -> bool:
        """A nix-darwin system (``darwinConfigurations``), not a NixOS one."""
        return self.source == "darwin"

    def imports_sops_nix(self) -> bool | None:
        """Whether sops-nix's module is among this host's modules: True, False, or None
        when it is not found but could come through something not followed (a gap, a
        flake input's module, a git submodule): then it cannot be said."""
        if self.source == "home-manager":
            own = _SOPS_NIX_HOME
        else:
            own = _SOPS_NIX_DARWIN if self.darwin else _SOPS_NIX_NIXOS
        if any(own.search(name) for name in self.external) or "clan" in self.source:
            return True  # clan-core brings sops-nix with it
        # (sops-nix's module of another kind is no module it cannot read: it brings
        # nothing of this kind's)
        return None if self.unseen(but_sops_nix=True) else False

    def imports_sops_nix_home(self) -> bool | None:
        """Whether sops-nix's home-manager module is among the modules of this host's
        home-manager configurations (``home-manager.sharedModules``, a user's
        ``imports``; discovery keeps them with the host's): True, False, or None when it
        could come through something not followed."""
        if any(_SOPS_NIX_HOME.search(name) for name in self.external):
            return True
        # (sops-nix's NixOS module brings no home-manager module)
        return None if self.unseen(but_sops_nix=True) else False

    def unseen(self, *, but_sops_nix: bool = False) -> list[str]:
        """What of this host's modules secretkit could not read, as ``file:line: why``
        (``but_sops_nix``: sops-nix's own module left out, for questions it cannot
        change the answer to, such as the host's name)."""
        out = [f"{n.file.as_posix()}:{n.line or 1}: {n.reason}" for n in self.gaps]
        out += sorted(
            f"the module {name}"
            for name in self.external - self.inert
            if not _NIXPKGS.search(name) and not (but_sops_nix and _SOPS_NIX.search(name))
        )
        return list(dict.fromkeys(out))


@dataclass
class Inventory:
    """Every host of a repository, with what discovery could not follow."""

    root: Path
    hosts: dict[str, Host]
    notes: list[Note] = field(default_factory=list)  # what could not be followed
    external_notes: list[Note] = field(default_factory=list)  # recorded only
    # the hosts whose discovery met each note (a note in a file several hosts share,
    # such as flake.nix, belongs to the host whose modules list it is in)
    note_hosts: dict[Note, frozenset[str]] = field(default_factory=dict)

    def hosts_of_note(self, note: Note) -> set[str]:
        """The hosts a note is about: those whose discovery met it, else every host
        using its file."""
        return set(self.note_hosts.get(note) or self.hosts_of_file(note.file))

    definition_files: frozenset[Path] = frozenset()  # files that declare hosts (hive.nix)
    # what a module's own switch turns off, per file (read on demand: _switched_off)
    _guards: dict[Path, list[tuple[int, int, frozenset[str]]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _trees: dict[Path, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def unresolved(self) -> list[tuple[Path, str]]:
        return [(n.file, n.text) for n in self.notes]

    @property
    def external(self) -> list[tuple[Path, str]]:
        return [(n.file, n.text) for n in self.external_notes]

    def _rel(self, path: Path | str) -> Path:
        p = Path(path)
        if p.is_absolute():
            try:
                p = p.relative_to(self.root)
            except ValueError:
                return p
        return Path(p.as_posix())

    def is_home_module(self, host: str, path: Path | str) -> bool:
        """Whether ``host`` uses ``path`` only as a home-manager module."""
        found = self.hosts.get(host)
        return found is not None and self._rel(path) in found.home_modules

    def home_only(self, path: Path | str) -> bool:
        """Whether every host using ``path`` uses it as a home-manager module only."""
        users = self.hosts_of_file(path)
        return bool(users) and all(self.is_home_module(h, path) for h in users)

    def value_importers(self, path: Path | str) -> list[Path] | None:
        """The files importing ``path`` when every host using it reads it for its value
        only (not as a module: a plain attrset of values), else None."""
        rel = self._rel(path)
        users = [h for h in self.hosts.values() if rel in h.modules]
        if not users or any(rel not in h.values for h in users):
            return None
        return sorted({i for h in users for i in h.values[rel]})

    def hosts_of_file(self, path: Path | str) -> set[str]:
        rel = self._rel(path)
        return {h.name for h in self.hosts.values() if rel in h.modules}

    def clan_machines_of_file(self, path: Path | str) -> set[str]:
        """The clan machines among :meth:`hosts_of_file` (a flake's own systems beside
        the clan get no secret of clan's)."""
        return {h for h in self.hosts_of_file(path) if "clan" in self.hosts[h].source}

    def hosts_at(self, path: Path | str, offset: int) -> set[str]:
        """Hosts using the code at byte ``offset`` of ``path``: inline module spans
        decide where they exist (``flake.nix``, ``hive.nix``), else the whole file."""
        rel = self._rel(path)
        spans = [(h.name, s, e) for h in self.hosts.values() for f, s, e in h.inline if f == rel]
        inside = {name for name, s, e in spans if s <= offset < e}
        whole = {h.name for h in self.hosts.values() if rel in h.files}
        if spans:
            # code outside every inline module of a definition file (a devShell in
            # flake.nix, say) is used by no host, unless a host imports the whole file
            return inside | whole
        users = self.hosts_of_file(rel)
        for start, end, off in self._switched_off(rel, users):
            if start <= offset < end and users - off:
                users -= off  # (never all of them: see secretkit.nix.hosts.guards)
        return users

    def config_users(self, path: Path | str) -> set[str]:
        """The hosts using ``path``'s module config: those of :meth:`hosts_of_file`, less
        the hosts that leave the module's own switch off when one guards its whole config
        (where migrate declares the module's secrets)."""
        rel = self._rel(path)
        users = self.hosts_of_file(rel)
        switched = self._switched_off(rel, users)
        if len(switched) == 1 and users - switched[0][2]:
            return users - switched[0][2]
        return users

    def _switched_off(self, rel: Path, users: set[str]) -> list[tuple[int, int, frozenset[str]]]:
        """The spans of ``rel`` under its module's own switch, each with the hosts that
        leave the switch off (:mod:`secretkit.nix.hosts.guards`)."""
        found = self._guards.get(rel)
        if found is not None:
            return found
        found = self._guards[rel] = []
        if len(users) < 2 or rel.suffix != ".nix":
            return found
        from secretkit.nix.hosts import guards

        tree = self._tree(rel)
        for guard in guards.module_guards(tree) if tree is not None else ():
            off = guards.hosts_off(
                guard, sorted(users), self._modules_of, self._complete, self._tree_of
            )
            if off:
                found.append((guard.start, guard.end, off))
        return found

    def _modules_of(self, host: str) -> list[tuple[str, tuple[int, int] | None]]:
        found = self.hosts[host]
        out: list[tuple[str, tuple[int, int] | None]] = []
        only_inline = {f for f, _s, _e in found.inline} - found.files
        out += [(m.as_posix(), None) for m in sorted(found.modules - only_inline)]
        out += [(f.as_posix(), (s, e)) for f, s, e in found.inline]
        return out

    def _complete(self, host: str) -> bool:
        found = self.hosts[host]
        return found.resolved and not found.unseen(but_sops_nix=True)

    def _tree_of(self, rel: str) -> Any:
        return self._tree(Path(rel))

    def _tree(self, rel: Path) -> Any:
        from secretkit.nix import cst

        if rel not in self._trees:
            try:
                data = (self.root / rel).read_bytes()
            except OSError:
                data = None
            self._trees[rel] = cst.parse(data) if data is not None else None
        return self._trees[rel]

    def inline_at(self, path: Path | str, offset: int) -> tuple[int, int] | None:
        """The span of the innermost inline module of ``path`` that holds byte
        ``offset`` (``{ … }`` in a ``modules`` list of ``flake.nix``, a colmena node),
        or None: the code there belongs to the file as a module, or to no module."""
        rel = self._rel(path)
        spans = {(s, e) for h in self.hosts.values() for f, s, e in h.inline if f == rel}
        inside = [(s, e) for s, e in spans if s <= offset < e]
        return min(inside, key=lambda span: span[1] - span[0]) if inside else None

    def site_files(self) -> set[Path]:
        """The files where a host's ``modules = …`` is (where hosts are built: no module)."""
        return {f for h in self.hosts.values() for f, _s, _e in h.module_sites}

    def inline_spans(self) -> dict[str, list[tuple[int, int]]]:
        """Every inline module's span, by repository-relative file (``/``-separated)."""
        out: dict[str, set[tuple[int, int]]] = {}
        for host in self.hosts.values():
            for f, s, e in host.inline:
                out.setdefault(f.as_posix(), set()).add((s, e))
        return {f: sorted(spans) for f, spans in out.items()}

    def files(self) -> dict[Path, set[str]]:
        out: dict[Path, set[str]] = {}
        for host in self.hosts.values():
            for module in host.modules:
                out.setdefault(module, set()).add(host.name)
        return out
