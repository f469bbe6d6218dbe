"""`rotate value`, `generate --all` and `hosts add --generate-host-key` killed after
every journaled write (SECRETKIT_TEST_KILL_AFTER_WRITES=N, os._exit like SIGKILL, see
secretkit/atomic.py): at every kill point each file opens with the admin key and the
hosts, and holds all old or all new values; the next run rolls the half-done change
back and does the whole job again, leaving one value everywhere."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from secretkit.sops import operations
from tests.commands.rotate_support import Lab, make_template_lab, run_subprocess
from tests.conftest import commit_all
from tests.support import fake

FILES = ("secrets/observer.yaml", "secrets/immich.yaml", "secrets/jellyfin.yaml")
TOKEN = ("common", "api_token")
ROTATE_ORDER = tuple(sorted(FILES))  # rotate value writes the files as paths sort
GENERATE_ORDER = FILES  # generate --all in the order of generators.toml
HOSTS_OF = {"secrets/observer.yaml": "observer", "secrets/immich.yaml": "immich",
            "secrets/jellyfin.yaml": "jellyfin"}  # fmt: skip


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    lab = make_template_lab(tmp_path_factory.mktemp("template"), extra_files=0)
    token = fake.hex_key(20, "common-token")
    for rel in FILES:
        path = lab.root / rel
        data = operations.set_values(path.read_bytes(), "yaml", {TOKEN: token}, rule=None,
                              identities=lab.admin.identities())  # fmt: skip
        path.write_bytes(data)
        lab.values[rel][TOKEN] = token
    (lab.root / "secrets" / "generators.toml").write_text(
        '["common/api_token"]\nhosts = ["observer", "immich", "jellyfin"]\nkind = "hex"\n\n'
        '["observer/grafana/secret_key"]\nkind = "base64"\n\n'
        '["immich/borg/new_passphrase"]\nkind = "passphrase"\n\n'
        '["jellyfin/wg/private"]\nkind = "wireguard"\n'
    )
    commit_all(lab.root, "common token, generators")
    return lab


def _copy(template: Lab, tmp_path: Path) -> Lab:
    root = tmp_path / "repo"
    shutil.copytree(template.root, root, symlinks=True)
    values = {rel: dict(v) for rel, v in template.values.items()}
    return Lab(root, template.admin, template.hosts, template.keyfile, values)


def _host_views(lab: Lab, rel: str) -> dict[tuple[str, ...], str]:
    admin = lab.plaintext(rel, lab.admin)
    assert lab.plaintext(rel, lab.hosts[HOSTS_OF[rel]]) == admin, rel
    return admin


@pytest.mark.parametrize(
    "kill_after", range(1, len(FILES) + 1), ids=lambda n: f"{n}-{ROTATE_ORDER[n - 1]}"
)
def test_rotate_value_killed_at_every_write(template: Lab, tmp_path: Path, kill_after: int) -> None:
    lab = _copy(template, tmp_path)
    old = lab.values[FILES[0]][TOKEN]
    killed = run_subprocess(lab, "rotate", "value", "common/api_token", kill_after=kill_after)
    assert killed.returncode == 137, killed.stderr.decode()
    assert (lab.root / ".git" / "secretkit-journal").is_dir()
    tokens = [_host_views(lab, rel)[TOKEN] for rel in FILES]
    assert sum(t != old for t in tokens) == kill_after  # written before the kill
    assert {rel for rel, t in zip(FILES, tokens) if t != old} == set(ROTATE_ORDER[:kill_after])
    assert len(set(tokens) - {old}) <= 1

    again = run_subprocess(lab, "rotate", "value", "common/api_token")
    assert again.returncode == 0, again.stderr.decode()
    assert not (lab.root / ".git" / "secretkit-journal").exists()
    views = {rel: _host_views(lab, rel) for rel in FILES}
    new = {v[TOKEN] for v in views.values()}
    assert len(new) == 1 and old not in new
    for rel, view in views.items():
        assert {k: v for k, v in view.items() if k != TOKEN} == {
            k: v for k, v in lab.values[rel].items() if k != TOKEN
        }
    output = (again.stdout + again.stderr + killed.stdout + killed.stderr).decode()
    assert new.pop() not in output and old not in output


@pytest.mark.parametrize(
    "kill_after", range(1, len(FILES) + 1), ids=lambda n: f"{n}-{GENERATE_ORDER[n - 1]}"
)
def test_generate_all_killed_at_every_write(template: Lab, tmp_path: Path, kill_after: int) -> None:
    lab = _copy(template, tmp_path)
    killed = run_subprocess(lab, "generate", "--all", kill_after=kill_after)
    assert killed.returncode == 137, killed.stderr.decode()
    for rel in FILES:
        view = _host_views(lab, rel)
        assert view[TOKEN] == lab.values[rel][TOKEN]  # the shared value exists: never replaced
        extra = set(view) - set(lab.values[rel])
        assert len(extra) in (0, 1), (rel, extra)  # all of a file's new values or none
        assert bool(extra) == (rel in GENERATE_ORDER[:kill_after]), (rel, extra)

    again = run_subprocess(lab, "generate", "--all")
    assert again.returncode == 0, again.stderr.decode()
    assert not (lab.root / ".git" / "secretkit-journal").exists()
    views = {rel: _host_views(lab, rel) for rel in FILES}
    assert ("grafana", "secret_key") in views["secrets/observer.yaml"]
    assert ("borg", "new_passphrase") in views["secrets/immich.yaml"]
    assert ("wg", "private") in views["secrets/jellyfin.yaml"]
    for rel, view in views.items():
        assert {k: view[k] for k in lab.values[rel]} == lab.values[rel]
    rerun = run_subprocess(lab, "generate", "--all")
    assert rerun.returncode == 0
    assert {rel: _host_views(lab, rel) for rel in FILES} == views  # nothing overwritten


ONBOARD_WRITES = 3  # .sops.yaml, secrets/host-keys/newbox.yaml, secrets/newbox.yaml re-wrapped
ONBOARD_ORDER = (".sops.yaml", "secrets/host-keys/newbox.yaml", "secrets/newbox.yaml")


@pytest.mark.parametrize(
    "kill_after", range(1, ONBOARD_WRITES + 1), ids=lambda n: f"{n}-{ONBOARD_ORDER[n - 1]}"
)
def test_generate_host_key_killed_at_every_write(
    template: Lab, tmp_path: Path, kill_after: int
) -> None:
    from secretkit.keys.ssh_to_age import ssh_private_key_to_age
    from secretkit.sops.config import CreationRule, KeyRef
    from tests.commands.rotate_support import Key

    lab = _copy(template, tmp_path)
    values = {("borg", "passphrase"): fake.passphrase("newbox-kill")}
    rule = CreationRule(key_groups=[[KeyRef("age", lab.admin.public)]])
    newbox = lab.root / "secrets" / "newbox.yaml"
    newbox.write_bytes(
        operations.set_values(None, "yaml", values, rule=rule, identities=lab.admin.identities())
    )
    commit_all(lab.root, "newbox, admins only")
    config_before = (lab.root / ".sops.yaml").read_bytes()
    file_before = newbox.read_bytes()
    extra = tmp_path / "extra"

    killed = run_subprocess(lab, "hosts", "add", "newbox", "--generate-host-key",
                            "--extra-files", str(extra), kill_after=kill_after)  # fmt: skip
    assert killed.returncode == 137, killed.stderr.decode()
    assert not extra.exists()  # the tree is written only after the transaction
    host_key_file = lab.root / "secrets" / "host-keys" / "newbox.yaml"
    written = [(lab.root / ".sops.yaml").read_bytes() != config_before, host_key_file.exists(),
               newbox.read_bytes() != file_before]  # fmt: skip
    assert written == [n < kill_after for n in range(ONBOARD_WRITES)]
    again = run_subprocess(lab, "updatekeys")  # any writing command rolls it back first
    assert again.returncode == 0, again.stderr.decode()
    assert (lab.root / ".sops.yaml").read_bytes() == config_before
    assert newbox.read_bytes() == file_before
    assert not (lab.root / "secrets" / "host-keys" / "newbox.yaml").exists()

    done = run_subprocess(lab, "hosts", "add", "newbox", "--generate-host-key",
                          "--extra-files", str(extra))  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    private = (extra / "etc/ssh/ssh_host_ed25519_key").read_bytes()
    host = Key(ssh_private_key_to_age(private).reveal(), "")
    assert lab.plaintext("secrets/newbox.yaml", host) == values
    assert not lab.opens("secrets/host-keys/newbox.yaml", host)
    assert lab.opens("secrets/host-keys/newbox.yaml", lab.admin)
