"""Secrets handed to commands on their command lines (a shell script, a Nix script or
alias, a systemd unit, fish's config, an nginx site): each row is one file built at
run time around a fake value; the value is the one finding.  The look-alikes below
(a prompt, a path, a port, a reference) stay quiet."""

from __future__ import annotations

import string

import pytest

from secretkit.scan.one_file import scan_bytes
from tests.support import fake

_ALNUM = string.ascii_letters + string.digits


def _found(path: str, text: str) -> list[tuple[str, str]]:
    findings, skipped = scan_bytes(path, text.encode())
    assert skipped is None
    return [(f.rule, f.secret.reveal()) for f in findings]


# (id, path, text with @V@ for the value)
FOUND = [
    ("docker-login-p", "login.sh", "docker login -u me -p @V@ ghcr.io\n"),
    ("docker-login-password", "login.sh", "docker login -u me --password @V@ ghcr.io\n"),
    ("podman-login-nix", "r.nix", "{ x.script = \"podman login -u me -p '@V@' quay.io\"; }\n"),
    ("redis-cli-a", "ping.sh", "redis-cli -h db -a @V@ ping\n"),
    ("mkpasswd-stdin", "hash.sh", "echo '@V@' | mkpasswd -s -m sha-512\n"),
    ("htpasswd-i", "users.sh", "echo '@V@' | htpasswd -i -c /etc/nginx/htpasswd admin\n"),
    # a flag naming a command that prints the password, given one that prints a literal
    ("restic-password-command", "b.sh", 'restic --password-command "echo @V@" backup /srv\n'),
    ("rclone-password-command", "s.sh", "rclone --password-command='echo @V@' sync a b\n"),
    # a script writing a secret into a config in place of a placeholder that names one
    ("sed-placeholder", "setup.sh", "sed -i 's/@DB_PASSWORD@/@V@/' /etc/app.conf\n"),
    ("sed-pipes", "s.nix", "{ x.preStart = ''\n  sed -i \"s|__API_TOKEN__|@V@|g\" a.yaml\n''; }\n"),
    ("sed-line", "setup.sh", "sed -e 's/^PASSWORD=.*/PASSWORD=@V@/' -i app.env\n"),
    ("mysql-single-quoted", "dump.sh", "mysqldump -uroot -p'@V@' app > app.sql\n"),
    ("mysql-double-quoted", "dump.sh", 'mysql -uroot -p"@V@" app\n'),
    ("curl-x-auth-token", "api.sh", "curl -H 'X-Auth-Token: @V@' https://api.example/v1\n"),
    ("curl-private-token", "api.sh", 'curl --header "PRIVATE-TOKEN: @V@" https://gl.example\n'),
    ("curl-x-vault-token", "api.sh", "curl -H 'X-Vault-Token: @V@' https://vault:8200/v1/x\n"),
    ("curl-x-api-token", "api.sh", "curl -H 'X-API-Token: @V@' https://api.example\n"),
    ("curl-x-gotify-key", "notify.sh", 'curl -H "X-Gotify-Key: @V@" https://push.lan/message\n'),
    ("plex-token-query", "plex.sh", "curl 'http://plex.lan:32400/library?X-Plex-Token=@V@'\n"),
    ("nginx-x-api-key", "site.conf", 'location / {\n  proxy_set_header X-Api-Key "@V@";\n}\n'),
    ("nginx-x-auth-token", "site.conf", "proxy_set_header X-Auth-Token @V@;\n"),
    ("htpasswd-b", "users.sh", "htpasswd -b /etc/nginx/htpasswd admin @V@\n"),
    ("htpasswd-nb", "users.sh", "htpasswd -nbB admin '@V@' > htpasswd\n"),
    ("openssl-k", "enc.sh", "openssl enc -aes-256-cbc -in a -out a.enc -k @V@\n"),
    ("openssl-pass", "enc.sh", "openssl enc -aes-256-cbc -in a -out a.enc -pass pass:@V@\n"),
    ("openssl-passin", "p12.sh", "openssl pkcs12 -in c.p12 -passin 'pass:@V@' -nodes\n"),
    ("7z-p", "backup.sh", "7z a -p@V@ -mhe=on backup.7z docs\n"),
    ("ldapsearch-w", "users.sh", 'ldapsearch -x -D "cn=admin,dc=lan" -w @V@ -b dc=lan\n'),
    ("ldapadd-w-nix", "ldap.nix", "{ x.script = \"ldapadd -x -D cn=admin -w '@V@' -f a\"; }\n"),
    ("mosquitto-pub-P", "sensor.sh", "mosquitto_pub -h broker -u sensor -P @V@ -t t -m 1\n"),
    ("sqlcmd-P", "db.sh", 'sqlcmd -S db -U sa -P "@V@" -Q "select 1"\n'),
    ("zip-P", "backup.sh", "zip -r -P @V@ backup.zip docs\n"),
    ("unzip-P", "restore.sh", "unzip -P '@V@' backup.zip\n"),
    ("lftp-u", "mirror.sh", "lftp -u backup,@V@ sftp://nas.lan -e 'mirror -R'\n"),
    ("nmcli-password", "wifi.sh", "nmcli dev wifi connect Home password @V@\n"),
    ("nmcli-psk", "wifi.sh", "nmcli con modify Home wifi-sec.psk '@V@'\n"),
    (
        "nmcli-add-psk",
        "wifi.sh",
        "nmcli -w 10 c add type wifi ssid Home 802-11-wireless-security.psk @V@\n",
    ),
    ("fish-set-gx", "config.fish", "set -gx HCLOUD_TOKEN @V@\n"),
    ("fish-set-x", "config.fish", "set -x GITHUB_TOKEN @V@\n"),
    ("fish-set-Ux", "config.fish", "set -Ux OPENAI_API_KEY '@V@'\n"),
    (
        "fish-shellInit",
        "home.nix",
        "{ programs.fish.shellInit = ''\n  set -gx HCLOUD_TOKEN @V@\n''; }\n",
    ),
    ("alias-prefix", "home.nix", '{ home.shellAliases.tf = "HCLOUD_TOKEN=@V@ terraform"; }\n'),
    ("systemd-environment", "app.service", "[Service]\nEnvironment=API_TOKEN=@V@\n"),
    (
        "systemd-environment-quoted",
        "override.conf",
        '[Service]\nEnvironment="LANG=C" "DB_PASSWORD=@V@"\n',
    ),
    ("docker-env-equals", "run.sh", "docker run --env=PGADMIN_DEFAULT_PASSWORD=@V@ pgadmin\n"),
    ("docker-e", "run.sh", "docker run -e PGADMIN_DEFAULT_PASSWORD=@V@ pgadmin\n"),
    (
        "compose-environment-quoted",
        "docker-compose.yml",
        'services:\n  app:\n    environment:\n      - "API_TOKEN=@V@"\n',
    ),
]


