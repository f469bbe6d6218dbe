"""The semantic harness: evaluate a migrated host with ``nix-instantiate --eval`` through
``tests/nix/harness/eval.nix`` (a minimal evalModules) against RECORDED declarations, and
check that every file a service opens is a string path into ``/run/secrets`` owned by the
user of the process that opens it.

nixpkgs itself is not available offline (no Debian package ships its ``lib``), so the
facts the checks need are recorded here, each with where it was read.  The table is
independent of the catalogue on purpose: it checks the catalogue.
``benchmarks/recheck_declarations.py`` re-reads every cited line in a nixpkgs checkout.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVAL = Path(__file__).resolve().parents[1] / "nix" / "harness" / "eval.nix"
NIXPKGS = "NixOS/nixpkgs"


@dataclass(frozen=True)
class Decl:
    option: str  # dotted, `*` any attribute name, `[]` any list element
    kind: str  # file | files (a list) | command ("cat <path>") | file-ref ($__file{<path>})
    reader: str  # the user of the process that opens the file; "job" = the job's `user`
    source: tuple[str, str, str, str]  # repo, commit, path, the line read there


@dataclass(frozen=True)
class RenderedAt:
    path: str  # a template rendered at a fixed path the program reads
    reader: str
    source: tuple[str, str, str, str]


W, S, A, G = "wpa_supplicant", "syncthing", "hass", "gitea"
DECLARATIONS: tuple[Decl, ...] = (
    Decl("networking.wireless.secretsFile", "file", W,
         (NIXPKGS, "00206ceb078a8572554b71f5428801be5a9753e3",
          "nixos/modules/services/networking/wpa_supplicant.nix", 'User = "wpa_supplicant";')),
    Decl("services.syncthing.guiPasswordFile", "file", S,
         (NIXPKGS, "013635633ffe11f70df1d639f563f21c42c1f778",
          "nixos/modules/services/networking/syncthing.nix", "User = cfg.user;")),
    Decl("systemd.services.*.serviceConfig.EnvironmentFile", "file", "root",
         ("systemd/systemd", "main", "man/systemd.exec.xml", "EnvironmentFile=")),
    Decl("services.prometheus.scrapeConfigs.[].authorization.credentials_file", "file",
         "prometheus",
         (NIXPKGS, "020e024506ab147265c4a5757af92da617ef2dfb",
          "nixos/modules/services/monitoring/prometheus/default.nix", "User = promUser;")),
    Decl("services.prometheus.alertmanager.environmentFile", "file", "root",
         (NIXPKGS, "01f31c2ee7d045a337dff0f858c0ed61dd0f4ddb",
          "nixos/modules/services/monitoring/prometheus/alertmanager.nix",
          "EnvironmentFile = lib.mkIf (cfg.environmentFile != null) cfg.environmentFile;")),
    Decl("services.grafana.settings.*.*", "file-ref", "grafana",
         (NIXPKGS, "00976b194fe32d3e425ff3b457eeb6e4ec7ba12c",
          "nixos/modules/services/monitoring/grafana.nix", 'User = "grafana";')),
    Decl("users.users.*.hashedPasswordFile", "file", "activation",
         ("infinixbot/nixpkgs", "3e5be43f9ceb1b21f83a2ecfb6fad50ce7e3480f",
          "nixos/modules/config/users-groups.nix",
          "The password file is read on each system activation.")),
    Decl("networking.wireguard.interfaces.*.privateKeyFile", "file", "root",
         (NIXPKGS, "0056e44b7f3674b1ab893335c312d799f6f5bae4",
          "nixos/modules/services/networking/wireguard.nix",
          'private-key "${privKey}"')),
    Decl("services.tailscale.authKeyFile", "file", "root",
         ("infinixbot/nixpkgs", "4046575e530e0574b2672e5ab29dce702d83496a",
          "nixos/modules/services/networking/tailscale.nix",
          "${cfg.package}/bin/tailscale up --auth-key 'file:${cfg.authKeyFile}'")),
    Decl("services.ddclient.passwordFile", "file", "root",
         (NIXPKGS, "013635633ffe11f70df1d639f563f21c42c1f778",
          "nixos/modules/services/networking/ddclient.nix",
          'ExecStartPre = [ "!${pkgs.writeShellScript "ddclient-prestart" preStart}" ];')),
    Decl("services.borgbackup.jobs.*.encryption.passCommand", "command", "job",
         (NIXPKGS, "0111e9547e857021a3cdab7ac5ba85707cccd654",
          "nixos/modules/services/backup/borgbackup.nix", "User = cfg.user;")),
    Decl("services.gitea.mailerPasswordFile", "file", G,
         (NIXPKGS, "0197a805bd6ac4518360c39ea37b1c7e8d238906",
          "nixos/modules/services/misc/gitea.nix",
          "${replaceSecretBin} '#mailerpass#' '${cfg.mailerPasswordFile}' '${runConfig}'")),
    Decl("services.gitea.database.passwordFile", "file", G,
         (NIXPKGS, "0197a805bd6ac4518360c39ea37b1c7e8d238906",
          "nixos/modules/services/misc/gitea.nix",
          "${replaceSecretBin} '#dbpass#' '${cfg.database.passwordFile}' '${runConfig}'")),
    Decl("services.restic.backups.*.passwordFile", "file", "job",
         (NIXPKGS, "00976b194fe32d3e425ff3b457eeb6e4ec7ba12c",
          "nixos/modules/services/backup/restic.nix", "User = backup.user;")),
    Decl("services.restic.backups.*.environmentFile", "file", "root",
         ("infinixbot/nixpkgs", "d670a89a7c00e4d171f677a3f62f6111b312a314",
          "nixos/modules/services/backup/restic.nix",
          "EnvironmentFile = backup.environmentFile;")),
    Decl("security.acme.certs.*.environmentFile", "file", "root",
         (NIXPKGS, "014d882725c6ab65982a046f110b73214c0f5e1f",
          "nixos/modules/security/acme/default.nix",
          "EnvironmentFile = mkIf useDnsOrS3 data.environmentFile;")),
    Decl("services.cloudflared.tunnels.*.credentialsFile", "file", "root",
         (NIXPKGS, "06bf1a1a2aa648391e629b9efddd35dc63459bbc",
          "nixos/modules/services/networking/cloudflared.nix",
          '"credentials.json:${tunnel.credentialsFile}"')),
    Decl("services.nginx.virtualHosts.*.basicAuthFile", "file", "nginx",
         (NIXPKGS, "000007c122b85672b78037272c41adbbe693a1a4",
          "nixos/modules/services/web-servers/nginx/default.nix", "User = cfg.user;")),
    Decl("systemd.network.netdevs.*.wireguardConfig.PrivateKeyFile", "file", "systemd-network",
         ("systemd/systemd", "main", "man/systemd.netdev.xml", "PrivateKeyFile=")),
    Decl("services.immich.secretsFile", "file", "root",
         (NIXPKGS, "000dc781597605959296f6e477c8d6f0018521c7",
          "nixos/modules/services/web-apps/immich.nix",
          "EnvironmentFile = mkIf (cfg.secretsFile != null) cfg.secretsFile;")),
    Decl("services.paperless.environmentFile", "file", "root",
         (NIXPKGS, "013635633ffe11f70df1d639f563f21c42c1f778",
          "nixos/modules/services/misc/paperless.nix", "systemd `EnvironmentFile` format")),
    Decl("services.paperless.passwordFile", "file", "root",
         (NIXPKGS, "013635633ffe11f70df1d639f563f21c42c1f778",
          "nixos/modules/services/misc/paperless.nix",
          '"PAPERLESS_ADMIN_PASSWORD:${cfg.passwordFile}"')),
    Decl("services.gitea-actions-runner.instances.*.tokenFile", "file", "root",
         (NIXPKGS, "014d882725c6ab65982a046f110b73214c0f5e1f",
          "nixos/modules/services/continuous-integration/gitea-actions-runner.nix",
          "EnvironmentFile = instance.tokenFile;")),
    Decl("services.vaultwarden.environmentFile", "file", "root",
         (NIXPKGS, "01f31c2ee7d045a337dff0f858c0ed61dd0f4ddb",
          "nixos/modules/services/security/vaultwarden/default.nix",
          "EnvironmentFile = [ configFile ] ++ optional (cfg.environmentFile != null) "
          "cfg.environmentFile;")),
    Decl("virtualisation.oci-containers.containers.*.environmentFiles", "files", "root",
         (NIXPKGS, "035a24e7ed33009b8a503ad0b76679665b8977a8",
          "nixos/modules/virtualisation/oci-containers.nix", "--env-file")),
    Decl("services.transmission.credentialsFile", "file", "root",
         (NIXPKGS, "03060208ef081ca29b53dc3a223fa8b7666b1590",
          "nixos/modules/services/torrent/transmission.nix",
          "${pkgs.jq}/bin/jq --slurp add ${settingsFile} '${cfg.credentialsFile}'")),
    Decl("programs.msmtp.accounts.*.passwordeval", "command", "root",
         (NIXPKGS, "037a4b4e30409cc12f6a9a72c40a42db1193a385", "nixos/modules/programs/msmtp.nix",
          "setuid = false;")),
    Decl("services.mosquitto.listeners.[].users.*.passwordFile", "file", "root",
         (NIXPKGS, "0101675dad73660b4f037da356ccc5b00217b512",
          "nixos/modules/services/networking/mosquitto.nix",
          '[ "passwordFile" "hashedPasswordFile" ];')),
    Decl("services.nextcloud.config.adminpassFile", "file", "root",
         (NIXPKGS, "0019d965790afae17103d22bc94a96bac84930d2",
          "nixos/modules/services/web-apps/nextcloud.nix",
          '"adminpass:${cfg.config.adminpassFile}"')),
    Decl("services.nextcloud.config.dbpassFile", "file", "root",
         (NIXPKGS, "0019d965790afae17103d22bc94a96bac84930d2",
          "nixos/modules/services/web-apps/nextcloud.nix", "dbpassFile")),
    # mount.cifs reads the credentials= file; systemd mounts as root
    Decl("fileSystems.*.options", "file-ref", "root",
         ("piastry/cifs-utils", "8d80660f7145eea89a32b4bd37b044da988d2918", "mount.cifs.rst",
          "credentials=filename|cred=filename")),
    Decl("nix.extraOptions", "file-ref", "root",
         (NIXPKGS, "2d0f4a7ec19082248094eb04a35c93c94b1d35d5",
          "nixos/modules/config/nix.nix", "${cfg.extraOptions}")),
)  # fmt: skip

RENDERED: tuple[RenderedAt, ...] = (
    RenderedAt("/var/lib/hass/secrets.yaml", A,
               (NIXPKGS, "00b9d1f7546ba868a08651db276b2c2c5cd7f6c6",
                "nixos/modules/services/home-automation/home-assistant.nix", 'User = "hass";')),
    RenderedAt("/var/lib/zigbee2mqtt/secret.yaml", "zigbee2mqtt",
               (NIXPKGS, "05924f714f31ff83bd10ed1710638688999c3725",
                "nixos/modules/services/home-automation/zigbee2mqtt.nix",
                'User = "zigbee2mqtt";')),
)  # fmt: skip

# Defaults of the real modules that migrated code refers to (config.services.x.user, …).
DEFAULTS: tuple[tuple[str, object], ...] = (
    ("services.nginx.user", "nginx"),
    ("services.gitea.user", "gitea"),
    ("services.syncthing.user", "syncthing"),
    ("services.prometheus.listenAddress", "0.0.0.0"),
    ("services.prometheus.port", 9090),
    ("services.prometheus.alertmanager.port", 9093),
)

_PATH = re.compile(r"/run/secrets/(?:rendered/)?[^\s}\"']+")


def _split(option: str) -> list[str]:
    return option.split(".")


def evaluate(repo: Path, modules: Sequence[str], host: str, work: Path) -> dict[str, Any]:
    """The harness's view of ``host`` (its modules, repo-relative) — raises on eval errors."""
    work.mkdir(parents=True, exist_ok=True)
    table = {
        "options": [
            {"option": d.option, "path": _split(d.option), "kind": d.kind, "reader": d.reader}
            for d in DECLARATIONS
        ],
        "defaults": [{"path": _split(p), "default": v} for p, v in DEFAULTS],
    }
    (work / "declarations.json").write_text(json.dumps(table))
    paths = " ".join(f"{(repo / m).as_posix()}" for m in modules)
    expr = (
        f"import {EVAL} {{ modules = [ {paths} ]; "
        f'declarations = {work / "declarations.json"}; hostName = "{host}"; }}'
    )
    proc = subprocess.run(
        ["nix-instantiate", "--eval", "--strict", "--json", "--expr", expr],
        capture_output=True,
        text=True,
        env=dict(os.environ, NIX_STATE_DIR=str(work / "state")),
    )
    if proc.returncode != 0:
        raise AssertionError(f"{host} does not evaluate: {proc.stderr.strip()[-2000:]}")
    return dict(json.loads(proc.stdout))


