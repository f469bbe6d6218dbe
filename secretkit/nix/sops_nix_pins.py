"""Which sops-nix commit a flake input names for the NixOS release the repository
pins: sops-nix's master follows the newest nixpkgs (its Go toolchain among them), so
an older release needs an older commit."""

from __future__ import annotations

from secretkit.nix.catalogue.base import release_key as key

INPUT_URL = '"github:Mic92/sops-nix"'
# The last sops-nix commit whose CI tested each NixOS release as its stable one
# (Mic92/sops-nix, dev/private/flake.nix or flake.nix's nixpkgs-stable): later
# commits drop it; 5c23dc81 "Bump go to 1.25, remove compatibility for 25.05 or older"
# builds sops-install-secrets with buildGo125Module, which 25.05 and older lack, so an
# unpinned input fails to build there (helper-119).  A newer release takes master.
TESTED_UNTIL = {  # release -> (commit, its date)
    "23.11": ("a11224af8d824935f363928074b4717ca2e280db", "2024-07-01"),  # release-23.11
    "24.05": ("c9c88f08e3ee495e888b8d7c8624a0b2519cb773", "2025-01-06"),  # release-24.05
    "24.11": ("3223c7a92724b5d804e9988c6b447a0d09017d48", "2025-08-12"),  # nixos-24.11
    "25.05": ("17eea6f3816ba6568b8c81db8a4e6ca438b30b7c", "2026-02-03"),  # nixos-25.05
}
# from this commit's date on, sops-nix needs a nixpkgs newer than 25.05 (buildGo125Module)
GO_125 = ("5c23dc81a7b13890e9d9e81b39ff1bafa84b5637", "2026-02-04")


def tested_for(release: str | None) -> tuple[str, str, str] | None:
    """(the release, commit, date) of the last sops-nix commit tested with the oldest
    release in :data:`TESTED_UNTIL` that is ``release`` or newer; None for master."""
    if release is None:
        return None
    tested = [r for r in TESTED_UNTIL if key(r) >= key(release)]
    if not tested:
        return None
    oldest = min(tested, key=key)
    return (oldest, *TESTED_UNTIL[oldest])


def input_url(release: str | None) -> str:
    """The ``inputs.sops-nix.url`` for a repository on ``release`` (None: unknown, or
    newer than every release in :data:`TESTED_UNTIL`: master), as a Nix string."""
    tested = tested_for(release)
    return INPUT_URL if tested is None else f'"github:Mic92/sops-nix/{tested[1]}"'
