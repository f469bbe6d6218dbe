"""A key block of a sops file whose recipient was changed by hand: the part of the gate's
``sops-recipients`` point that does not take a label for a key.

A host reinstalled gets a new key; ``sed -i s/age1old/age1new/`` over ``.sops.yaml`` and
the host's file makes every label agree, and the comparisons of labels pass, while the
block (``enc``) is still the one made for the old key: the new one cannot open it.  sops
and secretkit make a new block whenever they wrap the data key for a recipient, so a
block the file's history holds under another recipient is one that was relabelled.
The history is read once for all sops files (``git log --all``, their blobs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext

POINT = "sops-recipients"


def relabelled(ctx: CheckContext) -> list[CheckResult]:
    """A failure for each key block whose recipient differs from the one the same block
    had in an earlier version of its file (in any commit git reaches)."""
    from secretkit.errors import SecretkitError
    from secretkit.git import run_git
    from secretkit.git.objects import read_blobs
    from secretkit.sops import operations

    if ctx.walk:
        return []  # (no git: no history to hold an earlier version)
    blocks: dict[str, dict[str, str]] = {}  # path -> the marker line of each block -> recipient
    for entry in ctx.sops_files():
        for key in entry.sops.metadata.all_keys():
            marker = _marker(key.fields.get("enc", ""))
            recipient = key.fields.get("recipient") or key.fields.get("fp") or ""
            if marker and recipient:
                blocks.setdefault(entry.path, {})[marker] = recipient
    if not blocks:
        return []
    proc = run_git(
        ctx.root, "log", "--all", "--format=%H", "--raw", "--no-abbrev", "--", *blocks, check=False
    )
    versions: dict[str, tuple[str, str]] = {}  # blob -> (path, the commit holding it)
    commit = ""
    for line in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
        if line and not line.startswith(":"):
            commit = line.strip()
        elif line.startswith(":") and "\t" in line:
            meta, path = line.split("\t", 1)
            blob = meta.split()[3]
            if path in blocks and set(blob) != {"0"}:
                versions.setdefault(blob, (path, commit))
    out = []
    said: set[tuple[str, str]] = set()
    for blob, data in read_blobs(ctx.root, list(versions)):
        path, commit = versions[blob]
        held = [m for m in blocks[path] if m.encode() in data]
        if not held:
            continue
        try:
            old = operations.load(data, "yaml" if not path.endswith(".json") else "json")
        except SecretkitError:
            continue
        for key in old.metadata.all_keys():
            marker = _marker(key.fields.get("enc", ""))
            before = key.fields.get("recipient") or key.fields.get("fp") or ""
            now = blocks[path].get(marker) if marker in held else None
            if now is None or not before or before == now or (path, marker) in said:
                continue
            said.add((path, marker))
            out.append(
                CheckResult(
                    POINT,
                    False,
                    f"{path}: the key block labelled {now[:16]}… is the block commit "
                    f"{commit[:12]} holds for {before[:16]}…: its recipient was changed by "
                    f"hand, and {now[:16]}…'s key cannot open it",
                    f"put back the file sops wrote (git show {commit[:12]}:{path} > {path}), "
                    f"then secretkit updatekeys {path} (it wraps the data key for the keys "
                    "its .sops.yaml rule names); a host's new key goes in with secretkit "
                    "rotate host",
                    (path,),
                )
            )
    return out


def _marker(enc: str) -> str:
    """A line of a key block's armored body long enough to tell it from any other."""
    lines = [line.strip() for line in enc.splitlines() if line.strip()]
    body = [line for line in lines if not line.startswith("-----")]
    # (the first line starts with age's header, alike in every block: the second is
    # the key share and the wrapped key)
    line = body[1] if len(body) > 1 else body[0] if body else ""
    return line if len(line) >= 40 else ""
