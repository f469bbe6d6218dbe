"""`secretkit updatekeys` with no FILE: every sops file of the repository (found by its
metadata, not its name) brought in line with .sops.yaml in one run, with a summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.sops import document, operations
from secretkit.sops.config import parse_config
from tests.commands.rotate_support import Lab, age_key, make_lab


@pytest.fixture
def lab(tmp_git_repo: Path, tmp_path: Path) -> Lab:
    return make_lab(tmp_git_repo, tmp_path)


def _data_key(lab: Lab, rel: str) -> bytes:
    sops = document.load_encrypted((lab.root / rel).read_bytes(), "yaml")
    return operations.data_key_of(sops, lab.admin.identities())


def test_everything_up_to_date(lab: Lab) -> None:
    before = lab.files()
    result = lab.cli("updatekeys")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [f"{rel}: already up to date" for rel in sorted(lab.values)]
    assert result.err == "0 file(s) updated, 4 already up to date\n"
    assert lab.files() == before


def test_rule_changes_are_applied_to_every_matching_file(lab: Lab) -> None:
    sops_yaml = lab.root / ".sops.yaml"
    text = sops_yaml.read_text()
    # the shared rule gains jellyfin and loses immich
    shared = text.index("^secrets/shared")
    head, tail = text[:shared], text[shared:]
    tail = tail.replace("- *host_immich", "- *host_jellyfin")
    sops_yaml.write_text(head + tail)
    before = lab.files()
    keys_before = {rel: _data_key(lab, rel) for rel in lab.values}

    result = lab.cli("updatekeys")

    assert result.code == 0, result.err
    immich, jelly = lab.hosts["immich"], lab.hosts["jellyfin"]
    assert "secrets/shared.yaml: updated" in result.out.splitlines()
    assert f"  secrets/shared.yaml: +{jelly.public} -{immich.public}" in result.err
    assert "1 file(s) updated, 3 already up to date" in result.err
    assert "rotate data-keys" in result.err  # a removed recipient keeps the old data key
    assert lab.opens("secrets/shared.yaml", jelly)
    assert not lab.opens("secrets/shared.yaml", immich)
    for rel in lab.values:
        assert _data_key(lab, rel) == keys_before[rel]  # updatekeys keeps data keys
        if rel != "secrets/shared.yaml":
            assert (lab.root / rel).read_bytes() == before[rel]
    # values, MAC and lastmodified are unchanged
    old_lines = [x for x in before["secrets/shared.yaml"].splitlines() if b"ENC[" in x]
    new = (lab.root / "secrets/shared.yaml").read_bytes()
    assert [x for x in new.splitlines() if b"ENC[" in x] == old_lines


def test_sops_files_are_found_by_content_not_by_name(lab: Lab) -> None:
    newcomer = age_key()
    text = (lab.root / ".sops.yaml").read_text().rstrip("\n")
    (lab.root / ".sops.yaml").write_text(
        text + f"\n  - path_regex: ^config/\n    age: {lab.admin.public},{newcomer.public}\n"
    )
    rule = parse_config(
        f"creation_rules:\n  - age: {lab.admin.public}\n".encode(), lab.root / ".sops.yaml"
    ).rules[0]
    (lab.root / "config").mkdir()
    odd = lab.root / "config/app.json.txt"  # a binary-format sops file with an odd name
    plain = document.load_plain(b"opaque bytes\n", "binary")
    odd.write_bytes(operations.encrypt_new(plain, rule))
    (lab.root / "config/notes.yaml").write_text("sops: not really\nkey: value\n")
    stray = lab.root / "misc/stray.json"  # a sops file no rule matches
    stray.parent.mkdir()
    stray.write_bytes(
        operations.set_values(
            None, "json", {("a",): "b"}, rule=rule, identities=lab.admin.identities()
        )
    )
    ignored = lab.root / "build/out.yaml"  # git-ignored: not part of the repository
    ignored.parent.mkdir()
    ignored.write_bytes((lab.root / "secrets/immich.yaml").read_bytes())
    (lab.root / ".gitignore").write_text("build/\n")
    stray_before = stray.read_bytes()

    result = lab.cli("updatekeys")

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert "config/app.json.txt: updated" in lines
    assert "misc/stray.json: no creation rule matches, left alone" in lines
    assert not any("notes.yaml" in line or "build/" in line for line in lines)
    assert stray.read_bytes() == stray_before
    opened = operations.decrypt_bytes(odd.read_bytes(), "binary", newcomer.identities())
    assert document.dump_plain(opened) == b"opaque bytes\n"


def test_missing_key_names_the_files_and_changes_nothing(lab: Lab, tmp_path: Path) -> None:
    text = (lab.root / ".sops.yaml").read_text()
    (lab.root / ".sops.yaml").write_text(text.replace("- *host_immich", "- *host_jellyfin"))
    before = lab.files()
    stranger = age_key().write(tmp_path / "stranger.txt")
    result = lab.cli("updatekeys", env={"SOPS_AGE_KEY_FILE": str(stranger)})
    assert result.code == 3
    assert result.err.startswith(
        "error: no available identity opens 2 file(s): secrets/immich.yaml, secrets/shared.yaml"
    )
    assert lab.files() == before


def test_updated_files_are_read_by_the_npm_reader(lab: Lab) -> None:
    from tests.sops.test_sops_interop import read_with_npm

    text = (lab.root / ".sops.yaml").read_text()
    (lab.root / ".sops.yaml").write_text(text.replace("- *host_immich", "- *host_jellyfin"))
    assert lab.cli("updatekeys").code == 0
    keyfile = lab.hosts["jellyfin"].write(lab.root.parent / "jelly.txt")
    for rel in ("secrets/immich.yaml", "secrets/shared.yaml"):
        got = read_with_npm(lab.root / rel, "yaml", keyfile)
        assert isinstance(got, dict) and got


@pytest.mark.parametrize("command", [("updatekeys",), ("rotate", "data-keys")])
def test_a_damaged_secrets_file_stops_the_tree_wide_commands(
    lab: Lab, command: tuple[str, ...]
) -> None:
    # a truncated secrets/observer.yaml was skipped silently: "everything up to date"
    target = lab.root / "secrets/observer.yaml"
    target.write_bytes(target.read_bytes()[:300])  # values left, metadata gone
    (lab.root / "secrets/README.md").write_text("no sops file, matched by no rule\n")
    before = lab.files()
    result = lab.cli(*command)
    assert result.code == 4
    assert result.err == (
        "error: secrets/observer.yaml matches a creation rule but is not a readable sops "
        "file (not a sops file: no sops metadata found (yaml)); nothing was changed "
        "(hint: restore it from git (git checkout -- secrets/observer.yaml) or remove it, "
        "then retry)\n"
    )
    assert lab.files() == before