@pytest.mark.parametrize(("name", "path", "template"), FOUND, ids=[c[0] for c in FOUND])
def test_a_secret_given_to_a_command_is_found(name: str, path: str, template: str) -> None:
    value = fake.chars(_ALNUM, 24, name)
    found = _found(path, template.replace("@V@", value))
    assert [v for _rule, v in found] == [value], found


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("init.sql", "CREATE ROLE app LOGIN PASSWORD '@V@';\n"),
        ("db.nix", "{ x.initialScript = ''\n  ALTER USER app PASSWORD '@N@';\n''; }\n"),
    ],
)
def test_a_sql_password_with_a_quote_written_twice_is_found_whole(path: str, template: str) -> None:
    """SQL writes a quote inside a string twice: the password stopped at the first
    one and was missed, then copied into migrate's template as it was (a stranger's).
    The value is the text as written, which is what the statement needs back."""
    left, right = fake.chars(_ALNUM, 8, "sql-a"), fake.chars(_ALNUM, 12, "sql-b")
    written = left + "''" + right
    in_nix = left + "'" * 3 + right  # (how a Nix indented string writes two quotes)
    text = template.replace("@V@", written).replace("@N@", in_nix)
    assert [v for _rule, v in _found(path, text)] == [written]


QUIET = [
    ("password-command-cat", "b.sh", 'restic --password-command "cat /run/secrets/r" backup\n'),
    ("password-command-var", "b.sh", 'restic --password-command "echo $RESTIC_PW" backup\n'),
    ("message-command", "b.sh", 'tool --notify-command "echo backup-finished" run\n'),
    ("sed-from-a-file", "s.sh", 'sed -i "s/@DB_PASSWORD@/$(cat /run/secrets/db)/" a.conf\n'),
    ("sed-variable", "s.sh", 'sed -i "s/@PASSWORD@/$PASSWORD/" a.conf\n'),
    ("sed-not-a-secret", "s.sh", "sed -i 's/@HOSTNAME@/nas.lan.example/' a.conf\n"),
    ("password-stdin", "login.sh", 'echo "$PW" | docker login -u me --password-stdin ghcr.io\n'),
    ("docker-ports", "run.sh", "docker run -p 8080:80 nginx\n"),
    ("docker-run-named-login", "run.sh", "docker run --name login -p 8080:80 nginx\n"),
    ("mysql-prompt", "db.sh", "mysql -uroot -p appdb\n"),
    ("redis-cli-variable", "ping.sh", 'redis-cli -a "$REDIS_PASSWORD" ping\n'),
    ("htpasswd-prompt", "users.sh", "htpasswd -c /etc/nginx/htpasswd admin\n"),
    ("openssl-k-path", "enc.sh", "openssl enc -d -aes-256-cbc -in a.enc -k /run/secrets/key\n"),
    ("openssl-pass-file", "enc.sh", "openssl enc -d -in a.enc -pass file:/run/secrets/key\n"),
    ("openssl-pass-env", "enc.sh", "openssl enc -d -in a.enc -pass env:ENC_PASSWORD\n"),
    ("7z-prompt", "backup.sh", "7z a -p backup.7z docs\n"),
    ("ldapsearch-W-prompt", "users.sh", "ldapsearch -x -D cn=admin -W -b dc=lan\n"),
    ("ldapsearch-y-file", "users.sh", "ldapsearch -x -D cn=admin -y /run/secrets/ldap\n"),
    ("ldapsearch-variable", "users.sh", 'ldapsearch -x -D cn=admin -w "$LDAP_PW" -b dc=lan\n'),
    ("mosquitto-port", "sensor.sh", "mosquitto_sub -h broker -p 1883 -t t\n"),
    ("zip-no-P", "backup.sh", "zip -r backup.zip docs -x '*.tmp'\n"),
    ("gzip-P", "pack.sh", "pigz -P 4 file\n"),
    ("lftp-user-only", "mirror.sh", "lftp -u backup sftp://nas.lan\n"),
    ("lftp-empty-password", "mirror.sh", "lftp -u backup, sftp://nas.lan\n"),
    ("nmcli-ask", "wifi.sh", "nmcli --ask dev wifi connect Home\n"),
    ("nmcli-variable", "wifi.sh", 'nmcli dev wifi connect Home password "$WIFI_PSK"\n'),
    ("nmcli-prose", "README.md", "Run nmcli and type the password when it asks for one.\n"),
    ("nmcli-comment", "net.py", 'if "nmcli" in cmd:  # its password follows the word\n'),
    ("fish-editor", "config.fish", "set -gx EDITOR vim\n"),
    ("fish-erase", "config.fish", "set -e HCLOUD_TOKEN OTHER_TOKEN\n"),
    ("fish-variable", "config.fish", "set -gx HCLOUD_TOKEN (cat ~/.hcloud)\n"),
    ("systemd-path", "app.service", "[Service]\nEnvironment=PATH=/run/wrappers/bin\n"),
    ("systemd-token-file", "app.service", "[Service]\nEnvironment=TOKEN_FILE=/run/app/token\n"),
    ("curl-token-variable", "api.sh", 'curl -H "X-Auth-Token: $TOKEN" https://api.example\n'),
    ("nginx-variable", "site.conf", "proxy_set_header X-Auth-Token $http_x_auth_token;\n"),
    ("python-concatenation", "t.py", 'env = "API_KEY=" + make_key(seed)\n'),
    ("python-escapes", "t.py", 'data = b"API_KEY=abc\\nOTHER=def\\n"\n'),
    ("python-count", "t.py", 'assert new.count("AWS_SECRET_ACCESS_KEY=") == 1\n'),
]


