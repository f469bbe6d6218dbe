"""Host sets built by functions: ``genAttrs``/``mapAttrs``/``listToAttrs`` over literal
lists, ``builtins.readDir`` and haumea loads (:mod:`secretkit.nix.hosts.haumea`)."""

from __future__ import annotations

from pathlib import Path

from secretkit.lazy_re import lazy
from secretkit.nix import cst
from secretkit.nix.hosts import haumea
from secretkit.nix.hosts.closure import Closure
from secretkit.nix.hosts.evaluator import ENTRY
from secretkit.nix.hosts.values import Val, applied


def gen_attrs(d: Closure, v: Val) -> list[tuple[str, Val]] | None:
    """``lib.genAttrs [ "a" "b" ] f``: each literal name with ``f name``."""
    target = d.deref(v)
    if not isinstance(target, Val) or target.node.type != "apply_expression":
        return None
    fname, args = applied(target)
    short = fname.split(".")[-1] if fname is not None else ""
    if short == "mapAttrs" and len(args) == 2:
        return map_attrs(d, args[0], args[1])
    if short == "listToAttrs" and len(args) == 1:
        return list_to_attrs(d, args[0])
    if short != "genAttrs" or len(args) != 2:
        return None
    listed = dir_names(d, args[0])
    if listed is not None:
        pairs = [(n, _bind_str(d, args[1], n)) for n in listed]
        return None if any(b is None for _, b in pairs) else pairs  # type: ignore[return-value]
    elements, unknown = d.list_elements(args[0])
    names = [d.string_value(e) for e in elements]
    if unknown or not elements:
        return None
    fn = selected(d, args[1]) or args[1]  # lib.mkHost, lib = import ./lib { … }
    out: list[tuple[str, Val]] = []
    for element, name in zip(elements, names, strict=True):
        bound = d.bind(fn, element, 0)
        if name is None or bound is None:
            return None
        out.append((name, bound))
    return out


def selected(d: Closure, v: Val) -> Val | None:
    """``lib.mkHost`` where ``lib`` is an attrset the evaluator reaches (a let-bound
    ``import ./lib { inherit inputs; }``): the attribute's value, else None."""
    node = v.node
    if node.type != "select_expression":
        return None
    expr, attrpath = node.child_by_field_name("expression"), node.child_by_field_name("attrpath")
    names = cst.attr_names(v.file, attrpath) if attrpath is not None else []
    if expr is None or not names or any(not n or "${" in n for n in names):
        return None
    base = d.deref(Val(expr, v.file, v.scope))
    for name in names:
        if not isinstance(base, Val) or base.node.type not in cst.ATTRSETS:
            return None
        value = next(
            (val for entry, val, _ in cst.attrset_entries(base.file, base.node) if entry == [name]),
            None,
        )
        if value is None:
            return None
        base = d.deref(Val(value, base.file, base.scope))
    return base if isinstance(base, Val) else None


# `filter (dir: pathExists (./. + "/${dir}/configuration.nix")) names`: the names kept
_EXISTS_FILTER = lazy(r'pathExists\s*\(\s*\./\.\s*\+\s*"/\$\{\w+\}/([^"$\\]+)"\s*\)')


def dir_names(d: Closure, v: Val) -> list[str] | None:
    """Names an expression built on ``builtins.readDir ./dir`` stands for: the
    sub-directories when it filters on ``"directory"``, else also ``*.nix`` stems; those
    holding a file when it filters on ``pathExists (./. + "/${dir}/<file>")``.  Names the
    expression is made of are followed (``configs = filter … entries; entries =
    attrNames (readDir ./.);``)."""
    target = d.deref(v)
    if not isinstance(target, Val):
        return None
    stack = [target]
    texts: list[str] = []
    seen: set[tuple[str, int]] = set()
    while stack:
        here = stack.pop()
        key = (here.file.rel.as_posix(), here.node.start_byte)
        if key in seen or len(seen) > 64:
            continue
        seen.add(key)
        texts.append(here.file.text(here.node))
        nodes = [here.node]
        while nodes:
            node = nodes.pop()
            nodes.extend(node.named_children)
            if node.type == "variable_expression":
                bound = here.scope.get(here.file.text(node))
                if isinstance(bound, Val):
                    stack.append(bound)
                continue
            if node.type != "apply_expression":
                continue
            fn = node.child_by_field_name("function")
            arg = node.child_by_field_name("argument")
            if fn is None or arg is None:
                continue
            if cst.dotted_name(here.file, fn) in ("readDir", "builtins.readDir"):
                found = _listed(d, Val(arg, here.file, here.scope))
                if found is None:
                    return None
                base, entries = found
                whole = "\n".join(texts + [t.file.text(t.node) for t in stack])
                dirs, stems = entries
                names = dirs if '"directory"' in whole else dirs + stems
                kept = _EXISTS_FILTER.findall(whole)
                if kept:  # (a name filtered on a file it holds: a directory that has it)
                    names = [n for n in dirs if all((base / n / f).is_file() for f in kept)]
                return names
    return None


def _listed(d: Closure, where: Val) -> tuple[Path, tuple[list[str], list[str]]] | None:
    """The directory ``builtins.readDir <where>`` reads (inside the repository): its
    sub-directories and its ``*.nix`` stems (``default.nix`` left out)."""
    text = d.path_text(where)
    if text is None or text.startswith(("/", "~")):
        return None
    base = (d.root / where.file.rel).parent / text
    try:
        base.resolve().relative_to(d.resolved_root)
        entries = sorted(base.iterdir())
    except (OSError, ValueError):
        return None
    dirs = [e.name for e in entries if e.is_dir() and not e.name.startswith(".")]
    stems = [
        e.name[:-4]
        for e in entries
        if e.is_file() and e.name.endswith(".nix") and e.name != "default.nix"
    ]
    return base, (dirs, stems)


