"""A small homelab repository for the rotation tests: real age and ssh-ed25519 keys,
``.sops.yaml`` made by ``secretkit init``/``hosts add``, and sops files with fake
secrets made by the engine (no token-shaped literal in any test file)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyrage import x25519

from secretkit.errors import SecretkitError
from secretkit.sops import document, operations
from secretkit.sops.config import find_config
from secretkit.sops.identities import Identities, load_identities
from tests.conftest import ROOT, commit_all
from tests.sops.keys_support import CliResult, run_cli
from tests.support import fake


@dataclass(frozen=True)
class Key:
    """An identity: the secret (``AGE-SECRET-KEY-1…``) and its ``age1…`` recipient."""

    secret: str = field(repr=False)  # never in a failing test's traceback
    public: str
    ssh_pub: str | None = None  # 'ssh-ed25519 AAAA…' for keys made from an ssh host key

    def identities(self) -> Identities:
        return load_identities({"SOPS_AGE_KEY": self.secret, "HOME": "/nonexistent"})

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# public key: {self.public}\n{self.secret}\n")
        path.chmod(0o600)
        return path


def age_key() -> Key:
    identity = x25519.Identity.generate()
    return Key(str(identity), str(identity.to_public()))


def new_ssh_key() -> tuple[bytes, str]:
    """A fresh ssh ed25519 key: its OpenSSH private key and its public line."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    pub = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return pem, pub.decode() + " root@host"


def ssh_host_key() -> Key:
    """An ssh ed25519 host key, converted like sops-nix does (via the hosts engineer's
    ssh_to_age), so the identity is the one the host would really use."""
    from secretkit.keys.ssh_to_age import ssh_private_key_to_age, ssh_pubkey_to_age

    pem, line = new_ssh_key()
    return Key(ssh_private_key_to_age(pem).reveal(), ssh_pubkey_to_age(line), line)


# what each host's file holds (values are built at run time)
HOST_SECRETS: dict[str, dict[tuple[str, ...], str]] = {
    "observer": {
        ("alertmanager", "pushover", "token"): fake.pushover_token("obs"),
        ("alertmanager", "pushover", "user_key"): fake.pushover_user_key("obs"),
        ("prometheus", "syncthing", "api_key"): fake.syncthing_api_key("obs"),
    },
    "immich": {
        ("borg", "passphrase"): fake.passphrase("immich"),
        ("db", "password"): fake.password("immich"),
    },
    "jellyfin": {("api", "key"): fake.hex_key(16, "jelly")},
}
SHARED_SECRETS: dict[tuple[str, ...], str] = {
    ("tailscale", "auth_key"): fake.tailscale_auth_key("shared")
}
SHARED_RULE = (
    "  - path_regex: ^secrets/shared\\.yaml$\n"
    "    key_groups:\n"
    "      - age:\n"
    "          - *admin_stian\n"
    "          - *host_observer\n"
    "          - *host_immich\n"
)


@dataclass
class Lab:
    root: Path
    admin: Key
    hosts: dict[str, Key]
    keyfile: Path
    values: dict[str, dict[tuple[str, ...], str]] = field(default_factory=dict)

    def cli(self, *args: str, env: Mapping[str, str] | None = None) -> CliResult:
        return run_cli(
            ["-C", str(self.root), *args],
            env={"SOPS_AGE_KEY_FILE": str(self.keyfile), **(env or {})},
        )

    def files(self) -> dict[str, bytes]:
        return {rel: (self.root / rel).read_bytes() for rel in self.values}

    def opens(self, rel: str, key: Key) -> bool:
        data = (self.root / rel).read_bytes()
        try:
            operations.decrypt_bytes(data, document.format_for_path(rel), key.identities())
        except SecretkitError:
            return False
        return True

    def plaintext(self, rel: str, key: Key) -> dict[tuple[str, ...], str]:
        data = (self.root / rel).read_bytes()
        plain = operations.decrypt_bytes(data, document.format_for_path(rel), key.identities())
        return {tuple(str(p) for p in path): str(value) for path, value in plain.leaves()}