@pytest.mark.parametrize(("name", "path", "text"), QUIET, ids=[c[0] for c in QUIET])
def test_a_look_alike_is_not_a_finding(name: str, path: str, text: str) -> None:
    assert _found(path, text) == []


@pytest.mark.parametrize(
    "template",
    [
        "{\n  acme_dns cloudflare @V@\n}\n",
        "a.lan {\n  tls {\n    dns cloudflare @V@\n  }\n}\n",
        "b.lan {\n  tls {\n    dns duckdns @V@ # the token\n  }\n}\n",
    ],
)
def test_a_caddy_dns_provider_s_token_is_found(template: str) -> None:
    """The DNS challenge's token written in the Caddyfile (a stranger's: check said
    safe to publish)."""
    token = fake.chars(_ALNUM, 40, "caddy-dns")
    assert [v for _rule, v in _found("Caddyfile", template.replace("@V@", token))] == [token]


def test_a_caddy_dns_provider_given_a_placeholder_stays_quiet() -> None:
    text = (
        "{\n  acme_dns cloudflare {env.CF_API_TOKEN}\n}\n"
        "x.lan {\n  tls {\n    dns cloudflare {$CF}\n  }\n}\n"
    )
    assert _found("Caddyfile", text) == []


TWICE = [
    ("echo-e", "smb.sh", 'echo -e "@V@\\n@V@" | smbpasswd -s -a alice\n'),
    ("printf", "smb.sh", "printf '%s\\n%s\\n' '@V@' '@V@' | smbpasswd -a -s bob\n"),
    ("subshell", "smb.sh", '(echo "@V@"; echo "@V@") | smbpasswd -s -a carol\n'),
    (
        "nix-store-path",
        "smb.nix",
        "{ pkgs, ... }: { systemd.services.smb.script = ''\n"
        "  echo -e \"@V@\\n@V@\" | ${pkgs.samba}/bin/smbpasswd -s -a alice\n''; }\n",
    ),
]


