"""The one sops-file finder (secretkit.sops.finder): every sops file by its content,
each candidate found, damaged, skipped (as values) or not a sops file; and the one
set that ``updatekeys`` and ``rotate data-keys`` without FILE both process."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.errors import IntegrityError
from secretkit.sops import document, operations
from secretkit.sops.config import find_config
from secretkit.sops.finder import find_sops_files, named_or_every, refuse_damaged
from tests.conftest import commit_all
from tests.sops.keys_support import AgeKey, age_key, age_rule_config


def _encrypt(root: Path, rel: str, body: bytes, fmt: str = "yaml") -> Path:
    config = find_config(root)
    assert config is not None
    rule = config.rule_for(root / rel)
    assert rule is not None
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(operations.encrypt_new(document.load_plain(body, fmt), rule))
    return path


@pytest.fixture
def key() -> AgeKey:
    return age_key()


def test_each_candidate_is_found_damaged_skipped_or_no_sops_file(
    tmp_git_repo: Path, key: AgeKey
) -> None:
    age_rule_config(tmp_git_repo, key.public, path_regex=r"^secrets/.*\.yaml$")
    _encrypt(tmp_git_repo, "secrets/good.yaml", b"k: v\n")
    truncated = _encrypt(tmp_git_repo, "secrets/cut.yaml", b"a: 1\nb: 2\n")
    truncated.write_bytes(truncated.read_bytes()[:120])  # values left, metadata gone
    (tmp_git_repo / "secrets/link.yaml").symlink_to("good.yaml")
    (tmp_git_repo / "notes.yaml").write_text("sops:\n  not: metadata\n")
    commit_all(tmp_git_repo)
    config = find_config(tmp_git_repo)
    result = find_sops_files(tmp_git_repo, config=config)
    assert [f.rel for f in result.found] == ["secrets/good.yaml"]
    assert [(d.rel, d.problem) for d in result.damaged] == [
        ("secrets/cut.yaml", "not a sops file: no sops metadata found (yaml)")
    ]
    assert [(s.rel, s.reason) for s in result.skipped] == [
        ("secrets/link.yaml", "a symbolic link (not followed)")
    ]
    # without the rules nothing says the truncated file should have been one
    assert find_sops_files(tmp_git_repo).damaged == []
    with pytest.raises(IntegrityError, match=r"secrets/cut\.yaml matches a creation rule"):
        refuse_damaged(result.damaged)


def test_metadata_without_keys_is_no_sops_file_and_damaged_under_a_rule(
    tmp_git_repo: Path, key: AgeKey
) -> None:
    age_rule_config(tmp_git_repo, key.public, path_regex=r"^secrets/")
    path = _encrypt(tmp_git_repo, "secrets/a.yaml", b"k: v\n")
    sops = document.load_encrypted(path.read_bytes(), "yaml")
    sops.metadata.key_groups = []
    path.write_bytes(document.dump(sops))
    result = find_sops_files(tmp_git_repo, config=find_config(tmp_git_repo))
    assert result.found == []
    assert [(d.rel, d.problem) for d in result.damaged] == [
        ("secrets/a.yaml", "its sops metadata lists no keys")
    ]


def test_updatekeys_and_rotate_process_the_files_git_publishes(
    tmp_git_repo: Path, key: AgeKey
) -> None:
    """Behaviour change (issue 10): ``rotate data-keys`` / ``updatekeys --engine sops``
    without FILE walked the directory (hidden directories left out, ignored files
    in); now they process what the tree-wide ``updatekeys`` and ``check`` see: the
    files git would publish, a hidden directory's too, an ignored file not."""
    from secretkit.commands.rotate import rotate_data_keys

    age_rule_config(tmp_git_repo, key.public, path_regex=r"\.yaml$")
    _encrypt(tmp_git_repo, "secrets/a.yaml", b"k: v\n")
    _encrypt(tmp_git_repo, ".config/b.yaml", b"k: v\n")
    _encrypt(tmp_git_repo, "local/c.yaml", b"k: v\n")
    (tmp_git_repo / ".gitignore").write_text("local/\n")
    commit_all(tmp_git_repo)
    config = find_config(tmp_git_repo)
    assert config is not None
    expected = [tmp_git_repo / ".config/b.yaml", tmp_git_repo / "secrets/a.yaml"]
    assert named_or_every(tmp_git_repo, config, ()) == expected
    ignored = (tmp_git_repo / "local/c.yaml").read_bytes()
    hidden = (tmp_git_repo / ".config/b.yaml").read_bytes()
    key.write(tmp_git_repo.parent / "age.txt")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SOPS_AGE_KEY_FILE", str(tmp_git_repo.parent / "age.txt"))
        assert list(rotate_data_keys(tmp_git_repo).files) == expected
    assert (tmp_git_repo / "local/c.yaml").read_bytes() == ignored
    assert (tmp_git_repo / ".config/b.yaml").read_bytes() != hidden
