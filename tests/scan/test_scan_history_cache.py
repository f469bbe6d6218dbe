"""The history cache: a second scan reads only new blobs, finds exactly what the first
found, holds no secret value, and is dropped when the detectors or allowlist change
or when history is rewritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.git import objects
from secretkit.scan import history_cache
from secretkit.scan.history import scan_history
from secretkit.scan.worktree import scan_tree
from tests.conftest import commit_all, git, shallow_past_a_token
from tests.support import fake


def _nix(value: str) -> str:
    return f'{{\n  users.users.a.password = "{value}";\n}}\n'


def _cache(repo: Path) -> Path:
    return repo / ".git" / "secretkit" / "history-cache"


def _found(report: object) -> list[tuple[str | None, str, str]]:
    return sorted(
        (f.commit, f.path, f.fingerprint)
        for f in report.findings  # type: ignore[attr-defined]
    )


@pytest.fixture
def history(tmp_git_repo: Path) -> tuple[Path, str]:
    secret = fake.password("cached")
    for i in range(60):  # enough blobs for the process pool
        (tmp_git_repo / f"mod{i}.nix").write_text(f"{{ services.x{i}.enable = true; }}\n")
    (tmp_git_repo / "host.nix").write_text(_nix(secret))
    commit_all(tmp_git_repo, "add")
    (tmp_git_repo / "host.nix").write_text("{ }\n")
    commit_all(tmp_git_repo, "remove")
    return tmp_git_repo, secret


def test_second_scan_reads_only_flagged_blobs_and_finds_the_same(
    history: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from secretkit.scan import allowlist

    repo, secret = history
    scrypts = allowlist.fingerprint.cache_info().misses
    first = scan_history(repo)
    assert len(first.findings) == 1
    # no fingerprint (a scrypt) until an output or the allowlist asks for one
    assert allowlist.fingerprint.cache_info().misses == scrypts
    text = _cache(repo).read_text()
    assert secret not in text and secret[:4] not in text  # no value, no preview
    assert first.findings[0].fingerprint not in text  # nor a fingerprint
    assert (_cache(repo).stat().st_mode & 0o777) == 0o600
    assert (_cache(repo).parent.stat().st_mode & 0o777) == 0o700  # (git dir)/secretkit

    read: list[str] = []
    real = objects.read_blobs_limited

    def counting(root: Path, oids: object, limit: int | None = None, kind: bytes = b"blob"):  # type: ignore[no-untyped-def]
        wanted = list(oids)  # type: ignore[call-overload]
        if kind == b"blob":  # (commit objects are read for their messages)
            read.extend(wanted)
        return real(root, wanted, limit, kind)

    monkeypatch.setattr(objects, "read_blobs_limited", counting)
    second = scan_history(repo)
    assert _found(second) == _found(first)
    assert second.findings[0].secret.reveal() == secret
    assert len(read) == 1  # only the blob with a finding is read again
    # the stats say what the cache vouched for, so "bytes" (read now) is not puzzling
    assert first.to_json()["stats"]["cached"] == 0
    assert second.to_json()["stats"]["cached"] == second.stats["files"]
    assert second.stats["bytes"] == 0
    from secretkit.scan.report import render_text

    assert f"({second.stats['files']} of them not read again" in render_text(second)

    # a new commit: only its blob is new
    (repo / "new.nix").write_text("{ }\n# plain\n")
    commit_all(repo, "new")
    read.clear()
    third = scan_history(repo)
    assert _found(third) == _found(first)
    assert len(read) == 2  # the flagged blob and the new one


@pytest.mark.parametrize("leak", [True, False])
def test_a_blob_over_the_size_limit_is_remembered_like_any_other(
    tmp_git_repo: Path, leak: bool
) -> None:
    """A blob too large to hold whole is scanned in pieces; the cache remembers what
    that gave.  It remembered nothing, so the next run counted the blob neither clean
    nor flagged and its secret was gone from every later scan (and check)."""
    for i in range(60):  # the process pool, as on a real history
        (tmp_git_repo / f"mod{i}.nix").write_text(f"{{ services.x{i}.enable = true; }}\n")
    token = fake.github_token("large")
    tail = f"export GITHUB_TOKEN={token}\n" if leak else "echo done\n"
    (tmp_git_repo / "big.txt").write_text("# filler line of a large file\n" * 400 + tail)
    commit_all(tmp_git_repo, "big")
    limit = 4096  # (big.txt is three times that: streamed from git, scanned in pieces)
    runs = [scan_history(tmp_git_repo, max_bytes=limit) for _ in range(3)]
    for report in runs:
        found = [(f.path, f.rule) for f in report.findings]
        assert found == ([("big.txt", "github-token")] if leak else [])
        assert report.stats["files"] == runs[0].stats["files"] == 61
    assert runs[2].stats["cached"] == (60 if leak else 61)
    assert token not in _cache(tmp_git_repo).read_text()


def test_a_flagged_blob_is_rebuilt_from_its_cached_spans_not_scanned_again(
    history: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second run takes a flagged blob's findings from the cache (positions, rule,
    kind, attribute path) and the value from the blob: the same findings, the same
    fingerprints (keyed by this repository), without running the detectors."""
    from secretkit.scan import history_run

    repo, secret = history
    first = scan_history(repo)
    scanned: list[int] = []
    real = history_run.start_batch

    def counting(batch, *args):  # type: ignore[no-untyped-def]
        scanned.append(len(batch))
        return real(batch, *args)

    monkeypatch.setattr(history_run, "start_batch", counting)
    second = scan_history(repo)
    assert sum(scanned) == 0  # nothing went through the detectors
    assert [f.to_json() for f in second.findings] == [f.to_json() for f in first.findings]
    assert [f.secret.reveal() for f in second.findings] == [secret]


