"""keymap.py: each public key is a host (by .sops.yaml key or let name) or an admin."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyrage import x25519

from secretkit.agenix.keymap import map_keys
from secretkit.errors import UserError
from secretkit.keys.ssh_to_age import ssh_pubkey_to_age
from secretkit.layouts.agenix_rules import PublicKey, Rule


def _ssh() -> str:
    public = Ed25519PrivateKey.generate().public_key()
    line = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return line.decode() + " root@host"


def _age() -> str:
    return str(x25519.Identity.generate().to_public())


def test_hosts_by_let_name_or_known_key_and_admins_by_key() -> None:
    admin, web1, web2, db = _age(), _ssh(), _ssh(), _ssh()
    rule = Rule(
        "a.age",
        (
            PublicKey(admin, "alice"),
            PublicKey(web1, "web1"),
            PublicKey(web2, "frontend"),  # known to .sops.yaml as web2
            PublicKey(db, None),  # inline, known by key
        ),
    )
    keymap = map_keys(
        [rule],
        ["web1", "web2", "db"],
        {"alice": admin},
        {"web2": ssh_pubkey_to_age(web2), "db": ssh_pubkey_to_age(db)},
    )
    assert keymap.hosts_of(rule) == ["db", "web1", "web2"]
    assert keymap.owners[admin] == ("admin", "alice")
    assert keymap.new_hosts == {"web1": ssh_pubkey_to_age(web1)}


def test_a_key_nobody_owns_names_the_fix() -> None:
    stranger = _ssh()
    rule = Rule("a.age", (PublicKey(stranger, "carol"),))
    with pytest.raises(UserError) as info:
        map_keys([rule], ["web1"], {"alice": _age()}, {})
    line = info.value.one_line()
    assert "public key carol (reads a.age) matches no host" in line
    assert f"secretkit init --admin {ssh_pubkey_to_age(stranger)} --admin-name carol" in line


def test_a_host_whose_key_changed_is_not_silently_replaced() -> None:
    rule = Rule("a.age", (PublicKey(_ssh(), "web1"),))
    with pytest.raises(UserError) as info:
        map_keys([rule], ["web1"], {"alice": _age()}, {"web1": _age()})
    assert "host web1 has another key in .sops.yaml" in info.value.one_line()
    assert "secretkit rotate host web1 --age age1" in info.value.one_line()


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("age1notvalid", "not a valid age public key"),
        ("ssh-rsa AAAAB3NzaC1yc2E root@old", "cannot become an age key for sops-nix"),
    ],
)
def test_keys_sops_nix_cannot_use(key: str, message: str) -> None:
    with pytest.raises(UserError) as info:
        map_keys([Rule("a.age", (PublicKey(key, "old"),))], ["old"], {"a": _age()}, {})
    assert message in info.value.one_line()
