"""What two strangers met (badele/nix-homelab at d747820e, and a snowfall-lib +
deploy-rs homelab built for the test), each beside the secret of the same shape that
is still found: a shell's command substitution commented out in a script, an nginx
check of the Authorization header, and htpasswd hashes written by `pkgs.writeText`."""

from __future__ import annotations

from pathlib import Path

from secretkit.scan.worktree import scan_tree
from tests.support import fake


def _found(root: Path) -> list[tuple[str, int, str, str]]:
    return sorted((f.path, f.line, f.rule, f.severity) for f in scan_tree(root).findings)


def test_a_command_substitution_is_run_time_output(tmp_path: Path) -> None:
    (tmp_path / "wiki.nix").write_text(
        "{ ... }:\n{\n  # script = ''\n"
        '  #   DIGESTSECRET="$(authelia crypto hash generate argon2 --password "$CLIENT" '
        "| grep Digest | awk '{ print $2 }')\";\n"
        f'  #   OTHERSECRET="{fake.password("wiki")}";\n'
        "  # '';\n}\n"
    )
    assert [(p, line, rule) for p, line, rule, _ in _found(tmp_path)] == [
        ("wiki.nix", 5, "secret-attribute")
    ]


def test_an_nginx_check_of_the_authorization_header_holds_its_token(tmp_path: Path) -> None:
    token = fake.chars(fake._ALNUM, 40, "nginx-bearer")
    (tmp_path / "web.nix").write_text(
        "{ ... }: {\n"
        '  services.nginx.virtualHosts."web.lan".locations."/metrics".extraConfig = \'\'\n'
        f'    if ($http_authorization != "Bearer {token}") {{ return 401; }}\n'
        "  '';\n"
        '  services.nginx.virtualHosts."b.lan".locations."/".extraConfig = \'\'\n'
        '    if ($http_authorization = "") { return 401; }\n'
        "    proxy_set_header Authorization $http_authorization;\n"
        "  '';\n}\n"
    )
    found = scan_tree(tmp_path).findings
    assert [(f.line, f.rule, f.secret.reveal()) for f in found] == [(3, "command-secret", token)]


def test_an_htpasswd_file_written_by_write_text_holds_a_password_hash(tmp_path: Path) -> None:
    """`$6$` under hashedPassword was a low finding (a hash is crackable offline); an
    htpasswd line `user:$apr1$…` (MD5-crypt: faster to crack) said nothing."""
    salt, digest = fake.chars(fake._ALNUM, 8, "apr-salt"), fake.chars(fake._ALNUM, 22, "apr")
    line = f"admin:$apr1${salt}${digest}"
    (tmp_path / "web.nix").write_text(
        "{ pkgs, ... }: {\n"
        '  services.nginx.virtualHosts."a.lan".basicAuthFile = pkgs.writeText "a" "'
        + line.replace("$", "\\$")
        + '";\n'
        '  services.nginx.virtualHosts."b.lan".basicAuthFile = pkgs.writeText "b.htpasswd" \'\'\n'
        f"    {line}\n  '';\n"
        '  environment.etc."nginx/.htpasswd".text = "' + line.replace("$", "\\$") + '";\n'
        '  environment.etc."motd".text = "' + line.replace("$", "\\$") + '";\n'
        "}\n"
    )
    # (the motd's too: an htpasswd entry is judged by its text, wherever it is, as a
    # text file's lines are; helper-123's traefik basicAuth.users were missed)
    assert _found(tmp_path) == [
        ("web.nix", 2, "password-hash", "low"),
        ("web.nix", 4, "password-hash", "low"),
        ("web.nix", 6, "password-hash", "low"),
        ("web.nix", 7, "password-hash", "low"),
    ]