def make_lab(repo: Path, tmp: Path, *, shared: bool = True, extra_files: int = 0) -> Lab:
    """``repo`` (a git repo) with an admin, three ssh-keyed hosts, one file per host,
    a shared file (observer + immich), ``extra_files`` more observer-rule files
    under ``secrets/observer/``, and everything committed."""
    admin = age_key()
    hosts = {name: ssh_host_key() for name in HOST_SECRETS}
    base = ["-C", str(repo)]
    assert run_cli([*base, "init", "--admin", admin.public, "--admin-name", "stian"]).code == 0
    for name, key in hosts.items():
        assert key.ssh_pub is not None
        result = run_cli([*base, "hosts", "add", name, "--ssh-pubkey", key.ssh_pub])
        assert result.code == 0, result.err
    sops_yaml = repo / ".sops.yaml"
    text = sops_yaml.read_text()
    if shared:
        text = text.rstrip("\n") + "\n" + SHARED_RULE
    if extra_files:
        text = (
            text.rstrip("\n")
            + "\n"
            + SHARED_RULE.replace("^secrets/shared\\.yaml$", "^secrets/observer/").replace(
                "          - *host_immich\n", ""
            )
        )
    sops_yaml.write_text(text)
    lab = Lab(repo, admin, hosts, admin.write(tmp / "admin-keys.txt"))
    plan = {f"secrets/{name}.yaml": values for name, values in HOST_SECRETS.items()}
    if shared:
        plan["secrets/shared.yaml"] = SHARED_SECRETS
    for i in range(extra_files):
        plan[f"secrets/observer/extra{i:03}.yaml"] = {
            ("svc", f"n{i}", "password"): fake.password(f"x{i}")
        }
    config = find_config(repo)
    assert config is not None
    for rel, values in plan.items():
        rule = config.rule_for(repo / rel)
        assert rule is not None, rel
        data = operations.set_values(None, "yaml", values, rule=rule, identities=admin.identities())
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(data)
        lab.values[rel] = dict(values)
    (repo / "README.md").write_text("homelab\n")
    commit_all(repo, "homelab with secrets")
    return lab


def run_subprocess(
    lab: Lab, *args: str, kill_after: int | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The CLI in its own process (for the kill tests: os._exit must not kill pytest)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env["SOPS_AGE_KEY_FILE"] = str(lab.keyfile)
    env["PYTHONPATH"] = str(ROOT)
    env.pop("SECRETKIT_TEST_KILL_AFTER_WRITES", None)
    if kill_after is not None:
        env["SECRETKIT_TEST_KILL_AFTER_WRITES"] = str(kill_after)
    return subprocess.run(
        [sys.executable, "-m", "secretkit", "-C", str(lab.root), *args],
        env=env,
        capture_output=True,
        check=False,
        timeout=120,
    )


def make_template_lab(base: Path, *, extra_files: int) -> Lab:
    """A lab built once per test module (module-scoped fixtures run before the per-test
    isolation of conftest, so the environment is pinned here the same way)."""
    import pytest

    from tests.conftest import GIT_ENV, git

    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOME", str(base / "home"))
        env.setenv("GIT_CONFIG_GLOBAL", str(base / "home" / ".gitconfig"))
        for key, value in GIT_ENV.items():
            env.setenv(key, value)
        for var in ("SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE", "SOPS_CONFIG", "SECRETKIT_ENGINE"):
            env.delenv(var, raising=False)
        repo = base / "repo"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        git(repo, "config", "user.name", "Test Author")
        git(repo, "config", "user.email", "author@example.invalid")
        git(repo, "config", "commit.gpgsign", "false")
        return make_lab(repo, base, extra_files=extra_files)
