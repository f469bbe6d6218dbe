"""Should / should-not tables for every detector, name rule and filter.

Each row is one Nix (or other) snippet built at run time around a fake value; the
test asserts the rule that fires (or that nothing fires) and that the reported
span is exactly the value.
"""

from __future__ import annotations

import string
from collections.abc import Callable

import pytest

from secretkit.scan import filters
from secretkit.scan.detectors import DETECTORS
from secretkit.scan.one_file import scan_bytes
from tests.support import fake

Case = tuple[str, Callable[[], str], str, str | None]


def _nix(template: str, value: str) -> bytes:
    return template.replace("@V@", value).encode()


# (id, value builder, Nix template with @V@, expected rule or None)
SHOULD_FLAG: list[Case] = [
    (
        "pushover-token",
        fake.pushover_token,
        '{ receivers = [ { pushover_configs = [ { token = "@V@"; } ]; } ]; }',
        "pushover-token",
    ),
    (
        "pushover-user",
        fake.pushover_user_key,
        '{ receivers = [ { pushover_configs = [ { user_key = "@V@"; } ]; } ]; }',
        "pushover-user-key",
    ),
    (
        "pushover-env",
        fake.pushover_token,
        '{ environment.PUSHOVER_APP_TOKEN = "@V@"; }',
        "pushover-token",
    ),
    (
        "syncthing-apikey",
        fake.syncthing_api_key,
        '{ services.syncthing.settings.gui.apikey = "@V@"; }',
        "syncthing-api-key",
    ),
    (
        "syncthing-bearer",
        fake.syncthing_api_key,
        '{ scrapeConfigs = [ { job_name = "syncthing"; authorization.credentials = "@V@"; } ]; }',
        "syncthing-api-key",
    ),
    (
        "tailscale-flag",
        fake.tailscale_auth_key,
        '{ services.tailscale.extraUpFlags = [ "--authkey=@V@" ]; }',
        "tailscale-auth-key",
    ),
    ("tailscale-anywhere", fake.tailscale_auth_key, '{ x = "@V@"; }', "tailscale-auth-key"),
    ("age-secret-key", fake.age_secret_key, '{ x = "@V@"; }', "age-secret-key"),
    ("pem-openssh", lambda: fake.pem_private_key("OPENSSH"), "{ x = ''\n@V@\n''; }", "private-key"),
    ("pem-rsa", lambda: fake.pem_private_key("RSA"), "{ x = ''\n@V@\n''; }", "private-key"),
    ("pem-pkcs8", lambda: fake.pem_private_key(""), "{ x = ''\n@V@\n''; }", "private-key"),
    (
        "nix-signing-key",
        fake.nix_signing_key,
        '{ environment.etc."nix/key".text = "@V@"; }',
        "nix-signing-key",
    ),
    (
        "rclone-b2-etc-file",
        lambda: fake.password("b2"),
        "{ environment.etc.\"rclone/rclone.conf\".text = ''\n"
        "  [b2]\n  type = b2\n  key = @V@\n''; }",
        "secret-attribute",
    ),
    ("github", fake.github_token, '{ x = "@V@"; }', "github-token"),
    ("aws", fake.aws_access_key_id, '{ x = "@V@"; }', "aws-access-key"),
    ("slack", fake.slack_bot_token, '{ x = "@V@"; }', "slack-token"),
    ("stripe", fake.stripe_live_key, '{ x = "@V@"; }', "stripe-key"),
    ("password-weak", lambda: "hunter2", '{ users.users.a.password = "@V@"; }', "secret-attribute"),
    (
        "initialPassword",
        fake.password,
        '{ users.users.a.initialPassword = "@V@"; }',
        "secret-attribute",
    ),
    (
        "passphrase",
        fake.passphrase,
        '{ services.borgbackup.jobs.x.encryption.passphrase = "@V@"; }',
        "secret-attribute",
    ),
    ("psk", fake.password, '{ networking.wireless.networks."w".psk = "@V@"; }', "secret-attribute"),
    # zigbee2mqtt's network key, a list of sixteen bytes: the whole list
    (
        "network-key-bytes",
        lambda: "[ " + " ".join(str(int(fake.hex_key(1, f"nk{i}"), 16)) for i in range(16)) + " ]",
        "{ services.zigbee2mqtt.settings.advanced.network_key = @V@; }",
        "secret-attribute",
    ),
    # an attribute named Authorization: the scheme's value (Home Assistant rest_command)
    (
        "authorization-attribute",
        lambda: fake.chars(fake._ALNUM, 32, "bearer"),
        '{ services.home-assistant.config.rest_command.n.headers.Authorization = "Bearer @V@"; }',
        "command-secret",
    ),
    # a passphrase piped into gpg is one
    (
        "gpg-passphrase-fd",
        fake.password,
        "{ script = ''\n  echo \"@V@\" | gpg --batch --passphrase-fd 0 -c f\n''; }",
        "command-secret",
    ),
    # msmtp's passwordeval (a one-word command name): what it echoes is the password
    (
        "msmtp-passwordeval",
        fake.password,
        '{ programs.msmtp.accounts.default.passwordeval = "echo @V@"; }',
        "command-secret",
    ),
    # words that include "password": a passphrase, never a secret's name, under psk
    (
        "psk-words",
        fake.wordy_psk,
        '{ networking.wireless.networks."w".psk = "@V@"; }',
        "secret-attribute",
    ),
    (
        "pskRaw-hex",
        lambda: fake.hex_key(32),
        '{ networks."w".pskRaw = "@V@"; }',
        "secret-attribute",
    ),
    (
        "privateKey",
        fake.wireguard_private_key,
        '{ networking.wireguard.interfaces.wg0.privateKey = "@V@"; }',
        "secret-attribute",
    ),
    (
        "presharedKey",
        fake.wireguard_private_key,
        '{ peers = [ { presharedKey = "@V@"; } ]; }',
        "secret-attribute",
    ),
    ("secret_key", fake.password, '{ settings.security.secret_key = "@V@"; }', "secret-attribute"),
    # a `*_key` setting holding one generated token: judged as an environment's *_KEY
    (
        "suffix-key-token",
        lambda: "haed" + fake.chars(fake._ALNUM, 12, "companion") + "2U",
        '{ services.invidious.settings.invidious_companion_key = "@V@"; }',
        "secret-attribute",
    ),
    # a plain `command` echoing one generated token is still one
    (
        "bare-command-echo-token",
        lambda: "Zq8v" + fake.chars(fake._ALNUM, 20, "cmd") + "7",
        '{ x.command = "echo @V@"; }',
        "command-secret",
    ),
    # a bare `key` holding one generated token: homepage's widgets (Sonarr's 32 hex), a
    # B2 application key in some program's settings
    (
        "bare-key-hex",
        lambda: fake.hex_key(16, "sonarr"),
        '{ services.homepage-dashboard.services = [ { Sonarr.widget = { type = "sonarr";'
        ' key = "@V@"; }; } ]; }',
        "secret-attribute",
    ),
    (
        "bare-key-token",
        lambda: "K001" + fake.chars(fake._ALNUM, 27, "ok"),
        '{ services.foo.settings = { key = "@V@"; }; }',
        "secret-attribute",
    ),
    ("client_secret", fake.password, '{ oidc.client_secret = "@V@"; }', "secret-attribute"),
    ("bot_token", fake.password, '{ bot_token = "@V@"; }', "secret-attribute"),
    ("auth_token", fake.password, '{ auth_token = "@V@"; }', "secret-attribute"),
    ("apiKey", fake.password, '{ apiKey = "@V@"; }', "secret-attribute"),
    ("api_key", fake.password, '{ api_key = "@V@"; }', "secret-attribute"),
    ("network_key", fake.password, '{ zigbee.network_key = "@V@"; }', "secret-attribute"),
    ("ADMIN_TOKEN", fake.password, '{ environment.ADMIN_TOKEN = "@V@"; }', "secret-attribute"),
    ("X_PASSWORD", fake.password, '{ environment.DB_PASSWORD = "@V@"; }', "secret-attribute"),
    ("access-tokens", fake.password, '{ nix.settings.access-tokens = "@V@"; }', "secret-attribute"),
    ("mkDefault-wrapped", fake.password, '{ password = lib.mkDefault "@V@"; }', "secret-attribute"),
    (
        "passCommand-echo",
        fake.passphrase,
        "{ encryption.passCommand = \"echo '@V@'\"; }",
        "command-secret",
    ),
    (
        "passCommand-echo-words",
        lambda: " ".join(fake.password(f"w{i}")[:7] for i in range(6)),
        "{ encryption.passCommand = \"echo '@V@'\"; }",
        "command-secret",
    ),
    (
        "passCommand-echo-bare",
        fake.passphrase,
        '{ encryption.passCommand = "echo @V@"; }',
        "command-secret",
    ),
    ("password-flag", fake.password, '{ ExecStart = "x --password=@V@ --v"; }', "command-secret"),
    (
        "sshpass-p",
        fake.password,
        "{ matchBlocks.nas.proxyCommand = \"sshpass -p '@V@' ssh -W %h:%p jump\"; }",
        "command-secret",
    ),
    (
        "sql-password",
        fake.password,
        "{ initialScript = \"CREATE ROLE a LOGIN PASSWORD '@V@';\"; }",
        "command-secret",
    ),
    (
        "url-credentials",
        fake.password,
        '{ url = "postgres://user:@V@@db.lan/x"; }',
        "url-credentials",
    ),
    (
        "discord-webhook",
        lambda: fake.chars(fake._ALNUM + "_-", 68, "dw"),
        '{ url = "https://discord.com/api/webhooks/123456789012345678/@V@"; }',
        "discord-webhook",
    ),
    (
        "healthchecks-ping-url",
        lambda: "-".join(fake.chars(_HEX, n, f"hc{n}") for n in (8, 4, 4, 4, 12)),
        "{ script = ''\n  curl -fsS -m 10 --retry 5 https://hc-ping.com/@V@/fail\n''; }",
        "healthchecks-ping-url",
    ),
    (
        "healthchecks-slug-url",
        lambda: fake.chars(fake._ALNUM + "_-", 22, "hcslug"),
        '{ backups.b.backupCleanupCommand = "curl https://hc-ping.com/@V@/nas-backup"; }',
        "healthchecks-ping-url",
    ),
    (
        "telegram-bot-url",
        lambda: "1234567890:AA" + fake.chars(fake._ALNUM + "_-", 33, "tu"),
        "{ script = ''\n  curl -s https://api.telegram.org/bot@V@/sendMessage -d chat_id=1\n''; }",
        "telegram-bot-token",
    ),
    (
        "openai-api-key",
        lambda: "sk-proj-" + fake.chars(fake._ALNUM + "_-", 48, "oa"),
        '{ x = "@V@"; }',
        "openai-api-key",
    ),
    (
        "anthropic-api-key",
        lambda: "sk-ant-api03-" + fake.chars(fake._ALNUM + "_-", 95, "an"),
        '{ x = "@V@"; }',
        "anthropic-api-key",
    ),
    (
        "openvpn-credentials",
        fake.password,
        "{ services.openvpn.servers.x.config = ''\n  <auth-user-pass>\n  jdoe\n  @V@\n"
        "  </auth-user-pass>\n''; }",
        "openvpn-credentials",
    ),
    (
        "script-env-inline",
        fake.password,
        "{ script = ''\n  RESTIC_PASSWORD=@V@ restic backup\n''; }",
        "command-secret",
    ),
    (
        "script-env",
        fake.password,
        "{ script = ''\n  export RESTIC_PASSWORD=@V@\n''; }",
        "secret-attribute",
    ),
    (
        "password-hash",
        fake.sha512_crypt_like,
        '{ users.users.a.hashedPassword = "@V@"; }',
        "password-hash",
    ),
    # commented out: still in the file, judged as the binding would be
    ("commented-out", fake.password, '{\n  # password = "@V@";\n}', "secret-attribute"),
    ("commented-out-block", fake.password, '{\n  /* x.token = "@V@"; */\n}', "secret-attribute"),
    (
        "commented-out-token",
        fake.tailscale_auth_key,
        '{ # x.authKey = "@V@";\n}',
        "tailscale-auth-key",
    ),
    ("token-in-prose-comment", fake.github_token, "{ } # the old one: @V@\n", "github-token"),
    # colmena's / NixOps' deployment keys: a key's text is its content, a secret
    (
        "deployment-key-text",
        fake.password,
        '{ deployment.keys."db-password".text = "@V@"; }',
        "secret-file-text",
    ),
    (
        "deployment-key-text-nested",
        fake.password,
        "{ deployment.keys = { x = { text = ''\n@V@\n''; }; }; }",
        "secret-file-text",
    ),
    (
        "deployment-key-command-list",
        fake.password,
        '{ deployment.keys.x.keyCommand = [ "echo" "@V@" ]; }',
        "command-secret",
    ),
    # a wrapper taking an argument before the value
    ("mkOverride", fake.password, '{ apiToken = lib.mkOverride 90 "@V@"; }', "secret-attribute"),
    ("mkIf-cond", fake.password, '{ apiToken = lib.mkIf cfg.on "@V@"; }', "secret-attribute"),
    # credentials in a URL whose host is interpolated
    (
        "url-interpolated-host",
        fake.password,
        '{ databaseUrl = "postgres://app:@V@@${dbHost}/app"; }',
        "url-credentials",
    ),
    # defaults under a secret's name: an option's and a function argument's
    (
        "mkOption-default",
        fake.password,
        '{ options.my.apiToken = lib.mkOption { type = lib.types.str; default = "@V@"; }; }',
        "secret-attribute",
    ),
    ("formal-default", fake.password, '{ smtpPassword ? "@V@", ... }: { }', "secret-attribute"),
    # a command written as a list
    (
        "password-command-list",
        fake.password,
        '{ accounts.email.accounts.w.passwordCommand = [ "echo" "-n" "@V@" ]; }',
        "command-secret",
    ),
    # systemd's Environment as one string of assignments
    (
        "systemd-environment-string",
        fake.password,
        '{ systemd.services.x.serviceConfig.Environment = "GOTIFY_TOKEN=@V@"; }',
        "command-secret",
    ),
    # JSON written on one line in a Nix string
    (
        "json-one-line-etc",
        fake.password,
        """{ environment.etc."a.json".text = ''{"password": "@V@"}''; }""",
        "secret-attribute",
    ),
]

