"""agenix repositories in check: a value of an ``.age`` file a key here opens
is looked for in the other files, as a sops file's is; one no key opens makes the point
"cannot verify", never "ok" (a stranger's check on BonusPlay/sysconf's layout said
"ok decrypted-copy" of a committed copy of an opened value)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.commands.agenix_support import build_the_rules, make_lab
from tests.conftest import commit_all


def _copies(lab, **env: str) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    proc = lab.run("check", "--format", "json", **env)
    report = json.loads(proc.stdout)
    return [c for c in report["checks"] if c["id"] == "decrypted-copy"]


def test_a_copy_of_an_age_files_value_fails_and_an_unopened_one_cannot_be_vouched_for(
    tmp_path: Path,
) -> None:
    lab = make_lab(tmp_path)
    token = lab.values["api-token"].decode()
    (lab.root / "docs").mkdir(exist_ok=True)
    (lab.root / "docs" / "phone.md").write_text(f"the api, in case: {token}\n")
    commit_all(lab.root, "a note")
    copies = _copies(lab)
    failed = [c for c in copies if not c["ok"]]
    held = [c for c in failed if "phone.md" in str(c["message"])]
    assert held, copies
    assert "holds the decrypted value of " in str(held[0]["message"])
    assert ".age" in str(held[0]["message"])
    assert "config.age.secrets.<name>.path" in str(held[0]["fix"])
    assert "agenix -e" in str(held[0]["fix"])
    assert token not in json.dumps(copies)
    # no key here: the values were not read, and the point says so
    shut = _copies(lab, SOPS_AGE_KEY_FILE=str(tmp_path / "none.txt"))
    assert [c["ok"] for c in shut] == [False]
    assert str(shut[0]["message"]).startswith("cannot verify: no identity here opens ")
    assert "publicKeys" in str(shut[0]["fix"])


def test_an_age_file_a_module_names_that_is_gone_fails_the_agenix_point(tmp_path: Path) -> None:
    """A stranger deleted an .age file a module still named (file = ../secrets/x.age):
    check said "ok agenix: … age file(s)"; the host no longer builds."""
    from tests.conftest import git

    lab = make_lab(tmp_path)
    git(lab.root, "rm", "-q", "secrets/api-token.age")
    commit_all(lab.root, "the token file is gone")
    proc = lab.run("check", "--format", "json")
    points = [c for c in json.loads(proc.stdout)["checks"] if c["id"] == "agenix" and not c["ok"]]
    gone = [c for c in points if "secrets/api-token.age, which does not exist" in str(c["message"])]
    assert len(gone) == 1, points
    assert "age.secrets.api-token.file names" in str(gone[0]["message"])
    assert str(gone[0]["fix"]).startswith("restore secrets/api-token.age")


def test_rules_a_secrets_nix_builds_with_nix_code_cannot_be_verified(tmp_path: Path) -> None:
    """check said "warning: … no agenix rules file" and "safe to publish" when
    secrets.nix built its attrset (mapAttrs over an imported list): who can open the
    .age files was never compared with what the rules say."""
    lab = make_lab(tmp_path)
    build_the_rules(lab)
    proc = lab.run("check", "--format", "json")
    report = json.loads(proc.stdout)
    points = [c for c in report["checks"] if c["id"] == "agenix"]
    failed = [c for c in points if not c["ok"]]
    assert len(failed) == 1, points
    message = str(failed[0]["message"])
    assert message.startswith("cannot verify: secrets/secrets.nix builds its rules with Nix code")
    assert "6 age file(s)" in message
    assert str(failed[0]["fix"]).startswith("write its rules out in secrets/secrets.nix")
    assert report["ok"] is False
    assert proc.returncode != 0
    assert not any("no agenix rules file" in str(c["message"]) for c in points)


def test_rules_written_out_and_merged_with_built_ones(tmp_path: Path) -> None:
    """`{ "a.age".publicKeys = …; } // builtins.listToAttrs (…)`: check said a file the
    built part lists "is an age file that secrets/secrets.nix does not list", with a fix
    to add a rule it has.  And a module naming machines/${…}/x.age was said to name a
    file that does not exist (helper-107 on snowfield's copy)."""
    lab = make_lab(tmp_path)
    rules = lab.root / "secrets" / "secrets.nix"
    text = rules.read_text()
    body = text[text.index("in\n") + 3 :]
    head = text[: text.index("in\n") + 3]
    kept = "\n".join(
        line for line in body.splitlines() if "root-recovery" not in line
    )  # (its rule now made by the merged part)
    rules.write_text(
        head
        + kept.rstrip()
        + ' // builtins.listToAttrs (map (n: { name = "${n}.age"; value.publicKeys = users; })'
        + ' [ "root-recovery" ])\n'
    )
    common = lab.root / "modules" / "common.nix"
    common.write_text(
        common.read_text().replace(
            "{\n",
            "{\n  age.secrets.extra.file = ../machines/${config.networking.hostName}/x.age;\n",
            1,
        )
    )
    commit_all(lab.root, "a rule made by a merged part; a per-host age file")
    report = json.loads(lab.run("check", "--format", "json").stdout)
    points = [c for c in report["checks"] if c["id"] == "agenix" and not c["ok"]]
    messages = [str(c["message"]) for c in points]
    assert not any("does not list" in m for m in messages), messages
    assert not any("does not exist" in m for m in messages), messages
    (built,) = [m for m in messages if m.startswith("cannot verify: secrets/secrets.nix builds")]
    assert "secrets/root-recovery.age" in built
