"""The same command contract for both engines: the built-in one and the Go ``sops`` binary
(``--engine sops``), which is skipped visibly when ``sops`` is not on PATH."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.sops.keys_support import AgeKey, age_key, age_rule_config, run_cli

PLAIN = b"db:\n    password: engine-value-1\n    user: admin\n"


@pytest.fixture(params=["python", "sops"])
def engine(request: pytest.FixtureRequest) -> str:
    if request.param == "sops" and shutil.which("sops") is None:
        pytest.skip("the Go sops binary is not on PATH (optional engine)")
    return str(request.param)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, AgeKey]:
    root = tmp_path / "repo"
    (root / "secrets").mkdir(parents=True)
    key = age_key()
    age_rule_config(root, key.public, path_regex="^secrets/")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key.write(tmp_path / "keys.txt")))
    monkeypatch.chdir(root)  # sops looks for .sops.yaml from its cwd
    return root, key


def test_contract_encrypt_decrypt_tamper(repo: tuple[Path, AgeKey], engine: str) -> None:
    root, _ = repo
    (root / "secrets/a.yaml").write_bytes(PLAIN)
    base = ["--engine", engine, "-C", str(root)]
    assert run_cli([*base, "encrypt", "-i", "secrets/a.yaml"]).code == 0
    assert run_cli([*base, "decrypt", "secrets/a.yaml"]).stdout == PLAIN
    extracted = run_cli([*base, "decrypt", "secrets/a.yaml", "--extract", '["db"]["user"]'])
    assert extracted.stdout == b"admin"
    text = (root / "secrets/a.yaml").read_text()
    line = next(x for x in text.splitlines() if "password:" in x)
    data = line.split("data:")[1].split(",")[0]
    (root / "secrets/a.yaml").write_text(
        text.replace(line, line.replace(data, ("A" if data[0] != "A" else "B") + data[1:]))
    )
    bad = run_cli([*base, "decrypt", "secrets/a.yaml"])
    assert bad.code == 4
    assert bad.stdout == b""


def test_contract_updatekeys_and_rotate(repo: tuple[Path, AgeKey], engine: str) -> None:
    root, key = repo
    (root / "secrets/a.yaml").write_bytes(PLAIN)
    base = ["--engine", engine, "-C", str(root)]
    assert run_cli([*base, "encrypt", "-i", "secrets/a.yaml"]).code == 0
    other = age_key()
    age_rule_config(root, key.public, other.public, path_regex="^secrets/")
    assert run_cli([*base, "updatekeys", "secrets/a.yaml"]).code == 0
    assert run_cli([*base, "rotate", "data-keys", "secrets/a.yaml"]).code == 0
    os.environ["SOPS_AGE_KEY_FILE"] = str(other.write(root.parent / "other.txt"))
    assert run_cli([*base, "decrypt", "secrets/a.yaml"]).stdout == PLAIN


def test_sops_engine_chosen_but_absent_exits_3(
    repo: tuple[Path, AgeKey], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = repo
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    (root / "secrets/a.yaml").write_bytes(PLAIN)
    for args in (["--engine", "sops"], []):
        if not args:
            monkeypatch.setenv("SECRETKIT_ENGINE", "sops")
        result = run_cli([*args, "-C", str(root), "decrypt", "secrets/a.yaml"])
        assert result.code == 3
        assert result.err == (
            "error: the sops engine was chosen but `sops` is not on PATH (hint: install sops, "
            "or drop --engine sops / SECRETKIT_ENGINE=sops to use the built-in engine)\n"
        )


FAKE_SOPS = """\
import json, os, sys
with open(os.environ["FAKE_SOPS_LOG"], "a") as log:
    log.write(json.dumps({"argv": sys.argv[1:], "stdin": sys.stdin.read()}) + "\\n")
sys.exit(int(os.environ.get("FAKE_SOPS_EXIT", "0")))
"""


def test_binary_backend_plumbing_with_a_stand_in(
    repo: tuple[Path, AgeKey], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What secretkit hands to sops (the real binary is not installable here): values go
    on stdin, never argv; sops' exit codes map onto ours; its stderr is not echoed."""
    root, _ = repo
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "sops"
    script.write_text(f"#!{sys.executable}\n{FAKE_SOPS}")
    script.chmod(0o755)
    log = tmp_path / "sops-log.jsonl"
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SOPS_LOG", str(log))
    base = ["--engine", "sops", "-C", str(root)]
    ok = run_cli([*base, "set", "secrets/a.yaml", '["db"]["password"]'], input=b"v-secret\n")
    assert ok.code == 0, ok.err
    call = json.loads(log.read_text().splitlines()[-1])
    assert call["argv"][-2:] == [str(root / "secrets/a.yaml"), '["db"]["password"]']
    assert "--value-stdin" in call["argv"]
    assert call["stdin"] == '"v-secret"'
    assert not any("v-secret" in arg for arg in call["argv"])
    for code, ours in ((51, 4), (128, 4), (61, 3), (1, 3)):
        monkeypatch.setenv("FAKE_SOPS_EXIT", str(code))
        result = run_cli([*base, "decrypt", "secrets/a.yaml"])
        assert result.code == ours
        assert f"(sops exit {code})" in result.err
