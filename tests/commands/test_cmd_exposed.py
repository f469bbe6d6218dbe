"""`secretkit exposed` on the example homelab after `migrate` (the demo): every value
ever committed in plaintext, where it is used now, whether it was replaced — also
after `purge` (from its backup refs) — and never a value in the output."""

from __future__ import annotations

import io
import json
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from secretkit.commands.demo import demo
from secretkit.sensitive import Sensitive
from tests.conftest import GIT_ENV, commit_all, git, need_tool
from tests.support import fake
from tests.support.cli import run_main


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Sensitive[str]]]:
    base = tmp_path_factory.mktemp("template")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOME", str(base / "home"))
        env.setenv("GIT_CONFIG_GLOBAL", str(base / "home" / ".gitconfig"))
        for key, value in GIT_ENV.items():
            env.setenv(key, value)
        for var in ("SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE", "SOPS_CONFIG", "SECRETKIT_ENGINE"):
            env.delenv(var, raising=False)
        result = demo(base / "demo", keep=True)
    return base / "demo", result.secrets


@pytest.fixture
def lab(
    template: tuple[Path, list[Sensitive[str]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, list[Sensitive[str]]]:
    shutil.copytree(template[0], tmp_path / "demo", symlinks=True)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(tmp_path / "demo" / "keys" / "admin.agekey"))
    return tmp_path / "demo" / "homelab", template[1]


def _json(capsys: pytest.CaptureFixture[str], root: Path) -> tuple[int, dict[str, object]]:
    code, out, err = run_main(capsys, "-C", str(root), "exposed", "--format", "json")
    assert "Traceback" not in err
    return code, json.loads(out)


def _by_name(report: dict[str, object]) -> dict[str, dict[str, object]]:
    items = report["exposed"]
    assert isinstance(items, list)
    return {item["names"][0]: item for item in items}


@pytest.mark.slow
def test_after_migrate_every_value_is_listed_as_not_rotated(
    lab: tuple[Path, list[Sensitive[str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, secrets = lab
    code, report = _json(capsys, root)
    assert code == 1
    items = _by_name(report)
    assert len(items) == 13 and report["unchecked"] == []
    assert {item["status"] for item in items.values()} == {"not rotated"}
    token = items["services.prometheus.alertmanager.configuration.receivers.[0]"
                  ".pushover_configs.[0].token"]  # fmt: skip
    assert token["stored"] == ["secrets/observer.yaml: alertmanager/pushover/token"]
    # a password migrated to hashedPasswordFile is still the exposed password
    password = items["users.users.stian.initialPassword"]
    assert any("(its crypt hash)" in place for place in password["stored"])  # type: ignore[attr-defined]
    code, text, err = run_main(capsys, "-C", str(root), "exposed")
    for secret in secrets:
        assert secret.reveal() not in text + err + json.dumps(report)


def test_rotated_values_are_rotated_and_plaintext_ones_are_found(
    lab: tuple[Path, list[Sensitive[str]]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, _ = lab
    name = "services.grafana.settings.security.admin_password"
    assert run_main(capsys, "-C", str(root), "rotate", "value",
                    "grafana/security/admin_password", "--kind", "password")[0] == 0  # fmt: skip
    # a password stored as its crypt hash, rotated: the history's password is rotated too
    password = _by_name(_json(capsys, root)[1])["users.users.stian.initialPassword"]
    stored = password["stored"]
    assert isinstance(stored, list)
    place = next(p for p in stored if p.endswith(" (its crypt hash)"))
    hashed = place.split(": ")[1].removesuffix(" (its crypt hash)")
    # (a new password given on stdin: a random one kept only as its hash is refused)
    new_password = fake.password("stian-new")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(new_password.encode() + b"\n")))
    assert run_main(capsys, "-C", str(root), "rotate", "value", hashed,
                    "--from-stdin")[0] == 0  # fmt: skip
    leaked = fake.pushover_token("left-behind")
    (root / "notes.nix").write_text(f'{{ services.x.token = "{leaked}"; }}\n')
    commit_all(root, "everything, and a new plaintext token")
    code, report = _json(capsys, root)
    items = _by_name(report)
    assert items[name]["status"] == "rotated" and items[name]["stored"] == []
    assert items["users.users.stian.initialPassword"]["status"] == "rotated"
    assert items["services.x.token"]["status"] == "plaintext"
    assert items["services.x.token"]["plaintext"] == ["notes.nix:1"]
    assert code == 1


def test_without_an_identity_nothing_is_called_replaced(
    lab: tuple[Path, list[Sensitive[str]]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, _ = lab
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    code, report = _json(capsys, root)
    assert code == 1
    assert {item["status"] for item in _by_name(report).values()} == {"unknown"}
    assert "secrets/observer.yaml" in report["unchecked"]  # type: ignore[operator]
    # in text, each says its way out, and the files no identity opens are one note
    code, out, err = run_main(capsys, "-C", str(root), "exposed")
    unknown = [line for line in out.splitlines() if "cannot verify rotation" in line]
    fingerprints = [item["fingerprint"] for item in _by_name(report).values()]
    assert len(unknown) == len(fingerprints)
    way_out = "set SOPS_AGE_KEY_FILE to a key that opens them, or if it was changed at its "
    for line, fp in zip(unknown, fingerprints, strict=True):
        assert line.endswith(f"{way_out}provider: secretkit exposed --rotated {fp}")
    notes = [line for line in err.splitlines() if line.startswith("note: no identity")]
    assert len(notes) == 1 and "values in them could not be compared" in notes[0]


@pytest.mark.slow
def test_after_purge_the_checklist_comes_from_the_backup_refs(
    lab: tuple[Path, list[Sensitive[str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    need_tool("git-filter-repo")
    root, secrets = lab
    commit_all(root, "migrated")
    code, out, err = run_main(capsys, "-C", str(root), "purge", "--yes")
    assert code == 0, err
    assert "`secretkit exposed` keeps this checklist" in out
    code, report = _json(capsys, root)
    items = _by_name(report)
    assert len(items) == 13 and code == 1
    assert all(item["only_in_purge_backup"] for item in items.values())
    assert all(item["status"] == "not rotated" for item in items.values())
    code, text, _ = run_main(capsys, "-C", str(root), "exposed")
    assert "(now only in purge's backup refs)" in text and "was in only in" not in text
    for secret in secrets:
        assert secret.reveal() not in out + err + json.dumps(report)


def _drop_backup(root: Path) -> None:
    """The README's line, then what makes the old objects go for good."""
    drop = git(root, "for-each-ref", "--format=delete %(refname)", "refs/secretkit/backup/")
    git(root, "update-ref", "--stdin", input=drop.encode())
    git(root, "reflog", "expire", "--expire=now", "--all")
    git(root, "gc", "-q", "--prune=now")
    assert git(root, "for-each-ref", "refs/secretkit/") == ""


@pytest.mark.slow
def test_the_checklist_outlives_the_backup_refs_until_each_value_is_rotated(
    lab: tuple[Path, list[Sensitive[str]]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """purge's record in the git directory keeps every purged value on the list after
    the backup is dropped, until a rotation is known: by `rotate value`, or by a new
    value at a name that held it (here by `secretkit set`)."""
    from secretkit.commands.set import set_value

    need_tool("git-filter-repo")
    root, secrets = lab
    commit_all(root, "migrated")
    code, out, err = run_main(capsys, "-C", str(root), "purge", "--yes")
    assert code == 0, err
    _drop_backup(root)
    code, report = _json(capsys, root)
    items = _by_name(report)
    assert code == 1 and len(items) == 13
    assert all(item["only_in_purge_record"] for item in items.values())
    assert {item["status"] for item in items.values()} == {"not rotated"}
    token = items["services.prometheus.alertmanager.configuration.receivers.[0]"
                  ".pushover_configs.[0].token"]  # fmt: skip
    assert token["stored"] == ["secrets/observer.yaml: alertmanager/pushover/token"]
    password = items["users.users.stian.initialPassword"]  # its crypt hash is stored
    assert any("(its crypt hash)" in place for place in password["stored"])  # type: ignore[attr-defined]
    record = root / ".git" / "secretkit" / "exposed.json"
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    code, check_out, check_err = run_main(capsys, "-C", str(root), "check")
    assert "warn plaintext-history: warning: 13 value(s) were committed in plaintext " in check_out

    grafana = "services.grafana.settings.security.admin_password"
    assert run_main(capsys, "-C", str(root), "rotate", "value",
                    "grafana/security/admin_password", "--kind", "password")[0] == 0  # fmt: skip
    set_value(root, "secrets/observer.yaml", '["alertmanager"]["pushover"]["token"]',
              Sensitive(fake.pushover_token("the provider's new one")))  # fmt: skip
    code, report = _json(capsys, root)
    items = _by_name(report)
    rotated = {name for name, item in items.items() if item["status"] == "rotated"}
    assert rotated == {grafana, token["names"][0]}  # type: ignore[index]
    assert code == 1
    code, check_out, _ = run_main(capsys, "-C", str(root), "check")
    assert "warning: 11 value(s) were committed in plaintext before a purge" in check_out
    # no identity: what is not known to be rotated cannot be verified, never "rotated"
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    code, report = _json(capsys, root)
    statuses = {name: item["status"] for name, item in _by_name(report).items()}
    assert statuses.pop(grafana) == "rotated"  # rotate value marked it in the record
    assert set(statuses.values()) == {"unknown"}
    code, text, _ = run_main(capsys, "-C", str(root), "exposed")
    assert "cannot verify rotation" in text
    shown = out + err + text + check_out + check_err + json.dumps(report) + record.read_text()
    for secret in secrets:
        assert secret.reveal() not in shown


def test_a_value_only_deleted_is_removed_not_replaced(
    tmp_git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A token deleted from the tree was neither rotated nor moved: it stays on the
    list (exit 1) as removed, never as replaced or rotated."""
    (tmp_git_repo / "old").mkdir()
    (tmp_git_repo / "old" / "github.env").write_text(f"GITHUB_TOKEN={fake.github_token('del')}\n")
    commit_all(tmp_git_repo)
    (tmp_git_repo / "old" / "github.env").unlink()
    commit_all(tmp_git_repo)
    code, report = _json(capsys, tmp_git_repo)
    items = report["exposed"]
    assert isinstance(items, list) and len(items) == 1
    item = items[0]
    assert item["status"] == "removed" and item["paths"] == ["old/github.env"]
    assert code == 1
    code, text, _ = run_main(capsys, "-C", str(tmp_git_repo), "exposed")
    assert "[removed]" in text and "no rotation is known" in text and code == 1
    # the hint it gives works: the user's word that it was changed at its provider
    hint = f"secretkit exposed --rotated {item['fingerprint']}"
    assert hint in text
    code, text, _ = run_main(capsys, "-C", str(tmp_git_repo), *hint.split()[1:])
    assert code == 0 and "[rotated]" in text and "as you said" in text
    code, report = _json(capsys, tmp_git_repo)
    assert code == 0 and report["exposed"][0]["rotated_by"] == "exposed --rotated"  # type: ignore[index]
    code, _, err = run_main(capsys, "-C", str(tmp_git_repo), "exposed", "--rotated", "sk2:0")
    assert code == 2 and "no value on the checklist has the fingerprint sk2:0" in err


def test_a_value_kept_on_an_allowed_line_is_still_in_plaintext(
    tmp_git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stranger marked the committed line `# secretkit: allow`; exposed then said the
    value was "in no file now", though a.nix still held it in plaintext."""
    password = fake.password("allowed-now")
    line = f'  services.grafana.settings.security.admin_password = "{password}";'
    (tmp_git_repo / "a.nix").write_text("{\n" + line + "\n}\n")
    commit_all(tmp_git_repo)
    (tmp_git_repo / "a.nix").write_text("{\n" + line + " # secretkit: allow\n}\n")
    commit_all(tmp_git_repo)
    _code, report = _json(capsys, tmp_git_repo)
    (item,) = report["exposed"]  # type: ignore[misc]
    assert item["status"] != "removed"
    assert item["plaintext"] == ["a.nix:2 (allowed there, or not read as a secret)"]
    _code, text, _ = run_main(capsys, "-C", str(tmp_git_repo), "exposed")
    assert "in no file now" not in text and "still in plaintext: a.nix:2" in text


def test_a_short_value_is_not_in_plaintext_wherever_its_word_is(
    tmp_git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A root password of nixos, migrated away: exposed said it was still in plaintext
    at flake.lock's nixos-24.11 ref and the sops file's own keys."""
    short = "nixos"
    (tmp_git_repo / "a.nix").write_text(f'{{ users.users.root.password = "{short}"; }}\n')
    commit_all(tmp_git_repo)
    (tmp_git_repo / "a.nix").write_text("{ }\n")
    (tmp_git_repo / "flake.lock").write_text(f'{{ "ref": "{short}-24.11" }}\n')
    commit_all(tmp_git_repo)
    _code, report = _json(capsys, tmp_git_repo)
    (item,) = report["exposed"]  # type: ignore[misc]
    assert item["plaintext"] == [] and item["status"] == "removed"


def test_a_damaged_record_is_an_error_never_an_empty_checklist(
    tmp_git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_git_repo / "a.txt").write_text("nothing secret\n")
    commit_all(tmp_git_repo)
    record = tmp_git_repo / ".git" / "secretkit" / "exposed.json"
    record.parent.mkdir()
    record.write_text('{"version": 1, "entries": [{"names": 3}]}\n')
    code, out, err = run_main(capsys, "-C", str(tmp_git_repo), "exposed")
    assert code == 3 and "no value was ever committed" not in out
    assert "cannot read the checklist of purged values" in err and "Traceback" not in err


def test_a_blob_git_cannot_give_is_said_and_never_read_as_nothing(
    tmp_git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A partial clone: the checklist says which blobs it could not read, exits 1, and
    never says that nothing was committed (with or without values found)."""
    from tests.conftest import git

    (tmp_git_repo / "wallpaper.png").write_bytes(b"\x89PNG one\n")
    commit_all(tmp_git_repo)
    (tmp_git_repo / "wallpaper.png").write_bytes(b"\x89PNG two\n")
    commit_all(tmp_git_repo)
    oid = git(tmp_git_repo, "rev-parse", "HEAD~1:wallpaper.png").strip()
    (tmp_git_repo / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    code, stdout, stderr = run_main(capsys, "-C", str(tmp_git_repo), "exposed")
    assert code == 1
    assert "no value was ever committed" not in stdout
    assert "no value found in plaintext in the blobs that could be read" in stdout
    assert "cannot list everything: 1 blob(s)" in stderr and ":wallpaper.png (" in stderr
    code, stdout, _ = run_main(capsys, "-C", str(tmp_git_repo), "exposed", "--format", "json")
    unread = json.loads(stdout)["unread"]
    assert len(unread) == 1 and ":wallpaper.png (its content is missing" in unread[0]
    # with a value as well: it is listed, and the unread blob still said
    value = fake.password("exposed-partial")
    (tmp_git_repo / "host.nix").write_text(f'{{ users.users.a.password = "{value}"; }}\n')
    commit_all(tmp_git_repo)
    code, stdout, stderr = run_main(capsys, "-C", str(tmp_git_repo), "exposed")
    assert code == 1 and "1 value(s) were committed in plaintext" in stdout
    assert "cannot list everything" in stderr and value not in stdout + stderr


def test_a_value_in_a_file_encrypted_whole_is_changed_with_edit() -> None:
    """A stranger's homelab: .npmrc, rclone.conf, wg0.conf … encrypted whole.  exposed
    said `rotate value data --from-stdin (or --kind …)` for each, and both refuse a file
    of several values, each pointing at the other.  `edit` is the way to change it."""
    from secretkit.commands.exposed import _item_lines

    item = _not_rotated("_authToken", ".npmrc: data", "secrets/web.yaml: npm/token")
    text = "\n".join(line.text for line in _item_lines(item))
    assert "new value: secretkit edit .npmrc (encrypted whole: change the value there)" in text
    assert "secretkit rotate value npm/token --from-stdin" in text
    assert "rotate value data" not in text


def test_a_value_inside_a_longer_stored_text_is_changed_with_edit() -> None:
    """helper-123: a password inside a stored SQL script was told `rotate value <name>`,
    which replaced the whole script with the bare password (postgres would run it)."""
    from secretkit.commands.exposed import _item_lines

    item = _not_rotated(
        "services.postgresql.initialScript",
        "secrets/db.yaml: postgres/init-sql (inside its value)",
        "secrets/db.yaml: paperless/dbpass",
    )
    text = "\n".join(line.text for line in _item_lines(item))
    assert (
        "new value: secretkit edit secrets/db.yaml (change it inside the text of "
        "postgres/init-sql; rotate value would replace that whole text)"
    ) in text
    assert "rotate value postgres/init-sql" not in text
    assert "secretkit rotate value paperless/dbpass --from-stdin" in text


def _not_rotated(name: str, *stored: str) -> Any:
    """A value exposed once, still stored at ``stored`` (``file: name`` places)."""
    from secretkit.commands.exposed import ExposedValue

    return ExposedValue(
        names=[name],
        rules=["command-secret"],
        paths=["hosts/a.nix"],
        commits=1,
        preview="x",
        in_backup_only=False,
        secret=Sensitive(fake.password(name)),
        stored=list(stored),
        status="not rotated",
    )


def test_a_sops_value_committed_where_no_scan_sees_it_is_listed(
    lab: tuple[Path, list[Sensitive[str]]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """helper-128: a stored value pasted into a note ("the ddns thing is <value>"),
    committed, then deleted: check's decrypted-copy point found it in history, and
    exposed said no value was ever committed."""
    root, _secrets = lab
    value = fake.passphrase("pasted-note")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(value.encode())))
    code, _out, err = run_main(capsys, "-C", str(root), "set", "secrets/observer.yaml",
                               '["ddns"]["token"]')  # fmt: skip
    assert code == 0, err
    (root / "NOTES.md").write_text(f"the ddns thing is {value}\n")
    commit_all(root, "notes")
    (root / "NOTES.md").unlink()
    commit_all(root, "notes gone")
    code, report = _json(capsys, root)
    assert code == 1
    item = _by_name(report)["ddns/token"]
    assert item["rules"] == ["decrypted-copy"] and item["paths"] == ["NOTES.md"]
    assert item["status"] == "not rotated"
    assert item["stored"] == ["secrets/observer.yaml: ddns/token"]
    assert value not in json.dumps(report)


def test_a_binary_sops_value_is_looked_for_without_an_internal_error(tmp_git_repo: Path) -> None:
    """helper-129: a value of a binary sops file (import agenix of random bytes) is text
    with surrogate escapes; looking for it in history stopped exposed (exit 5)."""
    from secretkit.commands.exposed import _copied_values
    from secretkit.gate.exposed_record import SopsValues
    from secretkit.scan.allowlist import load

    raw = bytes(range(0x80, 0xA0)).decode("utf-8", "surrogateescape")
    (tmp_git_repo / "notes.txt").write_text("nothing here\n")
    commit_all(tmp_git_repo, "notes")
    held = SopsValues([("secrets/blob.bin", "data", Sensitive(raw))], [])
    assert _copied_values(tmp_git_repo, held, [], load(tmp_git_repo).key.hex()) == []
