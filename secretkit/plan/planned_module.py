"""One module's share of the migration plan (:class:`PlannedModule`: a ``.nix`` file, or
an inline module in one), and how it is written: its option and declaration edits,
checked on their own (:func:`finish_module`), then its moves committed to the plan or
all refused with the reason (:func:`commit`, :func:`give_up`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from secretkit.lazy_re import lazy
from secretkit.nix import catalogue, cst, emit
from secretkit.nix.edits import Edit, EditError, checked_apply
from secretkit.plan import refusals
from secretkit.plan.declare import declaration_edits
from secretkit.plan.hostvalues import HostValues
from secretkit.plan.model import Move, Plan, Refused
from secretkit.sensitive import Sensitive


@dataclass
class PlannedModule:
    """Everything planned for one module: a ``.nix`` file, or an inline module in one
    (``inline``: its attrset, such as ``{ … }`` in a ``modules`` list of ``flake.nix``)."""

    path: str
    hosts: tuple[str, ...]
    tree: cst.Tree
    top: cst.Node
    inline: cst.Node | None = None
    in_module: bool = False  # the file around the inline module is a module of its hosts
    edits: list[Edit] = field(default_factory=list)
    decls: dict[str, emit.SecretDecl] = field(default_factory=dict)
    templates: dict[str, emit.TemplateDecl] = field(default_factory=dict)
    template_options: dict[str, tuple[str, ...]] = field(default_factory=dict)
    template_lists: set[str] = field(default_factory=set)  # templates given as a list item
    template_includes: set[str] = field(default_factory=set)  # nix.conf `!include` templates
    # the span of a whole file text made a template → that template (more secrets of
    # the same text are replaced inside it)
    whole_spans: dict[tuple[int, int], str] = field(default_factory=dict)
    options: dict[tuple[str, ...], catalogue.OptionSpec] = field(default_factory=dict)
    defined: set[tuple[str, ...]] = field(default_factory=set)
    moves: list[tuple[Move, Sensitive[str]]] = field(default_factory=list)
    values: HostValues | None = None  # what the hosts' modules set (options set elsewhere)
    # the hosts whose configuration uses the attrset the values go in (a module's own
    # switch may leave it off on some: secretkit.nix.hosts.guards); () for all ``hosts``
    using: tuple[str, ...] = ()

    @property
    def storing(self) -> tuple[str, ...]:
        """The hosts whose sops files get this module's values."""
        return self.using or self.hosts


def set_already(module: PlannedModule, result: catalogue.Rewrite) -> str | None:
    """Why ``result`` cannot be written: an option it must set (its file option, the
    template's option) already holds another value in the module, else None."""
    wanted = [spec for spec in result.options if spec.required]
    t = result.template
    if t is not None and t.option:
        ref = emit.template_ref(t.template)
        ref = f"[ {ref} ]" if t.list_option else ref
        ref = '"!include ${' + ref + '}"' if t.include else ref
        wanted.append(catalogue.OptionSpec(t.option, ref, True))
    for spec in wanted:
        state = emit.ensure_option(module.tree, module.top, list(spec.path), spec.expr)
        if state.edit is None and state.existing != spec.expr:
            return refusals.already_set(spec.path, state.existing)
    return None


def give_up(plan: Plan, module: PlannedModule, reason: str) -> None:
    for move, _ in module.moves:
        plan.refused.append(Refused(module.path, move.line, move.attrpath, reason))


def commit(plan: Plan, module: PlannedModule) -> None:
    for move, value in module.moves:
        plan.moves.append(move)
        for host in move.hosts:
            plan.sops.setdefault(host, {})[tuple(move.name.split("/"))] = value


def finish_module(plan: Plan, module: PlannedModule) -> list[Edit] | None:
    """The edits that write ``module``'s moves (checked on their own), or None when
    they cannot be made (its findings refused, with the reason)."""
    if not module.moves:
        return None
    tree, top = module.tree, module.top
    edits = list(module.edits)

    def stop(reason: str) -> None:
        give_up(plan, module, reason)

    wanted: list[catalogue.OptionSpec] = list(module.options.values())
    for template, option in module.template_options.items():
        if option:
            ref = emit.template_ref(template)
            if template in module.template_lists:
                ref = f"[ {ref} ]"
            if template in module.template_includes:
                ref = '"!include ${' + ref + '}"'
            wanted.append(catalogue.OptionSpec(option, ref, True))
    for spec in wanted:
        state = emit.ensure_option(tree, top, list(spec.path), spec.expr)
        if state.refusal is not None:
            stop(state.refusal)
            return None
        if state.edit is not None:
            edits.extend((state.edit, *state.more))
        elif spec.required and state.existing != spec.expr:
            stop(refusals.already_set(spec.path, state.existing))
            return None

    placed = declaration_edits(tree, top, module.decls.values(), module.templates.values())
    if isinstance(placed, str):
        stop(placed)
        return None
    edits.extend(placed)

    if module.inline is not None:
        inline_edits = emit.ensure_inline_config_arg(
            tree, module.inline, in_module=module.in_module
        )
        if isinstance(inline_edits, str):
            stop(inline_edits)
            return None
        edits.extend(inline_edits)
    else:
        config_edit = emit.ensure_config_arg(tree)
        if isinstance(config_edit, str):
            stop(config_edit)
            return None
        if config_edit is not None:
            edits.append(config_edit)
    try:
        checked_apply(tree.source, edits, where=module.path)
    except EditError as exc:
        stop(exc.message)
        return None
    return edits


_PLACEHOLDER = lazy(r"\$\{config\.sops\.placeholder\.[^}]*\}")


def replace_in_template(content: list[str], secret: str, placeholder: str) -> list[str] | None:
    """``content`` (a whole file text, earlier secrets already placeholders) with the
    ``secret`` outside a placeholder replaced by ``placeholder``; None when the text
    holds it other than once."""
    text = "\n".join(content)
    at, where = 0, []
    for match in [*_PLACEHOLDER.finditer(text), None]:
        end = match.start() if match is not None else len(text)
        found = text.find(secret, at, end)
        while found != -1 and found + len(secret) <= end:
            where.append(found)
            found = text.find(secret, found + 1, end)
        at = match.end() if match is not None else end
    if len(where) != 1:  # (twice: which one is the secret is not known here)
        return None
    found = where[0]
    return (text[:found] + placeholder + text[found + len(secret) :]).split("\n")
