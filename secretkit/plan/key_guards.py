"""What stops a migration before it writes into the hosts' sops files: a host without
a key or a creation rule in ``.sops.yaml`` (:func:`missing_keys`), a file encrypted
for other keys than its rule names, a rule no admin key is in (:func:`file_guards`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.errors import UserError
from secretkit.plan.hostkeys import hosts_add_hint

if TYPE_CHECKING:
    from secretkit.plan.targets import Targets
    from secretkit.sops.identities import Identities


def missing_keys(root: Path, needed: set[str], targets: Targets) -> list[UserError]:
    """What stops the run before writing: no .sops.yaml, hosts without key or rule."""
    from secretkit.keys import sops_yaml
    from secretkit.sops.config import find_config

    if not needed:
        return []
    config = find_config(root)
    if config is None or not (root / ".sops.yaml").exists():
        return [
            UserError(
                "this repository has no .sops.yaml yet",
                hint="run: secretkit init --admin <your age1… public key>, "
                "then secretkit hosts add",
            )
        ]
    from secretkit.layouts.sops_nix import host_key

    model = sops_yaml.read_keys(root)  # read once: each read parses .sops.yaml again
    keyless = [host for host in sorted(needed) if host_key(model.hosts, model.keys, host) is None]
    if len(keyless) > 1:  # all of them at once, not one per run
        return [
            UserError(
                f"{len(keyless)} hosts have no key in .sops.yaml: {', '.join(keyless)}",
                hint=f"for each NAME run: {hosts_add_hint('NAME').removeprefix('run: ')}",
            )
        ]
    if keyless:
        return [
            UserError(
                f"host {keyless[0]} has no key in .sops.yaml", hint=hosts_add_hint(keyless[0])
            )
        ]
    ambiguous = [
        UserError(
            f"cannot choose the sops file for host {host}: {targets.ambiguous[host]}",
            hint=targets.hints.get(
                host,
                f"set sops.defaultSopsFile in {host}'s configuration to the file its new "
                "secrets go into (migrate then writes there), or move them by hand: "
                "secretkit set <file> '[\"<name>\"]' and declare sops.secrets.<name> with "
                "that sopsFile",
            ),
        )
        for host in sorted(needed)
        if host in targets.ambiguous
    ]
    return ambiguous + [
        UserError(
            f"no .sops.yaml creation rule for {targets.file(host)}",
            hint=hosts_add_hint(host)
            if not targets.own(host)
            else f"add a creation rule for {targets.file(host)} naming {host}'s key to .sops.yaml",
        )
        for host in sorted(needed)
        if host not in targets.ambiguous and config.rule_for(root / targets.file(host)) is None
    ]


def file_guards(
    root: Path,
    needed: set[str],
    without_admin: bool,
    targets: Targets,
    identities: Callable[[], Identities],
) -> list[UserError]:
    """What else stops the run before writing into ``secrets/<host>.yaml``: a file
    encrypted for other keys than its rule names (new values would be readable by
    them), and a rule no admin key is in (nobody could read the values back)."""
    from secretkit.keys import sops_yaml
    from secretkit.sops import operations
    from secretkit.sops.config import find_config
    from secretkit.sops.keysources import ident_field

    config = find_config(root)
    if config is None:
        return []
    admins = {r.lower() for r in sops_yaml.read_keys(root).admins.values()}
    held: set[str] = set()  # a hand-written .sops.yaml has no &admin_ anchors: your own keys
    hand_written = not admins  # no &admin_ anchor anywhere: a .sops.yaml not from init
    if hand_written or any(targets.own(host) for host in needed):
        held = {r.strip().lower() for r in identities().recipients}
    problems: list[UserError] = []
    for host in sorted(needed):
        rel = targets.file(host)
        rule = config.rule_for(root / rel)
        if rule is None:
            continue
        wanted = {  # age recipients and PGP fingerprints (an admin may be either)
            k.ident.strip().lower() for g in rule.key_groups for k in g if k.kind in ("age", "pgp")
        }
        readers = admins | (held if hand_written or targets.own(host) else set())
        path = root / rel
        if path.is_file():
            sops = operations.load(path.read_bytes(), "yaml", source=rel)
            has = {
                e.fields.get(ident_field(e.kind), "").strip().lower()
                for e in sops.metadata.all_keys()
                if e.kind in ("age", "pgp")
            }
            if has != wanted:
                extra, absent = len(has - wanted), len(wanted - has)
                if not extra:  # only keys the rule added since: nothing is exposed
                    problem = UserError(
                        f"{rel} is not encrypted for {absent} key(s) its .sops.yaml rule "
                        "names (added to the rule since it was written): they could not "
                        "read it",
                        hint=f"give them the file: secretkit updatekeys {rel}, then migrate again",
                    )
                else:
                    problem = UserError(
                        f"{rel} is encrypted for other keys than its .sops.yaml rule names "
                        f"({extra} more, {absent} missing); new secrets written into it "
                        "would be readable by keys the rule does not name",
                        hint=f"re-encrypt it for exactly the rule's keys with a fresh data "
                        f"key: secretkit updatekeys {rel} && secretkit rotate data-keys {rel} "
                        "(treat the values already in it as exposed), then migrate again",
                    )
                problems.append(problem)
        if not without_admin and not wanted & readers:
            problems.append(
                UserError(
                    f"the .sops.yaml rule for {rel} names no admin key: after migrate no "
                    "admin could read these secrets back (only the host could)",
                    hint="add your admin key to that rule (secretkit init --admin age1… adds "
                    "it to every host rule), or rerun with --yes-without-admin",
                )
            )
    return problems
