"""The sops file commands through the real CLI boundary (``secretkit.cli.main``)."""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import sys
import tempfile
from pathlib import Path

import pytest

from secretkit.sops import document, operations
from secretkit.sops.identities import load_identities
from tests.conftest import FIXTURES, need, shared_missing
from tests.sops.keys_support import (
    AgeKey,
    age_key,
    age_rule_config,
    expected,
    fixture_age_keyfile,
    fixture_format,
    fixture_gnupghome,
    manifest,
    run_cli,
    write_sops_yaml,
)

__all__ = ["fixture_gnupghome"]  # a session fixture used below

PLAIN = b"db:\n    password: old-value-123\n    user: admin\napi:\n    token: tok-456\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, AgeKey]:
    """A directory with a .sops.yaml for one age key; the key is the user's identity."""
    root = tmp_path / "repo"
    (root / "secrets").mkdir(parents=True)
    key = age_key()
    age_rule_config(root, key.public, path_regex="^secrets/")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key.write(tmp_path / "keys.txt")))
    return root, key


def _encrypted(root: Path, name: str = "secrets/app.yaml", plain: bytes = PLAIN) -> Path:
    path = root / name
    path.write_bytes(plain)
    result = run_cli(["-C", str(root), "encrypt", "-i", name])
    assert result.code == 0, result.err
    return path


def test_every_sops_command_is_registered_and_has_help() -> None:
    for args in (
        ["encrypt"],
        ["decrypt"],
        ["edit"],
        ["set"],
        ["updatekeys"],
        ["rotate"],
        ["rotate", "data-keys"],
        ["keygen"],
    ):
        result = run_cli([*args, "--help"])
        assert result.code == 0, (args, result.err)
        assert "Usage:" in result.out


def test_encrypt_decrypt_round_trip(repo: tuple[Path, AgeKey]) -> None:
    root, key = repo
    (root / "secrets/app.yaml").write_bytes(PLAIN)
    out = run_cli(["-C", str(root), "encrypt", "secrets/app.yaml"])
    assert out.code == 0, out.err
    assert b"old-value-123" not in out.stdout
    assert key.public.encode() in out.stdout
    assert (root / "secrets/app.yaml").read_bytes() == PLAIN  # stdout only
    (root / "secrets/app.yaml").write_bytes(out.stdout)
    back = run_cli(["-C", str(root), "decrypt", "secrets/app.yaml"])
    assert (back.code, back.stdout) == (0, PLAIN)


def test_encrypt_output_and_in_place(repo: tuple[Path, AgeKey]) -> None:
    root, _ = repo
    (root / "secrets/app.yaml").write_bytes(PLAIN)
    result = run_cli(
        ["-C", str(root), "encrypt", "secrets/app.yaml", "--output", "secrets/out.yaml"]
    )
    assert (result.code, result.stdout) == (0, b"")
    assert document.is_sops_file((root / "secrets/out.yaml").read_bytes(), "yaml")
    both = run_cli(["-C", str(root), "encrypt", "-i", "secrets/app.yaml", "--output", "x"])
    assert both.code == 2
    path = _encrypted(root)
    again = run_cli(["-C", str(root), "encrypt", "-i", "secrets/app.yaml"])
    assert again.code == 3, again.err
    assert again.err.startswith("error: secrets/app.yaml: the file is already encrypted")
    assert document.is_sops_file(path.read_bytes(), "yaml")


def test_encrypt_without_matching_rule_exits_3_with_hint(repo: tuple[Path, AgeKey]) -> None:
    root, _ = repo
    (root / "other.yaml").write_bytes(PLAIN)
    result = run_cli(["-C", str(root), "encrypt", "other.yaml"])
    assert result.code == 3
    assert result.err == (
        f"error: no creation rule in {root / '.sops.yaml'} matches other.yaml (hint: add a "
        "creation_rules entry whose path_regex matches the file (secretkit hosts add adds "
        "one per host))\n"
    )
    assert result.stdout == b""


