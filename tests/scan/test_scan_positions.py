"""Should / should-not tables for the places real NixOS configurations put secrets
beyond ``option = "literal";``: builder arguments, ``environment.etc`` files,
shell commands, keyword variants, environment attrsets, config text, URLs, password
hashes and placeholders.

Each position has rows that must fire (exact span: the value) and decoys from real
Nix idioms next to it that must stay silent.  Values are built at run time.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from secretkit.scan.nix_positions import name_kind, option_kind
from secretkit.scan.one_file import scan_bytes
from tests.support import fake

Row = tuple[str, Callable[[], str], str, str | None, str | None]


def pw(seed: str = "p") -> str:
    return fake.password("pos-" + seed)


def phrase(seed: str = "ph") -> str:
    """A diceware-like passphrase with spaces and punctuation."""
    words = fake.passphrase("pos-" + seed).split("-")
    return " ".join(words[:3]) + ", " + words[3] + "!"


def hex40() -> str:
    return fake.hex_key(20, "decoy-rev")


def ssh_pub() -> str:
    return "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + fake.chars(fake._ALNUM, 43, "pos-pub")


def age_pub() -> str:
    return "age1" + fake.chars("qpzry9x8gf2tvdw0s3jn54khce6mua7l", 58, "pos-age")


# (id, value, Nix template with @V@, rule, kind) — rule None: nothing may fire.
BUILDERS: list[Row] = [
    ("writeText-named", pw, '{ x = pkgs.writeText "restic-password" "@V@"; }',
     "secret-file-text", "password"),
    ("writeText-api-key", pw, '{ x = pkgs.writeText "api-key" "@V@\\n"; }',
     "secret-file-text", "api-key"),
    ("writeText-token-file", pw, '{ x = writeText "token" "@V@"; }', "secret-file-text", "token"),
    ("writeText-credentials", pw, '{ x = pkgs.writeText "credentials" "@V@"; }',
     "secret-file-text", "credentials"),
    ("writeText-dir-name", pw, '{ x = pkgs.writeText "restic/password.txt" "@V@"; }',
     "secret-file-text", "password"),
    ("writeText-env", pw, '{ x = pkgs.writeText "x.env" "RESTIC_PASSWORD=@V@\\n"; }',
     "command-secret", "password"),
    ("passwordFile-writeText", pw, '{ passwordFile = pkgs.writeText "x" "@V@"; }',
     "secret-file-text", "password"),
    ("toString-writeText", pw, '{ passwordFile = toString (pkgs.writeText "x" "@V@"); }',
     "secret-file-text", "password"),
    ("interpolated-writeText", pw, '{ passwordFile = "${pkgs.writeText "x" "@V@"}"; }',
     "secret-file-text", "password"),
    ("environmentFile-writeText", pw,
     '{ environmentFile = pkgs.writeText "e" "API_TOKEN=@V@"; }', "command-secret", "token"),
    ("keyFile-writeText", lambda: fake.hex_key(32, "pos-kf"),
     '{ keyFile = pkgs.writeText "k" "@V@"; }', "secret-file-text", "secret-key"),
    ("toFile", pw, '{ x = builtins.toFile "api-key" "@V@"; }', "secret-file-text", "api-key"),
    ("writeTextFile", pw, '{ x = pkgs.writeTextFile { name = "gitea-token"; text = "@V@"; }; }',
     "secret-file-text", "token"),
    ("writeShellScript-export", pw,
     "{ x = pkgs.writeShellScript \"s\" ''\n  export GITEA_TOKEN=@V@\n  run\n''; }",
     "secret-attribute", "token"),
    ("writeShellScript-flag", pw,
     "{ x = pkgs.writeShellScript \"s\" ''\n  restic --password @V@ backup\n''; }",
     "command-secret", "password"),
    ("writeShellApplication", pw,
     "{ x = pkgs.writeShellApplication { name = \"s\"; "
     "text = ''\n  export CF_API_TOKEN=@V@\n''; }; }",
     "secret-attribute", "token"),
    ("etc-text-named", pw, '{ environment.etc."restic/password".text = "@V@"; }',
     "secret-file-text", "password"),
    ("etc-source-writeText", phrase,
     '{ environment.etc."borg-passphrase".source = pkgs.writeText "bp" "@V@"; }',
     "secret-file-text", "passphrase"),
    ("passCommand-writeShellScript", phrase,
     "{ encryption.passCommand = toString (pkgs.writeShellScript \"pw\" \"echo '@V@'\"); }",
     "command-secret", "passphrase"),
    # an etc file named for nothing: its one line, or its "\n"-escaped lines, are read
    # as a config file's
    ("etc-one-line-config", pw, '{ environment.etc."z.conf".text = "password = @V@"; }',
     "secret-attribute", "password"),
    ("etc-escaped-lines", pw,
     '{ environment.etc."w.conf".text = "[auth]\\ntoken = @V@\\n"; }',
     "secret-attribute", "token"),
    # decoys
    ("etc-one-line-reference", lambda: "/run/secrets/z",
     '{ environment.etc."z.conf".text = "password_file = @V@"; }', None, None),
    ("script-named-for-a-secret", lambda: "echo hello world",
     '{ x = pkgs.writeShellScript "restic-password" "@V@"; }', None, None),
    ("writeText-config", pw, '{ x = pkgs.writeText "nginx.conf" "@V@"; }', None, None),
    ("writeText-interpolated", lambda: "${config.sops.placeholder.restic}",
     '{ x = pkgs.writeText "restic-password" "@V@"; }', None, None),
    ("writeText-reference", lambda: "/run/secrets/restic",
     '{ passwordFile = pkgs.writeText "x" "@V@"; }', None, None),
    ("writeText-marker", lambda: "@RESTIC_PASSWORD@",
     '{ passwordFile = pkgs.writeText "x" "@V@"; }', None, None),
    ("writeText-public-key", ssh_pub, '{ x = pkgs.writeText "deploy-key.pub" "@V@"; }', None,
     None),
    ("writeText-age-recipient", age_pub, '{ x = pkgs.writeText "api-key" "@V@"; }', None, None),
    ("writeText-key-id", hex40, '{ x = pkgs.writeText "gpg-key-id" "@V@"; }', None, None),
    ("etc-public-key", ssh_pub, '{ environment.etc."ssh/host_key.pub".text = "@V@"; }', None,
     None),
    ("etc-other", pw, '{ environment.etc."motd".text = "@V@"; }', None, None),
    ("writeText-store-path", lambda: "/nix/store/" + fake.chars("0123456789abcdfgh", 32, "s"),
     '{ passwordFile = pkgs.writeText "x" "@V@"; }', None, None),
]  # fmt: skip

SHELL: list[Row] = [
    ("passCommand-echo-phrase", phrase, "{ encryption.passCommand = \"echo '@V@'\"; }",
     "command-secret", "passphrase"),
    ("passCommand-echo-dq", phrase, '{ encryption.passCommand = "echo \\"@V@\\""; }',
     "command-secret", "passphrase"),
    ("passCommand-printf", phrase, "{ encryption.passCommand = \"printf '%s' '@V@'\"; }",
     "command-secret", "passphrase"),
    ("passCommand-heredoc", phrase,
     "{ encryption.passCommand = ''\n  cat <<EOF\n  @V@\n  EOF\n''; }",
     "command-secret", "passphrase"),
    ("script-echo-redirect", phrase,
     "{ script = ''\n  echo '@V@' > /run/restic-password\n''; }", "command-secret", "password"),
    ("preStart-echo-pipe", phrase,
     "{ preStart = ''\n  echo \"@V@\" | cryptsetup open /dev/sdb1 backup -\n''; }",
     "command-secret", "secret"),
    ("preStart-heredoc-file", pw,
     "{ preStart = ''\n  cat > /var/lib/app/api-token <<'EOF'\n  @V@\n  EOF\n''; }",
     "command-secret", "token"),
    ("ExecStart-flag-quoted", phrase,
     "{ serviceConfig.ExecStart = \"${pkgs.x}/bin/x --password '@V@'\"; }",
     "command-secret", "password"),
    ("ExecStartPre-docker-login", pw,
     "{ serviceConfig.ExecStartPre = \"echo @V@ | docker login --password-stdin r.lan\"; }",
     "command-secret", "secret"),
    # decoys
    ("passCommand-cat", lambda: "/run/secrets/borg", '{ encryption.passCommand = "cat @V@"; }',
     None, None),
    ("script-echo-message", phrase, "{ script = ''\n  echo '@V@'\n  run\n''; }", None, None),
    ("script-echo-variable", lambda: "$TOKEN",
     "{ script = ''\n  echo \"@V@\" > /run/token\n''; }", None, None),
    ("script-echo-command", lambda: "$(cat /run/secrets/x)",
     "{ script = ''\n  echo \"@V@\" | cryptsetup open /dev/sdb1 x -\n''; }", None, None),
    ("script-echo-placeholder", lambda: "${config.sops.placeholder.pw}",
     "{ script = ''\n  echo '@V@' > /run/pw\n''; }", None, None),
    ("script-echo-to-log", phrase, "{ script = ''\n  echo '@V@' >> /var/log/backup.log\n''; }",
     None, None),
    ("echo-prefix", lambda: "base64:",
     "{ script = ''\n  echo -n \"@V@\" > \"$out\"/app-key\n"
     "  openssl rand -base64 32 >> \"$out\"/app-key\n''; }",
     None, None),
    ("heredoc-config", pw,
     "{ script = ''\n  cat > /etc/motd <<EOF\n  @V@\n  EOF\n''; }", None, None),
    # client tools that take the password on their command line
    ("mysql-p", pw, '{ script = "mysql -uroot -p@V@ db < dump.sql"; }', "command-secret",
     "password"),
    ("mariadb-dump-p", pw, "{ script = ''\n  mariadb-dump -h db -p@V@ app > x\n''; }",
     "command-secret", "password"),
    ("smbclient-U", pw, '{ script = "smbclient //nas/s -U jdoe%@V@ -c ls"; }',
     "command-secret", "password"),
    ("mount-o-password", pw,
     '{ script = "mount -t cifs //nas/s /mnt -o username=jdoe,password=@V@,uid=1000"; }',
     "command-secret", "password"),
    ("flag-namespaced", pw, '{ extraFlags = [ "--auth.password=@V@" ]; }', "command-secret",
     "password"),
    ("flag-prefixed", pw, '{ ExecStart = "x --db-pass @V@ --verbose"; }', "command-secret",
     "password"),
    ("bind-tsig-secret", lambda: fake.hex_key(24, "tsig"),
     "{ services.bind.extraConfig = ''\n  key \"ddns\" {\n    algorithm hmac-sha256;\n"
     "    secret \"@V@\";\n  };\n''; }", "command-secret", "secret"),
    ("bind-statement-other", lambda: "/var/lib/bind/ddns.key",
     "{ services.bind.extraConfig = ''\n  include \"@V@\";\n''; }", None, None),
    ("msmtp-password", pw, "{ environment.etc.msmtprc.text = ''\n  account default\n"
     "  user jdoe\n  password @V@\n''; }", "command-secret", "password"),
    ("mbsync-Pass", pw, "{ xdg.configFile.\"isync/mbsyncrc\".text = ''\n  IMAPAccount a\n"
     "  Pass @V@\n''; }", "command-secret", "password"),
    ("pam-password", lambda: "sufficient",
     "{ security.pam.services.x.text = ''\n  password @V@ ${pam}/lib/security/pam_x.so\n''; }",
     None, None),
    ("password-store-command", lambda: "firefly.m7.rs/pi-pat", '{ cmd = "pass @V@"; }', None, None),
    ("here-string-passwd", pw,
     "{ zsh.initExtra = ''\n  alias vpn=\"openconnect --passwd-on-stdin <<< '@V@'\"\n''; }",
     "command-secret", "password"),
    ("here-string-other", pw, "{ script = ''\n  grep -q x <<< '@V@'\n''; }", None, None),
    ("weechat-set", pw,
     '{ programs.weechat.extraConfig = "/set irc.server.libera.sasl_password @V@"; }',
     "command-secret", "password"),
    ("weechat-set-secure-data", lambda: "${sec.data.libera}",
     '{ programs.weechat.extraConfig = "/set irc.server.libera.sasl_password @V@"; }', None, None),
    ("mysql-prompt", lambda: "appdb", '{ script = "mysql -u root -p @V@"; }', None, None),
    ("flag-namespaced-file", lambda: "/run/secrets/db",
     '{ ExecStart = "x --db.password-file=@V@"; }', None, None),
    ("mount-o-credentials", lambda: "/run/secrets/smb",
     '{ script = "mount -t cifs //nas/s /mnt -o credentials=@V@"; }', None, None),
]  # fmt: skip

# A secret in a quoted attribute name (published as a value is).
ATTR_NAMES: list[Row] = [
    ("let-name-given-to-password", pw,
     '{ lib, ... }: let nas = "@V@"; in { services.x.password = lib.mkDefault nas; }',
     "secret-attribute", "password"),
    ("let-name-given-to-user", pw, '{ ... }: let nas = "@V@"; in { services.x.user = nas; }',
     None, None),
    ("telegram-api-hash", lambda: fake.hex_key(16, "tg"),
     '{ services.mautrix-telegram.settings.telegram.api_hash = "@V@"; }', "secret-attribute",
     "api-key"),
    ("content-hash", lambda: fake.hex_key(16, "h"), '{ src.hash = "@V@"; }', None, None),
    ("git-insteadOf-url", pw,
     '{ git.config.url."https://oauth2:@V@@gitlab.com/".insteadOf = "https://gitlab.com/"; }',
     "url-credentials", "password"),
    ("token-as-name", fake.github_token, '{ x."@V@" = true; }', "github-token", "token"),
    ("plain-url-name", lambda: "https://gitlab.com/",
     '{ programs.git.config.url."@V@".insteadOf = "git@gitlab.com:"; }', None, None),
    ("name-with-interpolation", lambda: "${host}",
     '{ x."https://u:@V@@h/".y = 1; }', None, None),
]  # fmt: skip

# A secret that is a list element: after the flag that names it, or one of the
# assignments a string is made of (mount options, a libpq connection string).
LISTS: list[Row] = [
    ("list-flag", pw, '{ cmd = [ "--db-pass" "@V@" ]; }', "command-secret", "password"),
    ("list-flag-dotted", pw, '{ extraArgs = [ "--auth.password" "@V@" "-v" ]; }',
     "command-secret", "password"),
    ("list-flag-token", pw, '{ args = [ "-token" "@V@" ]; }', "command-secret", "token"),
    ("mount-options", pw,
     '{ fileSystems."/mnt".options = [ "username=jdoe" "password=@V@" "x-systemd.automount" ]; }',
     "secret-attribute", "password"),
    ("mount-options-csv", pw,
     '{ fileSystems."/mnt".options = [ "username=jdoe,password=@V@,uid=1000" ]; }',
     "secret-attribute", "password"),
    ("libpq-conninfo", pw, '{ services.x.database = "host=db user=app password=@V@ dbname=x"; }',
     "secret-attribute", "password"),
    # decoys
    ("list-flag-file", lambda: "/run/secrets/db", '{ cmd = [ "--password-file" "@V@" ]; }',
     None, None),
    ("list-flag-other", pw, '{ cmd = [ "--name" "@V@" ]; }', None, None),
    ("list-flag-applied", pw, '{ cmd = [ "--db-pass" (f "@V@") ]; }', None, None),
    ("mount-options-credentials", lambda: "/run/secrets/smb",
     '{ fileSystems."/mnt".options = [ "credentials=@V@" ]; }', None, None),
    ("assignments-placeholder", lambda: "${config.sops.placeholder.db}",
     '{ x = "host=db password=@V@"; }', None, None),
    ("assignments-template-marker", lambda: "<SOPS:",
     '{ check = lib.hasPrefix "password=@V@" line; }', None, None),
    ("assignments-prose", pw, '{ motd = "set password=@V@ in the file"; }', None, None),
    ("assignments-env-upper", lambda: "4",
     '{ options = [ "PASSWORD_MIN=@V@" "uid=1000" ]; }', None, None),
]  # fmt: skip

NAMES: list[Row] = [
    ("smtp_pass", pw, '{ settings.smtp_pass = "@V@"; }', "secret-attribute", "password"),
    ("SMTP_PASS", pw, '{ environment.SMTP_PASS = "@V@"; }', "secret-attribute", "password"),
    ("passwd", pw, '{ passwd = "@V@"; }', "secret-attribute", "password"),
    ("pw", pw, '{ accounts.mail.pw = "@V@"; }', "secret-attribute", "password"),
    ("ACCOUNT_KEY", pw, '{ environment.AZURE_STORAGE_ACCOUNT_KEY = "@V@"; }',
     "secret-attribute", "secret-key"),
    ("SECRET_ACCESS_KEY", pw, '{ environment.AWS_SECRET_ACCESS_KEY = "@V@"; }',
     "secret-attribute", "access-key"),
    ("X_TOKEN", pw, '{ environment.variables.HCLOUD_TOKEN = "@V@"; }', "secret-attribute",
     "token"),
    ("X_API_KEY", pw, '{ environment.variables.OPENAI_API_KEY = "@V@"; }', "secret-attribute",
     "api-key"),
    ("env-attrset-MASTER_KEY", pw,
     '{ systemd.services.meili.environment = { MEILI_MASTER_KEY = "@V@"; }; }',
     "secret-attribute", "secret-key"),
    ("env-attrset-generic-KEY", pw,
     '{ systemd.services.app.environment = { RESTIC_KEY = "@V@"; }; }', "secret-attribute",
     "secret-key"),
    # what `openssl rand -hex 20` prints, under a *_KEY name
    ("env-KEY-generated-hex", lambda: fake.hex_key(20, "pos-envkey"),
     '{ systemd.services.app.environment = { STRIPE_KEY = "@V@"; }; }', "secret-attribute",
     "secret-key"),
    ("serviceConfig-Environment", pw,
     '{ serviceConfig.Environment = [ "SENTRY_KEY=@V@" ]; }', "command-secret", "secret-key"),
    ("extraConfig-one-line", pw, '{ services.x.extraConfig = "password = @V@"; }',
     "secret-attribute", "password"),
    ("extraConfig-lines", pw,
     "{ services.x.extraConfig = ''\n  [smtp]\n  smtp_pass: @V@\n''; }", "secret-attribute",
     "password"),
    ("extraConfig-php", pw,
     "{ services.roundcube.extraConfig = ''\n  $config['smtp_pass'] = \"@V@\";\n''; }",
     "secret-attribute", "password"),
    ("url-credentials", pw, '{ repository = "rest:https://bob:@V@@backup.lan/x"; }',
     "url-credentials", "password"),
    ("netrc", pw,
     '{ environment.etc."nix/netrc".text = "machine c.lan login me password @V@"; }',
     "command-secret", "password"),
    ("dynamic-name", pw, '{ users.users.${config.me.name}.initialPassword = "@V@"; }',
     "secret-attribute", "password"),
    # decoys
    ("proxyPass", lambda: "http://127.0.0.1:8080",
     '{ locations."/".proxyPass = "@V@"; }', None, None),
    ("proxy_pass-random", pw, '{ settings.proxy_pass = "@V@"; }', None, None),
    ("smtp_pass_file", lambda: "/run/secrets/smtp", '{ smtp_pass_file = "@V@"; }', None, None),
    ("pw-placeholder", lambda: "${config.sops.placeholder.pw}", '{ pw = "@V@"; }', None, None),
    ("env-repeated-stand-in", lambda: "keykeykey",
     '{ environment.variables.APIKEY = "@V@"; }', None, None),  # (ryan4yin's openweather)
    ("GPG_KEY", hex40, '{ environment.variables.GPG_KEY = "@V@"; }', None, None),
    ("env-KEY-short", lambda: "us", '{ environment.variables.XKB_KEY = "@V@"; }', None, None),
    ("env-KEY-hash", lambda: fake.hex_key(32, "pos-envhash"),
     '{ systemd.services.x.environment.CACHE_KEY = "@V@"; }', None, None),
    ("KEY-outside-env", pw, '{ settings.SORT_KEY = "@V@"; }', None, None),
    ("extraConfig-file", lambda: "/run/secrets/x",
     '{ services.x.extraConfig = "password_file = @V@"; }', None, None),
    ("extraConfig-php-reference", lambda: "%p",
     "{ services.roundcube.extraConfig = ''\n  $config['smtp_pass'] = \"@V@\";\n''; }",
     None, None),
    ("extraConfig-sshd", lambda: "no",
     '{ services.openssh.extraConfig = "PasswordAuthentication @V@"; }', None, None),
    ("token-named-url", lambda: "https://github.com/login/oauth/access_token",
     "{ extraConfig = ''\n  'urlAccessToken' => '@V@',\n''; }", None, None),
    ("token-url-with-a-token-in-it", lambda: "https://hooks.ntfy.lan/t/" + pw("hk") + "x9Q2",
     '{ notify.token = "@V@"; }', "secret-attribute", "token"),
    ("url-no-password", lambda: "git", '{ url = "git+ssh://@V@@github.com/a/b"; }', None, None),
    ("url-interpolated", lambda: "${pass}", '{ url = "https://u:@V@@h.lan/"; }', None, None),
    ("sops-reference", lambda: "x",
     "{ environmentFile = config.sops.secrets.@V@.path; }", None, None),
    ("agenix-reference", lambda: "/run/agenix/smtp", '{ smtp_pass = "@V@"; }', None, None),
    ("secret-name", lambda: "smtp-password", '{ sops.secrets.x.key = "@V@"; }', None, None),
]  # fmt: skip


def _argon() -> str:
    return "$argon" + "2id$v=19$m=65536,t=3,p=4$" + fake.chars(fake._ALNUM, 22, "pos-s") + "$" + \
        fake.chars(fake._ALNUM, 43, "pos-h")  # fmt: skip


def _pbkdf2() -> str:
    return "$pbkdf2" + "-sha512$310000$" + fake.chars(fake._ALNUM, 22, "pos-ps") + "$" + \
        fake.chars(fake._ALNUM + "./", 86, "pos-ph")  # fmt: skip


def _scrypt() -> str:
    return "$scr" + "ypt$ln=16,r=8,p=1$" + fake.chars(fake._ALNUM, 22, "pos-ss") + "$" + \
        fake.chars(fake._ALNUM, 43, "pos-sh")  # fmt: skip


def _yescrypt() -> str:
    return "$" + "y$j9T$" + fake.chars(fake._ALNUM + "./", 22, "pos-ys") + "$" + \
        fake.chars(fake._ALNUM + "./", 43, "pos-yh")  # fmt: skip


def _bcrypt() -> str:
    return "$" + "2b$12$" + fake.chars(fake._ALNUM + "./", 53, "pos-bc")


HASHES: list[Row] = [
    ("hash-client_secret", _pbkdf2, '{ clients = [ { client_secret = "@V@"; } ]; }',
     "password-hash", "password-hash"),
    ("hash-password-argon2", _argon, '{ settings.password = "@V@"; }', "password-hash",
     "password-hash"),
    ("hash-scrypt", _scrypt, '{ admin_password = "@V@"; }', "password-hash", "password-hash"),
    ("hash-yescrypt", _yescrypt, '{ users.users.a.hashedPassword = "@V@"; }', "password-hash",
     "password-hash"),
    ("hash-bcrypt", _bcrypt, '{ basicAuth.admin = "@V@"; }', "password-hash", "password-hash"),
    ("hash-sha512crypt", fake.sha512_crypt_like, '{ initialHashedPassword = "@V@"; }',
     "password-hash", "password-hash"),
    ("hash-in-writeText", _yescrypt, '{ hashedPasswordFile = pkgs.writeText "pw" "@V@"; }',
     "password-hash", "password-hash"),
    # decoys
    ("locked-account", lambda: "!", '{ users.users.a.hashedPassword = "@V@"; }', None, None),
    ("hash-file-reference", lambda: "/run/secrets/pw",
     '{ users.users.a.hashedPasswordFile = "@V@"; }', None, None),
    ("hash-sops-placeholder", lambda: "${config.sops.placeholder.pw}",
     '{ settings.password = "@V@"; }', None, None),
    ("sri-hash", lambda: "sha256-" + fake.wireguard_private_key("pos-sri"),
     '{ src = fetchurl { hash = "@V@"; }; }', None, None),
]  # fmt: skip

PLACEHOLDERS: list[Row] = [
    ("starts-with-example", lambda: "example99" + pw("ex")[:5] + "!", '{ password = "@V@"; }',
     "secret-attribute", "password"),
    ("starts-with-changeme", lambda: "changeme" + pw("cm")[:4], '{ password = "@V@"; }',
     "secret-attribute", "password"),
    ("starts-with-dummy", lambda: "dummy4" + pw("du")[:4], '{ token = "@V@"; }',
     "secret-attribute", "token"),
    ("starts-with-your", lambda: "yourmom" + pw("yo")[:4], '{ password = "@V@"; }',
     "secret-attribute", "password"),
    ("weak-but-real", lambda: "supersecret", '{ password = "@V@"; }', "secret-attribute",
     "password"),
    # decoys
    ("changeme", lambda: "changeme", '{ password = "@V@"; }', None, None),
    ("CHANGE_ME", lambda: "CHANGE_ME", '{ password = "@V@"; }', None, None),
    ("marker", lambda: "@TOKEN@", '{ token = "@V@"; }', None, None),
    ("marker-inside", lambda: "Bearer @TOKEN@", '{ header = "@V@"; token = "@V@"; }', None,
     None),
    ("interpolation", lambda: "${secrets.pw}", '{ password = "@V@"; }', None, None),
    ("angle", lambda: "<secret>", '{ password = "@V@"; }', None, None),
    ("your-token-here", lambda: "your-api-token-here", '{ api_token = "@V@"; }', None, None),
    ("YourSecurePassword", lambda: "YourSecurePassword", '{ password = "@V@"; }', None, None),
    ("replace-me", lambda: "REPLACE_ME", '{ secret = "@V@"; }', None, None),
]  # fmt: skip

TABLES = {
    "builders": BUILDERS,
    "shell": SHELL,
    "lists": LISTS,
    "attr-names": ATTR_NAMES,
    "names": NAMES,
    "hashes": HASHES,
    "placeholders": PLACEHOLDERS,
}
ALL = [(table, *row) for table, rows in TABLES.items() for row in rows]


@pytest.mark.parametrize(
    ("table", "name", "build", "template", "rule", "kind"), ALL, ids=[f"{r[0]}:{r[1]}" for r in ALL]
)
def test_position(
    table: str,
    name: str,
    build: Callable[[], str],
    template: str,
    rule: str | None,
    kind: str | None,
) -> None:
    value = build()
    data = template.replace("@V@", value).encode()
    findings, skipped = scan_bytes("hosts/a/default.nix", data)
    assert skipped is None
    got = [(f.rule, f.kind, data[f.start : f.end]) for f in findings]
    if rule is None:
        assert got == []
    else:
        assert got == [(rule, kind, value.encode())]
        if rule == "password-hash":
            assert findings[0].severity == "low"


def test_every_table_has_rows_that_fire_and_decoys() -> None:
    for rows in TABLES.values():
        assert any(r[3] is not None for r in rows)
        assert any(r[3] is None for r in rows)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("restic-password", "password"),
        ("api-key", "api-key"),
        ("token", "token"),
        ("credentials", "credentials"),
        ("restic/password.txt", "password"),
        ("wg0.key", "secret-key"),
        ("nginx.conf", None),
        ("motd", None),
        ("gpg-key-id", None),
        ("deploy-key.pub", None),
        ("password-store.conf", None),
    ],
)
def test_file_names(name: str, kind: str | None) -> None:
    assert name_kind(name) == kind


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("passwordFile", ("password", False)),
        ("environmentFile", (None, True)),
        ("EnvironmentFile", (None, True)),
        ("keyFile", ("secret-key", False)),
        ("credentialsFile", ("credentials", False)),
        ("configFile", (None, False)),
        ("publicKeyFile", (None, False)),
        ("password", (None, False)),
    ],
)
def test_option_kinds(key: str, expected: tuple[str | None, bool]) -> None:
    assert option_kind(key) == expected
