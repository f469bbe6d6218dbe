"""False findings a stranger met on wimpysworld/nix-config, each beside the secret of
the same shape that is still found: a permission word ("deny") under a
secret-sounding name, a key's header echoed alone by a script, options after the
quote of a shell assignment named for a password, and a program reading its
environment (``password: process.env.PASSWORD_HASH``; it also stopped migrate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.scan.worktree import scan_tree
from tests.support import fake


def _found(root: Path) -> list[tuple[str, int, str]]:
    return sorted((f.path, f.line, f.rule) for f in scan_tree(root).findings)


def test_permission_words_are_no_credentials(tmp_path: Path) -> None:
    (tmp_path / "a.nix").write_text(
        "{\n"
        '  programs.opencode.settings.permission.read.".git-credentials" = "deny";\n'
        '  programs.opencode.settings.permission.read.".netrc-credentials" = "allow";\n'
        '  environment.variables.GH_TOKEN = "invalid";\n'
        f'  services.app.credentials = "{fake.password("creds")}";\n'
        "}\n"
    )
    assert _found(tmp_path) == [("a.nix", 5, "secret-attribute")]


def test_a_keys_header_alone_is_no_key(tmp_path: Path) -> None:
    body = fake.chars(fake._ALNUM, 70, "pem-body")
    (tmp_path / "make-keys.sh").write_text(
        "#!/bin/sh\n"
        'echo "-----BEGIN OPENSSH PRIVATE KEY-----"\n'
        'ssh-keygen -q -t ed25519 -N "" -f "$dir/key"\n'
        'echo "the rest of the script, long enough to look like a body if it were read"\n'
    )
    (tmp_path / "cut.txt").write_text(f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n{body}\n")
    assert _found(tmp_path) == [("cut.txt", 1, "private-key")]  # (cut short: still a key)


def test_options_after_the_quote_of_a_password_assignment_are_no_password(
    tmp_path: Path,
) -> None:
    password = fake.password("luks")
    (tmp_path / "install.sh").write_text(
        "#!/bin/sh\n"
        'LUKS_PASS=" --disk-encryption-keys /tmp/data.passwordFile /tmp/data.passwordFile"\n'
        f'LUKS_PASSWORD="{password}"\n'
    )
    found = scan_tree(tmp_path).findings
    assert sorted((f.line, f.secret.reveal()) for f in found) == [(3, password)]


def test_a_programs_environment_read_in_its_code_is_a_reference(tmp_path: Path) -> None:
    password = fake.password("mongo")
    (tmp_path / "librechat.nix").write_text(
        "{\n  systemd.services.librechat.script = ''\n"
        "    mongosh --eval 'db.users.updateOne({}, { $set: {\n"
        "      password: process.env.PASSWORD_HASH,\n"
        '      token: os.environ["API_TOKEN"],\n'
        f'      secret: "{password}",\n'
        "    } })'\n  '';\n}\n"
    )
    found = scan_tree(tmp_path).findings
    assert [(f.line, f.secret.reveal()) for f in found] == [(6, password)]


def test_an_examples_stand_in_words_are_no_secret(tmp_path: Path) -> None:
    """``MCP_AUTH_TOKEN=wibble`` (a stranger's run): a value made only of the words
    examples stand in with is an example's, under any name and in any form.  A weak
    password beside such a word is still found."""
    weak, stand_in = "fnord23", "foobar"
    (tmp_path / "run.sh").write_text(
        "#!/bin/sh\n"
        "MCP_AUTH_TOKEN=wibble node server.js\n"
        f"export API_TOKEN={stand_in}\n"
        'DB_PASSWORD="foo-bar-baz"\n'
        f'ROOT_PASSWORD="{weak}"\n'
        f"SMTP_PASSWORD={stand_in}2\n"
    )
    (tmp_path / "a.nix").write_text(
        '{ environment.variables.MCP_AUTH_TOKEN = "Wibble"; users.users.x.password = "xyzzy"; }\n'
    )
    found = sorted((f.path, f.line, f.secret.reveal()) for f in scan_tree(tmp_path).findings)
    assert found == [("run.sh", 5, weak), ("run.sh", 6, "foobar2")]


def test_a_history_cleaners_marker_is_no_secret(tmp_path: Path) -> None:
    """``***REMOVED***`` is what BFG and git-filter-repo leave where a secret was: a
    history already cleaned was reported as holding secrets, to be rotated first."""
    kept = fake.password("kept")
    (tmp_path / "a.nix").write_text(
        '{ programs.beets.settings.acoustid.apikey = "***REMOVED***";\n'
        '  services.x.password = "***REMOVED***";\n'
        f'  services.y.password = "***{kept}***"; }}\n'
    )
    assert _found(tmp_path) == [("a.nix", 3, "secret-attribute")]


def test_references_and_names_a_stranger_met_on_agenix_repositories(tmp_path: Path) -> None:
    """oddlama/nix-config and ambroisie/nix-config: zigbee2mqtt's `!/file.yaml key`,
    a secret's name under a secret-sounding option, Woodpecker's `from_secret:` and a
    commented-out "$argon2id:TODO" were each reported as a secret.  The secrets of
    the same shapes beside them are still found."""
    password, token = fake.password("z2m"), fake.password("ci")
    (tmp_path / "a.nix").write_text(
        "{ config, ... }: {\n"
        '  services.zigbee2mqtt.settings.mqtt.password = "!/run/zigbee2mqtt/secrets.yaml pw";\n'
        '  services.restic.backups.x.sshAgeSecret = "restic-ssh-privkey";\n'
        "  services.vaultwarden.config = {\n"
        '    #ADMIN_TOKEN="$argon2id:TODO";\n'
        f'    ADMIN_TOKEN = "{token}";\n  }};\n'
        f'  services.mosquitto.listeners = [ {{ users.z.password = "{password}"; }} ];\n'
        "}\n"
    )
    (tmp_path / "check.yml").write_text(
        "steps:\n  notify:\n    settings:\n      homeserver:\n        from_secret: matrix_home\n"
        f"      password:\n        from_secret: matrix_password\n      token: {token}\n"
    )
    assert _found(tmp_path) == [
        ("a.nix", 6, "secret-attribute"),
        ("a.nix", 8, "secret-attribute"),
        ("check.yml", 8, "secret-attribute"),
    ]


def test_a_concatenation_between_two_strings_quotes_is_code(tmp_path: Path) -> None:
    """pinpox/nixos's Go: ``"clan-nats-token: "+format+"\\n"`` read as ``token: "+format+"``
    was a secret; purge then rewrote the Go source in history.  A value between such
    quotes on its own is still one."""
    token = fake.password("go-token")
    (tmp_path / "main.go").write_text(
        "package main\n"
        'func logf(format string) { fmt.Fprintf(os.Stderr, "clan-nats-token: "+format+"\\n") }\n'
        f'const apiToken = "{token}"\n'
    )
    found = scan_tree(tmp_path).findings
    assert [(f.line, f.secret.reveal()) for f in found] == [(3, token)]


def test_a_password_that_is_the_users_name_is_not_shown_through_its_path(
    tmp_path: Path,
) -> None:
    """doctor-cluster-config: `users.users."ls1…".password` equal to the user's name
    printed the password whole in the attribute path, in every output."""
    from secretkit.scan.report import render

    user = "ls1" + fake.password("user")[:8]
    (tmp_path / "vicki.nix").write_text(f'{{ users.users."{user}".password = "{user}"; }}\n')
    report = scan_tree(tmp_path)
    (finding,) = report.findings
    assert finding.attrpath == "users.users.<the value>.password"
    for fmt in ("text", "json", "sarif"):
        assert user not in render(report, fmt)


def test_awss_documented_example_keys_are_examples(tmp_path: Path) -> None:
    """doctor-cluster-config's SigV4 tests: AWS's documented example credentials were
    3 of its 5 findings, and purge would have rewritten the test code."""
    real = fake.password("real-aws-secret")
    (tmp_path / "lib.rs").write_text(
        "#[test]\nfn sign() {\n"
        '    let access_key = "AKIDEXAMPLE";\n'
        '    let secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";\n'
        f'    let secret = "{real}";\n}}\n'
    )
    found = scan_tree(tmp_path).findings
    assert [(f.line, f.secret.reveal()) for f in found] == [(5, real)]


def test_a_switched_on_feature_after_a_pass_flag_is_no_password(tmp_path: Path) -> None:
    """hlissner/dotfiles' commit message "-rofi-pass +dpass" was a password '+…' (high),
    and exposed said to change it at its provider."""
    from secretkit.scan.text_files import scan_text

    assert scan_text("modules: -rofi-pass +dpass\n", "(commit message)") == []
    found = scan_text(f"mysql --password {fake.password('flag')}\n", "(commit message)")
    assert len(found) == 1


def test_oidc_claim_names_and_cirrus_ciphertext_are_no_secrets(tmp_path: Path) -> None:
    """kclejeune/system (a stranger's run): 32 of 37 tree findings were the claim names of
    Authelia's `claims_policies.<client>.id_token = [ "email" … ]`, and 76 history
    findings were Cirrus CI's `ENCRYPTED[!…!]` variables.  A real token beside them is
    still found."""
    real = fake.password("authelia-real")
    cipher = "ENCRYPTED[!" + "0a1b2c3d4e5f6789" * 6 + "!]"
    (tmp_path / "gateway.nix").write_text(
        "{\n  services.authelia.instances.main.settings.identity_providers.oidc = {\n"
        '    claims_policies.grafana.id_token = [ "email" "email_verified" "name"'
        ' "preferred_username" "groups" ];\n'
        f'    hmac_secret = "{real}";\n  }};\n}}\n'
    )
    (tmp_path / ".cirrus.yml").write_text(f"env:\n  CACHIX_AUTH_TOKEN: {cipher}\n")
    found = scan_tree(tmp_path).findings
    assert [(f.path, f.secret.reveal()) for f in found] == [("gateway.nix", real)]


def test_a_lua_field_read_from_one_of_its_own_name_is_no_token(tmp_path: Path) -> None:
    """wimpysworld's neovim module (15 history findings): Lua's ``token =
    ev.data.params.token,`` in ``extraLuaConfig`` copies a field of the same name."""
    real = fake.password("lua-real")
    (tmp_path / "nvim.nix").write_text(
        "{ pkgs, ... }:\n{\n  programs.neovim.extraLuaConfig = ''\n"
        "    if p[i].token == ev.data.params.token then\n"
        "      p[i] = {\n        token = ev.data.params.token,\n"
        '        msg = "x",\n      }\n    end\n'
        f'    local auth = {{ token = "{real}" }}\n'
        "  '';\n}\n"
    )
    found = scan_tree(tmp_path).findings
    assert [(f.line, f.secret.reveal()) for f in found] == [(10, real)]


def test_fish_set_of_variable_names_is_no_token(tmp_path: Path) -> None:
    """wimpysworld: ``set -u GH_TOKEN GH_USER GITHUB_TOKEN`` (meant to unset three
    variables) gave GH_TOKEN the names of the others; a token set beside it is found."""
    real = fake.github_token("fish-real")
    (tmp_path / "fish.nix").write_text(
        "{\n  programs.fish.shellAliases = {\n"
        '    gh-unset = "set -u GH_TOKEN GH_USER GITHUB_TOKEN";\n'
        f'    gh-set = "set -gx GH_TOKEN {real}";\n'
        "  };\n}\n"
    )
    found = scan_tree(tmp_path).findings
    assert [(f.line, f.secret.reveal()) for f in found] == [(4, real)]


def test_slack_prefixes_of_a_tests_table_and_a_stub_are_no_tokens(tmp_path: Path) -> None:
    """wimpysworld's slack-post-tests.sh: a table of token kinds (``xoxe.xoxp-1-Mi123``)
    and a stub written to a token file (``xoxp-0-stub-token``); a bot token is found."""
    real = fake.slack_bot_token("tests-real")
    prefix = "xo" + "xp-"
    (tmp_path / "slack-post-tests.sh").write_text(
        "#!/usr/bin/env bash\n"
        f"printf '{prefix}0-stub-token\\n' >\"${{token_file}}\"\n"
        "for pair in \\\n"
        f"\t'xoxe.{prefix}1-Mi123:app configuration token' \\\n"
        "\t'xoxe-1-abc:refresh token' \\\n"
        f"\t'{'xo' + 'xb-'}123:bot token'; do\n"
        '  echo "$pair"\ndone\n'
        f"printf '{real}\\n' >\"${{token_file}}\"\n"
    )
    found = scan_tree(tmp_path).findings
    assert [(f.line, f.secret.reveal()) for f in found] == [(9, real)]


def test_an_indented_header_echoed_around_code_is_no_key(tmp_path: Path) -> None:
    """wimpysworld's make-host-keys.sh (history): ``echo "    -----BEGIN …-----"``, a
    ``sed`` line, then the END echoed: code between the markers, no key body."""
    dashes = "-" * 5
    (tmp_path / "make-host-keys.sh").write_text(
        "#!/usr/bin/env bash\nfunction format_for_yaml() {\n"
        f'    echo "    {dashes}BEGIN OPENSSH PRIVATE KEY{dashes}"\n'
        "    sed 's/^/    /' \"$1\" | sed '1d;$d'  # Remove first and last lines, indent the rest\n"
        f'    echo "    {dashes}END OPENSSH PRIVATE KEY{dashes}"\n'
        "}\n"
    )
    (tmp_path / "key.yaml").write_text(
        "ssh_host_key: |\n" + "".join(f"  {line}\n" for line in fake.pem_private_key().split("\n"))
    )
    found = scan_tree(tmp_path).findings
    assert [(f.path, f.rule) for f in found] == [("key.yaml", "private-key")]


def test_credentials_in_a_url_of_a_reserved_example_domain_are_documentation(
    tmp_path: Path,
) -> None:
    """wimpysworld's security notes (history): ``postgresql://admin:secretpass123@
    db.example.com/prod`` under "NEVER DO THIS".  example.com/.org/.net and the .example,
    .invalid and .test names are reserved for documentation (RFC 2606); the same
    credentials for another host are found.  A generated password (both cases, digits)
    is found on a documentation host too: a real one whose domain alone was swapped
    for example.org (helper-127)."""
    example = "secret" + "pass" + "123"
    real = fake.password("url-real")
    assert any(c.isupper() for c in real) and any(c.islower() for c in real)
    (tmp_path / "notes.md").write_text(
        "# NEVER DO THIS\n"
        f"Database: postgresql://admin:{example}@db.example.com/prod\n"
        f"Cache: redis://:{example}@cache.example.org:6379\n"
        f"Queue: amqp://app:{example}@mq.internal.test/\n"
        f"Real: postgresql://admin:{example}@db.internal.acme.com/prod\n"
        f"Swapped: postgresql://admin:{real}@db.example.org/prod\n"
    )
    found = scan_tree(tmp_path).findings
    assert [(f.line, f.secret.reveal()) for f in found] == [(5, example), (6, real)]


def test_another_services_api_key_of_syncthings_shape_is_not_called_syncthings(
    tmp_path: Path,
) -> None:
    """A stranger's homelab: ``JELLYFIN_API_KEY`` (32 letters and digits) was reported
    as a Syncthing API key.  In a file that never names Syncthing it is a generic API
    key (still found); Syncthing's own, and a key in a file about Syncthing (a scrape
    job for it), keep their rule."""
    jellyfin, syncthing = fake.syncthing_api_key("jf"), fake.syncthing_api_key("st")
    (tmp_path / "media.nix").write_text(
        f'{{\n  systemd.services.jellyfin.environment.JELLYFIN_API_KEY = "{jellyfin}";\n}}\n'
    )
    (tmp_path / "sync.nix").write_text(
        f'{{\n  services.syncthing.settings.gui.apikey = "{syncthing}";\n}}\n'
    )
    (tmp_path / "scrape.nix").write_text(
        "{\n  services.prometheus.scrapeConfigs = [ {\n"
        '    job_name = "syncthing";\n'
        f'    authorization.credentials = "{syncthing}";\n'
        "  } ];\n}\n"
    )
    (tmp_path / "widgets.yaml").write_text(f"radarr:\n  api_key: {jellyfin}\n")
    found = scan_tree(tmp_path).findings
    assert sorted((f.path, f.line, f.rule) for f in found) == [
        ("media.nix", 2, "generic-api-key"),
        ("scrape.nix", 4, "syncthing-api-key"),
        ("sync.nix", 2, "syncthing-api-key"),
        ("widgets.yaml", 2, "generic-api-key"),
    ]


def test_passwd_of_a_user_docs_placeholders_and_a_capitalised_stand_in_are_no_secrets(
    tmp_path: Path,
) -> None:
    """truxnell/nix-config: `passwd truxnell` (the command; it asks for the password)
    was a high password, `SECRET_KEY=value` in the docs a secret key, and the old
    adguardhome module's `password = "ADGUARDPASS"; # placeholder` a password.  The
    same shapes with real values are found."""
    real = fake.password("passwd-real")
    (tmp_path / "setup.sh").write_text(f"#!/bin/sh\npasswd alice\nPassword {real}\n")
    (tmp_path / "ARCHITECTURE.md").write_text(
        f"```\nSECRET_KEY=value\nAPI_TOKEN=value\nAPI_TOKEN={real}\n```\n"
    )
    (tmp_path / "adguard.nix").write_text(
        "{ ... }: {\n  services.adguardhome.settings.users = [\n"
        '    { name = "admin"; password = "ADGUARDPASS"; } # placeholder\n'
        f'    {{ name = "ops"; password = "{real}"; }}\n  ];\n}}\n'
    )
    found = sorted((f.path, f.line) for f in scan_tree(tmp_path).findings)
    assert found == [("ARCHITECTURE.md", 4), ("adguard.nix", 4), ("setup.sh", 3)]


def test_three_look_alikes_a_stranger_met_on_snowfield(tmp_path: Path) -> None:
    """JulienMalka/snowfield: a prompt handed to `systemd-ask-password` read as SQL's
    `PASSWORD '…'`, an npm script named reset-password read as a password, and a
    build's stated placeholder (`NEXTAUTH_SECRET = "build-placeholder-overridden-at-
    runtime"`); each beside the secret of the same form that is still found."""
    password = fake.password("snowfield")
    (tmp_path / "unlock.nix").write_text(
        "{ ... }:\n{\n  boot.initrd.systemd.services.unlock.script = ''\n"
        '    passphrase=$(systemd-ask-password "bcachefs passphrase")\n'
        f"    psql -c \"ALTER ROLE app PASSWORD '{password}'\"\n  '';\n}}\n"
    )
    (tmp_path / "package.json").write_text(
        '{\n  "scripts": {\n    "reset-password": "node extra/reset-password.js"\n  },\n'
        f'  "config": {{\n    "password": "{password}"\n  }}\n}}\n'
    )
    (tmp_path / "cal.nix").write_text(
        "{ ... }:\n{\n  env = {\n"
        '    NEXTAUTH_SECRET = "build-placeholder-overridden-at-runtime";\n'
        f'    CALENDSO_ENCRYPTION_KEY = "{fake.hex_key(16, "cal")}";\n  }};\n}}\n'
    )
    assert _found(tmp_path) == [
        ("cal.nix", 5, "secret-attribute"),
        ("package.json", 6, "secret-attribute"),
        ("unlock.nix", 5, "command-secret"),
    ]


@pytest.mark.parametrize(
    "value",
    [
        "placeholder-overridden-at-runtime-by-env",
        "overridden-at-runtime",
        "set-at-runtime-via-environment-file",
        "change-me-in-production",
    ],
)
def test_a_value_that_says_it_is_set_elsewhere_is_no_secret(tmp_path: Path, value: str) -> None:
    """helper-107's variations of snowfield's build placeholder, each beside a secret
    under the same name that is still found."""
    (tmp_path / "app.nix").write_text(
        f'{{ ... }}: {{ env.NEXTAUTH_SECRET = "{value}"; '
        f'env2.NEXTAUTH_SECRET = "{fake.password("nextauth")}"; }}\n'
    )
    assert _found(tmp_path) == [("app.nix", 1, "secret-attribute")]


def test_a_generated_password_beside_an_example_domain_is_found(tmp_path: Path) -> None:
    """helper-127: a postfix sasl_passwd text whose relay was renamed smtp.example.net
    passed as an example; its password is a generated one.  An example's own
    (word-and-number) password beside example.net stays an example."""
    real = fake.password("sasl-real")
    example = "relay" + "pass" + "2024"
    (tmp_path / "mail.nix").write_text(
        "{ pkgs, ... }: {\n"
        '  services.postfix.mapFiles.sasl_passwd = pkgs.writeText "sasl_passwd" '
        f'"[smtp.example.net]:587 relay@example.net:{real}";\n'
        '  services.postfix.mapFiles.other = pkgs.writeText "sasl_passwd" '
        f'"[smtp.example.net]:587 relay@example.net:{example}";\n'
        "}\n"
    )
    found = scan_tree(tmp_path).findings
    assert [f.line for f in found] == [2]
    assert real in found[0].secret.reveal()


def test_a_let_value_interpolated_where_a_secret_goes_is_found(tmp_path: Path) -> None:
    """helper-132: `passphrase = "${nas}";`, a CIFS `"password=${smb}"` and a URL's
    `user:${pw}@` hid their let-bound values from scan, the hook and check; a port
    interpolated after a host is no password."""
    nas, smb, pw = fake.passphrase("let-nas"), fake.password("let-smb"), fake.password("let-pw")
    port = "5" + "232"
    (tmp_path / "host.nix").write_text(
        "{ ... }:\nlet\n"
        f'  nas = "{nas}";\n  smb = "{smb}";\n  pw = "{pw}";\n  port = "{port}";\n'
        "in {\n"
        '  services.borgbackup.jobs.b.encryption.passphrase = "${nas}";\n'
        '  fileSystems."/mnt/nas".options = [ "username=stian" "password=${smb}" ];\n'
        '  services.app.database = "postgres://app:${pw}@db.lan/app";\n'
        '  services.radicale.settings.server.hosts = [ "127.0.0.1:${port}" ];\n'
        '  services.app.tika = "http://127.0.0.1:${port}/";\n'
        "}\n"
    )
    found = {f.secret.reveal() for f in scan_tree(tmp_path).findings}
    assert found == {nas, smb, pw}
