"""A compose file or an .env is read as it is: the way out is never to encrypt it in
place (helper-123: `secretkit encrypt -i docker-compose.yml` left `image: ENC[…]`)."""

from __future__ import annotations

import pytest

from secretkit.plan.plain_files import read_as_is
from secretkit.plan.refusals import other_file_note


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("compose/immich/docker-compose.yml", "docker compose reads it as it is"),
        ("docker-compose.yaml", "docker compose reads it as it is"),
        ("stacks/media/compose.yml", "docker compose reads it as it is"),
        ("stacks/media/app.compose.yaml", "docker compose reads it as it is"),
        ("compose/immich/.env", "what loads an .env file"),
        ("app/.env.production", "what loads an .env file"),
        ("secrets/app.yaml", None),
        ("config/settings.json", None),
    ],
)
def test_a_file_read_as_it_is_is_never_encrypted_in_place(path: str, says: str | None) -> None:
    text = read_as_is(path)
    note = other_file_note(path, {})
    if says is None:
        assert text is None
        assert "encrypt the file where it is, if what reads it decrypts sops files" in note
        return
    assert text is not None and text.startswith(says)
    assert says in note
    if "compose" in says:
        assert "encrypt -i" not in note
    else:  # (an .env sops-nix decrypts may be encrypted in place: said as the exception)
        assert "only where sops or sops-nix decrypts it before it is read" in note
    assert "/run/secrets/rendered/" in text and 'config.sops.placeholder."<name>"' in text