def problems(host: str, facts: dict[str, Any], job_users: set[str]) -> list[str]:
    """What is wrong with who can read what on ``host`` (empty: nothing)."""
    out: list[str] = []
    secrets: dict[str, Any] = facts["secrets"]
    templates: dict[str, Any] = facts["templates"]
    owner_of = {s["path"]: (s.get("owner", "root"), name) for name, s in secrets.items()}
    owner_of.update({t["path"]: (t.get("owner", "root"), name) for name, t in templates.items()})
    read: set[str] = set()
    for use in facts["uses"]:
        for value in use["found"]:
            items = value if isinstance(value, list) else [value]
            for item in items:
                if not isinstance(item, str):
                    if use["kind"] in ("file", "files"):  # a path literal, a number: wrong
                        out.append(f"{host}: {use['option']} is not a string path: {item!r}")
                    continue  # (file-ref/command: a setting that holds no reference)
                for path in _PATH.findall(item) if use["kind"] != "file" else [item]:
                    if not path.startswith("/run/secrets/"):
                        continue  # a path the user manages: not ours to check
                    if path not in owner_of:
                        out.append(f"{host}: {use['option']} = {path}: no such secret/template")
                        continue
                    owner, name = owner_of[path]
                    read.add(name)
                    want = use["reader"]
                    if want == "activation":
                        if not secrets.get(name, {}).get("neededForUsers"):
                            out.append(f"{host}: {name} is read at activation: neededForUsers")
                    elif want == "job":
                        if owner != "root" and owner not in job_users:
                            out.append(f"{host}: {name} owned by {owner}, not the job's user")
                    elif owner != want:
                        out.append(f"{host}: {name} is owned by {owner}, read by {want}")
    for rendered in RENDERED:
        for name, template in templates.items():
            if template["path"] == rendered.path:
                read.add(name)
                if template.get("owner", "root") != rendered.reader:
                    out.append(f"{host}: {name} is read by {rendered.reader}")
    for name, secret in secrets.items():
        if secret.get("mode", "0400") != "0400":
            out.append(f"{host}: {name} has mode {secret['mode']}")
        fed = any(f"<SOPS:{name}:PLACEHOLDER>" in t["content"] for t in templates.values())
        if fed:
            if secret.get("owner", "root") != "root":
                out.append(f"{host}: {name} only feeds a template, yet is owned by a user")
        elif name not in read:
            out.append(f"{host}: {name} is declared but no recorded option reads it")
    for name in templates:
        if name not in read:
            out.append(f"{host}: template {name} is declared but no recorded option reads it")
    return out
