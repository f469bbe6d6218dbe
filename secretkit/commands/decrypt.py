"""``secretkit decrypt FILE [--extract '["a"]["b"]'] [--output F]``.

The MAC is always verified.  Plaintext goes to stdout, or — only because the user
asked with ``--output`` — to a file created with mode 0600.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.commands import Shown
from secretkit.errors import IntegrityError
from secretkit.sensitive import Sensitive
from secretkit.sops.engine import Engine, PythonEngine
from secretkit.user_output import write_private_path

if TYPE_CHECKING:
    from secretkit.sops.identities import Identities


@dataclass(frozen=True)
class DecryptResult(Shown):
    output: Sensitive[bytes] | None  # plaintext for stdout (None when written to disk)
    written: Path | None

    def data(self) -> bytes | None:
        return self.output.reveal() if self.output is not None else None


def _explain_ssh(
    exc: IntegrityError, path: Path, identities: Callable[[], Identities]
) -> IntegrityError:
    """A better hint when an ssh key was given for a file made for its ssh-to-age key.

    sops (and so secretkit) opens only ``ssh-ed25519`` stanzas with an ssh key, but
    host files are encrypted for the ``age1…`` recipient derived from the host key
    (what sops-nix uses): the user holding the right key deserves to be told so."""
    from secretkit.errors import SecretkitError
    from secretkit.keys.ssh_to_age import ssh_pubkey_to_age
    from secretkit.sops import document, operations

    if not exc.message.startswith("no identity decrypts"):
        return exc
    try:
        data = operations.read_input(path)
        sops = document.load_encrypted(data, document.format_for_path(path))
        wanted = {r for group in operations.recipients_of(sops) for r in group}
        derived = {
            ssh_pubkey_to_age(r) for r in identities().recipients if r.startswith("ssh-ed25519 ")
        }
    except SecretkitError:
        return exc
    key = identities().ssh_key_file
    if not derived & wanted or key is None:
        return exc
    import shlex

    converted = Path.home() / (Path(key).name + ".age")
    return IntegrityError(
        exc.message,
        "the file is encrypted for the age key derived from your ssh key (as sops-nix "
        "uses it), which sops opens only as an age identity: convert the private key "
        f"(secretkit keygen --from-ssh {shlex.quote(key)} --output "
        f"{shlex.quote(str(converted))}) and set SOPS_AGE_KEY_FILE to that file",
    )


def decrypt(
    cwd: Path,
    file: Path | str,
    *,
    extract: str | None = None,
    output: Path | None = None,
    engine: Engine | None = None,
) -> DecryptResult:
    from secretkit.sops import operations

    engine = engine or PythonEngine(cwd)
    path = operations.resolve(cwd, file)
    try:
        plaintext = engine.decrypt(path, extract)
    except IntegrityError as exc:
        raise _explain_ssh(exc, path, engine.identities) from None
    if output is None:
        return DecryptResult(output=Sensitive(plaintext), written=None)
    target = write_private_path(cwd, output, plaintext, what="the plaintext")
    return DecryptResult(output=None, written=target)
