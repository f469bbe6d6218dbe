"""``secretkit import agenix``: an agenix/ragenix (or agenix-rekey) repository → sops
files + sops-nix code.

* :func:`prepare` — recover an interrupted run, read who reads what (``secrets.nix``,
  or agenix-rekey's ``rekeyFile`` declarations and ``hostPubkey``), map each public key
  to a host or an admin, decrypt every ``.age`` file with the user's identities, lay
  the values out in sops files, and compute the new ``.sops.yaml`` and the rewritten
  Nix files.  Nothing is written; any problem stops here with one line.
* :func:`apply` — one :class:`~secretkit.atomic.Transaction`: ``.sops.yaml``, every
  sops file (read back with the admin key and compared with the original value,
  recipients checked: admins plus exactly the readers), the Nix files, and only then
  the ``.age`` files and ``secrets.nix`` are removed; afterwards the whole change is
  staged (``git add``, ``git rm --cached``).  A kill at any point is rolled back by
  the next run, which then does the whole job again; once the ``.age`` files are gone
  there is nothing left to import.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secretkit.agenix.keymap import map_keys
from secretkit.agenix.nixrewrite import (
    Declared,
    Target,
    flake_input_edits,
    for_users,
    mentions,
    rewrite_file,
    structural_refusals,
)
from secretkit.agenix.plan import Layout, decrypt_age, layout, target_for
from secretkit.agenix.rekey import read_rekey
from secretkit.agenix.repo import (
    built_rules_refusal,
    find_rules_file,
    nix_files_of,
    refuse_mixed,
    rekey_marker,
    user_identities,
)
from secretkit.atomic import Transaction, recover
from secretkit.commands import Line, Shown, err, out
from secretkit.errors import IntegrityError, UserError
from secretkit.layouts.agenix_rules import read_rules
from secretkit.nix.edits import Edit
from secretkit.plan.host_names import hostname_mismatches
from secretkit.sops.identities import Identities


@dataclass
class Prepared(Shown):
    root: Path
    rules_file: str
    layout: Layout
    sops_yaml: tuple[bytes, bytes] | None  # (old, new) when it changes
    nix: dict[str, tuple[bytes, bytes]]
    removals: list[str]
    declared: list[Declared]
    refs: int
    admins: dict[str, str]
    host_keys: dict[str, str]  # every host that receives a secret → age1…
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def empty(self) -> bool:
        return not self.removals

    @property
    def to_apply(self) -> bool:
        """Whether :func:`apply` has something to do (not empty, not a dry run)."""
        return not self.empty and not self.dry_run

    def lines(self) -> list[Line]:
        if self.empty:
            return [out("nothing to import: no agenix secrets.nix in this repository")]
        shown = [out(diff(self), end="")] if self.dry_run else []
        shown += [out(row) for row in table(self)]
        return shown + [err(note) for note in self.notes]

    @property
    def question(self) -> str:
        return f"Convert {len(self.layout.moves)} agenix secret(s)?"

    def applied(self, written: Sequence[str]) -> list[Line]:
        """The summary after :func:`apply` wrote ``written``."""
        return [
            out(
                f"imported {len(self.layout.moves)} agenix secret(s) from {self.rules_file}: "
                f"{len(self.declared)} declaration(s) and {self.refs} reference(s) now use "
                f"sops-nix; changed {len(written)} file(s)"
            )
        ]


def _refuse(refusals: list[str]) -> None:
    """Stop, naming every place that needs a change by hand (not only the first)."""
    if len(refusals) == 1:
        raise UserError(f"cannot convert {refusals[0]}", hint="change that by hand, then run again")
    if refusals:
        raise UserError(
            f"cannot convert {len(refusals)} places: " + "; ".join(refusals),
            hint="change each by hand, then run again (nothing was changed)",
        )


def prepare(root: Path, *, layout_mode: str = "per-host", dry_run: bool = False) -> Prepared:
    """Everything up to (not including) the first write (``dry_run``: only shown)."""
    from secretkit.keys import sops_yaml, sops_yaml_edits
    from secretkit.layouts.sops_nix import host_anchor
    from secretkit.nix import cst, wiring
    from secretkit.nix.edits import checked_apply
    from secretkit.nix.hosts import discover

    recover(root)
    nix_files, rekeyed = nix_files_of(root)
    rules_rel = find_rules_file(nix_files, lambda rel: (root / rel).read_bytes())
    sources = {rel: (root / rel).read_bytes() for rel in nix_files if rel != rules_rel}
    marker = rekey_marker(sources, rekeyed)
    if rules_rel is not None and marker is not None:
        raise refuse_mixed(marker, rules_rel)
    if rules_rel is None and marker is None:
        built = built_rules_refusal(nix_files, lambda rel: (root / rel).read_bytes())
        if built is not None:
            raise built  # (a secrets.nix that needs evaluating is not "no secrets.nix")
        return Prepared(root, "", Layout(), None, {}, [], [], 0, {}, {})
    rekey = rules_rel is None
    keys = sops_yaml.read_keys(root)
    if not keys.exists or not keys.admins:
        raise UserError(
            "this repository has no .sops.yaml with an admin key yet",
            hint="run: secretkit init --admin <your age1… public key>",
        )
    inventory = discover(root)
    if rules_rel is None:  # agenix-rekey: the host configurations say who reads what
        rules_rel = "agenix-rekey's age.secrets.*.rekeyFile"
        rules, rules_dir = read_rekey(root, sources, inventory)
    else:
        rules_dir = os.path.dirname(rules_rel)
        rules = read_rules(root / rules_rel, rules_rel, root)
    keymap = map_keys(rules, inventory.hosts, keys.admins, keys.hosts, rules_rel)
    _refuse(structural_refusals(sources, rekey=rekey))  # all at once, before any key

    identities = user_identities()
    admin_keys = set(keys.admins.values())
    if not admin_keys & set(identities.recipients):
        mine = [r for r in identities.recipients if r.startswith("age1")]
        raise UserError(
            "none of your identities is an admin key of .sops.yaml, so the converted files "
            "could not be checked",
            hint=(
                f"add yours: secretkit init --admin {mine[0]} --admin-name NAME"
                if len(mine) == 1
                else "set SOPS_AGE_KEY_FILE or SOPS_AGE_SSH_PRIVATE_KEY_FILE to an admin's key"
            ),
        )
    notes: list[str] = []
    listed = {os.path.normpath(os.path.join(rules_dir, rule.file)) for rule in rules}
    # (.age files no rule lists: agenix cannot re-key them, and nothing here reads them)
    left = sorted(
        p.relative_to(root).as_posix() for p in (root / rules_dir).rglob("*.age")
        if ".git" not in p.parts and p.relative_to(root).as_posix() not in listed
    )  # fmt: skip
    if left:
        notes.append(
            f"not imported, left in place: {', '.join(left[:5])}{' …' if len(left) > 5 else ''} "
            f"({rules_rel} lists no such file): delete them if nothing reads them (git rm), "
            "or add them to it and import again"
        )
    values = {}
    for rule in rules:
        age_rel = os.path.normpath(os.path.join(rules_dir, rule.file))
        path = root / age_rel
        if not path.is_file():
            notes.append(f"{age_rel} is listed in {rules_rel} but does not exist: skipped")
            continue
        values[age_rel] = decrypt_age(path, age_rel, identities.age)
    plan = layout(rules, rules_dir, keymap, values, layout_mode, sorted(inventory.hosts))
    _check_existing(root, plan, identities)
    notes += _admins_gained(plan, rules, rules_dir, keymap.owners, sorted(keys.admins))

    # .sops.yaml: new hosts, then the rules of the files that are not a host's file
    config_path = root / sops_yaml.SOPS_YAML
    old_config = config_path.read_bytes()
    data = old_config
    for host, recipient in sorted(keymap.new_hosts.items()):
        edit = sops_yaml_edits.add_host_text(data, host, recipient, config_path)
        data = edit.data if edit.data is not None else data
    for file in plan.files.values():
        if file.rule is not None:
            anchors = [host_anchor(h) for h in file.hosts]
            edit = sops_yaml_edits.add_rule_text(data, file.rule, anchors, config_path)
            data = edit.data if edit.data is not None else data
    host_keys = {**keys.hosts, **keymap.new_hosts}

    # Nix

    def parse(data: bytes) -> Any:
        return cst.parse(data)

    edits: dict[str, list[Edit]] = {}
    declared: list[Declared] = []
    refusals: list[str] = []
    refs = 0

    by_host_name: set[str] = set()  # hosts reading a shared module's file by hostName

    def target_of(age_path: str, exact: bool, module: str, offset: int) -> Target | str:
        using = sorted(inventory.hosts_at(module, offset))
        move = plan.by_age_file(age_path, exact)
        if not isinstance(move, str) and set(using) - set(move.hosts):
            others = ", ".join(sorted(set(using) - set(move.hosts)))
            notes.append(
                f"{module}: {move.age_file} is used by {others} too, which secrets.nix "
                "does not let read it (as with agenix, activation fails there)"
            )
        target = target_for(plan, using, age_path, exact, module)
        if isinstance(target, Target) and "networking.hostName" in target.sops_file:
            by_host_name.update(using)
        return target

    users = for_users(sources)  # (read before users exist: neededForUsers)
    for rel, source in sources.items():
        if b"age" not in source:
            continue
        tree = parse(source)
        result = rewrite_file(rel, tree, target_of, rekey=rekey, users=users)
        refusals += result.refusals
        notes.extend(f"{rel}: {n}" for n in result.notes)
        declared += result.declared
        refs += result.refs
        if result.edits:
            edits.setdefault(rel, []).extend(result.edits)
    _refuse(refusals)
    # as migrate: a host whose networking.hostName is not its name reads another file
    for problem in hostname_mismatches(sources, inventory, by_host_name, "secretkit import agenix"):
        if not dry_run:
            raise problem
        notes.append(f"before applying: {problem.message} ({problem.hint})")
    # 1. agenix → sops-nix (and the agenix input, once nothing else refers to it)
    nix: dict[str, tuple[bytes, bytes]] = {}
    for rel, file_edits in edits.items():
        nix[rel] = (sources[rel], checked_apply(sources[rel], file_edits, where=rel))
    if "flake.nix" in sources:
        input_edits, _ = flake_input_edits(parse(sources["flake.nix"]))
        if input_edits:
            without = nix.get("flake.nix")
            merged = edits.get("flake.nix", []) + input_edits
            nix["flake.nix"] = (
                sources["flake.nix"],
                checked_apply(sources["flake.nix"], merged, where="flake.nix"),
            )
            if sum(mentions(new) for _, new in nix.values()) + sum(
                mentions(data) for rel, data in sources.items() if rel not in nix
            ):
                if without is None:
                    del nix["flake.nix"]
                else:
                    nix["flake.nix"] = without
                notes.append("flake.nix: agenix is still referred to, so its input stays")
    # 2. sops-nix wiring on the converted code (input, module where still missing, key)
    staged = {rel: nix[rel][1] if rel in nix else data for rel, data in sources.items()}
    from secretkit.plan.advice import repo_pin

    def read(rel: str) -> bytes | None:
        found = root / rel
        return sources.get(rel) or (found.read_bytes() if found.is_file() else None)

    release = repo_pin(read).release  # (the sops-nix input is pinned for it)
    wired = wiring.plan_wiring(staged, inventory, parse, read=sources, release=release)
    notes += wired.notes
    for rel, file_edits in wired.edits.items():
        new = checked_apply(staged[rel], file_edits, where=rel)
        nix[rel] = (sources[rel], new)
    removals = sorted(m.age_file for m in plan.moves)
    if rekey:  # the rekeyed outputs go with their sources
        removals += sorted(
            f"{d}/{f.name}" for d in rekeyed for f in (root / d).iterdir() if f.suffix == ".age"
        )
        notes.append(
            "flake.nix: remove agenix-rekey's input and its agenix-rekey.configure output "
            "by hand once nothing uses them"
        )
    else:
        removals.append(rules_rel)
    return Prepared(
        root=root,
        rules_file=rules_rel,
        layout=plan,
        sops_yaml=(old_config, data) if data != old_config else None,
        nix=nix,
        removals=removals,
        declared=declared,
        refs=refs,
        admins=dict(keys.admins),
        host_keys=host_keys,
        notes=notes,
        dry_run=dry_run,
    )


def _admins_gained(
    plan: Layout,
    rules: Sequence[Any],
    rules_dir: str,
    owners: dict[str, tuple[str, str]],
    admins: list[str],
) -> list[str]:
    """What an admin of .sops.yaml gains: an .age file secrets.nix kept from them goes
    into a sops file whose rule names every admin (helper-127: said nowhere)."""
    from secretkit.layouts.sops_nix import ADMIN_PREFIX

    out = []
    for rule in rules:
        age_rel = os.path.normpath(os.path.join(rules_dir, rule.file))
        readers = {
            owners[k.value][1] for k in rule.keys if owners.get(k.value, ("",))[0] == "admin"
        }
        gained = [a for a in admins if a not in readers]
        move = next((m for m in plan.moves if m.age_file == age_rel), None)
        if not gained or move is None:
            continue
        files = ", ".join(move.files)
        drop = " and ".join(f"*{ADMIN_PREFIX}{a}" for a in gained)
        out.append(
            f"{age_rel}: secrets.nix does not let {', '.join(gained)} read it, but the rule of "
            f"{files} names every admin: to keep it so, drop {drop} from that rule in "
            f".sops.yaml after the import, then secretkit updatekeys {files} && secretkit "
            f"rotate data-keys {files}"
        )
    return out


def _check_existing(root: Path, plan: Layout, identities: Identities) -> None:
    """A key the import would write must not already hold another value."""
    from secretkit.sops import operations

    for rel, file in sorted(plan.files.items()):
        path = root / rel
        if not path.exists():
            continue
        if file.fmt != "yaml":
            raise UserError(f"{rel} already exists", hint="move it away, then run again")
        plain = operations.decrypt_bytes(path.read_bytes(), "yaml", identities, source=rel)
        present = {tuple(str(k) for k in path): v for path, v in plain.leaves()}
        for keys, value in file.values.items():
            current = present.get(keys)
            if current is not None and current != value.reveal():
                raise UserError(
                    f"{rel} already has a different value under {'/'.join(keys)}",
                    hint="rename the .age file or that key, then run again",
                )


def _verify(prepared: Prepared, rel: str, data: bytes, identities: Identities) -> None:
    from secretkit.sops import document, operations

    file = prepared.layout.files[rel]
    sops = operations.load(data, file.fmt, source=rel)
    wanted = set(prepared.admins.values()) | {prepared.host_keys[h] for h in file.hosts}
    got = {r for group in operations.recipients_of(sops) for r in group}
    if not wanted <= got:
        raise IntegrityError(f"{rel} was not encrypted for every reader", hint="nothing changed")
    plain = operations.open_file(
        sops, operations.data_key_of(sops, identities, source=rel), source=rel
    )
    if file.fmt == "binary":
        ok = file.data is not None and document.dump_plain(plain) == file.data.reveal()
    else:
        ok = all(plain.get(list(k)) == v.reveal() for k, v in file.values.items())
    if not ok:
        raise IntegrityError(f"{rel}: a value did not read back", hint="nothing was changed")


def apply(prepared: Prepared) -> list[str]:
    """Write the plan; return the paths written or removed."""
    from secretkit.git import repo_root, run_git
    from secretkit.sops import document, operations
    from secretkit.sops.config import parse_config

    root = prepared.root
    done: list[str] = []
    if prepared.empty:
        return done
    identities = user_identities()
    with Transaction(root) as txn:
        config_path = root / ".sops.yaml"
        if prepared.sops_yaml is not None:
            old, new = prepared.sops_yaml
            if config_path.read_bytes() != old:
                raise UserError(".sops.yaml changed while import was running", hint="run again")
            txn.write(config_path, new)
            done.append(".sops.yaml")
        config = parse_config(config_path.read_bytes(), config_path)
        for rel, file in sorted(prepared.layout.files.items()):
            path = root / rel
            rule = config.rule_for(path)
            existing = path.read_bytes() if path.exists() else None
            if file.fmt == "binary":
                if rule is None or file.data is None:
                    raise UserError(f"no .sops.yaml creation rule for {rel}")
                plain = document.load_plain(file.data.reveal(), "binary")
                data = operations.encrypt_new(plain, rule, source=rel)
            else:
                data = operations.set_values(
                    existing,
                    "yaml",
                    {k: v.reveal() for k, v in file.values.items()},
                    rule=rule,
                    identities=identities,
                    source=rel,
                )
            txn.write(path, data, None if existing is not None else 0o644)
            _verify(prepared, rel, path.read_bytes(), identities)
            done.append(rel)
        for rel, (old_nix, new_nix) in sorted(prepared.nix.items()):
            path = root / rel
            if path.read_bytes() != old_nix:
                raise UserError(f"{rel} changed while import was running", hint="run it again")
            txn.write(path, new_nix)
            done.append(rel)
        for rel in prepared.removals:
            txn.remove(root / rel)
            done.append(rel)
    if repo_root(root) is not None:
        # the index gets the whole conversion, never the removals alone: a plain
        # `git commit` then records a repository that still builds
        removed = set(prepared.removals)
        run_git(root, "add", "--", *(rel for rel in done if rel not in removed))
        run_git(root, "rm", "--cached", "--quiet", "--ignore-unmatch", "--", *prepared.removals)
    return done


def table(prepared: Prepared) -> list[str]:
    """One line per secret: where it goes and who reads it (names only, never values)."""
    rows = [("secret", "readers", "sops file(s)")]
    for move in prepared.layout.moves:
        readers = ", ".join(move.hosts) or "admins only"
        kind = " (binary)" if move.binary else ""
        rows.append((move.age_file + kind, readers, ", ".join(move.files)))
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    return [f"{r[0].ljust(widths[0])}  {r[1].ljust(widths[1])}  {r[2]}" for r in rows]


def diff(prepared: Prepared) -> str:
    """The unified diff of ``.sops.yaml`` and the Nix files, decrypted values redacted,
    and the files that would be removed."""
    import difflib

    from secretkit.plan.redaction import redact

    values = [m.value.reveal().decode("utf-8", "replace") for m in prepared.layout.moves]
    changes = dict(prepared.nix)
    if prepared.sops_yaml is not None:
        changes[".sops.yaml"] = prepared.sops_yaml
    lines: list[str] = []
    for rel, (old, new) in sorted(changes.items()):
        lines.extend(
            difflib.unified_diff(
                old.decode("utf-8", "replace").splitlines(keepends=True),
                new.decode("utf-8", "replace").splitlines(keepends=True),
                fromfile=f"a/{rel}",
                tofile=f"b/{rel}",
            )
        )
    lines += [f"remove {rel}\n" for rel in prepared.removals]
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return redact(text, [v for v in values if v.strip()])
