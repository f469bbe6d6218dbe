"""The decrypted-copy point's pure part: which names are twins of a sops file."""

from __future__ import annotations

import pytest

from secretkit.gate.decrypted_copies import is_twin

SOPS = {"secrets/observer.yaml", "hosts/laptop/secrets.json"}


@pytest.mark.parametrize(
    ("name", "twin"),
    [
        ("secrets/observer.dec.yaml", True),
        ("secrets/observer.decrypted.yaml", True),
        ("secrets/observer.yaml.dec", True),
        ("secrets/observer.plain.yaml", True),
        ("secrets/observer.yaml.bak", True),
        ("secrets/observer.yaml~", True),
        ("hosts/laptop/secrets.plaintext.json", True),
        ("anywhere/else.dec.env", True),
        ("secrets/observer.yaml", False),  # the sops file itself
        ("secrets/laptop.yaml", False),
        ("other/observer.dec", True),  # *.dec anywhere
        ("other/observer.yaml.bak", False),  # a backup twin only next to its sops file
        ("secrets/observers.yaml", False),
        ("docs/decrypt.md", False),
    ],
)
def test_twins_of_sops_files(name: str, twin: bool) -> None:
    assert is_twin(name, SOPS) is twin
