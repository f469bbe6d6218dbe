"""check's text report: one line per point, failures grouped and counted, the most
important first, no line twice; JSON carries every result and the groups."""

from __future__ import annotations

from secretkit.gate.model import CheckReport, CheckResult, groups
from secretkit.gate.render import render


def _mac(path: str) -> CheckResult:
    return CheckResult(
        "sops-mac",
        False,
        f"cannot verify the MAC of {path}",
        "set SOPS_AGE_KEY_FILE",
        (path,),
        group="cannot verify the MAC",
        group_fix="set SOPS_AGE_KEY_FILE",
    )


def _history(what: str) -> CheckResult:
    return CheckResult("plaintext-history", False, f"a secret was committed: {what}", "purge")


def _report() -> CheckReport:
    return CheckReport(
        [
            CheckResult("plaintext-tree", True, "no plaintext secret in the tree"),
            *[_history(f"value {i}") for i in range(5)],
            *[_mac(f"sops/secrets/s{i}/secret") for i in range(300)],
            CheckResult("sops-recipients", True, "managed by clan: 300 file(s), consistent"),
            CheckResult("decrypted-copy", False, "x.dec.yaml is a decrypted copy", "delete it"),
        ]
    )


def test_hundreds_of_failures_fit_a_screen_most_important_first() -> None:
    lines = render(_report())
    assert len(lines) <= 24
    assert [line for line in lines if line] == list(dict.fromkeys(line for line in lines if line))
    assert lines[0] == "ok   plaintext-tree: no plaintext secret in the tree"
    assert lines[1] == "FAIL plaintext-history: 5 problems"
    assert lines[2] == "FAIL sops-mac: 300 problems"
    numbered = [line for line in lines if line[:3].strip().rstrip(".").isdigit()]
    assert [line.split(":")[0].split(". ")[1] for line in numbered] == [
        "decrypted-copy",
        "plaintext-history",
        "sops-mac",
    ]
    (mac,) = [i for i, line in enumerate(lines) if "cannot verify the MAC" in line]
    assert lines[mac].endswith("— 300 of them")
    assert lines[mac + 1].strip().startswith("e.g. sops/secrets/s0/secret,")
    assert lines[mac + 1].endswith("(+297 more)")
    assert "… 2 more (secretkit check --format json)" in "\n".join(lines)
    assert lines[-1] == "NOT safe to publish: 3 of 5 points fail (306 problem(s) in 3 group(s))"


def test_json_has_every_result_and_the_groups() -> None:
    doc = _report().to_json()
    assert len(doc["checks"]) == 308  # type: ignore[arg-type]
    assert [(g["id"], g["count"]) for g in doc["groups"]] == [  # type: ignore[union-attr]
        ("decrypted-copy", 1),
        ("plaintext-history", 5),
        ("sops-mac", 300),
    ]


def test_a_lone_result_of_a_group_keeps_its_own_fix() -> None:
    one = CheckReport([CheckResult("sops-mac", False, "m", "own fix", ("a",), "g", "group fix")])
    (group,) = groups(one)
    assert group.fix == "own fix"
    assert render(CheckReport([CheckResult("x", True, "fine")])) == [
        "ok   x: fine",
        "safe to publish",
    ]


def test_the_verdict_counts_the_warnings_it_passes_with() -> None:
    warned = CheckResult("plaintext-history", True, "warning: a hash", warning=True)
    lines = render(CheckReport([CheckResult("x", True, "fine"), warned]))
    assert lines[-1] == "safe to publish (1 warning(s) above)"


def test_report_is_ok_only_when_every_result_is() -> None:
    good = CheckResult("sops-mac", True, "fine")
    bad = CheckResult("decrypted-copy", False, "x.dec.yaml", "delete it", ("x.dec.yaml",))
    assert CheckReport([good]).ok
    report = CheckReport([good, bad])
    assert not report.ok
    assert report.failed == [bad]
    assert report.to_json() == {
        "version": 1,
        "ok": False,
        "checks": [
            {
                "id": "sops-mac",
                "ok": True,
                "message": "fine",
                "fix": "",
                "paths": [],
                "group": None,
                "warning": False,
            },
            {
                "id": "decrypted-copy",
                "ok": False,
                "message": "x.dec.yaml",
                "fix": "delete it",
                "paths": ["x.dec.yaml"],
                "group": None,
                "warning": False,
            },
        ],
        "groups": [
            {
                "id": "decrypted-copy",
                "summary": "x.dec.yaml",
                "count": 1,
                "fix": "delete it",
                "paths": ["x.dec.yaml"],
            }
        ],
    }