_HEX = "0123456789abcdef"


def _discord() -> str:
    return (
        "M" + fake.chars(fake._ALNUM, 23, "d1") + "." + fake.chars(fake._ALNUM, 6, "d2") + "."
        + fake.chars(fake._ALNUM, 27, "d3")
    )  # fmt: skip


SHOULD_FLAG += [
    ("discord", _discord, '{ x = "@V@"; }', "discord-bot-token"),
    ("twilio", lambda: "AC" + fake.chars(_HEX, 32, "tw"), '{ x = "@V@"; }', "twilio-key"),
    ("mailchimp", lambda: fake.chars(_HEX, 32, "mc") + "-us12", '{ x = "@V@"; }',
     "mailchimp-key"),
    ("telegram", lambda: "1234567890:AA" + fake.chars(fake._ALNUM, 33, "tg"), '{ x = "@V@"; }',
     "telegram-bot-token"),
    ("gitlab", lambda: "glpat-" + fake.chars(fake._ALNUM, 20, "gl"), '{ x = "@V@"; }',
     "gitlab-token"),
    ("sendgrid", lambda: "SG." + fake.chars(fake._ALNUM, 22, "sg1") + "."
     + fake.chars(fake._ALNUM, 43, "sg2"), '{ x = "@V@"; }', "sendgrid-key"),
    ("echo-into-passwd-stdin", fake.password,
     "{ script = ''\n  echo '@V@' | passwd --stdin root\n''; }", "command-secret"),
    ("echo-into-a-token-file", fake.password,
     "{ script = ''\n  echo '@V@' > /etc/app/token\n''; }", "command-secret"),
    # a NAME=value line written to a file: its name says what it is, whatever the file
    ("echo-named-assignment", fake.password,
     "{ script = ''\n  echo 'DB_PASSWORD=@V@' > /run/app.env\n''; }", "command-secret"),
    # credentials a request carries: headers and query strings
    ("bearer-header", fake.password,
     "{ script = ''\n  curl -H \"Authorization: Bearer @V@\" https://h/x\n''; }", "command-secret"),
    ("nginx-authorization", fake.password,
     "{ extraConfig = ''\n  proxy_set_header Authorization \"Basic @V@\";\n''; }",
     "command-secret"),
    ("api-key-header", fake.password,
     "{ script = ''\n  curl -H 'X-Api-Key: @V@' http://sonarr.lan/api\n''; }", "command-secret"),
    ("query-token", fake.password, '{ url = "https://h/hook?access_token=@V@&x=1"; }',
     "command-secret"),
    # tokens with a vendor's prefix, under any name
    ("digitalocean-token", lambda: "dop_v1_" + fake.hex_key(32),
     '{ services.x.settings.value = "@V@"; }', "digitalocean-token"),
    ("docker-hub-token", lambda: "dckr_pat_" + fake.chars(fake._ALNUM, 25, "dh") + "a1",
     '{ services.x.settings.value = "@V@"; }', "docker-hub-token"),
    ("grafana-service-account-token",
     lambda: "glsa_" + fake.chars(fake._ALNUM, 30, "gf") + "a1_" + fake.hex_key(4),
     '{ services.x.settings.value = "@V@"; }', "grafana-service-account-token"),
    # a form field a request sends: its name decides
    ("curl-form-token", fake.password,
     "{ script = ''\n  curl -sS -d \"token=@V@\" https://h/api\n''; }", "command-secret"),
    ("curl-form-password", fake.password,
     "{ script = ''\n  curl -F password=@V@ -F user=me https://h/api\n''; }", "command-secret"),
    ("wget-post-data-api-key", fake.password,
     "{ script = ''\n  wget --post-data='api_key=@V@&x=1' https://h/api\n''; }",
     "command-secret"),
    # Redis before ACLs has no users: the password follows an empty user
    ("url-empty-user", fake.password,
     '{ services.x.settings.redisUrl = "redis://:@V@@localhost:6379/0"; }', "url-credentials"),
    # names of secrets in one word (redis.conf) or two (geoipupdate's LicenseKey)
    ("redis-requirepass", fake.password,
     '{ services.redis.servers.x.settings.requirepass = "@V@"; }', "secret-attribute"),
    ("redis-masterauth", fake.password,
     '{ services.redis.servers.x.settings.masterauth = "@V@"; }', "secret-attribute"),
    ("geoip-license-key", fake.password,
     '{ services.geoipupdate.settings.LicenseKey = "@V@"; }', "secret-attribute"),
    # a builder's file bound to a name that a secret's file option is then given
    ("let-bound-builder-file", fake.password,
     'let f = pkgs.writeText "blah" "@V@"; in { services.restic.backups.x.passwordFile = f; }',
     "secret-file-text"),
]  # fmt: skip

# prefixed formats found under any name (a neutral key, a list, prose)
SHOULD_FLAG += [
    ("github-fine-grained", lambda: "github_pat_" + fake.chars(fake._ALNUM + "_", 82, "gfp"),
     '{ x = "@V@"; }', "github-fine-grained-token"),
    ("google-api-key", lambda: "AIza" + fake.chars(fake._ALNUM + "_-", 35, "gak"),
     '{ maps = [ "@V@" ]; }', "google-api-key"),
    ("npm-token", lambda: "npm_" + fake.chars(fake._ALNUM, 36, "npm"), '{ x = "@V@"; }',
     "npm-token"),
    ("huggingface-token", lambda: "hf_" + fake.chars(string.ascii_letters, 34, "hf"),
     "{ } # the token: @V@\n", "huggingface-token"),
]  # fmt: skip

# a value under a secret's name that holds a secret's word and a generated part
SHOULD_FLAG += [
    ("words-and-year", lambda: "Secret-Garden-" + fake.chars("0123456789", 4, "yr"),
     '{ a.password = "@V@"; }', "secret-attribute"),
    ("mailgun-key", lambda: "key-" + fake.hex_key(16, "mg"), '{ c.apiKey = "@V@"; }',
     "secret-attribute"),
]  # fmt: skip

# restic's rcloneConfig.key: a B2 application key (nixpkgs' example of the option)
SHOULD_FLAG += [
    ("rclone-config-key", lambda: "K001" + fake.chars(fake._ALNUM, 27, "b2"),
     '{ services.restic.backups.b.rcloneConfig = { type = "b2"; key = "@V@"; }; }',
     "secret-attribute"),
]  # fmt: skip

# htpasswd entries as strings of a configuration (helper-123: traefik's basicAuth.users)
SHOULD_FLAG += [
    ("traefik-basic-auth-apr1", fake.apr1_like,
     '{ services.traefik.dynamicConfigOptions.http.middlewares.a.basicAuth.users = '
     '[ "admin:@V@" ]; }', "password-hash"),
    ("traefik-basic-auth-sha", fake.sha1_htpasswd_like,
     '{ x.basicAuth.users = [ "legacy:@V@" ]; }', "password-hash"),
]  # fmt: skip

# Postfix's inline SASL password table (inline_table(5)): `user:password` values
SHOULD_FLAG += [
    ("postfix-inline-sasl", fake.password,
     '{ services.postfix.config.smtp_sasl_password_maps =\n'
     '    "inline:{ [smtp.example.org]:587=me@example.org:@V@ }"; }',
     "postfix-sasl-password"),
    ("postfix-inline-sasl-braced", fake.password,
     "{ services.postfix.extraConfig = ''\n  smtp_sasl_password_maps = inline:{"
     " {[a.example.org]:587 = me:@V@}, b=c:d }\n''; }",
     "postfix-sasl-password"),
]  # fmt: skip

