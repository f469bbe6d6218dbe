"""An agenix repository (secrets.nix with let-bound keys and lists, *.age files for
age and ssh recipients): `check` compares each header with the keys listed and opens
the files with a listed key held here."""

from __future__ import annotations

from pathlib import Path

import pyrage
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from secretkit.commands.check import run_check
from tests.conftest import commit_all
from tests.keys.layouts import write

SECRETS_NIX = """let
  alice = "{alice}";
  web = "{web}";
  db = "{db}";
  admins = [ alice ];
  servers = [ web db ];
in
{{
  "secrets/web-password.age".publicKeys = admins ++ [ web ];
  "secrets/db-password.age".publicKeys = admins ++ [ db ];
  "secrets/shared.age".publicKeys = admins ++ servers;
}}
"""


def _ssh_public() -> str:
    key = Ed25519PrivateKey.generate().public_key()
    raw = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return raw.decode()


def _recipient(key: str) -> object:
    if key.startswith("ssh-"):
        return pyrage.ssh.Recipient.from_str(key)
    return pyrage.x25519.Recipient.from_str(key)


@pytest.fixture
def repo(tmp_git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, str]]:
    alice = pyrage.x25519.Identity.generate()
    keys = {
        "alice": str(alice.to_public()),
        "web": _ssh_public(),
        "db": str(pyrage.x25519.Identity.generate().to_public()),
    }
    write(tmp_git_repo, {"secrets.nix": SECRETS_NIX.format(**keys)})
    for name, owners in (
        ("web-password", ["alice", "web"]),
        ("db-password", ["alice", "db"]),
        ("shared", ["alice", "web", "db"]),
    ):
        _encrypt(tmp_git_repo / f"secrets/{name}.age", [keys[o] for o in owners])
    commit_all(tmp_git_repo, "agenix")
    monkeypatch.setenv("SOPS_AGE_KEY", str(alice))
    return tmp_git_repo, keys


def _encrypt(path: Path, keys: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pyrage.encrypt(b"not-a-real-value", [_recipient(k) for k in keys]))  # type: ignore[list-item]


def test_a_consistent_agenix_repo_passes(repo: tuple[Path, dict[str, str]]) -> None:
    root, _ = repo
    report = run_check(root)
    assert [r.message for r in report.failed] == []
    (agenix,) = [r for r in report.results if r.id == "agenix"]
    # db's age key is not held here: an age header names no recipient, so its files are
    # told apart by count only (a stranger swapped bob for eve and check said ok)
    assert agenix.ok and agenix.warning
    assert agenix.message == (
        "warning: 3 age file(s): the ssh keys secrets.nix lists match each header; in 2 of "
        "them the age1 recipients match in number only (an age header does not name them; "
        "3 opened with a key here)"
    )
    assert agenix.fix.startswith("to tell them apart, open each file with each listed age key")


def test_a_file_missing_a_listed_host_is_the_one_failure(
    repo: tuple[Path, dict[str, str]],
) -> None:
    root, keys = repo
    _encrypt(root / "secrets/shared.age", [keys["alice"], keys["web"]])  # db left out
    (failure,) = run_check(root).failed
    assert failure.id == "agenix"
    assert failure.message == (
        "secrets/shared.age is not encrypted for the keys secrets.nix:11 lists "
        "(1 age recipient(s) in the file, 2 in secrets.nix)"
    )
    assert "agenix -r" in failure.fix


def test_an_ssh_recipient_swapped_and_an_unlisted_file(repo: tuple[Path, dict[str, str]]) -> None:
    root, keys = repo
    _encrypt(root / "secrets/web-password.age", [keys["alice"], _ssh_public()])
    _encrypt(root / "secrets/stray.age", [keys["alice"]])
    failures = run_check(root).failed
    assert sorted(f.message for f in failures) == [
        "secrets/stray.age is an age file that secrets.nix does not list",
        "secrets/web-password.age is not encrypted for the keys secrets.nix:9 lists "
        "(ssh keys: 1 listed but not a recipient, 1 not listed)",
    ]
    (stray,) = [f for f in failures if "stray" in f.message]
    # the name as secrets.nix writes it: relative to its directory, not the base name
    assert stray.fix == 'add "secrets/stray.age".publicKeys = [ … ]; to secrets.nix, or delete it'


