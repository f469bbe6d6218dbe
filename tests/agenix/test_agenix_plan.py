"""plan.py: .age files made by the age CLI (armored and binary, age and ssh recipients)
decrypted with pyrage; text vs binary; which sops file each value goes to."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from secretkit.agenix.keymap import KeyMap
from secretkit.agenix.plan import decrypt_age, is_text, layout, target_for
from secretkit.errors import IntegrityError
from secretkit.layouts.agenix_rules import PublicKey, Rule
from secretkit.sensitive import Sensitive
from secretkit.sops.identities import load_identities
from tests.conftest import need_tool


def _sh(*args: str, input: bytes | None = None) -> bytes:
    return subprocess.run(args, input=input, capture_output=True, check=True).stdout


@pytest.mark.parametrize("armor", [False, True])
def test_age_and_ssh_identities_open_cli_made_files(tmp_path: Path, armor: bool) -> None:
    need_tool("age")
    _sh("age-keygen", "-o", str(tmp_path / "k.txt"))
    recipient = _sh("age-keygen", "-y", str(tmp_path / "k.txt")).decode().strip()
    _sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "id"))
    value = bytes(range(256)) * 3
    flags = ["-a"] if armor else []
    _sh("age", "-e", *flags, "-r", recipient, "-o", str(tmp_path / "a.age"), input=value)
    _sh("age", "-e", *flags, "-R", str(tmp_path / "id.pub"), "-o", str(tmp_path / "s.age"),
        input=value)  # fmt: skip
    by_age = load_identities({"SOPS_AGE_KEY_FILE": str(tmp_path / "k.txt"), "HOME": "/none"})
    by_ssh = load_identities(
        {"SOPS_AGE_SSH_PRIVATE_KEY_FILE": str(tmp_path / "id"), "HOME": "/none"}
    )
    assert decrypt_age(tmp_path / "a.age", "a.age", by_age.age).reveal() == value
    assert decrypt_age(tmp_path / "s.age", "s.age", by_ssh.age).reveal() == value
    with pytest.raises(IntegrityError) as info:
        decrypt_age(tmp_path / "a.age", "a.age", by_ssh.age)
    assert info.value.one_line().startswith("none of your identities opens a.age")


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"hunter2", True),
        ("pässwörd\nline two\n".encode(), True),
        (b"tab\tseparated", True),
        (b"\x30\x82\x01\x0a", False),
        (b"nul\x00inside", False),
        (b"crlf\r\n", False),
        (b"\xff\xfe", False),
    ],
)
def test_text_or_binary(data: bytes, text: bool) -> None:
    assert is_text(data) is text


def test_layouts_and_targets() -> None:
    alice, web1, web2 = PublicKey("a", "alice"), PublicKey("w1", "web1"), PublicKey("w2", "web2")
    keymap = KeyMap(
        owners={"a": ("admin", "alice"), "w1": ("host", "web1"), "w2": ("host", "web2")}
    )
    rules = [
        Rule("tok.age", (alice, web1, web2)),
        Rule("cert.age", (alice, web1)),
        Rule("web1.age", (alice,)),  # admins only, named like a host
    ]
    values = {
        "secrets/tok.age": Sensitive(b"token"),
        "secrets/cert.age": Sensitive(b"\x30\x82"),
        "secrets/web1.age": Sensitive(b"recovery"),
    }
    per_host = layout(rules, "secrets", keymap, values, "per-host", ["web1", "web2"])
    assert {m.age_file: m.files for m in per_host.moves} == {
        "secrets/tok.age": ("secrets/web1.yaml", "secrets/web2.yaml"),
        "secrets/cert.age": ("secrets/cert.bin",),
        "secrets/web1.age": ("secrets/web1-secret.yaml",),
    }
    assert per_host.files["secrets/cert.bin"].rule == r"^secrets/cert\.bin$"
    assert per_host.files["secrets/web1-secret.yaml"].hosts == ()
    shared = target_for(per_host, ["web1", "web2"], "secrets/tok.age", True, "modules/web.nix")
    assert shared == type(shared)(
        '../secrets + "/${config.networking.hostName}.yaml"', "tok", False, True
    )
    one = target_for(per_host, ["web1"], "tok.age", False, "hosts/web1/default.nix")
    assert not isinstance(one, str) and one.sops_file == "../../secrets/web1.yaml"
    binary = target_for(per_host, ["web1"], "secrets/cert.age", True, "flake.nix")
    assert not isinstance(binary, str) and (binary.sops_file, binary.binary) == (
        "./secrets/cert.bin",
        True,
    )
    assert "not an .age file listed" in str(target_for(per_host, [], "x.age", False, "a.nix"))
    per_secret = layout(rules, "secrets", keymap, values, "per-secret", ["web1", "web2"])
    assert per_secret.files["secrets/tok.yaml"].hosts == ("web1", "web2")
