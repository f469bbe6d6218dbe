"""The by-hand way out for a secret migrate cannot move, where "point the option at
its .path" would be wrong: for an ``/etc`` file's ``.text`` it would write the path as
the file's text, for a script it would run the path (a stranger followed it).  The
file's text goes to a template sops-nix writes at the file's path; a script reads the secret's
file where the value was, and bash does read it so (run here)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from secretkit.gate.finding_fix import by_hand_point, finding_fix
from tests.support import fake

V = fake.password("by-hand")
NO_HOST = "no host configuration imports this file"


def _fix(attrpath: str) -> str:
    return finding_fix("hosts/box.nix", "sk2:00", NO_HOST, attrpath=attrpath)


@pytest.mark.parametrize(
    ("attrpath", "path"),
    [('environment.etc."app/config.ini".text', "/etc/app/config.ini"),
     ("environment.etc.pgpass.text", "/etc/pgpass")],
)  # fmt: skip
def test_an_etc_file_s_text_becomes_a_template_sops_nix_writes_at_its_path(
    attrpath: str, path: str
) -> None:
    """migrate's own route: an environment.etc copy (a mode set) is made by activation
    before sops-nix renders the template, so the file would be missing or stale (a
    stranger's reading of NixOS's setup-etc)."""
    fix = _fix(attrpath)
    assert (
        f'and delete the environment.etc entry: declare sops.templates."<t>" with path = "{path}"'
        in fix
    )
    assert '${config.sops.placeholder."<name>"} in place of the value' in fix
    assert "*File option" not in fix


def test_a_colmena_deployment_key_goes_to_the_host_s_sops_nix() -> None:
    fix = _fix('deployment.keys."cf-token".text')
    assert 'delete deployment.keys."cf-token" (colmena sends its text from the deploying' in fix
    assert 'point what read /run/keys/cf-token at config.sops.secrets."<name>".path' in fix
    assert "*File option" not in fix


@pytest.mark.parametrize(
    "attrpath",
    [
        "systemd.services.backup.script",
        'systemd.services."hc-ping".preStart',
        "systemd.user.services.sync.postStart",
        "system.activationScripts.samba",
        "system.activationScripts.samba.text",
    ],
)
def test_a_script_reads_the_secret_s_file_where_the_value_was(attrpath: str) -> None:
    fix = _fix(attrpath)
    assert (
        'read it in the script where the value was: $(< ${config.sops.secrets."<name>".path})'
        in fix
    )
    assert "single quotes" in fix
    assert "*File option" not in fix


def test_other_options_keep_the_generic_way() -> None:
    assert by_hand_point("services.grafana.settings.security.admin_password") is None
    assert by_hand_point("systemd.services.backup.environment.TOKEN") is None
    assert "*File option" in _fix("services.grafana.settings.security.admin_password")


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ('export API_TOKEN=@V@\nprintf %s "$API_TOKEN"', "@V@"),
        ('printf %s "Authorization: Bearer @V@"', "Authorization: Bearer @V@"),
        ("printf %s @V@", "@V@"),
        ("printf %s '@V@'", "$(< @FILE@)"),  # (single quotes: why the fix warns)
    ],
)
def test_the_script_fix_followed_gives_the_value_at_run_time(
    tmp_path: Path, line: str, shown: str
) -> None:
    """The line with the value replaced as the fix says, and the Nix interpolation of
    the secret's path done as Nix does it: bash prints the value."""
    secret = tmp_path / "run-secrets-token"
    secret.write_text(V)  # (sops-nix writes the value without a line break)
    script = line.replace("@V@", f"$(< {secret})")
    ran = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert ran.stdout == shown.replace("@V@", V).replace("@FILE@", str(secret))


def test_a_home_manager_module_inside_the_nixos_one_names_the_nixos_configuration() -> None:
    """Inside ``home-manager.users.<u>`` the module's ``config`` is home-manager's, which
    has no sops-nix here: the secret is declared in the NixOS module for that user and
    read through ``osConfig`` (a stranger's: the steps declared it where it fails)."""
    fix = _fix("home-manager.users.me.programs.git.extraConfig.github.token")
    assert 'declare sops.secrets."<name>" = { owner = "me"; }; in this NixOS module' in fix
    # (a host without sops.defaultSopsFile: the declaration names the file)
    assert "(with sopsFile = <secrets/<host>.yaml relative to the module> unless " in fix
    assert "outside home-manager.users.me" in fix
    assert 'osConfig.sops.templates."<t>".path' in fix
    assert 'put ${config.sops.placeholder."<name>"} in a sops.templates' in fix  # (NixOS side)
    assert "{ osConfig, ... }:" in fix


