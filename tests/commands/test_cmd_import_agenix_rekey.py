"""`import agenix` on an agenix-rekey repository: the master identity opens the sources,
the host configurations say who reads what."""

from __future__ import annotations

import subprocess
from pathlib import Path

from secretkit.errors import SecretkitError
from secretkit.sops import operations
from secretkit.sops.identities import load_identities
from tests.commands.agenix_support import REKEY_SECRETS, make_rekey_lab
from tests.conftest import commit_all, git, need_tool


def _values(path: Path, keyfile: Path) -> dict[str, bytes] | None:
    identities = load_identities({"SOPS_AGE_KEY_FILE": str(keyfile), "HOME": "/nonexistent"})
    try:
        plain = operations.decrypt_bytes(path.read_bytes(), "yaml", identities)
    except SecretkitError:  # not a reader of this file
        return None
    return {str(k[0]): str(v).encode() for k, v in plain.leaves()}


def test_agenix_rekey_is_converted(tmp_path: Path) -> None:
    lab = make_rekey_lab(tmp_path)
    result = lab.run("import", "agenix", "--yes")
    assert result.returncode == 0, result.stderr.decode()
    tree = lab.tree()
    for host in ("web1", "web2"):
        wanted = {n: lab.values[n] for n, readers in REKEY_SECRETS.items() if host in readers}
        assert _values(lab.root / "secrets" / f"{host}.yaml", lab.host_keyfile(host)) == wanted
        assert _values(lab.root / "secrets" / f"{host}.yaml", lab.admin_keyfile) == wanted
    other = _values(lab.root / "secrets" / "web2.yaml", lab.host_keyfile("web1"))
    assert other is None  # web1 cannot open web2's file
    assert not [rel for rel in tree if rel.endswith(".age")]
    assert not [f for f in git(lab.root, "ls-files").split() if f.endswith(".age")]
    nix_instantiate = need_tool("nix-instantiate")
    for rel in ("modules/common.nix", "hosts/web1/default.nix", "hosts/web2/default.nix"):
        text = tree[rel].decode()
        assert "rekey" not in text and "age.secrets" not in text and "generator" not in text
        parsed = subprocess.run([nix_instantiate, "--parse", str(lab.root / rel)],
                                capture_output=True, check=False)  # fmt: skip
        assert parsed.returncode == 0, parsed.stderr.decode()
    common = tree["modules/common.nix"].decode()
    assert 'sopsFile = ../secrets + "/${config.networking.hostName}.yaml";' in common
    assert 'owner = "borg";' in common and 'path = "/run/agenix/backup";' in common
    assert "cat ${config.sops.secrets.backup.path}" in common
    flake = tree["flake.nix"].decode()
    assert "agenix-rekey.nixosModules" not in flake and "sops-nix.nixosModules.sops" in flake
    assert b"agenix-rekey's input" in result.stderr  # the note about its flake output
    assert b"age.secrets.api.generator dropped" in result.stderr
    commit_all(lab.root, "sops")
    again = lab.run("import", "agenix", "--yes")
    assert again.returncode == 0 and b"nothing to import" in again.stdout


def test_a_computed_host_key_is_refused(tmp_path: Path) -> None:
    lab = make_rekey_lab(tmp_path)
    host = lab.root / "hosts" / "web2" / "default.nix"
    host.write_text(host.read_text().replace("./host.pub", "builtins.readFile ./host.pub"))
    before = lab.tree()
    result = lab.run("import", "agenix", "--yes")
    assert result.returncode == 3
    assert result.stderr.decode().startswith(
        "error: cannot convert this agenix-rekey repository: hosts/web2/default.nix line 5: "
        "age.rekey.hostPubkey is computed"
    )
    assert lab.tree() == before
