"""``secretkit keygen [--output F] [--from-ssh KEY]``: a new age identity, like
``age-keygen``; with ``--from-ssh``, the age identity of an ssh-ed25519 private key
instead, as ``ssh-to-age -private-key`` derives it (and sops-nix, from a host's
``sshKeyPaths``): what opens a host's sops file where only its ssh key is at hand.

The identity text is ``# created: <RFC 3339>\\n# public key: age1…\\nAGE-SECRET-KEY-1…\\n``.
With ``--output`` it is written to a new regular file with mode 0600 (an existing
file, link or device is never overwritten, a missing directory never created).
Without ``--output`` it goes to stdout — the CLI refuses when stdout is a terminal,
so the key does not end up in scrollback; redirect it or use ``--output``.
The public key is reported on stderr.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from secretkit.commands import Line, Shown, err
from secretkit.sensitive import Sensitive


@dataclass(frozen=True)
class KeygenResult(Shown):
    public: str
    text: Sensitive[str]  # the whole identity file
    written: Path | None

    def data(self) -> bytes | None:
        return self.text.reveal().encode("ascii") if self.written is None else None

    def lines(self) -> list[Line]:
        return [err(f"Public key: {self.public}")]


def generate(now: datetime | None = None) -> tuple[str, Sensitive[str]]:
    from pyrage import x25519

    identity = x25519.Identity.generate()
    public = str(identity.to_public())
    created = (now or datetime.now().astimezone()).replace(microsecond=0).isoformat()
    text = f"# created: {created}\n# public key: {public}\n{identity}\n"
    return public, Sensitive(text)


def from_ssh(key_file: Path) -> tuple[str, Sensitive[str]]:
    """The age identity file text of the ssh-ed25519 private key in ``key_file``."""
    from secretkit.errors import UserError
    from secretkit.keys.ssh_to_age import SSHKeyError, age_public_of_identity
    from secretkit.keys.ssh_to_age import ssh_private_key_to_age as convert

    try:
        pem = key_file.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {key_file}: {exc.strerror or 'error'}") from None
    try:
        identity = convert(pem)
    except SSHKeyError as exc:
        if "encrypted" in exc.message and "not encrypted" not in exc.message:
            raise UserError(
                f"{key_file} is protected by a passphrase",
                hint="convert a copy without it: cp KEY COPY && ssh-keygen -p -N '' -f COPY, "
                "then --from-ssh COPY (and delete the copy)",
            ) from None
        raise UserError(f"{key_file}: {exc.message}", hint=exc.hint) from None
    public = age_public_of_identity(identity)
    text = f"# public key: {public}\n# from ssh key: {key_file.name}\n{identity.reveal()}\n"
    return public, Sensitive(text)


def keygen(
    cwd: Path,
    output: Path | str | None = None,
    *,
    ssh_key: Path | str | None = None,
    stdout_is_terminal: bool = False,
) -> KeygenResult:
    """A new identity (or that of the ssh key ``ssh_key``), written to ``output`` or
    returned for stdout (refused when stdout is a terminal)."""
    from secretkit.errors import UserError

    if output is None and stdout_is_terminal:
        raise UserError(
            "refusing to print a private key to the terminal",
            hint="use --output FILE, or redirect stdout to a file",
        )
    public, text = generate() if ssh_key is None else from_ssh(cwd / Path(ssh_key))
    if output is None:
        return KeygenResult(public=public, text=text, written=None)
    from secretkit.user_output import write_private_path

    data = text.reveal().encode("ascii")
    target = write_private_path(cwd, output, data, what="an identity file", new_only=True)
    return KeygenResult(public=public, text=text, written=target)
