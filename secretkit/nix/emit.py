"""Builders: sops-nix snippets, and the span edits that put them in a module.

* text builders — ``sops.secrets."<name>"`` declarations, ``sops.templates``,
  references (``config.sops.secrets."<name>".path``, placeholders), Nix string
  and attribute quoting;
* edit builders — :func:`ensure_option`, :func:`insert_bindings`,
  :func:`ensure_config_arg`, :func:`append_to_indented_string` turn a place found
  with :mod:`secretkit.nix.cst` (the one navigation API) into
  :class:`~secretkit.nix.edits.Edit` insertions with the surrounding indentation.

Nothing here evaluates Nix; everything works on byte offsets into the original source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from secretkit.lazy_re import lazy
from secretkit.nix import cst, mkmerge
from secretkit.nix.cst import Node, Tree
from secretkit.nix.edits import Edit
from secretkit.nix.inline import inline_function, uses_variable

_IDENT = lazy(r"^[A-Za-z_][A-Za-z0-9_'-]*$")
_KEYWORDS = frozenset({"if", "then", "else", "let", "in", "with", "rec", "inherit", "assert", "or"})


# ---------------------------------------------------------------------------
# Text builders
# ---------------------------------------------------------------------------


def nix_string(text: str) -> str:
    """A double-quoted Nix string literal with the value ``text`` exactly."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
    out = out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{out}"'


class NixExpr(str):
    """A unit name already written in Nix, put in a declaration as it is: the unit of an
    OCI container is named from the host's configuration (its backend)."""


class NixList(NixExpr):
    """Units already written in Nix as a list (wpa_supplicant's: one unit, or one per
    interface of the host's configuration)."""


def _units(units: Sequence[str]) -> str:
    """The value of ``restartUnits``: a list of the units, joined with the lists among
    them (:class:`NixList`)."""
    items = [u if isinstance(u, NixExpr) else nix_string(u) for u in units]
    lists = [f"({u})" for u in units if isinstance(u, NixList)]
    plain = [item for item, u in zip(items, units, strict=True) if not isinstance(u, NixList)]
    return " ++ ".join(([f"[ {' '.join(plain)} ]"] if plain else []) + lists)


def attr(name: str) -> str:
    """An attribute name: bare when it is an identifier, quoted otherwise."""
    if _IDENT.match(name) and name not in _KEYWORDS:
        return name
    return nix_string(name)


def attrpath(names: Sequence[str]) -> str:
    return ".".join(attr(n) for n in names)


def _named(path: Sequence[str]) -> str:
    """An attribute path whose last element (a secret or template name) is always quoted."""
    return ".".join([*(attr(p) for p in path[:-1]), nix_string(path[-1])])


def secret_ref(name: str) -> str:
    """``config.sops.secrets."<name>".path`` — a string path, never a path literal."""
    return f"config.sops.secrets.{nix_string(name)}.path"


def template_ref(name: str) -> str:
    return f"config.sops.templates.{nix_string(name)}.path"


def placeholder(name: str) -> str:
    """The interpolation that sops-nix replaces by the value inside a template."""
    return f"${{config.sops.placeholder.{nix_string(name)}}}"


def yaml_line(key: str, text: str, value: str) -> str | None:
    """``key: <text>`` as a line of a YAML file a template makes, ``text`` holding a
    placeholder that sops-nix replaces by ``value`` (what it stands for, with the text
    around it): in single quotes, or, where ``value`` holds one (it would end them), as
    a literal block scalar, which takes it as it is.  None where neither carries it: a
    line break or control character, or a quote with blanks at the edges (trimmed)."""
    if any(ord(c) < 32 for c in value):
        return None
    if "'" not in value:
        return f"{key}: '{text}'"
    if value != value.strip(" \t"):
        return None
    return f"{key}: |-\n  {text}"


