"""The wpa_supplicant units the wifi secrets template restarts.  The template is
bind-mounted into the unit when it starts and the unit's restartTriggers name only
nixos.conf: with no ``restartUnits`` a new PSK reached wpa_supplicant only at its next
restart (a stranger's check).  One unit, or one per interface the host lists:
evaluated here by the real ``nix-instantiate --eval`` under each."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.nix.test_nix_catalogue import template_restart_units


@pytest.mark.parametrize(
    ("interfaces", "units"),
    [
        ("[ ]", ["wpa_supplicant.service"]),
        ('[ "wlan0" "wlp2s0" ]', ["wpa_supplicant-wlan0.service", "wpa_supplicant-wlp2s0.service"]),
    ],
)
def test_the_template_restarts_the_units_that_read_it(
    tmp_path: Path, interfaces: str, units: list[str]
) -> None:
    config = (
        f"{{ networking.wireless.interfaces = {interfaces}; "
        'system.nixos.release = "25.05"; sops.placeholder = { }; }'
    )
    assert template_restart_units("wireless-psk", "wireless-secrets", config, tmp_path) == units
