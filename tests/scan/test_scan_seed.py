"""The user's observer and backup configuration (from the seed write-up), with fake
values where the write-up says "redacted": every secret found at the right line,
column and attribute path, nothing else."""

from __future__ import annotations

from secretkit.scan.one_file import scan_bytes
from tests.support import fake

# The seed's Alertmanager receiver and Syncthing scrape job, as written there.
OBSERVER = """\
{ config, pkgs, ... }:
{
  services.prometheus = {
    enable = true;
    port = 9001;
    alertmanager = {
      enable = true;
      port = 9093;
      configuration = {
        route = {
          receiver = "pushover";
          group_by = [
            "alertname"
            "instance"
          ];
          routes = [
            {
              receiver = "devnull";
              matchers = [ "instance=~\\"stian-dell-nixos\\"" ];
            }
          ];
        };
        receivers = [
          {
            name = "pushover";
            pushover_configs = [
              {
                token = "@TOKEN@";
                user_key = "@USER_KEY@";
                send_resolved = true;
                title = "{{ if .CommonAnnotations.summary }}{{ .CommonAnnotations.summary }}";
              }
            ];
          }
          { name = "devnull"; }
        ];
      };
    };
    scrapeConfigs = [
      {
        job_name = "node";
        static_configs = [
          {
            targets = [ "immich:9002" ];
            labels = {
              instance = "immich";
              job = "node";
            };
          }
        ];
      }
      # Scrape Syncthing's metrics endpoint directly with an API key.
      {
        job_name = "syncthing";
        metrics_path = "/metrics";
        scheme = "http";
        static_configs = [
          {
            targets = [ "syncthing:8384" ];
          }
        ];
        authorization = {
          type = "Bearer";
          credentials = "@API_KEY@";
        };
      }
    ];
  };
}
"""

BORG = """\
{ config, pkgs, ... }:
{
  services.borgbackup.jobs.immich-backup = {
    paths = [
      "/var/lib/immich"
      "/var/backup/postgresql"
    ];
    repo = "ssh://stian@offsite-vm/home/stian/immich-backup";
    encryption = {
      mode = "repokey";
      passphrase = "@PASSPHRASE@";
    };
    environment.BORG_RSH = "ssh -i /root/.ssh/id_ed25519 -o StrictHostKeyChecking=no";
    compression = "auto,lzma";
    startAt = "daily";
  };
  services.borgbackup.jobs.sync-backup.encryption = {
    mode = "repokey";
    passCommand = "cat /root/borg_passphrase";
  };
}
"""


def _fill(template: str, values: dict[str, str]) -> bytes:
    for name, value in values.items():
        template = template.replace(f"@{name}@", value)
    return template.encode()


def _where(data: bytes, value: str) -> tuple[int, int]:
    offset = data.index(value.encode())
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return line, column


def test_observer_pushover_and_syncthing() -> None:
    values = {
        "TOKEN": fake.pushover_token("seed"),
        "USER_KEY": fake.pushover_user_key("seed"),
        "API_KEY": fake.syncthing_api_key("seed"),
    }
    data = _fill(OBSERVER, values)
    findings, skipped = scan_bytes("hosts/observer/monitoring.nix", data)
    assert skipped is None
    got = {(f.rule, f.attrpath, f.line, f.column, f.secret.reveal()) for f in findings}
    receiver = "services.prometheus.alertmanager.configuration.receivers.[0].pushover_configs.[0]"
    assert got == {
        ("pushover-token", f"{receiver}.token", *_where(data, values["TOKEN"]), values["TOKEN"]),
        (
            "pushover-user-key",
            f"{receiver}.user_key",
            *_where(data, values["USER_KEY"]),
            values["USER_KEY"],
        ),
        (
            "syncthing-api-key",
            "services.prometheus.scrapeConfigs.[1].authorization.credentials",
            *_where(data, values["API_KEY"]),
            values["API_KEY"],
        ),
    }
    for f in findings:
        assert data[f.start : f.end] == f.secret.reveal().encode()
        assert f.severity == "high"
        assert (f.end_line, f.end_column) == (f.line, f.column + len(f.secret))


