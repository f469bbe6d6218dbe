"""Postfix's SASL password table written inline (``smtp_sasl_password_maps =
"inline:{ [relay]:587=user:password }"``, :mod:`secretkit.scan.postfix_maps`): the way
to move it is a table file, not a value.  Postfix names a table ``type:name``
(src/util/dict_open.c stops on a name without its type); ``texthash:`` reads a plain
``key value`` file with no ``postmap`` run (DATABASE_README), and the SMTP client opens
its password table before it enters its chroot and drops privileges, so a root-only
file serves (SASL_README)."""

from __future__ import annotations

from collections.abc import Sequence


def password_table(path: Sequence[str]) -> bool:
    """Whether the option at ``path`` is one of postfix's SASL password tables."""
    return bool(path) and path[-1].endswith("sasl_password_maps")


def table_route(name: str) -> str:
    """The steps for the secret stored as ``name``."""
    return (
        "a sops template holding the table, one `<the entry's key> <user>:"
        f'${{config.sops.placeholder."{name}"}}` line for each entry of the inline table '
        '(sops.templates."postfix-sasl-passwd".content), and the option set to '
        '"texthash:${config.sops.templates."postfix-sasl-passwd".path}" (postfix names a '
        "table type:name; texthash needs no postmap, and postfix opens the table as root: "
        "the template's default owner and mode serve)"
    )
