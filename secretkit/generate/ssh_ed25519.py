"""``ssh-ed25519``: an OpenSSH ed25519 key pair, like ``ssh-keygen -t ed25519 -N ''``:
the private key (OpenSSH PEM) is stored, the ``ssh-ed25519 AAAA…`` line is public."""

from __future__ import annotations

from secretkit.generate.model import Generated, Options, no_size
from secretkit.keys.ssh_keygen import ed25519_key_pair


class SshEd25519:
    name = "ssh-ed25519"
    summary = "OpenSSH ed25519 private key (stored) and public key line (printed)"
    has_public = True

    def generate(self, options: Options) -> Generated:
        no_size(options, self.name)
        private, public = ed25519_key_pair(options.comment)
        return Generated(private, public=public)


KIND = SshEd25519()
