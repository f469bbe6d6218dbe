"""The option catalogue: how a hardcoded secret in a NixOS option becomes a sops-nix
reference that the service can still read at run time.

One module per option family (``research/nixos-secret-options.md``), as
pre-commit's ``languages/``.  An entry says which attribute paths it covers, who
reads the file at run time (:class:`~secretkit.nix.catalogue.base.Reader`: systemd,
the daemon's own user, activation, …, with the nixpkgs source of that fact and the
first NixOS release that has the route), proposes a readable secret name and turns
one :class:`Site` into a :class:`Rewrite` — or a :class:`Refusal` with the reason.
Entries never write anything and never guess.

The registry is the literal dict :data:`ROUTES` (key → module, entry, the attribute
paths it can match); :data:`CATALOGUE` maps each key to its entry, and :func:`lookup`
tries the entries in order (the catch-all ``write-text-file`` last), loading only
the modules whose paths are near.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from secretkit.nix.catalogue.base import (
    Entry,
    OptionSpec,
    Reader,
    Refusal,
    Rewrite,
    Site,
    Source,
    TemplateLine,
    match,
    write_text_call,
)

__all__ = [
    "CATALOGUE",
    "ROUTES",
    "Entry",
    "OptionSpec",
    "Reader",
    "Refusal",
    "Rewrite",
    "Route",
    "Site",
    "Source",
    "TemplateLine",
    "entry",
    "file_reader",
    "lookup",
    "match",
    "write_text_call",
]


@dataclass(frozen=True)
class Route:
    """Where an entry lives and where it can match.  ``name`` is the entry in
    ``module``: an instance, or a class made with no arguments.  Every path the entry
    matches starts with one of ``heads`` (dot-separated attribute names); None: any
    path may match it.  :func:`lookup` imports only the modules whose heads a path
    is under (the hook asks for one path, and the catalogue modules cost ~10 ms to load)."""

    module: str
    name: str
    heads: tuple[str, ...] | None

    def admits(self, path: Sequence[str]) -> bool:
        if self.heads is None:
            return True
        return any(_under(path, head) for head in self.heads)


def _under(path: Sequence[str], head: str) -> bool:
    parts = head.split(".")
    return len(path) >= len(parts) and all(a == b for a, b in zip(path, parts, strict=False))


# The registry, in lookup order (the catch-all ``write-text-file`` last).
ROUTES: dict[str, Route] = {
    "alertmanager-receiver": Route("alertmanager", "Alertmanager", ("services.prometheus",)),
    "prometheus-credentials": Route(
        "prometheus", "PrometheusCredentials", ("services.prometheus",)
    ),
    "borgbackup-passphrase": Route("borgbackup", "Borgbackup", ("services.borgbackup",)),
    "grafana-file-provider": Route("grafana", "Grafana", ("services.grafana",)),
    "user-password": Route("users", "UserPassword", ("users.users",)),
    "wireless-psk": Route("wireless", "Wireless", ("networking.wireless",)),
    "wireguard-keys": Route(
        "wireguard", "Wireguard", ("networking.wireguard", "networking.wg-quick")
    ),
    "tailscale-authkey": Route("tailscale", "Tailscale", ("services.tailscale",)),
    "tailscale-authkey-file": Route("tailscale", "AUTHKEY_FILE", ("services.tailscale",)),
    "ddclient-password": Route("ddclient", "ENTRY", ("services.ddclient",)),
    "redis-requirepass": Route("redis", "ENTRY", ("services.redis",)),
    "k3s-token": Route("k3s", "K3S", ("services.k3s",)),
    "rke2-token": Route("k3s", "RKE2", ("services.rke2",)),
    "nextcloud-config": Route("nextcloud", "ENTRY", ("services.nextcloud",)),
    "nextcloud-files": Route("nextcloud", "FILES", ("services.nextcloud",)),
    "cloudflare-dyndns-token": Route("cloudflare_dyndns", "ENTRY", ("services.cloudflare-dyndns",)),
    "github-runner-token": Route("github_runners", "ENTRY", ("services.github-runners",)),
    "gitea-runner-token": Route("gitea_runners", "ENTRY", ("services.gitea-actions-runner",)),
    "mosquitto-users": Route("mosquitto", "ENTRY", ("services.mosquitto",)),
    "miniflux-admin": Route("miniflux", "ENTRY", ("services.miniflux",)),
    "vaultwarden-config": Route("vaultwarden", "ENTRY", ("services.vaultwarden",)),
    "syncthing-gui-password": Route("syncthing", "GUI_PASSWORD", ("services.syncthing",)),
    "syncthing-gui-apikey": Route("syncthing", "GUI_APIKEY", ("services.syncthing",)),
    "environment-etc": Route("etc", "EtcFile", ("environment.etc",)),
    "systemd-environment": Route(
        "systemd_environment", "ServiceEnvironment", ("systemd.services",)
    ),
    "systemd-environment-list": Route(
        "systemd_environment_list", "ServiceEnvironmentList", ("systemd.services",)
    ),
    "systemd-script": Route("systemd_script", "ENTRY", ("systemd.services",)),
    "networkmanager-profile": Route(
        "networkmanager", "NetworkManager", ("networking.networkmanager",)
    ),
    "nix-access-tokens": Route(
        "nix_access_tokens", "NixAccessTokens", ("nix.settings", "nix.extraOptions")
    ),
    "nginx-basic-auth": Route("nginx", "NginxBasicAuth", ("services.nginx",)),
    "home-assistant-secret": Route("home_assistant", "HomeAssistant", ("services.home-assistant",)),
    "gitea-secrets": Route("gitea", "ENTRY", ("services.gitea",)),
    "forgejo-secrets": Route("forgejo", "ENTRY", ("services.forgejo",)),
    "authelia-secrets": Route("authelia", "ENTRY", ("services.authelia",)),
    "immich-environment": Route("immich", "ENTRY", ("services.immich",)),
    "paperless-settings": Route("paperless", "SETTINGS", ("services.paperless",)),
    "paperless-admin": Route("paperless", "ADMIN", ("services.paperless",)),
    "msmtp-password": Route("msmtp", "ENTRY", ("programs.msmtp",)),
    "synapse-extra-config": Route("synapse", "ENTRY", ("services.matrix-synapse",)),
    "transmission-credentials": Route("transmission", "ENTRY", ("services.transmission",)),
    "zigbee2mqtt-secret": Route("zigbee2mqtt", "ENTRY", ("services.zigbee2mqtt",)),
    "oci-containers-environment": Route(
        "oci_containers", "ENTRY", ("virtualisation.oci-containers",)
    ),
    "networkd-wireguard": Route("networkd", "ENTRY", ("systemd.network",)),
    "restic-rclone-config": Route("restic", "RCLONE", ("services.restic",)),
    "restic-files": Route("restic", "FILES", ("services.restic",)),
    "restic-repository": Route("restic", "REPOSITORY", ("services.restic",)),
    "acme-dns-credentials": Route("acme", "ENTRY", ("security.acme",)),
    "cloudflared-credentials": Route("cloudflared", "ENTRY", ("services.cloudflared",)),
    "postfix-map-files": Route("postfix", "ENTRY", ("services.postfix",)),
    "postgresql-initial-script": Route("databases", "POSTGRESQL", ("services.postgresql",)),
    "mysql-initial-script": Route("databases", "MYSQL", ("services.mysql",)),
    "cifs-credentials": Route("cifs", "ENTRY", ("fileSystems",)),
    "sops-template-content": Route("sops_template", "SopsTemplate", ("sops.templates",)),
    "write-text-file": Route("write_text", "WRITE_TEXT_FILE", None),  # the catch-all: last
}

_made: dict[str, Entry] = {}


def entry(key: str) -> Entry:
    """The catalogue entry ``key`` (its module imported on first use; KeyError when
    there is none)."""
    found = _made.get(key)
    if found is None:
        route = ROUTES[key]
        module = importlib.import_module(f"{__name__}.{route.module}")
        made = getattr(module, route.name)
        found = made() if isinstance(made, type) else made
        _made[key] = found
    return found


class _Catalogue(Mapping[str, Entry]):
    """Every entry by key, in lookup order: :data:`ROUTES` with the entries made."""

    def __getitem__(self, key: str) -> Entry:
        return entry(key)

    def __iter__(self) -> Iterator[str]:
        return iter(ROUTES)

    def __len__(self) -> int:
        return len(ROUTES)


CATALOGUE: Mapping[str, Entry] = _Catalogue()


def lookup(path: Sequence[str]) -> Entry | None:
    """The catalogue entry for an attribute path, or None (no safe rewrite known; in a
    NixOS container's configuration, ``containers.<c>.config``, none: the host's sops-nix
    files are not in the container)."""
    if in_container(path):
        return None
    for key, route in ROUTES.items():
        if route.admits(path):
            found = entry(key)
            if found.matches(path):
                return found
    return None


def in_container(path: Sequence[str]) -> bool:
    """Whether ``path`` is an option of a NixOS container (``containers.<c>.config.…``)."""
    return len(path) >= 3 and path[0] == "containers" and path[2] == "config"


def file_units(path: Sequence[str]) -> tuple[str, ...]:
    """The units that read the file the option at ``path`` names, when an entry moving
    secrets to that option says (miniflux's ``adminCredentialsFile``:
    ``miniflux.service``); else none known."""
    for key, route in ROUTES.items():
        if route.admits(path):
            target_units = getattr(entry(key), "target_units", None)
            units: tuple[str, ...] = target_units(path) if target_units is not None else ()
            if units:
                return units
    return ()


def bare_path_target(path: Sequence[str]) -> bool:
    """Whether an entry gives the file's path itself to the option at ``path`` (postfix's
    ``mapFiles.<m>``), not inside a string that names it (grafana's ``"$__file{…}"``
    settings: an entry's ``wrapped_targets``)."""
    for key, route in ROUTES.items():
        if route.admits(path):
            wrapped = getattr(entry(key), "wrapped_targets", ())
            if any(match(pattern, path) for pattern in wrapped):
                return False
    return file_reader(path) is not None


def file_reader(path: Sequence[str]) -> Reader | None:
    """Who reads the file the ``*File`` option at ``path`` names, when an entry moves
    secrets to that option (paperless's ``passwordFile``: systemd, through
    ``LoadCredential``); None when no entry does (then no one here knows)."""
    for key, route in ROUTES.items():
        if not route.admits(path):
            continue
        found = entry(key)
        target_reader = getattr(found, "target_reader", None)  # (one reader per instance)
        reader: Reader | None = target_reader(path) if target_reader is not None else None
        if reader is not None:
            return reader
        targets = getattr(found, "targets", None)
        if targets is not None and any(match(pattern, path) for pattern in targets()):
            return found.reader
    return None
