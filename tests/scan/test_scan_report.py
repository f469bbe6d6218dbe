"""`secretkit scan` output: JSON shape, SARIF 2.1.0 schema, text, exit codes, and the
secret value never appearing in any format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from secretkit.cli import cli
from secretkit.scan.model import JSON_KEYS
from tests.conftest import commit_all, git
from tests.support import fake

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"


def _homelab(repo: Path) -> list[str]:
    values = [
        fake.pushover_token("r"),
        fake.password("r"),
        fake.tailscale_auth_key("r"),
        fake.github_token("r"),
    ]
    (repo / "hosts").mkdir()
    (repo / "hosts" / "observer.nix").write_text(
        "{\n"
        f'  receivers = [ {{ pushover_configs = [ {{ token = "{values[0]}"; }} ]; }} ];\n'
        f'  users.users.root.initialPassword = "{values[1]}";\n'
        f'  services.tailscale.extraUpFlags = [ "--authkey={values[2]}" ];\n'
        "}\n"
    )
    (repo / "deploy.sh").write_text(f"export GH={values[3]}\n")
    (repo / "image.bin").write_bytes(b"\0\0\0")
    commit_all(repo)
    return values


def _run(repo: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-C", str(repo), "scan", *args], catch_exceptions=False)
    return result.exit_code, result.stdout  # progress lines go to stderr


def test_json_shape_exactly_as_designed(tmp_git_repo: Path) -> None:
    _homelab(tmp_git_repo)
    code, out = _run(tmp_git_repo, "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert list(doc) == ["version", "findings", "skipped", "stats"]
    assert doc["version"] == 1
    assert list(doc["stats"]) == ["files", "bytes", "seconds"]
    assert doc["skipped"] == []  # a binary file is read for printable runs, not skipped
    assert len(doc["findings"]) == 4
    for finding in doc["findings"]:
        assert tuple(finding) == JSON_KEYS
        assert finding["severity"] in ("high", "medium", "low")
        assert finding["commit"] is None
        assert finding["fingerprint"].startswith("sk2:")
        assert len(finding["preview"].rstrip("…")) <= 4
    by_rule = {f["rule"]: f for f in doc["findings"]}
    assert by_rule["secret-attribute"]["attrpath"] == "users.users.root.initialPassword"
    assert by_rule["secret-attribute"]["line"] == 3
    assert by_rule["github-token"]["attrpath"] is None
    assert by_rule["github-token"]["path"] == "deploy.sh"


def test_sarif_validates_against_the_official_schema(tmp_git_repo: Path) -> None:
    import jsonschema

    _homelab(tmp_git_repo)
    code, out = _run(tmp_git_repo, "--format", "sarif")
    assert code == 1
    doc = json.loads(out)
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft4Validator(schema).validate(doc)
    results = doc["runs"][0]["results"]
    assert len(results) == 4
    rules = [r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]]
    for result in results:
        assert rules[result["ruleIndex"]] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1


def test_clean_sarif_is_valid_too(tmp_git_repo: Path) -> None:
    import jsonschema

    (tmp_git_repo / "x.nix").write_text("{ }\n")
    commit_all(tmp_git_repo)
    code, out = _run(tmp_git_repo, "--format", "sarif")
    assert code == 0
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(json.loads(out))


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_no_format_contains_a_secret(tmp_git_repo: Path, fmt: str) -> None:
    values = _homelab(tmp_git_repo)
    code, out = _run(tmp_git_repo, "--format", fmt)
    assert code == 1
    for value in values:
        assert value not in out
        assert value[4:12] not in out  # not even past the preview


def test_history_json_carries_commits(tmp_git_repo: Path) -> None:
    values = _homelab(tmp_git_repo)
    head = git(tmp_git_repo, "rev-parse", "HEAD").strip()
    for path in ("hosts/observer.nix", "deploy.sh"):
        (tmp_git_repo / path).write_text("{ }\n")
    commit_all(tmp_git_repo, "clean")
    assert _run(tmp_git_repo)[0] == 0
    code, out = _run(tmp_git_repo, "--history", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert {f["commit"] for f in doc["findings"]} == {head}
    for value in values:
        assert value not in out


def test_text_groups_by_file(tmp_git_repo: Path) -> None:
    _homelab(tmp_git_repo)
    code, out = _run(tmp_git_repo)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "deploy.sh"
    assert "hosts/observer.nix" in lines
    assert lines[-1].startswith("4 finding(s) in 2 file(s)")


def test_output_file(tmp_git_repo: Path) -> None:
    _homelab(tmp_git_repo)
    code, out = _run(tmp_git_repo, "--format", "json", "--output", "report.json")
    assert code == 1
    assert out == ""
    assert len(json.loads((tmp_git_repo / "report.json").read_text())["findings"]) == 4


def test_exit_codes(tmp_git_repo: Path, tmp_path: Path) -> None:
    (tmp_git_repo / "x.nix").write_text("{ }\n")
    commit_all(tmp_git_repo)
    assert _run(tmp_git_repo)[0] == 0
    assert _run(tmp_git_repo, "--staged")[0] == 0
    assert _run(tmp_git_repo, "--format", "xml")[0] == 2
    outside = tmp_path / "plain"
    outside.mkdir()
    from secretkit.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["-C", str(outside), "scan", "--staged"])
    assert exc.value.code == 3
    with pytest.raises(SystemExit) as exc:
        main(["-C", str(tmp_git_repo), "scan", "--staged", "--history"])
    assert exc.value.code == 2


def test_path_arguments_are_relative_to_the_working_directory(tmp_git_repo: Path) -> None:
    _homelab(tmp_git_repo)
    code, out = _run(tmp_git_repo / "hosts", "--format", "json", ".")
    assert code == 1
    assert {f["path"] for f in json.loads(out)["findings"]} == {"hosts/observer.nix"}


def test_a_directory_outside_the_repository_is_scanned_as_its_own_tree(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    other = tmp_path / "unpacked"
    (other / "hosts").mkdir(parents=True)
    value = fake.password("outside")
    (other / "hosts" / "a.nix").write_text(f'{{ password = "{value}"; }}\n')
    code, out = _run(tmp_git_repo, "--format", "json", str(other))
    assert code == 1
    assert [f["path"] for f in json.loads(out)["findings"]] == ["hosts/a.nix"]
    assert value not in out


def test_fingerprints_of_many_values_are_computed_once_each_in_parallel() -> None:
    """The JSON report computes each distinct value's fingerprint once (threads), and
    gives the same fingerprints as one at a time."""
    from secretkit.scan import allowlist
    from secretkit.scan.allowlist import Allowlist
    from secretkit.scan.model import ScanReport
    from secretkit.scan.one_file import scan_bytes
    from tests.support import fake

    keyring = Allowlist(b"k" * 32)
    values = [fake.password(f"fp{i}") for i in range(3)]
    text = "".join(f'{{ users.users.u{i}.password = "{v}"; }}\n' for i, v in enumerate(values))
    findings = scan_bytes("a.nix", (text * 2).encode(), allow=keyring)[0]
    assert len(findings) == 6
    before = allowlist.fingerprint.cache_info().misses
    shown = [f["fingerprint"] for f in ScanReport(findings=findings).to_json()["findings"]]
    assert allowlist.fingerprint.cache_info().misses - before == 3
    assert shown == [allowlist.fingerprint(keyring.key, f.secret.reveal()) for f in findings]


def test_a_file_name_cannot_add_lines_or_drive_the_terminal(tmp_git_repo: Path) -> None:
    """Control characters in a path are written as escapes in the text report."""
    name = "fake\nline.env\x1b[2J"
    (tmp_git_repo / name).write_text(f"TOKEN={fake.github_token('odd-name')}\n")
    result = CliRunner().invoke(cli, ["-C", str(tmp_git_repo), "scan"])
    assert result.exit_code == 1
    assert "fake\\nline.env\\x1b[2J" in result.output.splitlines()
    assert "\x1b" not in result.output


def test_history_text_counts_files_by_path_and_names_the_commits(tmp_git_repo: Path) -> None:
    """One path's versions are one file: two paths, one of them at two commits, read
    as three files."""
    _homelab(tmp_git_repo)
    observer = tmp_git_repo / "hosts" / "observer.nix"
    observer.write_text(observer.read_text().replace("initialPassword", "password"))
    commit_all(tmp_git_repo, "the same secrets, one line changed")
    code, out = _run(tmp_git_repo, "--history")
    assert code == 1
    summary = out.splitlines()[-1]
    assert summary.startswith("7 finding(s) in 2 file(s) at 2 commit(s); "), summary
