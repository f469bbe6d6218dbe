"""The record of what purge removed (``<git dir>/secretkit/exposed.json``): kept
private and whole, merged by value, and judged honestly: rotated only when a
rotation is known, unknown when a sops file could not be read."""

from __future__ import annotations

import stat
from pathlib import Path

from secretkit.gate.exposed_record import (
    ExposedRecord,
    Place,
    RecordEntry,
    SopsValues,
    load_record,
    mark_rotated,
    status_of,
)
from secretkit.scan.allowlist import derive_key, fingerprint
from secretkit.sensitive import Sensitive
from tests.support import fake

KEY = derive_key("0" * 40)


def _entry(value: str, *places: tuple[str, str]) -> RecordEntry:
    fp = fingerprint(KEY, value)
    stored = [Place(file, name, fp) for file, name in places]
    return RecordEntry(KEY.hex(), fp, ["db.password"], ["secret-attribute"], ["a.nix"], 2,
                       "ab…", stored, purged="20261205T000000Z")  # fmt: skip


def test_saved_privately_read_back_whole_and_merged_by_value(tmp_git_repo: Path) -> None:
    value = fake.password("record")
    record = load_record(tmp_git_repo)
    assert record.entries == []
    record.add(_entry(value, ("secrets/a.yaml", "db/pw")))
    again = _entry(value, ("secrets/b.yaml", "db/pw"))
    again.names = ["other.password"]
    record.add(again)
    record.save()
    assert record.file is not None
    assert stat.S_IMODE(record.file.stat().st_mode) == 0o600
    assert value not in record.file.read_text()
    (entry,) = load_record(tmp_git_repo).entries
    assert entry.names == ["db.password", "other.password"]
    assert [p.file for p in entry.stored] == ["secrets/a.yaml", "secrets/b.yaml"]
    assert load_record(tmp_git_repo).matching(Sensitive(value)) != []
    assert load_record(tmp_git_repo).matching(Sensitive(value + "x")) == []


def test_rotated_only_when_known() -> None:
    value = fake.password("judged")
    entry = _entry(value, ("secrets/a.yaml", "db/pw"))
    same = SopsValues([("secrets/a.yaml", "db/pw", Sensitive(value))], [])
    assert status_of(False, True, [entry], same) == "not rotated"
    changed = SopsValues([("secrets/a.yaml", "db/pw", Sensitive(fake.password("new")))], [])
    assert status_of(False, False, [entry], changed) == "rotated"
    gone = SopsValues([], [])
    assert status_of(False, False, [entry], gone) == "removed"
    unread = SopsValues([], ["secrets/a.yaml"])
    assert status_of(False, False, [entry], unread) == "unknown"
    assert status_of(True, False, [entry], changed) == "plaintext"


def test_rotate_value_marks_the_entry_or_makes_one() -> None:
    value, other = fake.password("marked"), fake.password("never-purged")
    record = ExposedRecord(None, [_entry(value)])
    mark_rotated(record, "db/pw", ["secrets/a.yaml"], [Sensitive(value)], KEY)
    assert record.entries[0].rotated is not None
    mark_rotated(record, "web/pw", ["secrets/b.yaml"], [Sensitive(other)], KEY)
    made = record.matching(Sensitive(other))
    assert len(made) == 1 and made[0].rotated is not None and made[0].purged is None
    assert status_of(False, False, made, SopsValues([], [])) == "rotated"


def test_a_rotated_crypt_hash_is_matched_to_the_password_history_holds(
    tmp_git_repo: Path,
) -> None:
    """rotate value replaced a password's crypt hash: the plaintext password found in
    history is known rotated (the entry keeps the hash's salt, as public as the hash)."""
    from secretkit.nix.catalogue.password_hash import sha512_crypt

    password = fake.password("hashed-then-rotated")
    record = load_record(tmp_git_repo)
    old = Sensitive(sha512_crypt(password, "saltsaltsalt", 5000))
    mark_rotated(record, "users/stian", ["secrets/a.yaml"], [old], KEY)
    record.save()
    again = load_record(tmp_git_repo)
    (entry,) = again.matching(Sensitive(password))
    assert entry.rotated_by == "rotate value" and entry.crypt_salt is not None
    assert again.matching(Sensitive(fake.password("another"))) == []
    assert record.file is not None and password not in record.file.read_text()


