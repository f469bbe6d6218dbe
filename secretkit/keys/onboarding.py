"""What ``hosts add`` writes, computed in memory: the ``.sops.yaml`` edit (host
anchor and rule; with a generated host key also the admins-only rule for
``secrets/host-keys/``), the admin-encrypted host key file, and every existing
file the host's new rule matches re-wrapped for it (``secrets/<host>.yaml`` made
earlier for the admins: the host opens it right after ``hosts add``).  The caller
writes :attr:`AddPlan.writes` in one :class:`~secretkit.atomic.Transaction`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from secretkit.errors import UserError
from secretkit.keys import sops_yaml, sops_yaml_edits
from secretkit.keys.host_keys import HostKey
from secretkit.keys.sops_yaml_edits import Change
from secretkit.layouts.sops_nix import host_secrets_path
from secretkit.sops.identities import Identities


@dataclass(frozen=True)
class AddPlan:
    change: Change
    writes: tuple[tuple[Path, bytes], ...]
    rekeyed: tuple[str, ...]  # repository-relative files re-wrapped for the host
    host_key_file: str | None = None


def plan_add(
    root: Path,
    name: str,
    recipient: str,
    identities: Callable[[], Identities],
    host_key: HostKey | None = None,
) -> AddPlan:
    from secretkit.keys import host_keys
    from secretkit.keys.rotation import plan_updatekeys, rekey, require_all_opened, sops_file_infos
    from secretkit.sops import operations
    from secretkit.sops.config import parse_config

    sops_yaml.validate_name(name)
    path = root / sops_yaml.SOPS_YAML
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(
            f"no {sops_yaml.SOPS_YAML} in {root}", hint="run `secretkit init --admin age1…` first"
        ) from None
    _refuse_a_second_key(root, name, recipient)
    edit = sops_yaml_edits.add_host_text(data, name, recipient, path)
    text = edit.data if edit.data is not None else data
    writes: list[tuple[Path, bytes]] = []
    key_rel: str | None = None
    if host_key is not None:
        key_rel = host_keys.host_key_file(name)
        if (root / key_rel).exists():
            raise UserError(
                f"{key_rel} already exists: host {name} has a generated key",
                hint=f"re-create its files with `secretkit hosts bootstrap {name} "
                "--extra-files DIR`",
            )
        admins = list(sops_yaml.read_keys(root).admins)
        text = host_keys.admin_rule_text(text, admins, path) or text
    config = parse_config(text, path)
    if host_key is not None and key_rel is not None:
        rule = config.rule_for(root / key_rel)
        admin_keys = set(sops_yaml.read_keys(root).admins.values())
        wanted = {r for group in (rule.recipients() if rule else []) for r in group}
        if rule is None or not wanted or not wanted <= admin_keys:
            raise UserError(
                f"the creation rule for {key_rel} is not admins-only; nothing was changed",
                hint=f"make {host_keys.HOST_KEYS_REGEX} the first rule, with admin keys only",
            )
        blob = operations.set_values(
            None, "yaml", host_keys.key_values(host_key), rule=rule,
            identities=Identities(), source=key_rel,
        )  # fmt: skip
        writes.append((root / key_rel, blob))
    host_rule = config.rule_for(root / host_secrets_path(name))
    files = sops_file_infos(root, relevant=lambda p, _d: config.rule_for(p) is host_rule)
    ops = [op for op in plan_updatekeys(config, files) if op.action == "updatekeys"]
    rekeyed: list[str] = []
    if ops:
        ids = identities()
        result = rekey(ops, ids)
        require_all_opened(result, ids)
        for op, blob in result.outputs:
            writes.append((op.file.path, blob))
            rekeyed.append(op.file.rel)
    if text != data:
        writes.insert(0, (path, text))
    return AddPlan(edit.change, tuple(writes), tuple(rekeyed), key_rel)


def _refuse_a_second_key(root: Path, name: str, recipient: str) -> None:
    """``.sops.yaml`` names ``name``'s key already under an anchor of its own spelling
    (``&daedalus``, as ``hosts list`` reads it) and has no rule for its sops file, or
    secretkit's own (``^secrets/<name>\\.yaml$``): a ``&host_<name>`` anchor would make a
    second key, which hosts list then shows while every rule keeps the old one.  (With a
    rule of the user's own spelling for that file, the edit says which keys to add.)"""
    from secretkit.layouts.sops_nix import host_key, host_rule_regex

    keys = sops_yaml.read_keys(root)
    rule = keys.rule_for(host_secrets_path(name))
    if name in keys.hosts or (rule is not None and rule.path_regex != host_rule_regex(name)):
        return  # (&host_<name>, a rule of the user's: the edit answers with its own message)
    key = host_key(keys.hosts, keys.keys, name)
    if key is None or key == recipient:
        return
    anchor = next((a for a, k in keys.keys.items() if k == key), name)
    raise UserError(
        f"{sops_yaml.SOPS_YAML} already has a key for {name}: &{anchor} ({key[:16]}…, as "
        "secretkit hosts list shows it); nothing was changed",
        hint=f"to give {name} another key: secretkit rotate host {name} --ssh-pubkey-file "
        "<its new key.pub> (or --age age1…)",
    )
