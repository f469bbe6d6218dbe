"""The conversion plan: every ``.age`` value, the sops file(s) it goes to, and the
``.sops.yaml`` those files need.

Layouts:

* ``per-host`` (default): a text secret goes under its name (the ``.age`` file name
  without ``.age``) into ``secrets/<host>.yaml`` of every host its ``publicKeys``
  name — the layout ``migrate`` writes;
* ``per-secret``: one sops file per former ``.age`` file, ``secrets/<name>.yaml``,
  with a creation rule naming the admins and exactly those hosts.

Whatever the layout, a value that is not text (a DER key, a keytab) becomes a
sops binary file ``secrets/<name>.bin`` read with sops-nix's ``format = "binary"``,
and a secret no host reads (admins only) gets its own file, as in ``per-secret``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pyrage

from secretkit.agenix.keymap import KeyMap
from secretkit.agenix.nixrewrite import Target
from secretkit.errors import IntegrityError, UserError
from secretkit.layouts.agenix_rules import Rule
from secretkit.layouts.sops_nix import SECRETS_DIR, host_secrets_path
from secretkit.lazy_re import lazy
from secretkit.sensitive import Sensitive

LAYOUTS = ("per-host", "per-secret")
_CONTROL = lazy(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Move:
    """One ``.age`` file: its value and the sops files (and keys) it goes to."""

    age_file: str  # repo-relative
    name: str  # key in a yaml file; the .age file name without .age
    hosts: tuple[str, ...]
    binary: bool
    value: Sensitive[bytes] = field(repr=False, compare=False)
    files: tuple[str, ...]  # sops files (repo-relative)

    @property
    def text(self) -> str:
        return self.value.reveal().decode("utf-8")


@dataclass
class SopsFilePlan:
    """One sops file to write: its format, values, and who must be able to open it."""

    path: str
    fmt: str  # "yaml" | "binary"
    hosts: tuple[str, ...]
    values: dict[tuple[str, ...], Sensitive[str]] = field(default_factory=dict)
    data: Sensitive[bytes] | None = None  # binary files
    rule: str | None = None  # path_regex to add for a non-host file


def is_text(data: bytes) -> bool:
    """Whether a value can live in a YAML sops file as a string, byte for byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not _CONTROL.search(text) and "\r" not in text


def decrypt_age(path: Path, rel: str, identities: Sequence[object]) -> Sensitive[bytes]:
    """The plaintext of an ``.age`` file (armored or binary); exit 4 when nothing opens it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {rel}: {exc.strerror}") from None
    if not identities:
        raise UserError(
            f"no identity to decrypt {rel} with",
            hint="set SOPS_AGE_KEY_FILE to your age key or SOPS_AGE_SSH_PRIVATE_KEY_FILE "
            "to your ssh key (one that secrets.nix lists)",
        )
    try:
        return Sensitive(pyrage.decrypt(data, list(identities)))
    except pyrage.DecryptError as exc:
        reason = str(exc)
        if "No matching keys" in reason:
            raise IntegrityError(
                f"none of your identities opens {rel}",
                hint="set SOPS_AGE_KEY_FILE / SOPS_AGE_SSH_PRIVATE_KEY_FILE to a key its "
                "publicKeys list, or re-encrypt it with agenix -r",
            ) from None
        raise IntegrityError(
            f"{rel} is not a readable age file", hint="restore it from git"
        ) from None


def _file_name(name: str, ext: str, taken: set[str]) -> str:
    path = f"{SECRETS_DIR}/{name}.{ext}"
    if path in taken:
        path = f"{SECRETS_DIR}/{name}-secret.{ext}"
    return path


def rule_regex(path: str) -> str:
    return "^" + re.escape(path) + "$"


@dataclass
class Layout:
    moves: list[Move] = field(default_factory=list)
    files: dict[str, SopsFilePlan] = field(default_factory=dict)

    def by_age_file(self, age_path: str, exact: bool) -> Move | str:
        if exact:
            found = [m for m in self.moves if m.age_file == age_path]
        else:
            found = [
                m
                for m in self.moves
                if m.age_file == age_path or m.age_file.endswith("/" + age_path)
            ]
        if len(found) == 1:
            return found[0]
        if not found:
            return f"{age_path or 'its file'} is not an .age file listed in secrets.nix"
        return f"{age_path} could be any of {', '.join(m.age_file for m in found)}"


def layout(
    rules: Sequence[Rule],
    rules_dir: str,
    keymap: KeyMap,
    values: Mapping[str, Sensitive[bytes]],
    mode: str,
    host_names: Sequence[str],
) -> Layout:
    """Assign every decrypted value to its sops file(s)."""
    out = Layout()
    taken = {host_secrets_path(h) for h in host_names} | {
        host_secrets_path(h) for h in keymap.new_hosts
    }
    for rule in rules:
        age_file = os.path.normpath(os.path.join(rules_dir, rule.file))
        if age_file not in values:
            continue
        value = values[age_file]
        name = PurePosixPath(rule.file).as_posix().removesuffix(".age")
        hosts = tuple(keymap.hosts_of(rule))
        binary = not is_text(value.reveal())
        if binary or mode == "per-secret" or not hosts:
            path = _file_name(name, "bin" if binary else "yaml", taken)
            taken.add(path)
            plan = out.files.setdefault(
                path,
                SopsFilePlan(path, "binary" if binary else "yaml", hosts, rule=rule_regex(path)),
            )
            if binary:
                plan.data = value
            else:
                plan.values[tuple(name.split("/"))] = Sensitive(value.reveal().decode())
            files: tuple[str, ...] = (path,)
        else:
            files = tuple(host_secrets_path(h) for h in hosts)
            for host, path in zip(hosts, files, strict=True):
                plan = out.files.setdefault(path, SopsFilePlan(path, "yaml", (host,)))
                plan.values[tuple(name.split("/"))] = Sensitive(value.reveal().decode())
        out.moves.append(Move(age_file, name, hosts, binary, value, files))
    return out


def target_for(
    plan: Layout, hosts_using: Sequence[str], age_path: str, exact: bool, module: str
) -> Target | str:
    """Where the Nix code of ``module`` finds the value of ``age_path``."""
    from secretkit.plan.build import sops_file_expr

    move = plan.by_age_file(age_path, exact)
    if isinstance(move, str):
        return move
    base = PurePosixPath(module).parent.as_posix() or "."
    if len(move.files) == 1 and not move.files[0].endswith(tuple(f"/{h}.yaml" for h in move.hosts)):
        rel = os.path.relpath(move.files[0], base)
        expr = rel if rel.startswith("../") else "./" + rel
        return Target(expr, None if move.binary else move.name, move.binary)
    users = [h for h in hosts_using if h in move.hosts] or (
        list(move.hosts) if len(move.hosts) == 1 else []
    )
    if not users:
        return f"no host that imports {module} may read {move.age_file} (secrets.nix)"
    shared = sops_file_expr(module, users)
    assert shared is not None  # without targets, always secrets/<host>.yaml
    return Target(shared, move.name, False, needs_config=len(users) > 1)
