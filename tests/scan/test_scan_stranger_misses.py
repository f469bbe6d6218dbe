"""Secrets a stranger's homelab held where the scanner did not look: the values of a
let-bound attrset given to secret options by attribute (``psk = secrets.wifi;``),
and secret flags of storage tools in a script."""

from __future__ import annotations

from pathlib import Path

from secretkit.scan.worktree import scan_tree
from tests.support import fake


def _found(root: Path) -> list[tuple[str, int, str]]:
    return sorted((f.path, f.line, f.secret.reveal()) for f in scan_tree(root).findings)


def test_a_let_bound_attrsets_value_given_to_a_secret_option_is_found(tmp_path: Path) -> None:
    wifi, grafana, colour = fake.password("wifi"), fake.password("grafana"), fake.password("c")
    (tmp_path / "a.nix").write_text(
        "{ config, ... }:\nlet\n  secrets = {\n"
        f'    wifi = "{wifi}";\n    grafana = "{grafana}";\n    colour = "{colour}";\n  }};\n'
        "in {\n"
        '  networking.wireless.networks."home".psk = secrets.wifi;\n'
        "  services.grafana.settings.security.admin_password = lib.mkForce secrets.grafana;\n"
        "  stylix.base = secrets.colour;\n"  # (no secret option: not a secret by this)
        "}\n"
    )
    assert _found(tmp_path) == [("a.nix", 4, wifi), ("a.nix", 5, grafana)]


def test_storage_tools_secret_flags_are_found(tmp_path: Path) -> None:
    """rclone's --s3-secret-access-key and --b2-key, mc's --secret-key: the hook, scan
    and check all passed a script holding them.  What a flag names by a file, a
    variable or a command is no value."""
    s3, minio, b2 = (fake.chars(fake._ALNUM, 40, n) for n in ("s3", "minio", "b2"))
    (tmp_path / "sync.nix").write_text(
        "{ pkgs, ... }: {\n  systemd.services.photo-sync.script = ''\n"
        f"    rclone sync /srv/photos :s3:photos --s3-secret-access-key {s3}\n"
        f"    mc alias set nas http://nas.lan:9000 photos --secret-key={minio}\n"
        '    wg-tool --private-key /run/secrets/wg --master-key $KEY --encryption-key "$(cat x)"\n'
        "  '';\n}\n"
    )
    (tmp_path / "backup.sh").write_text(f"#!/bin/sh\nrclone copy /srv b2:x --b2-key {b2}\n")
    assert _found(tmp_path) == [("backup.sh", 2, b2), ("sync.nix", 3, s3), ("sync.nix", 4, minio)]


def test_aws_and_rclone_configuration_commands_give_secrets(tmp_path: Path) -> None:
    """`aws configure set aws_secret_access_key <value>` and `rclone config create … s3
    secret_access_key <value>`: a stranger's setup script passed scan and check."""
    aws, wasabi, b2 = (fake.chars(fake._ALNUM, 40, n) for n in ("aws", "wasabi", "b2k"))
    (tmp_path / "setup.sh").write_text(
        "#!/bin/sh\n"
        f"aws configure set aws_secret_access_key {aws}\n"
        'aws configure set aws_secret_access_key "$AWS_SECRET"\n'
        f"rclone config create wasabi s3 provider Wasabi secret_access_key {wasabi}\n"
        f"rclone config create b2 b2 account 123 key {b2}\n"
        "rclone config update remote token $(cat /run/secrets/tok)\n"
    )
    assert _found(tmp_path) == [("setup.sh", 2, aws), ("setup.sh", 4, wasabi), ("setup.sh", 5, b2)]


def test_settings_named_meta_or_description_are_read_option_docs_are_not(
    tmp_path: Path,
) -> None:
    """notthebee/nix-config (a stranger's run): every string under an attribute named
    ``meta``, ``description``, ``example`` … was skipped, a real token in
    ``services.myapp.settings.meta.api_token`` too.  Only an option's declaration
    (``mkOption { example = …; }``) and a package's or module's ``meta`` document."""
    token, password = fake.github_token("meta"), fake.password("description")
    doc_token, doc_password = fake.github_token("doc"), fake.password("doc")
    (tmp_path / "app.nix").write_text(
        "{ config, lib, pkgs, ... }:\n{\n"
        "  options.my.app.token = lib.mkOption {\n"
        f'    example = "{doc_token}";\n'
        f'    description = "password = {doc_password}";\n  }};\n'
        "  config = lib.mkIf true {\n"
        f'    services.myapp.settings.meta.api_token = "{token}";\n'
        f'    services.myapp.settings.description.password = "{password}";\n  }};\n'
        f'  meta.doc = "token = {doc_password}";\n'
        "  environment.systemPackages = [ (pkgs.stdenv.mkDerivation {\n"
        f'    pname = "x"; meta.description = "api token {doc_token}";\n  }}) ];\n'
        "}\n"
    )
    assert _found(tmp_path) == [("app.nix", 8, token), ("app.nix", 9, password)]


def test_a_prefixed_password_keyword_line_is_found(tmp_path: Path) -> None:
    """A stranger's mosquitto bridge: `remote_password <value>` (keepalived's `auth_pass`,
    an LDAP client's `bind_password` likewise) was found nowhere; a bare `password x`
    was."""
    values = [fake.password(f"kw{i}") for i in range(3)]
    (tmp_path / "bridge.conf").write_text(
        "connection bridge\nremote_username u\n"
        f"remote_password {values[0]}\nauth_pass {values[1]}\nbind_password {values[2]}\n"
    )
    assert _found(tmp_path) == [("bridge.conf", i + 3, v) for i, v in enumerate(values)]