@pytest.mark.parametrize(
    ("attrpath", "where"),
    [
        ("home-manager.users.me.home.sessionVariables.OPENAI_API_KEY", "osConfig.sops"),
        ("environment.variables.OPENAI_API_KEY", "config.sops"),
        ("environment.sessionVariables.OPENAI_API_KEY", "config.sops"),
    ],
)
def test_a_variable_is_exported_from_the_file_by_the_shell(attrpath: str, where: str) -> None:
    """A variable has no file option: "point the option at its .path" would set it to
    the path.  The shell's start-up exports it from the file."""
    fix = _fix(attrpath)
    assert f'export OPENAI_API_KEY="$(< ${{{where}.secrets."<name>".path}})"' in fix
    assert "*File option" not in fix
    if where == "config.sops":
        assert "osConfig" not in fix


@pytest.mark.parametrize(
    ("path", "attrpath", "says"),
    [
        ("flake.lock", None, "remove the credentials from that input's url in flake.nix"),
        ("flake.nix", "inputs.private.url", "a flake input's URL cannot read a sops value"),
        ("hosts/x/flake.nix", 'inputs."my-dots".url', "a flake input's URL cannot"),
        (".gitmodules", None, "git config --file .gitmodules submodule.<name>.url"),
    ],
)
def test_credentials_in_a_url_nix_or_git_fetches_from_leave_the_url(
    path: str, attrpath: str | None, says: str
) -> None:
    """A flake input, flake.lock or a submodule URL cannot read a sops value: "move the
    value into a sops file and reference that instead" could not be followed (a
    stranger's)."""
    fix = finding_fix(path, "sk2:00", None, attrpath=attrpath, rule="url-credentials")
    assert says in fix
    assert "sops file" not in fix.split(";")[0]
    assert "secretkit set" not in fix and "secretkit migrate" not in fix


@pytest.mark.parametrize(
    "attrpath",
    ["services.caddy.globalConfig", 'services.caddy.virtualHosts."a.lan".extraConfig'],
)
def test_a_caddyfile_secret_is_read_from_caddy_s_environment(attrpath: str) -> None:
    """A DNS provider's token in the Caddyfile text (a stranger's: found by no rule, and
    no option file takes it): Caddy reads {$VAR} from the environment file systemd
    hands it."""
    fix = _fix(attrpath)
    assert "{$CADDY_SECRET}" in fix
    assert 'services.caddy.environmentFile = config.sops.templates."<t>".path' in fix
    assert "*File option" not in fix


def test_a_module_of_several_hosts_names_each_host_s_file_once() -> None:
    each = "<each host's own: secrets/a.yaml for a, secrets/b.yaml for b>"
    fix = finding_fix("m.nix", "sk2:00", NO_HOST, sops_file=each, attrpath="x.password")
    assert f"`secretkit set {each} '[\"<name>\"]'`" in fix
    assert "(with sopsFile = <each host's file relative to the module> unless " in fix
    assert "<<" not in fix


def test_a_secret_that_is_part_of_the_string_is_stored_with_the_whole_string() -> None:
    """helper-118 (repro 7): a password inside grafana's database.url; the fix said to
    store "the value" and replace the literal by the "$__file{…}" route, which makes
    the URL the bare password.  The route replaces the option's whole string, so the
    whole string (the URL, password included) is what the file must hold."""
    manual = 'replace the literal on line 4 by the route "$__file{…}" (owner grafana)'
    fix = finding_fix(
        "hosts/box.nix",
        "sk2:00",
        "the secret is only part of the string",
        attrpath="services.grafana.settings.database.url",
        manual=manual,
    )
    assert "store the whole string (the secret is part of it) with `secretkit set" in fix
    assert 'replace the whole string on line 4 by the route "$__file{…}"' in fix
    assert "store the value" not in fix


@pytest.mark.parametrize(
    ("attrpath", "shell"),
    [
        # a home file of its own (snowfall's homes/, home.nix): home.* is home-manager's
        ("home.sessionVariables.GITHUB_TOKEN", "programs.bash.initExtra"),
        ("home-manager.users.alice.home.sessionVariables.GITHUB_TOKEN", "programs.bash.initExtra"),
        ("environment.sessionVariables.GITHUB_TOKEN", "environment.interactiveShellInit"),
        ("programs.zsh.sessionVariables.GITHUB_TOKEN", "programs.bash.initExtra"),
    ],
)
def test_a_variable_is_exported_from_the_start_up_of_the_shell_that_reads_it(
    attrpath: str, shell: str
) -> None:
    fix = by_hand_point(attrpath)
    assert fix is not None and f"in {shell}" in fix
    other = {"programs.bash.initExtra", "environment.interactiveShellInit"} - {shell}
    assert all(o not in fix for o in other)
    # (home-manager writes initExtra only under programs.bash.enable: helper-129)
    assert ("programs.bash.enable = true;" in fix) == (shell == "programs.bash.initExtra")
