"""The gate's view of an agenix/ragenix repository (:mod:`secretkit.layouts.agenix`):
every ``.age`` file is listed in ``secrets.nix``, encrypted for the keys listed there,
and opens with a listed key held here (when one is)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult
from secretkit.layouts.agenix import Agenix, age_stanzas, recipient_problem
from secretkit.sops.identities import Identities

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext

POINT = "agenix"
_REKEY = "re-encrypt for the listed keys: agenix -r (ragenix: ragenix --rekey)"


def check_agenix(ctx: CheckContext) -> list[CheckResult]:
    """agenix/ragenix files (only when the repository has ``secrets.nix`` + ``*.age``)."""
    from secretkit.layouts.agenix import read_agenix

    agenix = read_agenix(ctx.root, ctx.files())
    if agenix is None:
        return []
    return agenix_results(ctx.root, agenix, ctx.judge.identities())


def agenix_results(root: Path, agenix: Agenix, identities: Identities) -> list[CheckResult]:
    results: list[CheckResult] = []
    opened = 0
    for path in agenix.unlisted:
        results.append(
            CheckResult(
                POINT,
                False,
                f"{path} is an age file that {agenix.rules_file} does not list",
                f'add "{Path(path).name}".publicKeys = [ … ]; to {agenix.rules_file}, or delete it',
                (path,),
                group=f"age files {agenix.rules_file} does not list",
            )
        )
    for path, rule in sorted(agenix.rules.items()):
        where = f"{agenix.rules_file}:{rule.line}"
        try:
            data = (root / path).read_bytes()
        except FileNotFoundError:
            results.append(
                CheckResult(
                    POINT,
                    False,
                    f"{path} is listed in {where} but does not exist",
                    f"create it: agenix -e {Path(path).name} (or remove the rule)",
                    (path, agenix.rules_file),
                )
            )
            continue
        except OSError as exc:
            results.append(CheckResult(POINT, False, f"cannot read {path}: {exc.strerror}", ""))
            continue
        stanzas = age_stanzas(data)
        if stanzas is None:
            results.append(
                CheckResult(
                    POINT,
                    False,
                    f"{path} is not an age file (no complete age header)",
                    f"restore it from git (git log -- {path}) or re-create it: agenix -e "
                    f"{Path(path).name}",
                    (path,),
                )
            )
            continue
        if rule.keys is None:
            results.append(
                CheckResult(
                    POINT,
                    False,
                    f"cannot verify {path}: {where}: {rule.why}",
                    f"write its publicKeys as a list of key strings and let-bound names in "
                    f"{agenix.rules_file}",
                    (path, agenix.rules_file),
                    group="cannot verify: publicKeys in secrets.nix need evaluating Nix",
                )
            )
            continue
        problem = recipient_problem(rule, stanzas)
        if problem is not None:
            results.append(
                CheckResult(
                    POINT,
                    False,
                    f"{path} is not encrypted for the keys {where} lists ({problem})",
                    _REKEY,
                    (path,),
                    group="age files not encrypted for the keys secrets.nix lists",
                )
            )
            continue
        mine = [r for r in identities.recipients if r in rule.keys]
        if mine and identities.age:
            import pyrage

            try:
                pyrage.decrypt(_binary(data), identities.age)
                opened += 1
            except Exception:
                results.append(
                    CheckResult(
                        POINT,
                        False,
                        f"{path} does not open with {mine[0]}, which {where} lists",
                        f"the file is damaged or was encrypted for other keys: {_REKEY}, "
                        "or restore it from git",
                        (path,),
                    )
                )
    if results:
        return results
    return [
        CheckResult(
            POINT,
            True,
            f"{len(agenix.rules)} age file(s) encrypted for the keys {agenix.rules_file} "
            f"lists ({opened} opened with a key here)",
        )
    ]


def _binary(data: bytes) -> bytes:
    from secretkit.layouts.agenix import _ARMOR, _dearmor

    if data.startswith(_ARMOR):
        return _dearmor(data) or data
    return data