def test_a_changed_detector_set_drops_the_cache(
    history: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _ = history
    scan_history(repo)
    key_before = _cache(repo).read_text().splitlines()[0]
    monkeypatch.setattr(history_cache, "detector_version", lambda: "another-detector-set")
    report = scan_history(repo)
    assert len(report.findings) == 1
    assert _cache(repo).read_text().splitlines()[0] != key_before


def test_an_allowlisted_value_is_not_cached_as_clean_for_ever(history: tuple[Path, str]) -> None:
    repo, _ = history
    (fp,) = {f.fingerprint for f in scan_history(repo).findings}
    (repo / ".secretkit-allow").write_text(fp + "\n")
    assert scan_history(repo).findings == []
    (repo / ".secretkit-allow").unlink()
    assert len(scan_history(repo).findings) == 1


def test_a_rewritten_history_is_walked_again(history: tuple[Path, str]) -> None:
    repo, _ = history
    scan_history(repo)
    # drop the commit that added the secret: the cached finding must not survive
    git(repo, "checkout", "-q", "--orphan", "fresh")
    git(repo, "rm", "-q", "-r", "--cached", "host.nix")
    (repo / "host.nix").unlink()
    commit_all(repo, "fresh start")
    git(repo, "branch", "-D", "main")
    assert scan_history(repo).findings == []


def test_the_tree_scan_shares_the_cache(history: tuple[Path, str]) -> None:
    repo, secret = history
    scan_history(repo)
    (repo / "host.nix").write_text(_nix(secret))  # the secret is back in the tree
    assert len(scan_tree(repo, use_cache=True).findings) == 1
    assert len(scan_tree(repo, use_cache=True).findings) == 1


# A run on the cache must find what a run without it finds, whatever moved between them.


def _fresh(repo: Path) -> list[tuple[str | None, str, str]]:
    import shutil

    shutil.rmtree(repo / ".git" / "secretkit", ignore_errors=True)
    return _found(scan_history(repo))


def _paths(report: object) -> list[tuple[str | None, str]]:
    return sorted((f.commit, f.path) for f in report.findings)  # type: ignore[attr-defined]


def test_a_renamed_or_copied_flagged_blob_keeps_its_first_commit_and_path(
    tmp_git_repo: Path,
) -> None:
    """A new commit that adds a known blob at another path (rename, copy) did replace
    the cached entry: the secret was then judged at the new path only (a one-line file
    under secrets/ is a secret, as notes.txt it is not) and check passed.  (A copy at a
    path that reads alike, b.nix, is not reported again.)"""
    (tmp_git_repo / "secrets").mkdir()
    (tmp_git_repo / "secrets/token").write_text(fake.password("renamed") + "Zq7\n")
    (tmp_git_repo / "a.nix").write_text(_nix(fake.password("copied")))
    first = commit_all(tmp_git_repo, "add")
    before = _paths(scan_history(tmp_git_repo))
    assert before == [(first, "a.nix"), (first, "secrets/token")]
    git(tmp_git_repo, "mv", "secrets/token", "notes.txt")
    (tmp_git_repo / "b.nix").write_text((tmp_git_repo / "a.nix").read_text())
    commit_all(tmp_git_repo, "rename and copy")
    cached = _paths(scan_history(tmp_git_repo))
    assert cached == before
    assert _found(scan_history(tmp_git_repo)) == _fresh(tmp_git_repo)


def test_a_new_root_for_head_drops_the_cache_when_the_allowlist_has_entries(
    tmp_git_repo: Path,
) -> None:
    """The allowlist's entries are made with a key from HEAD's root commit: on another
    root they allow nothing, so what the cache remembers as allowed must be judged
    again."""
    from secretkit.scan import allowlist

    token = fake.github_token("allowed")
    (tmp_git_repo / "b.env").write_text(f"TOKEN={token}\n")
    commit_all(tmp_git_repo, "token")
    print_fp = scan_history(tmp_git_repo).findings[0].fingerprint
    (tmp_git_repo / allowlist.ALLOW_FILE).write_text(print_fp + "\n")
    commit_all(tmp_git_repo, "allow")
    assert _fresh(tmp_git_repo) == []
    git(tmp_git_repo, "checkout", "-q", "--orphan", "pages")
    git(tmp_git_repo, "commit", "-q", "--no-verify", "-m", "pages root")
    cached = _found(scan_history(tmp_git_repo))
    assert cached == _fresh(tmp_git_repo) != []


def test_a_commit_on_another_worktrees_head_is_walked(tmp_git_repo: Path, tmp_path: Path) -> None:
    (tmp_git_repo / "README.md").write_text("hi\n")
    commit_all(tmp_git_repo, "readme")
    assert _found(scan_history(tmp_git_repo)) == []
    other = tmp_path / "other"
    git(tmp_git_repo, "worktree", "add", "-q", "--detach", str(other), "HEAD")
    (other / "b.env").write_text(f"TOKEN={fake.github_token('worktree')}\n")
    git(other, "add", "b.env")
    git(other, "commit", "-q", "--no-verify", "-m", "on a detached head")
    cached = _found(scan_history(tmp_git_repo))
    assert cached == _fresh(tmp_git_repo) and len(cached) == 1


def test_deepening_a_shallow_clone_walks_the_history_it_brings(
    tmp_git_repo: Path, tmp_path: Path
) -> None:
    clone = shallow_past_a_token(tmp_git_repo, tmp_path / "clone", fake.github_token("shallow"))
    assert _found(scan_history(clone)) == []
    git(clone, "fetch", "-q", "--unshallow")
    cached = _found(scan_history(clone))
    assert cached == _fresh(clone) and len(cached) == 1


def test_a_replaced_commit_is_read_as_it_is_published(tmp_git_repo: Path) -> None:
    """`git replace` shows another commit in place of one; a push still sends the
    original and its blobs, so the scan reads the objects themselves."""
    (tmp_git_repo / "README.md").write_text("hi\n")
    commit_all(tmp_git_repo, "readme")
    (tmp_git_repo / "b.env").write_text(f"TOKEN={fake.github_token('replaced')}\n")
    leak = commit_all(tmp_git_repo, "token")
    tree = git(tmp_git_repo, "rev-parse", "HEAD~1^{tree}").strip()
    stand_in = git(tmp_git_repo, "commit-tree", tree, "-p", "HEAD~1", "-m", "clean").strip()
    git(tmp_git_repo, "replace", leak, stand_in)
    (tmp_git_repo / "b.env").unlink()
    git(tmp_git_repo, "add", "-A")  # (git shows HEAD without b.env: nothing to remove)
    git(tmp_git_repo, "commit", "-q", "--no-verify", "--allow-empty", "-m", "gone")
    found = _fresh(tmp_git_repo)
    assert [(commit, path) for commit, path, _ in found] == [(leak, "b.env")]


def test_the_key_holds_what_the_libraries_that_find_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upgraded detect-secrets (or an edited copy of its patterns) or grammar drops
    the cache: a blob once clean under the old patterns is read again."""
    import importlib

    site = tmp_path / "site"
    plugins = site / "fakefinder" / "plugins"
    plugins.mkdir(parents=True)
    (site / "fakefinder" / "__init__.py").write_text("")
    (plugins / "token.py").write_text("PATTERN = '[A-Za-z0-9_]{36}'\n")
    (site / "fakefinder-1.0.dist-info").mkdir()
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    marks = [history_cache._library_mark("fakefinder", "plugins/*.py")]
    (plugins / "token.py").write_text("PATTERN = '[A-Za-z0-9_]{30,}'\n")
    marks.append(history_cache._library_mark("fakefinder", "plugins/*.py"))
    (site / "fakefinder-1.0.dist-info").rename(site / "fakefinder-1.1.dist-info")
    marks.append(history_cache._library_mark("fakefinder", "plugins/*.py"))
    marks.append(history_cache._library_mark("not_installed_anywhere", None))
    assert len(set(marks)) == 4
    before = history_cache.detector_version()
    monkeypatch.setattr(history_cache, "_library_mark", lambda package, files: package.encode())
    assert history_cache.detector_version() != before
    assert {p for p, _ in history_cache._LIBRARIES} >= {"detect_secrets", "tree_sitter_nix"}


def test_a_new_branch_of_older_commits_names_the_blob_as_a_fresh_walk_does(
    tmp_git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh walk names a blob at the commit rev-list lists last (the oldest): an
    orphan branch dated before the known commit adds the same bytes at b.nix."""
    text = _nix(fake.password("older-branch"))
    (tmp_git_repo / "a.nix").write_text(text)
    commit_all(tmp_git_repo, "a")
    git(tmp_git_repo, "rm", "-q", "a.nix")
    commit_all(tmp_git_repo, "rm")
    assert [p for _c, p in _paths(scan_history(tmp_git_repo))] == ["a.nix"]
    git(tmp_git_repo, "checkout", "-q", "--orphan", "old")
    git(tmp_git_repo, "rm", "-rqf", "--ignore-unmatch", ".")
    (tmp_git_repo / "b.nix").write_text(text)
    git(tmp_git_repo, "add", "b.nix")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2001-01-01T00:00:00")
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2001-01-01T00:00:00")
    git(tmp_git_repo, "commit", "-q", "--no-verify", "-m", "old")
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    monkeypatch.delenv("GIT_AUTHOR_DATE")
    git(tmp_git_repo, "checkout", "-q", "main")
    cached = _found(scan_history(tmp_git_repo))  # on the first run's cache
    again = _found(scan_history(tmp_git_repo))  # on the cache that run wrote
    fresh = _fresh(tmp_git_repo)
    assert [p for _c, p, _f in fresh] == ["b.nix"]
    assert cached == again == fresh


def test_a_clean_commit_message_is_read_once_and_a_flagged_one_every_time(
    tmp_git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache remembers the commits whose message was clean (a commit id covers its
    message): a later run reads only the others, so a message with a secret is still
    reported every time, and an amended commit's new message is read."""
    from secretkit.scan import history_run

    token = fake.github_token("message")
    for i in range(4):
        (tmp_git_repo / f"f{i}.txt").write_text(f"plain {i}\n")
        commit_all(tmp_git_repo, f"step {i}" + (f"\n\nGH={token}" if i == 1 else ""))
    read: list[str] = []
    real = history_run.scan_file_job

    def counting(job, *args, **kwargs):  # type: ignore[no-untyped-def]
        if job[0] == "(commit message)":
            read.append(job[3])
        return real(job, *args, **kwargs)

    monkeypatch.setattr(history_run, "scan_file_job", counting)
    first = scan_history(tmp_git_repo)
    assert len(read) == 4
    flagged = [f.commit for f in first.findings if f.path == "(commit message)"]
    assert len(flagged) == 1
    read.clear()
    second = scan_history(tmp_git_repo)
    assert read == flagged  # only the message with a secret is read again
    assert _found(second) == _found(first)
    assert token not in _cache(tmp_git_repo).read_text()
    # the newest commit amended with a secret in its message: a new commit, read
    other = fake.github_token("amended")
    git(tmp_git_repo, "commit", "-q", "--amend", "-m", f"step 3\n\nGH={other}")
    read.clear()
    third = scan_history(tmp_git_repo)
    assert len(read) == 2  # the amended commit's message and the flagged one
    assert {f.secret.reveal() for f in third.findings} == {token, other}


@pytest.mark.parametrize("damage", ["cut", "c-to-m", "flagged-to-clean"])
def test_a_damaged_cache_is_dropped_whole_never_read_in_part(
    tmp_git_repo: Path, damage: str
) -> None:
    """A cache cut short lost the entries of flagged blobs while its commits still
    said "walked": their secrets were never reported again.  A line changed (a walked
    commit's "c" made an "m", a flagged blob's entry made clean) silenced a message's
    or a blob's secret.  The header's digest of the entries now drops any cache that
    does not match it."""
    for i in range(5):
        (tmp_git_repo / f"s{i}.env").write_text(f"DB_PASSWORD={fake.password(f'env{i}')}\n")
        commit_all(tmp_git_repo, f"step {i}")
    (tmp_git_repo / "note.txt").write_text("x\n")
    commit_all(tmp_git_repo, f"rotate\n\nGH={fake.github_token('damaged')}")
    fresh = scan_history(tmp_git_repo)
    assert len(fresh.findings) == 6
    cache = _cache(tmp_git_repo)
    lines = cache.read_text().split("\n")
    head = git(tmp_git_repo, "rev-parse", "HEAD").strip()
    if damage == "cut":
        cache.write_text("\n".join(lines[:-3]) + "\n")
    elif damage == "c-to-m":
        cache.write_text(
            "\n".join(f"m\t{head}" if line == f"c\t{head}" else line for line in lines)
        )
    else:  # a flagged blob's entry made "clean"
        at = next(i for i, line in enumerate(lines) if "\tf:" in line)
        lines[at] = lines[at].split("\tf:", 1)[0] + "\t-"
        cache.write_text("\n".join(lines))
    for _ in range(2):  # (and the cache written again after it is whole)
        assert _found(scan_history(tmp_git_repo)) == _found(fresh)
