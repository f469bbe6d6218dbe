"""Hostile or odd input, one row each: the exact line on stderr and the exit code, and
that nothing was written where it must not be (issue 13)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from secretkit.keys import sops_yaml
from secretkit.sops import operations
from tests.conftest import git
from tests.support import fake
from tests.support.smalllab import SmallLab, copy_lab, pristine_small_lab

pytestmark = pytest.mark.slow
HINT = "(hint: fix .sops.yaml by hand (see `secretkit init --help`) and retry)"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> SmallLab:
    return pristine_small_lab(tmp_path_factory.mktemp("pristine"))


@pytest.fixture
def lab(pristine: SmallLab, tmp_path: Path) -> SmallLab:
    return copy_lab(pristine, tmp_path / "box" / "repo")


def _tree(repo: Path) -> dict[str, bytes]:
    return {
        p.relative_to(repo).as_posix(): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }


def _one_line(result: subprocess.CompletedProcess[bytes]) -> tuple[int, str]:
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    return result.returncode, lines[0]


def test_a_host_name_that_would_leave_the_repository(lab: SmallLab) -> None:
    flake = lab.repo / "flake.nix"
    flake.write_text(flake.read_text().replace("beta = ", '"../../../escape" = '))
    before = _tree(lab.repo)
    outside = sorted(p.name for p in lab.repo.parent.iterdir())
    result = lab.run("migrate", "--yes")
    assert _one_line(result) == (
        3,
        "error: invalid host name '../../../escape': use letters, digits, '-' and '_' (max 63) "
        "(hint: use the NixOS host name, e.g. 'immich')",
    )
    assert _tree(lab.repo) == before
    assert sorted(p.name for p in lab.repo.parent.iterdir()) == outside


def test_secrets_folder_that_is_a_symlink(lab: SmallLab, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (lab.repo / "secrets").symlink_to(elsewhere)
    before = _tree(lab.repo)
    result = lab.run("migrate", "--yes")
    assert _one_line(result) == (
        3,
        f"error: refusing to write through secrets: it is a symbolic link (to {elsewhere}) "
        "(hint: replace secrets with a real directory in the repository and retry)",
    )
    assert list(elsewhere.iterdir()) == []
    assert _tree(lab.repo) == before


def test_sops_yaml_that_is_a_symlink(lab: SmallLab, tmp_path: Path) -> None:
    real = tmp_path / "real.sops.yaml"
    shutil.move(lab.repo / ".sops.yaml", real)
    (lab.repo / ".sops.yaml").symlink_to(real)
    before = real.read_bytes()
    assert "alpha" in sops_yaml.read_keys(lab.repo).hosts  # reading through it is fine
    from pyrage import x25519

    fresh = str(x25519.Identity.generate().to_public())
    result = lab.run("hosts", "add", "gamma", "--age", fresh)
    assert _one_line(result) == (
        3,
        f"error: refusing to write through .sops.yaml: it is a symbolic link (to {real}) "
        "(hint: replace .sops.yaml with a real file in the repository and retry)",
    )
    assert real.read_bytes() == before


DUPLICATE_COMMANDS: list[tuple[str, ...]] = [
    ("hosts", "list"),
    ("hosts", "remove", "beta"),
    ("updatekeys",),
    ("rotate", "data-keys"),
    ("set", "secrets/alpha.yaml", '["extra"]'),
    ("migrate", "--dry-run"),
]


def test_duplicate_anchors_are_one_refusal_for_every_command(lab: SmallLab) -> None:
    assert lab.run("migrate", "--yes").returncode == 0
    config = lab.repo / ".sops.yaml"
    text = config.read_text()
    admin_line = next(line for line in text.splitlines() if "&admin_tester" in line)
    config.write_text(text.replace(admin_line, admin_line + "\n" + admin_line, 1))
    before = _tree(lab.repo)
    for command in DUPLICATE_COMMANDS:
        result = lab.run(*command, stdin=b"v\n")
        code, line = _one_line(result)
        assert code == 3, (command, line)
        assert "defines an anchor twice" in line and "line 5, column 5" in line, (command, line)
        assert "Warning" not in result.stderr.decode()
    assert _tree(lab.repo) == before


def test_a_path_regex_python_cannot_express_is_an_error_not_no_rule(lab: SmallLab) -> None:
    config = lab.repo / ".sops.yaml"
    config.write_text(
        config.read_text().replace("^secrets/alpha\\.yaml$", "^secrets/\\pL+\\.yaml$")
    )
    result = lab.run("set", "secrets/alpha.yaml", '["k"]', stdin=b"v\n")
    code, line = _one_line(result)
    assert code == 3
    assert line.startswith("error: ") and line.endswith(
        ".sops.yaml rule 1: path_regex is not a valid regular expression (Unicode classes "
        "\\p{…} are not supported) (hint: path_regex is a Go RE2 regular expression, e.g. "
        "^secrets/host\\.yaml$)"
    )
    assert not (lab.repo / "secrets").exists()


def test_a_rule_without_an_admin_needs_yes_without_admin(lab: SmallLab) -> None:
    config = lab.repo / ".sops.yaml"
    lines = config.read_text().splitlines(keepends=True)
    first_alias = next(i for i, line in enumerate(lines) if line.strip() == "- *admin_tester")
    del lines[first_alias]  # alpha's rule keeps only the host
    config.write_text("".join(lines))
    before = _tree(lab.repo)
    result = lab.run("migrate", "--yes")
    assert _one_line(result) == (
        3,
        "error: the .sops.yaml rule for secrets/alpha.yaml names no admin key: after migrate "
        "no admin could read these secrets back (only the host could) (hint: add your admin "
        "key to that rule (secretkit init --admin age1… adds it to every host rule), or rerun "
        "with --yes-without-admin)",
    )
    assert _tree(lab.repo) == before
    assert lab.run("migrate", "--yes", "--yes-without-admin").returncode == 0


def test_an_existing_host_file_with_other_recipients(lab: SmallLab) -> None:
    from pyrage import x25519

    stranger = str(x25519.Identity.generate().to_public())
    config = lab.repo / ".sops.yaml"
    original = config.read_text()
    alias = "          - *host_alpha\n"
    config.write_text(original.replace(alias, alias + f"          - {stranger}\n", 1))
    made = lab.run("set", "secrets/alpha.yaml", '["earlier"]', stdin=b"old value\n")
    assert made.returncode == 0, made.stderr
    config.write_text(original)
    before = _tree(lab.repo)
    result = lab.run("migrate", "--yes")
    assert _one_line(result) == (
        3,
        "error: secrets/alpha.yaml is encrypted for other keys than its .sops.yaml rule names "
        "(1 more, 0 missing); new secrets written into it would be readable by keys the rule "
        "does not name (hint: re-encrypt it for exactly the rule's keys with a fresh data key: "
        "secretkit updatekeys secrets/alpha.yaml && secretkit rotate data-keys "
        "secrets/alpha.yaml (treat the values already in it as exposed), then migrate again)",
    )
    assert _tree(lab.repo) == before
    # the hint works
    assert lab.run("updatekeys", "secrets/alpha.yaml").returncode == 0
    assert lab.run("rotate", "data-keys", "secrets/alpha.yaml").returncode == 0
    done = lab.run("migrate", "--yes")
    assert done.returncode == 0, done.stderr
    sops = operations.load((lab.repo / "secrets" / "alpha.yaml").read_bytes(), "yaml", source="a")
    recipients = {e.fields["recipient"] for e in sops.metadata.all_keys()}
    keys = sops_yaml.read_keys(lab.repo)
    assert recipients == {keys.admins["tester"], keys.hosts["alpha"]}


def test_a_host_file_missing_a_key_its_rule_added_since(lab: SmallLab) -> None:
    """`init --admin NEW` on an existing .sops.yaml: the host's file lacks only the new
    admin.  migrate said the values were exposed to other keys ("0 more, 1 missing …
    treat the values already in it as exposed"); nothing is, and updatekeys is the way."""
    from pyrage import x25519

    made = lab.run("set", "secrets/alpha.yaml", '["earlier"]', stdin=b"old value\n")
    assert made.returncode == 0, made.stderr
    config = lab.repo / ".sops.yaml"
    newcomer = str(x25519.Identity.generate().to_public())
    alias = "          - *host_alpha\n"
    config.write_text(config.read_text().replace(alias, alias + f"          - {newcomer}\n", 1))
    before = _tree(lab.repo)
    result = lab.run("migrate", "--yes")
    assert _one_line(result) == (
        3,
        "error: secrets/alpha.yaml is not encrypted for 1 key(s) its .sops.yaml rule names "
        "(added to the rule since it was written): they could not read it (hint: give them "
        "the file: secretkit updatekeys secrets/alpha.yaml, then migrate again)",
    )
    assert _tree(lab.repo) == before
    assert lab.run("updatekeys", "secrets/alpha.yaml").returncode == 0  # the hint works
    done = lab.run("migrate", "--yes")
    assert done.returncode == 0, done.stderr
    sops = operations.load((lab.repo / "secrets" / "alpha.yaml").read_bytes(), "yaml", source="a")
    assert newcomer in {e.fields["recipient"] for e in sops.metadata.all_keys()}


def test_init_in_a_bare_repository(tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    from tests.support.smalllab import SmallLab as Lab

    lab = Lab(bare, tmp_path / "none", {}, {})
    from pyrage import x25519

    result = lab.run("init", "--admin", str(x25519.Identity.generate().to_public()))
    assert _one_line(result) == (
        3,
        f"error: {bare} is a git directory with no work tree (a bare repository or .git) "
        f"(hint: add one and run it there: git clone -q {bare} {bare}-worktree && cd "
        f"{bare}-worktree)",
    )
    assert not (bare / ".sops.yaml").exists()


def test_edit_keeps_text_that_does_not_parse(lab: SmallLab, tmp_path: Path) -> None:
    assert lab.run("migrate", "--yes").returncode == 0
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "broken: [\\n" >> "$1"\n')
    editor.chmod(0o755)
    before = (lab.repo / "secrets" / "alpha.yaml").read_bytes()
    result = lab.run("edit", "secrets/alpha.yaml", EDITOR=str(editor))
    code, line = _one_line(result)
    assert code == 3
    assert line.startswith("error: the edited content of secrets/alpha.yaml is not valid (")
    kept = Path(line.split("is kept in ", 1)[1].split(" ", 1)[0])
    assert kept.stat().st_mode & 0o777 == 0o600
    assert b"broken: [" in kept.read_bytes()
    assert (lab.repo / "secrets" / "alpha.yaml").read_bytes() == before


DEEP = 20_000
ODD_FILES: list[tuple[str, Callable[[Path], str], str]] = [
    ("decrypt", lambda d: "/dev/zero", "error: /dev/zero is larger than 128 MiB; not read "
     "(hint: check that this is the file you meant (devices like /dev/zero never end))"),
]  # fmt: skip


def test_a_nix_file_too_deep_to_walk_is_read_as_text(lab: SmallLab) -> None:
    """20,000 levels: 10 times the limit and far past Python's recursion limit.  (Past
    65,535 levels tree-sitter's query engine turns quadratic: 10**5 took 24 s of CPU.)
    Nesting past the walk's limit stopped the whole scan (exit 3, no file named);
    the file is read as text now, as one tree-sitter cannot place, and so are the rest."""
    value = fake.password("deep")
    deep = "{ a = " + "[" * DEEP + "1" + "]" * DEEP + f'; password = "{value}"; }}\n'
    _write(lab.repo / "deep.nix", deep)
    result = lab.run("scan", "--format", "json", "deep.nix")
    assert result.returncode == 1, result.stderr
    (finding,) = json.loads(result.stdout)["findings"]
    assert (finding["path"], finding["rule"]) == ("deep.nix", "secret-attribute")


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(("command", "make", "expected"), ODD_FILES, ids=["dev-zero"])
def test_odd_files(
    lab: SmallLab, tmp_path: Path, command: str, make: Callable[[Path], str], expected: str
) -> None:
    result = lab.run(command, make(lab.repo))
    assert _one_line(result) == (3, expected)


def test_edit_refuses_when_the_file_changed_under_the_editor(lab: SmallLab, tmp_path: Path) -> None:
    # Another writer (here: the "editor" itself, rewriting the real file) changes the
    # file while the editor is open: writing would undo that change.
    assert lab.run("migrate", "--yes").returncode == 0
    target = lab.repo / "secrets" / "alpha.yaml"
    other = lab.run("rotate", "data-keys", "secrets/beta.yaml")
    assert other.returncode == 0
    editor = tmp_path / "editor.sh"
    editor.write_text(
        "#!/bin/sh\n"
        f'cp "{lab.repo / "secrets" / "beta.yaml"}" "{target}"\n'
        'printf "added: yes\\n" >> "$1"\n'
    )
    editor.chmod(0o755)
    result = lab.run("edit", "secrets/alpha.yaml", EDITOR=str(editor))
    code, line = _one_line(result)
    assert code == 3
    assert line.startswith(
        "error: secrets/alpha.yaml changed while the editor was open; nothing was saved, "
        "your edited text is kept in "
    )
    kept = Path(line.split("is kept in ", 1)[1].split(" ", 1)[0])
    assert kept.parent == lab.repo / ".git" / "secretkit" / "kept"
    assert kept.stat().st_mode & 0o777 == 0o600
    assert kept.read_bytes().endswith(b"added: yes\n")
    assert target.read_bytes() == (lab.repo / "secrets" / "beta.yaml").read_bytes()
