"""Every kind of `secretkit generate`, checked with an independent tool where Debian has
one: `wg pubkey` (wireguard-tools) for the WireGuard pair, `ssh-keygen -y` for the ssh
pair, `openssl passwd -6` and `mkpasswd` (whois) for the SHA-512 crypt hash."""

from __future__ import annotations

import base64
import re
import string
import subprocess
from pathlib import Path

import pytest

from secretkit.errors import UsageError
from secretkit.generate import KINDS, Options
from secretkit.generate import passphrase as passphrase_kind
from secretkit.generate.password import ALPHABET as PASSWORD_ALPHABET
from tests.conftest import need_tool

PASSWORD_SET = set(PASSWORD_ALPHABET)


def test_every_kind_generates_a_new_value_each_time() -> None:
    assert set(KINDS) == {
        "password", "passphrase", "hex", "base64", "alnum", "wireguard", "ssh-ed25519",
        "hashed-password",
    }  # fmt: skip
    for name, kind in KINDS.items():
        assert kind.name == name
        first, second = kind.generate(Options()), kind.generate(Options())
        assert first.value != second.value, name
        assert (first.public is not None) == kind.has_public, name
        assert "redacted" in repr(first.value) and "redacted" in str(first), name


@pytest.mark.parametrize(
    ("kind", "options", "check"),
    [
        ("password", Options(length=40), lambda v: len(v) == 40 and set(v) <= PASSWORD_SET),
        ("alnum", Options(), lambda v: len(v) == 32 and v.isalnum() and v.isascii()),
        ("hex", Options(length=16), lambda v: re.fullmatch("[0-9a-f]{32}", v) is not None),
        ("base64", Options(length=24), lambda v: len(base64.b64decode(v, validate=True)) == 24),
    ],
)  # fmt: skip
def test_sizes_and_alphabets(kind: str, options: Options, check: object) -> None:
    value = KINDS[kind].generate(options).value.reveal()
    assert callable(check) and check(value)


def test_password_alphabet_needs_no_quoting() -> None:
    assert not set(PASSWORD_ALPHABET) & set("\"'`\\$ \n")
    assert set(string.ascii_letters + string.digits) <= set(PASSWORD_ALPHABET)


def test_passphrase_words_come_from_the_shipped_eff_list() -> None:
    pool = set(passphrase_kind.words())
    assert len(pool) == 7776 and {"abacus", "zoom"} <= pool
    hyphenated = {w for w in pool if "-" in w}  # (the EFF list has "drop-down", "t-shirt")
    assert hyphenated and all(w.count("-") == 1 for w in hyphenated)
    for _ in range(50):
        value = KINDS["passphrase"].generate(Options(words=8)).value.reveal()
        assert _words_of(value.split("-"), pool, 8), value.split("-")[:2]


def _words_of(parts: list[str], pool: set[str], n: int) -> bool:
    """Whether ``parts`` (the value cut at every "-") are ``n`` words of ``pool``."""
    if not parts:
        return n == 0
    if n == 0:
        return False
    if parts[0] in pool and _words_of(parts[1:], pool, n - 1):
        return True
    joined = "-".join(parts[:2])
    return len(parts) >= 2 and joined in pool and _words_of(parts[2:], pool, n - 1)


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("password", Options(length=4), "--length must be between 8 and 1024"),
        ("hex", Options(words=3), "--words is for --kind passphrase only"),
        ("passphrase", Options(length=10), "--kind passphrase counts words"),
        ("passphrase", Options(words=2), "--words must be between 4 and 64"),
        ("wireguard", Options(length=10), "--kind wireguard has a fixed size"),
    ],
)
def test_bad_options_are_usage_errors(kind: str, options: Options, message: str) -> None:
    with pytest.raises(UsageError) as info:
        KINDS[kind].generate(options)
    assert message in info.value.message


def test_wireguard_public_half_matches_wg_pubkey() -> None:
    wg = need_tool("wg")
    made = KINDS["wireguard"].generate(Options())
    proc = subprocess.run(
        [wg, "pubkey"], input=made.value.reveal().encode() + b"\n", capture_output=True,
        check=True,
    )  # fmt: skip
    assert proc.stdout.decode().strip() == made.public
    raw = base64.b64decode(made.value.reveal())
    assert len(raw) == 32 and raw[0] & 7 == 0 and raw[31] & 0xC0 == 0x40  # clamped like wg genkey


def test_ssh_public_half_matches_ssh_keygen(tmp_path: Path) -> None:
    keygen = need_tool("ssh-keygen")
    made = KINDS["ssh-ed25519"].generate(Options(comment="observer:backup"))
    key = tmp_path / "id_ed25519"
    key.write_text(made.value.reveal())
    key.chmod(0o600)
    proc = subprocess.run([keygen, "-y", "-f", str(key)], capture_output=True, check=True)
    derived = proc.stdout.decode().split()
    assert made.public is not None
    assert made.public.split()[:2] == derived[:2]
    assert made.public.endswith(" observer:backup")


def test_hashed_password_verifies_with_openssl_and_mkpasswd() -> None:
    openssl = need_tool("openssl")
    mkpasswd = need_tool("mkpasswd")
    made = KINDS["hashed-password"].generate(Options(length=20))
    assert made.plain is not None
    hashed, plain = made.value.reveal(), made.plain.reveal()
    assert hashed.startswith("$6$") and len(plain) == 20
    salt = hashed.split("$")[2]
    by_openssl = subprocess.run(
        [openssl, "passwd", "-6", "-salt", salt, "-stdin"], input=plain.encode(),
        capture_output=True, check=True,
    )  # fmt: skip
    assert by_openssl.stdout.decode().strip() == hashed
    by_mkpasswd = subprocess.run(
        [mkpasswd, "-m", "sha-512", "-S", salt, "-s"], input=plain.encode(),
        capture_output=True, check=True,
    )  # fmt: skip
    assert by_mkpasswd.stdout.decode().strip() == hashed
    wrong = subprocess.run(
        [openssl, "passwd", "-6", "-salt", salt, "-stdin"], input=plain.encode() + b"x",
        capture_output=True, check=True,
    )  # fmt: skip
    assert wrong.stdout.decode().strip() != hashed


def test_the_cli_offers_exactly_the_registered_kinds() -> None:
    """The CLI keeps the kind names literal (so that it starts fast): every ``--kind``
    choice list is exactly the registry, in its order."""
    import click

    from secretkit.cli import cli

    def kind_choices(command: click.Command, path: str) -> dict[str, list[str]]:
        found = {
            path: list(param.type.choices)
            for param in command.params
            if param.name == "kind" and isinstance(param.type, click.Choice)
        }
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                found.update(kind_choices(sub, f"{path} {name}".strip()))
        return found

    choices = kind_choices(cli, "")
    assert set(choices) == {"generate", "rotate value"}
    for offered in choices.values():
        assert offered == list(KINDS)
