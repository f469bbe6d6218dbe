"""Secrets in comments: a commented-out assignment is still in the file.

``# key = "value"``, ``#key: value``, ``// "key": "value"``, ``# export KEY=value`` and,
in Nix, ``# attr.path = "value";`` are judged as the line without its mark would be
(same detectors, same filters), and reported at the value inside the comment; prose
in comments stays quiet.  Values are made at run time (the project scans itself).
"""

from __future__ import annotations

import pytest

from secretkit.scan.one_file import scan_bytes
from tests.support import fake


def _found(path: str, text: str) -> list[tuple[str, str, int, int, str | None]]:
    data = text.encode()
    findings, skipped = scan_bytes(path, data)
    assert skipped is None
    return [
        (f.rule, data[f.start : f.end].decode(), f.line, f.column, f.attrpath) for f in findings
    ]


@pytest.mark.parametrize(
    ("path", "template", "rule"),
    [
        ("garage.toml", '[admin]\n#admin_token = "@V@"\n', "secret-attribute"),
        ("garage.toml", '# rpc_secret = "@V@"\n', "secret-attribute"),
        ("config.yaml", "db:\n  #password: @V@\n", "secret-attribute"),
        ("config.yaml", "db:\n  # - token: '@V@'\n", "secret-attribute"),
        ("settings.jsonc", '{\n  // "apiKey": "@V@",\n}\n', "secret-attribute"),
        ("app.ini", "[db]\n; password = @V@\n", "secret-attribute"),
        ("polybar.ini", ";;password = @V@\n", "secret-attribute"),
        ("app.env", "# export API_TOKEN=@V@\n", "secret-attribute"),
        ("app.env", "#db_password='@V@'\n", "secret-attribute"),
        ("run.sh", "# export DB_PASSWORD=@V@\n", "secret-attribute"),
        ("docker-compose.yml", "env:\n  #  - POSTGRES_PASSWORD=@V@\n", "command-secret"),
        ("app.py", '# API_TOKEN = "@V@"\n', "secret-attribute"),
    ],
)
def test_a_commented_out_assignment_is_judged_as_the_line(
    path: str, template: str, rule: str
) -> None:
    value = fake.hex_key(32, path + template) if "secret" in template else fake.password(path)
    text = template.replace("@V@", value)
    found = _found(path, text)
    line = text[: text.index(value)].count("\n") + 1
    column = text.index(value) - text.rfind("\n", 0, text.index(value))
    assert found == [(rule, value, line, column, None)]
    # the line without its mark gives the same value
    uncommented = text.replace("#", "", 1).replace("//", "", 1).replace(";", "", 2)
    assert [(r, v) for r, v, *_ in _found(path, uncommented)] == [(r, v) for r, v, *_ in found]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("config.yaml", "# the password is stored in sops\n"),
        ("app.toml", "# set token = your token here\n"),
        ("app.toml", '# password = "changeme"\n'),
        ("config.yaml", "# token: see the wiki for how to get one\n"),
        ("app.env", "# API_KEY=your-api-key-here\n"),  # secretkit: allow
        ("config.yaml", "#password: !secret db_password\n"),
        ("app.ini", "; password = ${DB_PASSWORD}\n"),
        ("app.py", '# connect(password="hunter2")\n'),  # secretkit: allow
        ("notes.md", "# Password: the one in the safe\n"),
        ("mpd.ini", ";;password = mysecretpassword\n"),
    ],
)
def test_prose_and_placeholders_in_comments_stay_quiet(path: str, text: str) -> None:
    assert _found(path, text) == []


def test_an_allow_mark_silences_a_commented_out_line() -> None:
    value = fake.password("allow")
    assert _found("app.toml", f'# token = "{value}"  # secretkit: allow\n') == []


@pytest.mark.parametrize(
    ("template", "rule", "attrpath"),
    [
        ('{ ... }: {\n  # services.foo.token = "@V@";\n}\n', "secret-attribute",
         "services.foo.token"),
        ('{\n  #networking.wireless.networks."My Wifi".psk = "@V@";\n}\n', "secret-attribute",
         'networking.wireless.networks."My Wifi".psk'),
        ("{\n  # users.users.me.password = lib.mkForce ''@V@'';\n}\n", "secret-attribute",
         "users.users.me.password"),
        ('{\n  x = "a#b"; # api_key = "@V@";\n}\n', "secret-attribute", "api_key"),
        ('{\n  /*\n   * environment.variables.DB_PASSWORD = "@V@";\n   */\n}\n', "secret-attribute",
         "environment.variables.DB_PASSWORD"),
        ('# rpc_secret = "@V@"\n{ ... }: { }\n', "secret-attribute", "rpc_secret"),
        ('{\n  # services.tailscale.authKey = "@V@";\n}\n', "tailscale-auth-key",
         "services.tailscale.authKey"),
        ("{\n  # the old key was @V@, revoked\n}\n", "tailscale-auth-key", None),
        # (a stranger's: an /etc file named for a password, commented out)
        ('{\n  # environment.etc."restic-password".text = "@V@";\n}\n', "secret-file-text",
         "environment.etc.restic-password.text"),
    ],
)  # fmt: skip
def test_a_nix_comment_is_read_as_the_binding_it_comments_out(
    template: str, rule: str, attrpath: str | None
) -> None:
    if rule == "tailscale-auth-key":
        value = fake.tailscale_auth_key("comment")
    elif "rpc_secret" in template:
        value = fake.hex_key(32, "rpc")
    else:
        value = fake.password("nix-comment")
    text = template.replace("@V@", value)
    at = text.index(value)
    line = text[:at].count("\n") + 1
    column = at - text.rfind("\n", 0, at)
    assert _found("hosts/a/default.nix", text) == [(rule, value, line, column, attrpath)]


