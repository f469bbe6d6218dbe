"""`secretkit exposed` on the example homelab after `migrate` (the demo): every value
ever committed in plaintext, where it is used now, whether it was replaced — also
after `purge` (from its backup refs) — and never a value in the output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from secretkit.commands.demo import demo
from secretkit.sensitive import Sensitive
from tests.conftest import GIT_ENV, commit_all, need_tool
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
    lab: tuple[Path, list[Sensitive[str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = lab
    name = "services.grafana.settings.security.admin_password"
    assert run_main(capsys, "-C", str(root), "rotate", "value",
                    "grafana/security/admin_password", "--kind", "password")[0] == 0  # fmt: skip
    leaked = fake.pushover_token("left-behind")
    (root / "notes.nix").write_text(f'{{ services.x.token = "{leaked}"; }}\n')
    commit_all(root, "everything, and a new plaintext token")
    code, report = _json(capsys, root)
    items = _by_name(report)
    assert items[name]["status"] == "rotated" and items[name]["stored"] == []
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
    for secret in secrets:
        assert secret.reveal() not in out + err + json.dumps(report)


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
