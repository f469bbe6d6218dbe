"""`import agenix` on broken input: one clear line, the exit code of the table, nothing
changed (no file, no journal)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.commands.agenix_support import AgenixLab, make_lab, run


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> AgenixLab:
    return make_lab(tmp_path_factory.mktemp("agenix-faults"))


def _edit(rel: str, old: str, new: str) -> Callable[[AgenixLab], dict[str, str]]:
    def change(lab: AgenixLab) -> dict[str, str]:
        path = lab.root / rel
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))
        return {}

    return change


def _foreign_age_file(lab: AgenixLab) -> dict[str, str]:
    run("age-keygen", "-o", str(lab.root.parent / "stranger.txt"))
    stranger = run("age-keygen", "-y", str(lab.root.parent / "stranger.txt")).decode().strip()
    run("age", "-e", "-r", stranger, "-o", str(lab.root / "secrets" / "wifi.age"), input=b"x")
    return {}


def _not_an_age_file(lab: AgenixLab) -> dict[str, str]:
    (lab.root / "secrets" / "db-password.age").write_bytes(b"not age at all\n")
    return {}


def _unknown_key(lab: AgenixLab) -> dict[str, str]:
    path = lab.root.parent / "carol_id_ed25519"
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "carol", "-f", str(path))
    carol = Path(f"{path}.pub").read_text().strip()
    rules = lab.root / "secrets" / "secrets.nix"
    text = rules.read_text().replace("in\n{", f'  carol = "{carol}";\nin\n{{', 1)
    rules.write_text(text.replace("[ alice laptop ]", "[ alice laptop carol ]"))
    return {}


def _rekeyed_outputs(lab: AgenixLab) -> dict[str, str]:
    out = lab.root / "secrets" / "rekeyed" / "web1"
    out.mkdir(parents=True)
    (out / "0123abcd-api-token.age").write_bytes(
        (lab.root / "secrets" / "api-token.age").read_bytes()
    )
    return {}


def _not_an_admin(lab: AgenixLab) -> dict[str, str]:
    run("age-keygen", "-o", str(lab.root.parent / "other.txt"))
    return {"SOPS_AGE_KEY_FILE": str(lab.root.parent / "other.txt")}


CASES: dict[str, tuple[Callable[[AgenixLab], dict[str, str]], int, str]] = {
    "syntax error in secrets.nix": (
        _edit("secrets/secrets.nix", "users = [ alice bob ];", "users = [ alice bob ;"),
        3,
        "error: secrets/secrets.nix line ",
    ),
    "secrets.nix needs evaluation": (
        _edit("secrets/secrets.nix", "[ alice laptop ]", "map (k: k) [ alice laptop ]"),
        3,
        "error: secrets/secrets.nix line 18: a function call (map (k: k))",
    ),
    "undefined let name": (
        _edit("secrets/secrets.nix", "[ alice laptop ]", "[ alice laptop dave ]"),
        3,
        "error: secrets/secrets.nix line 18: dave is not defined in the let block",
    ),
    "no identity opens an .age file": (
        _foreign_age_file,
        4,
        "error: none of your identities opens secrets/wifi.age",
    ),
    "an .age file that is not age": (
        _not_an_age_file,
        4,
        "error: secrets/db-password.age is not a readable age file",
    ),
    "a public key that is no host and no admin": (
        _unknown_key,
        3,
        "error: secrets/secrets.nix: public key carol (reads wifi.age) matches no host",
    ),
    "the user holds no admin key": (
        _not_an_admin,
        3,
        "error: none of your identities is an admin key of .sops.yaml",
    ),
    "agenix-rekey next to secrets.nix": (
        _edit(
            "modules/common.nix",
            "{\n  age.secrets",
            '{\n  age.rekey.storageMode = "local";\n  age.secrets',
        ),
        3,
        "error: modules/common.nix uses agenix-rekey",
    ),
    "agenix-rekey outputs next to secrets.nix": (
        _rekeyed_outputs,
        3,
        "error: secrets/rekeyed/web1 (rekeyed .age outputs) uses agenix-rekey",
    ),
    "an agenix option sops-nix lacks": (
        _edit(
            "modules/common.nix",
            "{\n  age.secrets",
            '{\n  age.secretsDir = "/run/keys";\n  age.secrets',
        ),
        3,
        "error: cannot convert modules/common.nix: age.secretsDir is an agenix option "
        "without a sops-nix counterpart",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_one_line_exit_code_nothing_changed(
    template: AgenixLab, tmp_path: Path, case: str
) -> None:
    change, code, message = CASES[case]
    lab = template.copy(tmp_path / "repo")
    env = change(lab)
    before = lab.tree()
    result = lab.run("import", "agenix", "--yes", **env)
    err = result.stderr.decode()
    assert result.returncode == code, err
    assert err.startswith(message), err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert lab.tree() == before
    assert not (lab.root / ".git" / "secretkit-journal").exists()


def test_the_hint_for_a_user_who_is_no_admin_works(template: AgenixLab, tmp_path: Path) -> None:
    lab = template.copy(tmp_path / "repo")
    env = _not_an_admin(lab)
    failed = lab.run("import", "agenix", "--yes", **env)
    hint = failed.stderr.decode().split("(hint: add yours: ", 1)[1].rstrip(")\n")
    follow = lab.run(*hint.replace("NAME", "other").split()[1:])
    assert follow.returncode == 0, follow.stderr.decode()
    again = lab.run("import", "agenix", "--yes", **env)  # now past the admin check:
    assert again.returncode == 4, again.stderr.decode()  # that key opens no .age file
    assert again.stderr.decode().startswith("error: none of your identities opens secrets/")


def test_the_hint_for_an_unknown_key_works(template: AgenixLab, tmp_path: Path) -> None:
    lab = template.copy(tmp_path / "repo")
    _unknown_key(lab)
    failed = lab.run("import", "agenix", "--yes")
    hint = failed.stderr.decode().split("(hint: a person: ", 1)[1].split(";", 1)[0]
    assert hint.startswith("secretkit init --admin age1")
    follow = lab.run(*hint.split()[1:])  # the hint's command line, after "secretkit"
    assert follow.returncode == 0, follow.stderr.decode()
    done = lab.run("import", "agenix", "--yes")
    assert done.returncode == 0, done.stderr.decode()
    assert "&admin_carol" in (lab.root / ".sops.yaml").read_text()


def test_every_place_to_change_by_hand_is_named_in_one_run_before_any_key(
    template: AgenixLab, tmp_path: Path
) -> None:
    """A stranger found the blockers one run at a time, the first after the key check;
    now one run, even by someone whose key opens nothing yet, names them all."""
    lab = template.copy(tmp_path / "repo")
    _edit(
        "modules/common.nix", "{\n  age.secrets", '{\n  age.secretsDir = "/run/k";\n  age.secrets'
    )(lab)
    _edit("modules/web.nix", "{\n", '{\n  age.identityPaths = [ ];\n  age.ageBin = "age";\n')(lab)
    env = _not_an_admin(lab)  # no key of ours opens anything
    before = lab.tree()
    result = lab.run("import", "agenix", "--yes", **env)
    err = result.stderr.decode()
    assert result.returncode == 3, err
    assert err.startswith("error: cannot convert 2 places: "), err
    assert "modules/common.nix: age.secretsDir is an agenix option" in err
    assert "modules/web.nix: age.ageBin is an agenix option" in err
    assert len(err.strip().splitlines()) == 1
    assert lab.tree() == before
