"""`secretkit generate HOST NAME --kind K` and `generate --all` on a small homelab
(real age keys, sops files made by the engine): the value lands in the host's file,
readable by the admin and that host, and appears in no output and no other file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.commands.rotate_support import Lab, make_lab
from tests.conftest import need_tool
from tests.support.cli import run_main


@pytest.fixture
def lab(tmp_git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lab:
    lab = make_lab(tmp_git_repo, tmp_path)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(lab.keyfile))
    return lab


def _run(lab: Lab, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code, out, err = run_main(capsys, "-C", str(lab.root), *args)
    return code, out + err


def _assert_nowhere(lab: Lab, output: str, values: list[str]) -> None:
    """No value in the output, nor in any file of the repository (.git included) —
    the sops files hold ciphertext only."""
    blobs = [p.read_bytes() for p in lab.root.rglob("*") if p.is_file()]
    for value in values:
        assert len(value) >= 16
        assert value not in output
        assert value[:12] not in output
        assert not any(value.encode() in blob for blob in blobs)


def test_generate_writes_into_the_host_file_and_prints_only_the_public_half(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(lab, capsys, "generate", "observer", "wireguard/private_key",
                     "--kind", "wireguard")  # fmt: skip
    assert code == 0, out
    plain = lab.plaintext("secrets/observer.yaml", lab.admin)
    private = plain[("wireguard", "private_key")]
    assert plain == {**lab.values["secrets/observer.yaml"], ("wireguard", "private_key"): private}
    host_view = lab.plaintext("secrets/observer.yaml", lab.hosts["observer"])
    assert host_view[("wireguard", "private_key")] == private
    wg = need_tool("wg")
    public = subprocess.run([wg, "pubkey"], input=private.encode(), capture_output=True,
                            check=True).stdout.decode().strip()  # fmt: skip
    assert f"public key: {public}" in out
    _assert_nowhere(lab, out, [private])


def test_generate_refuses_to_overwrite(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    before = lab.files()
    code, out = _run(lab, capsys, "generate", "observer", "alertmanager/pushover/token",
                     "--kind", "alnum")  # fmt: skip
    assert code == 3
    assert "secrets/observer.yaml already holds alertmanager/pushover/token" in out
    # (the command works as given: the name is in no generators.toml, so with its kind)
    assert "secretkit rotate value alertmanager/pushover/token --kind alnum`" in out
    assert lab.files() == before


def test_hashed_password_with_also_plain_and_public_out(
    lab: Lab, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out = _run(lab, capsys, "generate", "immich", "users/stian/hashed", "--kind",
                     "hashed-password", "--also-plain", "users/stian/password")  # fmt: skip
    assert code == 0, out
    plain = lab.plaintext("secrets/immich.yaml", lab.admin)
    hashed, password = plain[("users", "stian", "hashed")], plain[("users", "stian", "password")]
    from secretkit.nix.catalogue.password_hash import sha512_crypt

    assert sha512_crypt(password, hashed.split("$")[2]) == hashed
    pub = tmp_path / "out" / "backup.pub"
    code, out2 = _run(lab, capsys, "generate", "jellyfin", "backup/ssh_key", "--kind",
                      "ssh-ed25519", "--public-out", str(pub))  # fmt: skip
    assert code == 3 and "does not exist" in out2, out2  # a typo creates no tree
    assert not pub.parent.exists()
    assert ("backup", "ssh_key") not in lab.plaintext("secrets/jellyfin.yaml", lab.admin)
    pub.parent.mkdir()
    code, out2 = _run(lab, capsys, "generate", "jellyfin", "backup/ssh_key", "--kind",
                      "ssh-ed25519", "--public-out", str(pub))  # fmt: skip
    assert code == 0, out2
    assert pub.read_text().startswith("ssh-ed25519 AAAA")
    key = lab.plaintext("secrets/jellyfin.yaml", lab.admin)[("backup", "ssh_key")]
    _assert_nowhere(lab, out + out2, [hashed, password, key.splitlines()[1]])


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("generate", "observer", "x"), 2, "give HOST NAME --kind KIND, or --all"),
        (("generate", "nosuchhost", "x", "--kind", "hex"), 3, "no creation rule"),
        (("generate", "observer", "a//b", "--kind", "hex"), 2, "bad secret name"),
        # a path below /run/secrets for sops-nix: `..` would leave it
        (("generate", "observer", "../x", "--kind", "hex"), 2, "bad secret name"),
        (("generate", "observer", "a/./b", "--kind", "hex"), 2, "bad secret name"),
        (("generate", "observer", "x", "--kind", "hex", "--also-plain", "y"), 2,
         "--also-plain is for --kind hashed-password only"),
        (("generate", "observer", "x", "--kind", "hex", "--public-out", "p"), 2,
         "--kind hex has no public half"),
        # only a hash kept: nobody would know the password (a stranger's locked account)
        (("generate", "observer", "users/a/hashed", "--kind", "hashed-password"), 2,
         "so nobody could log in with it"),
        (("generate", "--all"), 3, "secrets/generators.toml declares no secrets"),
        (("generate", "--all", "--kind", "hex"), 2, "--all takes no HOST/NAME"),
        (("generate", "../x", "y", "--kind", "hex"), 3, "host name"),
    ],
)  # fmt: skip
def test_bad_input(
    lab: Lab, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], code: int, message: str
) -> None:
    got, out = _run(lab, capsys, *args)
    assert (got, message in out) == (code, True), out
    assert "Traceback" not in out


GENERATORS = """\
["observer/grafana/admin_password"]
kind = "password"
length = 40