SHOULD_NOT_FLAG: list[Case] = [
    # another inline table: a transport's next hop, not user:password
    (
        "postfix-inline-transport",
        fake.password,
        '{ services.postfix.config.transport_maps = "inline:{ example.org=smtp:@V@ }"; }',
        None,
    ),
    (
        "postfix-inline-placeholder",
        lambda: "${config.x}",
        '{ services.postfix.config.smtp_sasl_password_maps = "inline:{ h=u:@V@ }"; }',
        None,
    ),
    # form fields that hold no secret, or the shell's variable
    (
        "curl-form-other-name",
        fake.password,
        "{ script = ''\n  curl -d \"message=@V@\" https://h/api\n''; }",
        None,
    ),
    (
        "curl-form-variable",
        lambda: "$TOKEN",
        "{ script = ''\n  curl -F \"token=@V@\" https://h/api\n''; }",
        None,
    ),
    (
        "curl-form-file",
        fake.password,
        "{ script = ''\n  curl -F \"token=<@V@\" https://h/api\n''; }",
        None,
    ),
    # a builder's file bound to a name given to an option that is no secret's file
    (
        "let-bound-builder-other-file",
        lambda: "Hello from the Qx9Lm2 box",
        'let motd = pkgs.writeText "motd" "@V@"; in { environment.etc.motd.source = motd; }',
        None,
    ),
    # a default that says it is none (nixpkgs' photoprism module: initialPassword)
    (
        "default-insecure",
        lambda: "insecure",
        '{ initialPassword = mkOption { type = types.str; default = "@V@"; }; }',
        None,
    ),
    (
        "rclone-config-key-file",
        lambda: "/run/keys/" + "b2",
        '{ services.restic.backups.b.rcloneConfig.key_file = "@V@"; }',
        None,
    ),
    # linyinfeng/dotfiles: a devshell command's message, a systemd credential's path, a
    # program's own environment lookup, the nil UUID as a stand-in
    (
        "bare-command-echo-message",
        lambda: "failed to encrypt, exiting",
        '{ devshells.default.commands = [ { command = "echo \\"@V@\\""; } ]; }',
        None,
    ),
    ("bare-command-echo-word", lambda: "done", '{ x.command = "echo @V@"; }', None),
    # dnscrypt's resolver list is signed: its minisign public key (Mic92's history)
    (
        "minisign-public-key",
        lambda: "RWQf" + fake.chars(fake._ALNUM, 52, "minisign"),
        '{ services.dnscrypt-proxy2.config.sources.x.minisign_key = "@V@"; }',
        None,
    ),
    # git's user.signingKey names a key: its id, its fingerprint, an ssh public key
    (
        "git-signing-key-id",
        lambda: "3AA5C34371567BD2",
        '{ programs.git.extraConfig.user.signingKey = "@V@"; }',
        None,
    ),
    (
        "git-signing-key-ssh",
        lambda: (
            "key::ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHqT6Sx0m5gX4v3C2nL8kq7Yp1R9s6dE2fW0bJ4aZ8uV"
        ),
        '{ programs.git.extraConfig.user.signingkey = "@V@"; }',
        None,
    ),
    # `*_key`/`*Key` settings that hold no generated value (a re-check of afcf202)
    ("cache-key", lambda: "v2-abc123def456", '{ services.foo.settings.cache_key = "@V@"; }', None),
    (
        "object-key",
        lambda: "backups/db-2024-11-03.tar.zst",
        '{ services.foo.settings.objectKey = "@V@"; }',
        None,
    ),
    ("idempotency-key", lambda: "order-created-v1", '{ x.idempotencyKey = "@V@"; }', None),
    (
        "uuid-key",
        lambda: "3f6c2b1e-8a4d-4c2e-9f1a-7b5d3e2c1a0f",
        '{ services.foo.settings.uuid_key = "@V@"; }',
        None,
    ),
    # a PL/pgSQL variable named password, declared with its type (a psql heredoc)
    (
        "plpgsql-declare",
        lambda: "TEXT;",
        "{ x.script = ''\n  DO $$\n  DECLARE\n    password @V@\n  BEGIN\n''; }",
        None,
    ),
    (
        "credentials-directory",
        lambda: "$CREDENTIALS_DIRECTORY/garage_bearer_token",
        '{ scrapeConfigs = [ { bearer_token = "@V@"; } ]; }',
        None,
    ),
    ("systemd-credential-specifier", lambda: "%d/admin-password", '{ x.password = "@V@"; }', None),
    ("env-lookup", lambda: "$env(ADMIN_PASSWORD)", '{ x.initialAdminPassword = "@V@"; }', None),
    (
        "nil-uuid",
        lambda: "00000000-0000-0000-0000-000000000000",
        '{ services.foo.settings.token = "@V@"; }',
        None,
    ),
    # a bare `key` holding what is not one generated token
    ("bare-key-path", lambda: "/run/keys/wg0.key", '{ services.foo.settings.key = "@V@"; }', None),
    ("bare-key-word", lambda: "node-role-control", '{ services.foo.settings.key = "@V@"; }', None),
    (
        "bare-key-gpg-fingerprint",
        lambda: "CE707A2C17FAAC97907FF8EF2E54EA7BFE630916",
        '{ services.foo.settings.key = "@V@"; }',
        None,
    ),
    # the name of a secret, numbered: no generated part
    ("secret-name-numbered", lambda: "db-password-2", '{ x.password = "@V@"; }', None),
    # those prefixes before names, placeholders and words
    ("hf-name", lambda: "hf_" + "transformersmodelcachedirectorypa", '{ x = "@V@"; }', None),
    ("npm-name", lambda: "npm_" + "config" + "x" * 30, '{ x = "@V@"; }', None),
    ("google-placeholder", lambda: "AIza" + "X" * 35, '{ x = "@V@"; }', None),
    (
        "github-pat-longer",
        lambda: "github_pat_" + fake.chars(fake._ALNUM, 90, "gl"),
        '{ x = "@V@"; }',
        None,
    ),
    # a derivation's buildCommand prints with echo (jakehamilton/config's history)
    (
        "echo-in-build-command",
        lambda: "profile-changed-" + fake.hex_key(4, "bc"),
        '{ buildCommand = "echo \\"@V@\\"; cp -r $src $out"; }',
        None,
    ),
    # echo 'NAME=value' into a credentials file: judged by its name (a user name is not a
    # secret) and its value (a placeholder is not one): Juggeli's README showed both
    (
        "echo-user-name-line",
        fake.password,
        "{ script = ''\n  echo 'QBIT_USERNAME=@V@' > qbit-creds.env\n''; }",
        None,
    ),
    (
        "echo-placeholder-line",
        lambda: "your-password",
        "{ script = ''\n  echo 'QBIT_PASSWORD=@V@' >> qbit-creds.env\n''; }",
        None,
    ),
    ("sha256-hex", lambda: fake.hex_key(32), '{ src = fetchurl { sha256 = "@V@"; }; }', None),
    ("sri", lambda: "sha256-" + fake.wireguard_private_key(), '{ hash = "@V@"; }', None),
    (
        "vendorHash",
        lambda: "sha256-" + fake.wireguard_private_key(),
        '{ vendorHash = "@V@"; }',
        None,
    ),
    (
        "nix-base32",
        lambda: fake.chars("0123456789abcdfghijklmnpqrsvwxyz", 52, "b32"),
        '{ outputHash = "@V@"; }',
        None,
    ),
    ("git-rev", lambda: fake.hex_key(20), '{ rev = "@V@"; }', None),
    (
        "store-path",
        lambda: "/nix/store/" + fake.chars("0123456789abcdfgh", 32, "s") + "-x",
        '{ token = "@V@"; }',
        None,
    ),
    (
        "ssh-public",
        lambda: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + fake.chars(fake._ALNUM, 43, "k"),
        '{ openssh.authorizedKeys.keys = [ "@V@" ]; }',
        None,
    ),
    (
        "age-recipient",
        lambda: "age1" + fake.chars("qpzry9x8gf2tvdw0s3jn54khce6mua7l", 58, "r"),
        '{ recipients = [ "@V@" ]; }',
        None,
    ),
    (
        "wireguard-public",
        fake.wireguard_private_key,
        '{ peers = [ { publicKey = "@V@"; } ]; }',
        None,
    ),
    (
        "cache-public-key",
        fake.nix_public_key,
        '{ nix.settings.trusted-public-keys = [ "@V@" ]; }',
        None,
    ),
    (
        "syncthing-device",
        fake.syncthing_device_id,
        '{ services.syncthing.settings.devices.a.id = "@V@"; }',
        None,
    ),
    ("gpg-fingerprint", lambda: fake.hex_key(20).upper(), '{ gpg.fingerprint = "@V@"; }', None),
    (
        "sops-enc",
        lambda: "ENC[AES256_GCM,data:" + fake.wireguard_private_key() + ",type:str]",
        '{ password = "@V@"; }',
        None,
    ),
    ("sops-path", lambda: "x", "{ passwordFile = config.sops.secrets.@V@.path; }", None),
    ("passwordFile", lambda: "/run/secrets/db", '{ passwordFile = "@V@"; }', None),
    ("token_file", lambda: "/var/lib/token", '{ token_file = "@V@"; }', None),
    ("credentials_file", lambda: "/run/agenix/x", '{ credentials_file = "@V@"; }', None),
    (
        "passCommand-cat",
        lambda: "/root/borg_passphrase",
        '{ encryption.passCommand = "cat @V@"; }',
        None,
    ),
    ("grafana-file", lambda: "$__file{/run/secrets/grafana}", '{ admin_password = "@V@"; }', None),
    ("ha-secret", lambda: "!secret db_password", '{ password = "@V@"; }', None),
    ("ext-psk", lambda: "ext:psk_home", '{ networks.w.psk = "@V@"; }', None),
    ("authorization-none", lambda: "none", '{ headers.Authorization = "@V@"; }', None),
    (
        "authorization-interpolated",
        lambda: "Bearer ${token}",
        '{ headers.Authorization = "@V@"; }',
        None,
    ),
    # answers for gpg's key editor, piped: "key" there names the command, not a secret
    (
        "gpg-edit-key-answers",
        lambda: "trust\\n5\\ny\\nquit",
        "{ script = ''\n  echo -e \"@V@\" | gpg --command-fd 0 --edit-key 0123ABCD\n''; }",
        None,
    ),
    ("env-names-itself", lambda: "MONGO_PASS", '{ environment = { MONGO_PASS = "@V@"; }; }', None),
    # the documented example key, numbers of no secret's name, a list that is no byte list
    (
        "network-key-example",
        lambda: "[ 1 3 5 7 9 11 13 15 0 2 4 6 8 10 12 13 ]",
        "{ advanced.network_key = @V@; }",
        None,
    ),
    (
        "port-list",
        lambda: "[ 22 80 443 8080 9090 3000 5432 6379 ]",
        "{ allowedTCPPorts = @V@; }",
        None,
    ),
    ("big-numbers", lambda: "[ 1 2 3 4 5 6 7 300 ]", "{ network_key = @V@; }", None),
    ("healthchecks-docs", lambda: "https://hc-ping.com/", '{ url = "@V@"; }', None),
    ("healthchecks-short", lambda: "https://hc-ping.com/your-uuid-here", '{ url = "@V@"; }', None),
    # a label ending in a secret's name, no digits: an example's stand-in
    ("psk-label", lambda: "home-wifi-" + "password", '{ networks.w.psk = "@V@"; }', None),
    ("env-var", lambda: "$DB_PASSWORD", '{ password = "@V@"; }', None),
    # a command's output assigned (backticks): nothing literal to move
    (
        "backtick-assignment",
        lambda: "`cat ${config.sops.secrets.tok.path}`",
        "{ script = ''\n  TOKEN=@V@\n  curl -H \"X: $TOKEN\" https://x\n''; }",
        None,
    ),
    (
        "backtick-quoted",
        lambda: '"`cat /run/secrets/tok`"',
        "{ script = ''\n  API_TOKEN=@V@\n''; }",
        None,
    ),
    ("env-var-braces", lambda: "${DB_PASSWORD}", "{ password = ''@V@''; }", None),
    ("run-secrets", lambda: "/run/secrets/x", '{ password = "@V@"; }', None),
    ("pure-interpolation", lambda: "${config.sops.placeholder.x}", '{ password = "@V@"; }', None),
    (
        "interpolation-in-flag",
        lambda: "${config.sops.secrets.ts.path}",
        '{ extraUpFlags = [ "--authkey=@V@" ]; }',
        None,
    ),
    ("changeme", lambda: "changeme", '{ password = "@V@"; }', None),
    ("redacted", lambda: "redacted", '{ token = "@V@"; }', None),
    ("angle-placeholder", lambda: "<your token>", '{ token = "@V@"; }', None),
    ("xxx", lambda: "xxxxxxxx", '{ password = "@V@"; }', None),
    ("todo", lambda: "TODO", '{ password = "@V@"; }', None),
    ("example", lambda: "example-password", '{ password = "@V@"; }', None),
    ("commented-out-placeholder", lambda: "changeme", '{\n  # password = "@V@";\n}', None),
    ("comment-prose", fake.password, '{\n  # the password is "@V@"\n}', None),
    ("allow-comment", fake.password, '{\n  password = "@V@"; # secretkit: allow\n}', None),
    (
        "option-description",
        fake.password,
        '{ password = mkOption { description = "@V@"; }; }',
        None,
    ),
    ("pushover-outside-context", fake.pushover_token, '{ token = "ok"; name = "@V@"; }', None),
    ("syncthing-outside-context", fake.syncthing_api_key, '{ name = "@V@"; }', None),
    ("age-bad-checksum", fake.age_secret_key_bad_checksum, '{ x = "@V@"; }', None),
    (
        "pem-template",
        lambda: "-----BEGIN OPENSSH PRIVATE KEY-----\n...",
        "{ x = ''\n@V@\n''; }",
        None,
    ),
    ("locked-hash", lambda: "!", '{ hashedPassword = "@V@"; }', None),
    ("duration-token", lambda: "1 hour", '{ lifespans.access_token = "@V@"; }', None),
    ("secret-name-value", lambda: "openrouter-api-key", '{ entries.api_key = "@V@"; }', None),
    (
        "systemd-credential",
        lambda: "token:/run/keys/t",
        '{ serviceConfig.LoadCredential = [ "@V@" ]; }',
        None,
    ),
    ("password-auth-bool-like", lambda: "yes", '{ PasswordAuthentication = "@V@"; }', None),
    ("url-var-creds", lambda: "$PASS", '{ url = "https://u:@V@@host/x"; }', None),
    (
        "ipv6-token",
        lambda: "::fd87:20d6:a932:6605",
        "{ extraConfig = ''\n  [Network]\n  IPv6Token = \"@V@\"\n''; }",
        None,
    ),
    (
        "basicAuthFile",
        lambda: "/run/secrets/htpasswd",
        '{ services.nginx.virtualHosts.x.basicAuthFile = "@V@"; }',
        None,
    ),
    (
        "extraConfig-file-ref",
        lambda: "/run/secrets/db",
        "{ extraConfig = ''\n  password_file = @V@\n''; }",
        None,
    ),
    (
        "extraConfig-interpolated",
        lambda: "${config.sops.placeholder.db}",
        "{ extraConfig = ''\n  password = @V@\n''; }",
        None,
    ),
    # a line written into a server's console FIFO is a command, whatever it looks like
    (
        "echo-into-console-fifo",
        fake.password,
        "{ extraReload = ''\n  echo '@V@' > /run/minecraft-server/proxy.stdin\n''; }",
        None,
    ),
    ("message-text", lambda: "&cWrong password.", '{ wrong-password = "@V@"; }', None),
    # a hook's message of many words, echoed by a *command* option, is prose
    (
        "echoed-prose-in-a-command",
        lambda: "MODE ACTIVE. Rules: drop filler words, keep fragments short and plain; next step.",
        "{ hooks = [ { command = \"echo '@V@'\"; } ]; }",
        None,
    ),
    (
        "message-template",
        lambda: "&aYour token &7(click to copy)&a: &6{0}",
        '{ totp-token = "@V@"; }',
        None,
    ),
    ("file-reference", lambda: "{file:~/.config/api.key}", '{ apiKey = "@V@"; }', None),
    (
        "bearer-from-a-file",
        lambda: "$(cat /run/secrets/token)",
        "{ script = ''\n  curl -H \"Authorization: Bearer @V@\" https://h/x\n''; }",
        None,
    ),
    ("query-interpolated", lambda: "${TOKEN}", '{ url = "https://h/hook?token=@V@"; }', None),
    (
        "dbus-secret-portal",
        fake.password,
        '{ xdg.portal.config.common."org.freedesktop.impl.portal.Secret" = [ "@V@" ]; }',
        None,
    ),
    # the new forms' look-alikes
    ("mkOverride-plain-name", lambda: "nginx", '{ package = lib.mkOverride 90 "@V@"; }', None),
    ("mkOverride-other-name", fake.password, '{ image = lib.mkOverride 90 "@V@"; }', None),
    (
        "mkOption-default-path",
        lambda: "/run/secrets/x",
        '{ options.my.apiToken = lib.mkOption { default = "@V@"; }; }',
        None,
    ),
    (
        "mkOption-default-other-name",
        fake.password,
        '{ options.my.host = lib.mkOption { default = "@V@"; }; }',
        None,
    ),
    ("default-not-an-option", fake.password, '{ apiToken.default = "@V@"; }', None),
    (
        "sops-path-wrapped",
        lambda: "${config.sops.secrets.x.path}",
        '{ apiToken = lib.mkOverride 90 "@V@"; }',
        None,
    ),
    ("password-file-etc-concat", lambda: "x", '{ passwordFile = "/etc/" + "@V@"; }', None),
    ("password-concat-path", lambda: "x", '{ password = "/run/secrets/" + "@V@"; }', None),
    ("password-concat-call", fake.password, '{ password = "@V@" + toString x; }', None),
    (
        "sha256-concat",
        lambda: fake.hex_key(32, "sha"),
        '{ outputHash = "sha256-" + "@V@"; sha256 = "@V@" + ""; }',
        None,
    ),
    ("url-no-credentials", lambda: "app", '{ url = "postgres://@V@@${dbHost}/app"; }', None),
    ("url-user-interpolated", lambda: "${p}", '{ url = "postgres://app:@V@@${h}/app"; }', None),
    ("deployment-key-file", lambda: "./x", "{ deployment.keys.x.keyFile = @V@; }", None),
    ("deployment-key-user", lambda: "root", '{ deployment.keys.x.user = "@V@"; }', None),
    (
        "deployment-key-text-interpolated",
        lambda: "${config.x}",
        '{ deployment.keys.x.text = "@V@"; }',
        None,
    ),
    ("formal-other-name", fake.password, '{ hostName ? "@V@", ... }: { }', None),
    ("formal-password-file", lambda: "/etc/x", '{ passwordFile ? "@V@", ... }: { }', None),
    ("echo-list-not-command", fake.password, '{ args = [ "echo" "@V@" ]; }', None),
    ("password-command-pass", lambda: "mail/w", '{ passwordCommand = [ "pass" "@V@" ]; }', None),
    (
        "systemd-environment-plain",
        lambda: "/var/lib/x",
        '{ serviceConfig.Environment = "HOME=@V@ PATH=/bin"; }',
        None,
    ),
    (
        "json-one-line-other-keys",
        fake.password,
        """{ environment.etc."a.json".text = ''{"user": "@V@", "passwordFile": "/x"}''; }""",
        None,
    ),
]