def test_a_purge_after_the_rotation_of_a_crypt_hash_keeps_the_rotation(
    tmp_git_repo: Path,
) -> None:
    """migrate stored an initialPassword as its crypt hash, rotate value replaced the
    hash, then purge took the password out of history: exposed called it "removed, no
    rotation is known" (a stranger's order of steps).  The purged entry keeps it."""
    from secretkit.gate.exposed_record import record_purge, status_of
    from secretkit.gate.history_findings import ExposedSecret
    from secretkit.nix.catalogue.password_hash import sha512_crypt

    password = fake.password("rotated-then-purged")
    record = load_record(tmp_git_repo)
    old = Sensitive(sha512_crypt(password, "saltsaltsalt", 5000))
    mark_rotated(record, "users/stian/hashed-password", ["secrets/a.yaml"], [old], KEY)
    record.save()
    fp = fingerprint(KEY, password)
    secret = ExposedSecret(("users.users.stian.initialPassword",), ("secret-attribute",),
                           ("hosts/a.nix",), 2, "ab…", fp)  # fmt: skip
    after = record_purge(tmp_git_repo, [secret], {fp: Sensitive(password)}, KEY, None)
    (purged,) = [e for e in after.entries if e.purged]
    assert purged.fingerprint == fp and purged.rotated_by == "rotate value"
    held = SopsValues([], [])
    assert status_of(False, False, [purged], held) == "rotated"
    assert load_record(tmp_git_repo).entries[-1].rotated == purged.rotated


def test_rotating_a_files_text_rotates_the_secrets_history_found_in_it(
    tmp_git_repo: Path,
) -> None:
    """A docker-compose file stored whole, replaced with rotate value NAME --from-stdin:
    history had found its password, not the file, and exposed then called the password
    removed with no rotation known (a stranger followed its own fix)."""
    password = fake.password("compose-inner")
    compose = f"services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: {password}\n"
    record = load_record(tmp_git_repo)
    mark_rotated(record, "immich-compose", ["secrets/a.yaml"], [Sensitive(compose)], KEY)
    found = record.matching(Sensitive(password))
    assert found and all(e.rotated_by == "rotate value" for e in found)
    assert record.matching(Sensitive(fake.password("unrelated"))) == []


def test_a_token_stored_alone_is_the_committed_string_stored(tmp_git_repo: Path) -> None:
    """`github.com=<token>` committed (nix.settings.access-tokens), the token alone
    stored by migrate: exposed said the value was in no file now, and rotating that
    name, as its fix says, never made it rotated."""
    from secretkit.gate.exposed_record import entry_places, places_holding

    token = fake.github_token("access")
    committed = Sensitive(f"github.com={token}")
    entry = _entry(committed.reveal())
    held = SopsValues([("secrets/web.yaml", "nix/access-tokens/github.com", Sensitive(token))], [])
    (place,) = places_holding(held, entry.key, entry.fingerprint, committed)
    assert place.part == "part" and place.shown().endswith("github.com (the token in it)")
    entry.stored.append(place)
    record = load_record(tmp_git_repo)
    record.add(entry)
    record.save()
    (entry,) = load_record(tmp_git_repo).entries  # (read back as it was written)
    assert entry.stored == [place]
    assert entry_places(held, entry) == [place]
    assert status_of(False, True, [entry], held) == "not rotated"
    rotated = SopsValues(
        [("secrets/web.yaml", "nix/access-tokens/github.com", Sensitive(fake.github_token("n")))],
        [],
    )
    assert entry_places(rotated, entry) == []
    assert status_of(False, False, [entry], rotated) == "rotated"
    # a word or a setting inside a committed value is no part of it
    short = SopsValues([("secrets/web.yaml", "host", Sensitive("github.com"))], [])
    assert places_holding(short, entry.key, entry.fingerprint, committed) == []


def test_a_committed_value_stored_inside_a_longer_one_is_stored() -> None:
    """An encrypted docker-compose file holds `AWS_ACCESS_KEY_ID=<id>` as one list item;
    the id alone was committed: exposed said "in no file now"."""
    from secretkit.gate.exposed_record import places_holding

    key_id = fake.aws_access_key_id("compose")
    entry = _entry(key_id)
    line = Sensitive(f"AWS_ACCESS_KEY_ID={key_id}")
    held = SopsValues([("docker-compose.yml", "services/app/environment/0", line)], [])
    (place,) = places_holding(held, entry.key, entry.fingerprint, Sensitive(key_id))
    assert place.part == "within" and place.shown().endswith("(inside its value)")
    assert place.fingerprint == entry.fingerprint_of(line.reveal())


def test_a_committed_password_stored_as_a_line_of_an_env_file_is_stored() -> None:
    """A stranger moved paperless's env file into one sops value; its DB password (no
    random token: a phrase of words) was "in no file now" for exposed."""
    from secretkit.gate.exposed_record import places_holding

    password = "-".join(("correct", "horse", "battery"))  # (built: the tree scans clean)
    entry = _entry(password)
    env = Sensitive(f"PAPERLESS_DBUSER=paperless\nPAPERLESS_DBPASS='{password}'\n")
    held = SopsValues([("secrets/nas.yaml", "paperless-env", env)], [])
    (place,) = places_holding(held, entry.key, entry.fingerprint, Sensitive(password))
    assert place.part == "within"
    # a word inside a longer assignment is not the value
    other = Sensitive(f"PAPERLESS_DBPASS={password}-staple\n")
    held = SopsValues([("secrets/nas.yaml", "paperless-env", other)], [])
    assert places_holding(held, entry.key, entry.fingerprint, Sensitive(password)) == []
