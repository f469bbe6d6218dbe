"""How a secret found in history is named (``check``, ``purge``): by its attribute
paths and rules, each said once."""

from __future__ import annotations

from pathlib import Path

from secretkit.gate.history_findings import ExposedSecret
from tests.conftest import commit_all, git
from tests.support import fake


def test_a_nix_secret_is_named_by_its_path_and_rule() -> None:
    secret = ExposedSecret(("services.x.password",), ("secret-attribute",), ("a.nix",), 2)
    assert secret.describe() == "services.x.password (secret-attribute) in a.nix"


def test_a_secret_without_attribute_path_names_its_rule_once() -> None:
    secret = ExposedSecret(("secret-attribute",), ("secret-attribute",), ("app.env",), 1)
    assert secret.describe() == "secret-attribute in app.env"


def test_rules_no_name_already_says_are_kept() -> None:
    secret = ExposedSecret(
        ("db.password", "secret-attribute"),
        ("secret-attribute", "generic-password"),
        ("a.nix", "b.env"),
        3,
    )
    assert secret.describe() == ("db.password, secret-attribute (generic-password) in a.nix, b.env")


def test_with_preview_two_values_of_one_name_in_one_file_differ() -> None:
    one = ExposedSecret(("secret-attribute",), ("secret-attribute",), ("g.toml",), 1, "ab…", "", 3)
    two = ExposedSecret(("secret-attribute",), ("secret-attribute",), ("g.toml",), 1, "cd…", "", 4)
    assert one.describe() == two.describe()  # purge's list: names and files only
    assert one.describe(preview=True) == "secret-attribute 'ab…' in g.toml:3"
    assert two.describe(preview=True) == "secret-attribute 'cd…' in g.toml:4"


def test_a_live_secret_is_named_where_the_shared_refs_hold_it(tmp_git_repo: Path) -> None:
    """The oldest commit holding a blob may be one only purge's backup reaches (a.nix,
    since fixed); the report names the file the published history holds it in (c.nix),
    and the backup on its own line."""
    from secretkit.commands.check import run_check

    line = '{ users.users.x.password = "' + fake.password("moved-live") + '"; }\n'
    (tmp_git_repo / "README.md").write_text("hi\n")
    commit_all(tmp_git_repo, "init")
    git(tmp_git_repo, "checkout", "-q", "-b", "old")
    (tmp_git_repo / "a.nix").write_text(line)
    commit_all(tmp_git_repo, "a")
    backup = "refs/secretkit/backup/20260101T000000Z/heads/old"
    git(tmp_git_repo, "update-ref", backup, "HEAD")
    git(tmp_git_repo, "checkout", "-q", "main")
    git(tmp_git_repo, "branch", "-q", "-D", "old")
    (tmp_git_repo / "c.nix").write_text(line)
    added = commit_all(tmp_git_repo, "c")
    failed = [c for c in run_check(tmp_git_repo).failed if c.id == "plaintext-history"]
    committed = [c for c in failed if c.message.startswith("a secret was committed")]
    assert len(committed) == 1 and " in c.nix:1 " in committed[0].message
    assert any("refs/secretkit/backup/20260101T000000Z/" in c.message for c in failed)
    from secretkit.gate.history_findings import where_added

    blob = git(tmp_git_repo, "rev-parse", "HEAD:c.nix").strip()
    assert where_added(tmp_git_repo, blob, None) == (added, "c.nix")


