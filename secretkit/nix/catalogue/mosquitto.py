"""Mosquitto listener users → ``passwordFile`` / ``hashedPasswordFile`` (handed to the
broker through systemd credentials: "no special permissions need to be set")."""

from __future__ import annotations

from secretkit.nix.catalogue.base import NIXPKGS, Reader, Source
from secretkit.nix.catalogue.sibling import Row, SiblingFile

ENTRY = SiblingFile(
    key="mosquitto-users",
    description="services.mosquitto.listeners.[].users.<u>.(hashed)password → *File",
    reader=Reader(
        "systemd",
        Source(
            NIXPKGS,
            "0101675dad73660b4f037da356ccc5b00217b512",
            "nixos/modules/services/networking/mosquitto.nix",
            "LoadCredential = let listenerCredentials = listenerScope: listener: "
            'usersCredentials listenerScope listener.users [ "passwordFile" '
            '"hashedPasswordFile" ]; … preStart = … makePasswordFile (listenerScope idx) '
            "listener.users …;",
        ),
        since="21.11",
    ),
    # the broker's passwd file is made from the credentials when the unit starts
    # (systemd.services.mosquitto's preStart, quoted above): a changed secret needs a restart
    rows=(
        Row(
            "services.mosquitto.listeners.[].users.*.password",
            "passwordFile",
            unit="mosquitto.service",
        ),
        Row(
            "services.mosquitto.listeners.[].users.*.hashedPassword",
            "hashedPasswordFile",
            unit="mosquitto.service",
        ),
    ),
)
