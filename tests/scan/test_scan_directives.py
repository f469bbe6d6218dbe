"""A builder's file handed to a configuration directive that says what it holds.

OpenVPN reads ``auth-user-pass <file>`` ("username\\npassword"), ``secret`` /
``tls-auth`` / ``tls-crypt <file>`` (a static key) and ``askpass <file>``; NixOS users
write that file with ``pkgs.writeText`` right in ``services.openvpn.servers.<n>.config``
or bind it to a name first.  The file's name rarely says "password" there: the
directive does.  OpenVPN's static and tls-crypt-v2 keys are found as key blocks in any
file.  Values are built at run time.
"""

from __future__ import annotations

import pytest

from secretkit.scan.nix_positions import directive_kind, paths_after_directives
from secretkit.scan.one_file import scan_bytes
from tests.support import fake


def _found(path: str, text: str) -> list[tuple[str, str, str]]:
    findings, skipped = scan_bytes(path, text.encode())
    assert skipped is None
    return [(f.rule, f.kind, f.secret.reveal()) for f in findings]


def static_key(seed: str = "ovpn") -> str:
    rows = [fake.hex_key(16, f"{seed}-{i}") for i in range(16)]
    return "\n".join(
        ["-----BEGIN OpenVPN Static key V1-----", *rows, "-----END OpenVPN Static key V1-----"]
    )


def test_auth_user_pass_given_a_builder_in_the_config() -> None:
    pw = fake.password("ovpn-auth")
    text = (
        "{ pkgs, ... }: {\n  services.openvpn.servers.office.config = ''\n"
        "    remote vpn.example.org 1194\n"
        f'    auth-user-pass ${{pkgs.writeText "auth" "jdoe\\n{pw}\\n"}}\n'
        "  '';\n}\n"
    )
    assert _found("vpn.nix", text) == [("secret-file-text", "password", f"jdoe\n{pw}")]


def test_auth_user_pass_of_several_lines_named_for_credentials() -> None:
    # the name gives the kind; the directive says the whole text (two lines) is it
    pw = fake.password("ovpn-creds")
    text = (
        "{ pkgs, ... }: {\n  services.openvpn.servers.third.config = ''\n"
        "    auth-user-pass ${pkgs.writeText \"third-creds\" ''\n"
        f"      jdoe\n      {pw}\n    ''}}\n  '';\n}}\n"
    )
    assert _found("vpn.nix", text) == [("secret-file-text", "credentials", f"jdoe\n{pw}")]


def test_a_name_bound_to_a_builder_and_used_after_a_directive() -> None:
    pw = fake.password("ovpn-let")
    text = (
        "{ pkgs, ... }:\nlet\n"
        f"  authFile = pkgs.writeText \"vpn-login\" ''\n    jdoe\n    {pw}\n  '';\n"
        "  caFile = pkgs.writeText \"ca\" ''\n    remote-ca-text\n  '';\n"
        "in {\n  services.openvpn.servers.a.config = ''\n"
        "    ca ${caFile}\n    auth-user-pass ${authFile}\n  '';\n}\n"
    )
    assert _found("vpn.nix", text) == [("secret-file-text", "password", f"jdoe\n{pw}")]


def test_a_static_key_given_to_tls_auth_in_nix_and_inline_in_an_ovpn_file() -> None:
    key = static_key()
    indented = key.replace("\n", "\n    ")
    nix = (
        "{ pkgs, ... }:\nlet\n"
        f"  ta = pkgs.writeText \"ta\" ''\n    {indented}\n  '';\n"
        'in { services.openvpn.servers.a.config = "tls-auth ${ta} 1"; }\n'
    )
    assert _found("vpn.nix", nix) == [("private-key", "private-key", key)]
    ovpn = f"client\nremote vpn.example.org\n<tls-auth>\n{key}\n</tls-auth>\nkey-direction 1\n"
    assert _found("client.ovpn", ovpn) == [("private-key", "private-key", key)]


