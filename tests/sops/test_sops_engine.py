"""The Engine Protocol (secretkit.sops.engine): the built-in engine does each file
operation itself; the sops-binary engine is looked up only when first used; the
identities of a run are loaded once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from secretkit.errors import IntegrityError, UserError
from secretkit.sops import document, operations
from secretkit.sops.engine import (
    BinaryEngine,
    Engine,
    LazyIdentities,
    PythonEngine,
    describe,
    engine_for,
)
from tests.sops.keys_support import AgeKey, age_key, age_rule_config

PLAIN = b"db:\n    password: engine-value-2\n    user: admin\n"


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, AgeKey, LazyIdentities]:
    root = tmp_path / "repo"
    (root / "secrets").mkdir(parents=True)
    key = age_key()
    age_rule_config(root, key.public, path_regex="^secrets/")
    keyfile = key.write(tmp_path / "keys.txt")
    env = {"HOME": str(tmp_path / "home"), "SOPS_AGE_KEY_FILE": str(keyfile)}
    return root, key, LazyIdentities(env)


def test_engine_for_builds_the_named_engine(tmp_path: Path) -> None:
    python: Engine = engine_for("python", tmp_path)
    binary: Engine = engine_for("sops", tmp_path)
    assert (python.name, python.knows_recipients) == ("python", True)
    assert (binary.name, binary.knows_recipients) == ("sops", False)
    assert isinstance(python, PythonEngine) and isinstance(binary, BinaryEngine)


def test_python_engine_round_trip(repo: tuple[Path, AgeKey, LazyIdentities]) -> None:
    root, _key, identities = repo
    engine = PythonEngine(root, identities)
    path = root / "secrets/a.yaml"
    path.write_bytes(PLAIN)
    encrypted = engine.encrypt(path)
    assert b"engine-value-2" not in encrypted
    path.write_bytes(encrypted)
    assert engine.decrypt(path) == PLAIN
    assert engine.decrypt(path, '["db"]["user"]') == b"admin"

    assert engine.set(path, '["db"]["port"]', 5432) is False
    assert engine.set(root / "secrets/new.yaml", '["token"]', "t-1") is True
    assert engine.decrypt(root / "secrets/new.yaml", '["token"]') == b"t-1"
    assert engine.decrypt(path, '["db"]["port"]') == b"5432"

    files = [path, root / "secrets/new.yaml"]
    assert engine.updatekeys(root, files) == [False, False]  # already for the rule's key
    before = operations.data_key_of(
        document.load_encrypted(path.read_bytes(), "yaml"), identities()
    )
    engine.rotate(root, files)
    after = operations.data_key_of(document.load_encrypted(path.read_bytes(), "yaml"), identities())
    assert before != after
    assert engine.decrypt(path, '["db"]["password"]') == b"engine-value-2"


def test_python_engine_edit_calls_the_editor_with_the_plaintext(
    repo: tuple[Path, AgeKey, LazyIdentities],
) -> None:
    root, _key, identities = repo
    engine = PythonEngine(root, identities)
    path = root / "secrets/a.yaml"
    path.write_bytes(PLAIN)
    path.write_bytes(engine.encrypt(path))
    seen: list[tuple[bytes, bytes | None, str]] = []

    def unchanged(original: bytes, before: bytes | None, fmt: str) -> document.PlainFile | None:
        seen.append((original, before, fmt))
        return None

    data = path.read_bytes()
    assert engine.edit(path, unchanged) == "unchanged"
    assert seen == [(PLAIN, data, "yaml")] and path.read_bytes() == data

    def change(original: bytes, before: bytes | None, fmt: str) -> document.PlainFile:
        return document.load_plain(original.replace(b"admin", b"root"), fmt)

    assert engine.edit(path, change) == "updated"
    assert engine.decrypt(path, '["db"]["user"]') == b"root"
    assert engine.edit(root / "secrets/b.yaml", change) == "created"


def test_identities_are_loaded_once_and_only_when_needed(
    repo: tuple[Path, AgeKey, LazyIdentities], tmp_path: Path
) -> None:
    root, key, identities = repo
    assert identities() is identities()
    assert key.public in identities().recipients
    broken = tmp_path / "broken.txt"
    broken.write_text("not a key\n")
    engine = PythonEngine(
        root, LazyIdentities({"HOME": str(tmp_path), "SOPS_AGE_KEY_FILE": str(broken)})
    )
    path = root / "secrets/a.yaml"
    path.write_bytes(PLAIN)
    assert engine.encrypt(path)  # encrypting needs no identity: the broken file is not read
    path.write_bytes(engine.encrypt(path))
    with pytest.raises(UserError):
        engine.decrypt(path)


def test_a_wrong_key_is_an_integrity_error(
    repo: tuple[Path, AgeKey, LazyIdentities], tmp_path: Path
) -> None:
    root, _key, identities = repo
    path = root / "secrets/a.yaml"
    path.write_bytes(PLAIN)
    path.write_bytes(PythonEngine(root, identities).encrypt(path))
    other = age_key().write(tmp_path / "other.txt")
    stranger = PythonEngine(
        root, LazyIdentities({"HOME": str(tmp_path), "SOPS_AGE_KEY_FILE": str(other)})
    )
    with pytest.raises(IntegrityError):
        stranger.decrypt(path)


def test_the_sops_binary_is_looked_up_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    engine = engine_for("sops", tmp_path)  # choosing it is fine
    (tmp_path / "a.yaml").write_bytes(PLAIN)
    with pytest.raises(UserError, match="`sops` is not on PATH"):
        engine.encrypt(tmp_path / "a.yaml")
    assert describe("sops") == "sops binary (not found on PATH)"


def test_describe_names_each_engine() -> None:
    assert describe("python") == "python (built-in, writes sops 3.x files)"
    found = shutil.which("sops", path=os.environ.get("PATH"))
    expected = f"sops binary at {found}" if found else "sops binary (not found on PATH)"
    assert describe("sops") == expected
    assert describe("go") == "'go' (invalid SECRETKIT_ENGINE: use 'python' or 'sops')"
