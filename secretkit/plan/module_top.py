"""Where a finding's option values go in its module: the module's attrset, its
``config`` (``{ options = …; config = mkIf … { … }; }``), or the part of a
``config = mkMerge [ … ]`` that holds the finding — a reason when it is none of these."""

from __future__ import annotations

from secretkit.nix import cst
from secretkit.nix.syntax import mkmerge_part

NOT_A_MODULE = "the file is not a module that returns an attrset"
NO_CONFIG = "the module's config is not an attrset (nor mkIf or mkMerge [ … ] of them)"


def module_top(tree: cst.Tree, body: cst.Node | None, at: int) -> tuple[cst.Node | None, str]:
    """``(the attrset the values go in, "")`` for the finding at byte ``at`` of the
    module whose attrset is ``body``, or ``(None, why not)``.  A ``mkMerge`` part is
    chosen by the finding: another finding of the module may sit in another part."""
    if body is None:
        return None, NOT_A_MODULE
    top = cst.config_body(tree, body)
    if top is not None:
        return top, ""
    inner = cst.find_option(tree, body, ["config"])
    value = inner.child_by_field_name("expression") if inner is not None else None
    part = mkmerge_part(tree, value, at)
    return (part, "") if part is not None else (None, NO_CONFIG)


def another_part(top: cst.Node, again: cst.Node | None) -> str | None:
    """Why a finding whose values would go in ``again`` is left for a later run while
    the module is written in ``top`` (one ``mkMerge`` part per run), or None."""
    if again is None or again.id == top.id:
        return None
    return ANOTHER_PART


# why a finding waits for the next run (counted apart from the changes by hand)
ANOTHER_PART = (
    "the value is in another part of the module's mkMerge [ … ] than the one this run "
    "writes: run secretkit migrate again to move it"
)
