"""One module per CLI verb: each composes the library and returns a value; none prints or exits."""

from pathlib import Path


def recover_interrupted(cwd: Path) -> Path:
    """Take the repository lock, roll back a transaction a killed run left behind;
    return the repository root.  The lock is held until the command ends.

    Every writing command calls this before it reads anything: a half-done
    ``rotate host`` (say) must not be read as the current state, and a single-file
    write on top of it would be undone by the rollback that comes later.
    """
    from secretkit.atomic import recover
    from secretkit.git.repo import find_root

    root = find_root(cwd)
    recover(root)
    return root
