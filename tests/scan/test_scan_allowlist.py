"""Fingerprints remembered in the clone (``<git dir>/secretkit/fingerprints``): private,
reused, dropped when the fingerprint key changes, and never a value or a preview."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from secretkit.scan import allowlist
from secretkit.scan.allowlist import CACHE_NAME, FingerprintCache, load
from tests.conftest import git
from tests.support import fake

# Every line the file may hold: nothing else can carry a value.
GRAMMAR = re.compile(
    r"secretkit fingerprint cache 1\n"
    r"key [0-9a-f]{32}\n"
    r"secret [0-9a-f]{64}\n"
    r"(?:[0-9a-f]{32} sk2:[0-9a-f]{32}\n)*"
)


def _cache_file(repo: Path) -> Path:
    return repo / ".git" / "secretkit" / CACHE_NAME


def _values(n: int, seed: str) -> list[str]:
    # An upper-case letter first: a preview of each cannot hide in lower-case hex.
    return ["Q" + fake.password(f"{seed}{i}") for i in range(n)]


@pytest.fixture
def repo(committed_repo: Path) -> Path:
    return committed_repo


def test_the_cache_is_private_and_holds_no_value_and_no_preview(repo: Path) -> None:
    values = _values(2, "private")
    allow = load(repo)
    fingerprints = [allow.fingerprint(v) for v in values]
    assert not _cache_file(repo).exists()  # nothing is written before it is asked
    allow.save_fingerprints()
    file = _cache_file(repo)
    assert file.stat().st_mode & 0o777 == 0o600
    assert file.parent.stat().st_mode & 0o777 == 0o700
    text = file.read_text("ascii")
    assert GRAMMAR.fullmatch(text)
    for value, fp in zip(values, fingerprints, strict=True):
        assert value[:4] not in text and value[:3] not in text
        assert fp in text  # the fingerprint itself is as public as an allowlist entry
    assert len(text.splitlines()) == 3 + 2
    assert not list(file.parent.glob(".*.tmp"))  # written atomically, no stray temp


def test_a_remembered_fingerprint_is_reused_not_computed(repo: Path) -> None:
    value = _values(1, "reuse")[0]
    first = load(repo)
    expected = first.fingerprint(value)
    first.save_fingerprints()
    allowlist.fingerprint.cache_clear()  # forget this process's copy: only the file is left
    second = load(repo)
    assert second.fingerprint(value) == expected
    assert allowlist.fingerprint.cache_info().misses == 0  # no scrypt ran
    # The file decides: an entry planted under the value's id is what comes back.
    planted = FingerprintCache.load(_cache_file(repo), second.key)
    planted.put(value, "sk2:" + "0" * 32)
    planted.save()
    assert load(repo).fingerprint(value) == "sk2:" + "0" * 32


def test_prepare_does_everything_before_the_scrypt_and_nothing_of_it(repo: Path) -> None:
    # The hook prepares in its main thread, then hands the scrypts to another: after
    # prepare() a fingerprint needs no git run and no file read, only the scrypt.
    value, other = _values(2, "prepare")
    known = load(repo)
    remembered = known.fingerprint(value)
    known.save_fingerprints()
    expected_other = load(repo).fingerprint(other)
    allowlist.fingerprint.cache_clear()
    allow = load(repo)
    allow.prepare()
    assert allowlist.fingerprint.cache_info().misses == 0  # prepare computed no scrypt
    _cache_file(repo).unlink()  # what the fingerprint reads now was read by prepare()
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/nowhere\n")  # and git says nothing
    assert allow.fingerprint(value) == remembered  # from the cache prepare() loaded
    assert allowlist.fingerprint.cache_info().misses == 0
    assert allow.fingerprint(other) == expected_other  # the key prepare() derived


def test_a_new_fingerprint_key_drops_the_whole_cache(repo: Path) -> None:
    value = _values(1, "rekey")[0]
    old = load(repo)
    old_fp = old.fingerprint(value)
    old.save_fingerprints()
    old_text = _cache_file(repo).read_text()
    # the root commit rewritten (as `purge` of a secret committed first does)
    git(repo, "commit", "-q", "--amend", "--no-verify", "-m", "another root")
    allowlist.fingerprint.cache_clear()
    new = load(repo)
    assert new.key != old.key
    new_fp = new.fingerprint(value)
    assert not _cache_file(repo).exists()  # the old key's entries are gone at once
    assert new_fp != old_fp and new_fp == allowlist.fingerprint(new.key, value)
    assert allowlist.fingerprint.cache_info().misses == 1  # computed, not taken from the file
    new.save_fingerprints()
    new_text = _cache_file(repo).read_text()
    assert old_fp not in new_text and new_fp in new_text
    old_lines, new_lines = old_text.splitlines(), new_text.splitlines()
    assert new_lines[1] != old_lines[1]  # another key
    assert new_lines[2] != old_lines[2]  # and a new secret: the old ids mean nothing now
    assert len(new_lines) == 4


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"secretkit fingerprint cache 1\n",
        b"not a cache\n",
        b"\xff\xfe garbage\n",
        "{header}{key}secret {secret}\nshort sk2:00\n",
        "{header}{key}secret {secret}\n{ident} sk2:{fp}\n{ident} the value\n",
        "{header}{key}secret zz{secret}\n",
    ],
)
def test_a_damaged_cache_is_ignored_and_replaced(repo: Path, damage: bytes | str) -> None:
    value = _values(1, "damage")[0]
    allow = load(repo)
    expected = allowlist.fingerprint(allow.key, value)
    file = _cache_file(repo)
    file.parent.mkdir(parents=True)
    if isinstance(damage, str):
        good = FingerprintCache.load(file, allow.key)
        good.put(value, "sk2:" + "1" * 32)
        good.save()
        header, key, secret = file.read_text().splitlines()[:3]
        ident = good._id(value)
        data = damage.format(
            header=header + "\n", key=key + "\n", secret=secret.split()[1], ident=ident, fp="1" * 32
        ).encode()
    else:
        data = damage
    file.write_bytes(data)
    assert allow.fingerprint(value) == expected  # nothing taken from a damaged file
    allow.save_fingerprints()
    assert GRAMMAR.fullmatch(file.read_text("ascii"))
    assert expected in file.read_text()


def test_an_unwritable_git_directory_only_costs_the_next_run(repo: Path) -> None:
    value = _values(1, "ro")[0]
    (repo / ".git" / "secretkit").write_text("a file where the directory would be\n")
    allow = load(repo)
    expected = allow.fingerprint(value)
    allow.save_fingerprints()  # no error
    assert load(repo).fingerprint(value) == expected


def test_no_cache_outside_git(tmp_path: Path) -> None:
    (tmp_path / "a.nix").write_text("{ }\n")
    allow = load(tmp_path, git=False)
    allow.fingerprint(_values(1, "nogit")[0])
    allow.save_fingerprints()
    assert list(tmp_path.rglob("*")) == [tmp_path / "a.nix"]


def test_the_most_recently_used_entries_are_kept(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(allowlist, "CACHE_MAX", 2)
    allow = load(repo)
    cache = FingerprintCache.load(_cache_file(repo), allow.key)
    values = _values(3, "mru")
    for i, value in enumerate(values):
        cache.put(value, f"sk2:{i:032x}")
    assert cache.get(values[0]) == f"sk2:{0:032x}"  # used again: the newest now
    cache.save()
    again = FingerprintCache.load(_cache_file(repo), allow.key)
    assert again.get(values[0]) == f"sk2:{0:032x}"
    assert again.get(values[1]) is None
    assert again.get(values[2]) == f"sk2:{2:032x}"


def test_the_mode_is_0600_whatever_the_umask_and_a_stale_temp_is_replaced(repo: Path) -> None:
    import os

    file = _cache_file(repo)
    file.parent.mkdir(mode=0o700)
    stale = file.with_name(f".{file.name}.{os.getpid()}.tmp")  # a killed run with this pid
    stale.write_text("partial")
    old = os.umask(0)
    try:
        allow = load(repo)
        allow.fingerprint(_values(1, "umask")[0])
        allow.save_fingerprints()
    finally:
        os.umask(old)
    assert file.stat().st_mode & 0o777 == 0o600
    assert GRAMMAR.fullmatch(file.read_text("ascii"))
    assert not stale.exists()