def test_an_encrypted_tofu_states_key_derivation_parameters_are_no_password(
    tmp_path: Path,
) -> None:
    """OpenTofu keeps its pbkdf2 key provider's public parameters (salt, iterations)
    as base64 JSON under `meta."key_provider.pbkdf2.<name>"`: "move the value into a
    sops file" would have broken `tofu`."""
    import base64
    import json

    salt = base64.b64encode(fake.chars(fake._ALNUM, 32, "tofu-salt").encode()).decode()
    params = {"salt": salt, "iterations": 600000, "hash_function": "sha512", "key_length": 32}
    kdf = base64.b64encode(json.dumps(params).encode()).decode()
    leaked = base64.b64encode(json.dumps({"salt": salt, "password": "x" * 20}).encode()).decode()
    (tmp_path / "terraform.tfstate").write_text(
        json.dumps({"serial": 1, "meta": {"key_provider.pbkdf2.state_encryption_password": kdf}})
    )
    (tmp_path / "other.json").write_text(
        json.dumps({"state_encryption_password": leaked, "db_password": fake.password("tofu")})
    )
    assert [(p, rule) for p, _line, rule, _ in _found(tmp_path)] == [
        ("other.json", "secret-attribute"),
        ("other.json", "secret-attribute"),
    ]


def test_nginx_checks_by_regex_and_of_a_key_header_hold_their_tokens(tmp_path: Path) -> None:
    """helper-105: `$http_authorization !~ "^Bearer …$"` and `$http_x_api_key != "…"`
    were missed, and check said safe to publish."""
    bearer = fake.chars(fake._ALNUM, 24, "nginx-regex")
    key = fake.chars(fake._ALNUM, 24, "nginx-key")
    (tmp_path / "web.nix").write_text(
        "{ ... }: {\n"
        '  services.nginx.virtualHosts."a".locations."/m".extraConfig = \'\'\n'
        f'    if ($http_authorization !~ "^Bearer {bearer}$") {{ return 401; }}\n'
        "  '';\n"
        '  services.nginx.virtualHosts."a".locations."/api".extraConfig = \'\'\n'
        f'    if ($http_x_api_key != "{key}") {{ return 403; }}\n'
        '    if ($http_x_api_key = "") { return 403; }\n'
        "  '';\n}\n"
    )
    found = scan_tree(tmp_path).findings
    assert sorted((f.line, f.secret.reveal()) for f in found) == [(3, bearer), (6, key)]


def test_an_htpasswd_of_several_users_and_a_committed_htpasswd_file_hold_hashes(
    tmp_path: Path,
) -> None:
    """helper-105: a writeText htpasswd of two users and a committed `.htpasswd` file
    said nothing (check: safe to publish); each `user:<hash>` line is a low finding."""

    def apr(tag: str) -> str:
        return f"$apr1${fake.chars(fake._ALNUM, 8, tag)}${fake.chars(fake._ALNUM, 22, tag + 'h')}"

    (tmp_path / "web.nix").write_text(
        "{ pkgs, ... }: {\n"
        '  services.nginx.virtualHosts."c".basicAuthFile = pkgs.writeText "c.htpasswd" \'\'\n'
        f"    admin:{apr('a')}\n    bob:{apr('b')}\n  '';\n}}\n"
    )
    (tmp_path / ".htpasswd").write_text(f"u1:{apr('c')}\nu2:{apr('d')}\n")
    (tmp_path / "notes.txt").write_text("the price: $5 or $6$ each\n")
    assert _found(tmp_path) == [
        (".htpasswd", 1, "password-hash", "low"),
        (".htpasswd", 2, "password-hash", "low"),
        ("web.nix", 3, "password-hash", "low"),
        ("web.nix", 4, "password-hash", "low"),
    ]


def test_a_config_file_s_auth_field_written_as_etc_text_is_read_as_the_file_is(
    tmp_path: Path,
) -> None:
    """docker's config.json with an ``auth`` (base64 of user:token) is found as a file
    but was not as ``environment.etc."docker/config.json".text``: the Nix literal was
    read as a config only when it held pass/token/secret/key/cred/psk, not the words
    the file's own reader asks for (auth, pw, priv)."""
    auth = fake.chars(fake._ALNUM, 48, "docker-auth")
    body = f'{{"auths":{{"ghcr.io":{{"auth":"{auth}"}}}}}}'
    (tmp_path / "config.json").write_text(body + "\n")
    (tmp_path / "docker.nix").write_text(
        "{ ... }: {\n  environment.etc.\"docker/config.json\".text = ''" + body + "'';\n}\n"
    )
    assert [(p, rule) for p, _line, rule, _ in _found(tmp_path)] == [
        ("config.json", "secret-attribute"),
        ("docker.nix", "secret-attribute"),
    ]
