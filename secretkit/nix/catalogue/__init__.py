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
    alertmanager,
    borgbackup,
    cloudflare_dyndns,
    ddclient,
    etc,
    github_runners,
    grafana,
    home_assistant,
    k3s,
    miniflux,
    mosquitto,
    networkmanager,
    nextcloud,
    nginx,
    nix_access_tokens,
    prometheus,
    syncthing,
    systemd_environment,
    tailscale,
    users,
    vaultwarden,
    wireguard,
    wireless,
    write_text,
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
    "write-text-file": write_text.WriteTextFile(),
}


def lookup(path: Sequence[str]) -> Entry | None:
    """The catalogue entry for an attribute path, or None (no safe rewrite known)."""
    return next((entry for entry in CATALOGUE.values() if entry.matches(path)), None)
