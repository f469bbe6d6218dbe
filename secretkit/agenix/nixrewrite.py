"""Rewrite agenix's Nix code to sops-nix, by byte spans.

Per file, :func:`rewrite_file` returns the edits that turn

* ``age.secrets.<n> = { file = …; owner; group; mode; path; symlink; name; }`` into
  ``sops.secrets.<n> = { sopsFile = …; owner; group; mode; path; [key; format;] }``
  with the same runtime path: agenix's default ``/run/agenix/<name>`` is written out
  as ``path`` when the declaration relied on it (``name`` folds into it; ``symlink``
  has no sops-nix counterpart: sops-nix links ``path`` to its own file);
* ``config.age.secrets.<n>.path`` into ``config.sops.secrets.<n>.path``;
* ``age.identityPaths`` into ``sops.age.sshKeyPaths``;
* an ``agenix``/``ragenix`` ``nixosModules`` entry of a module list into nothing
  (the sops-nix wiring adds sops-nix's module), and in ``flake.nix`` the ``agenix``
  input and outputs argument once nothing else refers to it.

agenix-rekey options and agenix options without a sops-nix meaning are refused
with the reason (:class:`Refusal`); nothing is guessed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from secretkit.lazy_re import lazy
from secretkit.nix import cst, emit
from secretkit.nix.edits import Edit

Node = Any
AGENIX_DIR = "/run/agenix"
_KEEP = ("owner", "group", "mode", "path")
_DROP = ("symlink", "name")
REKEY_ATTRS = ("rekeyFile", "generator", "intermediary", "rekey")
_MODULE_REF = lazy(r"^((?:inputs\.)?)r?agenix\.nixosModules\.(?:default|age)$")
SOPS_MODULE = "sops-nix.nixosModules.sops"
_REKEY_MODULE = lazy(r"^(?:inputs\.)?agenix-rekey\.nixosModules\.(?:default|agenix-rekey)$")
_HM_MODULE = lazy(r"(?:^|\.)r?agenix\.homeManagerModules\b")
_AGE_FILE = lazy(r"([A-Za-z0-9_.+@-][A-Za-z0-9_./+@-]*\.age)\b")


@dataclass(frozen=True)
class Target:
    """Where the value of one ``.age`` file goes, as the Nix code must name it."""

    sops_file: str  # a Nix expression
    key: str | None  # sops-nix key (None: the attr name is the key, or a binary file)
    binary: bool
    needs_config: bool = False


@dataclass(frozen=True)
class Declared:
    """One converted declaration (for the plan and the tests)."""

    file: str
    name: str
    age_file: str
    attrs: dict[str, str]  # owner/group/mode/path → Nix source text


@dataclass
class FileRewrite:
    edits: list[Edit] = field(default_factory=list)
    declared: list[Declared] = field(default_factory=list)
    refs: int = 0
    notes: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    module_refs: int = 0


AGENIX_OPTIONS = ("secrets", "identityPaths", "secretsDir", "secretsMountPoint", "ageBin", "rekey")


def option_path(tree: cst.NixTree, binding: Node) -> tuple[list[str], int] | None:
    """(the ``age.*`` option path of ``binding`` from its module's root, how many names
    of it come before the binding's own attrpath), or None when it sets no agenix
    option.  The module root is found by the option itself, so modules inline in
    ``flake.nix`` lists, colmena nodes, ``config = mkIf … { … }`` and ``mkMerge [ … ]``
    all work; ``sops.age.*`` is not agenix."""
    prefix = cst.path_of(tree, binding)
    names = cst.attr_names(tree, binding.child_by_field_name("attrpath"))
    full = prefix + names
    for k, part in enumerate(full):
        if part != "age" or (k > 0 and full[k - 1] == "sops"):
            continue
        rest = full[k + 1 :]
        if rest and rest[0] in AGENIX_OPTIONS:
            return full[k:], len(prefix) - k
        if not rest and _agenix_attrset(tree, binding):
            return full[k:], len(prefix) - k
    return None


def _agenix_attrset(tree: cst.NixTree, binding: Node) -> bool:
    """``age = { secrets… ; identityPaths = …; }``: an attrset of agenix options only."""
    value = cst.unwrap(binding.child_by_field_name("expression"))
    if value is None or value.type not in cst.ATTRSETS:
        return False
    inner = [cst.binding_names(tree, b) for b in cst.bindings_of(value)]
    return bool(inner) and all(n and n[0] in AGENIX_OPTIONS for n in inner)


def structural_refusals(sources: dict[str, bytes], *, rekey: bool = False) -> list[str]:
    """Every place the conversion would refuse for its shape alone (no key, no value
    needed), in every file at once: reported before anything is decrypted, so that one
    run names them all."""
    out: list[str] = []
    for rel, source in sources.items():
        if b"age" in source:
            out += rewrite_file(rel, cst.parse(source), lambda *_: None, rekey=rekey).refusals
    return out


_PRIORITY_WRAPPERS = ("mkDefault", "mkForce", "mkOverride", "mkIf", "mkBefore", "mkAfter")


def _not_an_attrset(tree: cst.NixTree, name: str, value: Node | None) -> str:
    shown = emit.attr(name)
    if value is not None and value.type == "apply_expression":
        head = value
        while head.type == "apply_expression" and head.child_by_field_name("function"):
            head = head.child_by_field_name("function")
        called = cst.dotted_name(tree, head)
        if called is not None and called.rsplit(".", 1)[-1] in _PRIORITY_WRAPPERS:
            return (
                f"age.secrets.{shown} is `{called} {{ … }}`, not an attrset literal: write "
                f"the attrset itself (age.secrets.{shown} = {{ … }};) and set the priority "
                "on its attributes if needed"
            )
    return f"age.secrets.{shown} is not an attrset literal (age.secrets.{shown} = {{ … }};)"


def _in_let(binding: Node) -> bool:
    parent = binding.parent
    return (
        parent is not None
        and parent.parent is not None
        and (parent.parent.type == "let_expression")
    )


def delete_span(source: bytes, start: int, end: int) -> Edit:
    """Delete ``source[start:end]`` and the line it leaves blank (or one space before)."""
    line_start = source.rfind(b"\n", 0, start) + 1
    line_end = source.find(b"\n", end)
    line_end = len(source) if line_end == -1 else line_end
    if not source[line_start:start].strip() and not source[end:line_end].strip():
        return Edit(max(line_start - 1, 0), line_end, "")
    if start > 0 and source[start - 1 : start] == b" ":
        return Edit(start - 1, end, "")
    return Edit(start, end, "")


def age_file_of(tree: cst.NixTree, value: Node, module: str) -> tuple[str, bool]:
    """(the ``.age`` path a ``file =`` value names, whether it is relative to the module)."""
    text = cst.node_text(tree, value).strip()
    if value.type == "path_expression" and text.startswith(("./", "../")):
        base = PurePosixPath(module).parent
        return os.path.normpath((base / text).as_posix()), True
    found = _AGE_FILE.findall(text)
    return (found[-1].lstrip("./") if found else ""), False


def _rekey_only(full: list[str]) -> bool:
    """An agenix-rekey setting that has no meaning once the secrets are in sops files:
    ``age.rekey.*``, ``age.secrets.<n>.generator`` / ``intermediary``."""
    if full[1:2] == ["rekey"]:
        return True
    return len(full) >= 4 and full[1] == "secrets" and full[3] in ("generator", "intermediary")


def _rekey_depth(full: list[str]) -> int:
    return 1 if full[1:2] == ["rekey"] else 3


# ``users.users.<u>.hashedPasswordFile = config.age.secrets.<n>.path``: agenix decrypts
# before users are made; sops-nix does so only for secrets with neededForUsers, which
# stay root's (sops-nix modules/sops: secretsForUsers, the setupSecretsForUsers step).
# Only a user's: restic's or borg's passwordFile is read by its service, as its user.
_AGE_PATH = lazy(r'^config\.age\.secrets\.(?:"([^"]+)"|([A-Za-z0-9_\'-]+))\.path$')
_USER_PASSWORD_FILES = ("hashedPasswordFile", "passwordFile")


_WRAPPER = lazy(r"^(?:lib\.)?mk(?:Force|Default|OptionDefault|Override \d+) ")


def _unwrapped(text: str) -> str:
    """``lib.mkForce (x)`` → ``x``: what a priority or parentheses wrap."""
    while True:
        bare = _WRAPPER.sub("", text).strip()
        if bare.startswith("(") and bare.endswith(")"):
            bare = bare[1:-1].strip()
        if bare == text:
            return text
        text = bare


def for_users(sources: dict[str, bytes]) -> set[str]:
    """The agenix secrets a user's password is read from (``users.users.<u>.
    hashedPasswordFile`` or ``passwordFile``), in any of ``sources``."""
    from secretkit.nix.sops_refs import option_path as module_option

    found: set[str] = set()
    for data in sources.values():
        if b"asswordFile" not in data or b"age.secrets" not in data:
            continue
        tree = cst.parse(data)
        every = list(cst.bindings(tree))
        # `secrets = config.age.secrets;` … `hashedPasswordFile = secrets.root.path;`
        aliases = {
            b.attrpath[0]: text
            for b in every
            if len(b.attrpath) == 1
            and (text := " ".join(str(cst.node_text(tree, b.value)).split()))
            in ("config.age.secrets", "config.age")
        }
        for binding in every:
            full = module_option(binding)
            if len(full) < 4 or full[0] != "users" or full[1] not in ("users", "extraUsers"):
                continue
            if full[-1] not in _USER_PASSWORD_FILES or len(full) != 4:
                continue
            text = _unwrapped(" ".join(str(cst.node_text(tree, binding.value)).split()))
            alias = text.split(".", 1)[0]
            if alias in aliases:
                text = aliases[alias] + text[len(alias) :]
            match = _AGE_PATH.match(text)
            if match:
                found.add(match[1] or match[2])
    return found


def rewrite_file(
    rel: str,
    tree: cst.NixTree,
    target_of: Callable[[str, bool, str, int], Target | str | None],
    *,
    rekey: bool = False,
    users: AbstractSet[str] = frozenset(),
) -> FileRewrite:
    """The edits for one file.  ``target_of(age_path, exact, module, offset)`` says where
    the value of that ``.age`` file goes (or why it cannot be converted; None: not
    asked in this pass — :func:`structural_refusals` reads only the file's shape).
    ``users``: the secrets users' passwords are read from (:func:`for_users`)."""
    out = FileRewrite()
    source = tree.source
    secrets: dict[str, dict[str, Any]] = {}
    for node in cst.walk(tree.root):
        if node.type == "select_expression":
            text = cst.node_text(tree, node)
            if _HM_MODULE.search(text):
                line, _ = tree.position(int(node.start_byte))
                out.refusals.append(
                    f"{rel} line {line}: agenix's home-manager module: replace it with "
                    "sops-nix's homeManagerModules.sops (user keys, sops.age.keyFile) and move "
                    "its secrets by hand"
                )
            _reference(tree, node, out, rel)
            continue
        if node.type == "list_expression":
            for element in node.named_children:
                text = cst.node_text(tree, element)
                if rekey and _REKEY_MODULE.match(text):
                    out.edits.append(delete_span(source, element.start_byte, element.end_byte))
                    continue
                match = _MODULE_REF.match(text)
                if match:
                    text = match[1] + SOPS_MODULE
                    out.edits.append(Edit(element.start_byte, element.end_byte, text))
                    out.module_refs += 1
            continue
        if node.type != "binding" or _in_let(node):
            continue
        found = option_path(tree, node)
        if found is None:
            continue
        full, before = found
        parts = [
            p for p in node.child_by_field_name("attrpath").named_children if p.type != "comment"
        ]
        covers = before + len(parts) - 1  # the deepest option position this binding names
        if rekey and _rekey_only(full):
            if before <= _rekey_depth(full):  # the binding that sets it, not one inside
                out.edits.append(delete_span(source, node.start_byte, node.end_byte))
                if full[1] == "secrets":
                    line, _ = tree.position(int(node.start_byte))
                    out.notes.append(
                        f"line {line}: age.secrets.{full[2]}.{full[3]} dropped (agenix-rekey "
                        "only); the value is imported as it is"
                    )
            continue
        dropped = len(full) == 4 and full[1] == "secrets" and full[3] in _DROP
        for index, part in enumerate(parts):
            position = before + index
            if dropped:
                break  # (the binding goes whole: `age.secrets.<n>.name = …;`)
            if position == 0:
                out.edits.append(Edit(part.start_byte, part.end_byte, "sops"))
            elif position == 1 and full[1] == "identityPaths":
                out.edits.append(Edit(part.start_byte, part.end_byte, "age.sshKeyPaths"))
        if len(full) >= 2 and full[1] not in ("secrets", "identityPaths"):
            reason = (
                "agenix-rekey option"
                if full[1] in REKEY_ATTRS
                else "agenix option without a sops-nix counterpart"
            )
            out.refusals.append(f"{rel}: age.{full[1]} is an {reason}")
            continue
        if full[1:2] != ["secrets"] or len(full) < 3:
            continue
        name = full[2]
        entry = secrets.setdefault(name, {"attrs": {}, "node": None, "last": node, "file": None})
        if not dropped:  # (new attributes go after a binding that stays)
            entry["last"] = node
        if len(full) == 3:
            value = cst.unwrap(node.child_by_field_name("expression"))
            if value is not None and value.type in cst.ATTRSETS:
                entry["node"] = value
            else:
                out.refusals.append(f"{rel}: {_not_an_attrset(tree, name, value)}")
            continue
        attr = "file" if rekey and full[3] == "rekeyFile" else full[3]
        if len(full) > 4 or attr in REKEY_ATTRS:
            out.refusals.append(
                f"{rel}: age.secrets.{name}.{attr} is an agenix-rekey option"
                if attr in REKEY_ATTRS
                else f"{rel}: age.secrets.{name}.{'.'.join(full[3:])} is not an agenix option"
            )
            continue
        value = node.child_by_field_name("expression")
        if attr == "file":
            entry["file"] = (node, value, covers == 3)
        elif attr in _KEEP:
            entry["attrs"][attr] = cst.node_text(tree, value)
        elif attr in _DROP:
            entry["attrs"][attr] = cst.node_text(tree, value)
            out.edits.append(delete_span(source, node.start_byte, node.end_byte))
            if attr == "symlink" and cst.node_text(tree, value).strip() == "false":
                line, _ = tree.position(int(node.start_byte))
                out.notes.append(
                    f"line {line}: age.secrets.{name}.symlink = false dropped: sops-nix puts "
                    "a symlink at path (to its file under /run/secrets.d, or "
                    "/run/secrets-for-users.d for a neededForUsers secret), where agenix put a "
                    "plain file; check that the program reading it follows symlinks"
                )
        else:
            out.refusals.append(f"{rel}: age.secrets.{name}.{attr} is not an agenix option")
    needs_config = False
    for name, entry in secrets.items():
        if entry["file"] is None:
            out.refusals.append(f"{rel}: age.secrets.{name} has no file = …")
            continue
        binding, value, last_is_file = entry["file"]
        age_path, exact = age_file_of(tree, value, rel)
        target = target_of(age_path, exact, rel, int(binding.start_byte))
        if target is None:
            continue
        if isinstance(target, str):
            out.refusals.append(f"{rel}: age.secrets.{name}: {target}")
            continue
        needs_config |= target.needs_config
        attrpath = binding.child_by_field_name("attrpath")
        last = [p for p in attrpath.named_children if p.type != "comment"][-1]
        if last_is_file:
            out.edits.append(Edit(last.start_byte, last.end_byte, "sopsFile"))
        out.edits.append(Edit(value.start_byte, value.end_byte, target.sops_file))
        attrs: dict[str, str] = dict(entry["attrs"])
        extra: list[tuple[str, str]] = []
        if "path" not in attrs:
            runtime = attrs.get("name", emit.nix_string(name))
            if runtime.startswith('"') and "${" not in runtime:
                path = emit.nix_string(f"{AGENIX_DIR}/{cst.unquote(runtime)}")
            else:
                path = f'"{AGENIX_DIR}/${{{runtime}}}"'
            extra.append(("path", path))
            attrs["path"] = path
        if target.key is not None and target.key != name:
            extra.append(("key", emit.nix_string(target.key)))
        if target.binary:
            extra.append(("format", '"binary"'))
        if name in users:
            owner = attrs.get("owner", '"root"')
            if owner != '"root"':
                out.refusals.append(
                    f"{rel}: age.secrets.{name} holds a user's password, which sops-nix "
                    f"decrypts before users exist, for root only: drop its owner = {owner};"
                )
                continue
            extra.append(("neededForUsers", "true"))
        if extra:
            out.edits.append(_add_attrs(tree, entry, binding, extra))
        out.declared.append(
            Declared(rel, name, age_path, {k: v for k, v in attrs.items() if k in _KEEP})
        )
    if rel != "flake.nix":
        out.edits += _rename_formals(tree, out.edits)
    if needs_config:
        fix = emit.ensure_config_arg(tree)
        if isinstance(fix, str):
            out.refusals.append(f"{rel}: {fix}")
        elif fix is not None:
            out.edits.append(fix)
    return out


def _rename_formals(tree: cst.NixTree, edits: list[Edit]) -> list[Edit]:
    """``{ agenix, ... }:`` → ``{ sops-nix, ... }:`` when the module refs were the only
    uses of that argument (a file of host definitions handed the flake's inputs)."""
    from secretkit.nix.edits import apply_edits

    formals = [
        node
        for node in cst.walk(tree.root)
        if node.type == "formal"
        and node.child_by_field_name("name") is not None
        and cst.node_text(tree, node.child_by_field_name("name")) in INPUT_NAMES
    ]
    if not formals or mentions(apply_edits(tree.source, edits)) != len(formals):
        return []
    renamed = []
    for formal in formals:
        name = formal.child_by_field_name("name")
        renamed.append(Edit(name.start_byte, name.end_byte, "sops-nix"))
    return renamed


def _add_attrs(
    tree: cst.NixTree, entry: dict[str, Any], binding: Node, extra: list[tuple[str, str]]
) -> Edit:
    attrset = entry["node"]
    if attrset is not None:
        return emit.insert_bindings(tree, attrset, [f"{k} = {v};" for k, v in extra])
    # split form (age.secrets.<n>.file = …;): new bindings after the last one
    last = entry["last"]
    names = cst.attr_names(tree, last.child_by_field_name("attrpath"))[:-1]
    found = option_path(tree, last)
    before = found[1] if found is not None else 0
    head = ["sops" if before + i == 0 else n for i, n in enumerate(names)]
    indent = emit.line_indent(tree.source, last.start_byte)
    lines = [f"{emit.attrpath([*head, k])} = {v};" for k, v in extra]
    return Edit(last.end_byte, last.end_byte, "".join(f"\n{indent}{line}" for line in lines))


# What a secret of sops-nix also has, with agenix's meaning: ``config.age.secrets`` read
# whole, as one secret or for one of these becomes ``config.sops.secrets`` (a name bound
# to it, ``secrets.x.path``, then reads sops-nix's)
_SAME_ATTRS = ("path", "owner", "group", "mode")


def _reference(tree: cst.NixTree, node: Node, out: FileRewrite, rel: str = "") -> None:
    base = node.child_by_field_name("expression")
    attrpath = node.child_by_field_name("attrpath")
    if base is None or attrpath is None or cst.node_text(tree, base) != "config":
        return
    parts = [p for p in attrpath.named_children if p.type != "comment"]
    names = cst.attr_names(tree, attrpath)
    if names == ["age"]:  # `inherit (config.age) secrets;`, `a = config.age;`
        line, _ = tree.position(int(node.start_byte))
        out.edits.append(Edit(parts[0].start_byte, parts[0].end_byte, "sops"))
        out.refs += 1
        out.notes.append(
            f"line {line}: config.age became config.sops (its secrets read the same; check "
            "any other attribute read through it by hand)"
        )
        return
    if names[:2] != ["age", "secrets"]:
        return
    if len(names) == 4 and names[3] in ("path", "file"):
        out.edits.append(Edit(parts[0].start_byte, parts[0].end_byte, "sops"))
        if names[3] == "file":
            out.edits.append(Edit(parts[3].start_byte, parts[3].end_byte, "sopsFile"))
        out.refs += 1
        return
    line, _ = tree.position(int(node.start_byte))
    if len(names) in (2, 3) or (len(names) == 4 and names[3] in _SAME_ATTRS):
        # `secrets = config.age.secrets;` … `secrets.x.path`: agenix's module is gone
        # after the import, so what reads it must read sops-nix's
        out.edits.append(Edit(parts[0].start_byte, parts[0].end_byte, "sops"))
        out.refs += 1
        out.notes.append(
            f"line {line}: config.{'.'.join(names)} became config.sops.{'.'.join(names[1:])} "
            "(a secret's path, owner, group and mode read the same; agenix's .file is "
            "sops-nix's .sopsFile)"
        )
        return
    out.refusals.append(
        f"{rel} line {line}: config.{'.'.join(names)} has no sops-nix counterpart; change "
        "it by hand (agenix's module is removed by the import)"
    )


INPUT_NAMES = ("agenix", "ragenix")
_WORD = lazy(rb"(?<![/\w-])r?agenix\b(?!-)")


def flake_input_edits(tree: cst.NixTree) -> tuple[list[Edit], list[tuple[int, int]]]:
    """Edits removing the ``agenix``/``ragenix`` inputs and outputs argument of
    ``flake.nix``, and the source spans they remove (to count what still refers to it)."""
    edits: list[Edit] = []
    spans: list[tuple[int, int]] = []
    top = cst.module_body(tree)
    if top is None:
        return edits, spans
    for full, binding in cst.iter_bindings(tree, top):
        if full[:1] != ["inputs"] or len(full) < 2 or full[1] not in INPUT_NAMES:
            continue
        if any(a <= binding.start_byte and binding.end_byte <= b for a, b in spans):
            continue
        spans.append((binding.start_byte, binding.end_byte))
        edits.append(delete_span(tree.source, binding.start_byte, binding.end_byte))
    outputs = cst.find_option(tree, top, ["outputs"])
    function = cst.unwrap(outputs.child_by_field_name("expression")) if outputs else None
    formals = function.child_by_field_name("formals") if function is not None else None
    if function is not None and function.type == "function_expression" and formals is not None:
        items = [c for c in formals.named_children if c.type in ("formal", "ellipses")]
        for index, item in enumerate(items):
            if item.type != "formal" or cst.node_text(tree, item) not in INPUT_NAMES:
                continue
            if index + 1 < len(items):
                span = (item.start_byte, items[index + 1].start_byte)
            elif index > 0:
                span = (items[index - 1].end_byte, item.end_byte)
            else:
                span = (item.start_byte, item.end_byte)
            spans.append(span)
            edits.append(Edit(span[0], span[1], ""))
    return edits, spans


def mentions(data: bytes) -> int:
    """How often ``agenix``/``ragenix`` appears as a name (``/run/agenix`` paths aside),
    outside comments (``# not in agenix yet`` keeps no input: helper-127)."""
    found = list(_WORD.finditer(data))
    if not found:
        return 0
    spans = [(start, end) for start, end, _text in cst.comments(cst.parse(data))]
    return sum(1 for m in found if not any(a <= m.start() < b for a, b in spans))
