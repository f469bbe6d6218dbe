"""The migration plan, computed before anything is written.

Input: the scanner's findings in ``.nix`` files, the module → hosts map from
host discovery and the names already in use.  Output: a :class:`Plan` — for
each finding either a :class:`Move` (secret name, hosts, sops files, the new
option) or a :class:`Refused` entry with the reason; the rewritten bytes of
every changed ``.nix`` file (already re-parsed error-free); and the values to
store per host file.  No host receives a secret its configuration does not use.

A module used by several hosts declares its secrets with ``sopsFile = <secrets dir> +
"/${config.networking.hostName}.yaml"`` so that each host reads its own file (the
host name must equal the host's name in the inventory, as for colmena nodes and
flake configurations named after the host).  A module used by one host gets a plain
path literal (``../../secrets/observer.yaml``): sops-nix's ``validateSopsFiles`` holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from secretkit.nix import catalogue, cst, emit
from secretkit.nix.edits import Edit, EditError, checked_apply
from secretkit.nix.inline import node_at_span
from secretkit.plan import refusals
from secretkit.plan.dynamic import dynamic_path
from secretkit.plan.home_manager import home_manager_module, home_manager_reason
from secretkit.plan.hostvalues import HostValues
from secretkit.plan.model import FindingLike, Move, Plan, Refused
from secretkit.plan.module_top import another_part, module_top
from secretkit.plan.naming import Names
from secretkit.plan.owners import owner_for, where_enabled
from secretkit.plan.planned_module import (
    PlannedModule,
    commit,
    finish_module,
    give_up,
    replace_in_template,
    set_already,
)
from secretkit.plan.targets import Targets, shared_problem
from secretkit.plan.targets import sops_file_expr as sops_file_expr

if TYPE_CHECKING:
    from secretkit.plan.release import Pin


# the reason given for a secret written in a Nix comment (no sops route: it must go)
IN_COMMENT = "the secret is in a comment"


def _string_node(tree: cst.Tree, start: int, end: int) -> cst.Node | None:
    node = tree.root.descendant_for_byte_range(start, max(start, end))
    while node is not None and node.type not in ("string_expression", "indented_string_expression"):
        node = node.parent
    return node


def _in_comment(tree: cst.Tree, start: int) -> bool:
    node = tree.root.descendant_for_byte_range(start, start + 1)
    return node is not None and node.type == "comment"


def build_plan(
    sources: Mapping[str, bytes],
    findings: Sequence[FindingLike],
    hosts_of: Callable[[str], Sequence[str]],
    *,
    parse: Callable[[bytes], cst.Tree],
    literal_of: Callable[[cst.Tree, cst.Node], str],
    reserved: Iterable[str] = (),
    selected: set[str] | None = None,
    extra_edits: Mapping[str, Sequence[Edit]] | None = None,
    host_values: HostValues | None = None,
    pin: Pin | None = None,
    targets: Targets | None = None,
    inline_at: InlineAt | None = None,
    own_module: OwnModule | None = None,
    users_at: Callable[[str, int], Iterable[str]] | None = None,
) -> Plan:
    """Plan the migration of ``findings`` (all in ``.nix`` files of ``sources``).

    ``hosts_of`` maps a module path to the hosts using it (never empty: the
    caller stops earlier on unmapped files).  ``literal_of`` gives the value of
    a string literal with escapes resolved (from :mod:`secretkit.nix.cst`).
    ``extra_edits`` are the sops-nix wiring edits, applied only when at least one
    secret moves.  ``host_values`` (plain option values per host) resolves computed
    attribute names such as ``users.users.${config.my.user}``.  ``pin`` (the pinned
    NixOS release) refuses a route the release does not have yet and gives files to
    root where that release still ran the reader as root.  ``targets`` says which sops
    file each host's secrets go into (the user's own layout; default secrets/<host>.yaml).
    ``inline_at`` gives the inline module holding a position (its span and hosts), if one
    does: a finding there is planned in that module, not in the file around it.
    ``own_module`` names a module file of exactly the given hosts (with its source): where
    a refusal's steps go when the finding's module cannot read the NixOS config.
    ``users_at`` gives the hosts using the code at a position of a file: where a module's
    own switch leaves its config off on some hosts, only the others store its values.
    """
    plan = Plan()
    if targets is not None:
        plan.targets = targets
    names = Names()
    names.reserve(reserved)
    modules: dict[tuple[str, int], PlannedModule] = {}
    trees: dict[str, cst.Tree] = {}

    def steps_go(module: PlannedModule) -> refusals.Elsewhere | None:
        """Where the manual steps for ``module`` go when it cannot read the NixOS config."""
        if own_module is None:
            return None
        if refusals.config_blocked(module.tree, module.inline, module.in_module) is None:
            return None
        found = own_module(module.hosts)
        if found is None or found[0] == module.path:
            return None
        tree = parse(found[1])
        if cst.module_body(tree) is None or refusals.config_blocked(tree) is not None:
            return None
        sops_file = (
            "<the path of that file, relative to this module>"
            if any(h in plan.targets.ambiguous for h in module.hosts)
            else sops_file_expr(found[0], module.hosts, targets)
        )
        return refusals.Elsewhere(found[0], tree, sops_file)

    for finding in findings:  # (all of them first: a rewrite replaces its value where found)
        plan.spans.setdefault(finding.path, set()).add((finding.start, finding.end))
    for finding in sorted(findings, key=lambda f: (f.path, f.start)):
        plan.originals.append(finding.secret)
        path = finding.path
        tree = trees.get(path)
        if tree is None:
            tree = trees[path] = parse(sources[path])
        unit = inline_at(path, finding.start) if inline_at is not None else None
        inline = node_at_span(tree, *unit[0]) if unit is not None else None
        if inline is not None and inline.type not in cst.ATTRSETS:
            inline = None  # (a module set piecewise, `flake.nixosModules.x.y = …`)
        if unit is not None and inline is not None:
            hosts = tuple(sorted(unit[1]))
        else:
            hosts = tuple(sorted(hosts_of(path)))
        if selected is not None:
            if not set(hosts) & selected:
                continue
            others = sorted(set(hosts) - selected)
            if others:
                plan.refused.append(
                    Refused(
                        path,
                        finding.line,
                        "",
                        f"the module is also used by {', '.join(others)} "
                        "(not selected with --host)",
                    )
                )
                continue
        key = (path, inline.start_byte if inline is not None else -1)
        module = modules.get(key)
        body = cst.module_body(tree) if inline is None else inline
        # `{ options; config = mkIf … { … }; }`, `config = mkMerge [ … ]`: where values go
        top, why = module_top(tree, body, finding.start)
        why = why or (another_part(module.top, top) or "" if module is not None and top else "")
        if top is None or why:
            plan.refused.append(Refused(path, finding.line, "", why))
            continue
        if module is None:
            module = PlannedModule(path, hosts, tree, top, inline, values=host_values)
            modules[key] = module
            module.in_module = inline is not None and unit is not None and unit[2]
            if users_at is not None:  # (a module's own switch off on some of its hosts)
                using = set(users_at(path, top.start_byte))
                module.using = tuple(h for h in hosts if h in using)
        _plan_finding(plan, module, finding, names, literal_of, host_values, pin, targets, steps_go)

    # each file's modules (the file and its inline ones) are written together
    by_file: dict[str, list[tuple[PlannedModule, list[Edit]]]] = {}
    for module in modules.values():
        edits = finish_module(plan, module)
        if edits is not None:
            by_file.setdefault(module.path, []).append((module, edits))
    written: dict[str, list[Edit]] = {}
    for path, units in by_file.items():
        edits = [edit for _module, own in units for edit in own]
        try:
            new = checked_apply(trees[path].source, edits, where=path)
        except EditError as exc:
            for module, _own in units:
                give_up(plan, module, exc.message)
            continue
        written[path] = edits
        plan.nix[path] = (trees[path].source, new)
        for module, own in units:
            module.edits = own
            commit(plan, module)

    if plan.moves and extra_edits:
        for path, wiring in extra_edits.items():
            if not wiring:
                continue
            old, new = plan.nix.get(path, (sources[path], sources[path]))
            # Wiring edits are spans of the original file: re-plan on top of the module edits.
            new = checked_apply(old, [*written.get(path, []), *wiring], where=path)
            plan.nix[path] = (old, new)
    return plan


# the inline module holding a position of a file: its span and the hosts using it
# (and whether the file around it is a module of those hosts: `imports = [ { … } ]`)
InlineAt = Callable[[str, int], "tuple[tuple[int, int], Sequence[str], bool] | None"]
# a module file used by exactly these hosts, and its source
OwnModule = Callable[[Sequence[str]], "tuple[str, bytes] | None"]


def _found_at(
    tree: cst.Tree, node: cst.Node, literal: str, finding: FindingLike, spans: set[tuple[int, int]]
) -> tuple[int, ...] | None:
    """The offsets in ``literal`` (the string ``node``) of each finding of ``finding``'s
    value in it (``spans``: every finding's bytes), or None when none maps back."""
    value = finding.secret.reveal()
    string = cst.string_at(tree, node)
    out, at = [], literal.find(value)
    while at != -1:
        if string.span_of(at, at + len(value)) in spans:
            out.append(at)
        at = literal.find(value, at + 1)
    return tuple(out) if out else None


def _plan_finding(
    plan: Plan,
    module: PlannedModule,
    finding: FindingLike,
    names: Names,
    literal_of: Callable[[cst.Tree, cst.Node], str],
    host_values: HostValues | None = None,
    pin: Pin | None = None,
    targets: Targets | None = None,
    steps_go: Callable[[PlannedModule], refusals.Elsewhere | None] = lambda _module: None,
) -> None:
    from secretkit.plan.release import release_refusal, update_step

    builder: str | None = None  # the builder whose file's text the literal is, if one

    def refuse(
        reason: str,
        attrpath: str = "",
        name: str | None = None,
        entry: catalogue.Entry | None = None,
        snippet: str | None = None,
        lead: str | None = None,
        steps: tuple[str, ...] | None = None,
        home_user: str | None = None,
    ) -> None:
        if steps is not None:  # (no sops secret can hold the value: the entry's own route)
            if len(module.hosts) == 1:
                steps = tuple(step.replace("<host>", module.hosts[0]) for step in steps)
            plan.refused.append(
                Refused(module.path, finding.line, attrpath, reason, steps, builder, None, True)
            )
            return
        # only a refusal shows the fingerprint: an scrypt each, so not for planned moves
        fingerprint = getattr(finding, "fingerprint", None)
        slug = catalogue.base.slug
        base = name or "/".join(slug(p) for p in attrpath.split(".") if p and not p.startswith("["))
        base = base or f"manual/{slug(module.path.removesuffix('.nix'))}-{finding.line}"
        # unique like a planned name (two values of one literal: never under one key)
        base = names.claim(base, module.path, finding.secret)
        if snippet is None and entry is None and builder is not None:
            snippet = refusals.builder_route(base, builder, finding.line)
        target = steps_go(module)
        route = refusals.manual_route(
            module=module.path,
            line=finding.line,
            hosts=module.hosts,
            name=base,
            sops_file=(
                "<the path of that file, relative to this module>"
                if any(h in plan.targets.ambiguous for h in module.hosts)
                else sops_file_expr(module.path, module.hosts, targets)
            ),
            files=[plan.targets.route_file(h) for h in module.storing],
            entry=entry,
            fingerprint=fingerprint if isinstance(fingerprint, str) else None,
            snippet=snippet,
            owner=(
                owner_for(entry.reader, pin, module.tree, module.hosts)
                if entry is not None
                else None
            ),
            tree=module.tree,
            read_as=refusals.read_as_of(attrpath),
            exported=refusals.exported_variable(attrpath.split(".")) if attrpath else None,
            inline=module.inline,
            in_module=module.in_module,
            elsewhere=target,
            home_user=home_user,
        )
        if lead is not None:
            route.insert(0, lead)
        elsewhere = target.path if target is not None else None
        plan.refused.append(
            Refused(module.path, finding.line, attrpath, reason, tuple(route), builder, elsewhere)
        )

    node = _string_node(module.tree, finding.start, finding.end)
    if node is None and _in_comment(module.tree, finding.start):
        # no sops route fixes this one: the value itself has to go
        step = f"delete it from the comment on line {finding.line} (a comment is published too)"
        plan.refused.append(Refused(module.path, finding.line, "", IN_COMMENT, (step,)))
        return
    if node is None:
        refuse("the secret is not inside a string literal")
        return
    builder = refusals.builder_of(module.tree, node)
    reasons: list[str] = []
    path = dynamic_path(module.tree, module.top, module.hosts, node, host_values, reasons)
    holder = None
    if path is None:
        holder = catalogue.write_text_call(module.tree, node)
        if holder is not None:
            path = dynamic_path(module.tree, module.top, module.hosts, holder, host_values, reasons)
    if path is None:
        why = refusals.why_not_an_option(module.tree, holder or node, module.top, reasons)
        where = refusals.container_path(module.tree, holder or node)  # (a NixOS container's)
        refuse(why, where, steps=refusals.let_route(module.tree, holder or node, module.path))
        return
    dotted = ".".join(path)
    home = home_manager_module(module.tree, module.inline)
    if home is not None:  # (its options are home-manager's: no NixOS route applies)
        refuse(home_manager_reason(home), dotted, home_user=home)
        return
    entry = catalogue.lookup(path)
    if entry is None:
        refuse(refusals.no_route_reason(path), dotted)
        return
    literal = literal_of(module.tree, node)
    site = catalogue.Site(
        tree=module.tree,
        top=module.top,
        string=node,
        path=tuple(path),
        literal=literal,
        secret=finding.secret,
        holder=holder,
        found_at=_found_at(module.tree, node, literal, finding, plan.spans[module.path]),
    )
    proposed = entry.name(site)
    lacking = release_refusal(pin, entry.reader.since, f"the route for {dotted}")
    older = getattr(entry, "before_since", None)  # (what an older release has instead)
    if lacking is not None and older and pin is not None and entry.reader.since:
        steps = (update_step(pin, entry.reader.since), f"or, on {pin.shown}: {older}")
        refuse(lacking[0], dotted, proposed, steps=steps)
        return
    if lacking is not None:  # (not the entry: the steps must not name the route it lacks)
        refuse(lacking[0], dotted, proposed, lead=lacking[1])
        return
    problem = shared_problem(module.path, module.hosts, targets)
    if problem is None and module.inline is not None:
        inline = emit.ensure_inline_config_arg(
            module.tree, module.inline, in_module=module.in_module
        )
        problem = inline if isinstance(inline, str) else None
    if problem is not None:
        refuse(problem, dotted, proposed, entry)
        return
    name = names.claim(proposed, module.path, finding.secret)
    result = entry.rewrite(site, name)
    if isinstance(result, catalogue.Refusal):
        refuse(result.reason, dotted, proposed, entry, result.manual, steps=result.steps)
        return
    lacking = release_refusal(pin, result.since, f"moving {dotted} (an option it sets)")
    if lacking is not None:
        refuse(lacking[0], dotted, proposed, lead=lacking[1])
        return
    clash = [d for d in result.defines if d in module.defined]
    if clash:
        refuse(f"{'.'.join(clash[0])} would be set twice", dotted, name, entry)
        return
    for spec in result.options:
        known = module.options.get(spec.path)
        if known is not None and known.expr != spec.expr:
            refuse(f"{'.'.join(spec.path)} would need two different values", dotted, name, entry)
            return
    merged: list[str] | None = None
    spans = {(e.start, e.end) for e in result.edits}
    if result.template is not None:
        t = result.template
        known_option = module.template_options.get(t.template)
        if known_option is not None and known_option != t.option:
            refuse(f"template {t.template} is used for two options", dotted, name, entry)
            return
        owner = next(
            (module.whole_spans[s] for s in sorted(spans) if s in module.whole_spans), None
        )
        if t.whole is not None and owner is not None:
            # another secret of a text already turned into a template: its placeholder
            # goes into that template, and the text's edit is made once
            content = module.templates[owner].content
            merged = replace_in_template(content, t.whole, emit.placeholder(name))
            if merged is None:
                refuse("the secret cannot be located inside the file text", dotted, name, entry)
                return
            result.template = t = replace(t, template=owner)
            result.edits = [e for e in result.edits if (e.start, e.end) not in module.whole_spans]
    conflict = set_already(module, result)
    if conflict is not None:  # only this finding: the module's others may still move
        refuse(conflict, dotted, name, entry)
        return
    values, elsewhere = module.values, None
    if values is not None:  # another module of these hosts may set an option it adds
        elsewhere = values.set_elsewhere(module.hosts, module.path, result.defines)
    if elsewhere is None:  # (or a move of this run in another module of theirs sets it)
        elsewhere = plan.defined_elsewhere(module.hosts, module.path, result.defines)
    if elsewhere is not None:
        option, where = elsewhere
        refuse(
            f"{option} is already set in {where} (a second definition would conflict)",
            dotted,
            name,
            entry,
            refusals.second_definition_route(option, where, finding.line, name),
        )
        return
    # accepted
    plan.define(module.hosts, result.defines, f"{module.path}:{finding.line}")
    if result.note is not None and result.note not in plan.notes:
        plan.notes.append(result.note)
    module.defined.update(result.defines)
    module.edits.extend(result.edits)
    for spec in result.options:
        module.options[spec.path] = spec
    if result.template is not None:
        t = result.template
        decl = module.templates.setdefault(
            t.template, emit.TemplateDecl(t.template, final_newline=t.final_newline)
        )
        if merged is not None:  # another secret of the same whole text: replaced in place
            decl.content[:] = merged
        elif t.line not in decl.content:
            decl.content.extend(t.line.split("\n"))
        # the template is what the service opens: it gets the reader's owner
        mine = t.owner is not None and t.owner == entry.reader.owner  # (the reader's user)
        decl.owner = decl.owner or (
            where_enabled(t.owner, entry.reader, module.tree, module.hosts) if mine else t.owner
        )
        decl.owner = decl.owner or owner_for(entry.reader, pin, module.tree, module.hosts)
        decl.group = decl.group or t.group or entry.reader.group
        decl.path = decl.path or t.path
        decl.mode = decl.mode or t.mode or entry.reader.mode
        decl.restart_units = tuple(dict.fromkeys((*decl.restart_units, *t.restart_units)))
        module.template_options[t.template] = t.option
        if t.whole is not None:
            module.whole_spans.update(dict.fromkeys(spans, t.template))
        if t.list_option:
            module.template_lists.add(t.template)
        if t.include:
            module.template_includes.add(t.template)
    if name not in module.decls:
        # Who opens the secret file: the reader, unless a template is what the service
        # opens (then only sops-nix reads the secret, as root).
        reader = entry.reader if result.template is None else None
        module.decls[name] = emit.SecretDecl(
            name=name,
            sops_file=sops_file_expr(module.path, module.hosts, targets),
            owner=result.owner
            or (owner_for(reader, pin, module.tree, module.hosts) if reader else None),
            group=result.group or (reader.group if reader else None),
            mode=result.mode or (reader.mode if reader else None),
            restart_units=result.restart_units,
            restart_expr=result.restart_expr,
            needed_for_users=result.needed_for_users
            or (reader is not None and reader.kind == "activation"),
            path=result.path,
        )
    files = tuple(plan.targets.file(h) for h in module.storing)
    move = Move(
        module.path, finding.line, dotted, name, module.storing, files, result.new_option, entry.key
    )
    module.moves.append((move, result.value))
