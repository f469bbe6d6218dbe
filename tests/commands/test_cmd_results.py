"""What each command's result shows — its lines (stdout / stderr), its JSON and its
exit code — tested on result values directly.  The CLI tests check the same output
through ``secretkit.cli.main``; these pin where each line comes from."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from secretkit.commands import Line, err, out, table_lines
from secretkit.commands.decrypt import DecryptResult
from secretkit.commands.demo import EXCERPT_FILE, DemoResult
from secretkit.commands.edit import EditResult
from secretkit.commands.encrypt import EncryptResult
from secretkit.commands.exposed import ExposedReport, ExposedValue
from secretkit.commands.generate import GenerateResult, Made
from secretkit.commands.hosts import (
    Bootstrapped,
    Generated,
    HostChange,
    HostList,
    HostRow,
    Scanned,
    must_ask,
)
from secretkit.commands.init import InitResult
from secretkit.commands.keygen import KeygenResult
from secretkit.commands.purge import (
    ExposedSecret,
    PurgePlan,
    PurgeResult,
    plan_lines,
    result_exit_code,
    result_lines,
)
from secretkit.commands.rotate import DataKeyRotation
from secretkit.commands.rotate_host import FileResult, HostRemoval, HostRotation
from secretkit.commands.rotate_value import Restart, ValueRotation
from secretkit.commands.set import SetResult
from secretkit.commands.updatekeys import KeyUpdate, KeyUpdates, TreeRow, TreeUpdate
from secretkit.errors import IntegrityError, UsageError
from secretkit.keys.rotation import Exposure
from secretkit.keys.sops_yaml_edits import Change
from secretkit.sensitive import Sensitive

CWD = Path("/repo")
AGE = "age1" + "q" * 58


def texts(lines: list[Line]) -> list[tuple[str, bool]]:
    return [(line.text, line.err) for line in lines]


def test_file_commands_show_bytes_or_one_line() -> None:
    assert EncryptResult(b"sops-data", None).data() == b"sops-data"
    assert EncryptResult(None, CWD / "a.yaml").data() is None
    assert DecryptResult(Sensitive(b"plain"), None).data() == b"plain"
    assert "plain" not in repr(DecryptResult(Sensitive(b"plain"), None))
    assert EditResult(CWD / "a.yaml", "unchanged", "a.yaml").lines() == [err("a.yaml: no changes")]
    assert EditResult(CWD / "a.yaml", "updated", "a.yaml").lines() == []
    assert SetResult(CWD / "a.yaml", True, "a.yaml").lines() == [err("a.yaml: created")]
    assert SetResult(CWD / "a.yaml", False, "a.yaml").lines() == [err("a.yaml: updated")]
    for result in (EncryptResult(b"x", None), SetResult(CWD, True)):
        assert result.exit_code == 0


def test_updatekeys_lists_files_relative_to_the_working_directory() -> None:
    result = KeyUpdates(
        CWD, (KeyUpdate(CWD / "a.yaml", "updated"), KeyUpdate(Path("/x/b.yaml"), "up to date"))
    )
    assert result.lines() == [out("a.yaml: updated"), out("/x/b.yaml: already up to date")]


def test_updatekeys_of_the_tree_summarises_on_stderr() -> None:
    rows = (
        TreeRow("secrets/a.yaml", "updated", ("age1new",), ("age1old",)),
        TreeRow("secrets/b.yaml", "up to date"),
        TreeRow("other.yaml", "no rule"),
    )
    assert texts(TreeUpdate(CWD / ".sops.yaml", rows).lines()) == [
        ("secrets/a.yaml: updated", False),
        ("secrets/b.yaml: already up to date", False),
        ("other.yaml: no creation rule matches, left alone", False),
        ("  secrets/a.yaml: +age1new -age1old", True),
        ("1 file(s) updated, 1 already up to date", True),
        (
            "note: removed recipients may still hold the unchanged data keys; lock them out "
            "with `secretkit rotate data-keys` (or `rotate host`)",
            True,
        ),
    ]


def test_rotate_data_keys_names_each_file() -> None:
    result = DataKeyRotation(CWD, (CWD / "secrets/a.yaml",))
    assert result.lines() == [out("secrets/a.yaml: new data key")]


def _rotation(**changes: object) -> HostRotation:
    values: dict[str, object] = {
        "host": "web",
        "old_recipient": "age1old",
        "new_recipient": "age1new",
        "sops_yaml_changed": True,
        "files": (FileResult("secrets/web.yaml", ("age1new",), ("age1old",)),),
        "exposed": (Exposure("secrets/web.yaml", ("db/password",)),),
    }
    values.update(changes)
    return HostRotation(**values)  # type: ignore[arg-type]


def test_rotate_host_lists_files_and_only_notes_the_exposure_without_compromised() -> None:
    assert texts(_rotation().lines()) == [
        (".sops.yaml: host web now has key age1new", False),
        ("secrets/web.yaml: new data key (+age1new -age1old)", False),
        ("rotated 1 file(s) of host web: the old key opens none of them", False),
        (
            "note: the old key could read 1 secret(s); if it may be compromised, list them "
            "with --compromised and change them at their provider",
            True,
        ),
    ]


def test_rotate_host_compromised_lists_the_exposed_secrets() -> None:
    exposed = (Exposure("secrets/web.yaml", ("a", "b")), Exposure("old.yaml", ("c",), True))
    result = _rotation(history=True, exposed=exposed, sops_yaml_changed=False)
    shown = texts(result.lines())
    assert shown[0] == (".sops.yaml: host web already has key age1new", False)
    assert shown[-4:] == [
        (
            "the old key could read these 3 secret(s); change them at their provider (old "
            "ciphertext in git history still opens with that key):",
            False,
        ),
        ("  secrets/web.yaml: a", False),
        ("  secrets/web.yaml: b", False),
        ("  old.yaml: c (only in git history)", False),
    ]


def test_hosts_remove_shows_orphans_and_the_exposure() -> None:
    files = (FileResult("secrets/web.yaml", (), ("age1old",), orphan=True),)
    rotation = _rotation(files=files, new_recipient=None)
    change = Change(CWD / ".sops.yaml", True)
    shown = texts(HostRemoval(change, rotation, still_in_nix=True).lines())
    assert shown[:3] == [
        ("removed host web", False),
        (
            "secrets/web.yaml: new data key (-age1old), kept for admins only (its rule is gone)",
            False,
        ),
        (
            "note: secrets/web.yaml is no longer used by any rule; delete it (git rm) when no "
            "configuration needs its values",
            True,
        ),
    ]
    assert shown[3][0].startswith("note: host web is still defined in the Nix code")
    assert shown[4][0].startswith("the key of web could read these 1 secret(s)")
    unchanged = HostRemoval(Change(CWD / ".sops.yaml", False), rotation)
    assert unchanged.lines() == [out("host web is not in .sops.yaml, nothing to do")]


def test_hosts_list_text_and_json() -> None:
    rows = [
        HostRow("nas", AGE, "flake", ("hosts/nas/default.nix",), 3, True),
        HostRow("old", None, ".sops.yaml only", (), 0, False),
    ]
    result = HostList(rows, [("modules/x.nix", "not found", ("nas",))], [("m.nix", "line 2: a")])
    assert result.to_json() == {
        "version": 1,
        "hosts": [row.to_json() for row in rows],
        "unresolved": [{"path": "modules/x.nix", "reason": "not found", "hosts": ["nas"]}],
        "external": [{"path": "m.nix", "module": "line 2: a"}],
    }
    key_width = len(AGE)
    assert texts(result.lines()) == [
        (
            "HOST  " + "KEY".ljust(key_width) + "  SOURCE           MODULES  RULE  ENTRY MODULES",
            False,
        ),
        ("nas   " + AGE + "  flake            3        yes   hosts/nas/default.nix", False),
        ("old   " + "-".ljust(key_width) + "  .sops.yaml only  0        no    -", False),
        ("unresolved: modules/x.nix: not found (host nas)", True),
    ]


def test_hosts_add_results() -> None:
    change = Change(CWD / ".sops.yaml", True)
    added = HostChange("web", AGE, change, in_nix=False, rekeyed=("secrets/web.yaml",), declare="x")
    assert texts(added.lines()) == [
        (f"added host web ({AGE}) and a rule for secrets/web.yaml", False),
        ("secrets/web.yaml: re-wrapped for host web", False),
        ("note: no host named web was found in the Nix code (see `secretkit hosts list`)", True),
        (
            "  if it is a NixOS host, declare it: x (the key of a user's home-manager or "
            "another configuration needs nothing more)",
            True,
        ),
    ]
    same = HostChange("web", AGE, Change(CWD / ".sops.yaml", False), in_nix=True)
    assert same.lines() == [out("host web already present with this key, nothing to do")]
    made = Generated(
        HostChange("web", AGE, change, in_nix=True, host_key_file="secrets/host-keys/web.yaml"),
        "ssh-ed25519 AAAA root@web",
        (),
    )
    assert texts(made.lines())[:3] == [
        ("new ssh host key for web: ssh-ed25519 AAAA root@web", False),
        ("its private key is in secrets/host-keys/web.yaml, encrypted for the admins only", False),
        ("next: secretkit hosts bootstrap web --extra-files DIR (for nixos-anywhere)", False),
    ]
    boot = Bootstrapped(Generated(made.host, made.public, (Path("/x/etc/ssh/k"),)), Path("/x"))
    assert boot.lines() == [
        out("wrote /x/etc/ssh/k"),
        out("nixos-anywhere --extra-files /x … installs host web with this key"),
    ]


def test_hosts_add_keyscan_shows_the_key_and_asks_only_when_unchecked() -> None:
    scanned = Scanned("nas", 2222, "colmena", "ssh-ed25519 AAAA", "SHA256:abc", AGE)
    assert scanned.lines() == [out("nas:2222 (colmena) presents ssh-ed25519 key SHA256:abc")]
    assert must_ask("SHA256:abc", None, False, can_ask=True) is True
    assert must_ask("SHA256:abc", " SHA256:abc ", True, can_ask=False) is False
    with pytest.raises(IntegrityError):
        must_ask("SHA256:abc", "SHA256:other", True, can_ask=True)
    with pytest.raises(UsageError):
        must_ask("SHA256:abc", None, True, can_ask=True)
    with pytest.raises(UsageError):
        must_ask("SHA256:abc", None, False, can_ask=False)


def test_init_hints_at_updatekeys_when_rules_changed() -> None:
    created = Change(CWD / ".sops.yaml", True, created=True)
    assert InitResult(CWD / ".sops.yaml", "stian", AGE, created).lines() == [
        out(f"created /repo/.sops.yaml with admin stian ({AGE})")
    ]
    added = Change(CWD / ".sops.yaml", True, changed_rules=("^secrets/a\\.yaml$",))
    assert texts(InitResult(CWD / ".sops.yaml", "ana", AGE, added).lines()) == [
        (f".sops.yaml: added admin ana ({AGE})", False),
        ("1 creation rule(s) changed recipients: run `secretkit updatekeys` on their files", True),
    ]


def test_keygen_prints_the_identity_only_to_stdout_when_not_written() -> None:
    text = Sensitive("# public key: x\nAGE-SECRET-KEY-1X\n")
    shown = KeygenResult("age1pub", text, None)
    assert shown.data() == text.reveal().encode() and shown.lines() == [err("Public key: age1pub")]
    assert KeygenResult("age1pub", text, Path("k.txt")).data() is None


def test_generate_and_rotate_value_lines() -> None:
    made = (
        Made("web", "db/pw", "secrets/web.yaml", "generated", "password", also_plain="db/plain"),
        Made("web", "wg/key", "secrets/web.yaml", "copied", "wireguard", public="PUB"),
        Made("web", "old", "secrets/web.yaml", "kept", "hex"),
    )
    assert GenerateResult(made).lines() == [
        out("secrets/web.yaml: db/pw: new password (and the password as db/plain)"),
        out("secrets/web.yaml: wg/key: copied from another host"),
        out("  public key: PUB"),
        out("secrets/web.yaml: old exists, kept"),
    ]
    rotation = ValueRotation(
        "db/pw",
        ("secrets/web.yaml",),
        None,
        (("secrets/nas.yaml", "other/pw"),),
        ("secrets/x.yaml",),
        (Restart("postgresql.service", "hosts/web/default.nix:12"),),
        (
            ("PUB1", "hosts/web/wg.pub", ("secrets/web.yaml",)),
            ("PUB2", None, ("secrets/nas.yaml",)),
        ),
        "stdin",
    )
    assert texts(rotation.lines()) == [
        ("secrets/web.yaml: db/pw: new value (stdin)", False),
        ("secrets/nas.yaml: other/pw: held the same value, new value too", False),
        ("note: no identity opens secrets/x.yaml; it was not searched for the old value", True),
        ("new public key: PUB1 (of secrets/web.yaml)", False),
        ("  written to hosts/web/wg.pub", False),
        ("new public key: PUB2 (of secrets/nas.yaml)", False),
        (
            "note: write it wherever its old public key is read (a peer's publicKey, a file "
            "generate --public-out wrote): nothing here knows that place",
            True,
        ),
        ("restart after deploying:", False),
        ("  postgresql.service  (hosts/web/default.nix:12)", False),
        ("change it at its provider too, if it is a credential issued elsewhere", False),
    ]


def _in_use(name: str, *stored: str) -> ExposedValue:
    """A value still stored (unchanged) under ``name`` in the sops files ``stored`` name."""
    return ExposedValue(
        names=[name],
        rules=["password"],
        paths=["hosts/web.nix"],
        commits=2,
        preview="hu…",
        in_backup_only=False,
        secret=Sensitive("never-shown"),
        stored=list(stored),
        status="in use",
    )


def test_exposed_exits_1_while_a_value_is_not_replaced() -> None:
    value = _in_use("db/pw", "secrets/web.yaml: db/pw (unchanged)")
    report = ExposedReport([value], ["secrets/x.yaml"])
    assert report.exit_code == 1
    shown = texts(report.lines())
    assert shown[1] == ("  [in use] db/pw (hu…) — was in hosts/web.nix", False)
    assert shown[3] == (
        "        new value: secretkit rotate value db/pw --from-stdin (or --kind …)",
        False,
    )
    assert shown[-1][1] is True
    assert all("never-shown" not in text for text, _ in shown)
    assert shown[0] == ("1 value(s) were committed in plaintext; rotate each one not marked "
                        "[rotated]:", False)  # fmt: skip
    empty = ExposedReport([], [])
    assert empty.exit_code == 0 and empty.to_json()["exposed"] == []
    # every value rotated: nothing is asked (it said "rotate each one:" all the same)
    done = ExposedReport([replace(value, status="rotated", stored=[])], [])
    assert done.exit_code == 0
    assert texts(done.lines())[0] == (
        "1 value(s) were committed in plaintext; each is rotated (history still holds the "
        "old values):",
        False,
    )


def test_exposed_names_one_rotation_for_a_name_two_host_files_hold() -> None:
    # one `rotate value` replaces it in both files: it is said once, after both
    value = _in_use(
        "etc/app/db.conf",
        "secrets/a.yaml: etc/app/db.conf (unchanged)",
        "secrets/b.yaml: etc/app/db.conf (unchanged)",
    )
    shown = [text for text, _ in texts(ExposedReport([value], []).lines())]
    assert [t for t in shown if "new value:" in t] == [
        "        new value: secretkit rotate value etc/app/db.conf --from-stdin (or --kind …)"
    ]
    assert shown.index(
        "      unchanged in secrets/b.yaml: etc/app/db.conf (unchanged)"
    ) < shown.index(
        "        new value: secretkit rotate value etc/app/db.conf --from-stdin (or --kind …)"
    )


def test_demo_shows_the_excerpt_from_its_example_file_and_exits_1_on_leaks() -> None:
    diff = "\n".join(["--- a/other.nix", "+x", f"--- a/hosts/{EXCERPT_FILE}", "+y"])
    result = DemoResult(
        directory=CWD, kept=False, hosts=["a"], findings_before=3, findings_after=0,
        table=[("s", "a", "secrets/a.yaml", "sops.secrets.s")], diff=diff, refused=[],
        wiring=[], leaked=[],
    )  # fmt: skip
    shown = [line.text for line in result.lines()]
    start = shown.index("diff (excerpt):")
    assert shown[start + 1 : start + 3] == [f"  --- a/hosts/{EXCERPT_FILE}", "  +y"]
    assert shown[-1] == "scan: clean" and result.exit_code == 0
    leaked = DemoResult(CWD, True, [], 1, 1, [], "", [], [], ["hosts/a.nix"])
    assert leaked.exit_code == 1
    assert texts(leaked.lines())[-2:] == [
        ("values still in: hosts/a.nix", True),
        ("repository: /repo", False),
    ]


def test_table_lines_align_three_columns() -> None:
    assert table_lines([("db", "web, nas", "secrets/web.yaml", "sops.secrets.db")]) == [
        "secret  hosts     file              new option",
        "db      web, nas  secrets/web.yaml  sops.secrets.db",
    ]


def test_purge_lines_and_exit_code() -> None:
    secret = ExposedSecret(("db/pw",), ("password",), ("hosts/web.nix",), 2)
    assert plan_lines(PurgePlan(CWD, [], [], [])) == [
        out("history holds no plaintext secret; nothing to purge")
    ]
    plan = PurgePlan(CWD, [object()], [secret], ["refs/heads/main"])  # type: ignore[list-item]
    assert plan_lines(plan) == [
        out("1 secret(s) found in history:"),
        out("  db/pw (password) in hosts/web.nix"),
        out("refs to rewrite: refs/heads/main"),
    ]
    result = PurgeResult("refs/secretkit/backup/1", {}, [], [secret], ["origin"])
    assert result_exit_code(result) == 0
    shown = texts(result_lines(result))
    assert shown[0] == (
        "history rewritten; backup of the old refs: refs/secretkit/backup/1/",
        False,
    )
    assert ("       git push --force --all origin", False) in shown
    assert ("       - db/pw (password) in hosts/web.nix", False) in shown
    stuck = PurgeResult("b", {}, [], [], [], unrewritten=[("refs/notes/x", "git update-ref -d")])
    assert result_exit_code(stuck) == 1
    assert ("warning: not rewritten: refs/notes/x; delete it: git update-ref -d", True) in texts(
        result_lines(stuck)
    )