def test_a_history_finding_that_is_no_secret_is_allowlisted_as_the_fix_says(
    tmp_git_repo: Path,
) -> None:
    """A placeholder found in history had only "rotate it at its provider, then purge":
    no way out for a value that is not a secret.  The fix now offers the allowlist,
    and done as printed, the point passes."""
    import json
    import os
    import subprocess
    import sys

    from secretkit.commands.check import run_check
    from tests.conftest import ROOT

    (tmp_git_repo / "a.nix").write_text(
        '{ users.users.x.password = "' + fake.password("placeholder-ish") + '"; }\n'
    )
    commit_all(tmp_git_repo, "a")
    (tmp_git_repo / "a.nix").write_text("{ }\n")
    commit_all(tmp_git_repo, "gone")
    (failed,) = [c for c in run_check(tmp_git_repo).failed if c.id == "plaintext-history"]
    # one fix for the group (the fingerprints would make each its own): where to read
    # the fingerprint, and the command to run with it
    allow = failed.fix.split("allowlist it: ", 1)[1].split(" (`", 1)[0]
    assert allow.startswith("echo FINGERPRINT >> ")
    assert "`secretkit scan --history --format json` gives each finding's fingerprint" in (
        failed.fix
    )
    scanned = subprocess.run(
        [sys.executable, "-m", "secretkit", "scan", "--history", "--format", "json"],
        cwd=tmp_git_repo,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    (finding,) = json.loads(scanned.stdout)["findings"]
    subprocess.run(
        allow.replace("FINGERPRINT", finding["fingerprint"]),
        shell=True,
        cwd=tmp_git_repo,
        check=True,
    )
    commit_all(tmp_git_repo, "allow")
    assert not [c for c in run_check(tmp_git_repo).failed if c.id == "plaintext-history"]


def test_the_first_step_fits_what_was_committed() -> None:
    """A user's password has no provider: check said "rotate it at its provider" for a
    committed initialPassword.  Each kind is told how it stops working."""
    from secretkit.gate.history_findings import change_first

    def secret(*kinds: str) -> ExposedSecret:
        return ExposedSecret(("x",), ("r",), ("a.nix",), 1, kinds=kinds)

    assert change_first([secret("password")]) == "change that password where it is used"
    assert change_first([secret("psk"), secret("passphrase")]) == (
        "change each password where it is used"
    )
    assert change_first([secret("private-key")]).startswith("replace that key with a new pair")
    assert change_first([secret("token")]) == "rotate it at its provider"
    assert change_first([secret()]) == "rotate it at its provider"  # (nothing known)
    assert change_first([secret("password", "api-key")]) == (
        "change each value (a password where it is used; a token or key at its provider)"
    )


def test_a_committed_user_password_is_changed_not_rotated_at_a_provider(
    tmp_git_repo: Path,
) -> None:
    from secretkit.commands.check import run_check

    (tmp_git_repo / "a.nix").write_text(
        '{ users.users.alice.initialPassword = "' + fake.password("alice-login") + '"; }\n'
    )
    commit_all(tmp_git_repo, "a")
    (failed,) = [c for c in run_check(tmp_git_repo).failed if c.id == "plaintext-history"]
    assert failed.fix.startswith("change that password where it is used, then `secretkit purge")
    assert "provider" not in failed.fix


def test_values_that_read_alike_are_told_apart_by_a_commit(tmp_git_repo: Path) -> None:
    """badele/nix-homelab: four values of one name, at one line, with one preview, gave
    four entries of the same text; each now names a commit that wrote it."""
    from secretkit.commands.check import run_check

    made = []
    for n in range(2):
        value = "Qz7k" + fake.password(f"alike-{n}")
        (tmp_git_repo / "a.nix").write_text('{ users.users.x.password = "' + value + '"; }\n')
        made.append(commit_all(tmp_git_repo, f"value {n}"))
    (tmp_git_repo / "a.nix").write_text("{ }\n")
    commit_all(tmp_git_repo, "gone")
    failed = [c for c in run_check(tmp_git_repo).failed if c.id == "plaintext-history"]
    committed = sorted(c.message for c in failed if c.message.startswith("a secret was"))
    assert len(committed) == 2 and committed[0] != committed[1]
    for message, commit in zip(committed, sorted(made), strict=True):
        assert message.endswith(f"(written by 1 commit(s), e.g. {commit[:12]})")
