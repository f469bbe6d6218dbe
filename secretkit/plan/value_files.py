"""The manual route for a secret in a file Nix imports for its value (``import
./creds.nix``, ``builtins.readFile ./pw``): that file is no module, so the secret is
declared and read in the module that imports it (:func:`value_route`), and the places
that read it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from secretkit.nix import cst
from secretkit.plan.route_steps import config_arg_steps, set_steps


def value_file_reason(path: str, importers: Sequence[str]) -> str:
    """Why a finding in a file only ever imported for its value is not moved in place:
    ``import ./creds.nix`` hands over an attrset, so a ``{ config, ... }:`` added to it
    makes ``(import ./creds.nix).x`` a function, and a ``sops.secrets`` in it is no option."""
    return (
        f"{path} is no NixOS module: {', '.join(importers)} import"
        f"{'s' if len(importers) == 1 else ''} it for its value, so it cannot take "
        "{ config, ... }: nor declare sops.secrets (the importer would get a function)"
    )


def value_uses(dotted: str, importers: Sequence[str], sources: Mapping[str, bytes]) -> list[str]:
    """Where the importers read ``dotted`` (``creds.mqttPassword``) as ``file:line``."""
    parts = [p for p in dotted.split(".") if p and not p.startswith("[")]
    if not parts:
        return []
    pattern = re.compile(r"\.\s*" + r"\s*\.\s*".join(map(re.escape, parts)) + r"(?![\w'-])")
    out = []
    for module in importers:
        text = sources.get(module, b"").decode("utf-8", "replace")
        out += [f"{module}:{text.count(chr(10), 0, m.start()) + 1}" for m in pattern.finditer(text)]
    return out


def value_read_step(path: str, dotted: str, uses: Sequence[str], name: str) -> str:
    """Where the value goes instead: the option the importer feeds from ``path``."""
    where = f" ({', '.join(uses[:3])})" if uses else ""
    return (
        f"where it reads {dotted or 'the value'} from {path}{where}, use "
        f'config.sops.secrets."{name}".path instead (the option\'s *File variant) or '
        f'config.sops.templates."<t>".path, a template the program reads with '
        f'${{config.sops.placeholder."{name}"}} in its content; then '
        f"delete {dotted or 'the value'} from {path}, which stays a plain attrset (no "
        "{ config, ... }: there)"
    )


def value_route(
    *,
    path: str,
    line: int,
    dotted: str,
    importers: Sequence[str],
    uses: Sequence[str],
    name: str,
    files: Sequence[str],
    sops_file: str | None,
    tree: cst.Tree | None,
    fingerprint: str | None,
) -> list[str]:
    """The steps that move a secret out of a file imported as a value: declared and
    read in the module importing it (``tree``, when one does), never in the file."""
    steps = set_steps(files, name, None)
    module = importers[0] if len(importers) == 1 else "the module that reads it"
    if len(importers) > 1:
        steps.append(f"in each module importing {path} ({', '.join(importers)}):")
    steps += config_arg_steps(module, tree)
    body = "" if sops_file is None else f" sopsFile = {sops_file}; "
    steps.append(f'in {module} (not in {path}) add: sops.secrets."{name}" = {{{body}}};')
    steps.append("and " + value_read_step(path, dotted, uses, name))
    if fingerprint:
        steps.append(
            f"or, if the value is not a secret: add the line `{fingerprint}  # {path}:{line}` "
            "to .secretkit-allow"
        )
    return steps
