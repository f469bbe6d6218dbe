"""Shared test fixtures: real git repositories in temp dirs, the shared sops fixtures,
and fake secrets built at run time (no token-shaped literal lives in a test file)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SECRETKIT_SHARED", ROOT.parent / "shared"))
FIXTURES = SHARED / "fixtures" / "sops"

# In CI every external oracle (age CLI, npm readers, nix-instantiate, gpg, the shared
# fixtures) must be present: a missing one fails instead of skipping.
REQUIRE_ORACLES = os.environ.get("SECRETKIT_REQUIRE_ORACLES") == "1"

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def need(condition: bool, reason: str) -> None:
    """Skip (visibly, with a reason) when an optional tool is absent — fail in CI."""
    if condition:
        return
    if REQUIRE_ORACLES:
        pytest.fail(f"required in CI but missing: {reason}")
    pytest.skip(reason)


# How to get each external tool the tests use, in words a user can act on (Debian).
INSTALL_HINTS = {
    "nix-instantiate": "the Nix parser; Debian: sudo apt install nix-bin",
    "age": "the reference age CLI; Debian: sudo apt install age",
    "age-keygen": "the reference age CLI; Debian: sudo apt install age",
    "gpg": "Debian: sudo apt install gnupg",
    "git-filter-repo": "Debian: sudo apt install git-filter-repo",
    "ssh-keygen": "Debian: sudo apt install openssh-client",
    "ssh-keyscan": "Debian: sudo apt install openssh-client",
    "wg": "WireGuard's key tool; Debian: sudo apt install wireguard-tools",
    "mkpasswd": "an independent crypt(3) check; Debian: sudo apt install whois",
    "openssl": "Debian: sudo apt install openssl",
    "chattr": "Debian: sudo apt install e2fsprogs",
    "node": "the JavaScript sops reader; Debian: sudo apt install nodejs npm, "
    "then npm install in tests/interop",
    "pre-commit": "it comes with pip install -e '.[test]': run the tests from the "
    "activated virtualenv",
}


def need_tool(name: str) -> str:
    path = shutil.which(name)
    hint = INSTALL_HINTS.get(name)
    need(path is not None, f"{name} is not installed" + (f" ({hint})" if hint else ""))
    assert path is not None
    return path


def shared_missing(what: str, path: Path) -> str:
    """The skip reason for test data that lives outside this repository."""
    return (
        f"{what} not found at {path}: they are not part of this repository; "
        "set SECRETKIT_SHARED to the folder that holds them"
    )


@pytest.fixture(autouse=True)
def _isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test sees the developer's keys, git config or sops config."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GNUPGHOME", str(home / ".gnupg"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    for var in (
        "SOPS_AGE_KEY",
        "SOPS_AGE_KEY_FILE",
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
        "SOPS_AGE_KEY_CMD",
        "SOPS_CONFIG",
        "SECRETKIT_ENGINE",
        "SECRETKIT_LOCK_WAIT",
        "XDG_CACHE_HOME",
        "EDITOR",
        "VISUAL",
    ):
        monkeypatch.delenv(var, raising=False)
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(autouse=True)
def _release_repository_locks() -> Iterator[None]:
    """A library call in a test takes the repository lock like a command; the CLI drops
    it when the command ends, here the test's end does."""
    yield
    from secretkit import repolock

    repolock.release_all()


def git(repo: Path, *args: str, input: bytes | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, input=input, capture_output=True, check=True)
    return proc.stdout.decode()


@pytest.fixture
def tmp_git_repo(tmp_path: Path) -> Iterator[Path]:
    """An empty git repository with author and committer pinned."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Test Author")
    git(repo, "config", "user.email", "author@example.invalid")
    git(repo, "config", "commit.gpgsign", "false")
    yield repo


@pytest.fixture
def committed_repo(tmp_git_repo: Path) -> Path:
    """:func:`tmp_git_repo` with one commit of one file (a HEAD and a root commit)."""
    (tmp_git_repo / "README.md").write_text("hi\n")
    commit_all(tmp_git_repo, "init")
    return tmp_git_repo


def commit_all(repo: Path, message: str = "commit") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def shallow_past_a_token(repo: Path, clone: Path, token: str) -> Path:
    """``repo`` with ``token`` committed in b.env and removed in the next commit, and
    ``clone``: a clone of it one commit deep (the token lies behind its boundary)."""
    (repo / "b.env").write_text(f"TOKEN={token}\n")
    commit_all(repo, "token")
    (repo / "b.env").unlink()
    (repo / "README.md").write_text("hi\n")
    commit_all(repo, "gone")
    git(clone.parent, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    return clone


@pytest.fixture
def sops_fixtures() -> Path:
    """The real-sops fixtures in ../shared (third-party data, never committed here)."""
    need(FIXTURES.is_dir(), shared_missing("files written by the real sops binary", FIXTURES))
    return FIXTURES
