"""A secret inside a service's shell script (``systemd.services.<s>.script``,
``preStart`` …) → the script reads it from the sops file when it runs.

NixOS writes each of these scripts to the Nix store (world-readable) and runs it as
the unit's ``ExecStart``/``ExecStartPre``/… without the ``+`` prefix, so as the
unit's ``User=`` (root when unset), under bash (``writeShellScriptBin``).  Each
occurrence of the value becomes ``$(< /run/secrets/<name>)`` (bash reads the file
itself: no ``cat`` needed on the unit's PATH), quoted for where it stands in the
shell text: inside double quotes as it is, unquoted in double quotes, inside single
quotes by closing and reopening them.  The owner of the secret is the unit's
``User=`` when it is a plain string (or the user the NixOS module running the unit
gives it: postgresql's ``postgres``, :data:`_MODULE_USERS`); a ``DynamicUser`` unit, a
unit whose ``User=`` is an expression, and a confined unit (no ``/run/secrets`` inside)
are refused, and so is a value in a here-document, in ``$'…'`` or in backquotes.  A long-running
script is restarted when the secret changes; a ``oneshot`` one, or one a timer starts
(``startAt``), reads the new value at its next run (a restart would run it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from secretkit.lazy_re import lazy
from secretkit.nix import cst, emit
from secretkit.nix.catalogue.base import (
    NIXPKGS,
    Reader,
    Refusal,
    Rewrite,
    Site,
    Source,
    match,
    slug,
)
from secretkit.nix.edits import Edit

_NAMED = lazy(r"([A-Za-z_][A-Za-z0-9_-]*)['\"]?[ \t]*[=:][ \t]*['\"]?$")
_SECRET_WORDS = ("token", "key", "pass", "secret", "auth", "user", "psk", "cred")


# Units NixOS modules define with a ``User=`` of their own: the user a script of theirs
# runs as when the repository sets none (the module's source: where the user is set)
_MODULE_USERS: dict[str, tuple[str, Source]] = {
    "postgresql": (
        '"postgres"',
        Source(
            NIXPKGS,
            "86cdf5f981057c6eed14872b560ddfb91e9daee5",
            "nixos/modules/services/databases/postgresql.nix",
            'postStart = … $PSQL -f "${cfg.initialScript}" … serviceConfig = mkMerge [ { … '
            'User = "postgres";',
        ),
    ),
    "mysql": (
        "config.services.mysql.user",
        Source(
            NIXPKGS,
            "169227bfd248f1bc4175e62d2e3d77658f9b0738",
            "nixos/modules/services/databases/mysql.nix",
            "cat ${toString cfg.initialScript} | ${cfg.package}/bin/mysql … User = cfg.user;",
        ),
    ),
}


class ServiceScript:
    key = "systemd-script"
    description = "a secret in systemd.services.<s>.script / preStart / … → $(< secret file)"
    reader = Reader(
        "root",
        Source(
            NIXPKGS,
            "01f31c2ee7d045a337dff0f858c0ed61dd0f4ddb",
            "nixos/lib/systemd-unit-options.nix",
            'jobScripts = makeJobScript "${name}-start" config.script; '
            'serviceConfig.ExecStart = jobScripts + " " + config.scriptArgs;',
        ),
        since="13.10",
    )

    def matches(self, path: Sequence[str]) -> bool:
        return match("systemd.services.*.script|preStart|postStart|reload|preStop|postStop", path)

    def target_reader(self, path: Sequence[str]) -> Reader | None:
        """Who runs a script of a unit a NixOS module runs as its own user (the file
        a script reads is opened by that user; check holds a declaration to it)."""
        if not self.matches(path) or path[2] not in _MODULE_USERS:
            return None
        owner, source = _MODULE_USERS[path[2]]
        default = "mysql" if owner.startswith("config.") else None
        return Reader("daemon", source, since="13.10", owner=owner, owner_default=default)

    def name(self, site: Site) -> str:
        """``<service>/<the name before the value>`` (``token=…``, ``user:…``) when
        it is a secret's name, else ``<service>/<option>``."""
        service = slug(site.path[2])
        at = site.literal.find(site.secret.reveal())
        before = _NAMED.search(site.literal, max(0, at - 40), at) if at > 0 else None
        if before and any(w in before[1].lower() for w in _SECRET_WORDS):
            return f"{service}/{slug(before[1])}"
        return f"{service}/{slug(site.path[3])}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.holder is not None:
            return Refusal("the script is not a plain string")
        unit = list(site.path[:3])
        owner: str | None = None
        for option in ("DynamicUser", "RootDirectory", "RootImage"):
            if site.has_option([*unit, "serviceConfig", option]):
                return Refusal(
                    f"the unit sets serviceConfig.{option}: the script cannot read a file "
                    "owned for it under /run/secrets",
                    manual=_credential_route(site, name),
                )
        if site.has_option([*unit, "confinement", "enable"]):
            return Refusal(
                "the unit is confined: /run/secrets is not inside it",
                manual=_credential_route(site, name),
            )
        if site.has_option([*unit, "serviceConfig", "User"]):
            user = site.plain_string([*unit, "serviceConfig", "User"])
            if user is None:
                return Refusal("the unit's User is not a plain string: the owner is unknown")
            owner = emit.nix_string(user)
        elif unit[2] in _MODULE_USERS:  # (its module runs it as its own user: helper-124)
            owner = _MODULE_USERS[unit[2]][0]
        literal = cst.string_at(site.tree, site.string)
        value = site.secret.reveal()
        indented = site.string.type == "indented_string_expression"
        edits: list[Edit] = []
        source = site.tree.source
        where = site.occurrences()
        if where is None:
            return Refusal("the value occurs more than once in the script, not all secret")
        for at in where:
            if not literal.literal_text(at, at + len(value)):
                return Refusal("the value is inside an interpolation")
            quoting = _quoting(literal.value, at, literal.interpolations)
            if quoting is None:
                return Refusal(
                    "the value is in a here-document, $'…' or backquotes: "
                    "its shell quoting is not read"
                )
            start, end = literal.span_of(at, at + len(value))
            if source[start:end] != value.encode("utf-8"):
                return Refusal("the value is written with escapes in the Nix string")
            if quoting == "double":
                before, after = "", ""
            elif quoting == "none":
                before, after = '"', '"'
            else:  # inside '…': close, read in double quotes, reopen
                # the value starts the '…' / ends it: that quote goes (one source byte)
                opens = at > 0 and literal.span_of(at - 1, at) == (start - 1, start)
                opens = opens and source[start - 1 : start] == b"'"
                stop = at + len(value)
                closes = stop < len(literal.value) and literal.span_of(stop, stop + 1) == (
                    end,
                    end + 1,
                )
                closes = closes and source[end : end + 1] == b"'"
                start, end = start - opens, end + closes
                before = ("" if opens else "'") + '"'
                after = '"' + ("" if closes else "'")
            if indented and (
                (before.startswith("'") and source[start - 1 : start] == b"'")
                or (after.endswith("'") and source[end : end + 1] == b"'")
            ):
                return Refusal("the rewrite would end the Nix '' string early")
            if not indented:  # a "…" Nix string: its double quotes escaped
                before, after = before.replace('"', '\\"'), after.replace('"', '\\"')
            text = before + "$(< ${" + emit.secret_ref(name) + "})" + after
            edits.append(Edit(start, end, text))
        if not edits:
            return Refusal("the value is not written as it is in the script")
        service = site.path[2]
        restart = site.service_restarts(service) if site.path[3] != "reload" else ()
        return Rewrite(
            site.secret,
            edits,
            f"{service}: {site.path[3]} reads the file",
            owner=owner,
            restart_units=restart,
        )


