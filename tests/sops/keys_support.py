"""Helpers for the engine-keys tests: throwaway age identities, a gpg keyring with the
fixture keys, ``.sops.yaml`` writers, and running the CLI through ``secretkit.cli.main``."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyrage import x25519

from tests.conftest import FIXTURES, need_tool


@dataclass(frozen=True)
class AgeKey:
    secret: str = field(repr=False)  # a failing test's traceback shows the fixture's repr
    public: str

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# public key: {self.public}\n{self.secret}\n")
        path.chmod(0o600)
        return path


def age_key() -> AgeKey:
    identity = x25519.Identity.generate()
    return AgeKey(str(identity), str(identity.to_public()))


def write_sops_yaml(root: Path, body: str) -> Path:
    path = root / ".sops.yaml"
    path.write_text(body)
    return path


def age_rule_config(root: Path, *recipients: str, path_regex: str = ".*", extra: str = "") -> Path:
    listed = ", ".join(recipients)
    return write_sops_yaml(
        root, f"creation_rules:\n  - path_regex: {path_regex}\n    age: [{listed}]\n{extra}"
    )


@dataclass
class CliResult:
    code: int
    stdout: bytes
    stderr: bytes

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")


def run_cli(
    args: list[str], *, input: bytes | None = None, env: Mapping[str, str] | None = None
) -> CliResult:
    """``secretkit ARGS`` through the real error boundary (``secretkit.cli.main``)."""
    from secretkit.cli import main

    runner = CliRunner()
    with runner.isolation(input=input, env=dict(env or {})) as (out, err, _):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        else:  # pragma: no cover - main always exits
            code = 0
        return CliResult(code, out.getvalue(), err.getvalue())


# --- the shared real-sops fixtures ----------------------------------------------------
def manifest() -> list[dict[str, object]]:
    path = FIXTURES / "manifest.json"
    if not path.is_file():
        return []
    fixtures = json.loads(path.read_text())["fixtures"]
    assert isinstance(fixtures, list)
    return fixtures


def expected(entry: Mapping[str, object]) -> dict[str, object]:
    name = str(entry["file"]).replace("/", "__")
    data = json.loads((FIXTURES / "expected" / f"{name}.json").read_text())
    assert isinstance(data, dict)
    return data


def fixture_format(entry: Mapping[str, object]) -> str:
    from secretkit.sops import document

    explicit = entry.get("format")
    return str(explicit) if explicit else document.format_for_path(str(entry["file"]))


def fixture_age_keyfile(entry: Mapping[str, object], directory: Path) -> Path | None:
    keys = entry.get("age_keys") or []
    assert isinstance(keys, list)
    if not keys:
        return None
    path = directory / "age-keys.txt"
    path.write_text("".join((FIXTURES / str(key)).read_text() + "\n" for key in keys))
    return path


@pytest.fixture(scope="session")
def fixture_gnupghome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A gpg home with every PGP secret key of the fixtures imported (once per session)."""
    need_tool("gpg")
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    for key in sorted((FIXTURES / "keys").glob("*.asc")):
        subprocess.run(
            ["gpg", "--batch", "--import", str(key)], env=env, capture_output=True, check=True
        )
    yield home
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, capture_output=True, check=False)
