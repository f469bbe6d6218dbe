"""Sources with real git: work tree, index (partially staged, GIT_INDEX_FILE), history;
skips, allowlist and inline suppression; lazy imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from secretkit.errors import NotARepoError
from secretkit.scan import allowlist
from secretkit.scan.history import scan_history
from secretkit.scan.one_file import scan_bytes
from secretkit.scan.staged import scan_staged
from secretkit.scan.worktree import scan_tree
from tests.conftest import ROOT, commit_all, git
from tests.support import fake


def _nix(value: str, name: str = "password") -> str:
    return f'{{\n  users.users.a.{name} = "{value}";\n}}\n'


def _secrets(report: object) -> set[str]:
    return {f.secret.reveal() for f in report.findings}  # type: ignore[attr-defined]


def test_tree_scans_tracked_and_untracked_not_ignored(tmp_git_repo: Path) -> None:
    tracked, untracked, ignored = (fake.password(s) for s in ("t", "u", "i"))
    (tmp_git_repo / "tracked.nix").write_text(_nix(tracked))
    (tmp_git_repo / ".gitignore").write_text("ignored.nix\n")
    commit_all(tmp_git_repo)
    (tmp_git_repo / "new.nix").write_text(_nix(untracked))
    (tmp_git_repo / "ignored.nix").write_text(_nix(ignored))
    report = scan_tree(tmp_git_repo)
    assert _secrets(report) == {tracked, untracked}
    assert {f.path for f in report.findings} == {"tracked.nix", "new.nix"}
    assert report.stats["files"] == 3


def test_tree_ignores_deleted_tracked_files_and_reads_symlink_targets(
    tmp_git_repo: Path,
) -> None:
    (tmp_git_repo / "gone.nix").write_text(_nix(fake.password("gone")))
    (tmp_git_repo / "target.nix").write_text("{ }\n")
    commit_all(tmp_git_repo)
    (tmp_git_repo / "gone.nix").unlink()
    os.symlink("/etc/hostname", tmp_git_repo / "link.nix")
    report = scan_tree(tmp_git_repo)
    assert report.findings == [] and report.skipped == []
    assert report.stats["files"] == 2  # target.nix, and link.nix's target (what git stores)


def test_tree_outside_git_walks_the_directory(tmp_path: Path) -> None:
    value = fake.password("walk")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.nix").write_text(_nix(value))
    (tmp_path / ".git-not").mkdir()
    report = scan_tree(tmp_path)
    assert [(f.path, f.secret.reveal()) for f in report.findings] == [("sub/x.nix", value)]


def test_tree_paths_limit_the_scan(tmp_git_repo: Path) -> None:
    (tmp_git_repo / "a").mkdir()
    (tmp_git_repo / "a" / "x.nix").write_text(_nix(fake.password("a")))
    (tmp_git_repo / "b.nix").write_text(_nix(fake.password("b")))
    assert {f.path for f in scan_tree(tmp_git_repo, ["a"]).findings} == {"a/x.nix"}


@pytest.mark.slow
def test_parallel_and_serial_agree(tmp_git_repo: Path) -> None:
    for i in range(60):
        (tmp_git_repo / f"m{i}.nix").write_text(_nix(fake.password(f"p{i}")))
    serial = scan_tree(tmp_git_repo, jobs=1)
    parallel = scan_tree(tmp_git_repo, jobs=2)
    assert [f.to_json() for f in serial.findings] == [f.to_json() for f in parallel.findings]
    assert len(serial.findings) == 60


def test_staged_scans_the_index_not_the_work_tree(tmp_git_repo: Path) -> None:
    staged_value = fake.password("staged")
    later_value = fake.password("later")
    (tmp_git_repo / "base.nix").write_text("{ }\n")
    commit_all(tmp_git_repo)
    # Partially staged: the index holds the secret, the work tree no longer does.
    (tmp_git_repo / "host.nix").write_text(_nix(staged_value))
    git(tmp_git_repo, "add", "host.nix")
    (tmp_git_repo / "host.nix").write_text("{ }\n")
    # And the other way round: clean in the index, a secret only in the work tree.
    (tmp_git_repo / "base.nix").write_text(_nix(later_value))
    report = scan_staged(tmp_git_repo)
    assert [(f.path, f.secret.reveal(), f.line) for f in report.findings] == [
        ("host.nix", staged_value, 2)
    ]
    assert _secrets(scan_tree(tmp_git_repo)) == {later_value}


def test_staged_honours_git_index_file(tmp_git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    value = fake.password("alt-index")
    (tmp_git_repo / "x.nix").write_text(_nix(value))
    alt = tmp_git_repo / ".git" / "alt-index"
    env = {**os.environ, "GIT_INDEX_FILE": str(alt)}
    subprocess.run(["git", "add", "x.nix"], cwd=tmp_git_repo, env=env, check=True)
    assert scan_staged(tmp_git_repo).findings == []  # the default index is empty
    monkeypatch.setenv("GIT_INDEX_FILE", str(alt))
    assert _secrets(scan_staged(tmp_git_repo)) == {value}


def test_staged_outside_a_repository_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(NotARepoError):
        scan_staged(tmp_path)


def test_history_finds_removed_secrets_once_with_their_commit(tmp_git_repo: Path) -> None:
    old = fake.password("old")
    (tmp_git_repo / "host.nix").write_text(_nix(old))
    first = commit_all(tmp_git_repo, "add")
    (tmp_git_repo / "copy.nix").write_text(_nix(old))  # same blob under another path
    commit_all(tmp_git_repo, "copy")
    (tmp_git_repo / "host.nix").write_text("{ }\n")
    (tmp_git_repo / "copy.nix").unlink()
    commit_all(tmp_git_repo, "remove")
    git(tmp_git_repo, "checkout", "-q", "-b", "side", first)
    branch_value = fake.password("branch")
    (tmp_git_repo / "side.nix").write_text(_nix(branch_value))
    side = commit_all(tmp_git_repo, "side")
    git(tmp_git_repo, "checkout", "-q", "main")

    seen: list[tuple[int, int]] = []
    report = scan_history(tmp_git_repo, progress=lambda d, t: seen.append((d, t)))
    assert scan_tree(tmp_git_repo).findings == []
    got = sorted((f.commit, f.path, f.secret.reveal()) for f in report.findings)
    assert got == sorted([(first, "host.nix", old), (side, "side.nix", branch_value)])
    assert seen and seen[-1][0] == seen[-1][1]
    # Every finding's blob is readable as <commit>:<path> (purge relies on it).
    for f in report.findings:
        blob = git(tmp_git_repo, "show", f"{f.commit}:{f.path}").encode()
        assert blob[f.start : f.end] == f.secret.reveal().encode()


def test_history_of_an_empty_repository(tmp_git_repo: Path) -> None:
    assert scan_history(tmp_git_repo).findings == []


def test_binary_oversized_and_undecodable_files_are_scanned_not_skipped() -> None:
    token = fake.github_token("bin")
    found, skipped = scan_bytes("a.png", b"\x89PNG\0\0data\x01" + token.encode() + b"\0\xff")
    assert skipped is None and [f.secret.reveal() for f in found] == [token]
    big = b"x = 1\n" * (200 * 1024)
    assert scan_bytes("big.nix", big) == ([], None)
    assert scan_bytes("bad.nix", b'{ a = "\xff\xfe"; }') == ([], None)


def test_tree_scans_binary_files_for_printable_runs(tmp_path: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\0\1\2")
    (tmp_path / "ok.nix").write_text("{ }\n")
    report = scan_tree(tmp_path)
    assert report.skipped == []
    assert report.stats["files"] == 2


def test_malformed_nix_still_scanned() -> None:
    value = fake.password("broken")
    findings, skipped = scan_bytes("x.nix", f'{{ password = "{value}"; broken = '.encode())
    assert [f.secret.reveal() for f in findings] == [value]
    # (and said to be read in part: tests/commands/test_cmd_check_syntax_errors.py)
    assert skipped is not None and skipped.reason.startswith("Nix syntax error at line 1:")


def test_allowlist_file_suppresses_by_keyed_fingerprint(tmp_git_repo: Path) -> None:
    keep, allow = fake.password("keep"), fake.password("allow")
    (tmp_git_repo / "x.nix").write_text(_nix(keep) + _nix(allow, "initialPassword"))
    commit_all(tmp_git_repo)
    report = scan_tree(tmp_git_repo)
    assert len(report.findings) == 2
    target = next(f for f in report.findings if f.secret.reveal() == allow)
    (tmp_git_repo / ".secretkit-allow").write_text(f"# reviewed\n{target.fingerprint}  # test\n")
    assert _secrets(scan_tree(tmp_git_repo)) == {keep}
    # Keyed per repository: the same value fingerprints differently elsewhere.
    assert target.fingerprint != allowlist.fingerprint(allowlist.derive_key(None), allow)
    assert allow not in (tmp_git_repo / ".secretkit-allow").read_text()


def test_fingerprint_is_stable_across_sources(tmp_git_repo: Path) -> None:
    value = fake.password("stable")
    (tmp_git_repo / "x.nix").write_text(_nix(value))
    commit_all(tmp_git_repo)
    fps = {
        scan_tree(tmp_git_repo).findings[0].fingerprint,
        scan_history(tmp_git_repo).findings[0].fingerprint,
    }
    git(tmp_git_repo, "add", "x.nix")
    fps.add(scan_staged(tmp_git_repo).findings[0].fingerprint)
    assert len(fps) == 1


@pytest.mark.parametrize(
    ("files", "forbidden"),
    [
        (
            {"a.yaml": "x: 1\n", "b.json": "{}\n", "c.toml": "a = 1\n", "d.env": "A=1\n"},
            ("detect_secrets", "tree_sitter"),
        ),
        ({"a.nix": "{ }\n", "b.yaml": "x: 1\n"}, ("detect_secrets",)),
        ({"run.sh": "echo hi\n", "c.yaml": "x: 1\n"}, ("tree_sitter",)),
    ],
)
def test_staged_imports_only_what_the_files_need(
    tmp_git_repo: Path, files: dict[str, str], forbidden: tuple[str, ...]
) -> None:
    for name, text in files.items():
        (tmp_git_repo / name).write_text(text)
    git(tmp_git_repo, "add", ".")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from secretkit.scan.staged import scan_staged\n"
        f"scan_staged(Path({str(tmp_git_repo)!r}))\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    loaded = set(proc.stdout.split())
    for module in forbidden:
        assert module not in loaded


@pytest.mark.parametrize("jobs", [1, 2])
def test_copies_of_a_file_are_scanned_once_and_reported_each(tmp_path: Path, jobs: int) -> None:
    """A content seen before under the same file type gives its findings again under
    the copy's path (same lines); the same bytes read as another type are scanned as
    that type; every copy counts as a file."""
    secret = fake.password("copied")
    text = _nix(secret)
    for i in range(30):  # enough files for the process pool
        (tmp_path / f"host{i}").mkdir()
        (tmp_path / f"host{i}" / "users.nix").write_text(text)
        (tmp_path / f"host{i}" / "other.nix").write_text(f"{{ x = {i}; }}\n")
    (tmp_path / "users.txt").write_text(text)  # as text: a quoted pair, not an attribute
    report = scan_tree(tmp_path, jobs=jobs)
    nix = [f for f in report.findings if f.path.endswith(".nix")]
    assert sorted(f.path for f in nix) == sorted(f"host{i}/users.nix" for i in range(30))
    assert {(f.line, f.column, f.rule, f.attrpath) for f in nix} == {
        (2, 29, "secret-attribute", "users.users.a.password")
    }
    assert all(f.secret.reveal() == secret and f.commit is None for f in nix)
    as_text = [f for f in report.findings if f.path == "users.txt"]
    alone = scan_bytes("users.txt", text.encode())[0]
    assert [(f.rule, f.attrpath, f.start) for f in as_text] == [
        (f.rule, f.attrpath, f.start) for f in alone
    ]
    assert as_text and as_text[0].attrpath is None
    assert report.stats["files"] == 61
    assert report.stats["bytes"] == 30 * len(text) + sum(
        len(f"{{ x = {i}; }}\n") for i in range(30)
    ) + len(text)


def test_copies_in_a_repository_checked_with_the_cache(tmp_git_repo: Path) -> None:
    """check's cached tree scan: copies (one blob id) give a finding each."""
    secret = fake.password("copied")
    for name in ("a", "b", "c"):
        (tmp_git_repo / name).mkdir()
        (tmp_git_repo / name / "users.nix").write_text(_nix(secret))
    commit_all(tmp_git_repo)
    for _ in range(2):  # cold, then with the cache
        report = scan_tree(tmp_git_repo, use_cache=True)
        assert sorted(f.path for f in report.findings) == [
            "a/users.nix",
            "b/users.nix",
            "c/users.nix",
        ]
        assert report.stats["files"] == 3