@dataclass(frozen=True)
class SecretDecl:
    """One ``sops.secrets."<name>"`` declaration.

    ``sops_file`` and ``owner``/``group`` are Nix expressions (already quoted
    where they are strings), so a declaration can use
    ``config.services.syncthing.user`` or ``../secrets + "/${…}.yaml"``.
    """

    name: str
    sops_file: str | None  # None: sops.defaultSopsFile already names the file
    owner: str | None = None
    group: str | None = None
    mode: str | None = None
    restart_units: tuple[str, ...] = ()
    needed_for_users: bool = False
    path: str | None = None
    # restartUnits as a Nix expression, in place of ``restart_units`` (the units depend on
    # an option of the host: networking.wireguard.useNetworkd)
    restart_expr: str | None = None

    def option(self) -> list[str]:
        return ["sops", "secrets", self.name]

    def lines(self, rest: Sequence[str] | None = None) -> list[str]:
        """The binding; ``rest`` is the attribute path below its attrset (default: all)."""
        head = _named(self.option() if rest is None else rest)
        body = [] if self.sops_file is None else [f"sopsFile = {self.sops_file};"]
        if self.owner is not None:
            body.append(f"owner = {self.owner};")
        if self.group is not None:
            body.append(f"group = {self.group};")
        if self.mode is not None:
            body.append(f"mode = {nix_string(self.mode)};")
        if self.path is not None:
            body.append(f"path = {nix_string(self.path)};")
        if self.needed_for_users:
            body.append("neededForUsers = true;")
        if self.restart_expr is not None:
            body.append(f"restartUnits = {self.restart_expr};")
        elif self.restart_units:
            body.append(f"restartUnits = {_units(self.restart_units)};")
        return [
            f"{head} = {{",
            *("  " + line for line in body),
            "};",
        ]


@dataclass
class TemplateDecl:
    """One ``sops.templates."<name>"`` with its content lines (placeholders inside)."""

    name: str
    content: list[str] = field(default_factory=list)
    owner: str | None = None
    group: str | None = None
    mode: str | None = None
    path: str | None = None
    restart_units: tuple[str, ...] = ()
    final_newline: bool = True  # False: the content ends without a line break

    def option(self) -> list[str]:
        return ["sops", "templates", self.name]

    def lines(self, rest: Sequence[str] | None = None) -> list[str]:
        head = _named(self.option() if rest is None else rest)
        out = [f"{head} = {{", "  content = ''"]
        out += ["    " + line for line in self.content]
        if self.final_newline or not self.content:
            out.append("  '';")
        else:  # the string ends on its last line ('' after a ' would be an escape)
            out[-1] += ('${""}' if out[-1].endswith("'") else "") + "'';"
        if self.owner is not None:
            out.append(f"  owner = {self.owner};")
        if self.group is not None:
            out.append(f"  group = {self.group};")
        if self.mode is not None:
            out.append(f"  mode = {nix_string(self.mode)};")
        if self.path is not None:
            out.append(f"  path = {nix_string(self.path)};")
        if self.restart_units:
            out.append(f"  restartUnits = {_units(self.restart_units)};")
        out.append("};")
        return out


def indented_string_line(text: str) -> str:
    """Escape ``text`` for a line of a ``''…''`` string (``${`` and ``''``)."""
    return text.replace("''", "'''").replace("${", "''${")


# ---------------------------------------------------------------------------
# Edit builders
# ---------------------------------------------------------------------------


def line_indent(source: bytes, offset: int) -> str:
    start = source.rfind(b"\n", 0, offset) + 1
    prefix = source[start:offset]
    return prefix.decode() if prefix.strip() == b"" else ""


def _after_trailing_comment(source: bytes, offset: int) -> int:
    """``offset``, or the end of its line when only a ``# …`` comment follows it there:
    the comment stays with the binding it was written after."""
    end = source.find(b"\n", offset)
    if end == -1:
        return offset
    if end > offset and source[end - 1 : end] == b"\r":
        end -= 1
    return end if source[offset:end].lstrip(b" \t").startswith(b"#") else offset


def insert_bindings(tree: Tree, attrset: Node, lines: Sequence[str]) -> Edit:
    """Insert ``lines`` (one or more complete bindings) at the end of ``attrset``."""
    existing = cst.bindings_of(attrset)
    source = tree.source
    if existing:
        last = existing[-1]
        indent = line_indent(source, existing[0].start_byte)
        if not indent and b"\n" not in source[attrset.start_byte : attrset.end_byte]:
            text = " " + " ".join(line.strip() for line in lines)
            return Edit(last.end_byte, last.end_byte, text)
        text = "".join("\n" + (indent + line if line else "") for line in lines)
        at = _after_trailing_comment(source, last.end_byte)
        return Edit(at, at, text)
    # An empty attrset: put the bindings between the braces.
    open_brace = (
        attrset.children[0] if attrset.type == "attrset_expression" else attrset.children[1]
    )
    outer = line_indent(source, attrset.start_byte)
    inner = outer + "  "
    text = "".join("\n" + inner + line for line in lines) + "\n" + outer
    close = attrset.children[-1]
    return Edit(open_brace.end_byte, close.start_byte, text)


