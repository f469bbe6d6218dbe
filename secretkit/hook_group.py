"""The click group of ``secretkit hook``: FILE arguments next to its subcommands."""

from __future__ import annotations

import click


class HookGroup(click.Group):
    """``hook [FILE…]`` runs the hook; ``hook install`` is a subcommand.

    click cannot combine a variadic argument with subcommands, so the group takes
    its FILE arguments itself: anything that is not a subcommand name (or help) is
    a file, and ``--`` ends the options so that a file named ``install`` or ``-x`` is
    still a file (the pre-commit entry is ``secretkit hook --``).
    """

    _FLAGS = ("--strict", "--allow-unscanned")

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and (args[0] in self.commands or args[0] in ctx.help_option_names):
            return super().parse_args(ctx, args)
        flags = []
        while args and args[0] in self._FLAGS:
            flags.append(args[0])
            args = args[1:]
        ctx.meta["secretkit.hook.files"] = tuple(args[1:] if args[:1] == ["--"] else args)
        return super().parse_args(ctx, flags)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return ["[--strict] [--allow-unscanned] [--] [FILE]...", "|", "install", "|", "uninstall"]
