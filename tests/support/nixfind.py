"""Helpers for the migrate tests: fill ``@NAME@`` placeholders with fake secrets and
plan a migration on one module without the scanner (the findings are the filled spans).

Committed fixtures hold only placeholders, so nothing token-shaped is in the tree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from secretkit.nix.catalogue.password_hash import sha512_crypt
from secretkit.plan.build import build_plan
from secretkit.plan.hostvalues import HostValues
from secretkit.plan.model import Plan
from secretkit.plan.targets import Targets
from secretkit.sensitive import Sensitive
from tests.support import fake

PLACEHOLDER = re.compile(rb"@([A-Z][A-Z0-9_]*)@")


def fake_value(name: str) -> str:
    if "HEX" in name:
        return fake.hex_key(32, name)
    if name.startswith("WG_"):
        return fake.wireguard_private_key(name)
    if name == "ROOT_HASH":
        return sha512_crypt(fake.password(name), "fixedsaltvalue12")
    if name.startswith("GH_ENTRY"):
        return "github.com=" + fake.github_token(name)
    if name.startswith("TS_"):
        return fake.tailscale_auth_key(name)
    if "PASSPHRASE" in name:
        return fake.passphrase(name)
    if name.startswith("PUSHOVER_"):  # the API's 30 case-sensitive letters and digits
        return fake.chars(fake._ALNUM, 30, name)
    return fake.chars(fake._ALNUM, 24, name)


@dataclass(frozen=True)
class FakeFinding:
    path: str
    line: int
    start: int
    end: int
    secret: Sensitive[str]


def fill(
    data: bytes, path: str, public: Sequence[str] = ("WG_PUBLIC",)
) -> tuple[bytes, list[FakeFinding], dict[str, str]]:
    """Replace every placeholder; findings for those not listed in ``public``."""
    out = bytearray()
    findings: list[FakeFinding] = []
    values: dict[str, str] = {}
    last = 0
    for match in PLACEHOLDER.finditer(data):
        name = match[1].decode()
        out += data[last : match.start()]
        last = match.end()
        if name in public:  # left as a placeholder: not a secret, not worth a literal
            out += match[0]
            continue
        value = values.setdefault(name, fake_value(name))
        start = len(out)
        out += value.encode()
        line = out.count(b"\n") + 1
        findings.append(FakeFinding(path, line, start, len(out), Sensitive(value)))
    out += data[last:]
    return bytes(out), findings, values


def plan_module(
    source: bytes,
    path: str = "hosts/host1/default.nix",
    hosts: Sequence[str] = ("host1",),
    findings: Sequence[FakeFinding] | None = None,
    extra: dict[str, bytes] | None = None,
    hosts_of: Callable[[str], Sequence[str]] | None = None,
    selected: set[str] | None = None,
    targets: Targets | None = None,
    host_values: HostValues | None = None,
) -> Plan:
    from secretkit.nix import cst

    def literal_of(tree: object, node: object) -> str:
        table = {s.start: s.value for s in cst.strings(tree)}  # type: ignore[arg-type]
        return table[node.start_byte]  # type: ignore[attr-defined]

    sources = {path: source, **(extra or {})}
    found = list(findings) if findings is not None else []
    return build_plan(
        sources,
        found,
        hosts_of or (lambda _p: list(hosts)),
        parse=cst.parse,
        literal_of=literal_of,
        selected=selected,
        targets=targets,
        host_values=host_values,
    )


# ---------------------------------------------------------------------------
# The example homelab in a temp git repository, with demo keys
# ---------------------------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "homelab"

# What each host's configuration uses after migrate (the proof that no host gets more).
COMMON = {"tailscale/authkey", "users/stian/hashed-password"}
EXPECTED_ACCESS = {
    "observer": COMMON | {
        "alertmanager/pushover/token",
        "alertmanager/pushover/user_key",
        "grafana/security/admin_password",
        "grafana/security/secret_key",
        "prometheus/syncthing/credentials",
    },
    "immich": COMMON | {"borg/immich-backup/passphrase"},
    "syncthing": COMMON
    | {"syncthing/gui/password", "syncthing/gui/apikey", "borg/sync-backup/passphrase"},
    "jellyfin": COMMON,
    "audiobookshelf": COMMON,
    "adguarder": COMMON,
    "stian-dell-nixos": COMMON | {"wifi/home-wifi/psk", "wireguard/wg0/private-key"},
    "offsite-vm": COMMON | {"ddclient/password"},
}  # fmt: skip


@dataclass
class Homelab:
    repo: Path
    admin_key: Path
    host_keys: dict[str, Path]
    values: dict[str, str]  # placeholder name → generated secret (public ones excluded)


def make_homelab(repo: Path, keys: Path, *, add_hosts: bool = True) -> Homelab:
    """Copy the example into ``repo`` (a git repo), fill it, commit, init keys."""
    import shutil

    from secretkit.commands.demo import PUBLIC, demo_admin_key, demo_host_key
    from secretkit.commands.demo import fill as demo_fill
    from secretkit.keys import sops_yaml_edits
    from secretkit.keys.ssh_to_age import ssh_pubkey_to_age
    from tests.conftest import commit_all

    shutil.copytree(EXAMPLE, repo, dirs_exist_ok=True, ignore=shutil.ignore_patterns("keys"))
    values: dict[str, str] = {}
    for file in sorted(repo.rglob("*.nix")):
        file.write_bytes(demo_fill(file.read_bytes(), values))
    admin, public = demo_admin_key(keys)
    sops_yaml_edits.init(repo, public, "tester")
    host_keys = {}
    for host in EXPECTED_ACCESS:
        line, private = demo_host_key(keys, host)
        assert private is not None
        host_keys[host] = private
        if add_hosts:
            sops_yaml_edits.add_host(repo, host, ssh_pubkey_to_age(line))
    commit_all(repo, "homelab")
    return Homelab(repo, admin, host_keys, {k: v for k, v in values.items() if k not in PUBLIC})
