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
from tests.conftest import commit_all, git
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

    def counting(root: Path, oids: object, limit: int | None = None):  # type: ignore[no-untyped-def]
        wanted = list(oids)  # type: ignore[call-overload]
        read.extend(wanted)
        return real(root, wanted, limit)

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
