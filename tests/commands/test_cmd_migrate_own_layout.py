"""``secretkit migrate`` on plain sops-nix repositories with a hand-written .sops.yaml
(issue 14): new secrets go into the file the host already uses — its
``sops.defaultSopsFile``, the one file of its own under the user's rule, or the file
the host's own rule names — never a second secrets/<host>.yaml layout; the rules stay
byte-identical; `check` passes after; a second run changes nothing; a layout that
leaves two files is refused with the reason and the manual route."""

from __future__ import annotations

import secrets
from pathlib import Path

import pyrage
import pytest

from secretkit.errors import SecretkitError
from secretkit.sops import operations
from secretkit.sops.identities import load_identities
from tests.commands.test_cmd_migrate import run, snapshot
from tests.conftest import commit_all
from tests.keys.layouts import write
from tests.support.cli import run_main

KEPT = "fake-one"  # a value already in web's sops file, kept as it is

SOPS_YAML = """# hand-written, no secretkit anchors
keys:
  - &alice {alice}
  - &alice_offline {offline}
  - &server_web {web}
  - &server_db {db}
  - &cache {cache}
creation_rules:
  - path_regex: hosts/web/secrets/[^/]+\\.yaml$
    key_groups:
      - age: [*alice, *server_web]
  - path_regex: hosts/db/secrets/[^/]+\\.yaml$
    key_groups:
      - age: [*alice, *server_db]
      - age: [*alice_offline, *server_db]
  - path_regex: hosts/cache/secrets\\.yaml$
    key_groups:
      - age: [*alice, *cache]
  - path_regex: secrets/common\\.yaml$
    key_groups:
      - age: [*alice, *server_web, *server_db, *cache]
"""


def _host(name: str) -> str:
    return (
        f"    nixosConfigurations.{name} = nixpkgs.lib.nixosSystem {{\n"
        f"      modules = [ sops-nix.nixosModules.sops ./hosts/{name}/configuration.nix ];\n"
        "    };\n"
    )


def nix_files(web_token: str, db_password: str, cache_token: str) -> dict[str, str]:
    return {
        "flake.nix": "{\n  outputs = { self, nixpkgs, sops-nix, ... }: {\n"
        + "".join(_host(h) for h in ("web", "db", "cache"))
        + "  };\n}\n",
        # defaultSopsFile + several files of its own
        "hosts/web/configuration.nix": (
            "{ config, ... }: {\n  imports = [ ../../modules/common.nix ];\n"
            "  sops.defaultSopsFile = ./secrets/main.yaml;\n"
            '  sops.secrets.htpasswd = { owner = "nginx"; };\n'
            "  sops.secrets.api-token = { sopsFile = ./secrets/api.yaml; };\n"
            f'  services.k3s.token = "{web_token}";\n}}\n'
        ),
        # its own path_regex with two key groups (the host in both), one file by sopsFile
        "hosts/db/configuration.nix": (
            "{ ... }: {\n  imports = [ ../../modules/common.nix ];\n"
            '  sops.secrets."postgres/password" = { sopsFile = ./secrets/db.yaml; };\n'
            f'  services.ddclient.password = "{db_password}";\n}}\n'
        ),
        # only a rule of its own so far (a literal path_regex): no file yet
        "hosts/cache/configuration.nix": (
            "{ ... }: {\n  imports = [ ../../modules/common.nix ];\n"
            f'  services.k3s.token = "{cache_token}";\n}}\n'
        ),
        "modules/common.nix": (
            "{ ... }: {\n  sops.secrets.wifi-psk = { sopsFile = ../secrets/common.yaml; };\n}\n"
        ),
    }


PLAIN = {
    "hosts/web/secrets/main.yaml": f"htpasswd: {KEPT}\n",
    "hosts/web/secrets/api.yaml": "api-token: fake-two\n",
    "hosts/db/secrets/db.yaml": "postgres:\n  password: fake-three\n",
    "secrets/common.yaml": "wifi-psk: fake-four\n",
}


