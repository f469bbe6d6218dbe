"""The gate's point ``service-readable``: a sops secret or template handed to an option
whose reader the option catalogue knows (prometheus' ``basic_auth.password_file``: the
prometheus user) is a file that user can open.

sops-nix writes each secret and template root's, mode 0400, unless its declaration
says ``owner`` (or a mode others may read).  A declaration without one evaluates,
deploys and activates; then the service fails to open its file at run time.  migrate
writes the owner the catalogue records; this point catches a hand-written (or
hand-edited) declaration.  Which user reads an option's file, and since which NixOS
release, is the catalogue's :class:`~secretkit.nix.catalogue.base.Reader` (with its
nixpkgs source); on the release the repository pins, the owner is the one migrate
would write (:func:`secretkit.plan.release.owner_on`: none where that release still
runs the reader as root, or where systemd hands it the file).  An ``owner`` written
as an expression that cannot be compared is said as not verified, with the owner to
write."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext
    from secretkit.nix.catalogue.base import Reader
    from secretkit.nix.sops_refs import Declaration

POINT = "service-readable"
# config.sops.secrets."<n>".path / config.sops.templates.<n>.path: the file, not a value
_PATH_REF = re.compile(
    rb'config\.sops\.(?:secrets|templates)\.(?:"[^"\\]*"|[A-Za-z0-9_\'-]+)\.path\b'
)
_USER_OPTION = re.compile(r"^config\.services\.[A-Za-z0-9_-]+\.user$")
_USERS_NAME = re.compile(r'^config\.users\.users\.(?:"([^"\\$]+)"|([A-Za-z0-9_\'-]+))\.name$')


def check_service_readers(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.gate.module_sites import line_of
    from secretkit.gate.option_values import values_set
    from secretkit.gate.user_secrets import option_path_at
    from secretkit.nix.catalogue import file_reader
    from secretkit.plan.advice import repo_pin
    from secretkit.plan.release import owner_on

    facts = ctx.nix()
    inventory = ctx.inventory()
    pin = repo_pin(ctx.read)
    results: list[CheckResult] = []
    checked = 0
    for kind, declared, references in (
        ("secrets", facts.declarations, facts.references),
        ("templates", facts.templates, facts.template_references),
    ):
        by_name: dict[str, list[Declaration]] = {}
        for decl in declared:
            by_name.setdefault(decl.name, []).append(decl)
        for name, file, offset, line in references:
            if name not in by_name or not _PATH_REF.match(ctx.read(file) or b"", offset):
                continue  # (undeclared: nix-secret-refs' failure; a placeholder: a value)
            path = option_path_at(ctx, file, offset)
            reader = file_reader(path) if path else None
            if path is None or reader is None or reader.kind != "daemon" or reader.owner is None:
                continue  # (root or systemd reads it, or no one here knows who)
            owner = owner_on(reader.owner, reader.owner_since, pin, reader.owner_until)
            if owner is None:
                continue  # (the pinned release runs the reader as root)
            hosts = inventory.hosts_of_file(file)
            for decl in by_name[name]:
                if hosts and not hosts & inventory.hosts_of_file(decl.file):
                    continue  # (another host's declaration of the same name)
                checked += 1
                problem = _problem(
                    decl, reader, owner, functools.partial(values_set, ctx, at=decl.file)
                )
                if problem is None:
                    continue
                verdict, said = problem
                at = f"{decl.file}:{line_of(ctx, decl.file, decl.offset)}"
                what = f'sops.{kind}."{name}"'
                used = f"{'.'.join(path)} ({file}:{line})"
                who = _who(reader)
                if verdict == "unverified":
                    message = (
                        f"{at}: cannot verify that {who} can read {what}: its {said}, and "
                        f"{used} is read by {who} at run time"
                    )
                else:
                    message = (
                        f"{at}: {what} {said}, but {used} is read by {who} at run time "
                        f"(sops-nix writes the file root's, mode 0400, unless owner says "
                        "otherwise): the service cannot open it"
                    )
                fix = f"set owner = {owner}; in {what} ({at})"
                if decl.owner is None:
                    fix = f"add owner = {owner}; to {what} ({at})"
                results.append(
                    CheckResult(
                        POINT,
                        False,
                        message,
                        fix,
                        (decl.file, file),
                        group=f"a sops file a service reads is not readable by its user ({who})",
                    )
                )
    if not results:
        said = (
            f"{checked} secret file(s) handed to options whose reader is known, each "
            "readable by that user"
            if checked
            else "no secret file is handed to an option whose reader the catalogue knows: "
            "nothing to check"
        )
        results.append(CheckResult(POINT, True, said))
    return results


def _problem(
    decl: Declaration,
    reader: Reader,
    owner: str,
    set_to: Callable[[list[str]], set[str | None]],
) -> tuple[str, str] | None:
    """None when ``decl`` is readable by ``reader`` (whose owner on the pinned release
    is ``owner``), else ("fails", why) or ("unverified", what could not be compared).
    ``set_to(option)``: what the repository sets that option to (None: not a literal)."""
    mode = _mode(decl.mode)
    if mode is not None and mode & 0o004:
        return None  # (anyone may read it)
    if decl.owner is None:
        if decl.group is not None or decl.mode is not None:
            return "unverified", "owner is not set and group/mode may grant it"
        return "fails", "sets no owner"
    written = decl.owner
    if reader.owner is None or written in (owner, reader.owner):
        return None
    user = _literal_user(written)
    if user is not None and reader.owner.startswith('"'):
        return None if user == reader.user else ("fails", f"is owned by {user}")
    option = _USER_OPTION.match(reader.owner)
    if user is not None and option is not None and reader.owner_default is not None:
        # owner = "nginx" for config.services.nginx.user: what the repository sets it to
        values = set_to(option[0].split(".")[1:])
        if None not in values and values <= {user} and (values or user == reader.owner_default):
            return None
        if None not in values and (values or user != reader.owner_default):
            now = next(iter(values), reader.owner_default)
            return "fails", f"is owned by {user} ({option[0]} is {now})"
    return "unverified", f"owner = {written}; names a user this check cannot tell"


def _literal_user(text: str) -> str | None:
    """The user an ``owner`` names when it is a plain string, or
    ``config.users.users.<u>.name``; else None."""
    if text.startswith('"') and text.endswith('"') and "${" not in text and "\\" not in text:
        return text[1:-1]
    found = _USERS_NAME.match(text)
    return (found[1] or found[2]) if found else None


def _mode(text: str | None) -> int | None:
    if text is None:
        return None
    digits = text.strip('"')
    return int(digits, 8) if re.fullmatch(r"0?[0-7]{3}", digits) else None


def _who(reader: Reader) -> str:
    if reader.owner is not None and reader.owner.startswith('"'):
        return f"the {reader.user} user"
    return f"the user {reader.owner} names"