# Vendor tokens with a prefix of their own (gitleaks' forms), built at run time: each is
# found under a neutral name (here and in YAML and .env files below), and its prefix
# before a body too short or a placeholder is not.
_B64 = fake._ALNUM + "+/"
_URLSAFE = fake._ALNUM + "_-"
_NEUTRAL = '{ services.x.settings.value = "@V@"; }'


_HEX = "0123456789abcdef"
_UPPER_ALNUM = string.ascii_uppercase + string.digits


def _c(alphabet: str, n: int, seed: str) -> str:
    return fake.chars(alphabet, n, "prefixed-" + seed)


# The formats of secretkit.scan.prefixed_tokens: rule, a token, and a look-alike (the
# prefix before a placeholder, or a body one character short) that is no finding.
PREFIXED_FAMILY: list[tuple[str, Callable[[], str], Callable[[], str]]] = [
    ("sentry-user-token", lambda: "sntryu_" + _c(_HEX, 64, "su"), lambda: "sntryu_" + "0" * 64),
    ("sentry-org-token",
     lambda: "sntrys_eyJpYXQiO" + _c(fake._ALNUM, 40, "so1") + "LCJyZWdpb25fdXJs"
     + _c(fake._ALNUM, 60, "so2") + "_" + _c(_B64, 43, "so3"),
     lambda: "sntrys_eyJpYXQiO" + _c(fake._ALNUM, 40, "so4") + "_" + _c(_B64, 43, "so5")),
    ("flyio-token", lambda: "fo1_" + _c(_URLSAFE, 43, "fo1"), lambda: "fo1_" + "x" * 43),
    ("flyio-macaroon", lambda: "fm2_" + _c(_B64, 140, "fm2") + "==",
     lambda: "fm2_" + _c(_B64, 60, "fm2-short")),
    ("doppler-token", lambda: "dp.pt." + _c(fake._ALNUM, 43, "dp"),
     lambda: "dp.pt." + _c(fake._ALNUM, 42, "dp-short")),
    ("postman-api-key", lambda: "PMAK-" + _c(_HEX, 24, "pm1") + "-" + _c(_HEX, 34, "pm2"),
     lambda: "PMAK-" + "x" * 24 + "-" + "x" * 34),
    ("linear-api-key", lambda: "lin_api_" + _c(fake._ALNUM, 40, "lin"),
     lambda: "lin_api_" + "X" * 40),
    ("shopify-token", lambda: "shpss_" + _c(_HEX, 32, "shp"), lambda: "shpat_" + "0" * 32),
    ("new-relic-api-key", lambda: "NRAK-" + _c(_UPPER_ALNUM, 27, "nr"),
     lambda: "NRAK-" + "X" * 27),
    ("pulumi-token", lambda: "pul-" + _c(_HEX, 40, "pul"), lambda: "pul-" + "f" * 40),
    ("prefect-token", lambda: "pnu_" + _c(fake._ALNUM, 36, "pnu"),
     lambda: "pnu_" + _c(fake._ALNUM, 30, "pnu-short")),
    ("planetscale-token", lambda: "pscale_pw_" + _c(_URLSAFE, 43, "ps"),
     lambda: "pscale_pw_" + "x" * 43),
    ("rubygems-token", lambda: "rubygems_" + _c(_HEX, 48, "rg"), lambda: "rubygems_" + "0" * 48),
    ("dynatrace-token",
     lambda: "dt0c01." + _c(_UPPER_ALNUM, 24, "dt1") + "." + _c(_UPPER_ALNUM, 64, "dt2"),
     lambda: "dt0c01." + "X" * 24 + "." + "X" * 64),
    ("databricks-token", lambda: "dapi" + _c(_HEX, 32, "dapi"), lambda: "dapi" + "0" * 32),
    ("alibaba-access-key-id", lambda: "LTAI" + _c(fake._ALNUM, 20, "ltai"),
     lambda: "LTAI" + "x" * 20),
    ("perplexity-api-key", lambda: "pplx-" + _c(fake._ALNUM, 48, "pplx"),
     lambda: "pplx-" + "x" * 48),
    ("heroku-api-key", lambda: "HRKU-AA" + _c(_URLSAFE, 58, "hrku"),
     lambda: "HRKU-AA" + "x" * 58),
    ("notion-token", lambda: "ntn_" + _c(string.digits, 11, "ntn1") + _c(fake._ALNUM, 35, "ntn2"),
     lambda: "ntn_" + "0" * 11 + "x" * 35),
    ("terraform-cloud-token",
     lambda: _c(fake._ALNUM, 14, "tf1") + ".atlasv1." + _c(_URLSAFE, 67, "tf2"),
     lambda: "x" * 14 + ".atlasv1." + "x" * 67),
    ("openshift-token", lambda: "sha256~" + _c(_URLSAFE, 43, "oc"), lambda: "sha256~" + "x" * 43),
    ("cloudflare-origin-ca-key",
     lambda: "v1.0-" + _c(_HEX, 24, "cf1") + "-" + _c(_HEX, 146, "cf2"),
     lambda: "v1.0-" + "0" * 24 + "-" + "0" * 146),
]  # fmt: skip
# (Fly.io's macaroon is its rule's second spelling)
PREFIXED_FAMILY = [
    (rule if rule != "flyio-macaroon" else "flyio-token", build, placeholder)
    for rule, build, placeholder in PREFIXED_FAMILY
]

