"""The sops engine a command uses: the built-in one or the Go ``sops`` binary.

:class:`Engine` is what the file commands (encrypt, decrypt, edit, set,
updatekeys, rotate data-keys) ask for; the CLI builds one per run
(:func:`engine_for`, from ``--engine`` / ``SECRETKIT_ENGINE``) and passes it in.

* :class:`PythonEngine` — the pure-Python sops 3.x engine of this package;
* :class:`BinaryEngine` — :class:`~secretkit.sops.backend_binary.SopsBinary`, built on
  first use (choosing it when ``sops`` is not on PATH fails only once a command
  needs it).

Both load the identities of the environment once, on first use
(:class:`LazyIdentities`), so that a run never reads the key files twice and a
command that needs no key never fails on a broken key file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from secretkit.atomic import Transaction, write_atomic

if TYPE_CHECKING:
    from collections.abc import Callable

    from secretkit.sops.backend_binary import SopsBinary
    from secretkit.sops.config import CreationRule
    from secretkit.sops.document import PlainFile
    from secretkit.sops.identities import Identities

    # what a command takes as its identities: loaded, to load on first use, or the
    # environment's (None)
    IdentitySource = Identities | Callable[[], Identities] | None


def identities_of(source: IdentitySource) -> Identities:
    """The identities ``source`` gives (None: this environment's, loaded now)."""
    if source is None:
        from secretkit.sops.identities import load_identities

        return load_identities()
    return source() if callable(source) else source


class LazyIdentities:
    """The identities sops would use in ``env`` (default: this process's), loaded on
    the first call and the same object afterwards."""

    def __init__(
        self, env: Mapping[str, str] | None = None, loaded: Identities | None = None
    ) -> None:
        self._env = env
        self._loaded = loaded

    def __call__(self) -> Identities:
        if self._loaded is None:
            from secretkit.sops.identities import load_identities

            self._loaded = load_identities(self._env)
        return self._loaded


class Editor(Protocol):
    """What ``edit`` runs between decrypting and re-encrypting: given the plaintext
    (``original``), the file's bytes as read (``before``, None for a new file) and
    its format, the edited document — or None when nothing changed."""

    def __call__(self, original: bytes, before: bytes | None, fmt: str) -> PlainFile | None: ...


class Engine(Protocol):
    name: str  # "python" | "sops"
    # True when the engine tells which recipients each file gains and loses (so
    # ``updatekeys`` without FILE can report them); the sops binary cannot.
    knows_recipients: bool

    def identities(self) -> Identities:
        """The identities of this environment (loaded once)."""
        ...

    def encrypt(self, path: Path) -> bytes:
        """``path`` (plaintext) encrypted for its creation rule's recipients."""
        ...

    def decrypt(self, path: Path, extract: str | None = None) -> bytes:
        """The plaintext of ``path`` (MAC verified), or the value at ``extract``."""
        ...

    def edit(self, path: Path, editor: Editor) -> str:
        """Edit ``path`` (created from its rule when missing): "unchanged", "updated"
        or "created".  The sops binary runs its own editor and ignores ``editor``."""
        ...

    def set(self, path: Path, key_path: str, value: object) -> bool:
        """Set the value at ``key_path`` (written); True when the file was created."""
        ...

    def updatekeys(self, root: Path, paths: Sequence[Path]) -> list[bool]:
        """Re-wrap each file's data key for its rule's recipients (one transaction for
        the built-in engine); per file, whether it changed."""
        ...

    def rotate(self, root: Path, paths: Sequence[Path]) -> None:
        """A new data key for each file, values kept."""
        ...


def engine_for(name: str, cwd: Path, env: Mapping[str, str] | None = None) -> Engine:
    """The engine named ``name`` ("python" or "sops") working in ``cwd``."""
    if name == "sops":
        return BinaryEngine(cwd, LazyIdentities(env))
    return PythonEngine(cwd, LazyIdentities(env))


def describe(name: str) -> str:
    """The engine ``name`` in one phrase, for ``secretkit --version``."""
    import shutil

    if name == "python":
        return "python (built-in, writes sops 3.x files)"
    if name == "sops":
        found = shutil.which("sops")
        return f"sops binary at {found}" if found else "sops binary (not found on PATH)"
    return f"{name!r} (invalid SECRETKIT_ENGINE: use 'python' or 'sops')"


@dataclass
class PythonEngine:
    cwd: Path
    identities: LazyIdentities = field(default_factory=LazyIdentities)
    name: str = "python"
    knows_recipients: bool = True

    def encrypt(self, path: Path) -> bytes:
        from secretkit.sops import document, operations

        data = operations.read_input(path)
        fmt = document.format_for_path(path)
        rule = operations.rule_for_file(self.cwd, path)
        source = operations.display(self.cwd, path)
        plain = operations.load_plain(data, fmt, source=source)
        return operations.encrypt_new(plain, rule, source=source)

    def decrypt(self, path: Path, extract: str | None = None) -> bytes:
        from secretkit.sops import document, operations

        source = operations.display(self.cwd, path)
        data = operations.read_input(path)
        fmt = document.format_for_path(path)
        tree_path = operations.parse_tree_path(extract) if extract is not None else None
        plain = operations.decrypt_bytes(data, fmt, self.identities(), source=source)
        if tree_path is None:
            return document.dump_plain(plain)
        return extract_value(plain.to_python(), tree_path, fmt, source)

    def edit(self, path: Path, editor: Editor) -> str:
        from secretkit.sops import document, operations
        from secretkit.sops.config import find_config

        source = operations.display(self.cwd, path)
        fmt = document.format_for_path(path)
        if not path.exists():
            rule = operations.rule_for_file(self.cwd, path)
            new_plain = editor(document.dump_plain(operations.empty_plain(fmt)), None, fmt)
            if new_plain is None:
                return "unchanged"
            write_atomic(path, operations.encrypt_new(new_plain, rule, source=source))
            return "created"
        data = operations.read_input(path)
        sops = operations.load(data, fmt, source=source)
        key = operations.data_key_of(sops, self.identities(), source=source)
        plain = operations.open_file(sops, key, source=source)
        edited = editor(document.dump_plain(plain), data, fmt)
        if edited is None:
            return "unchanged"
        edited.stash.update(plain.stash)  # unchanged values keep their IV → same ciphertext
        metadata = sops.metadata
        if _older(metadata.version, document.SOPS_VERSION):
            metadata.version = document.SOPS_VERSION
        config = find_config(self.cwd)
        current = config.rule_for(path) if config is not None else None
        new = document.encrypt(edited, key, metadata)
        write_atomic(path, document.dump(new, indent=operations.store_indent(fmt, current)))
        return "updated"

    def set(self, path: Path, key_path: str, value: object) -> bool:
        from secretkit.sops import document, operations
        from secretkit.sops.config import find_config

        keys = tuple(str(part) for part in operations.parse_tree_path(key_path))
        fmt = document.format_for_path(path)
        existing = operations.read_input(path) if path.exists() else None
        rule: CreationRule | None
        if existing is None:
            rule = operations.rule_for_file(self.cwd, path)
        else:  # the matching rule, for the store indent, when there is a config
            config = find_config(self.cwd)
            rule = config.rule_for(path) if config is not None else None
        data = operations.set_values(
            existing,
            fmt,
            {keys: value},
            rule=rule,
            identities=self.identities(),
            source=operations.display(self.cwd, path),
        )
        _unchanged_since(path, existing, operations.display(self.cwd, path))
        write_atomic(path, data)
        return existing is None

    def updatekeys(self, root: Path, paths: Sequence[Path]) -> list[bool]:
        from secretkit.sops import document, operations

        identities = self.identities()
        changed: list[bool] = []
        pending: list[tuple[Path, bytes]] = []
        for path in paths:
            rule = operations.rule_for_file(self.cwd, path)
            data = operations.read_input(path)
            new = operations.updatekeys_bytes(
                data,
                document.format_for_path(path),
                rule,
                identities,
                source=operations.display(self.cwd, path),
            )
            changed.append(new is not None)
            if new is not None:
                pending.append((path, new))
        if pending:
            with Transaction(root) as txn:
                for path, new in pending:
                    txn.write(path, new)
        return changed

    def rotate(self, root: Path, paths: Sequence[Path]) -> None:
        from secretkit.sops import document, operations
        from secretkit.sops.config import find_config

        identities = self.identities()
        config = find_config(self.cwd)
        pending: list[tuple[Path, bytes]] = []
        for path in paths:
            fmt = document.format_for_path(path)
            rule = config.rule_for(path) if config is not None else None
            rotated = operations.rotate_bytes(
                operations.read_input(path),
                fmt,
                identities,
                source=operations.display(self.cwd, path),
                indent=operations.store_indent(fmt, rule),
            )
            pending.append((path, rotated))
        with Transaction(root) as txn:
            for path, new in pending:
                txn.write(path, new)


@dataclass
class BinaryEngine:
    cwd: Path
    identities: LazyIdentities = field(default_factory=LazyIdentities)
    name: str = "sops"
    knows_recipients: bool = False
    _binary: SopsBinary | None = field(default=None, repr=False)

    def binary(self) -> SopsBinary:
        """The ``sops`` on PATH (a user error when there is none)."""
        if self._binary is None:
            from secretkit.sops.backend_binary import SopsBinary

            self._binary = SopsBinary(self.cwd)
        return self._binary

    def encrypt(self, path: Path) -> bytes:
        return self.binary().encrypt(path)

    def decrypt(self, path: Path, extract: str | None = None) -> bytes:
        return self.binary().decrypt(path, extract)

    def edit(self, path: Path, editor: Editor) -> str:
        existed = path.exists()
        self.binary().edit(path)
        return "updated" if existed else "created"

    def set(self, path: Path, key_path: str, value: object) -> bool:
        existed = path.exists()
        self.binary().set(path, key_path, json.dumps(value).encode("utf-8"))
        return not existed

    def updatekeys(self, root: Path, paths: Sequence[Path]) -> list[bool]:
        binary = self.binary()
        for path in paths:
            binary.updatekeys(path)
        return [True for _ in paths]

    def rotate(self, root: Path, paths: Sequence[Path]) -> None:
        binary = self.binary()
        for path in paths:
            binary.rotate(path)


def extract_value(tree: object, path: list[str | int], fmt: str, source: str) -> bytes:
    """The bytes ``decrypt --extract`` prints for ``path`` in a decrypted ``tree``."""
    from secretkit.errors import UserError

    node = tree
    if isinstance(node, list) and fmt == "yaml":
        node = node[0] if node else {}
    for part in path:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
            continue
        if isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node):
            node = node[part]
            continue
        raise UserError(
            f"the key path does not exist in {source}",
            hint="list the keys with `secretkit decrypt FILE`",
        )
    if isinstance(node, str):
        return node.encode("utf-8")
    if isinstance(node, bytes):
        return node
    if isinstance(node, dict) and fmt in ("yaml", "json"):
        from secretkit.sops import document

        return document.dump_plain(document.new_plain(fmt, node))  # the store's own emitter
    if isinstance(node, (dict, list)):
        return (json.dumps(node, indent=4, ensure_ascii=False) + "\n").encode("utf-8")
    return json.dumps(node).encode("utf-8")


def _unchanged_since(path: Path, before: bytes | None, source: str) -> None:
    """Refuse to write when ``path`` changed since it was read (a writer that does not
    take the repository lock, e.g. sops or an editor): writing would undo its change."""
    from secretkit.errors import UserError

    try:
        now: bytes | None = path.read_bytes()
    except FileNotFoundError:
        now = None
    if now != before:
        raise UserError(
            f"{source} changed while set was running; nothing was written",
            hint="run the same `secretkit set` again",
        )


def _older(version: str, than: str) -> bool:
    def parts(text: str) -> tuple[int, ...]:
        out = []
        for piece in text.split("."):
            digits = "".join(ch for ch in piece if ch.isdigit())
            out.append(int(digits) if digits else 0)
        return tuple(out)

    return parts(version) < parts(than)
