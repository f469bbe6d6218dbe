"""click parameter types of the command line (:mod:`secretkit.cli`)."""

from __future__ import annotations

from typing import Any

import click

# The kinds ``set --generate`` and ``generate`` take (:data:`secretkit.generate.KINDS`,
# whose import the command line leaves to the commands; a test holds the two alike).
KIND_NAMES = ["password", "passphrase", "hex", "base64", "alnum", "wireguard"]
KIND_NAMES += ["ssh-ed25519", "hashed-password"]


class PathArg(click.Path):
    """``click.Path`` that refuses an empty name: click would make ``""`` the path
    ``.`` (``--output ""`` then said it could not write ".", a directory, and
    ``scan ""`` scanned the working directory the user never named)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value:
            self.fail("an empty name is not a path", param, ctx)
        return super().convert(value, param, ctx)


def engine_name(option: str | None) -> str:
    """The sops engine a command uses: ``--engine``, else ``SECRETKIT_ENGINE``, else ours."""
    import os

    return option or os.environ.get("SECRETKIT_ENGINE") or "python"
