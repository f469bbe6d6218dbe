"""The README's "your own repository" walk-through, run line by line on a temp flake.

Every command of the block runs in order through bash, as a user would type it,
with its exit code checked.  Three things are filled in, as the README tells the
user to: `HOST` (a name `hosts list` prints), the admin public key (`age1…`, from
the keygen line) and the host's ssh key (the `ssh-keyscan` line: the host key is
generated here, no ssh server is asked).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, commit_all, git, need_tool
from tests.support import fake
from tests.support.fake import secretkit_bin

README = (ROOT / "README.md").read_text(encoding="utf-8")

FLAKE = """\
{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";
  outputs = { self, nixpkgs }: {
    nixosConfigurations.web = nixpkgs.lib.nixosSystem {
      system = "x86_64-linux";
      modules = [ ./hosts/web/default.nix ];
    };
  };
}
"""

MODULE = """\
{ config, ... }:
{
  networking.hostName = "web";
  services.borgbackup.jobs.home.encryption.mode = "repokey";
  services.borgbackup.jobs.home.encryption.passphrase = "@VALUE@";
}
"""

# (what the line starts with, its exit code): the README's comments say the same
EXPECTED = [
    ("cd ", None),
    ("secretkit scan", 1),
    ("mkdir -p ~/.config/sops/age && secretkit keygen", 0),
    ("secretkit init", 0),
    ("secretkit hosts list", 0),
    ("ssh-keyscan", 0),
    ("secretkit hosts add", 0),
    ("secretkit migrate --dry-run", 0),
    ("secretkit migrate --yes", 0),
    ("git add .sops.yaml secrets/", 0),
    ("secretkit hook install", 0),
    ("git commit -am", 0),
    ("secretkit check", 1),
    ("secretkit purge --yes", 0),
    ("git for-each-ref --format='delete %(refname)' refs/secretkit/backup/", 0),
    ("git reflog expire --expire=now --all && git gc --prune=now", 0),
    ("secretkit check", 0),
]


def walkthrough_lines() -> list[str]:
    section = README[README.index("## Your own repository, step by step") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    lines = []
    for raw in block.group(1).splitlines():
        line = re.sub(r"\s+#\s.*$", "", raw).strip()
        if line:
            lines.append(line)
    return lines


def test_the_walkthrough_has_no_demo_host_names() -> None:
    section = README[README.index("## Your own repository, step by step") :]
    section = section[: section.index("\n## ", 10)]
    for demo_host in ("observer", "immich", "syncthing", "jellyfin", "adguard", "offsite"):
        assert demo_host not in section, demo_host


@pytest.mark.slow
def test_the_walkthrough_runs_in_order_on_a_fresh_flake(tmp_git_repo: Path, tmp_path: Path) -> None:
    need_tool("git-filter-repo")
    ssh_keygen = need_tool("ssh-keygen")
    repo = tmp_git_repo
    value = fake.passphrase("walkthrough")
    (repo / "flake.nix").write_text(FLAKE)
    (repo / "hosts" / "web").mkdir(parents=True)
    (repo / "hosts" / "web" / "default.nix").write_text(MODULE.replace("@VALUE@", value))
    commit_all(repo, "my homelab")

    host_key = tmp_path / "ssh_host_ed25519_key"
    subprocess.run([ssh_keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
    bin_dir = tmp_path / "bin"
    secretkit_bin(bin_dir)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    home = Path(env["HOME"])

    lines = walkthrough_lines()
    assert [line.split()[0] for line in lines] == [e[0].split()[0] for e in EXPECTED]
    for line, (start, expected) in zip(lines, EXPECTED, strict=True):
        assert line.startswith(start), (line, start)
        if expected is None:  # `cd path/to/your/flake`: we are there
            continue
        command = line.replace("HOST", "web")
        if "age1…" in command:
            keys = (home / ".config" / "sops" / "age" / "keys.txt").read_text()
            public = re.search(r"^# public key: (age1\w+)$", keys, re.M)
            assert public is not None
            command = command.replace("age1…", public.group(1))
        if command.startswith("ssh-keyscan"):
            # what ssh-keyscan prints for the host: "<address> ssh-ed25519 AAAA…"
            target = re.search(r">\s*(\S+)$", command)
            assert target is not None
            scanned = "127.0.0.1 " + host_key.with_suffix(".pub").read_text()
            command = f"printf '%s' '{scanned.strip()}' > {target.group(1)}"
        proc = subprocess.run(
            ["bash", "-c", command], cwd=repo, env=env, capture_output=True, text=True
        )
        assert proc.returncode == expected, (line, proc.stdout, proc.stderr)
        assert value not in proc.stdout + proc.stderr

    # the end state the walk-through promises
    assert (repo / "secrets" / "web.yaml").is_file()
    assert git(repo, "status", "--porcelain") == ""
    assert value not in git(repo, "log", "-p", "main")
    # (nor any object of the clone: the reflog's old commits went with the gc)
    assert value not in git(repo, "log", "-g", "-p", "--all")
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert value.encode() not in path.read_bytes(), path


UNKNOWN_OPTION = """\
{ config, ... }:
{
  networking.hostName = "web";
  services.exporter.apiKey = "@VALUE@";
}
"""

BY_HAND = """\
{ config, ... }:
{
  networking.hostName = "web";
  sops.secrets."exporter-api-key".sopsFile = ../../secrets/web.yaml;
  services.exporter.apiKeyFile = config.sops.secrets."exporter-api-key".path;
}
"""


@pytest.mark.slow
def test_the_by_hand_recipe_for_an_option_without_a_known_route_passes_check(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    """The first row of "needs a change by hand", followed as written."""
    from secretkit.keys import sops_yaml_edits
    from tests.sops.keys_support import age_key

    repo = tmp_git_repo
    value = fake.syncthing_api_key("by-hand")
    (repo / "flake.nix").write_text(FLAKE)
    (repo / "hosts" / "web").mkdir(parents=True)
    module = repo / "hosts" / "web" / "default.nix"
    module.write_text(UNKNOWN_OPTION.replace("@VALUE@", value))
    admin, host = age_key(), age_key()
    key_file = admin.write(tmp_path / "keys.txt")
    sops_yaml_edits.init(repo, admin.public, "me")
    sops_yaml_edits.add_host(repo, "web", host.public)
    env = dict(os.environ, SOPS_AGE_KEY_FILE=str(key_file), VALUE=value)
    env["PATH"] = f"{secretkit_bin(tmp_path / 'bin').parent}{os.pathsep}{env['PATH']}"

    def sh(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", command], cwd=repo, env=env, capture_output=True, text=True
        )

    refused = sh("secretkit migrate --dry-run")
    assert "cannot migrate safely: no file-based option or template route is known for" in (
        refused.stderr
    )
    row = README[README.index("| `no file-based option or template route") :].splitlines()[0]
    store = re.search(r"`(printf[^`]*)`", row)
    assert store is not None
    command = store.group(1).replace("\\|", "|").replace("HOST", "web")
    command = command.replace("NAME", "exporter-api-key")
    assert sh(command).returncode == 0
    module.write_text(BY_HAND)
    git(repo, "add", "-A")
    check = json.loads(sh("secretkit check --format json").stdout)
    refs = [c for c in check["checks"] if c["id"] == "nix-secret-refs"]
    assert refs and all(c["ok"] for c in refs), refs
    assert sh("secretkit scan").returncode == 0
    decrypted = sh("secretkit decrypt secrets/web.yaml --extract '[\"exporter-api-key\"]'")
    assert decrypted.stdout == value
