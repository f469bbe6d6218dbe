"""What Nix code says about sops-nix secrets, read from the syntax tree: the
declared ``sops.secrets."<name>"`` (with ``sopsFile``, ``key``, ``format``), the
``config.sops.secrets."<name>"`` / ``config.sops.placeholder."<name>"`` references,
``sops.defaultSopsFile`` and ``networking.hostName`` literals — and how a
``sopsFile`` expression resolves to a repository path, for one host or for all.

``check`` verifies these facts against the sops files; ``migrate`` reads the names
already taken and the host names its shared modules rely on.  Nothing here
evaluates Nix: what needs evaluating resolves to None and the caller says so.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from secretkit.lazy_re import lazy
from secretkit.nix import cst, sops_aliases
from secretkit.nix.duplicates import Twice, defined_twice
from secretkit.nix.generated_decls import computed_parts, generated
from secretkit.nix.let_names import binding_name, resolver, select_names
from secretkit.nix.syntax import option_path as option_path


@dataclass
class Declaration:
    name: str
    file: str  # the .nix file
    offset: int
    sops_file: str | None = None  # repo-relative, when it is a plain path literal
    sops_file_text: str | None = None  # as written (literal or computed)
    key: str | None = None
    fmt: str | None = None
    for_users: bool = False  # neededForUsers = true (decrypted before users are made)
    # a computed name made of the host's name and text (HOST where the name goes)
    per_host: str | None = None
    key_text: str | None = None  # key = <what no let here settles>, as written
    # owner = …; group = …; mode = …; as written (one line; None: not set here)
    owner: str | None = None
    group: str | None = None
    mode: str | None = None
    uid: str | None = None  # (sops-nix's uid: the owner by number, user or not)

    def mode_bits(self) -> int | None:
        """``mode`` as a number (``"0440"``: 0o440), None where not a plain octal mode."""
        digits = self.mode.strip('"') if self.mode is not None else ""
        return int(digits, 8) if _OCTAL_MODE.fullmatch(digits) else None

    def others_read(self) -> bool:
        """Whether its ``mode`` lets every local user read the file."""
        bits = self.mode_bits()
        return bits is not None and bool(bits & 0o004)


_OCTAL_MODE = lazy(r"0?[0-7]{3}")


@dataclass
class NixFacts:
    declarations: list[Declaration] = field(default_factory=list)
    references: list[tuple[str, str, int, int]] = field(
        default_factory=list
    )  # name, file, offset, line
    default_files: dict[str, str] = field(
        default_factory=dict
    )  # nix file -> repo-relative sops file
    default_texts: dict[str, str] = field(default_factory=dict)  # nix file -> as written
    unparsed: list[str] = field(default_factory=list)
    # config.sops.placeholder.<name> given to an option outside sops.templates (not
    # through a let): (name, nix file, line, the option's path)
    placeholder_options: list[tuple[str, str, int, list[str]]] = field(default_factory=list)
    # files mentioning sops that give an attribute twice: Nix refuses to parse them
    given_twice: dict[str, list[Twice]] = field(default_factory=dict)
    dynamic: list[str] = field(default_factory=list)  # files declaring computed names
    # config.sops.secrets.<name> whose name is computed from what no let here settles
    # (a function's argument, cfg.x): (nix file, offset, line, the name as written, and
    # the name with HOST for the host's name when that is all it computes)
    opaque_references: list[tuple[str, int, int, str, str | None]] = field(default_factory=list)
    # sops.secrets."${…}" no let settles: the name as written, the file and fields read
    # (which sops file a host then reads is known even when the name is not)
    computed_declarations: list[Declaration] = field(default_factory=list)
    # networking.hostName = "<literal>": (nix file, offset, name)
    host_names: list[tuple[str, int, str]] = field(default_factory=list)
    # every networking.hostName binding, literal or not: (nix file, offset)
    host_name_sets: list[tuple[str, int]] = field(default_factory=list)
    # those set to what no reading can tell (opaque_host_name): (nix file, offset, text)
    host_name_opaque: list[tuple[str, int, str]] = field(default_factory=list)
    # sops.secrets.<name>.neededForUsers set anywhere, at any depth (a module in a list
    # discovery could not place): name -> the files
    needed_anywhere: dict[str, set[str]] = field(default_factory=dict)
    # files setting sops.defaultSopsFile at any depth (the same: a default for hosts
    # discovery could not read may be set there)
    defaults_anywhere: set[str] = field(default_factory=set)
    # sops.age.sshKeyPaths / sops.age.keyFile as written: nix file → "option = text"
    age_keys: dict[str, list[str]] = field(default_factory=dict)
    # every binding that sets a sops-nix option (sops.age.…, sops.templates.…, …): a host
    # importing it needs sops-nix's module as much as one declaring a secret
    settings: list[tuple[str, int]] = field(default_factory=list)
    # sops.templates.<name> declared with a name written out (owner, group, mode read)
    templates: list[Declaration] = field(default_factory=list)
    # config.sops.templates.<name> references: name, file, offset, line
    template_references: list[tuple[str, str, int, int]] = field(default_factory=list)


_ATTRSETS = ("attrset_expression", "rec_attrset_expression")


def _computed(name: str) -> bool:
    """Whether an attrpath element (as :func:`cst.attr_names` gives it) is ``${…}``."""
    return "${" in name


def _select_names(tree: cst.NixTree, node: cst.Node) -> list[str | None]:
    """The names of a select expression's attrpath, a computed one settled by the
    ``let`` around it (:mod:`secretkit.nix.let_names`), else None."""
    attrpath = node.child_by_field_name("attrpath")
    if attrpath is None:
        return []
    names = cst.attr_names(tree, attrpath)
    if not any(_computed(n) for n in names):
        return list(names)
    return select_names(tree, attrpath)


def resolve_nix_path(nix_file: str, text: str) -> str | None:
    """``./x.yaml`` / ``../secrets/x.yaml`` written in ``nix_file`` → repo-relative path."""
    text = text.strip()
    if text.startswith('"${') and text.endswith('}"') and text.count("${") == 1:
        text = text[3:-2]  # "${./x.yaml}"
    if not _PATH_LITERAL.fullmatch(text):
        return None  # (`../secrets + "/x.yaml"` is a sum: resolve_for_host reads it)
    joined = os.path.normpath(os.path.join(os.path.dirname(nix_file), text))
    if joined.startswith(".."):
        return None
    return joined.replace(os.sep, "/")


# A Nix path literal relative to its file (what resolve_nix_path resolves): its
# segments are made of these characters, nothing else follows it.
_PATH_LITERAL = lazy(r"\.{1,2}(?:/[A-Za-z0-9._+-]+)+/?|\.{1,2}/?")
HOSTNAME = "${config.networking.hostName}"
# ``<path> + "<tail>"``, ``"${<path>}<tail>"``, ``(<either>)``: the forms a per-host
# sopsFile takes (migrate writes the first); the tail may name the host.
_NAME = r"\$\{config\.networking\.hostName\}"
_BASE = r"(\.{1,2}(?:/[A-Za-z0-9._+-]+)*/?)"
_TAIL = rf'((?:[^"\\$]|{_NAME})*)'
_PATH_PLUS = lazy(rf'{_BASE}\s*\+\s*"{_TAIL}"')
_INTERPOLATED = lazy(rf'"\$\{{{_BASE}\}}{_TAIL}"')
_PATH_INTERP = lazy(rf"(\.{{1,2}}(?:/(?:[A-Za-z0-9._+-]|{_NAME})+)+)")


# The flake's own source (``self``, ``inputs.self``: the repository's root) and a path
# below it: ``self + /secrets/x.yaml``, ``self + "/secrets/x.yaml"``, ``"${self}/…"``.
_OWN = r"(?:inputs\.)?self"
_SELF_PATH = lazy(
    rf'{_OWN}\s*\+\s*(?:"(/{_TAIL[1:-1]})"|(/[A-Za-z0-9._+/-]+))|"\$\{{{_OWN}\}}(/{_TAIL[1:-1]})"'
)


def _from_self(text: str, host: str | None) -> str | None:
    match = _SELF_PATH.fullmatch(text)
    if match is None:
        return None
    tail = next(g for g in match.groups() if g is not None)
    if HOSTNAME in tail:
        if host is None:
            return None
        tail = tail.replace(HOSTNAME, host)
    joined = os.path.normpath(tail.lstrip("/"))
    if "${" in joined or joined.startswith("..") or joined == ".":
        return None
    return joined.replace(os.sep, "/")


def resolve_for_host(nix_file: str, text: str, host: str | None) -> str | None:
    """A ``sopsFile`` expression written in ``nix_file`` → repo-relative path, with
    ``host`` standing for ``config.networking.hostName``; None when the expression is
    anything else (it would need evaluating)."""
    text = " ".join(text.split())
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    literal = resolve_nix_path(nix_file, text)
    if literal is not None:
        return literal
    if "self" in text:
        return _from_self(text, host)
    for pattern in (_PATH_PLUS, _INTERPOLATED, _PATH_INTERP):
        match = pattern.fullmatch(text)
        if match is None:
            continue
        joined = "".join(match.groups())
        if HOSTNAME in joined:
            if host is None:
                return None
            joined = joined.replace(HOSTNAME, host)
        return None if "${" in joined else resolve_nix_path(nix_file, joined)
    return None


DEFAULT_SSH_KEY = 'sops.age.sshKeyPaths = [ "/etc/ssh/ssh_host_ed25519_key" ]'


def own_key(facts: NixFacts, modules: Iterable[str]) -> str | None:
    """How ``modules`` (a host's NixOS modules, repo-relative) tell sops-nix which key
    to use when not the ssh host key alone (``sops.age.keyFile``, ``sshKeyPaths``
    naming another file), as ``option = text in file``; None when they do not."""
    said = [
        f"{text} in {module}"
        for module in sorted(modules)
        for text in facts.age_keys.get(module, [])
        if text != DEFAULT_SSH_KEY
    ]
    return "; ".join(said) or None


_NAME_WRAPPERS = ("mkDefault", "mkForce", "mkOverride")


def opaque_host_name(tree: cst.NixTree, value: cst.Node) -> str | None:
    """The text of a ``networking.hostName`` value no reading can tell, or None: a
    string literal, or a name (``name``, ``lib.mkDefault hostname``: the host's name as
    a generated host set or a helper hands it, which migrate and check take it to be).
    ``host.hostName`` (an attribute of a host set's value) and any other expression are
    opaque."""
    node = cst.unwrap(value)
    while node is not None and node.type == "apply_expression":
        function = cst.unwrap(node.child_by_field_name("function"))
        while function is not None and function.type == "apply_expression":  # mkOverride 50
            function = cst.unwrap(function.child_by_field_name("function"))
        called = cst.node_text(tree, function) if function is not None else ""
        if not str(called).endswith(_NAME_WRAPPERS):
            break
        node = cst.unwrap(node.child_by_field_name("argument"))
    if node is None or node.type == "variable_expression":
        return None
    return " ".join(str(cst.node_text(tree, node)).split())


def secret_names(tree: cst.NixTree) -> set[str]:
    """Every name a ``secrets`` attribute holds in this file — declared
    (``sops.secrets.<name> = …``, ``age.secrets.<name>``, nested or not) or used
    (``config.sops.secrets.<name>.path``): names a new secret must not take."""
    paths: list[list[str]] = [binding.full_path for binding in cst.bindings(tree)]
    for node in (n for n in cst.walk(tree.root) if n.type == "select_expression"):
        paths.append([n or "${}" for n in _select_names(tree, node)])
    return {
        path[i + 1]
        for path in paths
        for i in range(len(path) - 1)
        if path[i] == "secrets" and not _computed(path[i + 1])
    }


def attrset_spans(data: bytes, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Those of ``spans`` (inline modules of the file ``data``) that are an attrset's
    (``{`` or ``rec {``): a module set piecewise (``nixosModules.x.y = …``) is a
    binding's span, whose names are read as the file's."""
    return [(a, b) for a, b in spans if data[a : a + 1] in b"{r"]


class InlineModules:
    """Where the inline modules of one file are (spans of their attrsets, from host
    discovery) and how many names lead to each: a binding in one sets the option its
    path names from there (``modules.[1].sops.secrets.x`` in flake.nix declares
    ``sops.secrets.x``)."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        self.spans = sorted(set(spans), key=lambda s: (s[0], -s[1]))
        self.depth: dict[tuple[int, int], int] = {}

    def base_of(self, offset: int) -> tuple[int, int] | None:
        """The innermost inline module holding ``offset``, or None."""
        inside = [s for s in self.spans if s[0] <= offset < s[1]]
        return min(inside, key=lambda s: s[1] - s[0]) if inside else None

    def base(self, binding: cst.Binding) -> int:
        inside = [s for s in self.spans if s[0] <= binding.start < s[1]]
        if not inside:
            return 0
        span = min(inside, key=lambda s: s[1] - s[0])
        # (bindings come in source order: the first one in a span is its attrset's own)
        return self.depth.setdefault(span, len(binding.attrset_path))


def nix_facts(
    files: Iterable[str],
    read: Callable[[str], bytes | None],
    inline: Mapping[str, Iterable[tuple[int, int]]] | None = None,
) -> NixFacts:
    """The facts of the ``.nix`` files among ``files`` (repo-relative; ``read`` gives
    their bytes, None when unreadable).  ``inline``: the spans of each file's inline
    modules (:meth:`secretkit.nix.hosts.model.Inventory.inline_spans`)."""
    facts = NixFacts()
    for path in files:
        if not path.endswith(".nix"):
            continue
        data = read(path)
        if data is None or (b"sops" not in data and b"hostName" not in data):
            continue  # nothing here can declare, use or locate a secret
        tree = cst.parse(data)
        if tree.has_errors:
            facts.unparsed.append(path)
        if b"sops" in data:
            twice = defined_twice(tree)
            if twice:
                facts.given_twice[path] = twice
        spans = attrset_spans(data, (inline or {}).get(path, ()))
        _read_bindings(facts, path, tree, InlineModules(spans) if spans else None)
        aliases = sops_aliases.aliases(tree) if b"sops" in data else {}
        withs = sops_aliases.withs(tree) if b"with" in data else []
        for node in (n for n in cst.walk(tree.root) if n.type == "select_expression"):
            base = node.child_by_field_name("expression")
            written = str(cst.node_text(tree, base)) if base is not None else ""
            after = _select_names(tree, node)
            part = aliases.get(written) or sops_aliases.from_with(tree, node, written, after, withs)
            if written != "config" and part is None:
                continue
            names = [*(part or []), *after]
            if len(names) >= 3 and names[:2] == ["sops", "placeholder"] and names[2] is not None:
                option = _placeholder_option(tree, node)
                if option is not None:
                    line = node.start_point[0] + 1
                    facts.placeholder_options.append((names[2], path, line, option))
            if len(names) >= 3 and names[:2] == ["sops", "templates"] and names[2] is not None:
                line = node.start_point[0] + 1
                facts.template_references.append((names[2], path, node.start_byte, line))
            if len(names) >= 3 and names[0] == "sops" and names[1] in ("secrets", "placeholder"):
                ref_name = names[2]
                line = node.start_point[0] + 1
                if ref_name is not None:
                    facts.references.append((ref_name, path, node.start_byte, line))
                else:  # (its name is not known here: checked per host, or not at all)
                    written, per_host = _written_name(tree, node)
                    facts.opaque_references.append((path, node.start_byte, line, written, per_host))
    return facts


def _written_name(tree: cst.NixTree, node: cst.Node) -> tuple[str, str | None]:
    """The third name of ``config.sops.secrets.<name>…`` as written (one line), and the
    name with :data:`HOST` for each ``${config.networking.hostName}`` (or clan's machine
    name) when nothing else is computed (``"${config.networking.hostName}/wg"``)."""
    attrpath = node.child_by_field_name("attrpath")
    parts = attrpath.named_children if attrpath is not None else []
    if len(parts) < 3:
        return "?", None
    written = " ".join(str(cst.node_text(tree, parts[2])).split())
    return written, cst.attr_name(tree, parts[2], _host_part(tree))


def _host_part(tree: cst.NixTree) -> cst.Resolver:
    """:data:`HOST` for ``config.networking.hostName`` (or clan's machine name)."""

    def host(inner: cst.Node) -> str | None:
        text = "".join(str(cst.node_text(tree, inner)).split())
        return HOST if text in _HOST_NAMES else None

    return host


# What a per-host name holds where the host's name goes (no Nix name holds it)
HOST = "\0host\0"
_HOST_NAMES = ("config.networking.hostName", "config.clan.core.settings.machine.name")


def _placeholder_option(tree: cst.NixTree, node: cst.Node) -> list[str] | None:
    """The option a placeholder is given to (``psk = config.sops.placeholder.x;``, or in
    a string there), or None: inside ``sops.templates`` (where sops-nix replaces it), or
    in a ``let`` binding (its value may end up in a template)."""
    parent = node.parent
    while parent is not None:
        if parent.type == "binding" and parent.parent is not None:
            holder = parent.parent.parent
            if holder is not None and holder.type == "let_expression":
                return None
        parent = parent.parent
    path = cst.path_of(tree, node)
    path = path[1:] if path[:1] == ["config"] else path
    return None if not path or path[:2] == ["sops", "templates"] else path


def _made_fields(
    tree: cst.NixTree, path: str, decl: Declaration, fields: Mapping[str, cst.Node | None]
) -> None:
    """A genAttrs-made declaration's fields (``key`` None: the name itself)."""
    for name, value in fields.items():
        if name == "key":
            decl.key = decl.name if value is None else cst.string_value(tree, value)
        elif value is None:
            continue
        elif name == "sopsFile":
            text = cst.node_text(tree, cst.follow_let(tree, value))
            decl.sops_file, decl.sops_file_text = resolve_nix_path(path, text), text
        elif name == "format":
            decl.fmt = cst.string_value(tree, value)
        elif name == "neededForUsers":
            decl.for_users = cst.node_text(tree, value).strip() == "true"


def _in_made_value(binding: cst.Binding) -> bool:
    """The binding is inside a function that makes each secret's options, below the
    ``secrets`` binding (``sops.secrets = genAttrs names (_: { neededForUsers = true;
    })``): its name is an option of computed secrets, not a secret's."""
    if "secrets" in binding.attrpath:
        return False
    node = binding.value.parent
    node = node.parent if node is not None else None
    while node is not None:
        if node.type == "function_expression":
            return True
        if node.type == "binding":
            path = node.child_by_field_name("attrpath")
            if path is not None and "secrets" in (path.text or b"").decode("utf-8", "replace"):
                return False
        node = node.parent
    return False


def _read_bindings(
    facts: NixFacts, path: str, tree: cst.NixTree, inline: InlineModules | None = None
) -> None:
    declared: dict[str, Declaration] = {}
    computed: dict[str, Declaration] = {}  # by the name as written ("${…}")
    made_spans: list[tuple[int, int]] = []  # genAttrs calls whose names are known
    templates: dict[str, Declaration] = {}
    for binding, name in cst.host_names(tree, inline.base if inline is not None else None):
        facts.host_name_sets.append((path, binding.start))
        text = opaque_host_name(tree, binding.value) if name is None else None
        if name is not None:
            facts.host_names.append((path, binding.start, name))
        elif text is not None:
            facts.host_name_opaque.append((path, binding.start, text))
    for binding in cst.bindings(tree):
        full = option_path(binding, inline.base(binding) if inline is not None else 0)
        whole = binding.full_path
        if whole[-2:] == ["sops", "defaultSopsFile"]:
            facts.defaults_anywhere.add(path)
        if (
            whole[-1:] == ["neededForUsers"]
            and whole[-4:-2] == ["sops", "secrets"]
            and str(cst.node_text(tree, binding.value)).strip() == "true"
        ):
            facts.needed_anywhere.setdefault(whole[-2], set()).add(path)
        if full[:1] == ["sops"] and full[1:2] != ["secrets"]:
            facts.settings.append((path, binding.start))
        if full == ["sops", "defaultSopsFile"]:  # a let-bound name: what it is bound to
            text = str(cst.node_text(tree, cst.follow_let(tree, binding.value)))
            facts.default_texts[path] = text
            resolved = resolve_nix_path(path, text)
            if resolved:
                facts.default_files[path] = resolved
            continue
        if full in (["sops", "age", "sshKeyPaths"], ["sops", "age", "keyFile"]):
            text = " ".join(str(cst.node_text(tree, binding.value)).split())
            facts.age_keys.setdefault(path, []).append(f"{'.'.join(full)} = {text}")
            continue
        if full == ["sops", "secrets"] and binding.value.type not in _ATTRSETS:
            for part in computed_parts(tree, binding.value):
                made = generated(tree, part)
                if made is None:
                    facts.dynamic.append(path)  # mkSecrets …, a name list: computed names
                    continue
                made_spans.append((made.node.start_byte, made.node.end_byte))
                for name in made.names:
                    one = declared.setdefault(name, Declaration(name, path, binding.start))
                    _made_fields(tree, path, one, made.fields)
            continue
        if len(full) >= 3 and full[:2] == ["sops", "templates"] and not _computed(full[2]):
            one = templates.setdefault(full[2], Declaration(full[2], path, binding.start))
            if len(full) == 4 and full[3] in ("owner", "group", "mode", "uid"):
                _field(tree, path, one, full[3], binding.value)
            if len(full) == 3:
                _inherited(tree, one, binding.value)
            continue
        if len(full) < 3 or full[:2] != ["sops", "secrets"]:
            continue
        name = full[2]
        if any(a <= binding.start < b for a, b in made_spans):
            continue  # (a field of the genAttrs call read above)
        if _computed(name) and not _in_made_value(binding):
            name = binding_name(tree, binding.start, name) or name  # let app = "x"; … "${app}"
        if _in_made_value(binding):
            facts.dynamic.append(path)
            continue
        into = declared
        if _computed(name):  # (its name is not known; its file and fields are read)
            into = computed
        decl = into.get(name)
        if decl is None:
            decl = into[name] = Declaration(name, path, binding.start)
            if into is computed:  # ("${config.networking.hostName}/x": known per host)
                decl.per_host = binding_name(tree, binding.start, name, _host_part(tree))
        if into is computed and decl.per_host is None:
            facts.dynamic.append(path)
        if len(full) == 4:
            _field(tree, path, decl, full[3], binding.value)
        elif len(full) == 3:
            _inherited(tree, decl, binding.value)
    facts.declarations.extend(declared.values())
    facts.computed_declarations.extend(computed.values())
    facts.templates.extend(templates.values())


def _inherited(tree: cst.NixTree, decl: Declaration, value: cst.Node) -> None:
    """``{ inherit owner; inherit (cfg) mode; }``: the fields a declaration takes from
    a name, as written (``inherit owner``: what it is, is not read here)."""
    value = cst.unwrap(value)
    sets = value.named_children if value is not None and value.type in _ATTRSETS else []
    body = next((c for c in sets if c.type == "binding_set"), None)
    for node in body.named_children if body is not None else []:
        if node.type not in ("inherit", "inherit_from"):
            continue
        attrs = next((c for c in node.named_children if c.type == "inherited_attrs"), None)
        for name in attrs.named_children if attrs is not None else []:
            field = str(cst.node_text(tree, name))
            if field in ("owner", "group", "mode", "uid"):
                setattr(decl, field, " ".join(str(cst.node_text(tree, node)).split()))


def _field(tree: cst.NixTree, path: str, decl: Declaration, name: str, value: cst.Node) -> None:
    """``sops.secrets.<n>.<name> = <value>;`` into ``decl``."""
    if name == "sopsFile":
        text = cst.node_text(tree, cst.follow_let(tree, value))
        decl.sops_file, decl.sops_file_text = resolve_nix_path(path, text), text
    elif name == "key":  # (written out, or settled by the lets around it)
        decl.key = cst.string_value(tree, value)
        inner = cst.unwrap(cst.follow_let(tree, value))
        if decl.key is None and inner is not None and inner.type == "string_expression":
            decl.key = cst.attr_name(tree, inner, resolver(tree))
        if decl.key is None:
            decl.key_text = " ".join(str(cst.node_text(tree, value)).split())
    elif name == "format":
        decl.fmt = cst.string_value(tree, value)
    elif name == "neededForUsers":
        decl.for_users = cst.node_text(tree, value).strip() == "true"
    elif name in ("owner", "group", "mode", "uid"):
        setattr(decl, name, " ".join(str(cst.node_text(tree, value)).split()))
