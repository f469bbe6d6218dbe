"""``sops.secrets."<name>"`` declarations in Nix code, read from the syntax tree:
the secret's name, the key path it reads (``key``, default the name) and the units
sops-nix restarts when it changes (``restartUnits``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from secretkit.lazy_re import lazy
from secretkit.nix import cst


@dataclass
class Declaration:
    file: str  # repository-relative
    line: int
    name: str
    key: str | None = None  # the ``key`` option when it is a literal
    restart_units: list[str] = field(default_factory=list)

    @property
    def key_path(self) -> str:
        return self.key or self.name


def _strings(tree: cst.NixTree, node: cst.Node) -> list[str]:
    """The units a ``restartUnits`` value names; one named from the host's configuration
    (an OCI container's ``"${…backend}-<name>.service"``, wireguard's ``if`` on its
    backend) is :data:`BY_CONFIGURATION`."""
    if node.type != "list_expression":
        return [BY_CONFIGURATION]  # (`if useNetworkd then [ … ] else [ … ]`)
    strings = [cst.string_at(tree, c) for c in node.children if c.type in cst.STRING_TYPES]
    return [BY_CONFIGURATION if s.has_interpolation else s.value for s in strings]


# a unit named by an expression of the host's configuration: what it is shows at deploy
BY_CONFIGURATION = "(the unit the host's configuration names)"


_PLACEHOLDER = lazy(r'placeholder\.(?:"([^"]+)"|([A-Za-z_][A-Za-z0-9_\'-]*))')


def declarations_in(rel: str, source: bytes) -> list[Declaration]:
    """The file's declarations; a secret also restarts the ``restartUnits`` of the
    ``sops.templates`` that hold its placeholder (the service reads the template)."""
    tree = cst.parse(source)
    found: dict[str, Declaration] = {}
    templates: dict[str, tuple[list[str], list[str]]] = {}  # name → (placeholders, units)
    for binding in cst.bindings(tree):
        full = binding.full_path
        for i in range(len(full) - 2):
            if full[i : i + 2] == ["sops", "templates"]:
                held, units = templates.setdefault(full[i + 2], ([], []))
                rest = full[i + 3 :]
                text = cst.node_text(tree, binding.value)
                if rest == ["restartUnits"]:
                    units.extend(u for u in _strings(tree, binding.value) if u not in units)
                elif rest in (["content"], []):
                    held.extend(a or b for a, b in _PLACEHOLDER.findall(text))
                break
            if full[i : i + 2] != ["sops", "secrets"]:
                continue
            name, rest = full[i + 2], full[i + 3 :]
            line = tree.position(binding.start)[0]
            decl = found.setdefault(name, Declaration(rel, line, name))
            if rest == ["restartUnits"]:
                decl.restart_units.extend(_strings(tree, binding.value))
            elif rest == ["key"] and binding.value.type in cst.STRING_TYPES:
                decl.key = cst.string_at(tree, binding.value).value
            break
    for held, units in templates.values():
        for name in dict.fromkeys(held):
            if name in found:
                decl = found[name]
                decl.restart_units.extend(u for u in units if u not in decl.restart_units)
    return list(found.values())


def declarations(root: Path, files: Iterable[Path]) -> list[Declaration]:
    """Every declaration in the ``.nix`` files among ``files``."""
    out: list[Declaration] = []
    for path in files:
        if path.suffix != ".nix" or not path.is_file():
            continue
        try:
            source = path.read_bytes()
        except OSError:
            continue
        out.extend(declarations_in(path.relative_to(root).as_posix(), source))
    return out
