"""The gate's view of a clan-core repository (:mod:`secretkit.layouts.clan`).

clan manages its files itself (``clan secrets``, ``clan vars``): no ``.sops.yaml``
rule names them, and their recipients come from the folder layout.  They are
verified the way clan does and summed up in one line when consistent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from secretkit.gate.model import CheckResult
from secretkit.layouts.clan import ClanLayout, ClanSecret
from secretkit.lazy_re import lazy

_POINT = "sops-recipients"


def secret_name(secret: ClanSecret) -> str:
    """The name ``clan secrets`` knows a secret by (``sops/secrets/<name>``)."""
    return secret.name.removeprefix("sops/secrets/")


def fix_for(secret: ClanSecret) -> str:
    """The clan command that re-encrypts a secret for the recipients its folder names."""
    if secret.name.startswith("vars/"):
        machine = secret.name.split("/")[2] if secret.name.startswith("vars/per-machine/") else ""
        target = f" {machine}" if machine else ""
        return (
            f"fix the links in {secret.name}/ (machines/<m> -> ../../../../../../sops/machines/"
            f"<m>), then: clan vars fix{target}"
        )
    return (
        f"fix the links in {secret.name}/ (machines/<m> -> ../../../machines/<m>), then: "
        f"clan secrets machines add-secret <machine> {secret_name(secret)}  "
        "(clan re-encrypts it for the linked keys)"
    )


def clan_recipients(clan: ClanLayout, recipients: Mapping[str, Iterable[str]]) -> list[CheckResult]:
    """One failure per clan-managed file whose recipients or links are inconsistent;
    one passing line for all of them otherwise."""
    results = []
    for path, why in clan.key_problems:
        results.append(
            CheckResult(
                _POINT,
                False,
                f"{path} {why}: the secrets linked to it cannot be checked",
                f"restore {path} from git, or re-add the key: clan secrets machines add / "
                "clan secrets users add",
                (path,),
            )
        )
    for path, secret in sorted(clan.secrets.items()):
        have = recipients.get(path)
        if have is None:
            results.append(
                CheckResult(
                    _POINT,
                    False,
                    f"{path} is managed by clan but is not a readable sops file",
                    f"restore it from git (git checkout -- {path}) or set it again with clan",
                    (path,),
                )
            )
            continue
        problem = clan.problem(secret, have)
        if problem is not None:
            results.append(
                CheckResult(
                    _POINT,
                    False,
                    f"{path} (managed by clan): {problem}",
                    fix_for(secret),
                    (path,),
                    group="managed by clan, recipients inconsistent with the folder links",
                )
            )
    if results:
        return results
    return [
        CheckResult(
            _POINT,
            True,
            f"managed by clan: {len(clan.secrets)} file(s), recipients consistent "
            "with the users/machines/groups links",
        )
    ]


def clan_host_problem(
    clan: ClanLayout, host: str, path: str, used_by: str, recipients: Iterable[str]
) -> CheckResult | None:
    """Why machine ``host`` cannot read the clan-managed ``path`` its module ``used_by``
    declares, if so: no ``machines/<host>`` link (directly or through a group), or the
    file is not encrypted for the machine's key."""
    secret = clan.secrets.get(path)
    if secret is None:
        return None
    name = secret_name(secret)
    if host not in clan.machine_keys:
        return CheckResult(
            "host-readable",
            False,
            f"machine {host} uses {path} (in {used_by}) but has no sops/machines/{host}/key.json",
            f"clan secrets machines add {host} <its age key>  (clan vars generate {host} "
            "creates one), then clan secrets machines add-secret "
            f"{host} {name}",
            (path, used_by),
        )
    if host not in secret.machines(clan):
        return CheckResult(
            "host-readable",
            False,
            f"machine {host} uses {path} (in {used_by}) but {secret.name}/machines/ "
            f"has no link to it",
            f"clan secrets machines add-secret {host} {name}",
            (path, used_by),
        )
    if not clan.machine_keys[host] & set(recipients):
        return CheckResult(
            "host-readable",
            False,
            f"machine {host} cannot read {path} (used by {used_by}): not encrypted for "
            f"sops/machines/{host}/key.json",
            f"clan secrets machines add-secret {host} {name}  (re-encrypts it)",
            (path, used_by),
        )
    return None


_VAR_REF = lazy(
    rb"clan\.core\.vars\.generators\.(\"[^\"\n]+\"|[A-Za-z0-9_-]+)"
    rb"\.files\.(\"[^\"\n]+\"|[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*?)\.(?:path|value)\b"
)


def clan_var_refs(
    root: Path,
    nix_files: Mapping[str, bytes],
    hosts_of: Callable[[str], set[str]],
) -> tuple[int, list[CheckResult], set[str]]:
    """Every ``config.clan.core.vars.generators.<g>.files.<f>.path`` (or ``.value``)
    in a module a machine imports must have been generated for that machine:
    ``vars/per-machine/<machine>/<g>/<f>/`` or ``vars/shared/<g>/<f>/``.  Returns the
    number of (machine, file) pairs checked, one failure per missing one, and the
    files with such uses that no machine imports (not checked)."""
    checked = 0
    seen: set[tuple[str, str, str]] = set()
    results = []
    unowned: set[str] = set()
    for path, data in sorted(nix_files.items()):
        if b"clan.core.vars" not in data:
            continue
        for match in _VAR_REF.finditer(data):
            gen = match.group(1).decode("utf-8", "replace").strip('"')
            name = match.group(2).decode("utf-8", "replace").strip('"')
            machines = sorted(hosts_of(path))
            if not machines:
                unowned.add(path)
            for machine in machines:
                if (machine, gen, name) in seen:
                    continue
                seen.add((machine, gen, name))
                checked += 1
                own = root / "vars" / "per-machine" / machine / gen / name
                shared = root / "vars" / "shared" / gen / name
                if own.is_dir() or shared.is_dir():
                    continue
                line = data.count(b"\n", 0, match.start()) + 1
                results.append(
                    CheckResult(
                        "nix-secret-refs",
                        False,
                        f"{path}:{line}: machine {machine} uses clan var {gen}/{name}, which "
                        f"was never generated (no vars/per-machine/{machine}/{gen}/{name}/)",
                        f"clan vars generate {machine}",
                        (path,),
                        group="clan vars used but never generated",
                        group_fix="clan vars generate <machine> for each machine named",
                    )
                )
    return checked, results, unowned
