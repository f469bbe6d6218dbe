"""Version awareness: the pinned NixOS release picks the route (or refuses it), and
each host's sshd is checked for the key sops-nix will look for."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from typing import Any

import pytest

from secretkit.nix import cst
from secretkit.plan.build import build_plan
from secretkit.plan.hostkeys import host_key_problems
from secretkit.plan.hostvalues import collect
from secretkit.plan.release import Pin, pinned
from tests.conftest import need_tool
from tests.support.nixfind import fill

MODULE = "hosts/laptop/default.nix"
WIFI = b'{ ... }:\n{\n  networking.wireless.networks.home.psk = "@PSK@";\n}\n'


def _lock(ref: str | None, day: dt.date) -> bytes:
    node: dict[str, object] = {
        "locked": {
            "lastModified": int(
                dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()
            ),
            "rev": "ab" * 20,
            "type": "github",
        },
        "original": {"owner": "NixOS", "repo": "nixpkgs", "type": "github"},
    }
    if ref is not None:
        node["original"]["ref"] = ref  # type: ignore[index]
    return json.dumps(
        {"nodes": {"nixpkgs": node, "root": {"inputs": {"nixpkgs": "nixpkgs"}}}, "root": "root",
         "version": 7}
    ).encode()  # fmt: skip


@pytest.mark.parametrize(
    ("lock", "flake", "release"),
    [
        (_lock("nixos-24.05", dt.date(2024, 12, 1)), None, "24.05"),
        (_lock("nixos-unstable", dt.date(2025, 6, 10)), None, "25.05"),
        (_lock(None, dt.date(2025, 3, 1)), None, "24.11"),
        (_lock("nixpkgs-unstable", dt.date(2024, 11, 30)), None, "24.11"),
        (None, b'inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-23.11";', "23.11"),
        (None, b'inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";', None),
        # (the input as an attribute set)
        (None, b'inputs = { nixpkgs = { url = "github:NixOS/nixpkgs/nixos-24.11"; }; };', "24.11"),
        (None, b'inputs.nixpkgs = {\n  url = "github:NixOS/nixpkgs/nixos-24.05";\n};', "24.05"),
        # (another input's url is not nixpkgs')
        (None, b'inputs = { nixpkgs-x = { url = "github:NixOS/nixpkgs/nixos-24.05"; }; };', None),
        (b"{not json", None, None),
        (None, None, None),
    ],
)
def test_pinned_release(lock: bytes | None, flake: bytes | None, release: str | None) -> None:
    assert pinned(lock, flake).release == release


def _plan(pin: Pin, module: bytes = WIFI) -> Any:
    source, findings, _ = fill(module, MODULE)

    def literal_of(tree, node):  # type: ignore[no-untyped-def]
        return {s.start: s.value for s in cst.strings(tree)}[node.start_byte]

    return build_plan(
        {MODULE: source}, findings, lambda _p: ["laptop"], parse=cst.parse,
        literal_of=literal_of, pin=pin,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "data", "release"),
    [
        ("niv", b'{"nixpkgs": {"branch": "nixos-24.11", "owner": "NixOS", "rev": "abc"}}', "24.11"),
        ("niv", b'{"nixpkgs": {"branch": "nixos-unstable"}}', None),
        ("npins", b'{"pins": {"nixpkgs": {"type": "Channel", "name": "nixos-25.05"}}}', "25.05"),
        ("npins", b'{"pins": {"nixpkgs": {"type": "Git", "branch": "release-24.05"}}}', "24.05"),
        ("npins", b"not json", None),
        # (JulienMalka/snowfield: lon, lon.lock version 1)
        ("lon", b'{"version": "1", "sources": {"nixpkgs": {"type": "GitHub", '
         b'"owner": "NixOS", "repo": "nixpkgs", "branch": "nixos-25.11"}}}', "25.11"),
        ("lon", b'{"version": "1", "sources": {"nixpkgs": {"branch": "nixos-unstable"}}}', None),
    ],
)  # fmt: skip
def test_a_repository_without_a_flake_is_pinned_by_niv_npins_or_lon(
    name: str, data: bytes, release: str | None
) -> None:
    """A stranger's morph homelab pinned nixpkgs with niv (nixos-24.11): migrate said
    "NixOS release unknown … pin nixpkgs in flake.lock", advice a non-flake cannot take."""
    pin = pinned(None, None, **{name: data})
    assert pin.release == release
    if release is not None:
        assert pin.source.startswith(("nix/sources.json", "npins/sources.json", "lon.lock"))


def test_wifi_route_refused_before_secrets_file_existed() -> None:
    plan = _plan(Pin("24.05", "flake.lock: nixpkgs ref nixos-24.05"))
    assert plan.moves == []  # type: ignore[attr-defined]
    [refused] = plan.refused  # type: ignore[attr-defined]
    assert "needs NixOS 24.11 or newer" in refused.reason
    assert "pins 24.05 (flake.lock: nixpkgs ref nixos-24.05)" in refused.reason
    assert any(s.startswith("secretkit set secrets/laptop.yaml") for s in refused.route)
    # 24.05 runs wpa_supplicant as root and has no such user: a declaration naming it
    # would fail activation, so the by-hand route leaves the file root's
    (declaration,) = [s for s in refused.route if " add: sops.secrets." in s]
    assert "owner" not in declaration
    # the first step is the update; no step names the route 24.05 lacks, and none is
    # Nix to write (the hook's fix would print it after "and write:")
    assert refused.route[0].startswith("update the nixpkgs input to NixOS 24.11 or newer")
    assert not any("secretsFile" in s or "pskRaw" in s for s in refused.route), refused.route
    assert not any(s.startswith("and write: ") for s in refused.route), refused.route


def test_wifi_secrets_owned_by_root_on_24_11_and_by_wpa_supplicant_from_25_05() -> None:
    old = _plan(Pin("24.11", "test")).nix[MODULE][1]  # type: ignore[attr-defined]
    new = _plan(Pin("25.05", "test")).nix[MODULE][1]  # type: ignore[attr-defined]
    assert b"owner" not in old
    assert b'owner = "wpa_supplicant";' in new
    # unknown release (`import <nixpkgs>`): the host's own release says which (a user
    # 24.11 lacks would fail activation; root on 25.05 could not be read by the daemon)
    unknown = _plan(Pin(None, "none")).nix[MODULE][1]  # type: ignore[attr-defined]
    owner = unknown.split(b"owner = ", 1)[1].split(b";\n", 1)[0].decode()
    assert owner == (
        '(if builtins.compareVersions config.system.nixos.release "25.05" >= 0 '
        'then "wpa_supplicant" else "root")'
    )
    assert b"{ config, ... }:" in unknown
    nix = need_tool("nix-instantiate")
    for release, user in (
        ("24.11", "root"),
        ("25.05", "wpa_supplicant"),
        ("25.11", "wpa_supplicant"),
    ):
        expr = f'let config.system.nixos.release = "{release}"; in {owner}'
        proc = subprocess.run([nix, "--eval", "--expr", expr], capture_output=True, text=True)
        assert proc.stdout.strip() == f'"{user}"', proc.stderr


def test_host_key_checked_per_host() -> None:
    sources = {
        "common.nix": b"{ ... }: { }\n",
        "hosts/a.nix": b"{ ... }: { services.openssh.enable = true; }\n",
        "hosts/b.nix": b'{ ... }: { networking.hostName = "b"; }\n',
        "hosts/c.nix": (
            b"{ ... }: { services.openssh = { enable = true; "
            b'hostKeys = [ { path = "/etc/ssh/ssh_host_rsa_key"; type = "rsa"; } ]; }; }\n'
        ),
    }
    modules = {h: ["common.nix", f"hosts/{h}.nix"] for h in ("a", "b", "c")}
    values = collect(sources, modules, cst.parse)
    problems = host_key_problems(["a", "b", "c"], values, sources, modules)
    assert len(problems) == 2
    assert problems[0].startswith("host b: ")
    assert "add services.openssh.enable = true; to b" in problems[0]
    assert problems[1].startswith("host c: services.openssh.hostKeys lists no ed25519 key")
    assert '{ path = "/etc/ssh/ssh_host_ed25519_key"; type = "ed25519"; }' in problems[1]


def test_host_keys_kept_elsewhere_are_left_to_sops_nix() -> None:
    # barrucadu/nixfiles keeps its host keys in /persist (erase your darlings): sops-nix's
    # default sshKeyPaths (hostKeys' ed25519 entries) finds them; /etc/ssh holds none
    from secretkit.nix.wiring import wire_host_key

    persist = (
        b"{ ... }: { services.openssh = { enable = true; hostKeys = [ { path = "
        b'"/persist/etc/ssh/ssh_host_ed25519_key"; type = "ed25519"; } ]; }; }\n'
    )
    sources = {"common.nix": persist, "hosts/a.nix": b"{ ... }: { }\n"}
    modules = {"a": ["common.nix", "hosts/a.nix"]}
    values = collect(sources, modules, cst.parse)
    assert host_key_problems(["a"], values, sources, modules) == []
    wiring = wire_host_key(sources, modules, {"a": ["hosts/a.nix"]}, cst.parse)
    assert wiring.edits == {} and wiring.notes == []
    plain = {**sources, "common.nix": b"{ ... }: { services.openssh.enable = true; }\n"}
    assert wire_host_key(plain, modules, {"a": ["hosts/a.nix"]}, cst.parse).edits


NEXTCLOUD = b'{ ... }:\n{\n  services.nextcloud.config.adminpass = "@PW@";\n}\n'


@pytest.mark.parametrize(
    ("release", "owned"),
    [("24.11", True), ("25.05", False), ("25.11", False), (None, True)],
)
def test_nextcloud_files_owned_by_nextcloud_until_systemd_hands_them_over(
    release: str | None, owned: bool
) -> None:
    """Up to 24.11 nextcloud-setup (User = nextcloud) reads adminpassFile itself and
    aborts when it cannot; from 25.05 it gets it through LoadCredential."""
    plan = _plan(Pin(release, "test"), NEXTCLOUD)
    new = plan.nix[MODULE][1]
    assert b"adminpassFile = config.sops.secrets." in new
    if release is None:  # the host's own release chooses (root from 25.05 on)
        assert (
            b'owner = (if builtins.compareVersions config.system.nixos.release "25.05" >= 0 '
            b'then "root" else "nextcloud");'
        ) in new
        return
    assert (b'owner = "nextcloud";' in new) == owned


def test_an_initrd_host_key_is_not_taken_for_sshd_s() -> None:
    """boot.initrd.network.ssh.hostKeys (an unlock key) says nothing about sshd's keys,
    which sops-nix reads: the check matched the word "hostKeys" and warned wrongly."""
    from secretkit.nix.wiring import wire_host_key

    initrd = (
        b"{ ... }: { services.openssh.enable = true; boot.initrd.network.ssh.hostKeys = "
        b'[ "/etc/secrets/initrd/ssh_host_ed25519_key" ]; }\n'
    )
    sources, modules = {"a.nix": initrd}, {"a": ["a.nix"]}
    assert host_key_problems(["a"], collect(sources, modules, cst.parse), sources, modules) == []
    assert wire_host_key(sources, modules, {"a": ["a.nix"]}, cst.parse).edits


def test_an_unstable_pin_is_said_to_be_between_two_releases() -> None:
    """badele/nix-homelab at 6ac9b0f2: "this repository pins 23.11 (flake.lock: nixpkgs
    nixos-unstable … of 2024-02-26)": unstable of that day is 24.05 before its release.
    It is taken to have what 23.11 has, and said so."""
    pin = pinned(_lock("nixos-unstable", dt.date(2024, 2, 26)), None)
    assert (pin.release, pin.shown) == ("23.11", "a nixpkgs between 23.11 and 24.05")
    later = pinned(_lock("nixos-unstable", dt.date(2024, 11, 30)), None)
    assert later.shown == "a nixpkgs between 24.11 and 25.05"
    assert pinned(_lock("nixos-24.05", dt.date(2024, 6, 1)), None).shown == "24.05"
    plan = _plan(pin)
    [refused] = plan.refused  # type: ignore[attr-defined]
    assert "needs NixOS 24.11 or newer, and this repository pins a nixpkgs between 23.11 " in (
        refused.reason
    )
    assert "or, on a nixpkgs between 23.11 and 24.05, the steps below" in refused.route[0]


ALERTMANAGER = b"""{ config, ... }:
{
  services.prometheus.alertmanager.configuration.receivers = [
    { name = "slack"; slack_configs = [ { api_url = "@SLACK_URL@"; } ]; }
    { name = "pushover"; pushover_configs = [ { token = "@PUSHOVER_TOKEN@"; } ]; }
  ];
}
"""


def test_a_url_alertmanager_checks_at_build_time_needs_the_release_with_checkConfig() -> None:
    """amtool checks the file in the build, before envsubst: "$SLACK_API_URL" is no
    URL, so the route turns checkConfig off, which NixOS has since 23.05; the token
    (a string amtool does not parse) moves on any release."""
    source, findings, _ = fill(ALERTMANAGER, MODULE)

    def literal_of(tree, node):  # type: ignore[no-untyped-def]
        return {s.start: s.value for s in cst.strings(tree)}[node.start_byte]

    plan = build_plan(
        {MODULE: source}, findings, lambda _p: ["laptop"], parse=cst.parse,
        literal_of=literal_of, pin=Pin("22.11", "flake.lock: nixpkgs ref nixos-22.11"),
    )  # fmt: skip
    assert [m.attrpath.rsplit(".", 1)[-1] for m in plan.moves] == ["token"]
    [refused] = plan.refused
    assert refused.reason.startswith("moving services.prometheus.alertmanager.configuration")
    assert "needs NixOS 23.05 or newer, and this repository pins 22.11" in refused.reason
    assert "checkConfig" not in source.decode() + plan.nix[MODULE][1].decode()


def _two_inputs() -> bytes:
    """A lock of nixpkgs (unstable of 2026-05) and nixpkgs-stable (nixos-24.11)."""

    def node(ref: str, day: dt.date) -> dict[str, object]:
        when = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
        return {
            "locked": {"lastModified": when, "rev": "cd" * 20, "type": "github"},
            "original": {"owner": "NixOS", "ref": ref, "repo": "nixpkgs", "type": "github"},
        }

    nodes = {
        "nixpkgs": node("nixos-unstable", dt.date(2026, 5, 28)),
        "nixpkgs-stable": node("nixos-24.11", dt.date(2025, 1, 2)),
        "root": {"inputs": {"nixpkgs": "nixpkgs", "nixpkgs-stable": "nixpkgs-stable"}},
    }
    return json.dumps({"nodes": nodes, "root": "root", "version": 7}).encode()


@pytest.mark.parametrize(
    ("flake", "inputs"),
    [
        (b"{ outputs = { nixpkgs, nixpkgs-stable, ... }: { nixosConfigurations = {"
         b" desk = nixpkgs.lib.nixosSystem { }; nas = nixpkgs-stable.lib.nixosSystem { }; };"
         b" }; }", {"nixpkgs", "nixpkgs-stable"}),
        (b"{ outputs = inputs: { nixosConfigurations.nas ="
         b" inputs.nixpkgs-stable.lib.nixosSystem { }; }; }", {"nixpkgs-stable"}),
        (b"{ outputs = { nixpkgs-stable, ... }: let lib = nixpkgs-stable.lib; in"
         b" { nixosConfigurations.nas = lib.nixosSystem { }; }; }", {"nixpkgs-stable"}),
        (b"{ outputs = { nixpkgs, ... }: let inherit (nixpkgs) lib; in"
         b" { nixosConfigurations.nas = lib.nixosSystem { }; }; }", {"nixpkgs"}),
        (b"{ outputs = { stable, ... }: let lib = stable.lib.extend (f: p: { }); in"
         b" { nixosConfigurations.nas = lib.nixosSystem { }; }; }", {"stable"}),
        # colmena: the hive's nixpkgs, and a host's own
        (b'{ outputs = { nixpkgs, stable, ... }: { colmena.meta = { nixpkgs = import nixpkgs'
         b' { system = "x86_64-linux"; }; nodeNixpkgs.nas = import stable { }; }; }; }',
         {"nixpkgs", "stable"}),
        # (a comment is not code; a lib given as an argument names no input)
        (b"{ outputs = { nixpkgs, ... }: {\n  # nas = nixpkgs-stable.lib.nixosSystem { };\n"
         b"  desk = nixpkgs.lib.nixosSystem { }; }; }", {"nixpkgs"}),
        (b"{ outputs = { self, ... }@inputs: import ./hosts.nix inputs; }", set()),
    ],
)  # fmt: skip
def test_the_inputs_hosts_are_built_from(flake: bytes, inputs: set[str]) -> None:
    from secretkit.plan.release import system_inputs

    assert system_inputs(flake) == inputs


def test_hosts_built_from_an_older_nixpkgs_input_pin_its_release() -> None:
    """A homelab builds its desktop from nixpkgs (unstable) and its NAS from
    nixpkgs-stable (24.11): reading only the input named nixpkgs, migrate took the
    release to be 26.05 and wrote options the NAS's 24.11 does not have."""
    lock = _two_inputs()
    both = (
        b"{ outputs = { nixpkgs, nixpkgs-stable, ... }: { nixosConfigurations = {"
        b" desk = nixpkgs.lib.nixosSystem { }; nas = nixpkgs-stable.lib.nixosSystem { }; }; }; }"
    )
    pin = pinned(lock, both)
    assert (pin.release, pin.mixed, pin.unstable, pin.input) == (
        "24.11",
        True,
        False,
        "nixpkgs-stable",
    )
    assert pin.source == (
        "flake.lock: hosts are built from nixpkgs (a nixpkgs between 26.05 and 26.11) "
        "and nixpkgs-stable (24.11)"
    )
    only_stable = (
        b"{ outputs = i: { nixosConfigurations.nas = i.nixpkgs-stable.lib.nixosSystem {}; }; }"
    )
    assert system_inputs_of(only_stable) == {"nixpkgs-stable"}  # (`i`: all the inputs)
    stable = b"{ outputs = inputs: { n = inputs.nixpkgs-stable.lib.nixosSystem {}; }; }"
    assert pinned(lock, stable) == Pin(
        "24.11", "flake.lock: nixpkgs-stable ref nixos-24.11", input="nixpkgs-stable"
    )
    # an input only used for packages (an overlay's `stable`) builds no host
    overlay = (
        b"{ outputs = { nixpkgs, ... }: { nixosConfigurations.d = nixpkgs.lib.nixosSystem {}; }; }"
    )
    assert (pinned(lock, overlay).release, pinned(lock, overlay).mixed) == ("26.05", False)

    # the wifi route needs 24.11 (both have it); the owner is chosen per host, in Nix:
    # wpa_supplicant reads it as its own user from 25.05 on, as root on the NAS
    plan = _plan(pin)
    owner = plan.nix[MODULE][1].split(b"owner = ", 1)[1].split(b";\n", 1)[0]  # type: ignore[attr-defined]
    assert owner == (
        b'(if builtins.compareVersions config.system.nixos.release "25.05" >= 0 '
        b'then "wpa_supplicant" else "root")'
    )


