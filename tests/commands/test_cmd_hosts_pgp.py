"""A hand-written `.sops.yaml` whose admin key is PGP (`&admin_<name>` set to a
fingerprint, hosts anchored under their own names): every command reads it, files
secretkit writes stay readable by that PGP admin, and a file no identity here opens
gets advice that follows its key kinds.  Real gpg (a throwaway GNUPGHOME with the sops
functional-test key) and real age keys."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from secretkit.sops import operations
from tests.conftest import commit_all, need_tool
from tests.keys.layouts import write
from tests.sops.keys_support import AgeKey, CliResult, age_key, run_cli

PGP = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"  # tests/…/keys/sops-functional-tests-key.asc


@dataclass
class Lab:
    root: Path
    rss: AgeKey  # the host key, anchored &rss_server (not &host_…)

    def cli(self, *args: str, stdin: bytes | None = None) -> CliResult:
        return run_cli(["-C", str(self.root), *args], input=stdin)


def _gpg(*args: str) -> None:
    subprocess.run(["gpg", "--batch", *args], capture_output=True, check=True)


@pytest.fixture(params=["admin_jarrett"])
def lab(request: pytest.FixtureRequest, tmp_git_repo: Path, sops_fixtures: Path) -> Iterator[Lab]:
    """jj's shape; the PGP key's anchor is ``request.param`` (``&admin_…`` by default)."""
    need_tool("gpg")
    anchor = request.param
    home = Path(os.environ["GNUPGHOME"])  # the test's own (conftest)
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    _gpg("--import", str(sops_fixtures / "keys/sops-functional-tests-key.asc"))
    rss = age_key()
    write(
        tmp_git_repo,
        {
            ".sops.yaml": (
                "keys:\n"
                f"  - &{anchor} {PGP}\n"
                f"  - &rss_server {rss.public}\n"
                "creation_rules:\n"
                "  - path_regex: secrets/rss-server.yaml$\n"
                f"    pgp: *{anchor}\n"
                "    age: *rss_server\n"
                "  - path_regex: secrets/cache.yaml$\n"
                f"    pgp: *{anchor}\n"
            ),
            "hosts/rss-server/default.nix": "{ ... }: { }\n",
            "hosts/cache/default.nix": "{ ... }: { }\n",
        },
    )
    result = run_cli(
        ["-C", str(tmp_git_repo), "set", "secrets/rss-server.yaml", '["feed"]'], input=b"v1"
    )
    assert result.code == 0, result.err
    result = run_cli(["-C", str(tmp_git_repo), "set", "secrets/cache.yaml", '["key"]'], input=b"v2")
    assert result.code == 0, result.err
    commit_all(tmp_git_repo)
    yield Lab(tmp_git_repo, rss)
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], capture_output=True, check=False)


def _forget_the_pgp_secret_key() -> None:
    _gpg("--yes", "--delete-secret-keys", PGP)


OTHER_ANCHOR = pytest.mark.parametrize("lab", ["pgp_jarrett"], indirect=True)


@OTHER_ANCHOR
def test_list_shows_the_rule_sops_applies_and_the_key_named_after_the_host(lab: Lab) -> None:
    listed = lab.cli("hosts", "list")
    assert listed.code == 0, listed.err
    row = next(line for line in listed.out.splitlines() if line.startswith("rss-server "))
    # rule `secrets/rss-server.yaml$` matches secrets/rss-server.yaml; &rss_server is its key
    assert row.split()[:5] == ["rss-server", lab.rss.public, "hosts-dir", "1", "yes"]
    before = (lab.root / ".sops.yaml").read_bytes()
    again = lab.cli("hosts", "add", "rss-server", "--age", lab.rss.public)
    assert (again.code, again.out) == (
        0,
        "host rss-server already present with this key, nothing to do\n",
    )
    assert (lab.root / ".sops.yaml").read_bytes() == before


def test_a_pgp_admin_is_read_listed_and_kept_as_a_recipient(lab: Lab) -> None:
    listed = lab.cli("hosts", "list")
    assert listed.code == 0, listed.err
    assert any(line.startswith("rss-server ") for line in listed.out.splitlines())
    assert lab.cli("migrate", "--dry-run").code == 0
    me = age_key()
    assert lab.cli("init", "--admin", me.public, "--admin-name", "me").code == 0
    web = age_key()
    added = lab.cli("hosts", "add", "web", "--age", web.public)
    assert added.code == 0, added.err
    made = lab.cli("set", "secrets/web.yaml", '["token"]', stdin=b"v3")
    assert made.code == 0, made.err
    sops = operations.load((lab.root / "secrets/web.yaml").read_bytes(), "yaml")
    kinds = sorted((e.kind, e.ident) for g in sops.metadata.key_groups for e in g)
    assert kinds == sorted([("pgp", PGP), ("age", me.public), ("age", web.public)])
    # the PGP admin alone (gpg's keyring, no age key) reads what secretkit wrote
    opened = lab.cli("decrypt", "secrets/web.yaml", "--extract", '["token"]')
    assert (opened.code, opened.stdout) == (0, b"v3")
    # the admins-only file of a generated host key: for both admins, the PGP one under pgp:
    made = lab.cli("hosts", "add", "db", "--generate-host-key")
    assert made.code == 0, made.err
    sops = operations.load((lab.root / "secrets/host-keys/db.yaml").read_bytes(), "yaml")
    kinds = sorted((e.kind, e.ident) for g in sops.metadata.key_groups for e in g)
    assert kinds == sorted([("pgp", PGP), ("age", me.public)])


@OTHER_ANCHOR
def test_rekeying_a_file_no_identity_opens_says_which_keys_open_it(lab: Lab) -> None:
    assert lab.cli("init", "--admin", age_key().public).code == 0  # jplant's shape
    _forget_the_pgp_secret_key()  # the keyring is there, the PGP secret key is not
    before = (lab.root / "secrets/rss-server.yaml").read_bytes()
    config = (lab.root / ".sops.yaml").read_bytes()
    new = age_key().public
    # a new key for a host whose file has the user's own rule: never a rule ahead of it
    # (sops would apply that one and drop the PGP admin the user's rule lists)
    result = lab.cli("hosts", "add", "rss-server", "--age", new)
    assert result.code == 3
    assert result.err.startswith(
        "error: creation rule 1 of .sops.yaml is the rule for secrets/rss-server.yaml and "
        "does not list host rss-server's key (hint: add "
        f"{new} to the age keys of that rule by hand, then run "
        "`secretkit updatekeys secrets/rss-server.yaml`"
    ), result.err
    assert (lab.root / ".sops.yaml").read_bytes() == config
    # the fix it names: the key in that rule, then updatekeys, which needs an identity
    # that opens the file
    text = config.decode().replace("    age: *rss_server\n", f"    age: {lab.rss.public},{new}\n")
    (lab.root / ".sops.yaml").write_text(text)
    rekeyed = lab.cli("updatekeys", "secrets/rss-server.yaml")
    assert rekeyed.code in (3, 4), rekeyed.err
    assert "secrets/rss-server.yaml" in rekeyed.err.splitlines()[0]
    assert "restore the file" not in rekeyed.err  # the file is intact
    assert (
        "(hint: set SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY) to the private key of one of its age "
        f"recipients, or import the secret key of its PGP fingerprint {PGP} into your gpg "
        "keyring (gpg --import; GNUPGHOME selects the keyring))"
    ) in rekeyed.err
    assert (lab.root / "secrets/rss-server.yaml").read_bytes() == before
    # the same advice as decrypt's, from the one place
    opened = lab.cli("decrypt", "secrets/rss-server.yaml")
    assert opened.code == 4 and opened.err.split("(hint: ")[1] == rekeyed.err.split("(hint: ")[1]
    # with the key in the user's rule, hosts add adds no rule and meets the same need
    again = lab.cli("hosts", "add", "rss-server", "--age", new)
    assert again.code == 3, again.err
    assert again.err.startswith(
        "error: no available identity opens 1 file(s): secrets/rss-server.yaml"
    ), again.err
    assert again.err.split("(hint: ")[1] == rekeyed.err.split("(hint: ")[1]
    assert "^secrets/rss-server" not in (lab.root / ".sops.yaml").read_text()


@OTHER_ANCHOR
def test_check_advises_the_gpg_keyring_for_a_pgp_only_file(lab: Lab) -> None:
    _forget_the_pgp_secret_key()
    result = lab.cli("check")
    fixes = [line.strip() for line in result.out.splitlines() if line.strip().startswith("fix:")]
    cache = (
        f"fix: import the secret key of its PGP fingerprint {PGP} into your gpg keyring "
        "(gpg --import; GNUPGHOME selects the keyring), then run secretkit check again"
    )
    assert cache in fixes
    both = next(f for f in fixes if "SOPS_AGE_KEY_FILE" in f)  # rss-server.yaml: age and PGP
    assert PGP in both
