"""`import agenix` killed after every journaled write (SECRETKIT_TEST_KILL_AFTER_WRITES=N,
os._exit like SIGKILL, see secretkit/atomic.py): no value is lost at any kill point
(the .age files stay until every sops file is written and verified, and the journal
holds them until the run commits), and the next run rolls back and does the whole
job, ending byte for byte where an uninterrupted run ends for the Nix code."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.sops import document, operations
from secretkit.sops.identities import load_identities
from tests.commands.agenix_support import SECRETS, AgenixLab, make_lab
from tests.conftest import git

# .sops.yaml, 6 sops files, 5 Nix files, 6 .age files + secrets.nix removed
WRITES = 1 + 6 + 5 + len(SECRETS) + 1
# the journaled writes in order, one test id each
WRITE_ORDER = (
    ".sops.yaml",
    *(f"secrets/{name}" for name in ("db.yaml", "laptop.yaml", "nginx-key.bin")),
    *(f"secrets/{name}" for name in ("root-recovery.yaml", "web1.yaml", "web2.yaml")),
    "flake.nix",
    "hosts/db/default.nix",
    "hosts/laptop/default.nix",
    "modules/common.nix",
    "modules/web.nix",
    *(f"secrets/{name}.age" for name in sorted(SECRETS)),
    "secrets/secrets.nix",
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> AgenixLab:
    return make_lab(tmp_path_factory.mktemp("agenix-kill"))


@pytest.fixture(scope="module")
def finished(template: AgenixLab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The tree an uninterrupted run leaves."""
    lab = template.copy(tmp_path_factory.mktemp("agenix-done") / "repo")
    result = lab.run("import", "agenix", "--yes")
    assert result.returncode == 0, result.stderr.decode()
    assert f"changed {WRITES} file(s)".encode() in result.stdout
    return lab.tree()


@pytest.mark.slow
@pytest.mark.parametrize(
    "kill_after", range(1, WRITES + 1), ids=lambda n: f"{n:02}-{WRITE_ORDER[n - 1]}"
)
def test_kill_at_every_write_then_rerun(
    template: AgenixLab, finished: dict[str, bytes], tmp_path: Path, kill_after: int
) -> None:
    lab = template.copy(tmp_path / "repo")
    before = lab.tree()
    killed = lab.run("import", "agenix", "--yes", kill_after=kill_after)
    assert killed.returncode == 137, killed.stderr.decode()
    journal = lab.root / ".git" / "secretkit-journal"
    assert journal.is_dir()
    now = lab.tree()
    changed = {rel for rel in set(before) | set(now) if before.get(rel) != now.get(rel)}
    assert len(changed) == kill_after  # one file per journaled write, nothing else
    assert changed == set(WRITE_ORDER[:kill_after])
    # every original .age value is still there (in the tree or in the journal)
    for name in SECRETS:
        rel = f"secrets/{name}.age"
        assert rel in now or any(
            p.read_bytes() == before[rel] for p in journal.iterdir() if p.name.startswith("backup")
        )

    again = lab.run("import", "agenix", "--yes")
    assert again.returncode == 0, again.stderr.decode()
    assert not journal.exists()
    after = lab.tree()
    assert set(after) == set(finished)
    for rel, data in finished.items():
        if rel.endswith(".nix"):
            assert after[rel] == data, rel
    assert not [f for f in git(lab.root, "ls-files").split() if f.endswith(".age")]
    identities = load_identities({"SOPS_AGE_KEY_FILE": str(lab.admin_keyfile), "HOME": "/none"})
    stored: dict[str, bytes] = {}
    for rel in after:
        if rel.startswith("secrets/") and rel.endswith((".yaml", ".bin")):
            fmt = "binary" if rel.endswith(".bin") else "yaml"
            plain = operations.decrypt_bytes(after[rel], fmt, identities)
            if fmt == "binary":
                stored[Path(rel).stem] = document.dump_plain(plain)
            else:
                stored.update({str(k[0]): str(v).encode() for k, v in plain.leaves()})
    assert stored == lab.values