def test_a_route_the_oldest_input_lacks_names_that_input_in_its_fix() -> None:
    old = pinned(
        _two_inputs(), b"{ x = nixpkgs.lib.nixosSystem {}; y = nixpkgs-stable.lib.nixosSystem {}; }"
    )
    older = Pin("24.05", old.source, mixed=True, input="nixpkgs-stable")
    [refused] = _plan(older).refused  # type: ignore[attr-defined]
    assert "needs NixOS 24.11 or newer" in refused.reason
    assert "hosts are built from nixpkgs" in refused.reason
    assert refused.route[0].startswith("update the nixpkgs-stable input to NixOS 24.11 or newer")


def system_inputs_of(flake: bytes) -> set[str]:
    from secretkit.plan.release import system_inputs

    return system_inputs(flake)


SYNCTHING = b'{ ... }:\n{\n  services.syncthing.settings.gui.password = "@PW@";\n}\n'


@pytest.mark.parametrize(
    ("release", "moved"), [("25.05", False), ("25.11", False), ("26.05", True)]
)
def test_syncthing_gui_password_file_only_where_nixos_is_known_to_have_it(
    release: str, moved: bool
) -> None:
    """guiPasswordFile came with NixOS/nixpkgs#446197, opened after 25.05 branched: on
    a 25.05 host migrate wrote it, and the build failed (option does not exist)."""
    plan = _plan(Pin(release, "test"), SYNCTHING)
    written = b"".join(edit for _path, edit in plan.nix.values()) if plan.nix else b""
    assert (b"guiPasswordFile" in written) == moved
    if not moved:
        [refused] = plan.refused
        assert "needs NixOS 26.05 or newer" in refused.reason
        # (helper-132: the by-hand steps led to guiPasswordFile, which the release lacks)
        assert refused.route[0].startswith("update the nixpkgs input to NixOS 26.05")
        assert "set the password in Syncthing itself" in refused.route[1]
        assert not any("secretkit set" in step for step in refused.route)


