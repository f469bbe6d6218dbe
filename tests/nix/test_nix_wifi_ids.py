"""Generated identifiers stay unique per output: wifi networks whose names differ only
in case or punctuation get their own ``ext:`` name and secret (issue 13; before, two
networks shared one ``ext:`` variable and one of them received the other's PSK)."""

from __future__ import annotations

import re

from tests.support.nixfind import fill, plan_module

MODULE = b"""{ ... }:
{
  networking.wireless.networks = {
    "Home".psk = "@PSK_A@";
    "home".psk = "@PSK_B@";
    "my-net".psk = "@PSK_C@";
    "my net".psk = "@PSK_D@";
    cabin.psk = "@PSK_E@";
  };
}
"""


def test_similar_network_names_get_distinct_ext_names_and_secrets() -> None:
    source, findings, values = fill(MODULE, "hosts/host1/default.nix")
    plan = plan_module(source, findings=findings)
    assert not plan.refused
    new = plan.nix["hosts/host1/default.nix"][1].decode()
    found = re.findall(r'"?([\w -]+)"?\.pskRaw = "ext:(\w+)";', new)
    ext = {network.strip(): name for network, name in found}
    assert set(ext) == {"Home", "home", "my-net", "my net", "cabin"}
    assert len(set(ext.values())) == 5, ext
    assert ext["cabin"] == "psk_cabin"  # names without a twin keep their readable form
    assert ext["Home"].startswith("psk_home_") and ext["home"].startswith("psk_home_")
    # each ext: line of the secrets file template points at its own secret
    lines = dict(re.findall(r"(psk_\w+)=\$\{config\.sops\.placeholder\.\"([^\"]+)\"\}", new))
    assert set(lines) == set(ext.values())
    assert len(set(lines.values())) == 5
    stored = {k: v.reveal() for keys in plan.sops.values() for k, v in keys.items()}
    for network, name in ext.items():
        secret = tuple(lines[name].split("/"))
        placeholder = {"Home": "PSK_A", "home": "PSK_B", "my-net": "PSK_C", "my net": "PSK_D",
                       "cabin": "PSK_E"}[network]  # fmt: skip
        assert stored[secret] == values[placeholder], network