PREFIXED_TOKENS: list[tuple[str, Callable[[], str]]] = [
    ("vault-service-token", lambda: "hvs." + fake.chars(_URLSAFE, 92, "hvs") + "aB1"),
    ("vault-batch-token", lambda: "hvb." + fake.chars(_URLSAFE, 150, "hvb") + "aB1"),
    ("1password-service-account-token",
     lambda: "ops_eyJ" + fake.chars(_B64, 300, "ops") + "aB1"),
    ("grafana-cloud-api-token", lambda: "glc_" + fake.chars(_B64, 77, "glc") + "aB1="),
    *(
        (rule, build)
        for rule, build, _placeholder in PREFIXED_FAMILY
    ),
]  # fmt: skip

PREFIXED_PLACEHOLDERS: list[tuple[str, Callable[[], str]]] = [
    ("vault-service-x", lambda: "hvs." + "x" * 95),
    ("vault-batch-short", lambda: "hvb." + fake.chars(_URLSAFE, 60, "hvb-short") + "aB1"),
    ("1password-x", lambda: "ops_eyJ" + "x" * 300),
    ("grafana-cloud-ones", lambda: "glc_" + "1" * 42 + "="),
    *((f"{rule}-look-alike-{i}", placeholder)
      for i, (rule, _build, placeholder) in enumerate(PREFIXED_FAMILY)),
]  # fmt: skip

SHOULD_FLAG += [(rule, build, _NEUTRAL, rule) for rule, build in PREFIXED_TOKENS]
SHOULD_NOT_FLAG += [(name, build, _NEUTRAL, None) for name, build in PREFIXED_PLACEHOLDERS]


def _rules(data: bytes, path: str = "hosts/a/default.nix") -> list[tuple[str, bytes]]:
    findings, skipped = scan_bytes(path, data)
    assert skipped is None
    return [(f.rule, data[f.start : f.end]) for f in findings]


@pytest.mark.parametrize(
    ("name", "build", "template", "rule"), SHOULD_FLAG, ids=[c[0] for c in SHOULD_FLAG]
)
def test_should_flag(name: str, build: Callable[[], str], template: str, rule: str) -> None:
    value = build()
    data = _nix(template, value)
    found = _rules(data)
    assert [r for r, _ in found] == [rule], found
    assert found[0][1] == value.encode()


@pytest.mark.parametrize(
    ("name", "build", "template", "rule"), SHOULD_NOT_FLAG, ids=[c[0] for c in SHOULD_NOT_FLAG]
)
def test_should_not_flag(name: str, build: Callable[[], str], template: str, rule: None) -> None:
    assert _rules(_nix(template, build())) == []


@pytest.mark.parametrize(
    ("path", "template"),
    [("config.yaml", "settings:\n  value: @V@\n"), ("app.env", "VALUE=@V@\n")],
)
@pytest.mark.parametrize(("rule", "build"), PREFIXED_TOKENS, ids=[r for r, _ in PREFIXED_TOKENS])
def test_a_prefixed_token_under_a_neutral_key_in_other_files_is_found(
    rule: str, build: Callable[[], str], path: str, template: str
) -> None:
    value = build()
    found = _rules(template.replace("@V@", value).encode(), path)
    assert found == [(rule, value.encode())], found


@pytest.mark.parametrize(
    ("name", "build"), PREFIXED_PLACEHOLDERS, ids=[n for n, _ in PREFIXED_PLACEHOLDERS]
)
def test_a_prefix_before_a_placeholder_in_other_files_is_not_found(
    name: str, build: Callable[[], str]
) -> None:
    for path, template in (
        ("config.yaml", "settings:\n  value: @V@\n"),
        ("app.env", "VALUE=@V@\n"),
    ):
        assert _rules(template.replace("@V@", build()).encode(), path) == [], path


def test_every_registered_detector_has_a_should_flag_row() -> None:
    from secretkit.scan.prefixed_tokens import RULES

    covered = {rule for *_x, rule in SHOULD_FLAG}
    for name in DETECTORS:
        expected = {"pushover-token": "pushover-token"}.get(name, name)
        if name == "prefixed-token":  # (a family: each of its rules)
            assert set(RULES) <= covered, set(RULES) - covered
            continue
        assert expected in covered, name


def test_every_prefixed_format_is_described() -> None:
    from secretkit.scan.prefixed_tokens import RULES
    from secretkit.scan.report import RULE_TEXT

    assert set(RULES) <= set(RULE_TEXT)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("password", "password"),
        ("initialPassword", "password"),
        ("admin_password", "password"),
        ("DB_PASSWORD", "password"),
        ("passphrase", "passphrase"),
        ("token", "token"),
        ("ADMIN_TOKEN", "token"),
        ("access-tokens", "token"),
        ("user_key", "user-key"),
        ("apiKey", "api-key"),
        ("apikey", "api-key"),
        ("api_key", "api-key"),
        ("psk", "psk"),
        ("pskRaw", "psk"),
        ("privateKey", "private-key"),
        ("presharedKey", "preshared-key"),
        ("secret", "secret"),
        ("secret_key", "secret-key"),
        ("client_secret", "secret"),
        ("credentials", "credentials"),
        ("network_key", "network-key"),
        ("hashedPassword", "password-hash"),
        ("initialHashedPassword", "password-hash"),
        ("passwordFile", None),
        ("password_file", None),
        ("tokenFile", None),
        ("credentialsPath", None),
        ("passCommand", None),
        ("passwordeval", None),
        ("publicKey", None),
        ("PasswordAuthentication", None),
        ("proxyPass", None),
        ("LoadCredential", None),
        ("name", None),
        ("keys", None),
        ("semantic_tokens", None),
        ("requestEncryptionCredentials", None),
        ("max_tokens", None),
        # abbreviations and names run together
        ("adminPwd", "password"),
        ("db_pwd", "password"),
        ("pwd", None),  # alone: the shell's working directory ("pwd *": "allow")
        ("api_tok", "token"),
        ("creds", "credentials"),
        ("cred", "credentials"),  # (a stranger's: cred = "…" was missed)
        ("smtp_cred", "credentials"),
        ("passcode", "password"),
        ("doorPasscode", "password"),
        ("privKey", "private-key"),
        ("preSharedKey", "preshared-key"),
        ("hmacKey", "secret-key"),
        ("rootpw", "password"),
        ("smtppass", "password"),  # git sendemail.smtppass
        ("sendemail.smtpPass", "password"),
        ("rpcsecret", "secret"),
        ("csrftoken", "token"),
        ("bypass", None),
        ("compass", None),
        ("rootpwFile", None),
        # a qualifier after the name (stage, age, number, form) does not hide it
        ("DB_PASSWORD_PROD", "password"),
        ("API_TOKEN_V2", "token"),
        ("PASSWORD2", "password"),
        ("GITHUB_TOKEN_OLD", "token"),
        ("WEBHOOK_SECRET_TEST", "secret"),
        ("passwordPlain", "password"),
        ("tokenRaw", "token"),
        ("secret_value", "secret"),
        ("dbPasswordProd", "password"),
        ("PASSWORD_FILE_OLD", None),
        ("token_url_prod", None),
        ("password_length_2", None),
        ("key_value", None),
        ("test_1", None),
        ("sortKey2", None),
        ("requirepass", "password"),
        ("masterauth", "password"),
        ("LicenseKey", "api-key"),
        ("license_key", "api-key"),
        ("licenseKeyFile", None),
    ],
)
def test_secret_names(name: str, kind: str | None) -> None:
    assert filters.secret_name(name) == kind


