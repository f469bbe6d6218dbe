"""The option catalogue: how a hardcoded secret in a NixOS option becomes a sops-nix
reference that the service can still read at run time.

One module per option family (``research/nixos-secret-options.md``), as
pre-commit's ``languages/``.  An entry says which attribute paths it covers, who
reads the file at run time (:class:`~secretkit.nix.catalogue.base.Reader`: systemd,
the daemon's own user, activation, …, with the nixpkgs source of that fact and the
first NixOS release that has the route), proposes a readable secret name and turns
one :class:`Site` into a :class:`Rewrite` — or a :class:`Refusal` with the reason.
Entries never write anything and never guess.

The registry is the literal dict :data:`CATALOGUE`; :func:`lookup` tries entries in
order (the catch-all ``write-text-file`` last).
"""

from __future__ import annotations

from collections.abc import Sequence

from secretkit.nix.catalogue import (
    acme,
    alertmanager,
    borgbackup,
    cloudflare_dyndns,
    cloudflared,
    ddclient,
    etc,
    forgejo,
    gitea,
    github_runners,
    grafana,
    home_assistant,
    immich,
    k3s,
    miniflux,
    mosquitto,
    msmtp,
    networkd,
    networkmanager,
    nextcloud,
    nginx,
    nix_access_tokens,
    oci_containers,
    paperless,
    postfix,
    prometheus,
    restic,
    synapse,
    syncthing,
    systemd_environment,
    tailscale,
    transmission,
    users,
    vaultwarden,
    wireguard,
    wireless,
    write_text,
    zigbee2mqtt,
)
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
    "Entry",
    "OptionSpec",
    "Reader",
    "Refusal",
    "Rewrite",
    "Site",
    "Source",
    "TemplateLine",
    "lookup",
    "match",
    "write_text_call",
]

CATALOGUE: dict[str, Entry] = {
    "alertmanager-receiver": alertmanager.Alertmanager(),
    "prometheus-credentials": prometheus.PrometheusCredentials(),
    "borgbackup-passphrase": borgbackup.Borgbackup(),
    "grafana-file-provider": grafana.Grafana(),
    "user-password": users.UserPassword(),
    "wireless-psk": wireless.Wireless(),
    "wireguard-keys": wireguard.Wireguard(),
    "tailscale-authkey": tailscale.Tailscale(),
    "ddclient-password": ddclient.ENTRY,
    "k3s-token": k3s.K3S,
    "rke2-token": k3s.RKE2,
    "nextcloud-config": nextcloud.ENTRY,
    "cloudflare-dyndns-token": cloudflare_dyndns.ENTRY,
    "github-runner-token": github_runners.ENTRY,
    "mosquitto-users": mosquitto.ENTRY,
    "miniflux-admin": miniflux.ENTRY,
    "vaultwarden-config": vaultwarden.ENTRY,
    "syncthing-gui-password": syncthing.GUI_PASSWORD,
    "syncthing-gui-apikey": syncthing.GUI_APIKEY,
    "environment-etc": etc.EtcFile(),
    "systemd-environment": systemd_environment.ServiceEnvironment(),
    "networkmanager-profile": networkmanager.NetworkManager(),
    "nix-access-tokens": nix_access_tokens.NixAccessTokens(),
    "nginx-basic-auth": nginx.NginxBasicAuth(),
    "home-assistant-secret": home_assistant.HomeAssistant(),
    "gitea-secrets": gitea.ENTRY,
    "forgejo-secrets": forgejo.ENTRY,
    "immich-environment": immich.ENTRY,
    "paperless-settings": paperless.SETTINGS,
    "paperless-admin": paperless.ADMIN,
    "msmtp-password": msmtp.ENTRY,
    "synapse-extra-config": synapse.ENTRY,
    "transmission-credentials": transmission.ENTRY,
    "zigbee2mqtt-secret": zigbee2mqtt.ENTRY,
    "oci-containers-environment": oci_containers.ENTRY,
    "networkd-wireguard": networkd.ENTRY,
    "restic-rclone-config": restic.RCLONE,
    "restic-files": restic.FILES,
    "acme-dns-credentials": acme.ENTRY,
    "cloudflared-credentials": cloudflared.ENTRY,
    "postfix-map-files": postfix.ENTRY,
    "write-text-file": write_text.WRITE_TEXT_FILE,  # the catch-all: last
}


def lookup(path: Sequence[str]) -> Entry | None:
    """The catalogue entry for an attribute path, or None (no safe rewrite known)."""
    return next((entry for entry in CATALOGUE.values() if entry.matches(path)), None)