@pytest.mark.parametrize(
    ("pins", "release", "source", "mixed"),
    [
        # `npins add channel nixos-24.11` names its pin after the channel (helper-121)
        ({"nixos-24.11": {"type": "Channel", "name": "nixos-24.11"}}, "24.11",
         "npins/sources.json: nixpkgs pin nixos-24.11 nixos-24.11", False),
        ({"stable": {"type": "Git", "repository": {"type": "GitHub", "owner": "NixOS",
                                                  "repo": "nixpkgs"}, "branch": "nixos-25.05"}},
         "25.05", "npins/sources.json: nixpkgs pin stable nixos-25.05", False),
        # two releases: the oldest, and owners chosen per host
        ({"a": {"type": "Channel", "name": "nixos-25.05"},
          "b": {"type": "Channel", "name": "nixos-24.11"}}, "24.11",
         "npins/sources.json: nixpkgs pins a (25.05) and b (24.11)", True),
        # another repository's pin is not nixpkgs'
        ({"home-manager": {"type": "Git", "repository": {"repo": "home-manager"},
                           "branch": "release-24.11"}}, None, None, False),
    ],
)  # fmt: skip
def test_an_npins_nixpkgs_pin_of_another_name_is_read(
    pins: dict[str, object], release: str | None, source: str | None, mixed: bool
) -> None:
    pin = pinned(None, None, npins=json.dumps({"pins": pins, "version": 5}).encode())
    assert pin.release == release
    if source is not None:
        assert (pin.source, pin.mixed) == (source, mixed)