class Repo:
    def __init__(self, root: Path, ids: dict[str, pyrage.x25519.Identity], values: list[str]):
        self.root, self.ids, self.values = root, ids, values

    def read(self, rel: str, who: str) -> dict[str, str]:
        keys = [str(self.ids[w]) for w in (("alice", "offline") if who == "alice" else (who,))]
        identities = load_identities({"SOPS_AGE_KEY": "\n".join(keys)})
        plain = operations.decrypt_bytes((self.root / rel).read_bytes(), "yaml", identities)
        return {"/".join(str(k) for k in keys): str(v) for keys, v in plain.leaves()}


@pytest.fixture
def repo(
    tmp_git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Repo:
    names = ("alice", "offline", "web", "db", "cache")
    ids = {n: pyrage.x25519.Identity.generate() for n in names}
    keys = {n: str(i.to_public()) for n, i in ids.items()}
    values = [secrets.token_urlsafe(24) for _ in range(3)]
    committed = {
        k: "\n".join(line for line in v.split("\n") if '= "";' not in line)
        for k, v in nix_files("", "", "").items()
    }
    write(tmp_git_repo, {".sops.yaml": SOPS_YAML.format(**keys), **committed, **PLAIN})
    monkeypatch.setenv("SOPS_AGE_KEY", f"{ids['alice']}\n{ids['offline']}")
    monkeypatch.delenv("SOPS_AGE_KEY_FILE", raising=False)
    for path in PLAIN:
        code, _, err = run_main(capsys, "-C", str(tmp_git_repo), "encrypt", "-i", path)
        assert code == 0, err
    commit_all(tmp_git_repo, "a hand-written sops-nix repo")
    # the values are added after the last commit (history stays clean for `check`)
    write(tmp_git_repo, nix_files(*values))
    return Repo(tmp_git_repo, ids, values)


@pytest.mark.slow
def test_migrate_writes_into_the_files_the_hosts_already_use(repo: Repo) -> None:
    root = repo.root
    rules = (root / ".sops.yaml").read_bytes()
    before = snapshot(root)
    proc = run(root, "migrate", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert all(v not in proc.stdout + proc.stderr for v in repo.values)
    assert (root / ".sops.yaml").read_bytes() == rules
    assert not (root / "secrets" / "web.yaml").exists()
    assert not (root / "secrets" / "db.yaml").exists()
    assert not (root / "secrets" / "cache.yaml").exists()
    web_token, db_password, cache_token = repo.values

    # web: its defaultSopsFile; the declaration needs no sopsFile
    # (cache's k3s token, another value, was named first: web's is k3s/token-2)
    for who in ("web", "alice"):
        assert repo.read("hosts/web/secrets/main.yaml", who) == {
            "htpasswd": KEPT,
            "k3s/token-2": web_token,
        }
    web = (root / "hosts/web/configuration.nix").read_text()
    declaration = web.split('sops.secrets."k3s/token-2" = {')[1].split("};")[0]
    assert "sopsFile" not in declaration
    assert 'services.k3s.tokenFile = config.sops.secrets."k3s/token-2".path;' in web
    assert (
        before["hosts/web/secrets/api.yaml"] == (root / "hosts/web/secrets/api.yaml").read_bytes()
    )

    # db: the one file of its own (two key groups): its host key and the admins read it
    for who in ("db", "alice"):
        assert repo.read("hosts/db/secrets/db.yaml", who)["ddclient/password"] == db_password
    db = (root / "hosts/db/configuration.nix").read_text()
    assert db.count("sopsFile = ./secrets/db.yaml;") == 2

    # cache: the file its own literal rule names, created under that rule
    for who in ("cache", "alice"):
        assert repo.read("hosts/cache/secrets.yaml", who) == {"k3s/token": cache_token}
    cache = (root / "hosts/cache/configuration.nix").read_text()
    assert "sopsFile = ./secrets.yaml;" in cache

    # the shared file is untouched; nobody else can read a host's new secret
    assert before["secrets/common.yaml"] == (root / "secrets/common.yaml").read_bytes()
    with pytest.raises(SecretkitError, match=r"no identity|cannot|decrypt"):
        repo.read("hosts/web/secrets/main.yaml", "db")

    commit_all(root, "migrated")
    check = run(root, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    after = snapshot(root)
    again = run(root, "migrate", "--yes")
    assert again.returncode == 0, again.stderr
    assert snapshot(root) == after


def test_two_files_that_could_fit_are_refused_with_the_reason(repo: Repo) -> None:
    root = repo.root
    config = root / "hosts/web/configuration.nix"
    # without the defaultSopsFile, web's two files of its own both fit
    text = config.read_text().replace("  sops.defaultSopsFile = ./secrets/main.yaml;\n", "")
    text = text.replace('owner = "nginx";', 'owner = "nginx"; sopsFile = ./secrets/main.yaml;')
    config.write_text(text)
    before = snapshot(root)
    proc = run(root, "migrate", "--yes")
    assert proc.returncode != 0
    assert (
        "cannot choose the sops file for host web: host web already has several sops files "
        "of its own (hosts/web/secrets/api.yaml, hosts/web/secrets/main.yaml)"
    ) in proc.stderr
    assert "set sops.defaultSopsFile in web's configuration" in proc.stderr
    assert snapshot(root) == before
    # the hint works: name the file, and migrate writes there
    config.write_text(
        config.read_text().replace(
            "{ config, ... }: {\n",
            "{ config, ... }: {\n  sops.defaultSopsFile = ./secrets/api.yaml;\n",
        )
    )
    proc = run(root, "migrate", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert repo.read("hosts/web/secrets/api.yaml", "web")["k3s/token-2"] == repo.values[0]
    assert not (root / "secrets/web.yaml").exists()


def test_a_default_file_other_hosts_read_is_refused_in_the_dry_run_plan(repo: Repo) -> None:
    root = repo.root
    config = root / "hosts/web/configuration.nix"
    config.write_text(
        config.read_text().replace("./secrets/main.yaml;", "../../secrets/common.yaml;")
    )
    proc = run(root, "migrate", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    expected = (
        "hosts/web/configuration.nix:6: cannot migrate safely: host web's sops.defaultSopsFile "
        "secrets/common.yaml is readable by cache, db too"
    )
    assert expected in proc.stderr
    # named as a planned move would be (cache's token, another value, has k3s/token)
    assert '  by hand: secretkit set <a file only web can read> \'["k3s"]["token-2"]\'' in (
        proc.stderr
    )
    assert "sopsFile = <the path of that file, relative to this module>;" in proc.stderr


def test_a_catch_all_rule_over_secrets_host_yaml_is_refused_and_the_hint_works(
    repo: Repo,
) -> None:
    # cache has no file and no rule of its own; secrets/cache.yaml would fall under the
    # user's catch-all rule (readable by web and db), and a rule added after it would
    # never match
    root = repo.root
    text = (root / ".sops.yaml").read_text()
    own_rule = (
        "  - path_regex: hosts/cache/secrets\\.yaml$\n"
        "    key_groups:\n      - age: [*alice, *cache]\n"
    )
    assert own_rule in text
    text = text.replace(own_rule, "").replace("secrets/common\\.yaml$", "secrets/[^/]+\\.yaml$")
    (root / ".sops.yaml").write_text(text)
    before = snapshot(root)
    proc = run(root, "migrate", "--yes")
    assert proc.returncode == 3, proc.stderr
    assert (
        "cannot choose the sops file for host cache: host cache has no sops file of its own, "
        "and secrets/cache.yaml falls under the .sops.yaml rule path_regex: "
        "secrets/[^/]+\\.yaml$, which names db, web too"
    ) in proc.stderr
    assert "above the rule with path_regex: secrets/[^/]+\\.yaml$" in proc.stderr
    assert snapshot(root) == before
    # the hint works: a rule of cache's own above the catch-all
    rule = "  - path_regex: secrets/cache\\.yaml$\n    key_groups:\n      - age: [*alice, *cache]\n"
    text = text.replace("  - path_regex: secrets/[^/]+", rule + "  - path_regex: secrets/[^/]+")
    (root / ".sops.yaml").write_text(text)
    proc = run(root, "migrate", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert repo.read("secrets/cache.yaml", "cache") == {"k3s/token": repo.values[2]}


def test_checks_fix_for_a_value_migrate_leaves_names_the_hosts_own_file(repo: Repo) -> None:
    """A stranger followed check's fix for a value migrate refused: it named
    secrets/<host>.yaml, not the host's defaultSopsFile, and the declaration written as
    told then failed ("needs key … in <the defaultSopsFile>").  It names the file
    migrate itself would use."""
    import json

    root = repo.root
    config = root / "hosts/web/configuration.nix"
    token = secrets.token_hex(16)
    script = (  # a here-document: migrate does not read its shell quoting
        "  systemd.services.push.script = ''\n    curl -d @- https://push.example.invalid <<EOF\n"
        f"    token={token}\n    EOF\n  '';\n}}\n"
    )
    config.write_text(config.read_text().rstrip().removesuffix("}") + script)
    proc = run(root, "check", "--format", "json")
    assert token not in proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    fixes = [
        c["fix"]
        for c in report["checks"]
        if c["id"] == "plaintext-tree"
        and "systemd.services.push.script" in c["message"]  # (the k3s token: migrate moves it)
    ]
    assert len(fixes) == 1, [c["message"] for c in report["checks"]]
    assert "secretkit set hosts/web/secrets/main.yaml '[" in fixes[0], fixes
    assert "secrets/web.yaml" not in fixes[0]


def test_a_default_sops_file_under_self_is_read_as_check_reads_it(repo: Repo) -> None:
    """``sops.defaultSopsFile = "${self}/…"`` (sops-nix's common flake idiom): check
    resolved it while migrate refused ("not one path secretkit can read"); both read
    it with the same reader now, and migrate writes into that file."""
    root = repo.root
    config = root / "hosts/web/configuration.nix"
    text = config.read_text().replace(
        "{ config, ... }: {\n  imports",
        "{ config, self, ... }: {\n  imports",
    )
    text = text.replace("./secrets/main.yaml;", '"${self}/hosts/web/secrets/main.yaml";')
    assert '"${self}/hosts/web/secrets/main.yaml"' in text
    config.write_text(text)
    proc = run(root, "migrate", "--dry-run")
    assert "not one path secretkit can read" not in proc.stderr, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("k3s/token")]
    assert any("web" in row and "hosts/web/secrets/main.yaml" in row for row in rows), rows


def test_a_default_sops_file_set_in_an_inline_module_of_the_flake_is_read(repo: Repo) -> None:
    """migrate's own advice for a host with two files of its own is to set
    sops.defaultSopsFile; a stranger set it in an inline module of flake.nix's list
    ({ sops.defaultSopsFile = …; }) and migrate refused again, as if it were not set."""
    root = repo.root
    config = root / "hosts/web/configuration.nix"
    config.write_text(
        config.read_text().replace("  sops.defaultSopsFile = ./secrets/main.yaml;\n", "")
    )
    flake = root / "flake.nix"
    flake.write_text(
        flake.read_text().replace(
            "./hosts/web/configuration.nix ];",
            "./hosts/web/configuration.nix\n"
            "        { sops.defaultSopsFile = ./hosts/web/secrets/main.yaml; } ];",
        )
    )
    proc = run(root, "migrate", "--dry-run")
    assert "several sops files of its own" not in proc.stderr, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("k3s/token")]
    assert any("web" in row and "hosts/web/secrets/main.yaml" in row for row in rows), rows


def test_checks_fix_for_a_shared_module_names_each_hosts_own_file(repo: Repo) -> None:
    """A re-check: a module shared by hosts with a file each got "secretkit set
    secrets/<host>.yaml" from check, while migrate named each host's file."""
    import json

    common = repo.root / "modules/common.nix"
    token = secrets.token_hex(16)
    common.write_text(
        common.read_text().rstrip().removesuffix("}")
        + "  systemd.services.push.script = ''\n    curl -d @- https://push.example.invalid <<EOF\n"
        + f"    token={token}\n    EOF\n  '';\n}}\n"
    )
    proc = run(repo.root, "check", "--format", "json")
    assert token not in proc.stdout + proc.stderr
    (fix,) = [
        c["fix"]
        for c in json.loads(proc.stdout)["checks"]
        if c["id"] == "plaintext-tree" and "systemd.services.push.script" in c["message"]
    ]
    assert "secretkit set <each host's own: " in fix
    assert "hosts/web/secrets/main.yaml for web" in fix and "secrets/<host>.yaml" not in fix
