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
            "master",
            "nixos/modules/services/networking/mosquitto.nix",
            "LoadCredential = … (passwordFile / hashedPasswordFile of every listener user)",
            read=False,
        ),
        since="21.11",
    ),
    rows=(
        Row("services.mosquitto.listeners.[].users.*.password", "passwordFile"),
        Row("services.mosquitto.listeners.[].users.*.hashedPassword", "hashedPasswordFile"),
    ),
)