def test_a_secrets_nix_per_host_directory_lists_its_own_files(
    repo: tuple[Path, dict[str, str]],
) -> None:
    """Juggeli/nixos-config keeps a secrets.nix beside each host's .age files: those are
    listed (check said the top one did not list them), and a fix names the nearest."""
    root, keys = repo
    host = "hosts/haruka/secrets"
    write(
        root,
        {f"{host}/secrets.nix": f'{{\n  "api/key.age".publicKeys = [ "{keys["alice"]}" ];\n}}\n'},
    )
    _encrypt(root / f"{host}/api/key.age", [keys["alice"]])
    assert [f.message for f in run_check(root).failed] == []
    _encrypt(root / f"{host}/api/stray.age", [keys["alice"]])
    _encrypt(root / f"{host}/api/key.age", [keys["db"]])
    failures = {f.message: f.fix for f in run_check(root).failed}
    assert failures[
        f"{host}/api/stray.age is an age file that {host}/secrets.nix does not list"
    ] == (f'add "api/stray.age".publicKeys = [ … ]; to {host}/secrets.nix, or delete it')
    (rekey,) = [fix for message, fix in failures.items() if "key.age does not open" in message]
    assert (
        f"re-encrypt for the listed keys (in {host}, where its secrets.nix is): agenix -r" in rekey
    )


def test_no_agenix_no_point(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "a.nix").write_text("{ }\n")
    commit_all(tmp_git_repo)
    assert [r for r in run_check(tmp_git_repo).results if r.id == "agenix"] == []


IMPORTED_SECRETS_NIX = """let
  identities = import ./identities.nix;
  db = "{db}";
in
{{
  "secrets/web-password.age".publicKeys = with identities; [ alice web ];
  "secrets/db-password.age".publicKeys = [ identities.alice db ];
  "secrets/shared.age".publicKeys = with identities; [ alice web db ];
}}
"""


def test_keys_named_in_an_imported_file_are_read(repo: tuple[Path, dict[str, str]]) -> None:
    """fufexan/dotfiles: ``identities = import ./identities.nix;`` then ``with
    identities; [ … ]`` (or ``identities.alice``): check could not verify it, and its
    fix said to write let-bound names, which ``identities.alice`` is not.  A let-bound
    name wins over the ``with`` (``db`` here, which identities.nix gets wrong)."""
    root, keys = repo
    write(
        root,
        {
            "secrets.nix": IMPORTED_SECRETS_NIX.format(**keys),
            "identities.nix": (
                f'{{\n  alice = "{keys["alice"]}";\n  web = "{keys["web"]}";\n'
                f'  db = "{keys["alice"]}";\n}}\n'
            ),
        },
    )
    commit_all(root, "keys in a file of their own")
    report = run_check(root)
    assert [r.message for r in report.failed] == []
    (agenix,) = [r for r in report.results if r.id == "agenix"]
    assert agenix.message.startswith("warning: 3 age file(s): the ssh keys secrets.nix lists")

    # a name the file lacks is a failure that says so (agenix itself would not evaluate)
    write(
        root,
        {"secrets.nix": IMPORTED_SECRETS_NIX.format(**keys).replace("alice web ]", "al web ]")},
    )
    (failure,) = run_check(root).failed
    assert failure.message == (
        "cannot verify secrets/web-password.age: secrets.nix:6: al is not defined in the let "
        "block nor the with scopes"
    )
    assert "keys = import ./keys.nix; then keys.alice" in failure.fix
    # a file of keys outside the repository, or a function, is not read
    for imported in ("../outside.nix", "./fn.nix"):
        write(
            root,
            {
                "fn.nix": "{ lib }: { }\n",
                "secrets.nix": IMPORTED_SECRETS_NIX.format(**keys).replace(
                    "./identities.nix", imported
                ),
            },
        )
        failed = run_check(root).failed
        assert failed and all(f.message.startswith("cannot verify secrets/") for f in failed)


def test_an_ordinary_module_named_secrets_nix_is_no_rules_file(tmp_git_repo: Path) -> None:
    """agenix-rekey repositories (oddlama/nix-config) name ordinary modules
    secrets.nix: check called every .age file unlisted, with the fix "… or delete it",
    and import refused "several agenix rules files".  Neither is one; who can open
    the files is said not to be checked."""
    from secretkit.agenix.repo import find_rules_file

    module = (
        "{ config, ... }: { age.rekey.hostPubkey = ./host.pub;\n"
        "  age.secrets.x.rekeyFile = ./x.age; }\n"
    )
    for rel in ("config/secrets.nix", "modules/secrets.nix"):
        (tmp_git_repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_git_repo / rel).write_text(module)
    (tmp_git_repo / "config" / "x.age").write_bytes(b"age-encryption.org/v1\n")
    commit_all(tmp_git_repo)
    (point,) = [r for r in run_check(tmp_git_repo).results if r.id == "agenix"]
    assert point.ok and point.warning
    assert point.message.startswith("warning: 1 age file(s) and no agenix rules file")
    files = ["config/secrets.nix", "modules/secrets.nix"]
    assert find_rules_file(files, lambda rel: (tmp_git_repo / rel).read_bytes()) is None
