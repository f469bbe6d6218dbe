"""`secretkit hosts remove` with real keys: the removed key opens nothing current, the
files it could read get new data keys, its own file is kept for the admins, and the
reported names are exactly the secrets it could read."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commands.rotate_support import HOST_SECRETS, SHARED_SECRETS, Lab, age_key, make_lab


@pytest.fixture
def lab(tmp_git_repo: Path, tmp_path: Path) -> Lab:
    return make_lab(tmp_git_repo, tmp_path)


def _exposed(out: str) -> set[tuple[str, str]]:
    lines = out.split("change them at their provider", 1)[1].splitlines()[1:]
    pairs = set()
    for line in lines:
        assert line.startswith("  "), line
        rel, name = line.strip().split(": ", 1)
        pairs.add((rel, name))
    return pairs


def test_remove_host_locks_its_key_out_and_lists_its_secrets(lab: Lab) -> None:
    gone = lab.hosts["observer"]
    before = lab.files()
    result = lab.cli("hosts", "remove", "observer")
    assert result.code == 0, result.err

    text = (lab.root / ".sops.yaml").read_text()
    assert "observer" not in text and gone.public not in text
    assert "# sops creation rules, managed by secretkit" in text  # comments kept
    for rel in lab.values:
        assert not lab.opens(rel, gone), rel
        assert lab.plaintext(rel, lab.admin) == lab.values[rel]
    # the shared file: new data key, still for the admin and immich
    assert lab.opens("secrets/shared.yaml", lab.hosts["immich"])
    # the host's own file: kept, for the admin only, and reported
    assert (lab.root / "secrets/observer.yaml").exists()
    for name in ("immich", "jellyfin"):
        assert not lab.opens("secrets/observer.yaml", lab.hosts[name])
        assert (lab.root / f"secrets/{name}.yaml").read_bytes() == before[f"secrets/{name}.yaml"]
    out, err = result.out, result.err
    assert out.splitlines()[0] == "removed host observer"
    assert f"secrets/shared.yaml: new data key (-{gone.public})" in out
    assert (
        f"secrets/observer.yaml: new data key (-{gone.public}), "
        "kept for admins only (its rule is gone)" in out
    )
    assert "note: secrets/observer.yaml is no longer used by any rule" in err
    expected = {("secrets/observer.yaml", "/".join(p)) for p in HOST_SECRETS["observer"]}
    expected |= {("secrets/shared.yaml", "/".join(p)) for p in SHARED_SECRETS}
    assert _exposed(out) == expected
    for values in lab.values.values():
        for value in values.values():
            assert value not in out and value not in err

    again = lab.cli("hosts", "remove", "observer")
    assert (again.code, again.out, again.err) == (
        0,
        "host observer is not in .sops.yaml, nothing to do\n",
        "",
    )


def test_remove_a_host_without_files(lab: Lab) -> None:
    extra = age_key()
    assert lab.cli("hosts", "add", "laptop", "--age", extra.public).code == 0
    before = lab.files()
    result = lab.cli("hosts", "remove", "laptop")
    assert (result.code, result.out, result.err) == (0, "removed host laptop\n", "")
    assert lab.files() == before


def test_remove_needs_a_key_that_opens_every_file(lab: Lab, tmp_path: Path) -> None:
    before = lab.files()
    config = (lab.root / ".sops.yaml").read_bytes()
    jelly = lab.hosts["jellyfin"].write(tmp_path / "jelly.txt")
    result = lab.cli("hosts", "remove", "observer", env={"SOPS_AGE_KEY_FILE": str(jelly)})
    assert result.code == 3
    assert result.err.startswith(
        "error: no available identity opens 2 file(s): secrets/observer.yaml, secrets/shared.yaml"
    )
    assert lab.files() == before
    assert (lab.root / ".sops.yaml").read_bytes() == config


def test_a_file_only_the_host_could_read_is_refused(lab: Lab) -> None:
    from secretkit.sops import operations
    from secretkit.sops.config import parse_config

    host = lab.hosts["jellyfin"]
    rule = parse_config(
        f"creation_rules:\n  - age: {host.public}\n".encode(), lab.root / ".sops.yaml"
    ).rules[0]
    lonely = lab.root / "secrets/jellyfin-only.yaml"
    lonely.write_bytes(
        operations.set_values(None, "yaml", {("k",): "v"}, rule=rule, identities=host.identities())
    )
    config = (lab.root / ".sops.yaml").read_bytes()
    result = lab.cli("hosts", "remove", "jellyfin")
    assert result.code == 3
    assert "secrets/jellyfin-only.yaml is encrypted only for host jellyfin" in result.err
    assert (lab.root / ".sops.yaml").read_bytes() == config


def test_removed_files_are_read_by_the_npm_reader(lab: Lab) -> None:
    from tests.sops.test_sops_interop import read_with_npm

    assert lab.cli("hosts", "remove", "observer").code == 0
    immich_keys = lab.hosts["immich"].write(lab.root.parent / "immich.txt")
    got = read_with_npm(lab.root / "secrets/shared.yaml", "yaml", immich_keys)
    assert got == {"tailscale": {"auth_key": next(iter(SHARED_SECRETS.values()))}}
    got = read_with_npm(lab.root / "secrets/observer.yaml", "yaml", lab.keyfile)
    assert isinstance(got, dict) and set(got) == {"alertmanager", "prometheus"}


def test_names_only_git_history_holds_are_listed_too(lab: Lab) -> None:
    from secretkit.sops import operations
    from secretkit.sops.config import find_config
    from tests.conftest import commit_all, git
    from tests.support import fake

    config = find_config(lab.root)
    assert config is not None
    observer_rule = config.rule_for(lab.root / "secrets/observer.yaml")
    assert observer_rule is not None
    admin = lab.admin.identities()
    # a file the observer could read, committed and deleted since
    legacy = lab.root / "secrets/legacy.yaml"
    legacy.write_bytes(
        operations.set_values(
            None,
            "yaml",
            {("grafana", "admin_password"): fake.password("graf")},
            rule=observer_rule,
            identities=admin,
        )
    )
    commit_all(lab.root, "legacy secrets")
    git(lab.root, "rm", "-q", "secrets/legacy.yaml")
    commit_all(lab.root, "drop legacy")
    # a value removed from the observer's file since
    kept = dict(HOST_SECRETS["observer"])
    del kept[("prometheus", "syncthing", "api_key")]
    (lab.root / "secrets/observer.yaml").write_bytes(
        operations.set_values(None, "yaml", kept, rule=observer_rule, identities=admin)
    )
    commit_all(lab.root, "syncthing key no longer needed")

    result = lab.cli("hosts", "remove", "observer")

    assert result.code == 0, result.err
    history = " (only in git history)"
    expected = {("secrets/observer.yaml", "/".join(p)) for p in kept}
    expected |= {("secrets/shared.yaml", "/".join(p)) for p in SHARED_SECRETS}
    expected |= {
        ("secrets/legacy.yaml", "grafana/admin_password" + history),
        ("secrets/observer.yaml", "prometheus/syncthing/api_key" + history),
    }
    assert _exposed(result.out) == expected
    assert "could read these 5 secret(s)" in result.out


def test_a_host_still_defined_in_nix_gets_a_note(lab: Lab) -> None:
    # after `hosts remove`, a host the flake still defines cannot decrypt what it uses;
    # only the orphaned file was mentioned ("delete it when no configuration needs it")
    (lab.root / "hosts" / "jellyfin").mkdir(parents=True)
    (lab.root / "hosts" / "jellyfin" / "default.nix").write_text("{ }\n")
    note = "note: host jellyfin is still defined in the Nix code and can no longer decrypt"
    result = lab.cli("hosts", "remove", "jellyfin")
    assert result.code == 0, result.err
    assert note in result.err
    other = lab.cli("hosts", "remove", "immich")  # not in the Nix code: no such note
    assert other.code == 0, other.err
    assert "still defined in the Nix code" not in other.err
