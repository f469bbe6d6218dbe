"""What ``flake.lock`` says of a flake input: the flakes it depends on, transitively.

A module from an input (``nix-minecraft.nixosModules.minecraft-servers``) can bring
sops-nix's module only if sops-nix is among that input's own inputs: a flake names other
flakes' modules through its inputs alone.  Read from the lock, never evaluated."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any


class FlakeLock:
    """The lock's nodes (none when there is no readable ``flake.lock``)."""

    def __init__(self, root: Path) -> None:
        try:
            data = json.loads((root / "flake.lock").read_text())
            self.nodes: dict[str, Any] = data["nodes"] if isinstance(data, dict) else {}
            self.root: str = data.get("root", "root")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.nodes, self.root = {}, "root"

    def _target(self, ref: object) -> str | None:
        """A node's input: a node name, or a ``follows`` path from the root's inputs."""
        if isinstance(ref, str):
            return ref
        if not isinstance(ref, list):
            return None
        node: str | None = self.root
        for part in ref:
            inputs = self.nodes.get(node or "", {}).get("inputs", {})
            node = self._target(inputs.get(part)) if isinstance(inputs, dict) else None
            if node is None:
                return None
        return node

    def reaches(self, input_name: str, repo: str) -> bool | None:
        """Whether the root's input ``input_name`` depends (itself included) on a flake
        named ``repo`` (its GitHub/GitLab repo, or the node's own name); None when the
        lock does not know the input."""
        inputs = self.nodes.get(self.root, {}).get("inputs", {})
        start = self._target(inputs.get(input_name)) if isinstance(inputs, dict) else None
        if start is None:
            return None
        seen: set[str] = set()
        todo = [start]
        while todo:
            key = todo.pop()
            if key in seen or key not in self.nodes:
                continue
            seen.add(key)
            node = self.nodes[key]
            names = {key.split("_")[0]}
            for part in ("original", "locked"):
                facts = node.get(part, {}) if isinstance(node, dict) else {}
                if isinstance(facts, dict) and isinstance(facts.get("repo"), str):
                    names.add(facts["repo"])
            if repo in names:
                return True
            deps = node.get("inputs", {}) if isinstance(node, dict) else {}
            for ref in deps.values() if isinstance(deps, dict) else ():
                target = self._target(ref)
                if target is not None:
                    todo.append(target)
        return False


def sops_nix_absent(root: Path, sources: Iterable[bytes]) -> bool:
    """Whether sops-nix cannot be in this repository's configurations at all: no Nix
    file names it and ``flake.lock`` (every flake input, transitively) holds none.  A
    host whose modules secretkit cannot all read still lacks its module then.  Without
    a readable lock this is never said."""
    if any(b"sops-nix" in data for data in sources):
        return False
    lock = FlakeLock(root)
    if not lock.nodes:
        return False  # (no lock: what the flake's inputs bring is not known)
    for key, node in lock.nodes.items():
        names = {key.split("_")[0]}
        for part in ("original", "locked"):
            facts = node.get(part, {}) if isinstance(node, dict) else {}
            if isinstance(facts, dict):
                names.update(str(facts.get(k, "")) for k in ("repo", "url"))
        if any("sops-nix" in name for name in names):
            return False
    return True
