"""nix-secret-refs: a secret's path where its value is wanted, a secret read while Nix
evaluates (gate/reference_kinds.py; helper-118's repro 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.gate.context import CheckContext
from secretkit.gate.reference_kinds import literal_paths, wrong_kinds
from secretkit.gate.sops_verify import SopsJudge
from tests.conftest import git

DECLARED = 'sops.secrets."vw/token" = { }; sops.templates."t".content = "x";'


def _check(repo: Path, body: str) -> list[tuple[str, str]]:
    (repo / "host.nix").write_text(f"{{ config, lib, ... }}: {{ {body} {DECLARED} }}\n")
    git(repo, "add", "-A")
    results = wrong_kinds(CheckContext(root=repo, judge=SopsJudge()))
    assert all(not r.ok and r.id == "nix-secret-refs" for r in results)
    return [(r.message, r.fix) for r in results]


@pytest.mark.parametrize(
    "value",
    [
        'config.sops.secrets."vw/token".path',
        '"${config.sops.secrets."vw/token".path}"',
        'lib.mkForce config.sops.secrets."vw/token".path',
        '(config.sops.secrets."vw/token".path)',
    ],
)
def test_a_path_given_to_an_option_that_takes_the_secret_fails(
    tmp_git_repo: Path, value: str
) -> None:
    ((message, fix),) = _check(tmp_git_repo, f"services.vaultwarden.config.ADMIN_TOKEN = {value};")
    assert message == (
        "host.nix:1: services.vaultwarden.config.ADMIN_TOKEN takes the secret itself, and is "
        'given config.sops.secrets."vw/token".path: the program gets the text /run/secrets/… '
        "as its ADMIN_TOKEN, not the secret"
    )
    assert "environmentFile" in fix


@pytest.mark.parametrize(
    "body",
    [
        # (an option named for a file; a path inside a command or a provider string)
        'services.vaultwarden.config.ADMIN_TOKEN_FILE = config.sops.secrets."vw/token".path;',
        "services.grafana.settings.security.admin_password = "
        '"$__file{${config.sops.secrets."vw/token".path}}";',
        'services.foo.passwordCommand = "cat ${config.sops.secrets."vw/token".path}";',
        # (the fix: the route migrate writes, an environment file from a template)
        'services.vaultwarden.environmentFile = config.sops.templates."t".path;',
        # (an option the catalogue moves no secret from, and one named for no secret)
        'services.nginx.virtualHosts.x.sslCertificateKey = config.sops.secrets."vw/token".path;',
        'services.foo.settings.location = config.sops.secrets."vw/token".path;',
    ],
)
def test_a_path_where_a_file_is_read_passes(tmp_git_repo: Path, body: str) -> None:
    assert _check(tmp_git_repo, body) == []


@pytest.mark.parametrize(
    ("call", "kind", "name"),
    [
        ("builtins.readFile", "secrets", "vw/token"),
        ("lib.fileContents", "secrets", "vw/token"),
        ("lib.importJSON", "templates", "t"),
    ],
)
def test_a_secret_read_while_nix_evaluates_fails(
    tmp_git_repo: Path, call: str, kind: str, name: str
) -> None:
    body = f'services.mosquitto.users.z.password = {call} config.sops.{kind}."{name}".path;'
    ((message, fix),) = _check(tmp_git_repo, body)
    function = call.rsplit(".", 1)[-1]
    assert message.startswith(
        f'host.nix:1: {function} reads config.sops.{kind}."{name}".path while Nix evaluates'
    )
    assert fix.endswith(f"and drop {function}")


@pytest.mark.parametrize(("release", "fails"), [("24.05", True), ("24.11", False)])
def test_a_file_option_the_pinned_release_lacks_fails(
    tmp_git_repo: Path, release: str, fails: bool
) -> None:
    flake = (
        f'{{ inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-{release}"; outputs = _: {{ }}; }}'
    )
    (tmp_git_repo / "flake.nix").write_text(flake + "\n")
    found = _check(
        tmp_git_repo, 'services.paperless.environmentFile = config.sops.templates."t".path;'
    )
    if not fails:
        assert found == []
        return
    ((message, fix),) = found
    assert message == (
        'host.nix:1: services.paperless.environmentFile is given config.sops.templates."t".path, '
        "and NixOS has that option only from 24.11 on; the repository pins 24.05: the build "
        "fails (the option does not exist)"
    )
    assert fix.startswith("update the nixpkgs input to NixOS 24.11 or newer")


def test_a_literal_run_secrets_path_of_a_declared_secret_cannot_be_verified(
    tmp_git_repo: Path,
) -> None:
    """helper-119 (repro 1): nginx's basicAuthFile = "/run/secrets/htpasswd" of a
    root-only secret passed: check followed only config.sops.secrets references."""
    from secretkit.gate.reference_kinds import literal_paths

    def check(body: str) -> list[str]:
        (tmp_git_repo / "host.nix").write_text(f"{{ config, lib, ... }}: {{ {body} {DECLARED} }}\n")
        git(tmp_git_repo, "add", "-A")
        return [r.fix for r in literal_paths(CheckContext(root=tmp_git_repo, judge=SopsJudge()))]

    (fix,) = check('services.nginx.virtualHosts.x.basicAuthFile = "/run/secrets/vw/token";')
    assert fix.startswith('write config.sops.secrets."vw/token".path in place of the literal')
    assert check('services.x.y = "$__file{/run/secrets/vw/token}";') != []
    # (the fix; a comment; a name no declaration has: a container's own /run/secrets)
    assert check('services.x.y = config.sops.secrets."vw/token".path;') == []
    assert check('# services.x.y = "/run/secrets/vw/token";') == []
    assert check('services.x.env.DB_FILE = "/run/secrets/db_password";') == []
    # (a declaration's own path, also under mkIf: wimpy's)
    own = 'sops.secrets = { k = lib.mkIf true { path = "/run/secrets/vw/token"; }; };'
    assert check(own) == []


def test_an_undeclared_placeholder_is_named_as_written_with_the_name_it_may_mean(
    tmp_git_repo: Path,
) -> None:
    """helper-119 (repro 10): a misspelled placeholder was reported as
    config.sops.secrets."apitokn", with an owner for the secret (the template's owner
    is what matters) and no word of the declared name it meant."""
    from secretkit.gate.reference_kinds import undeclared

    (tmp_git_repo / "host.nix").write_text(
        '{ config, ... }: { sops.templates.t.content = "T=${config.sops.placeholder.apitokn}"; '
        'x = config.sops.secrets."zzz".path; }\n'
    )
    git(tmp_git_repo, "add", "-A")
    ctx = CheckContext(root=tmp_git_repo, judge=SopsJudge())
    data = (tmp_git_repo / "host.nix").read_bytes()
    at = data.index(b"config.sops.placeholder")
    assert undeclared(ctx, "host.nix", at, "apitokn", {"apitoken"}) == (
        'config.sops.placeholder."apitokn"',
        ' (or, if you meant sops.secrets."apitoken", write that name)',
        True,
    )
    at = data.index(b'config.sops.secrets."zzz"')
    assert undeclared(ctx, "host.nix", at, "zzz", {"apitoken"}) == (
        'config.sops.secrets."zzz"',
        "",
        False,
    )


@pytest.mark.parametrize(
    ("body", "box", "option"),
    [
        # (the container's configuration as an attribute set, or as a module function)
        (
            "containers.db.config.services.postgresql.initialScript = "
            'config.sops.secrets."vw/token".path;',
            "db",
            "containers.db.config.services.postgresql.initialScript",
        ),
        (
            "containers.wiki = { autoStart = true; config = { pkgs, ... }: { "
            'services.mediawiki.passwordFile = config.sops.templates."t".path; }; };',
            "wiki",
            "containers.wiki.config.services.mediawiki.passwordFile",
        ),
    ],
)
def test_a_hosts_sops_file_given_inside_a_nixos_container_fails(
    tmp_git_repo: Path, body: str, box: str, option: str
) -> None:
    """helper-123: the host's /run/secrets is not in a NixOS container (systemd-nspawn
    binds the store and bindMounts only); check passed it."""
    ((message, fix),) = _check(tmp_git_repo, body)
    assert message.startswith(f"host.nix:1: {option} is given config.sops.")
    assert f"inside the NixOS container {box}: the container sees only the store" in message
    assert fix.startswith(f'bind-mount it: containers.{box}.bindMounts."/run/secrets/')
    assert "isReadOnly = true; };" in fix and "uid = <its user's uid in the container>" in fix
    # the fix, done as it says (a bind mount of the file): the file is there, but keeps
    # the host's owner (root) and mode (0400): the user that reads it in the container
    # needs its uid (helper-124: the mount alone then passed)
    mount = fix.removeprefix("bind-mount it: ").split(" (the container's", 1)[0]
    ((message, fix),) = _check(tmp_git_repo, f"{body} {mount}")
    assert "through a bind mount into the NixOS container" in message
    assert fix.startswith("set uid = <the uid of ")
    owned = 'sops.secrets."vw/token".uid = 71; sops.templates."t".uid = 71;'
    assert _check(tmp_git_repo, f"{body} {mount} {owned}") == []
    # a container with sops-nix of its own declares (and reads) its own secrets
    own = f'containers.{box}.config.sops.secrets."c" = {{ }}; {body}'
    assert _check(tmp_git_repo, own) == []


_OCI_REST = 'virtualisation.oci-containers.containers.rest = { image = "r"; '


@pytest.mark.parametrize(
    ("body", "fails"),
    [
        # (the fix an earlier version gave: a shell substitution no shell runs)
        (_OCI_REST + 'cmd = [ "--password" "$(cat ${config.sops.secrets."vw/token".path})" ]; };',
         "no shell runs the $(…) around it"),
        # (the path itself, as the program's file: only where the volumes mount it)
        (_OCI_REST + 'cmd = [ "--password-file" config.sops.secrets."vw/token".path ]; };',
         "the container sees no file of the host"),
        (_OCI_REST + 'cmd = [ "--password-file" config.sops.secrets."vw/token".path ]; '
         'volumes = [ "${config.sops.secrets."vw/token".path}:/run/secrets/vw/token:ro" ]; };',
         None),
        # (the fix's own route: an environment file from a template)
        (_OCI_REST + 'environmentFiles = [ config.sops.templates."t".path ]; };', None),
    ],
)  # fmt: skip
def test_a_sops_path_in_an_oci_containers_cmd_reaches_the_program_only_mounted(
    tmp_git_repo: Path, body: str, fails: str | None
) -> None:
    """helper-123: oci-containers passes `map escapeShellArg container.cmd`: check passed
    $(cat …) there, the fix an earlier version of migrate's steps gave."""
    results = _check(tmp_git_repo, body)
    if fails is None:
        assert results == []
        return
    ((message, fix),) = results
    assert message.startswith("host.nix:1: virtualisation.oci-containers.containers.rest.cmd ")
    assert fails in message
    assert fix.startswith("oci-containers hands cmd to the container as written")
    assert 'config.sops.placeholder."vw/token"' in fix and "$(cat" not in fix.split(":")[0]