def test_a_tls_crypt_v2_client_key() -> None:
    body = "\n".join(fake.chars(fake._ALNUM + "+/", 64, f"v2-{i}") for i in range(6))
    key = f"-----BEGIN OpenVPN tls-crypt-v2 client key-----\n{body}\n"
    key += "-----END OpenVPN tls-crypt-v2 client key-----"
    assert _found("c.ovpn", f"<tls-crypt-v2>\n{key}\n</tls-crypt-v2>\n") == [
        ("private-key", "private-key", key)
    ]


def test_a_token_file_flag_given_a_builder() -> None:
    token = fake.password("flag-file")
    flag = f'"--token-file=${{pkgs.writeText "t" "{token}"}}"'
    text = f"{{ pkgs, ... }}: {{ services.foo.extraArgs = [ {flag} ]; }}\n"
    assert _found("a.nix", text) == [("secret-file-text", "token", token)]


@pytest.mark.parametrize(
    "config",
    [
        # a certificate, a program, a configuration: none holds a secret
        'ca ${pkgs.writeText "ca.crt" "remote-ca-placeholder-text"}',
        'up ${pkgs.writeShellScript "up" "echo up"}',
        'config ${pkgs.writeText "extra.ovpn" "verb 3\\nmute 20\\n"}',
        # the text is a sops placeholder, or the path already a secret's
        'auth-user-pass ${pkgs.writeText "a" "${config.sops.placeholder.vpn}"}',
        "auth-user-pass /run/secrets/vpn-auth",
        "auth-user-pass ${config.sops.secrets.vpn.path}",
        # a key block with its body left out
        "secret ${pkgs.writeText \"k\" ''\n-----BEGIN OpenVPN Static key V1-----\n...\n"
        "-----END OpenVPN Static key V1-----\n''}",
    ],
)
def test_decoys(config: str) -> None:
    text = f"{{ pkgs, config, ... }}: {{ services.openvpn.servers.a.config = ''\n{config}\n''; }}\n"
    assert _found("vpn.nix", text) == []


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        ("auth-user-pass ", ("password", True)),
        ("  tls-auth ", ("secret-key", True)),
        ("tls-crypt-v2 ", ("secret-key", True)),
        ("secret ", ("secret-key", True)),
        ("askpass ", ("password", True)),
        ("restic --password-file=", ("password", False)),
        ("token_file = ", ("token", False)),
        ('PasswordFile="', ("password", False)),
        ("remote vpn.example.org\nauth-user-pass ", ("password", True)),  # its own line
        ("ca ", None),
        ("config ", None),
        ("up ", None),
        ("auth-user-pass\nca ", None),
        ("", None),
    ],
)
def test_directive_kind(before: str, expected: tuple[str, bool] | None) -> None:
    assert directive_kind(before.encode()) == expected


def test_paths_after_directives() -> None:
    source = b"a = ''\n  auth-user-pass ${authFile}\n  ca ${caFile}\n  tls-auth ${ ta } 1\n'';"
    assert paths_after_directives(source) == {
        "authFile": "password+lines",
        "ta": "secret-key+lines",
    }


def test_inline_credentials_in_an_ovpn_file_and_in_a_nix_config() -> None:
    pw = fake.password("ovpn-inline")
    ovpn = f"client\n<auth-user-pass>\njdoe\n{pw}\n</auth-user-pass>\n"
    assert _found("c.ovpn", ovpn) == [("openvpn-credentials", "password", pw)]
    nix = (
        "{ services.openvpn.servers.x.config = ''\n    remote vpn.example.org\n"
        f"    <auth-user-pass>\n    jdoe\n    {pw}\n    </auth-user-pass>\n  ''; }}\n"
    )
    assert _found("vpn.nix", nix) == [("openvpn-credentials", "password", pw)]


@pytest.mark.parametrize(
    "block",
    [
        "<auth-user-pass>\nusername\npassword\n</auth-user-pass>\n",  # SSO setups' dummies
        "<auth-user-pass>\njdoe\n</auth-user-pass>\n",  # the user only: OpenVPN asks
        "auth-user-pass\n",
    ],
)
def test_inline_credentials_decoys(block: str) -> None:
    assert _found("c.ovpn", "client\n" + block) == []