def _bind_str(d: Closure, fn: Val, value: str) -> Val | None:
    """``fn`` applied to the string ``value`` (its first parameter bound)."""
    fn_d = d.deref(fn)
    if not isinstance(fn_d, Val) or fn_d.node.type != "function_expression":
        return None
    body = fn_d.node.child_by_field_name("body")
    universal = fn_d.node.child_by_field_name("universal")
    if body is None or universal is None:
        return None
    scope: dict[str, Val | str | None] = dict(fn_d.scope)
    scope[fn_d.file.text(universal)] = value
    return Val(body, fn_d.file, scope)


def map_attrs(d: Closure, fn: Val, attrs: Val) -> list[tuple[str, Val]] | None:
    """``mapAttrs (name: value: …) <set, readDir or haumea load>``: each name with the
    body; a haumea entry's files are the host's modules when the body uses ``value``."""
    loaded = haumea.haumea_dir(d, attrs)
    files: dict[str, tuple[Path, ...]] = {}
    if loaded is not None:
        if loaded[1] is None:
            return None
        files = {e.name: e.files for e in loaded[1]}
    names = list(files) if loaded is not None else dir_names(d, attrs)
    values: dict[str, Val] = {}  # a literal set's values: what `value` is for each name
    if names is None:
        sets = d.attrsets(attrs)
        if not sets:
            return None
        names = []
        for a in sets:
            for n, value, _binding in cst.attrset_entries(a.file, a.node):
                if n:
                    names.append(n[0])
                    if len(n) == 1:
                        values[n[0]] = Val(value, a.file, a.scope)
    out = []
    for name in names:
        bound = _bind_str(d, fn, name)
        inner = d.deref(bound) if bound is not None else None
        formals = (
            inner.node.child_by_field_name("formals")
            if isinstance(inner, Val) and inner.node.type == "function_expression"
            else None
        )
        if isinstance(inner, Val) and formals is not None and name in values:
            # `mkHost = name: { extraModules ? [ ], ... }: …`: the host's own set binds
            # the formals, the others take their defaults
            inner = d.bind(inner, values[name], 0)
        elif isinstance(inner, Val) and inner.node.type == "function_expression":
            body = inner.node.child_by_field_name("body")
            scope = d.shadow(inner)
            param = inner.node.child_by_field_name("universal")
            if name in files and param is not None:  # `value`: the entry's own files
                scope[inner.file.text(param)] = ENTRY + name
                d.entry_files[name] = files[name]
            elif name in values and param is not None:  # `host.modules` of `host`
                scope[inner.file.text(param)] = values[name]
            inner = Val(body, inner.file, scope) if body else None
        if not isinstance(inner, Val):
            return None
        out.append((name, inner))
    return out


def list_to_attrs(d: Closure, v: Val) -> list[tuple[str, Val]] | None:
    """``listToAttrs (map f [ … ])``, ``listToAttrs (map f <names of builtins.readDir ./d>)``
    or a literal list of ``{ name; value; }``."""
    target = d.deref(v)
    if not isinstance(target, Val):
        return None
    items: list[Val] = []
    node = target.node
    if node.type == "apply_expression":
        inner = node.child_by_field_name("function")
        arg = node.child_by_field_name("argument")
        fn = inner.child_by_field_name("argument") if inner is not None else None
        head = inner.child_by_field_name("function") if inner is not None else None
        if head is None or fn is None or arg is None:
            return None
        if cst.dotted_name(target.file, head) not in ("map", "builtins.map", "lib.map"):
            return None
        fn_val, arg_val = Val(fn, target.file, target.scope), Val(arg, target.file, target.scope)
        listed = dir_names(d, arg_val)  # map f (attrNames (readDir ./machines))
        if listed is not None:
            named = [_bind_str(d, fn_val, n) for n in listed]
            if any(b is None for b in named):
                return None
            items = [b for b in named if b is not None]
        else:
            elements, unknown = d.list_elements(arg_val)
            if unknown:
                return None
            for element in elements:
                bound = d.bind(fn_val, element, 0)
                if bound is None:
                    return None
                items.append(bound)
    else:
        elements, unknown = d.list_elements(target)
        if unknown:
            return None
        items = elements
    out = []
    for item in items:
        pair = _name_value_pair(d, item)  # lib.nameValuePair name value
        if pair is not None:
            out.append(pair)
            continue
        name: str | None = None
        value: Val | None = None
        for rest, val, _ in d.members(d.attrsets(item), "name"):
            name = d.string_value(val) if not rest else name
        for rest, val, _ in d.members(d.attrsets(item), "value"):
            value = val if not rest else value
        if name is None or value is None:
            return None
        out.append((name, value))
    return out


def _name_value_pair(d: Closure, item: Val) -> tuple[str, Val] | None:
    """``lib.nameValuePair "a" value`` (``lib.attrsets.nameValuePair``): the name (a
    known string) and the value, else None."""
    target = d.deref(item)
    if not isinstance(target, Val) or target.node.type != "apply_expression":
        return None
    outer = target.node
    inner = outer.child_by_field_name("function")
    if inner is None or inner.type != "apply_expression":
        return None
    head = inner.child_by_field_name("function")
    name_arg = inner.child_by_field_name("argument")
    value_arg = outer.child_by_field_name("argument")
    fname = cst.dotted_name(target.file, head) if head is not None else None
    if fname is None or fname.split(".")[-1] != "nameValuePair":
        return None
    if name_arg is None or value_arg is None:
        return None
    name = d.string_value(Val(name_arg, target.file, target.scope))
    return None if name is None else (name, Val(value_arg, target.file, target.scope))
