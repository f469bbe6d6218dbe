"""`secretkit init` through the real entry point (secretkit.cli.main)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import run_main

ADMIN = "age1v8zjc47jmlqwefyu66s0d4ke98qr4vnuj3cpvs4z9npfdw833dxqwjrhzv"
OTHER = "age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw"
SSH_LINE = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBI1+Q+ntzANebtnicCiAY29uqLGWOaOGLEa8bUqOVmS u@h"
SSH_AGE = "age1a8pk4akrdamj7nvqy3zywgtny8dxz7t5xzu7u8v9mhrayp9freqsqatyrs"


run = run_main


def test_init_creates_at_git_root_and_is_idempotent(
    tmp_git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sub = tmp_git_repo / "hosts" / "x"
    sub.mkdir(parents=True)
    code, out, err = run(capsys, "-C", str(sub), "init", "--admin", ADMIN, "--admin-name", "stian")
    assert (code, err) == (0, "")
    path = tmp_git_repo / ".sops.yaml"
    assert out == f"created {path} with admin stian ({ADMIN})\n"
    first = path.read_bytes()
    assert f"&admin_stian {ADMIN}".encode() in first
    mtime = path.stat().st_mtime_ns
    code, out, _ = run(capsys, "-C", str(sub), "init", "--admin", ADMIN, "--admin-name", "stian")
    assert code == 0
    assert out == ".sops.yaml: admin stian already present, nothing to do\n"
    assert path.read_bytes() == first and path.stat().st_mtime_ns == mtime


def test_init_outside_git_uses_cwd_and_user_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "first.last")
    code, _, _ = run(capsys, "-C", str(tmp_path), "init", "--admin", ADMIN)
    assert code == 0
    assert f"&admin_first_last {ADMIN}" in (tmp_path / ".sops.yaml").read_text()


def test_init_default_name_admin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import pwd

    monkeypatch.delenv("USER", raising=False)
    monkeypatch.delenv("LOGNAME", raising=False)
    assert run(capsys, "-C", str(tmp_path), "init", "--admin", ADMIN)[0] == 0
    account = pwd.getpwuid(os.getuid()).pw_name  # (not &admin_admin: whose key is that?)
    assert f"&admin_{account} " in (tmp_path / ".sops.yaml").read_text()


def test_init_accepts_an_ssh_key_and_converts_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("init", "--admin", SSH_LINE, "--admin-name", "a")
    code, out, _ = run(capsys, "-C", str(tmp_path), *args)
    assert code == 0 and SSH_AGE in out
    assert f"&admin_a {SSH_AGE}" in (tmp_path / ".sops.yaml").read_text()


def test_second_admin_is_added_to_host_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "-C", str(tmp_path), "init", "--admin", ADMIN, "--admin-name", "a")
    run(capsys, "-C", str(tmp_path), "hosts", "add", "web", "--age", SSH_AGE)
    code, out, err = run(capsys, "-C", str(tmp_path), "init", "--admin", OTHER, "--admin-name", "b")
    assert code == 0
    assert out == f".sops.yaml: added admin b ({OTHER})\n"
    assert err == (
        "1 creation rule(s) changed recipients: run `secretkit updatekeys` on their files\n"
    )
    text = (tmp_path / ".sops.yaml").read_text()
    assert "- *admin_a\n          - *admin_b\n          - *host_web\n" in text


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["--admin", OTHER, "--admin-name", "stian"],
            3,
            "error: admin stian already has a different key in .sops.yaml "
            "(hint: pick another --admin-name, or edit the admin key in .sops.yaml by hand)\n",
        ),
        (
            ["--admin", ADMIN[:-1] + "q", "--admin-name", "x"],
            3,
            "error: invalid age recipient: bech32 checksum does not match "
            "(a typo or a truncated key?) (hint: copy the age1… key again "
            "(age-keygen -y, or ssh-to-age))\n",
        ),
        (  # init has no --ssh-pubkey option: --admin itself takes an ssh key line
            ["--admin", "notakey", "--admin-name", "x"],
            3,
            "error: not an age recipient (expected age1…) (hint: pass your age1… public key "
            "(`secretkit keygen` prints one) or your 'ssh-ed25519 AAAA…' public key line)\n",
        ),
        (
            ["--admin", ADMIN, "--admin-name", "a.b"],
            3,
            "error: invalid admin name 'a.b': use letters, digits, '-' and '_' (max 63) "
            "(hint: use your user name, e.g. 'stian')\n",
        ),
    ],
)
def test_init_refusals_change_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    message: str,
) -> None:
    run(capsys, "-C", str(tmp_path), "init", "--admin", ADMIN, "--admin-name", "stian")
    before = (tmp_path / ".sops.yaml").read_bytes()
    got, out, err = run(capsys, "-C", str(tmp_path), "init", *args)
    assert (got, out, err) == (code, "", message)
    assert (tmp_path / ".sops.yaml").read_bytes() == before


def test_init_requires_admin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "-C", str(tmp_path), "init")
    assert code == 2 and "--admin" in err
    assert not (tmp_path / ".sops.yaml").exists()


def test_the_admin_is_named_after_the_account_when_user_is_not_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stranger's $USER was empty: the anchor became &admin_admin."""
    import os
    import pwd

    from secretkit.commands.init import default_admin_name

    assert default_admin_name({"USER": "Jane Doe"}) == "Jane_Doe"
    assert default_admin_name({"LOGNAME": "ops"}) == "ops"
    assert default_admin_name({}) == "admin"  # (given no environment: nothing to go by)
    monkeypatch.delenv("USER", raising=False)
    monkeypatch.delenv("LOGNAME", raising=False)
    assert default_admin_name() == pwd.getpwuid(os.getuid()).pw_name
