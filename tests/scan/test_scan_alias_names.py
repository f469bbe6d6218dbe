"""A shell alias's name is the user's word for a command, not an option's name: ``topw``
(a stranger's alias for ``procs``, which ends in "pw") holds no password.  A secret
inside an alias's command is still found by the command rules."""

from __future__ import annotations

from pathlib import Path

from secretkit.scan.worktree import scan_tree
from tests.support import fake


def test_alias_names_do_not_name_their_commands_secrets(tmp_path: Path) -> None:
    password = fake.password("alias-names")
    (tmp_path / "shell.nix").write_text(
        "{\n"
        '  programs.zsh.shellAliases = { topw = "procs --watch --sortd cpu"; };\n'
        '  home.shellAliases.mypw = "pass show -c web/site";\n'
        '  programs.fish.shellAbbrs.gitpw = "git push --force-with-lease";\n'
        '  programs.git.aliases.tokens = "log --oneline --decorate";\n'
        f'  environment.shellAliases.db = "PGPASSWORD={password} psql -h db";\n'
        f'  services.app.password = "{password}";\n'
        "}\n"
    )
    report = scan_tree(tmp_path)
    found = sorted((f.line, f.rule, f.secret.reveal()) for f in report.findings)
    assert found == [
        (6, "command-secret", password),
        (7, "secret-attribute", password),
    ]