@pytest.mark.parametrize(
    ("path", "template", "found"),
    [
        ("zigbee2mqtt/configuration.yaml", "advanced:\n  pan_id: 6754\n  network_key: @V@\n", True),
        ("zigbee.toml", "[advanced]\nnetwork_key = @V@\n", True),
        ("zigbee2mqtt/configuration.yaml", "advanced:\n  ports: @V@\n", False),  # no secret name
    ],
)
def test_a_key_written_as_a_flow_list_of_bytes_is_found(
    path: str, template: str, found: bool
) -> None:
    """zigbee2mqtt's configuration.yaml ``network_key: [12, 201, …]`` (the YAML form of
    the Nix rule): the whole list; the documented example key stays quiet."""
    value = "[" + ", ".join(str(int(fake.hex_key(1, f"b{i}"), 16)) for i in range(16)) + "]"
    hits = _rules(template.replace("@V@", value).encode(), path)
    assert hits == ([("secret-attribute", value.encode())] if found else [])
    example = "[1, 3, 5, 7, 9, 11, 13, 15, 0, 2, 4, 6, 8, 10, 12, 13]"
    assert _rules(template.replace("@V@", example).encode(), path) == []


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("wpa_supplicant.conf", 'network={\n  ssid="home"\n  psk="@V@"\n}\n'),
        ("home.nmconnection", "[wifi-security]\nkey-mgmt=wpa-psk\npsk=@V@\n"),
    ],
)
def test_a_wordy_psk_in_a_wifi_file_is_found(path: str, text: str) -> None:
    """A passphrase of words that include "password" is not a secret's name there."""
    value = fake.wordy_psk(path)
    found = _rules(text.replace("@V@", value).encode(), path)
    assert found == [("secret-attribute", value.encode())]


@pytest.mark.parametrize(
    ("path", "text", "rule"),
    [
        ("config.yaml", "db:\n  password: @V@\n", "secret-attribute"),
        ("config.yaml", 'db:\n  password: "@V@"  # comment\n', "secret-attribute"),
        ("settings.json", '{"apiKey": "@V@"}\n', "secret-attribute"),
        ("app.toml", 'token = "@V@"\n', "secret-attribute"),
        ("app.ini", "[db]\npassword = @V@\n", "secret-attribute"),
        (".env", "export DB_PASSWORD='@V@'\n", "secret-attribute"),
        ("prod.env", "API_TOKEN=@V@\n", "secret-attribute"),
        ("run.sh", 'curl -H "x" --token "@V@" https://x\n', "command-secret"),
        # an echo filling the file an option reads (process substitution)
        ("wg.sh", 'wg set wg0 private-key <(echo "@V@")\n', "command-secret"),
        ("wg.sh", "wg set wg0 peer X preshared-key <(printf '%s' '@V@') \\\n", "command-secret"),
        ("run.sh", "tool --password=<(echo @V@)\n", "command-secret"),
        ("run.sh", 'diff <(echo "@V@") expected.txt\n', None),
        ("run.sh", 'source <(echo "@V@")\n', None),
        ("notes.md", "url: https://user:@V@@host.lan/\n", "url-credentials"),
        ("config.yaml", "password: @V@ # secretkit: allow\n", None),
        ("config.yaml", "password: ${DB_PASSWORD}\n", None),
        ("config.yaml", "password: !secret db\n", None),
        ("config.yaml", "passwordFile: /run/secrets/x\n", None),
        ("config.yaml", "# password: @V@\n", "secret-attribute"),  # commented out: still a leak
        ("settings.json", '{"password": "changeme"}\n', None),
        ("run.sh", "# export DB_PASSWORD=@V@\n", "secret-attribute"),
        ("app.py", "    connect(password=args.password, token=token)\n", None),
        ("init.el", "(defun find-weechat-password (host port)\n", None),
        ("app.py", 'client = Client(token="test-secret")\n', None),
        ("app.py", 'API_TOKEN = "@V@"\n', "secret-attribute"),
        # a YAML tag that keeps the scalar a string; a local tag names a reference
        ("plex.yml", "plex:\n  token: !!str @V@\n", "secret-attribute"),
        ("vars.yml", "db_password: !unsafe '@V@'\n", "secret-attribute"),
        ("config.yaml", "password: !env_var DB_PASSWORD\n", None),
        ("stack.yaml", "MasterUserPassword: !Ref DbPassword\n", None),
        ("vars.yml", "db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n", None),
        # shell and .env assignments in any case, judged as FOO_TOKEN= is
        ("run.sh", 'username="me"\npassword="@V@"\n', "secret-attribute"),
        ("run.sh", "  local api_token=@V@\n", "secret-attribute"),
        ("run.sh", 'password="$(pass show db)"\n', None),
        ("run.sh", "password=$(pass show db)\n", None),
        ("run.sh", 'token="$1"\n', None),
        ("run.sh", "db_pass=${DB_PASS:-}\n", None),
        ("bin/deploy", "#!/usr/bin/env bash\nauth_key=@V@ tailscale up\n", "secret-attribute"),
        ("app.env", "db_password=@V@\n", "secret-attribute"),
        (".envrc", "export restic_password=@V@\n", "secret-attribute"),
        # a file of assignments only, whatever its name: a credentials file
        ("smb-secrets", "username=jdoe\npassword=@V@\ndomain=WORKGROUP\n", "secret-attribute"),
        ("vpn/auth.txt", "# the office vpn\nuser: jdoe\npassword: @V@\n", "secret-attribute"),
        # (not read as assignments: the prose reader's, a password set with "=")
        ("notes.txt", "the password=@V@ is in sops now\nask jdoe\n", "prose-secret"),
        ("creds", "username=jdoe\npassword=\n", None),
        # a one-line file named for a secret, or kept in secrets/ (passwordFile = ./x)
        ("restic-password.txt", "@V@\n", "secret-file-text"),
        ("secrets/nas", "@V@\n", "secret-file-text"),
        # WireGuard's key files as wg(8) names them, and the public half's
        ("hosts/web/privatekey", "@V@\n", "secret-file-text"),
        ("hosts/web/wg0.privkey", "@V@\n", "secret-file-text"),
        ("wireguard/private", "@V@\n", "secret-file-text"),
        ("hosts/web/publickey", "@V@\n", None),
        # named as ciphertext, holding a plaintext line; dotfiles by their names
        ("restic-password.age", "@V@\n", "secret-file-text"),
        ("secrets/wifi.gpg", "@V@\n", "secret-file-text"),
        ("secrets/api-token.enc", "@V@\n", "secret-file-text"),
        ("wifi.gpg", "@V@\n", "secret-file-text"),  # (named as ciphertext: whatever its name)
        ("hosts/db.enc", "@V@\n", "secret-file-text"),
        (".vault_pass", "@V@\n", "secret-file-text"),
        (".borg-passphrase", "@V@\n", "secret-file-text"),
        ("secrets/restic/.password", "@V@\n", "secret-file-text"),
        ("secrets/.gitignore", "@V@\n", None),
        ("secrets/.keep", "@V@\n", None),
        ("secrets/api-token.enc", "U2FsdGVkX1@V@\n", None),  # (`openssl enc -a`)
        ("fixtures/post-body-pass.txt", "Done.\n", None),
        ("secrets/README", "Encrypted with sops, keys in .sops.yaml\n", None),
        ("secrets/motd", "Welcome to the lab, be nice\n", None),
        ("secrets/host.pub", "@V@\n", None),
        ("notes/password-policy.txt", "use a manager @V@\nand rotate yearly\n", None),
        (
            ".aws/credentials",
            "[default]\naws_access_key_id = x\naws_secret_access_key = @V@\n",
            "secret-attribute",
        ),
        (
            "notes.txt",
            "[todo]\nbuy milk and call the bank about the password = @V@ letter\n",
            "prose-secret",
        ),
        ("(commit message)", "lua-tiktoken: update version\n", None),
        # a YAML `key:` is named by the mapping holding it (ESPHome's api encryption key)
        (
            "esphome/node.yaml",
            'api:\n  encryption:\n    # the Noise key\n    key: "@V@"\n',
            "secret-attribute",
        ),
        ("app.yaml", "tls:\n  key: @V@\nsort:\n  key: @V@\n", None),
        # rclone's B2 remote: its `key` is the application key; another remote's is not
        (
            "rclone.conf",
            "[nas]\ntype = sftp\n\n[b2]\ntype = b2\naccount = 0024a8\nkey = @V@\n",
            "secret-attribute",
        ),
        ("rclone/rclone.conf", "[b2]\nkey = @V@\ntype = b2\n", "secret-attribute"),
        ("rclone.conf", "[b2]\ntype = b2\n\n[nas]\ntype = sftp\nkey = @V@\n", None),
        ("app.ini", "[cache]\nkey = @V@\n", None),
        # a comment line above a pair is not part of its key (this one names a hash)
        ("config.yaml", "# the hash is below\npassword: @V@\n", "secret-attribute"),
        ("k.yaml", "- encryption: true\n  items:\n    key: @V@\n", None),
        ("(commit message)", "pass: move overlay to overlays\n", None),
        # YAML: an anchored value (its aliases name it), a block scalar of one line
        ("config.yaml", "db:\n  password: &pw @V@\n  again: *pw\n", "secret-attribute"),
        ("config.yaml", "password: *pw\n", None),
        ("config.yaml", "password: !secret db_pw\n", None),
        ("config.yaml", "token: >-\n    @V@\nnext: 1\n", "secret-attribute"),
        ("config.yaml", "a:\n  token: |\n    @V@\n\n  b: 2\n", "secret-attribute"),
        ("config.yaml", "- token: &t |\n    @V@\n", "secret-attribute"),
        ("ci.yaml", "token: |\n  set -e\n  curl -H x @V@\n", None),
        ("vars.yml", "db_password: !vault |\n  @V@\n", None),
        ("config.yaml", "a:\n  token: |\n  b: @V@\n", None),
        # pairs inside a TOML inline table or a YAML flow mapping
        ("app.toml", 'db = { user = "app", password = "@V@" }\n', "secret-attribute"),
        ("app.toml", 'db = { user = "app", passwordFile = "/run/x" }\n', None),
        ("config.yaml", "db: { user: app, password: @V@ }\n", "secret-attribute"),
        ("config.yaml", 'db: {"user": "app", "password": "@V@"}\n', "secret-attribute"),
        ("ci.yaml", "with: { token: ${{ secrets.GH_TOKEN }} }\n", None),
        # libpq's password file: the last field; npm's registry-scoped auth keys
        (".pgpass", "db.lan:5432:*:app:@V@\n", "secret-attribute"),
        ("home/pgpass", "# the app\n*:*:*:app:@V@\n", "secret-attribute"),
        (".pgpass", "db.lan:5432:*:app:*\n", None),
        (".npmrc", "//npm.pkg.github.com/:_authToken=@V@\n", "secret-attribute"),
        (".npmrc", "registry=https://r.example/\n//r.example/:_auth=@V@\n", "secret-attribute"),
        (".npmrc", '//r.example/:_password="@V@"\n', "secret-attribute"),
        (".npmrc", "_auth = @V@\n", "secret-attribute"),
        (".npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n", None),
        (
            ".pypirc",
            "[distutils]\nindex-servers =\n    pypi\n\n[pypi]\nusername = jdoe\npassword = @V@\n",
            "secret-attribute",
        ),
        # an XML element named for a secret, holding text alone
        (
            ".m2/settings.xml",
            "<settings>\n <servers>\n  <server>\n   <id>x</id>\n   <password>@V@</password>\n",
            "secret-attribute",
        ),
        ("syncthing/config.xml", "<gui>\n    <apikey>@V@</apikey>\n</gui>\n", "secret-attribute"),
        ("app.xml", "<auth><token> @V@ </token></auth>\n", "secret-attribute"),
        ("app.xml", "<auth>\n  <password>\n    @V@\n  </password>\n</auth>\n", "secret-attribute"),
        ("app.xml", "<password>\r\n\t@V@</password>\r\n", "secret-attribute"),
        ("app.xml", "<password>\n  <!-- @V@ -->\n</password>\n", None),
        ("app.xml", "<password>\n\n  @V@\n\n</password>\n", "secret-attribute"),
        ("app.xml", "<password>\n  @V@\n  and more\n</password>\n", None),  # (not one line)
        (".m2/settings.xml", "<password>${env.PW}</password>\n", None),
        (".m2/settings.xml", "<password/>\n<password></password>\n", None),
        (".m2/settings.xml", "<password>\n  <value>@V@</value>\n</password>\n", None),
        ("app.xml", "<tokenFile>/run/secrets/x</tokenFile>\n", None),
        # postfix's main.cf: an inline SASL password table, and another inline table
        (
            "postfix/main.cf",
            "smtp_sasl_password_maps = inline:{ h:587=u:@V@ }\n",
            "postfix-sasl-password",
        ),
        ("postfix/main.cf", "transport_maps = inline:{ h=smtp:@V@ }\n", None),
    ],
)
def test_other_files_by_key_context(path: str, text: str, rule: str | None) -> None:
    value = fake.password("other-" + path)
    data = text.replace("@V@", value).encode()
    found = _rules(data, path)
    if rule is None:
        assert found == []
    else:
        assert [r for r, _ in found] == [rule], found
        assert found[0][1] == value.encode()


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("run.sh", 'password="@V@"\n'),
        ("run.sh", 'PASSWORD="@V@"\n'),
        ("run.sh", "export Db_Password=@V@\n"),
        (".env", "password=@V@\n"),
        (".env", 'PASSWORD="@V@"\n'),
        ("garage.toml", 'rpc_secret = "@V@"\n'),
        ("app.yaml", "client_secret: @V@\n"),
        # a password made with `openssl rand -hex 8/16/20/32`: a password, not a digest
        ("hosts/a/default.nix", '{ services.grafana.settings.security.admin_password = "@V@"; }'),
        ("hosts/a/default.nix", '{ services.borgbackup.jobs.x.encryption.passphrase = "@V@"; }'),
        ("datasource.json", '{ "basicAuthPassword": "@V@" }\n'),
        ("config.yaml", "db:\n  password: @V@\n"),
    ],
)
@pytest.mark.parametrize("n_bytes", [8, 16, 20, 32])
def test_a_hex_value_under_a_secret_name_is_found(path: str, template: str, n_bytes: int) -> None:
    """``openssl rand -hex N`` under a shell or .env name of any case, or a name
    saying secret or password: a secret, not a digest or key id (hashlike)."""
    value = fake.hex_key(n_bytes, "hex-" + template)
    found = _rules(template.replace("@V@", value).encode(), path)
    assert [v for _, v in found] == [value.encode()], found


