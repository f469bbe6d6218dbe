"""A password hash in the tree or the history is a warning (check still passes on
it) whose way out works: migrate only where its planner has a route for the option,
and for a hash already committed, what history needs (a new password, or purge)."""

from __future__ import annotations

from pathlib import Path

from secretkit.commands.check import run_check
from secretkit.nix.catalogue.password_hash import sha512_crypt
from tests.conftest import commit_all
from tests.support import fake

FLAKE = (
    "{ outputs = { nixpkgs, ... }: { nixosConfigurations.box = nixpkgs.lib.nixosSystem "
    "{ modules = [ ./hosts/box ]; }; }; }\n"
)


def _warnings(root: Path, point: str) -> list[tuple[str, str]]:
    report = run_check(root)
    return [(r.message, r.fix) for r in report.results if r.id == point and r.warning]


def test_hash_warnings_name_a_way_out_that_works(tmp_git_repo: Path) -> None:
    root = tmp_git_repo
    user_hash = sha512_crypt(fake.password("hash-user"), salt="abcdefghijklmnop")
    pbkdf2 = (
        "$pbkdf2-sha512$310000$"
        + fake.chars(fake._ALNUM, 22, "s")
        + "$"
        + fake.chars(fake._ALNUM, 86, "h")
    )
    (root / "hosts/box").mkdir(parents=True)
    (root / "flake.nix").write_text(FLAKE)
    (root / "hosts/box/default.nix").write_text(
        "{ ... }:\n{\n"
        f'  users.users.bob.hashedPassword = "{user_hash}";\n'
        "  services.authelia.instances.main.settings.identity_providers.oidc.clients = [\n"
        f'    {{ client_secret = "{pbkdf2}"; }}\n  ];\n'
        "}\n"
    )
    commit_all(root, "hashes")
    tree = dict(_warnings(root, "plaintext-tree"))
    (user,) = [fix for message, fix in tree.items() if "users.users.bob.hashedPassword" in message]
    assert user == "to keep it private: secretkit migrate (hashedPassword → hashedPasswordFile)"
    (client,) = [fix for message, fix in tree.items() if "client_secret" in message]
    assert "migrate has no route for it" in client and "secretkit migrate" not in client
    for message, fix in _warnings(root, "plaintext-history"):
        assert "''" not in message  # the preview is shown, not an empty one
        assert "'$6$a" in message or "'$pbk" in message
        assert "secretkit purge" in fix and "migrate" not in fix


def test_an_htpasswd_hash_warning_names_migrates_own_route(tmp_git_repo: Path) -> None:
    """helper-105: an htpasswd line given to basicAuthFile was "secretkit migrate
    (hashedPassword → hashedPasswordFile)"; migrate moves it to a sops template."""
    root = tmp_git_repo
    line = "admin:$apr1$" + fake.chars(fake._ALNUM, 8, "s") + "$" + fake.chars(fake._ALNUM, 22, "h")
    (root / "hosts/box").mkdir(parents=True)
    (root / "flake.nix").write_text(FLAKE)
    (root / "hosts/box/default.nix").write_text(
        '{ pkgs, ... }:\n{\n  networking.hostName = "box";\n'
        '  services.nginx.virtualHosts."a.lan".basicAuthFile = pkgs.writeText "a" "'
        + line.replace("$", "\\$")
        + '";\n}\n'
    )
    commit_all(root, "an htpasswd")
    (fix,) = [
        fix for message, fix in _warnings(root, "plaintext-tree") if "basicAuthFile" in message
    ]
    assert fix == "to keep it private: secretkit migrate"
