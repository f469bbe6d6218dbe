"""``secretkit keygen [--output F]``: a new age identity, like ``age-keygen``.

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


def keygen(
    cwd: Path, output: Path | str | None = None, *, stdout_is_terminal: bool = False
) -> KeygenResult:
    """A new identity, written to ``output`` or returned for stdout (refused when
    stdout is a terminal)."""
    from secretkit.errors import UserError

    if output is None and stdout_is_terminal:
        raise UserError(
            "refusing to print a private key to the terminal",
            hint="use --output FILE, or redirect stdout to a file",
        )
    public, text = generate()
    if output is None:
        return KeygenResult(public=public, text=text, written=None)
    from secretkit.user_output import write_private_path

    data = text.reveal().encode("ascii")
    target = write_private_path(cwd, output, data, what="an identity file", new_only=True)
    return KeygenResult(public=public, text=text, written=target)