@pytest.mark.parametrize(
    "template",
    [
        '{ src = fetchurl { url = "x"; sha256 = "@V@"; }; }',
        '{ programs.git.signing.key = "@V@"; }',  # a key id or fingerprint
        '{ x.rev = "@V@"; }',
    ],
)
def test_a_hex_digest_under_other_names_stays_quiet(template: str) -> None:
    for n_bytes in (8, 16, 20, 32):
        assert _rules(template.replace("@V@", fake.hex_key(n_bytes, template)).encode()) == []


def test_alphabet_placeholder_token_is_not_reported() -> None:
    sample = "gh" + "p_" + "abcdefghijklmnopqrstuvwxyzABCDEF1234"
    assert _rules(f"# oauth_token: {sample}\n".encode(), "gen-config") == []


def test_token_in_a_text_comment_is_still_reported() -> None:
    token = fake.github_token("comment")
    assert _rules(f"# old: {token}\n".encode(), "notes.sh") == [("github-token", token.encode())]


def test_pushover_in_yaml_needs_context() -> None:
    token = fake.pushover_token()
    with_ctx = f"pushover_configs:\n  - token: {token}\n".encode()
    # The key is a secret name: one finding for the whole value.
    assert _rules(with_ctx, "alertmanager.yml") == [("secret-attribute", token.encode())]
    env = f"PUSHOVER_USER_KEY={fake.pushover_user_key()}\n".encode()
    assert [r for r, _ in _rules(env, ".env")] == ["pushover-user-key"]
    without = f"name: {token}\n".encode()
    assert _rules(without, "x.yml") == []


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("ENC[AES256_GCM,data:abcd,iv:x,tag:y,type:str]", "sops ciphertext"),
        ("${config.sops.placeholder.x}", "interpolation"),
        ("$__file{/run/secrets/x}", "reference"),
        ("/run/agenix/x", "reference"),
        ("ext:foo", "reference"),
        ("changeme", "placeholder"),
        ("mysecretpassword", "placeholder"),  # polybar's sample config
        ("myapikey", "placeholder"),
        ("1 hour", "duration"),
        ("tskey-…", "placeholder"),
        ("a1b2...", "placeholder"),
        ("admin", "placeholder"),
        ("^5.0.2", "version"),
        ("#dbpass#", "placeholder"),
        ("files systemd", "nsswitch sources"),
        ("%(secret:codecov-token)s", "interpolation"),
        ("ab", "too short"),
        ("${DB_USER}:${DB_PASS}", "interpolation"),
        ("%(password)s", "interpolation"),
        ("$(cat /run/keys/x)", "interpolation"),
        ("{file:~/.config/api.key}", "reference"),
        ("{env:API_KEY}", "reference"),
        ("&cWrong password.", "message text"),
        ("\u00a7cWrong password.", "message text"),
        ("Welcome {0}, your token expires soon", "message text"),
    ],
)
def test_not_secret_reasons(value: str, reason: str) -> None:
    assert filters.not_secret(value) == reason


def test_values_are_not_secret_by_accident() -> None:
    for value in (fake.password(), fake.passphrase(), "hunter2", fake.pushover_token()):
        assert filters.not_secret(value) is None, value
    # prose marks only count with whitespace, and only at a word's start
    for value in ("&c" + fake.password(), "p&cS w0rd" + fake.password(), "{0}" + fake.password()):
        assert filters.not_secret(value) is None, value


@pytest.mark.parametrize("at", [0, 1, 2, 5])
def test_a_dollar_inside_a_password_is_its_own_character(at: int) -> None:
    """Nix expands only ``${…}``: ``G$fK…``, ``w1$Lk…``, ``$ecretPass2024`` are
    passwords.  Every "$" word was taken for a variable, and a value with fewer than
    three other letters or digits for an interpolation: scan, hook and check passed them."""
    value = fake.password("dollar")
    value = value[:at] + "$fK" + value[at:]  # ("$" then letters: a variable's start)
    assert filters.not_secret(value) is None, value.index("$")


@pytest.mark.parametrize(
    "value", ["$DB_PASS", "$password", "$dbPassword", "${SMTP_PASSWORD}", "$USER:$PASS"]
)
def test_what_is_a_variable_stays_one(value: str) -> None:
    assert filters.not_secret(value) == "interpolation"


def test_what_a_stranger_found_flagged_in_a_public_repository_is_no_secret() -> None:
    """notthebee/nix-config: yarn.lock's package ranges under names holding "token" and
    "passwd" (its fix put the whole lock file in sops), services.webdav's
    `{env}PASSWORD`, and an htpasswd line (`user:$2y$…`) reported as a secret, not as
    the password hash it is.  A token under a yarnrc's auth name is still one."""
    from secretkit.scan.one_file import scan_bytes

    lock = (
        '"@azure/msal-node@npm:^2.0.0":\n  version: 2.16.2\n  dependencies:\n'
        '    jsonwebtoken: "npm:^9.0.0"\n    parse-passwd: "npm:^1.0.0"\n'
        '    string-width-cjs: "npm:string-width@^4.2.0"\n'
    )
    assert scan_bytes("ls/yarn.lock", lock.encode())[0] == []
    token = fake.password("yarnrc")
    (found,) = scan_bytes(".yarnrc.yml", f'npmAuthToken: "{token}"\n'.encode())[0]
    assert found.secret.reveal() == token
    webdav = '{ services.webdav.settings.users = [ { password = "{env}PASSWORD"; } ]; }\n'
    assert scan_bytes("webdav.nix", webdav.encode())[0] == []
    hashed = "$2y$10$" + fake.password("htpasswd").ljust(53, "x")[:53]
    line = f'{{ x.environment.TIMETAGGER_CREDENTIALS = "test:{hashed}"; }}\n'
    (found,) = scan_bytes("timetagger.nix", line.encode())[0]
    assert (found.kind, found.severity) == ("password-hash", "low")


def test_a_generated_value_that_starts_with_a_slash_is_no_path() -> None:
    """Base64 starts with "/" one time in 64 (an AWS secret key, `/+t6…`): such values
    were taken for absolute paths in .env, YAML and Nix, so check said safe over
    them.  A file's path (lower-case directory words, dots, dashes) still is one."""
    alphabet = string.ascii_letters + string.digits
    aws = "/+" + fake.chars(alphabet + "+/", 38, "aws-secret")
    one = "/" + fake.chars(alphabet, 12, "one-name") + "7aZ"
    two = "/" + fake.chars(alphabet, 15, "k7m") + "Q1/" + fake.chars(alphabet, 16, "bpx") + "z9Y"
    for value in (aws, one, two):
        assert filters.not_secret(value) is None, value
        env = f"AWS_SECRET_ACCESS_KEY={value}\nDB_PASSWORD={value}\n"
        assert [f.secret.reveal() for f in scan_bytes("app.env", env.encode())[0]] == [value] * 2
        nix = f'{{ services.foo.password = "{value}"; }}\n'
        assert [f.secret.reveal() for f in scan_bytes("a.nix", nix.encode())[0]] == [value]
    for path in (
        "/home/Alice/Documents1",
        "/etc/ssl/private/Key1.pem",
        "/var/lib/grafana/Admin9Password",
        "/srv",
        "/persist/etc/ssh/ssh_host_ed25519_key",
    ):
        assert filters.not_secret(path) == "path", path


