"""Who the history names: the authors, committers and taggers a push publishes with
the commits and tags (``Name <email>``), read for tokens like any other text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from secretkit.git import run_git


def identities(root: Path, refs: Sequence[str] | None = None) -> dict[str, str]:
    """Every author's and committer's ``Name <email>`` in the commits ``refs`` reach
    (by default every ref but purge's backups), and every tagger's, each with the
    oldest commit (or tag) that names it: published with the history."""
    args = ["--exclude=refs/secretkit/*", "--all"] if refs is None else list(refs)
    if not args:
        return {}
    proc = run_git(root, "log", *args, "--format=%H%x00%an <%ae>%x00%cn <%ce>", "--", check=False)
    out: dict[str, str] = {}
    for line in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
        commit, *names = line.split("\0")
        for name in names:
            out[name] = commit  # (newest first: the oldest stays)
    for name, oid in taggers(root).items():
        out.setdefault(name, oid)
    return out


def taggers(root: Path) -> dict[str, str]:
    """Every tagger's ``Name <email>`` of the annotated tags, each with its tag."""
    out: dict[str, str] = {}
    tagged = run_git(
        root, "for-each-ref", "--format=%(objectname)%00%(taggername) %(taggeremail)",
        "refs/tags", check=False,
    )  # fmt: skip
    for line in tagged.stdout.decode("utf-8", "surrogateescape").splitlines():
        oid, _, name = line.partition("\0")
        if name.strip():
            out.setdefault(name, oid)
    return out


def of_commits(root: Path, commits: Sequence[str]) -> dict[str, str]:
    """The author's and committer's ``Name <email>`` of each of ``commits``, each
    with the commit (the first of ``commits`` that names it)."""
    from secretkit.git.objects import read_blobs_limited

    out: dict[str, str] = {}
    for oid, _size, data in read_blobs_limited(root, list(commits), kind=b"commit"):
        headers = (data or b"").partition(b"\n\n")[0].decode("utf-8", "surrogateescape")
        for line in headers.split("\n"):
            field, _, rest = line.partition(" ")
            if field in ("author", "committer") and ">" in rest:
                out.setdefault(rest[: rest.rindex(">") + 1], oid)
    return out


def mailmap(olds: Sequence[str], new: Callable[[str], str]) -> bytes:
    """A ``--mailmap`` file for git-filter-repo that gives each identity of ``olds``
    (``Name <email>``) the one ``new`` makes of it."""
    lines = []
    for old in olds:
        name, _, email = old.rpartition(" <")
        made_name, _, made_email = new(old).rpartition(" <")
        lines.append(f"{made_name} <{made_email} {name} <{email}\n")
    return "".join(lines).encode("utf-8", "surrogateescape")
