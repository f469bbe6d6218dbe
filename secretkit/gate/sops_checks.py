"""The gate's points on sops files: ``sops-mac`` (each verifies with an identity
here) and ``sops-recipients`` (each is encrypted for exactly its rule's recipients)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext


def check_sops_mac(ctx: CheckContext) -> list[CheckResult]:
    results = []
    files = ctx.sops_files()
    for entry in files:
        before = len(ctx.judge.unverified)
        problem = ctx.judge.judge(entry.path, entry.data)
        if problem is not None:
            results.append(
                CheckResult(
                    "sops-mac", False, f"{entry.path} {problem.reason}", problem.fix, (entry.path,)
                )
            )
        elif len(ctx.judge.unverified) > before:
            how = ctx.judge.open_hints.get(entry.path) or "provide a key of the file"
            fix = f"{how}, then run secretkit check again"  # follows the file's key kinds
            results.append(
                CheckResult(
                    "sops-mac",
                    False,
                    f"cannot verify the MAC of {entry.path}: no identity here opens it "
                    "(its structure is fine)",
                    fix,
                    (entry.path,),
                    group="cannot verify the MAC: no identity here opens the file "
                    "(its structure is fine)",
                    group_fix=fix,
                )
            )
    return results or [
        CheckResult("sops-mac", True, f"{len(files)} sops file(s) verify (MAC and values)")
    ]


def check_sops_structure(ctx: CheckContext) -> list[CheckResult]:
    """What ``sops-mac`` verifies without a key, for ``check --source-only``
    (:meth:`~secretkit.gate.sops_verify.SopsJudge.structure`: a value added in clear,
    with an editor and no sops, fails here); the MACs themselves are not verified (the
    point is listed as not run for that)."""
    results = []
    for entry in ctx.sops_files():
        problem = ctx.judge.structure(entry.path, entry.sops)
        if problem is not None:
            results.append(
                CheckResult(
                    "sops-mac", False, f"{entry.path} {problem.reason}", problem.fix, (entry.path,)
                )
            )
    return results


def _group_sets(groups: list[list[str]]) -> list[frozenset[str]]:
    return [frozenset(group) for group in groups]


def check_sops_recipients(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.gate.clan_checks import clan_recipients
    from secretkit.gate.relabelled import relabelled
    from secretkit.sops.operations import recipients_of, rule_recipients

    config = ctx.config()
    clan = ctx.clan()
    results = []
    checked = 0
    managed = set(clan.secrets) if clan is not None else set()
    if clan is not None:
        from secretkit.sops.operations import recipients_of as _of

        found = {e.path: [r for g in _of(e.sops) for r in g] for e in ctx.sops_files()}
        results.extend(clan_recipients(clan, found))
    for entry in ctx.sops_files():
        if entry.path in managed:
            continue
        rule = config.rule_for(ctx.root / entry.path) if config is not None else None
        if rule is None:
            results.append(
                CheckResult(
                    "sops-recipients",
                    False,
                    f"{entry.path} is a sops file but no .sops.yaml creation rule matches it",
                    "add a creation rule for it (secretkit hosts add NAME adds one per host) "
                    "or move it to secrets/<host>.yaml",
                    (entry.path,),
                    group="a sops file no .sops.yaml creation rule matches",
                    group_fix="add creation rules for these files to .sops.yaml "
                    "(secretkit hosts add NAME adds one per host)",
                )
            )
            continue
        checked += 1
        have = _group_sets(recipients_of(entry.sops))
        want = _group_sets(rule_recipients(rule))
        if have != want:
            missing = sorted(set().union(*want) - set().union(*have)) if want else []
            extra = sorted(set().union(*have) - set().union(*want)) if have else []
            detail = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"not in the rule {', '.join(extra)}" if extra else "",
                    "key groups differ" if not missing and not extra else "",
                )
                if part
            )
            results.append(
                CheckResult(
                    "sops-recipients",
                    False,
                    f"{entry.path} is not encrypted for the recipients its rule names ({detail})",
                    f"secretkit updatekeys {entry.path}"
                    + (
                        f"  (then rotate its data key: secretkit rotate data-keys {entry.path})"
                        if extra
                        else ""
                    ),
                    (entry.path,),
                )
            )
    results += relabelled(ctx)  # (a label edited by hand over a block made for another key)
    # a clan summary stays next to failures of other files; the count of files matching
    # their rules is shown only when it is the whole story
    mismatched = sum(1 for r in results if not r.ok and r.paths and r.paths[0] not in managed)
    if (checked and not mismatched) or not results:
        results.append(
            CheckResult(
                "sops-recipients", True, f"{checked} sops file(s) match their rules' recipients"
            )
        )
    return results


def untracked_rules(ctx: CheckContext) -> str:
    """`` .sops.yaml`` when the creation rules are a file git does not track yet: added
    with the sops files (as migrate says), or the published repository holds files
    nobody can re-encrypt for a new host."""
    config = ctx.config()
    if config is None:
        return ""
    try:
        rel = config.path.resolve().relative_to(ctx.root.resolve()).as_posix()
    except ValueError:
        return ""  # (above the repository: not published with it)
    return "" if rel in ctx.tracked() else f" {rel}"