def test_a_short_password_set_in_a_commit_message_is_found() -> None:
    """`password=<14 characters>` and `db_password: <…>` in a commit message passed (a
    prose value had to be 16 characters); set with "=" or ":" after a password's name,
    12 do when upper and lower case and digits are all in it.  Words, names and stand-ins
    stay quiet."""
    value = fake.chars(string.ascii_lowercase, 5, "msg") + "Q7x" + "Zq8Wm2Kp"[:6]
    assert len(value) == 14
    message = f"deploy\n\nrunner creds, password={value}\ndb_password: {value}\n"
    found = scan_bytes("(commit message)", message.encode())[0]
    assert [(f.line, f.secret.reveal()) for f in found] == [(3, value), (4, value)]
    for quiet in (
        "password=hunter2hunter",
        "password: Password1234x",
        "token=Zq8Wm2KpQ7xa",
    ):
        assert scan_bytes("(commit message)", f"x\n\n{quiet}\n".encode())[0] == [], quiet
    # a person's password after a password's name, with a digit or a symbol, 12 and
    # more: found however it is written (helper-132: "root password: Sommer2019!stian")
    for said in (
        "the password is Zq8Wm2KpQ7xa",
        "root password: Sommer2019!stian",
        "**root password:** Vinter2021?kake",  # (Markdown's bold: helper-133)
    ):
        found = scan_bytes("(commit message)", f"x\n\n{said}\n".encode())[0]
        assert [f.secret.reveal() for f in found] == [said.split()[-1]], said


def test_a_settings_keyword_and_vectors_secret_reference_are_no_secrets() -> None:
    """BonusPlay/sysconf: mautrix-slack's `shared_secret = "disable"` and Vector's
    `token = "SECRET[agenix.influx_token]"` (a secret backend's reference) were
    findings."""
    for text in (
        '{ services.mautrix-slack.settings.appservice.shared_secret = "disable"; }\n',
        '{ services.vector.settings.sinks.i.token = "SECRET[agenix.influx_token]"; }\n',
    ):
        assert scan_bytes("m.nix", text.encode())[0] == [], text


def test_a_letter_that_lowers_to_two_characters_does_not_shift_positions() -> None:
    """ "\u0130" lowers to two characters: the secret words are still found where they
    are (the value is found, nothing crashes), before and after such letters."""
    from secretkit.scan.one_file import scan_bytes
    from tests.support import fake

    value = fake.password("dotted-i")
    for text in (
        "\u0130" * 10 + f'\npassword = "{value}"\n',
        "\u0130" * 40 + " x = 1\nkey",
        f'password = "{value}"\n' + "\u0130" * 40 + "\n",
    ):
        findings, _ = scan_bytes("notes.txt", text.encode())
        assert [f.secret.reveal() for f in findings] == ([value] if value in text else [])
        for f in findings:
            assert text.encode()[f.start : f.end].decode() == value


@pytest.mark.parametrize(
    "command",
    [
        "${pkgs.curl}/bin/curl -fsS -u backup:{pw} https://nas.example/api",
        "curl --user backup:{pw} https://nas.example/api",
        "curl -ubackup:{pw} https://nas.example/api",
        "curl -u 'backup:{pw}' https://nas.example/api",
    ],
)
def test_curl_basic_auth_password_is_found(command: str) -> None:
    """``curl -u user:password`` in a service's command: the password (after the first
    ':') is the finding, in Nix and in a shell script."""
    from secretkit.scan.one_file import scan_bytes
    from tests.support import fake

    pw = fake.password("curl")
    line = command.replace("{pw}", pw)
    nix = f'{{ systemd.services.ping.serviceConfig.ExecStart = "{line}"; }}\n'
    for path, text in (("ping.nix", nix), ("ping.sh", line + "\n")):
        findings, _ = scan_bytes(path, text.encode())
        assert [(f.rule, f.kind, f.secret.reveal()) for f in findings] == [
            ("command-secret", "password", pw)
        ], path


@pytest.mark.parametrize(
    "command",
    [
        "curl -u backup:$PASSWORD https://nas.example/api",
        "curl -u backup https://nas.example/api",
        "curl --user-agent app:v1 https://nas.example/api",
        "sudo -u postgres psql",
        "docker run -u 1000:1000 image",
        "libcurl -u x:notacommand",
    ],
)
def test_curl_look_alikes_are_not_findings(command: str) -> None:
    from secretkit.scan.one_file import scan_bytes

    findings, _ = scan_bytes("ping.sh", (command + "\n").encode())
    assert findings == []


def _mixed_case(value: str) -> str:
    """A Pushover key as the API documents them: case-sensitive [A-Za-z0-9]."""
    return "".join(c.upper() if i % 3 == 0 else c for i, c in enumerate(value))


@pytest.mark.parametrize("case", ["lower", "mixed"])
def test_pushover_keys_in_a_call_of_its_api_are_found(case: str) -> None:
    """``curl -F token=… -F user=… https://api.pushover.net/…`` (Pushover's own example)
    in a service script, a shell script and a JSON file: the API host says what the
    values are, as a ``pushover`` name would; ``user=`` names the user key.  An
    interpolation between the keys and the URL does not hide them."""
    token, user = fake.pushover_token("api"), fake.pushover_user_key("api")
    if case == "mixed":
        token, user = _mixed_case(token), _mixed_case(user)
    call = (
        f'curl -s -F "token={token}" -F "user={user}" '
        '-F "message=failed on ${HOST}" https://api.pushover.net/1/messages.json'
    )
    nix = "{ pkgs, ... }: { systemd.services.n.script = ''\n  " + call + "\n''; }\n"
    json_text = (
        '{"url": "https://api.pushover.net/1/messages.json", '
        f'"token": "{token}", "user": "{user}"}}\n'
    )
    for path, text in (("n.nix", nix), ("notify.sh", call + "\n"), ("n.json", json_text)):
        findings, _ = scan_bytes(path, text.encode())
        got = sorted((f.rule, f.secret.reveal()) for f in findings)
        assert got == [("pushover-token", token), ("pushover-user-key", user)], path


def test_thirty_characters_without_pushover_around_are_not_pushover_keys() -> None:
    token, user = fake.pushover_token("nohost"), fake.pushover_user_key("nohost")
    call = f'curl -s -F "id={token}" -F "group={user}" https://example.net/notify\n'
    for path, text in (("notify.sh", call), ("n.nix", f"{{ x.script = ''\n{call}''; }}\n")):
        findings, _ = scan_bytes(path, text.encode())
        assert findings == [], path


def test_docker_registry_auth_is_base64_of_user_and_password() -> None:
    import base64

    token = base64.b64encode(f"jdoe:{fake.password('docker')}".encode()).decode()
    data = f'{{"auths": {{"ghcr.io": {{"auth": "{token}"}}}}}}\n'.encode()
    assert _rules(data, ".docker/config.json") == [("secret-attribute", token.encode())]
    for decoy in ("basic", "none", base64.b64encode(b"test").decode(), "am9objo="):  # "john:"
        data = f'{{"auths": {{"ghcr.io": {{"auth": "{decoy}"}}}}}}\n'.encode()
        assert _rules(data, ".docker/config.json") == [], decoy


def test_a_passphrase_file_named_for_one_is_its_whole_line() -> None:
    phrase = " ".join(fake.passphrase("file").split("-")[:5])
    data = f"{phrase}\n".encode()
    assert _rules(data, "secrets/borg-passphrase") == [("secret-file-text", phrase.encode())]
    assert _rules(data, "secrets/motd") == []  # words only the directory calls secret


def test_a_wireguard_key_echoed_into_the_option_that_reads_it_is_found() -> None:
    """The key ends in "=": an echo's value that does is a prefix a later command
    completes, except where the echo fills the whole file an option reads."""
    key = fake.wireguard_private_key("fed")
    data = f'#!/bin/sh\nwg set wg0 private-key <(echo "{key}")\n'.encode()
    assert _rules(data, "wg.sh") == [("command-secret", key.encode())]
    assert _rules(b'#!/bin/sh\necho -n "base64:" > key.txt\n', "mk.sh") == []


def test_a_concatenation_of_literals_under_a_secret_name_reports_each_part() -> None:
    value = fake.password("concat")
    head, tail = value[:8], value[8:]
    data = f'{{ services.myapp.settings.password = "{head}" + "{tail}"; }}'.encode()
    assert _rules(data) == [
        ("secret-attribute", head.encode()),
        ("secret-attribute", tail.encode()),
    ]


def test_json_on_one_line_handed_to_from_json_is_read_pair_by_pair() -> None:
    password, key = fake.password("json-pw"), fake.password("json-key")
    data = f"""{{ x = builtins.fromJSON ''{{"password": "{password}", "apiKey": "{key}"}}''; }}"""
    assert _rules(data.encode()) == [
        ("secret-attribute", password.encode()),
        ("secret-attribute", key.encode()),
    ]


def test_a_bare_key_in_yaml_is_judged_by_its_value() -> None:
    """homepage's services.yaml gives each widget its service's API key as ``key:``
    (a stranger's Sonarr key passed check as "safe to publish"); a bare ``key:`` holding
    a path, a selector, a key binding, a word or a GPG fingerprint is no secret."""
    sonarr, immich = fake.hex_key(16, "widget-sonarr"), fake.chars(fake._ALNUM, 40, "immich")
    text = (
        "- Media:\n    - Sonarr:\n        widget:\n          type: sonarr\n"
        f"          key: {sonarr}\n    - Immich:\n        widget:\n"
        f'          key: "{immich}"\n'
        "- tolerations:\n    - key: node-role.kubernetes.io/control-plane\n"
        "    - key: /run/keys/wg0.key\n    - key: ctrl+alt+t\n"
        "    - key: CE707A2C17FAAC97907FF8EF2E54EA7BFE630916\n    - key: app\n"
    )
    found = _rules(text.encode(), "homepage/services.yaml")
    assert found == [("secret-attribute", sonarr.encode()), ("secret-attribute", immich.encode())]


def test_a_gpg_fingerprint_under_a_signing_key_in_yaml_is_no_secret() -> None:
    """`signing: key: <40 upper-case hex>` read as signing_key, a private key's name:
    it is the key's fingerprint (a re-check found it flagged); a 64-hex key there, what
    `openssl rand -hex 32` makes, is still a secret."""
    fingerprint = fake.hex_key(20, "gpg-fpr").upper()
    assert _rules(f"signing:\n  key: {fingerprint}\n".encode(), "git.yaml") == []
    generated = fake.hex_key(32, "signing-secret")
    found = _rules(f"signing:\n  key: {generated}\n".encode(), "app.yaml")
    assert [v for _r, v in found] == [generated.encode()]
