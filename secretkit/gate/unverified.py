"""What the plaintext points could not read fails them as "cannot verify", with the
way out for each reason (fetch what is missing, fix a file's syntax, or vouch for what
secretkit cannot open): never "ok" for what was not read."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult

if TYPE_CHECKING:
    from secretkit.scan.allowlist import Allowlist
    from secretkit.scan.model import Skipped


def unverified(
    check_id: str, skipped: list[Skipped], allow: Allowlist, root: Path, *, git: bool = True
) -> list[CheckResult]:
    """A file the scanner could not read fails the point: never "ok" for what was not
    read, unless the user vouched for the path in the allowlist."""
    from secretkit.git.lfs import MISSING_OBJECT
    from secretkit.scan.allowlist import ALLOW_FILE
    from secretkit.scan.many_files import MISSING_BLOB
    from secretkit.scan.names import glob_of
    from secretkit.scan.one_file import partly_read

    results = []
    staged = f" && git add {ALLOW_FILE}" if git else ""
    for skip in skipped:
        path = skip.path.split(":", 1)[1] if check_id == "plaintext-history" else skip.path
        if allow.allows_unscanned(path):
            continue
        group = group_fix = ""
        if skip.reason == MISSING_BLOB:
            from secretkit.git.objects import refetch_fix

            repair = f"fetch the missing objects ({refetch_fix(root)})"
        elif skip.reason.startswith(MISSING_OBJECT):
            reach = "--all" if check_id == "plaintext-history" else ""
            repair = (
                f"fetch the LFS objects (git lfs fetch{' ' + reach if reach else ''}; "
                "git-lfs must be installed)"
            )
            # (a repository's LFS files come by the dozen: one line for all of them)
            group = "cannot verify: LFS objects not present locally (their content was not read)"
            group_fix = (
                f"{repair} and run secretkit check again; or, if you vouch for them, add "
                f"a path:<glob> line that matches them (path:assets/*) to {ALLOW_FILE}"
                + (f" and git add {ALLOW_FILE}" if git else "")
            )
        elif skip.reason.startswith("archive not read whole"):
            # (nothing makes secretkit read it: the user's word is the way through)
            repair = "secretkit cannot read all of it: unpack it and check what it holds by hand"
        elif partly_read(skip.reason):
            repair = f"fix its syntax (nix-instantiate --parse {shlex.quote(path)} shows where)"
        else:
            repair = "make it readable"
        results.append(
            CheckResult(
                check_id,
                False,
                f"cannot verify: {skip.path} ({skip.reason})",
                (
                    f"{repair}, then, if it holds no secret, vouch for it: echo "
                    f"'path:{glob_of(path)}' >> {ALLOW_FILE}{staged}"
                    if skip.reason.startswith("archive not read whole")
                    else f"{repair} and run secretkit check again; or, if you vouch for it, "
                    f"allowlist the path: echo 'path:{glob_of(path)}' >> {ALLOW_FILE}{staged}"
                ),
                (path,),
                group=group,
                group_fix=group_fix,
            )
        )
    return results