@pytest.mark.parametrize(("_id", "path", "template"), TWICE, ids=[t[0] for t in TWICE])
def test_a_password_given_twice_to_a_prompt_is_found_at_each_copy(
    _id: str, path: str, template: str
) -> None:
    """smbpasswd -s reads the password twice (Samba's, in an activation script or a
    service's script): both copies are hits, or migrate left the second in place (a
    stranger's)."""
    value = fake.chars(_ALNUM, 20, "smb-" + _id)
    text = template.replace("@V@", value)
    found = _found(path, text)
    assert [v for _rule, v in found] == [value, value]


def test_migrate_leaves_no_copy_of_a_password_given_twice() -> None:
    from secretkit.scan.one_file import scan_bytes
    from tests.support.nixfind import plan_module

    value = fake.chars(_ALNUM, 20, "smb-migrate")
    source = (
        "{ config, pkgs, ... }: {\n  systemd.services.smb.script = ''\n"
        f'    echo -e "{value}\\n{value}" | ${{pkgs.samba}}/bin/smbpasswd -s -a alice\n'
        f"    printf '%s\\n%s\\n' '{value}' '{value}' | smbpasswd -a -s bob\n  '';\n}}\n"
    ).encode()
    findings, _ = scan_bytes("h.nix", source)
    plan = plan_module(source, "h.nix", findings=findings)
    assert plan.refused == []
    assert value.encode() not in plan.nix["h.nix"][1]
