"""Which store sops picks for a file name (``cmd/sops/formats``): its own module, so
that a caller that needs only this (the hook's fix for a finding) does not load the
stores and the crypto with :mod:`secretkit.sops.document`."""

from __future__ import annotations

from pathlib import Path


def format_for_path(path: str | Path) -> str:
    """The store sops picks for a file name (``cmd/sops/formats``)."""
    name = str(path)
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    if name.endswith(".json"):
        return "json"
    if name.endswith(".env"):
        return "dotenv"
    if name.endswith(".ini"):
        return "ini"
    return "binary"
