"""Names whose value decides (named_values.value_decides), in every format the name rules
read.  A key under a name whose last word is "private" (``WG_PRIVATE``, a YAML
``private:``, ``x.private`` in Nix) is found when the value has a key's shape;
``user:password`` or a generated value under an "auth" name (``auth:``,
``basic_auth:``, ``HTTP_AUTH=``) is credentials.  The same names holding a flag, a
network, a path, a method or a service's name are not."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from secretkit.scan.named_values import named_value_kind
from secretkit.scan.worktree import scan_tree
from tests.support import fake

KEY = fake.wireguard_private_key("private-names")
HEX = fake.hex_key(32, "private-names")
PASSWORD = fake.password("auth-names")
TOKEN = fake.chars(fake._ALNUM, 24, "auth-names")

FILES = {
    "wg.yaml": f"wireguard:\n  interface: wg0\n  private: {KEY}\n  peers:\n    - public: x\n",
    "wg.env": f"WG_PRIVATE={KEY}\nWG_PORT=51820\n",
    "wg.json": f'{{"peer": {{"priv": "{HEX}"}}}}\n',
    "wg.nix": f'{{ x.private = "{KEY}"; }}\n',
    "up.sh": f"#!/bin/sh\nWG_PRIVATE='{KEY}' wg-quick up wg0\n",
    "shell.nix": f'{{ systemd.services.wg.script = "WG_PRIVATE={KEY} exec wg-up"; }}\n',
    "auth.yaml": f'registry:\n  auth: "admin:{PASSWORD}"\n  basic_auth: {TOKEN}\n',
    "auth.env": f"HTTP_AUTH=ci:{PASSWORD}\n",
    "auth.nix": f'{{ services.proxy.settings.upstream.auth = "bot:{PASSWORD}"; }}\n',
}

NOT_KEYS = {
    "flags.yaml": (
        "repo:\n  private: true\n  priv: 10.0.0.0/8\n  private_net: fd00::/8\n"
        "  private: my-service-v2-2024\n"
    ),
    "flags.nix": (
        '{ networking.private = "internal-network-2024"; a.priv = "/run/keys/wg";\n'
        f'  peer.privateIPs = [ "10.0.0.2" ]; wg.public = "{KEY}"; }}\n'
    ),
    "flags.env": "PRIVATE=yes\nGIT_PRIVATE=/home/me/.ssh/id_ed25519\nAUTH=ldap\n",
    "methods.yaml": (
        "smtp:\n  auth: true\n  auth_method: md5\nsso:\n  auth: https://sso.example.org:8443/login\n"
        "  basic_auth: none\n  auth: ldap-backend-2024\n"
    ),
    "pam.nix": (
        '{ security.pam.services.sshd.auth = "required pam_unix.so";\n'
        '  services.x.auth = "user:${config.y}"; services.z.auth = "user:changeme"; }\n'
    ),
}


def test_a_key_under_a_private_name_is_found_in_every_format(tmp_path: Path) -> None:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    report = scan_tree(tmp_path)
    found = {(f.path, f.kind, f.secret.reveal()) for f in report.findings}
    assert found == {
        ("wg.yaml", "private-key", KEY),
        ("wg.env", "private-key", KEY),
        ("wg.json", "private-key", HEX),
        ("wg.nix", "private-key", KEY),
        ("up.sh", "private-key", KEY),
        ("shell.nix", "private-key", KEY),
        ("auth.yaml", "credentials", f"admin:{PASSWORD}"),
        ("auth.yaml", "credentials", TOKEN),
        ("auth.env", "credentials", f"ci:{PASSWORD}"),
        ("auth.nix", "credentials", f"bot:{PASSWORD}"),
    }


def test_a_private_name_without_a_key_is_no_finding(tmp_path: Path) -> None:
    for name, text in NOT_KEYS.items():
        (tmp_path / name).write_text(text)
    report = scan_tree(tmp_path)
    assert [(f.path, f.line, f.rule) for f in report.findings] == []


@pytest.mark.parametrize(
    ("name", "value", "kind"),
    [
        ("private", KEY, "private-key"),
        ("WG_PRIVATE", KEY, "private-key"),
        ("peer.priv", HEX, "private-key"),
        ("private", "true", None),
        ("private", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", None),  # no digit: not generated
        ("private", HEX.upper()[:40], None),  # a GPG fingerprint's shape
        ("privateNetwork", KEY, None),  # its last word is another
        # terraform state's provider data: base64 of JSON, not a key's bytes
        ("private", base64.b64encode(b'{"e2bfb730-ecaa-11e6":{"create":600}}').decode(), None),
        ("public", KEY, None),
        ("auth", f"u:{PASSWORD}", "credentials"),
        ("basicAuth", TOKEN, "credentials"),
        ("auth", "u:short", None),
        ("auth", "sso.example.org:443", None),  # a host and its port
        ("auth", "ldap-backend-2024-eu", None),
        ("basicAuth", "username=u,password=Zq8vL3mN9pR2,uid=1000", None),  # its pairs judge
        ("authMethod", f"u:{PASSWORD}", None),
    ],
)
def test_named_value_kind(name: str, value: str, kind: str | None) -> None:
    assert named_value_kind(name, value) == kind
