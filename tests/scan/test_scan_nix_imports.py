"""A file of plain values (``secrets.nix``) that a module imports and gives to secret
options by attribute: a stranger's homelab passed scan and check ("safe to publish")
with its wifi psk and Grafana password in such a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.scan.allowlist import Allowlist
from secretkit.scan.worktree import scan_tree
from tests.conftest import commit_all, git
from tests.support import fake

MODULE = """{ config, ... }:
let
  s = import ./secrets.nix;
  d = import ../shared;
in {
  networking.wireless.networks."home".psk = s.wifi;
  services.grafana.settings.security.admin_password = lib.mkForce s.web.grafana;
  services.x.token = d.token;
  stylix.colour = s.colour;
}
"""


def _found(root: Path) -> list[tuple[str, int, str, str | None]]:
    return sorted((f.path, f.line, f.secret.reveal(), f.attrpath) for f in scan_tree(root).findings)


def test_values_imported_and_given_to_secret_options_are_found(tmp_path: Path) -> None:
    wifi, grafana, token, colour = (fake.password(n) for n in ("wifi", "graf", "tok", "col"))
    (tmp_path / "hosts").mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "hosts" / "a.nix").write_text(MODULE)
    (tmp_path / "hosts" / "secrets.nix").write_text(
        f'{{\n  wifi = "{wifi}";\n  web = {{ grafana = "{grafana}"; }};\n'
        f'  colour = "{colour}";\n  unused = "${{x}}-{wifi}";\n}}\n'
    )
    (tmp_path / "shared" / "default.nix").write_text(f'{{ token = "{token}"; }}\n')
    assert _found(tmp_path) == [
        ("hosts/secrets.nix", 2, wifi, "wifi"),
        ("hosts/secrets.nix", 3, grafana, "web.grafana"),
        ("shared/default.nix", 1, token, "token"),
    ]


def test_an_allowed_line_or_a_placeholder_in_the_values_file_is_not(tmp_path: Path) -> None:
    (tmp_path / "a.nix").write_text(MODULE.replace("../shared", "./shared.nix"))
    (tmp_path / "secrets.nix").write_text(
        '{\n  wifi = "changeme";\n'
        f'  web.grafana = "{fake.password("g")}"; # secretkit: allow\n}}\n'
    )
    assert _found(tmp_path) == []


def test_check_fails_on_them_and_the_cache_does_not_hide_them(tmp_git_repo: Path) -> None:
    """check reads the tree through the history cache, which knows secrets.nix clean
    (no rule alone finds its values): the values are found all the same."""
    from secretkit.commands.check import run_check

    wifi = fake.password("cached-wifi")
    (tmp_git_repo / "a.nix").write_text(MODULE.replace("../shared", "./shared.nix"))
    (tmp_git_repo / "secrets.nix").write_text(f'{{ wifi = "{wifi}"; }}\n')
    commit_all(tmp_git_repo)
    for _ in range(2):  # (the second run with the cache the first one left)
        failed = [r for r in run_check(tmp_git_repo).failed if r.id == "plaintext-tree"]
        assert len(failed) == 1 and "secrets.nix:1:" in failed[0].message


def test_the_history_holds_every_version_of_the_values_file(tmp_git_repo: Path) -> None:
    """The old wifi psk, replaced in a later commit, stayed in history unreported:
    check said "no plaintext secret in history" and purge left it."""
    from secretkit.scan.history import scan_history

    old, new = fake.password("old-wifi"), fake.password("new-wifi")
    (tmp_git_repo / "a.nix").write_text(MODULE.replace("../shared", "./shared.nix"))
    (tmp_git_repo / "secrets.nix").write_text(f'{{ wifi = "{old}"; }}\n')
    first = commit_all(tmp_git_repo, "old")
    (tmp_git_repo / "secrets.nix").write_text(f'{{ wifi = "{new}"; }}\n')
    second = commit_all(tmp_git_repo, "rotated")
    found = sorted(
        (f.commit, f.secret.reveal()) for f in scan_history(tmp_git_repo, use_cache=False).findings
    )
    assert found == sorted([(first, old), (second, new)])


@pytest.mark.parametrize(("jobs", "fillers"), [(None, 0), (1, 60), (2, 60)])
def test_with_inherit_and_special_args_reach_the_values_file(
    tmp_path: Path, jobs: int | None, fillers: int
) -> None:
    """`with import ./secrets.nix;`, `inherit (import ./secrets.nix) guest;` and a
    flake's `specialArgs = { secrets = import ./secrets.nix; }` read by a module as
    `secrets.smtp.relay`: each value passed scan and check.  In a tree large enough
    for the workers, they mark the files to read again (`may_give`): the same."""
    for i in range(fillers):
        (tmp_path / f"m{i}.nix").write_text(f'{{ networking.hostName = "h{i}"; }}\n')
    grafana, guest, relay, other = (fake.password(n) for n in ("g", "guest", "relay", "o"))
    (tmp_path / "secrets.nix").write_text(
        f'{{\n  grafana = "{grafana}";\n  guest = "{guest}";\n'
        f'  smtp = {{ relay = "{relay}"; }};\n  other = "{other}";\n}}\n'
    )
    (tmp_path / "flake.nix").write_text(
        "{ outputs = { nixpkgs, ... }: { nixosConfigurations.h = nixpkgs.lib.nixosSystem {\n"
        "  specialArgs = { secrets = import ./secrets.nix; };\n"
        "  modules = [ ./a.nix ./b.nix ./c.nix ]; }; }; }\n"
    )
    (tmp_path / "a.nix").write_text(
        "with import ./secrets.nix; { services.grafana.settings.security.admin_password ="
        " grafana; }\n"
    )
    (tmp_path / "b.nix").write_text(
        "let inherit (import ./secrets.nix) guest; in\n"
        '{ networking.wireless.networks."guest".psk = guest; }\n'
    )
    (tmp_path / "c.nix").write_text(
        "{ secrets, ... }: { programs.msmtp.accounts.default.password = secrets.smtp.relay; }\n"
    )
    found = sorted(
        (f.path, f.line, f.secret.reveal(), f.attrpath)
        for f in scan_tree(tmp_path, jobs=jobs).findings
    )
    assert found == [
        ("secrets.nix", 2, grafana, "grafana"),
        ("secrets.nix", 3, guest, "guest"),
        ("secrets.nix", 4, relay, "smtp.relay"),
    ]


def _staged(repo: Path, *names: str) -> list[tuple[str, str]]:
    from secretkit.scan.staged import scan_staged

    found = scan_staged(repo, names).findings
    return sorted((f.path, f.secret.reveal()) for f in found)


def test_the_hook_blocks_a_values_file_staged_alone(tmp_git_repo: Path) -> None:
    """The importer is committed already; the commit adds the values file: each staged
    file alone says nothing, and the hook let it through."""
    from secretkit.commands.hook import run_hook

    wifi = fake.password("staged-wifi")
    (tmp_git_repo / "hosts").mkdir()
    (tmp_git_repo / "hosts" / "a.nix").write_text(MODULE.replace("../shared", "./shared.nix"))
    commit_all(tmp_git_repo)
    (tmp_git_repo / "hosts" / "secrets.nix").write_text(f'{{ wifi = "{wifi}"; other = "x"; }}\n')
    git(tmp_git_repo, "add", "hosts/secrets.nix")
    assert _staged(tmp_git_repo, "hosts/secrets.nix") == [("hosts/secrets.nix", wifi)]
    report = run_hook(tmp_git_repo, ["hosts/secrets.nix"])
    assert report.blocked and [f.path for f in report.findings] == ["hosts/secrets.nix"]


def test_a_staged_importer_reads_the_committed_values_file(tmp_git_repo: Path) -> None:
    """The values file is committed (it held nothing a scan reads as a secret); the
    commit adds the module that gives one of its values to a secret option."""
    grafana = fake.password("staged-grafana")
    (tmp_git_repo / "secrets.nix").write_text(f'{{ web.grafana = "{grafana}"; }}\n')
    commit_all(tmp_git_repo)
    (tmp_git_repo / "a.nix").write_text(MODULE.replace("../shared", "./shared.nix"))
    git(tmp_git_repo, "add", "a.nix")
    assert _staged(tmp_git_repo, "a.nix") == [("secrets.nix", grafana)]
    # the staged bytes count, not the work tree's: a value emptied there but staged
    (tmp_git_repo / "secrets.nix").write_text('{ web.grafana = ""; }\n')
    assert _staged(tmp_git_repo) == [("secrets.nix", grafana)]


def test_a_module_staged_alone_reads_what_the_flake_hands_it(tmp_git_repo: Path) -> None:
    relay = fake.password("staged-relay")
    (tmp_git_repo / "secrets.nix").write_text(f'{{ smtp = {{ relay = "{relay}"; }}; }}\n')
    (tmp_git_repo / "flake.nix").write_text(
        "{ outputs = { nixpkgs, ... }: { nixosConfigurations.h = nixpkgs.lib.nixosSystem {\n"
        "  specialArgs = { secrets = import ./secrets.nix; }; modules = [ ./c.nix ]; }; }; }\n"
    )
    commit_all(tmp_git_repo)
    (tmp_git_repo / "c.nix").write_text(
        "{ secrets, ... }: { programs.msmtp.accounts.default.password = secrets.smtp.relay; }\n"
    )
    git(tmp_git_repo, "add", "c.nix")
    assert _staged(tmp_git_repo, "c.nix") == [("secrets.nix", relay)]


def test_a_staged_module_that_imports_no_values_reads_nothing_more(tmp_git_repo: Path) -> None:
    """The common commit: a module (a function) that imports no file for its values.
    No other blob of the index is read for it."""
    from secretkit.scan import nix_imports

    (tmp_git_repo / "secrets.nix").write_text(f'{{ wifi = "{fake.password("w")}"; }}\n')
    (tmp_git_repo / "b.nix").write_text("{ s }: { x.psk = s.wifi; }\n")
    commit_all(tmp_git_repo)
    (tmp_git_repo / "a.nix").write_text('{ ... }: { imports = [ ./b.nix ]; y = "z"; }\n')
    git(tmp_git_repo, "add", "a.nix")
    asked: list[list[str]] = []

    def read_index(names: list[str]) -> dict[str, bytes]:
        asked.append(names)
        return {}

    data = (tmp_git_repo / "a.nix").read_bytes()
    index = ["a.nix", "b.nix", "secrets.nix"]
    assert nix_imports.staged_values({"a.nix": data}, index, read_index, Allowlist()) == []
    assert asked == []
    values = (tmp_git_repo / "secrets.nix").read_bytes()
    nix_imports.staged_values({"secrets.nix": values}, index, read_index, Allowlist())
    assert asked == [["a.nix", "b.nix"]]


@pytest.mark.parametrize(
    "text",
    [
        b"let s = import ./secrets.nix; in { }",
        b"{ specialArgs = { secrets = import ./a/b.nix ; v=import ../v.nix;}; }",
        b"x = import <nixpkgs> {}; y = import ./y; z = (import ./z.nix); w = import\t./w.nix;",
        b"importFoo = 1; a = importx ./q.nix; b' = import ./b.nix;",
        b"  # c = import ./c.nix;\n" + b"d =\nimport ./d.nix;",
    ],
)
def test_the_bound_imports_found_from_each_import_are_the_regex_s(text: bytes) -> None:
    """:func:`_bound` looks back from each "import" (fast on a flake.nix's hundreds of
    versions): it finds what the pattern finds, no more, no less."""
    from secretkit.scan.nix_imports import _IMPORTED, _bound

    assert list(_bound(text)) == [(m[1], m[2]) for m in _IMPORTED.finditer(text)]
