"""A secretkit run killed half-way leaves its journal (:mod:`secretkit.atomic`): the files
it had begun to change may be half-written (a host's new key in ``.sops.yaml`` and one
of its files re-encrypted, the others not), and the next writing command rolls them back
to what they held before.  Whatever check or the hook would say of those files is said
of a state that is about to change: they fail as "cannot verify", with the run to
finish."""

from __future__ import annotations

from pathlib import Path

from secretkit.gate.model import CheckResult

POINT = "sops-recipients"  # (the keys and sops files a half-done run leaves mixed)


def interrupted_run(root: Path) -> list[CheckResult]:
    """A failure for an interrupted run's journal in ``root``, else nothing."""
    from secretkit.atomic import journal_dir_for, pending

    left = pending(root)
    if left is None:
        return []
    files = [str(f) for f in left["files"]] if isinstance(left["files"], list) else []
    shown = ", ".join(files[:4]) + (f" and {len(files) - 4} more" if len(files) > 4 else "")
    command = left["command"]
    journal = journal_dir_for(root)
    if left["pid"] is not None:
        return [
            CheckResult(
                POINT,
                False,
                f"cannot verify: another secretkit process (pid {left['pid']}) is writing "
                f"this repository ({shown or 'no file yet'})",
                "wait for it to finish, then run secretkit check again",
            )
        ]
    run = f"`{command} …`" if isinstance(command, str) else "a secretkit command"
    again = f"run {run} again as you ran it" if isinstance(command, str) else "run it again"
    return [
        CheckResult(
            POINT,
            False,
            f"cannot verify: {run} was interrupted and left its journal ({journal.name} in "
            f"{journal.parent.name}/): {shown or 'its files'} may be half-written, and the "
            "next writing command rolls them back",
            f"{again}: it rolls the interrupted run back first, then does the whole job; "
            "then run secretkit check again",
            tuple(files),
        )
    ]