def test_borg_passphrase_and_command_reference() -> None:
    phrase = fake.passphrase("seed")
    data = _fill(BORG, {"PASSPHRASE": phrase})
    findings, _ = scan_bytes("hosts/immich/default.nix", data)
    assert [(f.rule, f.kind, f.attrpath, f.line, f.column) for f in findings] == [
        (
            "secret-attribute",
            "passphrase",
            "services.borgbackup.jobs.immich-backup.encryption.passphrase",
            *_where(data, phrase),
        )
    ]
    assert findings[0].preview == phrase[:4] + "…"


def test_seed_placeholders_are_not_findings() -> None:
    """The write-up itself says "redacted": nothing to report."""
    data = _fill(OBSERVER, {"TOKEN": "redacted", "USER_KEY": "redacted", "API_KEY": "redacted"})
    findings, _ = scan_bytes("monitoring.nix", data)
    assert findings == []


def test_passcommand_echo_of_a_literal() -> None:
    phrase = fake.passphrase("echo")
    data = BORG.replace("cat /root/borg_passphrase", f"echo {phrase}").replace(
        "@PASSPHRASE@", "${config.sops.placeholder.x}"
    )
    findings, _ = scan_bytes("x.nix", data.encode())
    assert [(f.rule, f.attrpath) for f in findings] == [
        ("command-secret", "services.borgbackup.jobs.sync-backup.encryption.passCommand")
    ]
    assert findings[0].secret.reveal() == phrase


def test_etc_text_read_as_password_file() -> None:
    secret = fake.password("etc")
    data = f"""{{
  environment.etc."ddclient-pass".text = ''
    {secret}
  '';
  services.ddclient.passwordFile = "/etc/ddclient-pass";
  environment.etc."motd".text = "welcome";
}}
""".encode()
    findings, _ = scan_bytes("x.nix", data)
    assert [(f.rule, f.attrpath, f.secret.reveal()) for f in findings] == [
        ("password-file-text", "environment.etc.ddclient-pass.text", secret)
    ]
    assert data[findings[0].start : findings[0].end] == secret.encode()


def test_escaped_value_is_resolved_and_span_is_the_source() -> None:
    data = b'{ password = "ab\\$cd-ef"; }'  # secretkit: allow
    findings, _ = scan_bytes("x.nix", data)
    assert len(findings) == 1
    assert findings[0].secret.reveal() == "ab$cd-ef"
    assert data[findings[0].start : findings[0].end] == b"ab\\$cd-ef"


def test_attribute_names_that_are_not_identifiers_are_quoted_in_the_attrpath() -> None:
    psk = fake.password("wifi")
    password = fake.password("nginx")
    source = (
        "{\n"
        f'  networking.wireless.networks."Home Wifi".psk = "{psk}";\n'
        f'  services.nginx.virtualHosts."grafana.example.net".basicAuth.stian = "{password}";\n'
        "}\n"
    ).encode()
    findings, skipped = scan_bytes("hosts/laptop.nix", source)
    assert skipped is None
    assert sorted(f.attrpath for f in findings if f.attrpath) == [
        'networking.wireless.networks."Home Wifi".psk',
        'services.nginx.virtualHosts."grafana.example.net".basicAuth.stian',
    ]


def test_random_values_that_look_like_a_path_or_a_placeholder_are_still_secrets() -> None:
    # One WireGuard key in 64 starts with "/", and a random password may start with
    # "xXx": neither is a path or a placeholder (the demo found both by chance).
    key = "/" + fake.wireguard_private_key("slash")[1:]
    psk = "xXx" + fake.password("xxx")
    source = (
        "{\n"
        f'  networking.wireguard.interfaces.wg0.privateKey = "{key}";\n'
        f'  networking.wireless.networks.home.psk = "{psk}";\n'
        '  networking.wireless.networks.other.psk = "xxx";\n'
        '  networking.wireguard.interfaces.wg1.privateKeyFile = "/run/secrets/wg1";\n'
        "}\n"
    ).encode()
    findings, _ = scan_bytes("hosts/laptop.nix", source)
    assert sorted(f.secret.reveal() for f in findings) == sorted([key, psk])