def test_decrypt_extract_and_output_file_mode(repo: tuple[Path, AgeKey]) -> None:
    root, _ = repo
    _encrypted(root)
    value = run_cli(["-C", str(root), "decrypt", "secrets/app.yaml", "--extract", '["db"]["user"]'])
    assert (value.code, value.stdout) == (0, b"admin")
    sub = run_cli(["-C", str(root), "decrypt", "secrets/app.yaml", "--extract", '["api"]'])
    assert (sub.code, sub.stdout) == (0, b"token: tok-456\n")
    missing = run_cli(["-C", str(root), "decrypt", "secrets/app.yaml", "--extract", '["nope"]'])
    assert missing.code == 3
    assert missing.err.startswith("error: the key path does not exist in secrets/app.yaml")
    result = run_cli(["-C", str(root), "decrypt", "secrets/app.yaml", "--output", "plain.yaml"])
    assert (result.code, result.stdout) == (0, b"")
    assert (root / "plain.yaml").read_bytes() == PLAIN
    assert stat.S_IMODE((root / "plain.yaml").stat().st_mode) == 0o600


# --- tampering ------------------------------------------------------------------------
def _flip_b64(text: str) -> str:
    index = len(text) // 2
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


def _tamper(data: str, what: str) -> str:
    if what == "lastmodified":
        match = re.search(r'lastmodified: "(\d{4}-\d\d-\d\dT\d\d:\d\d:)(\d\d)Z"', data)
        assert match is not None
        seconds = (int(match.group(2)) + 1) % 60
        return data.replace(match.group(0), f'lastmodified: "{match.group(1)}{seconds:02d}Z"')
    line_key = "mac:" if what == "mac" else "password:"
    line = next(line for line in data.splitlines() if line.strip().startswith(line_key))
    field = {"value": "data", "mac": "data", "tag": "tag", "iv": "iv"}[what]
    match = re.search(rf"{field}:([^,\]]+)", line)
    assert match is not None
    new_line = line.replace(match.group(0), f"{field}:{_flip_b64(match.group(1))}")
    return data.replace(line, new_line)


@pytest.mark.parametrize("what", ["value", "tag", "iv", "mac", "lastmodified"])
def test_tampered_file_exits_4_without_plaintext(repo: tuple[Path, AgeKey], what: str) -> None:
    root, _ = repo
    path = _encrypted(root)
    tampered = _tamper(path.read_text(), what)
    assert tampered != path.read_text()
    path.write_text(tampered)
    result = run_cli(["-C", str(root), "decrypt", "secrets/app.yaml"])
    assert result.code == 4, result.err
    assert result.stdout == b""
    for secret in (b"old-value-123", b"admin", b"tok-456"):
        assert secret not in result.stderr
    assert result.err.startswith("error: ") and result.err.count("\n") == 1
    # commands that rewrite the file refuse it too and leave it as it was
    for args, stdin in (
        (["set", "secrets/app.yaml", '["db"]["user"]'], b"x"),
        (["rotate", "data-keys", "secrets/app.yaml"], None),
    ):
        refused = run_cli(["-C", str(root), *args], input=stdin)
        assert refused.code == 4, (args, refused.err)
        assert path.read_text() == tampered


# --- malformed inputs -----------------------------------------------------------------
def _case_bad_config(root: Path, key: AgeKey) -> list[str]:
    write_sops_yaml(root, "creation_rules:\n  - path_regex: '('\n")
    (root / "secrets/app.yaml").write_bytes(PLAIN)
    return ["encrypt", "secrets/app.yaml"]


def _case_truncated_armor(root: Path, key: AgeKey) -> list[str]:
    path = _encrypted(root)
    lines = path.read_text().splitlines(keepends=True)
    begin = next(i for i, x in enumerate(lines) if "BEGIN AGE ENCRYPTED FILE" in x)
    end = next(i for i, x in enumerate(lines) if "END AGE ENCRYPTED FILE" in x)
    assert end - begin > 3
    path.write_text("".join(lines[: begin + 2] + lines[end:]))  # body cut to one line
    return ["decrypt", "secrets/app.yaml"]


def _case_wrong_key(root: Path, key: AgeKey) -> list[str]:
    _encrypted(root)
    os.environ["SOPS_AGE_KEY_FILE"] = str(age_key().write(root / "other-key.txt"))
    return ["decrypt", "secrets/app.yaml"]


def _case_missing_metadata(root: Path, key: AgeKey) -> list[str]:
    (root / "secrets/app.yaml").write_bytes(PLAIN)
    return ["decrypt", "secrets/app.yaml"]