@dataclass(frozen=True)
class OptionState:
    """What :func:`ensure_option` found: the edit to make, or the existing value."""

    edit: Edit | None
    existing: str | None  # source text of the current value when the option is set
    more: tuple[Edit, ...] = ()  # edits that go with ``edit`` (``lib`` in the formals)
    refusal: str | None = None  # why it cannot be set (and how to set it by hand)


def ensure_option(tree: Tree, top: Node, path: Sequence[str], expr: str) -> OptionState:
    """Set ``path = expr;`` in the deepest existing attrset unless it is set already."""
    found = cst.find_option(tree, top, path)
    if found is not None:
        value = found.child_by_field_name("expression")
        return OptionState(None, cst.node_text(tree, value) if value is not None else "")
    block = mkmerge.blocker(tree, top, path)
    if block is not None:  # `serviceConfig = hardening;`: no serviceConfig.X beside it
        there = mkmerge.existing(tree, block)
        if there is not None:
            return OptionState(None, there)
        made = mkmerge.merge_option(tree, block, [f"{attrpath(block.rest)} = {expr};"])
        if isinstance(made, str):
            return OptionState(None, None, refusal=made)
        return OptionState(made[0], None, more=tuple(made[1:]))
    container, rest = cst.container_of(tree, top, path)
    return OptionState(insert_bindings(tree, container, [f"{attrpath(rest)} = {expr};"]), None)


def ensure_config_arg(tree: Tree) -> Edit | str | None:
    """Make the module a function of ``config``.

    Returns the edit (None when it already is one), or a reason string when it
    cannot be done safely (``args: …`` without a formals set).
    """
    function = cst.module_function(tree)
    if function is None:
        body = cst.module_body(tree)
        if body is None:
            return "the file is not a module attrset"
        return Edit(body.start_byte, body.start_byte, "{ config, ... }:\n")
    if _takes_flake_inputs(tree, function):
        return INPUTS_FUNCTION
    return _config_formal(tree, function)


# a file's function that takes the flake's inputs, not a NixOS module's arguments
INPUTS_FUNCTION = (
    "the file's function takes the flake's inputs ({ self, ... }: or { inputs, ... }:, "
    "called as import ./file.nix inputs): config is not among them; make the module it "
    "returns a function of config ({ config, ... }: { … }) by hand"
)
_MODULE_ARGS = frozenset({"config", "pkgs", "lib", "options", "modulesPath", "utils"})


def _takes_flake_inputs(tree: Tree, function: Node) -> bool:
    """Whether ``function`` (a module's only function) names ``self`` or ``inputs``
    and no argument the module system gives: it is applied to the flake's inputs, and a
    ``config`` added there is asked of them (NobbZ/nixos-config's hosts)."""
    formals = function.child_by_field_name("formals")
    if formals is None:
        return False
    names = {
        cst.node_text(tree, f.child_by_field_name("name"))
        for f in formals.named_children
        if f.type == "formal" and f.child_by_field_name("name") is not None
    }
    return bool(names & {"self", "inputs"}) and not names & _MODULE_ARGS


# why an inline module that reads a `config` of the code around it is left as it is
OUTER_CONFIG = (
    "the inline module reads a `config` of the code around it (a function of the NixOS "
    "config would hide that one)"
)


