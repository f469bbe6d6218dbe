"""What an agenix repository holds: its ``.nix`` files and rules file, agenix-rekey's
marks, and the identities that open its ``.age`` files (the user's sops identities plus
the ssh-to-age form of their ssh keys)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from secretkit.errors import UserError
from secretkit.layouts.agenix_rules import RULES_FILE, builds_rules, is_rules_file
from secretkit.sops.identities import Identities

SECRETS_DIR = "secrets"
_SKIP_DIRS = {".git", "node_modules", ".direnv", "result"}
_REKEY_MARKERS = (b"age.rekey", b"agenix-rekey", b"rekeyFile")


def nix_files_of(root: Path) -> tuple[list[str], list[str]]:
    """Every ``.nix`` file, and the directories of agenix-rekey's rekeyed ``.age`` outputs."""
    found: list[str] = []
    rekeyed: list[str] = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("result"))
        rel_dir = Path(directory).relative_to(root).as_posix()
        in_rekeyed = any(part.endswith("rekeyed") for part in rel_dir.split("/"))
        if in_rekeyed and any(f.endswith(".age") for f in files):
            rekeyed.append(rel_dir)
        for name in sorted(files):
            if name.endswith(".nix"):
                found.append(Path(directory, name).relative_to(root).as_posix())
    return found, rekeyed


def find_rules_file(nix_files: list[str], read: Callable[[str], bytes] | None = None) -> str | None:
    """The agenix rules file (``secrets.nix``), None when there is none.  With ``read``,
    a ``secrets.nix`` that lists no ``"x.age".publicKeys`` is an ordinary module
    (agenix-rekey repositories name theirs so), not a rules file."""
    candidates = [p for p in nix_files if p.rsplit("/", 1)[-1] == RULES_FILE]
    if read is not None:
        candidates = [p for p in candidates if is_rules_file(read(p))]
    if len(candidates) > 1:
        preferred = [p for p in candidates if p in (RULES_FILE, f"{SECRETS_DIR}/{RULES_FILE}")]
        if len(preferred) != 1:
            raise UserError(
                f"several agenix rules files: {', '.join(candidates)}",
                hint="import agenix reads one rules file (secrets.nix or secrets/secrets.nix); "
                "a rules file per directory is not supported yet (nothing was changed)",
            )
        return preferred[0]
    return candidates[0] if candidates else None


def built_rules_refusal(nix_files: list[str], read: Callable[[str], bytes]) -> UserError | None:
    """The refusal for a repository whose ``secrets.nix`` builds its rules with Nix code
    (:func:`~secretkit.layouts.agenix_rules.builds_rules`): who reads each secret is
    known only by evaluating it, which secretkit never does; None when none does."""
    for path in nix_files:
        if path.rsplit("/", 1)[-1] == RULES_FILE:
            data = read(path)
            if builds_rules(data) and not is_rules_file(data):
                return UserError(
                    f'{path} builds its rules with Nix code (no "<file>.age".publicKeys = '
                    "[ … ]; is written in it): import agenix reads rules written out, and "
                    "never evaluates Nix",
                    hint=f'write its rules out in {path}: one "<file>.age".publicKeys = '
                    "[ … ]; per file (keys may be names a let binds or a file of keys it "
                    "imports), then run again (nothing was changed)",
                )
    return None


def rekey_marker(sources: dict[str, bytes], rekeyed: list[str]) -> str | None:
    """The first file (or rekeyed-outputs directory) that shows agenix-rekey is used."""
    if rekeyed:
        return f"{rekeyed[0]} (rekeyed .age outputs)"
    for rel, data in sorted(sources.items()):
        if any(marker in data for marker in _REKEY_MARKERS):
            return rel
    return None


def refuse_mixed(marker: str, rules_file: str) -> UserError:
    """agenix-rekey next to a ``secrets.nix``: two sources of truth for who reads what."""
    return UserError(
        f"{marker} uses agenix-rekey and {rules_file} is an agenix rules file: "
        "secretkit does not guess which of them says who reads a secret",
        hint=f"finish moving to one of them (agenix-rekey ignores {rules_file}: remove it "
        "if nothing uses it), then run again",
    )


def user_identities() -> Identities:
    """The sops identities, plus the age form of each ssh key among them: an agenix user
    often has only ``~/.ssh/id_ed25519``, and the admin key of ``.sops.yaml`` is then its
    ssh-to-age form (what sops-nix derives from a host key, done here for the user)."""
    from secretkit.errors import SecretkitError
    from secretkit.keys.ssh_to_age import age_public_of_identity, ssh_private_key_to_age
    from secretkit.sops.identities import load_identities

    identities = load_identities()
    for source in list(identities.sources):
        path = Path(source)
        try:
            pem = path.read_bytes() if path.is_file() else b""
        except OSError:
            continue
        try:
            secret = ssh_private_key_to_age(pem)
        except (SecretkitError, ValueError):
            continue  # an age key file, or an rsa / passphrase-protected ssh key
        if age_public_of_identity(secret) not in identities.recipients:
            identities.add_age_secret(secret.reveal(), f"{source} (ssh-to-age)")
    return identities