def _case_bad_key_file(root: Path, key: AgeKey) -> list[str]:
    _encrypted(root)
    bad = root / "bad-keys.txt"
    bad.write_text("# my keys\nAGE-SECRET-KEY-1NOTAKEY\n")
    os.environ["SOPS_AGE_KEY_FILE"] = str(bad)
    return ["decrypt", "secrets/app.yaml"]


def _case_no_config(root: Path, key: AgeKey) -> list[str]:
    (root / ".sops.yaml").unlink()
    (root / "secrets/app.yaml").write_bytes(PLAIN)
    return ["encrypt", "secrets/app.yaml"]


MALFORMED = [
    (
        _case_bad_config,
        3,
        "error: {root}/.sops.yaml rule 1: path_regex is not a valid regular expression "
        "(missing ), unterminated subpattern) (hint: path_regex is a Go RE2 regular "
        "expression, e.g. ^secrets/host\\.yaml$)",
    ),
    (
        _case_truncated_armor,
        4,
        # (the key here is the block's recipient: setting it, as "no identity" advised,
        # changed nothing)
        "error: the key block of secrets/app.yaml for {public}, a key here, does not open "
        "with that key: it was damaged or edited by hand (hint: restore the file's last "
        "version that opens (secretkit check names it), or have another recipient run "
        "secretkit updatekeys on it)",
    ),
    (
        _case_wrong_key,
        4,
        "error: no identity decrypts secrets/app.yaml (recipients: {public}) (hint: set "
        "SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY) to the private key of one of its age recipients)",
    ),
    (
        _case_missing_metadata,
        3,
        "error: secrets/app.yaml: not a sops file: no sops metadata found (yaml) (hint: "
        "encrypt it with `secretkit encrypt -i FILE`, or restore it from git if it was damaged)",
    ),
    (
        _case_bad_key_file,
        3,
        "error: {root}/bad-keys.txt line 2: not an age identity (hint: each line must be "
        "AGE-SECRET-KEY-1… or a # comment)",
    ),
    (
        _case_no_config,
        3,
        "error: no .sops.yaml found in {root} or its parents (hint: create one with "
        "`secretkit init --admin age1…` (or set SOPS_CONFIG))",
    ),
]


@pytest.mark.parametrize(
    ("case", "code", "message"), MALFORMED, ids=lambda v: getattr(v, "__name__", "")
)
def test_malformed_inputs(
    repo: tuple[Path, AgeKey],
    monkeypatch: pytest.MonkeyPatch,
    case: object,
    code: int,
    message: str,
) -> None:
    root, key = repo
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", os.environ["SOPS_AGE_KEY_FILE"])  # restored after
    args = case(root, key)  # type: ignore[operator]
    result = run_cli(["-C", str(root), *args])
    assert result.stdout == b""
    assert result.err.count("\n") == 1 and result.err.startswith("error: ")
    assert "Traceback" not in result.err
    assert result.code == code
    assert result.err == message.format(root=root, public=key.public) + "\n"


# --- edit -----------------------------------------------------------------------------
EDITOR = """\
import json, os, stat, sys
path = sys.argv[1]
log = os.environ["EDIT_LOG"]
info = {
    "path": path,
    "file_mode": stat.S_IMODE(os.stat(path).st_mode),
    "dir_mode": stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode),
}
with open(log, "w") as handle:
    json.dump(info, handle)
mode = os.environ.get("EDIT_MODE", "none")
data = open(path, "rb").read()
if mode == "replace":
    data = data.replace(b"old-value-123", b"new-value-789")
elif mode == "new":
    data = b"fresh:\\n    key: created-in-editor\\n"
elif mode == "fail":
    sys.exit(3)
elif mode == "garbage":
    data = b"a: [unclosed\\n"
open(path, "wb").write(data)
"""


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    script = tmp_path / "editor.py"
    script.write_text(EDITOR)
    log = tmp_path / "editor-log.json"
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    monkeypatch.setenv("EDIT_LOG", str(log))
    monkeypatch.setattr(tempfile, "tempdir", str(temp_root))
    return log


def _editor_saw(log: Path) -> dict[str, object]:
    info = json.loads(log.read_text())
    assert info["file_mode"] == 0o600
    assert info["dir_mode"] == 0o700
    assert not Path(str(info["path"])).exists()
    assert not Path(str(info["path"])).parent.exists()
    return info


