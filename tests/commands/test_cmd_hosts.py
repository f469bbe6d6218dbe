"""`secretkit hosts list|add|remove` through secretkit.cli.main: output, exit codes,
the malformed-.sops.yaml table, and a real round trip with the sops engine (a file made
under a host's rule opens with that host's identity and the admin's, not another host's)."""

from __future__ import annotations

import json
from pathlib import Path

import pyrage
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from secretkit.keys.ssh_to_age import ssh_private_key_to_age
from tests.keys.layouts import SEED_HOSTS, seed_colmena_flake
from tests.support.cli import run_main

ADMIN = "age1v8zjc47jmlqwefyu66s0d4ke98qr4vnuj3cpvs4z9npfdw833dxqwjrhzv"
IMMICH = "age17044m9wgakla6pzftf4srtl3h5mcsr85jysgt5fg23zpnta8sfdqhzn452"
SSH_BLOB = "AAAAC3NzaC1lZDI1NTE5AAAAIBI1+Q+ntzANebtnicCiAY29uqLGWOaOGLEa8bUqOVmS"
SSH_AGE = "age1a8pk4akrdamj7nvqy3zywgtny8dxz7t5xzu7u8v9mhrayp9freqsqatyrs"


run = run_main


@pytest.fixture
def repo(tmp_git_repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    code, _, _ = run(
        capsys, "-C", str(tmp_git_repo), "init", "--admin", ADMIN, "--admin-name", "stian"
    )
    assert code == 0
    return tmp_git_repo


def test_add_with_each_key_form(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from secretkit.keys.ssh_to_age import ssh_pubkey_to_age

    pub = repo / "host.pub"
    line = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    pub.write_text(f"{line} root@syncthing\n")  # each host its own key (one key is refused)
    forms = [
        ("immich", ["--age", IMMICH], IMMICH),
        ("jellyfin", ["--ssh-pubkey", f"jellyfin ssh-ed25519 {SSH_BLOB}"], SSH_AGE),
        ("syncthing", ["--ssh-pubkey-file", "host.pub"], ssh_pubkey_to_age(line)),
    ]
    for name in ("immich", "jellyfin"):  # syncthing stays unknown to the Nix code
        (repo / "hosts" / name).mkdir(parents=True)
        (repo / "hosts" / name / "default.nix").write_text("{ }\n")
    for name, options, expected in forms:
        code, out, err = run(capsys, "-C", str(repo), "hosts", "add", name, *options)
        note = (
            "note: no host named syncthing was found in the Nix code (see `secretkit hosts list`)\n"
            "  if it is a NixOS host, declare it: create hosts/syncthing/default.nix (a "
            "directory under hosts/ is a host) (the key of a user's home-manager or another "
            "configuration needs nothing more)\n"
        )
        assert (code, err) == (0, note if name == "syncthing" else "")
        assert out == f"added host {name} ({expected}) and a rule for secrets/{name}.yaml\n"
        text = (repo / ".sops.yaml").read_text()
        assert f"&host_{name} {expected}" in text
        assert "ssh-ed25519" not in text  # always the age1… form
        again = run(capsys, "-C", str(repo), "hosts", "add", name, *options)
        assert again[:2] == (0, f"host {name} already present with this key, nothing to do\n")


FLAKE_PARTS = {
    "flake.nix": (
        "{\n  outputs = inputs: inputs.flake-parts.lib.mkFlake { inherit inputs; } {\n"
        "    imports = [ ./nixos/hosts.nix ];\n  };\n}\n"
    ),
    "nixos/hosts.nix": (
        "{ inputs, ... }:\n{\n  flake.nixosConfigurations.atlas = inputs.nixpkgs.lib.nixosSystem"
        ' {\n    modules = [ "${inputs.self}/nixos/hosts/atlas/default.nix" ];\n  };\n}\n'
    ),
    "nixos/hosts/atlas/default.nix": "{ ... }: { }\n",
}


def test_the_way_to_declare_a_new_host_in_a_flake_parts_repo_works(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """flake-parts modules set flake.nixosConfigurations and have no `nixpkgs` argument:
    the hint said to add nixosConfigurations.<h> = nixpkgs.lib… to flake.nix's outputs.
    Followed as printed, the host is found."""
    import re

    for rel, text in FLAKE_PARTS.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    code, _, err = run(capsys, "-C", str(repo), "hosts", "add", "ghost", "--age", IMMICH)
    assert code == 0
    snippet = re.search(r"add `(flake\.nixosConfigurations\.ghost = [^`]+)` to a flake-parts", err)
    assert snippet, err
    module = repo / "nixos/hosts.nix"
    module.write_text(module.read_text().replace("\n}\n", f"\n  {snippet[1]}\n}}\n"))
    (repo / "nixos/hosts/ghost").mkdir()
    (repo / "nixos/hosts/ghost/default.nix").write_text("{ ... }: { }\n")
    code, out, _ = run(capsys, "-C", str(repo), "hosts", "list", "--format", "json")
    hosts = {h["host"]: h["entry_modules"] for h in json.loads(out)["hosts"]}
    assert hosts["ghost"] == ["nixos/hosts/ghost/default.nix"]


def test_add_clash_and_remove(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "-C", str(repo), "hosts", "add", "immich", "--age", IMMICH)
    before = (repo / ".sops.yaml").read_bytes()
    code, out, err = run(capsys, "-C", str(repo), "hosts", "add", "immich", "--age", SSH_AGE)
    assert (code, out) == (3, "")
    assert err == (
        "error: host immich already has a different key in .sops.yaml "
        "(hint: to replace it run `secretkit rotate host immich --age …`)\n"
    )
    assert (repo / ".sops.yaml").read_bytes() == before
    assert run(capsys, "-C", str(repo), "hosts", "remove", "immich") == (
        0,
        "removed host immich\n",
        "",
    )
    text = (repo / ".sops.yaml").read_text()
    assert "immich" not in text and "admin_stian" in text
    assert run(capsys, "-C", str(repo), "hosts", "remove", "immich") == (
        0,
        "host immich is not in .sops.yaml, nothing to do\n",
        "",
    )


def test_add_refuses_a_host_whose_key_an_anchor_of_its_name_holds(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """truxnell/nix-config names its hosts' keys `&daedalus`: `hosts add daedalus` added
    `&host_daedalus` beside it, hosts list then showed the new key while every rule
    kept the old one, and check failed host-readable 7 times."""
    sops_yaml = repo / ".sops.yaml"
    text = sops_yaml.read_text().replace("keys:\n", f"keys:\n  - &immich {IMMICH}\n", 1)
    sops_yaml.write_text(text)
    code, out, err = run(capsys, "-C", str(repo), "hosts", "add", "immich", "--age", SSH_AGE)
    assert (code, out) == (3, "")
    assert err == (
        f"error: .sops.yaml already has a key for immich: &immich ({IMMICH[:16]}…, as "
        "secretkit hosts list shows it); nothing was changed (hint: to give immich another "
        "key: secretkit rotate host immich --ssh-pubkey-file <its new key.pub> (or --age "
        "age1…))\n"
    )
    assert sops_yaml.read_text() == text
    # the same with secretkit's own rule for its file listing that key: the hint was
    # "add *host_immich to that rule", an anchor that does not exist
    rule = "\n  - path_regex: ^secrets/immich\\.yaml$\n    key_groups:\n      - age:\n"
    rule += "          - *admin_stian\n          - *immich\n"
    ruled = text.replace("creation_rules: []\n", "creation_rules:" + rule)
    sops_yaml.write_text(ruled)
    code, _, err = run(capsys, "-C", str(repo), "hosts", "add", "immich", "--age", SSH_AGE)
    assert code == 3 and err.startswith("error: .sops.yaml already has a key for immich: &immich")
    assert sops_yaml.read_text() == ruled


@pytest.mark.parametrize(
    ("options", "code", "message"),
    [
        ([], 2, "error: give exactly one of --age, --ssh-pubkey, --ssh-pubkey-file"),
        (["--age", IMMICH, "--ssh-pubkey", "x"], 2, "error: give exactly one of"),
        (["--age", "AGE1NOPE"], 3, "error: invalid age recipient:"),
        (["--ssh-pubkey", "ssh-rsa AAAAB3 x"], 3, "error: only ssh-ed25519 keys can be"),
        (["--ssh-pubkey-file", "missing.pub"], 3, "error: cannot read missing.pub:"),
    ],
)
def test_add_key_option_errors(
    repo: Path, capsys: pytest.CaptureFixture[str], options: list[str], code: int, message: str
) -> None:
    before = (repo / ".sops.yaml").read_bytes()
    got, _, err = run(capsys, "-C", str(repo), "hosts", "add", "web", *options)
    assert got == code and err.startswith(message) and err.count("\n") == 1
    assert (repo / ".sops.yaml").read_bytes() == before


def test_add_without_sops_yaml(tmp_git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "-C", str(tmp_git_repo), "hosts", "add", "web", "--age", IMMICH)
    assert code == 3
    assert err == (
        f"error: no .sops.yaml in {tmp_git_repo} (hint: run `secretkit init --admin age1…` first)\n"
    )


HINT = "(hint: fix .sops.yaml by hand (see `secretkit init --help`) and retry)"
MALFORMED = [
    ("keys: [\n", f"error: .sops.yaml is not valid YAML (line 2, column 1) {HINT}"),
    ("- a\n- b\n", f"error: .sops.yaml must be a mapping with keys and creation_rules {HINT}"),
    ("keys: 5\n", f"error: .sops.yaml: keys must be a list of anchored recipients {HINT}"),
    ("creation_rules: {a: 1}\n", f"error: .sops.yaml: creation_rules must be a list {HINT}"),
    ("creation_rules:\n  - 5\n", f"error: .sops.yaml: creation rule 1 is not a mapping {HINT}"),
    (
        "creation_rules:\n  - path_regex: 5\n",
        "error: .sops.yaml: creation rule 1 has a path_regex that is not a string " + HINT,
    ),
    (
        "creation_rules:\n  - key_groups: {age: x}\n",
        "error: .sops.yaml: creation rule 1 has key_groups that is not a list " + HINT,
    ),
    (
        "creation_rules:\n  - age: *nope\n",
        f"error: .sops.yaml uses an alias with no anchor (line 2, column 10) {HINT}",
    ),
    (
        f"keys:\n  - &admin_a {ADMIN}\n  - &admin_a {IMMICH}\n",
        f"error: .sops.yaml defines an anchor twice (line 3, column 5) {HINT}",
    ),
    (
        "keys:\n  - &host_x age1qqqqqqqqqqqq\n",
        "error: .sops.yaml: key host_x is not a valid age recipient (invalid age recipient: "
        "bech32 checksum does not match (a typo or a truncated key?)) "
        "(hint: host keys must be age1… recipients)",
    ),
    (  # a host decrypts with age on the machine: a PGP host key is named as such
        f"keys:\n  - &host_x {'AB12' * 10}\n",
        "error: .sops.yaml: key host_x is a PGP fingerprint, but a host key must be age: "
        "sops-nix decrypts on the host with age (from its ssh host key) (hint: rename the "
        "anchor if it is not a host's key, or give the host its age key: secretkit rotate "
        "host x --ssh-pubkey-file <its ssh_host_ed25519_key.pub>)",
    ),
    (  # an admin key may be age or PGP; anything else is named
        "keys:\n  - &admin_a age1qqqqqqqqqqqq\n",
        "error: .sops.yaml: key admin_a is neither an age recipient nor a PGP fingerprint "
        "(invalid age recipient: bech32 checksum does not match (a typo or a truncated key?)) "
        "(hint: write an admin key as age1… or as the 40 hex digits of a PGP fingerprint)",
    ),
    ("keys:\n  - \xff\n", f"error: .sops.yaml is not UTF-8 text {HINT}"),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED)
@pytest.mark.parametrize("command", ["add", "remove", "list"])
def test_malformed_sops_yaml(
    tmp_git_repo: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    message: str,
    command: str,
) -> None:
    path = tmp_git_repo / ".sops.yaml"
    data = text.encode("latin-1") if "\xff" in text else text.encode()
    path.write_bytes(data)
    args = {"add": ["web", "--age", IMMICH], "remove": ["web"], "list": []}[command]
    code, out, err = run(capsys, "-C", str(tmp_git_repo), "hosts", command, *args)
    assert (code, out, err) == (3, "", message + "\n")
    assert path.read_bytes() == data
    assert "qqqq" not in err  # values from the file are never echoed


def test_list_seed_repo(tmp_git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_colmena_flake(tmp_git_repo)
    run(capsys, "-C", str(tmp_git_repo), "init", "--admin", ADMIN, "--admin-name", "stian")
    run(capsys, "-C", str(tmp_git_repo), "hosts", "add", "immich", "--age", IMMICH)
    run(capsys, "-C", str(tmp_git_repo), "hosts", "add", "retired", "--age", SSH_AGE)
    code, out, err = run(capsys, "-C", str(tmp_git_repo), "hosts", "list", "--format", "json")
    assert (code, err) == (0, "")
    payload = json.loads(out)
    rows = {row["host"]: row for row in payload["hosts"]}
    assert sorted(rows) == sorted([*SEED_HOSTS, "retired"])
    assert rows["immich"] == {
        "host": "immich",
        "key": IMMICH,
        "source": "colmena",
        "entry_modules": ["hosts/immich/default.nix", "modules/common/default.nix"],
        "modules": 5,
        "rule": True,
        "other_rules": [],
    }
    assert rows["retired"] == {
        "host": "retired",
        "key": SSH_AGE,
        "source": ".sops.yaml only",
        "entry_modules": [],
        "modules": 0,
        "rule": True,
        "other_rules": [],
    }
    assert rows["observer"]["key"] is None and rows["observer"]["rule"] is False
    assert payload["unresolved"] == []
    assert payload["external"] == [
        {"path": "flake.nix", "module": "line 10: inputs.sops-nix.nixosModules.sops"}
    ]
    code, out, _ = run(capsys, "-C", str(tmp_git_repo), "hosts", "list")
    lines = out.splitlines()
    assert lines[0].split() == ["HOST", "KEY", "SOURCE", "MODULES", "RULE", "ENTRY", "MODULES"]
    immich = next(line for line in lines if line.startswith("immich "))
    assert immich.split()[:5] == ["immich", IMMICH, "colmena", "5", "yes"]
    assert len(lines) == 1 + len(SEED_HOSTS) + 1


def test_list_reports_unresolved_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "hosts" / "x").mkdir(parents=True)
    (tmp_path / "hosts" / "x" / "default.nix").write_text("{ imports = [ ./gone.nix ]; }\n")
    code, out, err = run(capsys, "-C", str(tmp_path), "hosts", "list")
    assert code == 0 and out.splitlines()[1].split()[:5] == ["x", "-", "hosts-dir", "1", "no"]
    assert err == (
        "unresolved: hosts/x/default.nix: line 1: imported file hosts/x/gone.nix does not exist"
        " (host x)\n"
    )


# -- round trip with the sops engine ----------------------------------------------


def _ssh_key() -> tuple[str, bytes]:
    key = Ed25519PrivateKey.generate()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    return public, private


def test_round_trip_with_the_sops_engine(
    tmp_git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from secretkit.errors import IntegrityError
    from secretkit.sops import operations
    from secretkit.sops.config import find_config
    from secretkit.sops.document import load_plain
    from secretkit.sops.identities import load_identities

    admin = pyrage.x25519.Identity.generate()
    immich_pub, immich_private = _ssh_key()
    jelly_pub, jelly_private = _ssh_key()
    (tmp_git_repo / "jellyfin.pub").write_text(f"jellyfin {jelly_pub}\n")
    root = str(tmp_git_repo)
    assert run(capsys, "-C", root, "init", "--admin", str(admin.to_public()))[0] == 0
    assert run(capsys, "-C", root, "hosts", "add", "immich", "--ssh-pubkey", immich_pub)[0] == 0
    code = run(capsys, "-C", root, "hosts", "add", "jellyfin", "--ssh-pubkey-file", "jellyfin.pub")
    assert code[0] == 0

    config = find_config(tmp_git_repo, env={})
    assert config is not None
    target = tmp_git_repo / "secrets" / "immich.yaml"
    rule = config.rule_for(target)
    assert rule is not None
    plain = load_plain(b"borg:\n  passphrase: not-a-real-one\n", "yaml")
    encrypted = operations.encrypt_new(plain, rule)

    def opens_with(identity: str) -> bool:
        identities = load_identities(env={"SOPS_AGE_KEY": identity})
        try:
            result = operations.decrypt_bytes(encrypted, "yaml", identities)
        except IntegrityError:
            return False
        assert result.get(["borg", "passphrase"]) == "not-a-real-one"
        return True

    # the host decrypts the way sops-nix does: with the age key derived from its ssh key
    assert opens_with(ssh_private_key_to_age(immich_private).reveal())
    assert opens_with(str(admin))
    assert not opens_with(ssh_private_key_to_age(jelly_private).reveal())


def test_adding_a_host_whose_sops_nix_uses_another_key_says_so(
    tmp_git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The host tells sops-nix to use a user's ssh key: an ssh host key added with no
    word would leave every secret unreadable there."""
    (tmp_git_repo / "flake.nix").write_text(
        "{ outputs = { nixpkgs, ... }: { nixosConfigurations.box = "
        "nixpkgs.lib.nixosSystem { modules = [ ./box.nix ]; }; }; }\n"
    )
    (tmp_git_repo / "box.nix").write_text(
        '{ ... }: { sops.age.sshKeyPaths = [ "/home/me/.ssh/id_ed25519" ]; }\n'
    )
    admin = pyrage.x25519.Identity.generate()
    host = pyrage.x25519.Identity.generate()
    root = str(tmp_git_repo)
    assert run(capsys, "-C", root, "init", "--admin", str(admin.to_public()))[0] == 0
    code, _out, err = run(capsys, "-C", root, "hosts", "add", "box", "--age", str(host.to_public()))
    assert code == 0
    assert "note: host box's sops-nix decrypts with the key its modules name" in err
    assert '"/home/me/.ssh/id_ed25519" ] in box.nix' in err


def test_an_empty_host_list_says_what_was_looked_for(
    tmp_git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A repository whose hosts secretkit cannot find (jorg-j/nixos keeps them as
    hosts/<h>.nix behind `import <nixpkgs/nixos>` closures) listed nothing and said
    nothing: an empty table read as "no hosts"."""
    (tmp_git_repo / "hosts").mkdir()
    (tmp_git_repo / "hosts/nuc.nix").write_text("{ ... }: { }\n")
    code, out, err = run(capsys, "-C", str(tmp_git_repo), "hosts", "list")
    assert code == 0
    assert out.splitlines() == ["HOST  KEY  SOURCE  MODULES  RULE  ENTRY MODULES"]
    assert err.startswith("no host found: secretkit reads flake.nix's outputs")


def test_list_names_the_rules_of_a_host_with_its_own_layout(
    tmp_git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A host whose secrets live at hosts/<host>/secrets.yaml (Misterio77's layout) has
    no rule for secrets/<host>.yaml, but its key opens files: RULE says which."""
    (tmp_git_repo / "hosts" / "web").mkdir(parents=True)
    (tmp_git_repo / "hosts" / "web" / "default.nix").write_text("{ ... }: { }\n")
    (tmp_git_repo / "flake.nix").write_text(
        "{\n  outputs = { nixpkgs, ... }: {\n"
        "    nixosConfigurations.web = nixpkgs.lib.nixosSystem {\n"
        "      modules = [ ./hosts/web ];\n    };\n  };\n}\n"
    )
    (tmp_git_repo / ".sops.yaml").write_text(
        "keys:\n"
        f"  - &web {IMMICH}\n"
        "creation_rules:\n"
        "  - path_regex: hosts/web/secrets.ya?ml$\n"
        "    key_groups:\n"
        "      - age:\n"
        "          - *web\n"
    )
    code, out, err = run(capsys, "-C", str(tmp_git_repo), "hosts", "list", "--format", "json")
    assert (code, err) == (0, "")
    (row,) = [r for r in json.loads(out)["hosts"] if r["host"] == "web"]
    assert (row["rule"], row["other_rules"]) == (False, ["hosts/web/secrets.ya?ml$"])
    code, out, _ = run(capsys, "-C", str(tmp_git_repo), "hosts", "list")
    (line,) = [line for line in out.splitlines() if line.startswith("web ")]
    assert "no; hosts/web/secrets.ya?ml$" in line


def test_the_way_to_declare_a_host_says_what_discovery_could_not_follow(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """linyinfeng/dotfiles declares its hosts through a helper returning
    `{ ${name} = nixosSystem …; }`: where discovery cannot name one, `hosts add mtl0`
    told the user to declare mtl0, which was declared, and a second definition
    conflicts."""
    (repo / "flake.nix").write_text(  # (a name no reading can tell: read from a file)
        "{\n  outputs = { nixpkgs, ... }: let\n"
        "    mkHost = name: { ${name} = nixpkgs.lib.nixosSystem { modules = [ ./h.nix ]; }; };\n"
        "  in { nixosConfigurations = mkHost (builtins.readFile ./name.txt); };\n}\n"
    )
    (repo / "h.nix").write_text("{ ... }: { }\n")
    code, _, err = run(capsys, "-C", str(repo), "hosts", "add", "mtl0", "--age", IMMICH)
    assert code == 0
    assert "unless it is already declared where secretkit could not follow (flake.nix: " in err
    assert "then a second definition would conflict" in err