def _quoting(text: str, at: int, interpolations: Sequence[tuple[int, int]]) -> str | None:
    """How bash reads ``text[at]``: ``none``, ``single`` or ``double`` quoted; None for
    what this reader does not follow (here-documents, ``$'…'``, backquotes).
    Interpolations count as plain word characters (a store path, a host name)."""
    skip = {i for a, b in interpolations for i in range(a, b)}
    state = "none"
    i = 0
    while i < at:
        if i in skip:
            i += 1
            continue
        ch = text[i]
        if state == "single":
            if ch == "'":
                state = "none"
        elif state == "double":
            if ch == "\\":
                i += 1
            elif ch == '"':
                state = "none"
            elif ch == "`":
                return None
        else:
            if ch == "\\":
                i += 1
            elif ch == "'":
                state = "single"
            elif ch == '"':
                state = "double"
            elif ch == "`":
                close = text.find("`", i + 1)  # (a closed one before it: past it)
                if close == -1 or close >= at:
                    return None
                i = close
            elif ch == "$" and text[i + 1 : i + 2] == "'":
                return None
            elif text.startswith("<<<", i):
                i += 3  # a here-string: its word is quoted as any other
                continue
            elif ch == "<" and text[i + 1 : i + 2] == "<":
                end = _heredoc_end(text, i)  # (one ended before it: past it)
                if end is None or end >= at:
                    return None
                i = end
                continue
            elif ch == "#" and (i == 0 or text[i - 1] in " \t\n;&|("):
                end = text.find("\n", i)
                if end == -1 or end >= at:
                    return "none"  # in a comment: replaced all the same (it leaks there too)
                i = end
                continue
        i += 1
    return state


_HEREDOC = lazy(r"<<-?[ \t]*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")


def _heredoc_end(text: str, at: int) -> int | None:
    """Where the text after the here-document started at ``at`` (``<<EOF``, ``<<-'EOF'``)
    goes on: past its terminator's line; None when that is not found."""
    m = _HEREDOC.match(text, at)
    if m is None:
        return None
    body = text.find("\n", m.end())
    if body == -1:
        return None
    for line in re.finditer(r"[^\n]*(?:\n|$)", text[body + 1 :]):
        if line.group().strip() == m.group(2):
            return body + 1 + line.end()
        if not line.group():
            break
    return None


ENTRY = ServiceScript()


def _credential_route(site: Site, name: str) -> str:
    """What works where the script cannot open /run/secrets: systemd reads the file
    as root and hands the unit a copy (``LoadCredential=``, systemd 247, NixOS 21.05),
    in ``$CREDENTIALS_DIRECTORY`` even for a ``DynamicUser`` or confined unit."""
    credential = slug(name.rsplit("/", 1)[-1]) or "secret"
    unit = ".".join(site.path[:3])
    return (
        f'{unit}.serviceConfig.LoadCredential = [ "{credential}:${{'
        f'{emit.secret_ref(name)}}}" ]; and in the script $(< "$CREDENTIALS_DIRECTORY/'
        f"{credential}\") in place of the value (the declaration stays root's)"
    )
