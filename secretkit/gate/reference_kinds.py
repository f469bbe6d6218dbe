"""``nix-secret-refs``: a secret's file given where its value is wanted, a secret read
while Nix evaluates, and a file given to an option the pinned release does not have.

``config.sops.secrets."<n>".path`` (or a template's) is the *path* of a file sops-nix
writes on the host when it activates.  Two shapes evaluate and deploy, and are wrong:

* the path as the whole value of an option that takes the secret itself (an option
  the catalogue moves a literal secret from, named for one: vaultwarden's
  ``ADMIN_TOKEN``, ``users.<u>.password``): the program gets the string
  ``/run/secrets/<n>`` as its password, which anyone can read in the repository;
* the path handed to ``builtins.readFile`` (``lib.fileContents``, ``importJSON`` …):
  Nix reads it on the machine that evaluates, before any secret is installed (pure
  evaluation refuses the absolute path; impure evaluation copies the deployer's file,
  if there is one, into the world-readable store);
* the path given to an option whose reader the catalogue knows (:func:`secretkit.nix.
  catalogue.file_reader`) on a release older than the one that added it
  (``services.paperless.environmentFile`` on 24.05): the build fails.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from secretkit.gate.model import CheckResult
from secretkit.gate.option_forwards import Forward, value_forward

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext
    from secretkit.nix.syntax import NixTree, Node

POINT = "nix-secret-refs"
# functions that read a file's content while Nix evaluates
_READERS = frozenset({"readFile", "fileContents", "importJSON", "importTOML", "readLines"})
_FILE_OPTION = re.compile(r"(?i)(?:file|files|path|paths|dir|directory)$")
# what the path passes through on its way up to a call or a binding's value
_AROUND = frozenset({"parenthesized_expression", "interpolation", "string_expression"})


_LITERAL_PATH = re.compile(rb"/run/secrets(-for-users)?/([A-Za-z0-9._@+/-]*[A-Za-z0-9_@+-])")
_STRINGS = frozenset({"string_expression", "indented_string_expression"})


def literal_paths(ctx: CheckContext) -> list[CheckResult]:
    """A string naming ``/run/secrets/<n>`` of a declared secret: the file is handed
    over by a path check cannot follow to its reader (nor to a ``path =`` that moves
    it), so whether the reader can open it is not verified."""
    from secretkit.gate.module_sites import line_of
    from secretkit.gate.option_values import option_bindings

    declared = {d.name for d in ctx.nix().declarations}
    out: list[CheckResult] = []
    for file in ctx.files():
        data = ctx.read(file) if file.endswith(".nix") else None
        if data is None or b"/run/secrets" not in data:
            continue
        tree = None
        for m in _LITERAL_PATH.finditer(data):
            name = m.group(2).decode("utf-8", "replace")
            if name not in declared:
                continue  # (another program's /run/secrets: a container's, a name unknown)
            if tree is None:
                tree, bindings = option_bindings(ctx, file)
            node = tree.root.descendant_for_byte_range(m.start(), m.start() + 1)
            while node is not None and node.type not in (*_STRINGS, "comment"):
                node = node.parent
            if node is None or node.type == "comment":
                continue
            if node.parent is not None and node.parent.type == "attrpath":
                continue  # (a name: containers.<c>.bindMounts."/run/secrets/x", the mount)
            if any(b.start <= m.start() < b.end and p[:1] == ["sops"] for b, p in bindings):
                continue  # (a declaration's own path = "…")
            ref = f'config.sops.secrets."{name}".path'
            out.append(
                CheckResult(
                    POINT,
                    False,
                    f"cannot verify: {file}:{line_of(ctx, file, m.start())}: "
                    f'"{m.group(0).decode()}" names sops.secrets."{name}"\'s file by a '
                    "literal path, which check cannot follow to the program that reads "
                    "it (nor to a path = that moves the file)",
                    f"write {ref} in place of the literal path (in a string: "
                    f'"${{{ref}}}"; config among the module\'s arguments)',
                    (file,),
                )
            )
    return out


def wrong_kinds(ctx: CheckContext) -> list[CheckResult]:
    facts = ctx.nix()
    by_file: dict[str, list[tuple[str, str, int, int]]] = {}
    for kind, refs in (("secrets", facts.references), ("templates", facts.template_references)):
        for name, file, offset, line in refs:
            by_file.setdefault(file, []).append((kind, name, offset, line))
    out: list[CheckResult] = []
    for file, refs in sorted(by_file.items()):
        out += _in_file(ctx, file, refs)
    return out


def _in_file(
    ctx: CheckContext, file: str, refs: list[tuple[str, str, int, int]]
) -> list[CheckResult]:
    from secretkit.gate.option_values import innermost, option_bindings
    from secretkit.nix import catalogue, cst
    from secretkit.plan.advice import repo_pin
    from secretkit.plan.postfix_route import password_table
    from secretkit.scan.filters import secret_name

    tree, bindings = option_bindings(ctx, file)
    pin = repo_pin(ctx.read)
    out = []
    for kind, name, offset, line in refs:
        ref = _path_ref(tree, offset)
        if ref is None:
            continue  # (a placeholder, the secret's other attributes: not its path)
        what = f'config.sops.{kind}."{name}".path'
        outer = _outermost(ref)
        call = cst.call_of(outer)
        function = str(cst.node_text(tree, call[1])).rsplit(".", 1)[-1] if call else ""
        if function in _READERS:
            out.append(
                CheckResult(
                    POINT,
                    False,
                    f"{file}:{line}: {function} reads {what} while Nix evaluates, on the "
                    "machine that deploys, before sops-nix installs it on the host (pure "
                    "evaluation refuses the path; impure evaluation copies the file, if "
                    "there is one, into the world-readable store)",
                    f"never read a secret in Nix: give the program the file (the path to an "
                    f"option that reads a file) or a sops.templates content holding "
                    f'${{config.sops.placeholder."{name}"}}, and drop {function}',
                    (file,),
                )
            )
            continue
        held = innermost(bindings, offset)
        if held is None:
            continue
        binding, path = held
        container = _in_container(path, bindings)
        if container is not None:
            out.append(_container_result(ctx, file, line, kind, name, path, container))
            continue
        if catalogue.in_container(path) and not _own_sops(path, bindings):  # (mounted)
            unowned = _mounted_unreadable(ctx, file, line, kind, name, path)
            out += [unowned] if unowned is not None else []
            continue
        if password_table(path) and not _typed_table(tree, offset):
            out.append(_untyped_table(file, line, path, what))
            continue
        if path[:3] == _OCI and path[4:5] == ["cmd"]:
            unread = _unread_in_cmd(tree, bindings, path[3], offset, f'{kind}."{name}"')
            if unread is not None:
                out.append(_cmd_result(file, line, path, name, unread))
            continue
        reader = catalogue.file_reader(path) if path else None
        if reader is not None and pin.lacks(reader.since):
            dotted = ".".join(path)
            out.append(
                CheckResult(
                    POINT,
                    False,
                    f"{file}:{line}: {dotted} is given {what}, and NixOS has that option "
                    f"only from {reader.since} on; the repository pins {pin.shown}"
                    + (f" for the hosts it builds from {pin.input}" if pin.mixed else "")
                    + ": the build fails (the option does not exist)",
                    f"update the {pin.input} input to NixOS {reader.since} or newer, or hand "
                    f"the file to an option {pin.shown} has",
                    (file,),
                )
            )
            continue
        if not path or _FILE_OPTION.search(path[-1]) or secret_name(path[-1]) is None:
            continue  # (an option named for a file, or for no secret)
        if reader is not None and catalogue.bare_path_target(path):
            continue  # (a route writes a file's path there: postfix's mapFiles.sasl_passwd)
        value = _value(binding.value)
        if value is None or value.id not in _ids_up_to(ref, outer):
            continue  # (the path is part of the value: a command, "$__file{…}")
        known = catalogue.lookup(path)
        if known is None:  # (an option of the repository's own may hand it on)
            forward = value_forward(ctx, tuple(path))
            if forward is not None:
                out.append(_forwarded(file, line, path, what, forward))
            continue
        if known.key == "write-text-file":
            continue  # (not an option the catalogue moves a secret value from)
        dotted = ".".join(path)
        out.append(
            CheckResult(
                POINT,
                False,
                f"{file}:{line}: {dotted} takes the secret itself, and is given {what}: the "
                f"program gets the text /run/secrets/… as its {path[-1]}, not the secret",
                f"hand the program the file through an option that reads one, as migrate "
                f"does for a value of {dotted} ({known.description})",
                (file,),
            )
        )
    return out


def _forwarded(file: str, line: int, path: list[str], what: str, forward: Forward) -> CheckResult:
    own, dotted = ".".join(path), ".".join(forward.option)
    return CheckResult(
        POINT,
        False,
        f"{file}:{line}: {own} is given {what}, and {forward.file}:{forward.line} hands "
        f"{own} on to {dotted}, which takes the secret itself: the program gets the text "
        f"/run/secrets/… as its {forward.option[-1]}, not the secret",
        f"declare a path option beside {own} (a *File one of your module's) and hand it to "
        f"the program through an option that reads a file, as migrate does for a value of "
        f"{dotted} ({forward.entry.description}); give {own} no path",
        (file, forward.file),
    )


def _in_container(path: list[str], bindings: list[Any]) -> str | None:
    """The NixOS container (``containers.<c>.config``) whose configuration ``path`` is
    in, unless that container imports sops-nix itself (it declares ``sops.`` options
    of its own) or has the host's secrets bind-mounted (``bindMounts``: the file is
    then at a path inside; whether its user may read it is the next question)."""
    if len(path) < 4 or path[0] != "containers" or path[2] != "config":
        return None
    mounts = ["containers", path[1], "bindMounts"]
    if _own_sops(path, bindings) or any(other[:3] == mounts for _b, other in bindings):
        return None
    return path[1]


def _own_sops(path: list[str], bindings: list[Any]) -> bool:
    """Whether NixOS container ``path[1]`` declares sops options of its own."""
    return any(other[:4] == ["containers", path[1], "config", "sops"] for _b, other in bindings)


def _mounted_unreadable(
    ctx: CheckContext, file: str, line: int, kind: str, name: str, path: list[str]
) -> CheckResult | None:
    """A host's sops file bind-mounted into NixOS container ``path[1]``: it keeps the
    host's owner (by number) and mode, so the user that reads it in the container needs
    ``uid`` (sops-nix applies it whether or not the host has such a user) or a mode that
    lets it read; root there (systemd, a root script) reads it anyway."""
    from secretkit.nix import catalogue

    inner = path[3:]
    reader = catalogue.file_reader(inner) if inner else None
    decls = ctx.nix().declarations if kind == "secrets" else ctx.nix().templates
    decl = next((d for d in decls if d.name == name), None)
    if decl is None or decl.uid is not None or decl.others_read():
        return None
    if reader is not None and (reader.kind != "daemon" or reader.owner is None):
        return None  # (root, or systemd as root, reads it in the container)
    who = f"the {reader.user} user" if reader is not None else "the user the program runs as"
    return CheckResult(
        POINT,
        False,
        f"{'' if reader is not None else 'cannot verify: '}{file}:{line}: "
        f'{".".join(path)} is given sops.{kind}."{name}" through a bind mount into the '
        f"NixOS container {path[1]}: the file keeps the host's owner and mode "
        f"({(decl.owner or 'root').strip(chr(34))}, {(decl.mode or '0400').strip(chr(34))}), and "
        f"{who} there cannot be told to open it",
        f"set uid = <the uid of {who.removeprefix('the ')} in the container>; (and no "
        f'owner) in sops.{kind}."{name}" (sops-nix sets it whether or not the host has that '
        "user: Mic92/sops-nix modules/sops/default.nix; a NixOS service user with a fixed "
        "uid has it as config.ids.uids.<user>)",
        (file,),
        group="a host's sops file read inside a NixOS container",
    )


def _container_result(
    ctx: CheckContext, file: str, line: int, kind: str, name: str, path: list[str], box: str
) -> CheckResult:
    """A host's sops file handed to a program in a NixOS container: the container does
    not see ``/run/secrets`` (systemd-nspawn binds the store, the Nix database and
    ``containers.<c>.bindMounts`` only: nixos/modules/virtualisation/nixos-containers.nix)."""
    decl = next(
        (d for d in (ctx.nix().declarations if kind == "secrets" else ctx.nix().templates)
         if d.name == name),
        None,
    )  # fmt: skip
    default = f"/run/secrets/{name}" if kind == "secrets" else f"/run/secrets/rendered/{name}"
    where = getattr(decl, "path", None) or default
    ref = f'config.sops.{kind}."{name}".path'
    return CheckResult(
        POINT,
        False,
        f"{file}:{line}: {'.'.join(path)} is given {ref}, a file of the host's sops-nix, "
        f"inside the NixOS container {box}: the container sees only the store and its "
        f"bindMounts, not the host's {where}, so the program there finds no file",
        f'bind-mount it: containers.{box}.bindMounts."{where}" = {{ hostPath = {ref}; '
        f"isReadOnly = true; }}; (the container's configuration then reads {where}; the file "
        "keeps the host's owner and mode: unless the program runs as root there, give the "
        "declaration uid = <its user's uid in the container>; and no owner — sops-nix sets "
        "it whether or not the host has that user; NixOS's fixed ones are config.ids.uids.<user>)",
        (file,),
        group="a host's sops file read inside a NixOS container",
    )


_OCI = ["virtualisation", "oci-containers", "containers"]
_TABLE_TYPE = re.compile(r"[a-z]+:$")  # ("texthash:" before the path, in its string)


def _string_before(tree: NixTree, offset: int) -> str | None:
    """The text of the string holding ``offset`` up to it (None: in no string)."""
    from secretkit.nix import cst

    node = tree.root.descendant_for_byte_range(offset, offset + 1)
    while node is not None and node.type not in _STRINGS:
        node = node.parent
    return None if node is None else str(cst.node_text(tree, node))[: offset - node.start_byte]


def _typed_table(tree: NixTree, offset: int) -> bool:
    """Whether the sops path at ``offset`` follows a postfix table type in its string."""
    before = _string_before(tree, offset)
    return before is not None and _TABLE_TYPE.search(before.rstrip("${")) is not None


def _untyped_table(file: str, line: int, path: list[str], what: str) -> CheckResult:
    from secretkit.plan.postfix_route import table_route

    return CheckResult(
        POINT,
        False,
        f"{file}:{line}: {'.'.join(path)} is given {what} as it is; postfix names a table "
        'type:name and stops on a bare path (src/util/dict_open.c: expecting "type:name" '
        "form)",
        f"give postfix {table_route('<name>')}",
        (file,),
    )


def _unread_in_cmd(
    tree: NixTree, bindings: list[Any], box: str, offset: int, ref: str
) -> str | None:
    """Why an OCI container's ``cmd`` element holding a sops path does not give the
    program the secret (oci-containers passes ``map escapeShellArg container.cmd``:
    NixOS/nixpkgs nixos/modules/virtualisation/oci-containers.nix), or None when the
    container mounts that file (its ``volumes`` name it) and gets its path as written."""
    from secretkit.nix import cst

    before = _string_before(tree, offset) or ""
    if "$(" in before or "`" in before:
        return "no shell runs the $(…) around it: the program gets that text"
    volumes = [*_OCI, box, "volumes"]
    if any(other == volumes and ref in str(cst.node_text(tree, b.value)) for b, other in bindings):
        return None
    return "the container sees no file of the host that its volumes do not mount"


def _cmd_result(file: str, line: int, path: list[str], name: str, why: str) -> CheckResult:
    from secretkit.plan.containers import CONTAINER_CMD

    return CheckResult(
        POINT,
        False,
        f"{file}:{line}: {'.'.join(path)} is given a sops file's path, and {why}",
        CONTAINER_CMD.format(name=name),
        (file,),
        group="a sops file in an OCI container's cmd",
    )


def _path_ref(tree: NixTree, offset: int) -> Node | None:
    """The ``….path`` selection that starts at ``offset``, else None."""
    from secretkit.nix import cst

    node = tree.root.descendant_for_byte_range(offset, offset + 1)
    while node is not None and node.start_byte == offset and node.type != "select_expression":
        node = node.parent
    while (
        node is not None
        and node.parent is not None
        and node.parent.type == "select_expression"
        and node.parent.start_byte == offset
    ):
        node = node.parent
    if node is None or node.start_byte != offset or node.type != "select_expression":
        return None
    return node if str(cst.node_text(tree, node)).endswith(".path") else None


def _outermost(node: Node) -> Node:
    """``node`` with the parentheses, interpolation and string around it when it is
    all they hold (``"${p}"``)."""
    while node.parent is not None and node.parent.type in _AROUND:
        parts = [c for c in node.parent.named_children if c.type != "comment"]
        if len(parts) != 1:
            break
        node = node.parent
    return node


def _ids_up_to(node: Node, outer: Node) -> set[int]:
    ids = {node.id}
    while node.id != outer.id and node.parent is not None:
        node = node.parent
        ids.add(node.id)
    return ids


def _value(node: Node | None) -> Node | None:
    """A binding's value without parentheses and priority wrappers (``mkForce x``)."""
    from secretkit.nix.syntax import PRIORITY_WRAPPERS, unwrap

    node = unwrap(node) if node is not None else None
    while node is not None and node.type == "apply_expression":
        function = node.child_by_field_name("function")
        if function is not None and function.type == "apply_expression":  # mkOverride 50
            function = function.child_by_field_name("function")
        name = function.text.decode().rsplit(".", 1)[-1] if function is not None else ""
        if name not in PRIORITY_WRAPPERS:
            return node
        node = unwrap(node.child_by_field_name("argument"))
    return node


def undeclared(
    ctx: CheckContext, file: str, offset: int, name: str, declared: set[str]
) -> tuple[str, str, bool]:
    """How a reference to an undeclared ``name`` is written (``config.sops.placeholder.
    "<n>"`` or ``config.sops.secrets."<n>"``), a hint naming a declared name it may have
    meant (" (or, …)"), and whether it is a placeholder (its template's owner, not the
    secret's, is what a program needs)."""
    import difflib

    head = (ctx.read(file) or b"")[offset : offset + 96].split(b'"', 1)[0]
    placeholder = b"placeholder" in head
    what = f'config.sops.{"placeholder" if placeholder else "secrets"}."{name}"'
    close = difflib.get_close_matches(name, sorted(declared), n=1, cutoff=0.75)
    hint = f' (or, if you meant sops.secrets."{close[0]}", write that name)' if close else ""
    return what, hint, placeholder
