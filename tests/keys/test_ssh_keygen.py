"""keys/ssh_keygen.py: a fresh OpenSSH ed25519 pair that ssh-keygen itself agrees with."""

from __future__ import annotations

import subprocess
from pathlib import Path

from secretkit.keys.ssh_keygen import ed25519_key_pair
from tests.conftest import need_tool


def test_the_public_line_is_what_ssh_keygen_derives(tmp_path: Path) -> None:
    keygen = need_tool("ssh-keygen")
    private, public = ed25519_key_pair("root@web")
    key = tmp_path / "ssh_host_ed25519_key"
    key.write_text(private.reveal())
    key.chmod(0o600)
    proc = subprocess.run([keygen, "-y", "-f", str(key)], capture_output=True, check=True)
    assert public.split()[:2] == proc.stdout.decode().split()[:2]
    assert public.startswith("ssh-ed25519 ") and public.endswith(" root@web")
    assert "PRIVATE" not in repr(private)


def test_no_comment_means_two_fields_and_every_pair_is_new() -> None:
    first, public = ed25519_key_pair()
    second, other = ed25519_key_pair()
    assert len(public.split()) == 2
    assert public != other and first.reveal() != second.reveal()