def test_control_characters_in_a_message_are_escaped_but_not_in_a_fix() -> None:
    """A message names a path on one line; a fix is a command, which must work as
    printed (the shell reads the quoted line break)."""
    bad = CheckResult("plaintext-tree", False, "secret in a\nb.env\x1b[2J", "git rm 'a\nb.env'")
    lines = render(CheckReport([bad]))
    messages = [line for line in lines if "secret in" in line]
    assert messages and all("a\\nb.env\\x1b[2J" in line for line in messages)
    assert "\x1b" not in "\n".join(lines)
    assert "    fix: git rm 'a\nb.env'" in "\n".join(lines)


def test_a_warning_shows_its_whole_fix() -> None:
    """A warning passes and gets no numbered action: its fix is printed whole under
    it.  It was only inside the message, clipped to one line (the purged-but-not-
    rotated warning ended in "secretkit e…")."""
    fix = "secretkit rotate value wifi --from-stdin, then " + "x" * 300
    message = "warning: 1 value(s) were committed in plaintext before a purge " + "y" * 300
    report = CheckReport([CheckResult("plaintext-history", True, message, fix, warning=True)])
    lines = render(report)
    assert lines[0].startswith("warn plaintext-history: warning:") and lines[0].endswith("…")
    assert lines[1] == "     fix: " + fix
    assert lines[-1] == "safe to publish (1 warning(s) above)"


def test_a_warning_on_a_failing_point_keeps_its_own_line_and_fix() -> None:
    """On a point that also fails, a warning was folded into the FAIL line, clipped,
    and its fix not shown at all."""
    fix = "to keep it private: move it into a sops file by hand"
    report = CheckReport(
        [
            _history("value 1"),
            CheckResult(
                "plaintext-history", True, "warning: password hash h.nix", fix, warning=True
            ),
        ]
    )
    lines = render(report)
    assert lines[0] == "FAIL plaintext-history: a secret was committed: value 1"
    assert lines[1:3] == [
        "warn plaintext-history: warning: password hash h.nix",
        "     fix: " + fix,
    ]


def test_a_repeated_fix_names_the_item_it_repeats() -> None:
    # it said "fix: (as above)" under an item whose neighbour above had another fix
    report = CheckReport(
        [
            CheckResult("plaintext-tree", False, "a.nix: secret", "move it"),
            CheckResult("sops-mac", False, "cannot verify the MAC of s.yaml", "set KEY"),
            CheckResult("nix-secret-refs", False, "b.nix: sopsFile unknown", "write a path"),
            CheckResult("sops-recipients", False, "cannot verify t.yaml", "set KEY"),
        ]
    )
    lines = render(report)
    todo = lines[lines.index("to do, most important first:") + 1 : -1]
    assert todo[-4:] == [
        " 3. sops-recipients: cannot verify t.yaml",
        "    fix: set KEY",
        " 4. sops-mac: cannot verify the MAC of s.yaml",
        "    fix: the same as item 3's",
    ]


def test_a_long_message_is_cut_after_a_word_and_whole_in_its_item() -> None:
    words = " ".join(f"word{i}" for i in range(60))  # 400 characters
    lines = render(CheckReport([CheckResult("sops-nix-module", False, words, "do it")]))
    assert lines[0].endswith(" …") and lines[0][:-2].split(" ")[-1] in words.split(" ")
    assert len(lines[0]) <= len("FAIL sops-nix-module: ") + 220
    (item,) = [line for line in lines if line.startswith(" 1. ")]
    assert item == f" 1. sops-nix-module: {words}"
    import json

    from secretkit.gate.model import groups

    lone = CheckResult(
        "host-readable", False, "33 files", "x", tuple(f"f{i}.nix" for i in range(33))
    )
    (group,) = groups(CheckReport([lone]))
    assert json.loads(json.dumps(group.to_json()))["paths"] == [f"f{i}.nix" for i in range(33)]