def test_a_bind_mounts_name_is_no_literal_path_to_follow(tmp_git_repo: Path) -> None:
    """helper-124: the container fix's mount point, bindMounts."/run/secrets/x", was
    itself failed as a literal path check cannot follow."""
    mount = (
        'containers.db.bindMounts."/run/secrets/vw/token" = { hostPath = '
        'config.sops.secrets."vw/token".path; isReadOnly = true; };'
    )
    _check(tmp_git_repo, mount)
    assert literal_paths(CheckContext(root=tmp_git_repo, judge=SopsJudge())) == []
    _check(tmp_git_repo, 'services.foo.passwordFile = "/run/secrets/vw/token";')
    (result,) = literal_paths(CheckContext(root=tmp_git_repo, judge=SopsJudge()))
    assert result.message.startswith("cannot verify: host.nix:1:")


@pytest.mark.parametrize(
    ("value", "fails"),
    [
        ('config.sops.templates."t".path', True),  # (helper-124: the old fix, done)
        ('"${config.sops.templates."t".path}"', True),
        ('"texthash:${config.sops.templates."t".path}"', False),
        ('"hash:${config.sops.templates."t".path}"', False),
    ],
)
def test_postfixs_password_table_is_given_with_its_type(
    tmp_git_repo: Path, value: str, fails: bool
) -> None:
    results = _check(tmp_git_repo, f"services.postfix.config.smtp_sasl_password_maps = {value};")
    if not fails:
        assert results == []
        return
    ((message, fix),) = results
    assert "postfix names a table type:name and stops on a bare path" in message
    assert '"texthash:${config.sops.templates."postfix-sasl-passwd".path}"' in fix