def ensure_inline_config_arg(
    tree: Tree, module: Node, *, in_module: bool = False
) -> list[Edit] | str:
    """Make the inline module whose attrset is ``module`` (``{ … }`` in a ``modules``
    list, a colmena node) a function of ``config``: its function gets the formal, a bare
    attrset becomes ``({ config, ... }: { … })``.  The edits replace the attrset's first
    and last byte (so an insertion at either edge, such as the wiring's, stays outside
    the function).  A reason string when it cannot be done safely: the module's code
    names a ``config`` it does not bind itself (the function would change what it is).
    ``in_module``: the file around it is itself a NixOS module of the same hosts
    (``imports = [ { … } ]``): when that module's own ``config`` reaches the inline one,
    it is the NixOS config already, and nothing is to be done."""
    function = inline_function(module)
    if function is None and in_module and _file_config_reaches(tree, module):
        return []
    if function is not None:
        edit = _config_formal(tree, function)
        if isinstance(edit, str) or edit is None:
            return [] if edit is None else edit
        body = function.child_by_field_name("body")
        if body is not None and uses_variable(tree, body, "config"):
            return OUTER_CONFIG
        return [edit]
    if uses_variable(tree, module, "config"):
        return OUTER_CONFIG
    source = tree.source
    start, end = module.start_byte, module.end_byte
    first = source[start : start + 1].decode("ascii")
    last = source[end - 1 : end].decode("ascii")
    return [Edit(start, start + 1, "({ config, ... }: " + first), Edit(end - 1, end, last + ")")]


def _file_config_reaches(tree: Tree, node: Node) -> bool:
    """Whether ``config`` at ``node`` is the formal of the file's module function: it
    has one, and nothing between binds the name again (a function, ``let`` or ``rec``)."""
    top = cst.module_function(tree)
    if top is None or _config_formal(tree, top) is not None:
        return False
    current = node.parent
    while current is not None and current.id != top.id:
        if current.type == "function_expression" and _binds_config(tree, current):
            return False
        if current.type in ("let_expression", "rec_attrset_expression") and _binds_in(
            tree, current
        ):
            return False
        current = current.parent
    return current is not None


def _binds_in(tree: Tree, scope: Node) -> bool:
    """Whether a ``let`` or ``rec`` set binds ``config`` (``config = …;``, ``inherit (x)
    config;``; a plain ``inherit config;`` is the outer one again)."""
    for child in scope.named_children:
        if child.type != "binding_set":
            continue
        for b in child.named_children:
            if b.type == "binding" and cst.binding_names(tree, b) == ["config"]:
                return True
            attrs = b.child_by_field_name("attrs") if b.type == "inherit_from" else None
            if attrs is not None and any(
                cst.node_text(tree, i) == "config" for i in attrs.named_children
            ):
                return True
    return False


def _binds_config(tree: Tree, function: Node) -> bool:
    """Whether ``function`` binds ``config`` (a formal, ``config:`` or ``…@config``)."""
    return "config" in {
        cst.node_text(tree, n) for n in function.named_children if n.type == "identifier"
    } or (_config_formal(tree, function) is None)


def _config_formal(tree: Tree, function: Node) -> Edit | str | None:
    """The edit that adds ``config`` to the formals of ``function`` (None: it has it)."""
    formals = function.child_by_field_name("formals")
    if formals is None:
        return "the module is a function without a formals set ({ config, ... }:)"
    names = [
        cst.node_text(tree, f.child_by_field_name("name"))
        for f in formals.named_children
        if f.type == "formal" and f.child_by_field_name("name") is not None
    ]
    if "config" in names:
        return None
    first = next((c for c in formals.named_children if c.type in ("formal", "ellipses")), None)
    if first is None:  # `{ }:`
        return Edit(formals.start_byte + 1, formals.end_byte - 1, " config, ... ")
    return Edit(first.start_byte, first.start_byte, "config, ")


def append_to_indented_string(tree: Tree, string: Node, lines: Sequence[str]) -> Edit | None:
    """Add ``lines`` at the end of a ``''…''`` string (before its closing line).

    None when the string does not end with a newline followed by the closing
    quotes (then the caller refuses rather than guess the layout).
    """
    source = tree.source
    close = string.end_byte - 2
    line_start = source.rfind(b"\n", string.start_byte, close) + 1
    if line_start <= string.start_byte or source[line_start:close].strip(b" \t"):
        return None
    body = source[string.start_byte + 2 : line_start]
    indents = [len(line) - len(line.lstrip(b" ")) for line in body.split(b"\n") if line.strip()]
    indent = " " * (min(indents) if indents else 2)
    text = "".join(indent + line + "\n" for line in lines)  # lines are Nix text already
    return Edit(line_start, line_start, text)
