"""What the points of ``secretkit check`` share: the repository's files (git's, or a
plain directory's), the ``.sops.yaml``, the sops files, the Nix facts, the hosts and
clan's layout — each computed once, on first use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from secretkit.gate.sops_verify import SopsJudge
    from secretkit.layouts.clan import ClanLayout
    from secretkit.nix.hosts import Inventory
    from secretkit.nix.sops_refs import NixFacts
    from secretkit.plan.hostvalues import HostValues
    from secretkit.plan.targets import Targets
    from secretkit.sops.config import SopsConfig
    from secretkit.sops.document import SopsFile

MAX_FILE_BYTES = 16 * 1024 * 1024


@dataclass
class SopsEntry:
    path: str
    data: bytes
    sops: SopsFile


@dataclass
class CheckContext:
    """What the checks share; expensive parts are computed once, on first use."""

    root: Path
    judge: SopsJudge
    _files: list[str] | None = None
    _tracked: set[str] | None = None
    _head: set[str] | None = None
    _config: SopsConfig | None = None
    _config_loaded: bool = False
    _sops: list[SopsEntry] | None = None
    _nix: NixFacts | None = None
    _inventory: Inventory | None = None
    _clan: ClanLayout | None = None
    _clan_loaded: bool = False
    _nix_sources: dict[str, bytes] | None = None
    _host_values: HostValues | None = None
    _targets: Targets | None = None
    progress: Callable[[int, int], None] | None = None  # for the history scan
    walk: bool = False  # a plain directory: no git, every file under it counts as tracked
    keys: bool = True  # the run opens files with the keys here (not --source-only)
    # the values plaintext-history found committed (decrypted-copy does not report them
    # again); None until that point has run
    committed: set[str] | None = None

    # -- files ------------------------------------------------------------------
    def files(self) -> list[str]:
        """Tracked plus untracked-not-ignored files (what a ``git add -A`` would publish)."""
        from secretkit.git.files import publishable, walk_files

        if self._files is None and self.walk:
            self._files = walk_files(self.root)
            self._tracked = set(self._files)
        if self._files is None:
            tracked, others = publishable(self.root)
            self._tracked = set(tracked)
            self._files = sorted(set(tracked) | set(others))
        return self._files

    def tracked(self) -> set[str]:
        self.files()
        return self._tracked or set()

    def committed_files(self) -> set[str]:
        """The files HEAD holds (a staged file is published only once committed)."""
        if self._head is None:
            from secretkit.git import run_git

            self._head = set()
            if not self.walk:
                proc = run_git(self.root, "ls-tree", "-r", "-z", "--name-only", "HEAD", check=False)
                if proc.returncode == 0:
                    names = proc.stdout.split(b"\0")
                    self._head = {n.decode("utf-8", "surrogateescape") for n in names if n}
        return self._head

    def read(self, path: str) -> bytes | None:
        full = self.root / path
        try:
            if full.is_symlink() or not full.is_file() or full.stat().st_size > MAX_FILE_BYTES:
                return None
            return full.read_bytes()
        except OSError:
            return None

    def nix_sources(self) -> dict[str, bytes]:
        """Every ``.nix`` file of :meth:`files` that can be read, by path."""
        if self._nix_sources is None:
            found = {f: self.read(f) for f in self.files() if f.endswith(".nix")}
            self._nix_sources = {f: data for f, data in found.items() if data is not None}
        return self._nix_sources

    # -- sops ---------------------------------------------------------------------
    def config(self) -> SopsConfig | None:
        if not self._config_loaded:
            from secretkit.sops.config import find_config

            self._config = find_config(self.root)
            self._config_loaded = True
        return self._config

    def sops_files(self) -> list[SopsEntry]:
        """Every sops file in the tree (any name: metadata decides), parsed."""
        if self._sops is None:
            from secretkit.sops.finder import find_sops_files

            result = find_sops_files(self.root, candidates=[self.root / p for p in self.files()])
            self._sops = [SopsEntry(f.rel, f.data, f.sops) for f in result.found]
        return self._sops

    def sops_by_path(self) -> dict[str, SopsEntry]:
        return {entry.path: entry for entry in self.sops_files()}

    def inventory(self) -> Inventory:
        if self._inventory is None:
            from secretkit.nix.hosts import discover

            self._inventory = discover(self.root)
        return self._inventory

    def host_values(self) -> HostValues:
        """What each host's modules set, as migrate's planner sees it (computed once)."""
        if self._host_values is None:
            from secretkit.plan.advice import host_values

            self._host_values = host_values(self.root, self.inventory(), self.read)
        return self._host_values

    def targets(self) -> Targets:
        """The sops file each host's new secrets go in, as migrate chooses it (the
        user's own layout: a host's defaultSopsFile, a file its rule names; computed once)."""
        if self._targets is None:
            from secretkit.nix import cst
            from secretkit.plan.advice import inline_modules, nixos_modules
            from secretkit.plan.targets import choose

            inventory = self.inventory()
            modules = nixos_modules(self.root, inventory)
            sources = self.nix_sources()
            inline = inline_modules(self.root, inventory)
            self._targets = choose(
                self.root, inventory.hosts, inventory.hosts, sources, modules, cst.parse, inline
            )
        return self._targets

    def clan(self) -> ClanLayout | None:
        """clan-core's sops/ and vars/ layout, when the repository has one."""
        if not self._clan_loaded:
            from secretkit.layouts.clan import read_clan

            self._clan = read_clan(self.root, self.files())
            self._clan_loaded = True
        return self._clan

    def nix(self) -> NixFacts:
        if self._nix is None:
            from secretkit.nix.sops_refs import nix_facts

            self._nix = nix_facts(self.files(), self.read, self.inventory().inline_spans())
        return self._nix