@pytest.mark.parametrize(
    ("handed", "fails"),
    [
        ("encryption.passphrase = cfg.passphrase;", True),
        ("encryption.passphrase = config.my.backup.passphrase;", True),
        ('encryption.passphrase = "${cfg.passphrase}";', True),  # (helper-129)
        ("encryption.passphrase = toString cfg.passphrase;", True),  # (helper-131)
        ("encryption = { inherit (cfg) passphrase; };", True),
        ("encryption.passphrase = pw;", True),  # (let pw = cfg.passphrase)
        ("encryption.passphrase = lib.mkDefault cfg.passphrase;", True),  # (helper-133)
        ('encryption.passCommand = "cat ${cfg.passphrase}";', False),  # (a path, read)
        ("encryption.mode = cfg.passphrase;", False),  # (not a value the catalogue moves)
    ],
)
def test_a_path_an_own_option_hands_on_to_a_value_option_fails(
    tmp_git_repo: Path, handed: str, fails: bool
) -> None:
    """helper-126: my.backup.passphrase = <a secret's .path> passed check although the
    module gives my.backup.passphrase to borg's encryption.passphrase as the value."""
    (tmp_git_repo / "backup.nix").write_text(
        "{ config, lib, ... }: let cfg = config.my.backup; pw = cfg.passphrase; in {\n"
        "  options.my.backup.passphrase = lib.mkOption { type = lib.types.str; };\n"
        f'  config.services.borgbackup.jobs.box = {{ repo = "r"; {handed} }};\n}}\n'
    )
    results = _check(tmp_git_repo, 'my.backup.passphrase = config.sops.secrets."vw/token".path;')
    assert len(results) == fails
    if fails:
        ((message, fix),) = results
        assert "backup.nix:3 hands my.backup.passphrase on to" in message
        assert "services.borgbackup.jobs.box.encryption.passphrase" in message
        assert "give my.backup.passphrase no path" in fix


