"""Re-check every recorded fact against a fetched nixpkgs (not run by the test suite).

    python benchmarks/recheck_declarations.py --nixpkgs /path/to/nixpkgs[.git] [--rev REV]

The catalogue (``secretkit/nix/catalogue/*``: who reads each file) and the test
harness (``tests/support/harness.py``: option, kind, reader) cite a repository, a
commit, a module path and the line that was read there.  For every nixpkgs citation
this reads the module — at the cited commit when the copy has it, else at ``--rev``
(default ``HEAD``) — and checks that each fragment of the cited line (fragments are
separated by ``…``) occurs in it, ignoring whitespace.  Exit 1 when any is missing,
so a citation that went stale (or was never read: ``read=False``) is found.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from secretkit.nix.catalogue import CATALOGUE  # noqa: E402
from tests.support.harness import DECLARATIONS, RENDERED  # noqa: E402


def _git_dir(path: Path) -> Path:
    return path / ".git" if (path / ".git").exists() else path


def _show(git_dir: Path, rev: str, path: str) -> str | None:
    proc = subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"{rev}:{path}"], capture_output=True
    )
    return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else None


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def citations() -> list[tuple[str, str, str, str, str]]:
    """(what, repo, commit, path, line) for every recorded fact."""
    out = []
    for key, entry in CATALOGUE.items():
        s = entry.reader.source
        out.append((f"catalogue {key}", s.repo, s.commit, s.path, s.line))
    for d in DECLARATIONS:
        out.append((f"harness {d.option}", *d.source))
    for r in RENDERED:
        out.append((f"harness {r.path}", *r.source))
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nixpkgs", type=Path, required=True)
    parser.add_argument("--rev", default="HEAD")
    args = parser.parse_args()
    git_dir = _git_dir(args.nixpkgs)
    missing = 0
    for what, repo, commit, path, line in citations():
        if not repo.endswith("/nixpkgs"):  # NixOS/nixpkgs or a mirror of it
            print(f"skip     {what}: {repo} is not nixpkgs")
            continue
        text, at = None, commit
        if commit not in ("master", ""):
            text = _show(git_dir, commit, path)
        if text is None:
            text, at = _show(git_dir, args.rev, path), args.rev
        if text is None:
            print(f"MISSING  {what}: {path} not found at {commit} nor {args.rev}")
            missing += 1
            continue
        body = _squash(text)
        fragments = [f for f in (_squash(p) for p in line.split("…")) if len(f) > 3]
        absent = [f for f in fragments if f not in body]
        if absent:
            print(f"MISSING  {what}: {path}@{at[:12]} lacks {absent[0]!r}")
            missing += 1
        else:
            print(f"ok       {what}: {path}@{at[:12]}")
    print(f"{missing} citation(s) not found")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