["syncthing/api_key"]
hosts = ["observer", "immich", "jellyfin"]
kind = "alnum"

["immich/db/password"]
kind = "passphrase"

["jellyfin/wg/private"]
kind = "wireguard"
public_out = "hosts/jellyfin/wg.pub"

["observer/wg/private"]
kind = "wireguard"
public_out = "hosts/observer/wg-public.nix"
"""


def test_generate_all_fills_what_is_missing_and_never_overwrites(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    (lab.root / "secrets" / "generators.toml").write_text(GENERATORS)
    kept = lab.plaintext("secrets/immich.yaml", lab.admin)[("db", "password")]
    code, out = _run(lab, capsys, "generate", "--all")
    assert code == 0, out
    views = {h: lab.plaintext(f"secrets/{h}.yaml", lab.admin) for h in lab.hosts}
    shared = {views[h][("syncthing", "api_key")] for h in lab.hosts}
    assert len(shared) == 1  # declared once, the same value on each host
    assert views["immich"][("db", "password")] == kept
    assert "secrets/immich.yaml: db/password exists, kept" in out
    assert "public key written to hosts/jellyfin/wg.pub" in out
    wg = need_tool("wg")
    private = views["jellyfin"][("wg", "private")].encode()
    public = subprocess.run([wg, "pubkey"], input=private, capture_output=True, check=True)
    assert (lab.root / "hosts/jellyfin/wg.pub").read_bytes() == public.stdout
    private = views["observer"][("wg", "private")].encode()
    public = subprocess.run([wg, "pubkey"], input=private, capture_output=True, check=True)
    snippet = (lab.root / "hosts/observer/wg-public.nix").read_text()
    assert snippet == f'"{public.stdout.decode().strip()}"\n'  # a Nix string: import it
    for host, key in lab.hosts.items():
        assert lab.plaintext(f"secrets/{host}.yaml", key) == views[host]
    values = [views["observer"][("grafana", "admin_password")], shared.pop(),
              views["jellyfin"][("wg", "private")]]  # fmt: skip
    _assert_nowhere(lab, out, values)

    before = lab.files()
    code, out = _run(lab, capsys, "generate", "--all")
    assert code == 0 and lab.files() == before and "new" not in out

    code, out = _run(lab, capsys, "generate", "--all", "--force", "syncthing/api_key")
    assert code == 0, out
    after = {h: lab.plaintext(f"secrets/{h}.yaml", lab.admin) for h in lab.hosts}
    again = {after[h][("syncthing", "api_key")] for h in lab.hosts}
    assert len(again) == 1 and again != {values[1]}
    assert after["observer"][("grafana", "admin_password")] == values[0]


def test_generate_all_copies_a_shared_value_to_a_host_that_lacks_it(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    (lab.root / "secrets" / "generators.toml").write_text(
        '["prometheus/syncthing/api_key"]\nhosts = ["observer", "jellyfin"]\nkind = "alnum"\n'
    )
    code, out = _run(lab, capsys, "generate", "--all")
    assert code == 0, out
    value = lab.plaintext("secrets/observer.yaml", lab.admin)[
        ("prometheus", "syncthing", "api_key")
    ]
    assert lab.values["secrets/observer.yaml"][("prometheus", "syncthing", "api_key")] == value
    jelly = lab.plaintext("secrets/jellyfin.yaml", lab.hosts["jellyfin"])
    assert jelly[("prometheus", "syncthing", "api_key")] == value
    assert "secrets/jellyfin.yaml: prometheus/syncthing/api_key: copied from another host" in out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('["observer"]\nkind = "hex"\n', 'name it "HOST/NAME"'),
        ('["observer/x"]\nkind = "nope"\n', "unknown kind 'nope'"),
        ('["observer/x"]\nkind = "hex"\nlenght = 3\n', "unknown option(s) lenght"),
        ('["observer/x"]\nkind = "hex"\nalso_plain = "y"\n', "also_plain is for kind"),
        ('["observer/h"]\nkind = "hashed-password"\n', "a hashed-password needs also_plain"),
        ('["x"]\nhosts = []\nkind = "hex"\n', "hosts must be a non-empty list"),
        ('["observer/x"\n', "secrets/generators.toml:"),
        ('["jellyfin/wg"]\nkind = "wireguard"\npublic_out = "/etc/x"\n', "inside the repository"),
        ('["jellyfin/wg"]\nkind = "wireguard"\npublic_out = "a/../../x"\n', "inside the repo"),
    ],
)
def test_malformed_generators_file(
    lab: Lab, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    (lab.root / "secrets" / "generators.toml").write_text(text)
    code, out = _run(lab, capsys, "generate", "--all")
    assert code == 3 and message in out, out
