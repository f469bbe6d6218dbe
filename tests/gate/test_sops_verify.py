"""The hook's verdict on files a `.sops.yaml` creation rule matches, as a table.

Real files from the sops engine, real age keys; each row is one way a secrets file
can be wrong (or right) and the one-line reason the hook gives.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from secretkit.gate.sops_verify import SopsJudge, unencrypted_values
from secretkit.sops.identities import Identities
from tests.sops.keys_support import AgeKey, age_key, age_rule_config
from tests.support import fake


def encrypted(root: Path, rel: str, values: dict[str, object]) -> bytes:
    from secretkit.sops import document, operations
    from secretkit.sops.config import find_config

    config = find_config(root)
    assert config is not None
    rule = config.rule_for(root / rel)
    assert rule is not None
    fmt = document.format_for_path(rel)
    return operations.encrypt_new(document.new_plain(fmt, values), rule)


@pytest.fixture
def key(tmp_path: Path) -> AgeKey:
    k = age_key()
    age_rule_config(tmp_path, k.public, path_regex=r"^secrets/")
    return k


def identities_of(k: AgeKey) -> Identities:
    ids = Identities()
    ids.add_age_secret(k.secret, "test key")
    return ids


def flip_first_ciphertext(data: bytes) -> bytes:
    text = data.decode()
    start = text.index("data:") + len("data:")
    return (text[:start] + ("B" if text[start] != "B" else "C") + text[start + 1 :]).encode()


def clear_one_value(data: bytes) -> bytes:
    lines = data.decode().splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("token: ENC["):
            lines[i] = "token: typed-over-by-hand\n"
    return "".join(lines).encode()


VALUES = {"token": fake.pushover_token("judge"), "nested": {"pw": fake.password("judge")}}

# name: (make the file's bytes from a valid encrypted file, reason fragment or None)
ROWS: dict[str, tuple[Callable[[bytes], bytes], str | None]] = {
    "valid": (lambda good: good, None),
    "decrypted copy": (lambda good: b"token: plain\nnested:\n  pw: plain\n", "not encrypted"),
    "empty file": (lambda good: b"", "not encrypted"),
    "tampered ciphertext": (flip_first_ciphertext, "does not verify"),
    "value typed in clear": (clear_one_value, "does not verify"),
    "mac removed": (
        lambda good: b"\n".join(
            line for line in good.split(b"\n") if not line.lstrip().startswith(b"mac:")
        ),
        "does not verify",
    ),
}


@pytest.mark.parametrize("row", list(ROWS))
def test_judge_with_an_identity(tmp_path: Path, key: AgeKey, row: str) -> None:
    make, reason = ROWS[row]
    good = encrypted(tmp_path, "secrets/h.yaml", VALUES)
    judge = SopsJudge(identities_of(key))
    problem = judge.judge("secrets/h.yaml", make(good))
    if reason is None:
        assert problem is None
    else:
        assert problem is not None
        assert reason in problem.reason
        assert problem.fix
        assert VALUES["token"] not in problem.reason + problem.fix
    assert judge.notes() == []


STRUCTURE_ROWS: dict[str, tuple[Callable[[bytes], bytes], str | None]] = {
    "valid": (lambda good: good, None),
    "tampered ciphertext": (flip_first_ciphertext, None),  # needs the key to notice
    "value typed in clear": (clear_one_value, "in clear: token"),
    "decrypted copy": (lambda good: b"token: plain\n", "not encrypted"),
}


@pytest.mark.parametrize("row", list(STRUCTURE_ROWS))
def test_judge_without_an_identity_checks_the_structure_and_says_so(
    tmp_path: Path, key: AgeKey, row: str
) -> None:
    make, reason = STRUCTURE_ROWS[row]
    good = encrypted(tmp_path, "secrets/h.yaml", VALUES)
    judge = SopsJudge(Identities())
    problem = judge.judge("secrets/h.yaml", make(good))
    if reason is None:
        assert problem is None
        (note,) = judge.notes()
        assert "cannot verify the MAC of secrets/h.yaml" in note
        assert "structure only" in note
    else:
        assert problem is not None
        assert reason in problem.reason


def test_a_decrypted_binary_file_is_caught(tmp_path: Path, key: AgeKey) -> None:
    judge = SopsJudge(identities_of(key))
    problem = judge.judge("secrets/wg.key", fake.wireguard_private_key("bin").encode() + b"\0\n")
    assert problem is not None
    assert "not encrypted" in problem.reason


def test_an_encrypted_binary_file_passes(tmp_path: Path, key: AgeKey) -> None:
    from secretkit.sops import document, operations
    from secretkit.sops.config import find_config

    config = find_config(tmp_path)
    assert config is not None
    rule = config.rule_for(tmp_path / "secrets/wg.key")
    assert rule is not None
    plain = document.load_plain(fake.wireguard_private_key("bin").encode() + b"\n", "binary")
    data = operations.encrypt_new(plain, rule)
    assert SopsJudge(identities_of(key)).judge("secrets/wg.key", data) is None


def test_unencrypted_values_follows_the_crypt_rule(tmp_path: Path) -> None:
    k = age_key()
    age_rule_config(
        tmp_path, k.public, path_regex=r"^secrets/", extra="    encrypted_regex: ^(token|pw)$\n"
    )
    from secretkit.sops import document

    data = encrypted(tmp_path, "secrets/h.yaml", {"token": "x" * 12, "user": "alertmanager"})
    sops = document.load_encrypted(data, "yaml")
    assert unencrypted_values(sops) == []  # "user" is in clear by the rule: fine
    typed = data.replace(b"token: ENC[", b"token: typed #ENC[")
    assert unencrypted_values(document.load_encrypted(typed, "yaml")) == ["token"]


def test_a_broken_key_file_is_reported_not_fatal(
    tmp_path: Path, key: AgeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "keys.txt"
    broken.write_text("this is not an age identity\n")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(broken))
    good = encrypted(tmp_path, "secrets/h.yaml", VALUES)
    judge = SopsJudge()
    assert judge.judge("secrets/h.yaml", good) is None
    (note,) = judge.notes()
    assert "keys.txt" in note
    _ = key


@pytest.mark.parametrize(
    ("rules", "path", "secret"),
    [
        ("  - path_regex: ^secrets/\n    age: {r}\n", "secrets/h.yaml", True),
        ("  - path_regex: ^secrets/\n    age: {r}\n", "hosts/h.nix", False),
        ("  - age: {r}\n", "hosts/h.nix", False),  # catch-all: defaults, not a secrets marker
        ("  - path_regex: .*\n    age: {r}\n", "notes.yaml", False),
        ("  - path_regex: \\.dec\\.yaml$\n    age: {r}\n", "a/b.dec.yaml", True),
        ("  - path_regex: .*\n    age: {r}\n", ".sops.yaml", False),
    ],
)
def test_which_rules_name_secrets_files(
    tmp_path: Path, rules: str, path: str, secret: bool
) -> None:
    from secretkit.gate.sops_verify import names_a_secrets_file
    from secretkit.sops.config import find_config

    (tmp_path / ".sops.yaml").write_text("creation_rules:\n" + rules.format(r=age_key().public))
    config = find_config(tmp_path)
    assert config is not None
    assert names_a_secrets_file(config, tmp_path / path) is secret


def test_the_fast_pre_check_agrees_with_the_real_rules(tmp_path: Path) -> None:
    from secretkit.gate.sops_verify import names_a_secrets_file
    from secretkit.keys import sops_yaml_edits
    from secretkit.sops.config import find_config, might_name_secrets_files

    sops_yaml_edits.init(tmp_path, age_key().public, "alice")
    for host in ("observer", "laptop"):
        sops_yaml_edits.add_host(tmp_path, host, age_key().public)
    text = (tmp_path / ".sops.yaml").read_bytes()
    config = find_config(tmp_path)
    assert config is not None
    for path in (
        "secrets/observer.yaml",
        "secrets/laptop.yaml",
        "hosts/observer.nix",
        "secrets/observer.yaml.dec",
        "flake.nix",
        "secrets/other.yaml",
    ):
        if names_a_secrets_file(config, tmp_path / path):
            assert might_name_secrets_files(text, [path])
    assert not might_name_secrets_files(text, ["hosts/observer.nix", "flake.nix"])


def test_the_note_on_an_unopened_file_says_which_kind_of_key_opens_it(
    tmp_path: Path, key: AgeKey
) -> None:
    data = encrypted(tmp_path, "secrets/a.yaml", VALUES)
    judge = SopsJudge(Identities())  # no identity at all
    assert judge.judge("secrets/a.yaml", data) is None  # its structure is fine
    (note,) = judge.notes()
    assert note.endswith(
        "checked the structure only (set SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY) to the private "
        "key of one of its age recipients to verify)"
    )


def test_a_secret_its_own_crypt_rule_keeps_in_clear_is_moved_not_restored(
    tmp_git_repo: Path,
) -> None:
    """`unencrypted_suffix: _plain` and a password under db_password_plain: check said
    "it was edited without sops: restore … (git checkout HEAD -- …)", which changes
    nothing (HEAD holds the same bytes).  The fix moves the value under a key sops
    encrypts, or allowlists it."""
    from secretkit.commands.check import run_check
    from tests.conftest import commit_all

    k = age_key()
    age_rule_config(
        tmp_git_repo, k.public, path_regex=r"^secrets/", extra="    unencrypted_suffix: _plain\n"
    )
    (tmp_git_repo / "secrets").mkdir()
    (tmp_git_repo / "secrets" / "shared.yaml").write_bytes(
        encrypted(tmp_git_repo, "secrets/shared.yaml", {"db_password_plain": fake.password("sfx")})
    )
    commit_all(tmp_git_repo)
    (failed,) = [r for r in run_check(tmp_git_repo).failed if r.id == "plaintext-tree"]
    assert "secrets/shared.yaml" in failed.message
    assert failed.fix.startswith(
        "the file's sops metadata leaves db_password_plain in clear (unencrypted_suffix: "
        "_plain): move the value under a key sops encrypts (secretkit edit secrets/shared.yaml)"
    )
    assert "git checkout" not in failed.fix


def test_a_binary_file_of_bytes_that_are_no_text_is_judged_without_a_crash(
    tmp_path: Path, key: AgeKey
) -> None:
    """An imported age secret of random bytes (a TLS key in DER): check stopped with
    "internal error (UnicodeEncodeError)" while keeping its values to look for."""
    import random

    from secretkit.sops import document, operations
    from secretkit.sops.config import find_config

    config = find_config(tmp_path)
    assert config is not None
    rule = config.rule_for(tmp_path / "secrets/tok.bin")
    assert rule is not None
    raw = b"Zk3LrXUtnFEMI7K7MDENGbPxRfiCYzQw8JhLp2Vd\x91" + bytes(
        random.Random(7).randrange(256) for _ in range(8)
    )
    data = operations.encrypt_new(document.load_plain(raw, "binary"), rule)
    judge = SopsJudge(identities_of(key))
    assert judge.judge("secrets/tok.bin", data) is None
    assert all(isinstance(hash(value), int) for value in judge.values)
