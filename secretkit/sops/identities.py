"""The private keys this process may use to open sops files, found exactly as sops finds them.

Sources, all combined (sops ``age/keysource.go`` ``loadIdentities``):

1. ``SOPS_AGE_SSH_PRIVATE_KEY_FILE`` — an OpenSSH private key (ssh-ed25519 / ssh-rsa);
   else ``~/.ssh/id_ed25519`` (else ``~/.ssh/id_rsa``) when it exists and is not
   passphrase-protected.  These open only ``ssh-*`` recipient stanzas.
2. ``SOPS_AGE_KEY`` — age identities separated by newlines or spaces.
3. ``SOPS_AGE_KEY_FILE`` — a key file.
4. ``$XDG_CONFIG_HOME/sops/age/keys.txt`` (default ``~/.config/sops/age/keys.txt``).

plus the gpg keyring when ``gpg`` is installed.  Not supported: ``SOPS_AGE_KEY_CMD``,
``SOPS_AGE_SSH_PRIVATE_KEY_CMD``, plugin/post-quantum identities and
passphrase-encrypted key files (each is a clear error or ignored, never a crash).
A key file line that is not an identity is an error naming the file and the line
number, never the line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyrage
from pyrage import ssh, x25519

from secretkit.errors import UserError
from secretkit.sops.gpg import gpg_available

_ENCRYPTED_KEYFILE = ("age-encryption.org/", "-----BEGIN AGE ENCRYPTED FILE-----")


@dataclass(repr=False)
class Identities:
    """Secret identities (opaque pyrage objects) and the public recipients they answer to."""

    age: list[object] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    ssh_key_file: str | None = None  # the ssh private key among them (its path)
    gpg: bool = False

    def __repr__(self) -> str:
        return f"Identities(recipients={self.recipients!r}, gpg={self.gpg})"

    def add_age_secret(self, secret: str, where: str) -> None:
        """Add one ``AGE-SECRET-KEY-1…`` identity; ``where`` names it in errors."""
        identity = _parse_age_identity(secret, where)
        self.age.append(identity)
        self.recipients.append(str(identity.to_public()))


def _parse_age_identity(secret: str, where: str) -> x25519.Identity:
    upper = secret.upper()
    if upper.startswith(("AGE-PLUGIN-", "AGE-SECRET-KEY-PQ-")):
        raise UserError(
            f"{where}: plugin and post-quantum age identities are not supported",
            hint="use an X25519 identity (age-keygen / secretkit keygen)",
        )
    try:
        return x25519.Identity.from_str(secret)
    except (pyrage.IdentityError, ValueError):
        raise UserError(
            f"{where}: not an age identity",
            hint="each line must be AGE-SECRET-KEY-1… or a # comment",
        ) from None


def _parse_key_text(text: str, name: str, into: Identities, *, split_spaces: bool) -> None:
    if text.lstrip().startswith(_ENCRYPTED_KEYFILE):
        raise UserError(
            f"{name} is a passphrase-encrypted age identity file, which is not supported",
            hint="decrypt it with `age -d` into a private file and point SOPS_AGE_KEY_FILE at it",
        )
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        tokens = line.split() if split_spaces else [line]
        for token in tokens:
            into.add_age_secret(token, f"{name} line {number}")


def _read_key_file(path: Path, label: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(
            f"{label} {path} does not exist", hint="point it at your age key file"
        ) from None
    except UnicodeDecodeError:
        raise UserError(f"{label} {path} is not a text key file") from None
    except OSError as exc:
        raise UserError(f"cannot read {label} {path}: {exc.strerror}") from None


def _ssh_public(pem: bytes) -> str | None:
    """``ssh-ed25519 AAAA…`` for an unencrypted OpenSSH private key, else None."""
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_ssh_private_key(pem, password=None)
        public = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
    except (ValueError, TypeError, NotImplementedError):
        return None
    return " ".join(public.decode("ascii").split()[:2])


def _add_ssh(into: Identities, path: Path, *, explicit: bool) -> None:
    try:
        pem = path.read_bytes()
    except OSError as exc:
        if explicit:
            raise UserError(
                f"cannot read SOPS_AGE_SSH_PRIVATE_KEY_FILE {path}: {exc.strerror}"
            ) from None
        return
    public = _ssh_public(pem)
    try:
        identity = ssh.Identity.from_buffer(pem)
    except (pyrage.IdentityError, ValueError):
        identity = None
    if identity is None or public is None:
        if explicit:
            raise UserError(
                f"SOPS_AGE_SSH_PRIVATE_KEY_FILE {path} is not an unencrypted OpenSSH "
                "ed25519/rsa private key",
                hint="passphrase-protected ssh keys are not supported; convert an ed25519 "
                "one into an age key file (secretkit keygen --from-ssh KEY --output FILE) "
                "and set SOPS_AGE_KEY_FILE to it",
            )
        return
    into.age.append(identity)
    into.recipients.append(public)
    into.sources.append(str(path))
    into.ssh_key_file = str(path)


def load_identities(env: Mapping[str, str] | None = None) -> Identities:
    """Every identity sops would use in this environment."""
    env = os.environ if env is None else env
    found = Identities()
    home = Path(env.get("HOME") or os.path.expanduser("~"))

    ssh_file = env.get("SOPS_AGE_SSH_PRIVATE_KEY_FILE")
    if ssh_file:
        _add_ssh(found, Path(ssh_file), explicit=True)
    else:
        for name in ("id_ed25519", "id_rsa"):  # sops: the first of these that exists
            default_ssh = home / ".ssh" / name
            if default_ssh.is_file():
                _add_ssh(found, default_ssh, explicit=False)
                break

    inline = env.get("SOPS_AGE_KEY")
    if inline:
        _parse_key_text(inline, "SOPS_AGE_KEY", found, split_spaces=True)
        found.sources.append("SOPS_AGE_KEY")

    key_file = env.get("SOPS_AGE_KEY_FILE")
    if key_file:
        path = Path(key_file)
        _parse_key_text(
            _read_key_file(path, "SOPS_AGE_KEY_FILE"), str(path), found, split_spaces=False
        )
        found.sources.append(str(path))

    config_home = env.get("XDG_CONFIG_HOME") or str(home / ".config")
    default_keys = Path(config_home) / "sops" / "age" / "keys.txt"
    if default_keys.is_file():
        _parse_key_text(
            _read_key_file(default_keys, "age key file"),
            str(default_keys),
            found,
            split_spaces=False,
        )
        found.sources.append(str(default_keys))

    found.gpg = gpg_available()
    return found


def how_to_open(keys: Iterable[tuple[str, str]]) -> str:
    """How to give secretkit an identity that opens a file whose master keys are
    ``keys`` (kind, recipient): the advice follows their kinds — age key files for age
    recipients, an ssh key for ssh ones, the gpg keyring for PGP fingerprints.  The one
    place for this hint (decrypt, re-keying, ``check``)."""
    listed = list(dict.fromkeys(keys))
    age = [i for k, i in listed if k == "age" and not i.startswith("ssh-")]
    ssh_keys = [i for k, i in listed if k == "age" and i.startswith("ssh-")]
    pgp = [i for k, i in listed if k == "pgp"]
    other = sorted({k for k, _ in listed if k not in ("age", "pgp")})
    ways: list[str] = []
    if age:
        ways.append(
            "set SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY) to the private key of one of its age "
            "recipients"  # one wording whatever their number: check groups files by it
        )
    if ssh_keys:
        ways.append("set SOPS_AGE_SSH_PRIVATE_KEY_FILE to the ssh private key of its ssh recipient")
    if pgp:
        shown = pgp[0] + (f" (or {', '.join(pgp[1:3])})" if len(pgp) > 1 else "")
        install = "" if gpg_available() else "install gnupg and "
        ways.append(
            f"{install}import the secret key of its PGP fingerprint {shown} into your gpg "
            "keyring (gpg --import; GNUPGHOME selects the keyring)"
        )
    if other and not ways:
        ways.append(f"open it with the sops binary: its {', '.join(other)} keys need sops")
    return ", or ".join(ways) or "the file names no key that could open it"