def test_edit_unchanged_leaves_file_byte_identical(
    repo: tuple[Path, AgeKey], editor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = repo
    path = _encrypted(root)
    before = path.read_bytes()
    monkeypatch.setenv("EDIT_MODE", "none")
    result = run_cli(["-C", str(root), "edit", "secrets/app.yaml"])
    assert result.code == 0, result.err
    assert path.read_bytes() == before
    _editor_saw(editor)


def test_edit_changed_value_keeps_other_ciphertexts(
    repo: tuple[Path, AgeKey], editor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = repo
    path = _encrypted(root)
    before = path.read_text().splitlines()
    monkeypatch.setenv("EDIT_MODE", "replace")
    result = run_cli(["-C", str(root), "edit", "secrets/app.yaml"])
    assert result.code == 0, result.err
    after = path.read_text().splitlines()
    plain = operations.decrypt_bytes(path.read_bytes(), "yaml", load_identities())
    assert plain.to_python() == {
        "db": {"password": "new-value-789", "user": "admin"},  # secretkit: allow
        "api": {"token": "tok-456"},  # secretkit: allow
    }
    for key in ("user:", "token:"):
        assert next(x for x in before if key in x) == next(x for x in after if key in x)
    assert next(x for x in before if "password:" in x) != next(x for x in after if "password:" in x)
    _editor_saw(editor)


@pytest.mark.parametrize("mode", ["fail", "garbage"])
def test_edit_failure_saves_nothing_and_removes_temp(
    repo: tuple[Path, AgeKey], editor: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    root, _ = repo
    path = _encrypted(root)
    before = path.read_bytes()
    monkeypatch.setenv("EDIT_MODE", mode)
    result = run_cli(["-C", str(root), "edit", "secrets/app.yaml"])
    assert result.code == 3
    assert "nothing was saved" in result.err
    assert path.read_bytes() == before
    _editor_saw(editor)


def test_edit_creates_a_new_file_from_the_rule(
    repo: tuple[Path, AgeKey], editor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, key = repo
    monkeypatch.setenv("EDIT_MODE", "new")
    result = run_cli(["-C", str(root), "edit", "secrets/new.yaml"])
    assert result.code == 0, result.err
    data = (root / "secrets/new.yaml").read_bytes()
    assert key.public.encode() in data
    plain = operations.decrypt_bytes(data, "yaml", load_identities())
    assert plain.to_python() == {"fresh": {"key": "created-in-editor"}}
    _editor_saw(editor)


# --- set --------------------------------------------------------------------------------
def test_set_reads_the_value_from_stdin(repo: tuple[Path, AgeKey]) -> None:
    root, _ = repo
    path = _encrypted(root)
    result = run_cli(
        ["-C", str(root), "set", "secrets/app.yaml", '["db"]["password"]'], input=b"piped-value\n"
    )
    assert result.code == 0, result.err
    assert b"piped-value" not in result.stdout + result.stderr
    made = run_cli(
        ["-C", str(root), "set", "--json", "secrets/app.yaml", '["extra"]'], input=b'{"n": 2}'
    )
    assert made.code == 0, made.err
    plain = operations.decrypt_bytes(path.read_bytes(), "yaml", load_identities()).to_python()
    assert plain["db"]["password"] == "piped-value"  # type: ignore[index]
    assert plain["extra"] == {"n": 2}  # type: ignore[index]
    created = run_cli(["-C", str(root), "set", "secrets/new.yaml", '["a"]'], input=b"x\r\n")
    assert created.code == 0, created.err
    new = operations.decrypt_bytes(
        (root / "secrets/new.yaml").read_bytes(), "yaml", load_identities()
    )
    assert new.to_python() == {"a": "x"}


# --- updatekeys / rotate -------------------------------------------------------------------
def _data_key(path: Path, key: AgeKey) -> bytes:
    ids = load_identities({"SOPS_AGE_KEY": key.secret, "HOME": "/x"})
    return operations.data_key_of(document.load_encrypted(path.read_bytes(), "yaml"), ids)


def test_updatekeys_and_rotate_commands(repo: tuple[Path, AgeKey]) -> None:
    root, key = repo
    path = _encrypted(root)
    values_before = [x for x in path.read_text().splitlines() if "ENC[" in x]
    same = run_cli(["-C", str(root), "updatekeys", "secrets/app.yaml"])
    assert (same.code, same.out) == (0, "secrets/app.yaml: already up to date\n")
    other = age_key()
    age_rule_config(root, key.public, other.public, path_regex="^secrets/")
    changed = run_cli(["-C", str(root), "updatekeys"])
    assert (changed.code, changed.out) == (0, "secrets/app.yaml: updated\n")
    assert [x for x in path.read_text().splitlines() if "ENC[" in x] == values_before
    assert _data_key(path, other) == _data_key(path, key)
    old_key = _data_key(path, key)
    rotated = run_cli(["-C", str(root), "rotate", "data-keys", "secrets/app.yaml"])
    assert (rotated.code, rotated.out) == (0, "secrets/app.yaml: new data key\n")
    assert _data_key(path, other) == _data_key(path, key) != old_key
    back = run_cli(["-C", str(root), "decrypt", "secrets/app.yaml"])
    assert back.stdout == PLAIN


def test_shamir_below_threshold_exits_4(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, c = age_key(), age_key(), age_key()
    root = tmp_path / "r"
    root.mkdir()
    write_sops_yaml(
        root,
        "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n"
        f"      - age: [{a.public}]\n      - age: [{b.public}]\n      - age: [{c.public}]\n",
    )
    (root / "s.yaml").write_bytes(PLAIN)
    monkeypatch.setenv("SOPS_AGE_KEY", f"{a.secret}\n{c.secret}")
    assert run_cli(["-C", str(root), "encrypt", "-i", "s.yaml"]).code == 0
    assert run_cli(["-C", str(root), "decrypt", "s.yaml"]).stdout == PLAIN
    monkeypatch.setenv("SOPS_AGE_KEY", b.secret)
    result = run_cli(["-C", str(root), "decrypt", "s.yaml"])
    assert result.code == 4
    assert result.stdout == b""
    assert "1 of the 2 key groups needed could be opened" in result.err


# --- keygen -----------------------------------------------------------------------------------
def test_keygen_output_file(tmp_path: Path) -> None:
    result = run_cli(["-C", str(tmp_path), "keygen", "--output", "id.txt"])
    assert result.code == 0, result.err
    text = (tmp_path / "id.txt").read_text()
    lines = text.splitlines()
    assert lines[0].startswith("# created: ")
    assert lines[1].startswith("# public key: age1")
    assert lines[2].startswith("AGE-SECRET-KEY-1") and len(lines) == 3
    assert stat.S_IMODE((tmp_path / "id.txt").stat().st_mode) == 0o600
    assert result.stdout == b""
    assert result.err == f"Public key: {lines[1].split(': ')[1]}\n"
    assert lines[2] not in result.err
    ids = load_identities({"SOPS_AGE_KEY_FILE": str(tmp_path / "id.txt"), "HOME": "/x"})
    assert ids.recipients == [lines[1].split(": ")[1]]
    again = run_cli(["-C", str(tmp_path), "keygen", "--output", "id.txt"])
    assert again.code == 3
    assert (tmp_path / "id.txt").read_text() == text


def test_keygen_to_stdout_when_not_a_terminal(tmp_path: Path) -> None:
    result = run_cli(["keygen"])
    assert result.code == 0
    assert result.out.splitlines()[2].startswith("AGE-SECRET-KEY-1")
    assert result.err.startswith("Public key: age1")


def test_keygen_from_ssh_derives_the_hosts_age_identity(tmp_path: Path) -> None:
    # ssh-keygen makes the key; the identity is the one ssh-to-age (and sops-nix) derive:
    # its public key is the age recipient of the ssh public key
    import subprocess

    from secretkit.keys.ssh_to_age import ssh_pubkey_to_age

    key = tmp_path / "host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    want = ssh_pubkey_to_age(key.with_suffix(".pub").read_text())
    result = run_cli(["-C", str(tmp_path), "keygen", "--from-ssh", "host_key"])
    assert result.code == 0, result.err
    assert result.err.startswith(f"Public key: {want}")
    identity = result.out.splitlines()[-1]
    assert identity.startswith("AGE-SECRET-KEY-1") and identity not in result.err
    # a passphrase: the printed way out, done as said, converts the copy
    locked = tmp_path / "locked_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "pass phrase", "-f", str(locked)],
                   check=True)  # fmt: skip
    refused = run_cli(["-C", str(tmp_path), "keygen", "--from-ssh", "locked_key"])
    assert refused.code == 3 and "protected by a passphrase" in refused.err
    assert "ssh-keygen -p -N '' -f COPY" in refused.err
    copy = tmp_path / "copy"
    copy.write_bytes(locked.read_bytes())
    copy.chmod(0o600)
    subprocess.run(["ssh-keygen", "-q", "-p", "-P", "pass phrase", "-N", "", "-f", str(copy)],
                   check=True)  # fmt: skip
    again = run_cli(["-C", str(tmp_path), "keygen", "--from-ssh", "copy"])
    assert again.code == 0
    assert again.err.startswith(
        f"Public key: {ssh_pubkey_to_age(locked.with_suffix('.pub').read_text())}"
    )
    # not an ed25519 key: one line, exit 3
    rsa = tmp_path / "rsa_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(rsa)],
                   check=True)  # fmt: skip
    other = run_cli(["-C", str(tmp_path), "keygen", "--from-ssh", "rsa_key"])
    assert other.code == 3 and "ed25519" in other.err and "Traceback" not in other.err


INTERRUPTING_EDITOR = """\
import json, os, signal, sys, time
path = sys.argv[1]
with open(os.environ["EDIT_LOG"], "w") as handle:
    json.dump({"path": path}, handle)
os.kill(os.getppid(), signal.SIGINT)
time.sleep(10)
"""


def test_edit_interrupted_removes_the_plaintext_temp(
    repo: tuple[Path, AgeKey], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = repo
    path = _encrypted(root)
    before = path.read_bytes()
    script = tmp_path / "interrupt.py"
    script.write_text(INTERRUPTING_EDITOR)
    log = tmp_path / "log.json"
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    monkeypatch.setenv("EDIT_LOG", str(log))
    monkeypatch.setenv("TMPDIR", str(temp_root))
    # A process of its own, as a user runs it at a terminal: Ctrl-C's SIGINT handled
    # (a test run started in the background inherits SIGINT ignored, and Python then
    # keeps ignoring it: the edit would end with "no changes")
    import signal
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", "-C", str(root), "edit", "secrets/app.yaml"],
        capture_output=True,
        timeout=60,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.returncode == 130, proc.stderr
    assert path.read_bytes() == before
    assert json.loads(log.read_text())["path"].startswith(str(temp_root))
    assert list(temp_root.iterdir()) == []


_APP_JSON = b'{"db": {"password": "old-value-123", "port": 5432}, "k": "v"}\n'  # secretkit: allow


@pytest.mark.parametrize(
    ("name", "plain"),
    [
        ("secrets/app.json", _APP_JSON),
        ("secrets/app.env", b"PASSWORD=old-value-123\nUSER=admin\n"),
        ("secrets/app.ini", b"[db]\npassword = old-value-123\nuser = admin\n"),
    ],
)
def test_edit_other_formats_keeps_unchanged_ciphertexts(
    repo: tuple[Path, AgeKey],
    editor: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    plain: bytes,
) -> None:
    root, _ = repo
    path = _encrypted(root, name, plain)
    before = path.read_bytes()
    monkeypatch.setenv("EDIT_MODE", "none")
    assert run_cli(["-C", str(root), "edit", name]).code == 0
    assert path.read_bytes() == before
    monkeypatch.setenv("EDIT_MODE", "replace")
    result = run_cli(["-C", str(root), "edit", name])
    assert result.code == 0, result.err
    old_enc = set(re.findall(r"ENC\[[^\]]+type:(?:str|int)\]", before.decode()))
    new_enc = set(re.findall(r"ENC\[[^\]]+type:(?:str|int)\]", path.read_text()))
    fmt = document.format_for_path(name)
    old_mac = document.load_encrypted(before, fmt).metadata.mac
    assert len(old_enc - new_enc - {old_mac}) == 1  # only the edited value changed (and the MAC)
    text = document.dump_plain(operations.decrypt_bytes(path.read_bytes(), fmt, load_identities()))
    assert b"new-value-789" in text and b"old-value-123" not in text


# --- every real-sops fixture through the CLI ------------------------------------------------
FIXTURE_NAMES = [str(entry["file"]) for entry in manifest()] or ["<no fixtures>"]
_SUFFIX = {"yaml": ".yaml", "json": ".json", "dotenv": ".env", "ini": ".ini"}


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_cli_decrypts_every_real_sops_fixture(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    need(FIXTURES.is_dir(), shared_missing("files written by the real sops binary", FIXTURES))
    entry = next(e for e in manifest() if e["file"] == name)
    keyfile = fixture_age_keyfile(entry, tmp_path)
    if keyfile is not None:
        monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(keyfile))
    if entry.get("pgp_keys"):
        monkeypatch.setenv("GNUPGHOME", str(request.getfixturevalue("fixture_gnupghome")))
    fmt = fixture_format(entry)
    copy = tmp_path / Path(name).name
    if document.format_for_path(copy) != fmt:  # sops' --input-type: a suffix does it here
        copy = copy.with_name(copy.name + _SUFFIX[fmt])
    copy.write_bytes((FIXTURES / name).read_bytes())
    result = run_cli(["-C", str(tmp_path), "decrypt", copy.name])
    if entry.get("expect_mac") is False:
        assert (result.code, result.stdout) == (4, b"")
        assert result.err.startswith(f"error: {copy.name}: MAC mismatch")
        return
    assert result.code == 0, result.err
    want = expected(entry)["plaintext"]
    if fmt == "binary":
        assert result.stdout == str(want).encode("utf-8")
    else:
        assert document.load_plain(result.stdout, fmt).to_python() == want


def test_updatekeys_is_all_or_nothing(repo: tuple[Path, AgeKey], tmp_path: Path) -> None:
    root, key = repo
    first = _encrypted(root, "secrets/a.yaml")
    stranger = age_key()
    (root / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: ^secrets/b\n    age: {stranger.public}\n"
        f"  - path_regex: ^secrets/\n    age: {key.public}\n"
    )
    second = _encrypted(root, "secrets/b.yaml")  # only the stranger can open it
    before = (first.read_bytes(), second.read_bytes())
    newcomer = age_key()
    (root / ".sops.yaml").write_text(
        f"creation_rules:\n  - age: [{key.public}, {newcomer.public}]\n"
    )
    result = run_cli(["-C", str(root), "updatekeys", "secrets/a.yaml", "secrets/b.yaml"])
    assert result.code == 4
    assert result.err.startswith("error: no identity decrypts secrets/b.yaml")
    assert (first.read_bytes(), second.read_bytes()) == before


def test_an_ssh_key_for_a_file_of_its_ssh_to_age_key_gets_the_conversion_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Host files are encrypted for age1… derived from the ssh host key (sops-nix's way);
    # sops opens only ssh-ed25519 stanzas with SOPS_AGE_SSH_PRIVATE_KEY_FILE, so the
    # right key failed with the generic "set SOPS_AGE_KEY_FILE" hint.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from secretkit.keys.ssh_to_age import ssh_pubkey_to_age

    key = ed25519.Ed25519PrivateKey.generate()
    private = tmp_path / "ssh_host_ed25519_key"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    line = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    root = tmp_path / "repo"
    (root / "secrets").mkdir(parents=True)
    age_rule_config(root, ssh_pubkey_to_age(line.decode()), path_regex="^secrets/")
    _encrypted(root)
    monkeypatch.delenv("SOPS_AGE_KEY_FILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SOPS_AGE_SSH_PRIVATE_KEY_FILE", str(private))
    result = run_cli(["-C", str(root), "decrypt", "secrets/app.yaml"])
    assert result.code == 4
    assert result.err.startswith("error: no identity decrypts secrets/app.yaml")
    assert "(hint: the file is encrypted for the age key derived from your ssh key" in result.err
    # the conversion it names is secretkit's own (ssh-to-age may not be installed):
    # done as printed, the converted key opens the file
    command = re.search(r"\((secretkit keygen --from-ssh [^)]*)\)", result.err)
    assert command is not None, result.err
    args = shlex.split(command.group(1))[1:]
    converted = Path(args[args.index("--output") + 1])
    assert converted.parent == tmp_path / "home" and not converted.is_relative_to(root)
    (tmp_path / "home").mkdir()
    made = run_cli(args)
    assert made.code == 0, made.err
    assert stat.S_IMODE(converted.stat().st_mode) == 0o600
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(converted))
    opened = run_cli(["-C", str(root), "decrypt", "secrets/app.yaml"])
    assert opened.code == 0 and opened.out.encode() == PLAIN
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    other = ed25519.Ed25519PrivateKey.generate()
    private.write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    unrelated = run_cli(["-C", str(root), "decrypt", "secrets/app.yaml"])
    assert unrelated.code == 4 and "derived from your ssh key" not in unrelated.err