@pytest.mark.parametrize(
    "template",
    [
        '{\n  # users.users.me.password = "changeme";\n}\n',
        '{\n  # src.sha256 = "@H@";\n}\n',
        '{\n  # peers = [ { publicKey = "@V@"; } ];\n}\n',
        '{\n  # wg.publicKey = "@V@";\n}\n',
        '{\n  # passwordFile = "/run/secrets/db";\n}\n',
        '{\n  # password = "${config.sops.placeholder.db}";\n}\n',
        "{\n  # Set the password = in the web UI, then\n}\n",
        '{\n  # password = "@V@"; # secretkit: allow\n}\n',
        '{\n  x = "# password = \\"not a comment\\"";\n}\n',
    ],
)
def test_nix_comments_without_a_secret_stay_quiet(template: str) -> None:
    text = template.replace("@V@", fake.wireguard_private_key("pub")).replace(
        "@H@", fake.hex_key(32, "sha")
    )
    if "secretkit: allow" in text:
        text = text.replace(fake.wireguard_private_key("pub"), fake.password("allowed"))
    assert _found("hosts/a/default.nix", text) == []


@pytest.mark.parametrize(
    ("path", "template", "kind"),
    [
        ("hosts/a/default.nix", "{\n  # old pushover api key: @V@\n  x = 1;\n}\n", "api-key"),
        ("hosts/a/default.nix", "{\n  /* the token is @V@ */\n  x = 1;\n}\n", "token"),
        ("hosts/a/default.nix", '{\n  x = 1; # borg passphrase was "@V@"\n}\n', "passphrase"),
        ("notes.md", "The API key is `@V@`.\n", "api-key"),
        ("docs/setup.txt", "wifi password: @V@\n", "password"),
        ("(commit message)", "rotate the bot token\n\nold token: @V@\n", "token"),
    ],
)
def test_a_value_written_after_a_secret_name_in_prose_is_found(
    path: str, template: str, kind: str
) -> None:
    value = fake.chars(fake._ALNUM, 24, "prose-" + path)  # (16 characters at least)
    text = template.replace("@V@", value)
    at = text.index(value)
    line = text[:at].count("\n") + 1
    column = at - text.rfind("\n", 0, at)
    found = scan_bytes(path, text.encode())[0]
    assert [(f.rule, f.kind, f.line, f.column) for f in found] == [
        ("prose-secret", kind, line, column)
    ]
    assert found[0].secret.reveal() == value


@pytest.mark.parametrize(
    ("path", "template"),
    [
        # openssl rand -hex 12: hex after a password's name is a password
        ("(commit message)", "db password=@X@\n"),
        ("notes.txt", "set password=@X@ for the db\n"),
        # a rejected pair before it ("key: password=…" is no key) does not hide it
        ("(commit message)", "wg key: password=@X@\n"),
    ],
)
def test_a_hex_password_in_prose_is_found(path: str, template: str) -> None:
    value = fake.hex_key(12, "prose-hex-" + template[:4])
    found = scan_bytes(path, template.replace("@X@", value).encode())[0]
    assert [(f.rule, f.kind, f.secret.reveal()) for f in found] == [
        ("prose-secret", "password", value)
    ]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("hosts/a/default.nix", "{\n  # gpg key: 0x@H@\n}\n"),  # a key id, hex
        ("(commit message)", "signing key: @H@\n"),  # hex after a key's name: an id
        ("(commit message)", "password reset at commit @C@\n"),
        ("hosts/a/default.nix", "{\n  # public key: @W@\n}\n"),
        ("hosts/a/default.nix", "{\n  # the key is in the safe, ask the admin2 team\n}\n"),
        ("hosts/a/default.nix", "{\n  # api key: your-api-key-here-1234\n}\n"),
        ("hosts/a/default.nix", "{\n  # hash key: sha256-@S@\n}\n"),
        ("README.md", "ssh key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA1\n"),
        ("README.md", "Password: the one in the safe\n"),
        ("README.md", "key: short2x\n"),  # too short to be generated
        ("app.py", 'import os\n\nprint("api key: @V@")\n'),  # code: not read as prose
        ("(commit message)", "token: use getTokenFromFile2 everywhere\n"),
    ],
)
def test_prose_without_a_generated_value_stays_quiet(path: str, text: str) -> None:
    text = (
        text.replace("@H@", fake.hex_key(10, "keyid"))
        .replace("@C@", fake.hex_key(20, "commit"))
        .replace("@W@", fake.wireguard_private_key("pubkey"))
        .replace("@S@", fake.wireguard_private_key("sri"))
        .replace("@V@", fake.chars(fake._ALNUM, 24, "code"))
    )
    assert _found(path, text) == []