def test_a_path_given_to_an_option_a_route_writes_a_file_path_to_passes(
    tmp_git_repo: Path,
) -> None:
    """helper-127: migrate writes mapFiles.sasl_passwd = <the secret's .path> (postfix-setup
    links the file and runs postmap on it); check failed it as 'takes the secret itself'
    by the option's name."""
    assert (
        _check(
            tmp_git_repo,
            'services.postfix.mapFiles.sasl_passwd = config.sops.secrets."vw/token".path;',
        )
        == []
    )


def test_a_bare_path_given_to_a_grafana_setting_fails(tmp_git_repo: Path) -> None:
    """helper-130: grafana reads a file only through "$__file{…}"; a setting given the
    secret's path bare gets the text /run/secrets/… as its password (a route's target,
    but one whose value wraps the path)."""
    ((message, fix),) = _check(
        tmp_git_repo,
        'services.grafana.settings.smtp.password = config.sops.secrets."vw/token".path;',
    )
    assert "services.grafana.settings.smtp.password takes the secret itself" in message
    assert "$__file{" in fix


def test_a_path_handed_on_through_a_second_own_option_fails(tmp_git_repo: Path) -> None:
    """helper-129: my.backup.passphrase → my.borg.key → borg's encryption.passphrase."""
    (tmp_git_repo / "backup.nix").write_text(
        "{ config, lib, ... }: {\n"
        "  options.my.backup.passphrase = lib.mkOption { type = lib.types.str; };\n"
        "  options.my.borg.key = lib.mkOption { type = lib.types.str; };\n"
        "  config.my.borg.key = config.my.backup.passphrase;\n"
        '  config.services.borgbackup.jobs.box = { repo = "r"; '
        "encryption.passphrase = config.my.borg.key; };\n}\n"
    )
    ((message, _fix),) = _check(
        tmp_git_repo, 'my.backup.passphrase = config.sops.secrets."vw/token".path;'
    )
    assert "hands my.backup.passphrase on to services.borgbackup.jobs.box" in message
