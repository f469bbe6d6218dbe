"""The gate's ``decrypted-copy`` point: no decrypted copy of a secrets file lies in
the tree — a file a creation rule matches that is not a sops file, a ``*.dec.*`` /
``*.decrypted.*`` / backup twin of a sops file, or any YAML/JSON/dotenv/INI file
whose key paths are exactly those of a sops file."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from secretkit.gate.context import CheckContext
    from secretkit.gate.model import CheckResult

_TWIN_MARKERS = ("dec", "decrypted", "plain", "plaintext", "clear", "bak", "orig", "old", "tmp")


def _by_directory(sops_names: set[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for sops in sops_names:
        directory, _, base = sops.rpartition("/")
        out.setdefault(directory, []).append(base)
    return out


def is_twin(name: str, sops_names: set[str], index: dict[str, list[str]] | None = None) -> bool:
    """``host.dec.yaml``, ``host.yaml.dec``, ``host.decrypted.yaml``, ``host.yaml~``… of a
    sops file ``host.yaml`` in the same directory; or any ``*.dec.*``/``*.decrypted.*``.
    ``index`` is :func:`_by_directory` of ``sops_names`` (computed when not given)."""
    directory, _, base = name.rpartition("/")
    parts = base.split(".")
    if named_decrypted(name):
        return True
    index = index if index is not None else _by_directory(sops_names)
    for sops in index.get(directory, ()):
        if sops == base:
            continue
        stem = sops.split(".")[0]
        if base.endswith("~") and base[:-1] == sops:
            return True
        if parts[0] == stem and any(p in _TWIN_MARKERS for p in parts[1:]):
            return True
    return False


def named_decrypted(name: str) -> bool:
    """``*.dec.*``, ``*.decrypted.*``: named as a decrypted copy, whatever sits beside it."""
    return any(p in ("dec", "decrypted") for p in name.rpartition("/")[2].split(".")[1:])


_Shape = frozenset[tuple[str | int, ...]]


def _shape(docs: list[Any]) -> _Shape:
    """The set of leaf key paths of a document (key names are in clear in sops files)."""
    from secretkit.sops.tree import leaves

    return frozenset(path for doc in docs for path, _ in leaves(doc))


def sops_shapes(files: list[tuple[str, Any]]) -> dict[_Shape, list[str]]:
    """The key shapes of sops files (``(path, SopsFile)``, binary ones left out), each
    with the files that have it."""
    shapes: dict[_Shape, list[str]] = {}
    for path, sops in files:
        if sops.fmt != "binary":
            shape = _shape(sops.docs)
            if shape:
                shapes.setdefault(shape, []).append(path)
    return shapes


def shape_names(shapes: dict[_Shape, list[str]]) -> list[frozenset[bytes]]:
    """The key names of each shape (what a plaintext file must hold to have one)."""
    return [_names(shape) for shape in shapes]


def _names(shape: _Shape) -> frozenset[bytes]:
    return frozenset(str(part).encode() for path in shape for part in path if isinstance(part, str))


def _plain_shape(
    ctx: CheckContext, path: str, names: list[frozenset[bytes]] | None = None
) -> _Shape | None:
    data = ctx.read(path)
    return plain_shape(path, data, names) if data is not None else None


def plain_shape(
    path: str, data: bytes, names: list[frozenset[bytes]] | None = None
) -> _Shape | None:
    """The key shape of a plaintext YAML/JSON/dotenv/INI file, or None when it is not one.
    With ``names`` (the key names of each sops file), a file that does not contain all
    the names of any one of them is not parsed: it cannot have the same shape."""
    from secretkit.errors import SecretkitError
    from secretkit.sops import document

    fmt = document.format_for_path(path)
    if fmt == "binary":
        return None
    if names is not None and not any(all(n in data for n in group) for group in names):
        return None
    try:
        plain = document.load_plain(data, fmt)
    except SecretkitError:
        return None  # not parseable, or a (damaged) sops file: other points judge it
    return _shape(plain.docs)


def check_decrypted_copies(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.gate.model import CheckResult  # (not at import: the hook reads this module)
    from secretkit.gate.sops_verify import names_a_secrets_file
    from secretkit.sops.finder import damaged_sops_file

    config = ctx.config()
    sops_paths = set(ctx.sops_by_path())
    shapes = sops_shapes([(entry.path, entry.sops) for entry in ctx.sops_files()])
    names = shape_names(shapes)
    twins = _by_directory(sops_paths)
    tracked = ctx.tracked()
    results = []
    for path in ctx.files():
        if path in sops_paths or os.path.basename(path) == ".sops.yaml":
            continue
        matched = config is not None and names_a_secrets_file(config, ctx.root / path)
        if matched or is_twin(path, sops_paths, twins):
            data = ctx.read(path)
            if data is None:
                continue
            damaged = (
                damaged_sops_file(config, ctx.root / path, data)
                if matched and config is not None
                else None
            )
            if damaged is not None:  # sops ciphertext that does not load
                results.append(_damaged(ctx.root, path, damaged, path in tracked))
                continue
            what = (
                "matches a .sops.yaml creation rule but is not a sops file"
                if matched
                else "looks like a decrypted copy of a sops file"
            )
        else:
            copied = _plain_shape(ctx, path, names) if shapes else None
            if not copied or copied not in shapes:
                continue
            same = shapes[copied]
            named = ", ".join(same[:3]) + (f" (+{len(same) - 3} more)" if len(same) > 3 else "")
            what = f"has exactly the keys of the sops file {named}: it looks like a decrypted copy"
        where = _where(ctx, path)
        quoted = shlex.quote(path)
        # (staged, not committed: nothing is published yet, unstaging is enough)
        history = (
            ", and rotate its values: the plaintext is in history (secretkit purge)"
            if where == "committed"
            else ""
        )
        if matched:  # a creation rule names it: encrypting it in place is the way
            fix = (
                f"delete it (or encrypt it: secretkit encrypt -i {quoted}; or, to keep it "
                f"locally, add it to .gitignore)"
                if path not in tracked
                else f"git rm --cached {quoted}, encrypt it (secretkit encrypt -i {quoted})"
                + history
            )
        else:  # a copy no rule names (encrypt would refuse it): the sops file holds it
            fix = (
                f"delete it (rm {quoted}; or, to keep it locally, add it to .gitignore)"
                if path not in tracked
                else f"git rm -q --cached {quoted} && rm {quoted}" + history
            )
        results.append(
            CheckResult("decrypted-copy", False, f"{path} ({where}) {what}", fix, (path,))
        )
    flagged = {path for result in results for path in result.paths}
    ages, shut = _age_values(ctx) if ctx.keys else ([], [])
    results += _copied_values(ctx, sops_paths | flagged, ages)
    # a value of a file that did not open here is not looked for in the others
    judge = ctx.judge
    unopened = [p for p in sorted(sops_paths) if p in judge.judged and p not in judge.opened]
    if unopened:
        results.append(_values_unread(ctx, unopened))
    if shut:
        results.append(_values_unread(ctx, shut, AGE_HINT))
    if results:
        return results
    ages_here = any(f.endswith(".age") for f in ctx.files())
    if (sops_paths or ages_here) and not ctx.keys:  # (--source-only: no key is used)
        return [
            CheckResult(
                "decrypted-copy",
                True,
                "no decrypted copy of a secrets file by its name or its keys (the sops "
                "files' values are not compared: that needs a key, and this run used none)",
            )
        ]
    return [CheckResult("decrypted-copy", True, "no decrypted copy of a secrets file")]


AGE_HINT = "set SOPS_AGE_KEY_FILE / SOPS_AGE_SSH_PRIVATE_KEY_FILE to a key its publicKeys list"


def _age_values(ctx: CheckContext) -> tuple[list[tuple[bytes, tuple[str, str]]], list[str]]:
    """The values of the agenix files (``*.age``) an identity here opens, each as the
    whole text and each generated token of its lines (as a sops file's), and the files
    none opens."""
    from secretkit.gate.agenix_checks import _binary
    from secretkit.gate.sops_verify import MIN_COPIED, _generated_tokens

    identities = ctx.judge.identities()
    values: list[tuple[bytes, tuple[str, str]]] = []
    shut: list[str] = []
    for path in sorted(f for f in ctx.files() if f.endswith(".age")):
        data = ctx.read(path)
        if not data:
            continue
        try:
            import pyrage

            plain = pyrage.decrypt(_binary(data), identities.age) if identities.age else None
        except Exception:  # (not for a key here, or not an age file: agenix's point says)
            plain = None
        if plain is None:
            shut.append(path)
            continue
        text = plain.decode("utf-8", "surrogateescape").strip()
        for value in ([text] if len(text) >= MIN_COPIED else []) + _generated_tokens(text):
            values.append((value.encode("utf-8", "surrogateescape"), (path, "")))
    return values, shut


def _values_unread(ctx: CheckContext, paths: list[str], hint: str | None = None) -> CheckResult:
    """``decrypted-copy`` cannot vouch for the values of ``paths`` (sops files that did
    not open here: no identity, or sops-mac's problem; age files no identity opens): a
    copy of one in another file is found only by its value."""
    from secretkit.gate.model import CheckResult

    judge = ctx.judge
    if hint is not None:
        why, how = "no identity here opens", hint
    elif all(path in judge.unverified for path in paths):
        why = "no identity here opens"
        hints = {judge.open_hints.get(path) or "provide a key of each file" for path in paths}
        how = hints.pop() if len(hints) == 1 else "provide a key of each file"
    else:
        why = "sops-mac could not open"
        how = "make them open (the fix of sops-mac's point for them)"
    fix = f"{how}, then run secretkit check again"
    named = ", ".join(paths[:3]) + (f" (+{len(paths) - 3} more)" if len(paths) > 3 else "")
    return CheckResult(
        "decrypted-copy",
        False,
        f"cannot verify: {why} {named}, so no other file was searched for their values (a "
        "decrypted copy of one value is found only by the value)",
        fix,
        tuple(paths),
    )


def _damaged(root: Path, path: str, why: str, tracked: bool) -> CheckResult:
    """A file a creation rule names that holds sops ciphertext but does not load as a
    sops file (cut short, its metadata lost): not a decrypted copy, and encrypting it
    would wrap the ciphertext as values.  The fix restores its last version that loads."""
    from secretkit.gate.model import CheckResult

    good = _last_sops_version(root, path) if tracked else None
    quoted = shlex.quote(path)
    fix = (
        f"restore it: git restore --source={good[:12]} -- {quoted} (its last committed "
        "version that is a sops file)"
        if good is not None
        else f"restore it from a backup, or delete it (git rm {quoted}) and store its values "
        "again (secretkit set or secretkit generate)"
    )
    where = "committed" if tracked else "untracked"
    message = f"{path} ({where}) is a damaged sops file: it holds sops ciphertext but does "
    message += f"not load ({why})"
    return CheckResult("decrypted-copy", False, message, fix, (path,))


def _last_sops_version(root: Path, path: str, depth: int = 50) -> str | None:
    """The newest of ``path``'s last ``depth`` commits whose version loads as a sops file."""
    from secretkit.git import run_git
    from secretkit.sops.finder import load_sops
    from secretkit.sops.formats import format_for_path

    log = run_git(root, "log", "--format=%H", f"-n{depth}", "--", path, check=False)
    for commit in log.stdout.decode().split():
        blob = run_git(root, "show", f"{commit}:{path}", check=False)
        if blob.returncode == 0 and load_sops(blob.stdout, format_for_path(path))[0]:
            return commit
    return None


def _of(where: tuple[str, str]) -> str:
    """How a value's place is said: ``key of file`` (sops), the age file itself."""
    return f"{where[1]} of {where[0]}" if where[1] else where[0]


def _where(ctx: CheckContext, path: str) -> str:
    """Whether ``path`` is committed (in HEAD), staged only, or neither."""
    if path in ctx.committed_files():
        return "committed"
    return "staged, not committed yet" if path in ctx.tracked() else "untracked, not ignored"


def _copied_values(
    ctx: CheckContext,
    skip: set[str],
    ages: Sequence[tuple[bytes, tuple[str, str]]] = (),
) -> list[CheckResult]:
    """A value of a sops file that verified (``sops-mac`` opened it) written out in
    another file: a decrypted copy of part of it, whatever the names around it (the scan
    judges values by names and shapes; these are known secrets)."""
    from secretkit.gate.model import CheckResult

    values = [
        (value.reveal().encode("utf-8", "surrogateescape"), where)
        for value, where in ctx.judge.values.items()
    ] + list(ages)
    if not values:
        return []
    results = []
    for path in ctx.files():
        if path in skip or os.path.basename(path) == ".sops.yaml":
            continue
        data = ctx.read(path)
        held = _held(path, data, values) if data else []
        if not held:
            continue
        named = ", ".join(_of(where) for where in held[:3])
        more = f" (+{len(held) - 3} more)" if len(held) > 3 else ""
        committed = _where(ctx, path) == "committed"
        keys = " ".join(sorted({shlex.quote(key) for _sops, key in held if key}))
        ages_held = " ".join(sorted({shlex.quote(f) for f, key in held if not key}))
        rotate = (
            f"; it is committed: rotate them (secretkit rotate value NAME --from-stdin with "
            f"the provider's new value, or --kind KIND, for each of {keys})"
            if committed and keys
            else ""
        )
        if committed and ages_held:
            rotate += (
                f"; it is committed: change the value at its provider and write the new one "
                f"with agenix -e (each of {ages_held})"
            )
        results.append(
            CheckResult(
                "decrypted-copy",
                False,
                f"{path} ({_where(ctx, path)}) holds the decrypted value of {named}{more}",
                f"take the value out of {shlex.quote(path)} (read it from the "
                + (
                    "age file instead: config.age.secrets.<name>.path in Nix, for an option "
                    "that reads a file"
                    if ages_held and not keys
                    else "sops file instead: in Nix config.sops.secrets.<name>.path for an "
                    'option that reads a file, or config.sops.placeholder."<name>" in a '
                    "sops template where the program wants the value itself"
                )
                + f"){rotate}",
                (path,),
            )
        )
    if not ctx.walk and ctx.committed is not None:  # (after plaintext-history, not alone)
        # a value the history scan found is plaintext-history's to report (and purge's)
        unreported = [
            (v, w) for v, w in values if v.decode("utf-8", "surrogateescape") not in ctx.committed
        ]
        results += _copied_in_history(ctx, unreported) if unreported else []
    return results


def _readings(path: str, data: bytes) -> Iterator[bytes]:
    """``data`` as the scanner reads it: as it is, its text in UTF-8 when it is in
    another encoding (UTF-16), and each file a compressed file or archive holds."""
    from secretkit.scan import archives
    from secretkit.scan.decode import decode

    yield data
    if archives.kind(data) is not None:
        for _inner, content, _reason in archives.unpack(path, data):
            if content is not None:
                yield from _readings(_inner, content)
        return
    decoded = decode(data)
    if decoded.encoding not in ("utf-8", "ascii"):
        yield decoded.text.encode("utf-8", "surrogatepass")


def _held(
    path: str,
    data: bytes,
    values: list[tuple[bytes, tuple[str, str]]],
    covered: dict[bytes, list[bytes]] | None = None,
) -> list[tuple[str, str]]:
    """The (sops file, key) of each value some reading of ``data`` holds, sorted;
    ``covered``: a value counts only where it is not inside one of the values given
    for it (the ones plaintext-history reports)."""
    held: set[tuple[str, str]] = set()
    for text in _readings(path, data):
        for value, where in values:
            if value not in text:
                continue
            masked = text  # (each value's own: another value's mask must not cut it)
            for outer in (covered or {}).get(value, ()):
                masked = masked.replace(outer, b"\0")  # (a byte no value holds: no new join)
            if value in masked:
                held.add(where)
    return sorted(held)


def _copied_in_history(
    ctx: CheckContext, values: list[tuple[bytes, tuple[str, str]]]
) -> list[CheckResult]:
    """A value of a sops file in a blob of the history (every ref), at a path that is
    no sops file now: a decrypted copy committed once (a sops file decrypted in place
    and committed, a note) is published whatever the tree holds now, and the scan
    cannot tell it from any other value when no name says what it is."""
    from secretkit.gate.model import CheckResult
    from secretkit.scan.value_shapes import random_looking
    from secretkit.sops.formats import format_for_path

    # (a sops file's own versions too: encrypted, they hold no value in clear; one
    # decrypted in place and committed, then encrypted again, is found here.  Its
    # versions from before it was first encrypted (config.json committed, then
    # `encrypt -i`) hold its settings too: there a value counts only when it looks
    # generated; its named secrets are plaintext-history's, found by the scan.)
    own = [(v, w) for v, w in values if random_looking(v.decode("utf-8", "replace"))]
    # a value inside one plaintext-history reports (`github.com=<token>` committed, the
    # token stored): it is that finding's, and purge takes them out together; only a
    # copy outside one is this point's
    reported = [c.encode("utf-8", "surrogateescape") for c in ctx.committed or ()]
    found = copied_in_history(ctx.root, values, own, reported)
    # (a path in the tree now, a sops file or any other, is never taken out whole:
    # that deletes it from HEAD too; rotating is the fix there)
    live = set(ctx.sops_by_path()) | set(ctx.files())
    results = []
    for (sops, key), held_by in sorted(found.items()):
        first = held_by[0]
        more = f" (+{len(held_by) - 1} more)" if len(held_by) > 1 else ""
        paths = tuple(dict.fromkeys(b.path for b in held_by))
        copies = [p for p in paths if p not in live]
        also = (
            ", and take the copy out of the history if you wish (git filter-repo --force "
            "--replace-refs delete-no-add --invert-paths "
            + " ".join(shlex.quote(f"--path={p}") for p in copies)
            + ")"
            if copies
            else ""
        )
        rotate = (
            f"change it: secretkit edit {shlex.quote(sops)} (a binary sops file: its whole "
            "content is the value; check then looks for the new one)"
            if key and format_for_path(sops) == "binary"
            else f"rotate it (secretkit rotate value {shlex.quote(key)} --from-stdin with the "
            "provider's new value, or --kind KIND: check then looks for the new value)"
            if key
            else f"change it at its provider and write the new value with agenix -e "
            f"({shlex.quote(sops)})"
        )
        results.append(
            CheckResult(
                "decrypted-copy",
                False,
                f"the decrypted value of {_of((sops, key))} was committed: {first.path} at "
                f"{first.commit[:12]}{more}",
                f"it is published with the history: {rotate}{also}",
                paths,
            )
        )
    return results


def copied_in_history(
    root: Path,
    values: list[tuple[bytes, tuple[str, str]]],
    own: list[tuple[bytes, tuple[str, str]]] | None = None,
    reported: Sequence[bytes] = (),
) -> dict[tuple[str, str], list[Any]]:
    """``(sops file, name) -> the history's blobs holding its value`` (every ref; purge's
    backups left out) for ``values`` (value, (sops file, name)), at any path but the sops
    file's own (``own``: those looked for in their own file's versions too); a value
    inside a longer one of ``reported`` (a finding's) is that finding's."""
    from secretkit.git.objects import history_blobs, read_blobs

    covered = {v: [c for c in reported if v in c and c != v] for v, _w in values}
    where_of = {b.oid: b for b in history_blobs(root)}  # (purge's backups: not published)
    found: dict[tuple[str, str], list[Any]] = {}
    for oid, data in read_blobs(root, where_of):
        blob = where_of[oid]
        looked = [(v, w) for v, w in values if w[0] != blob.path] + [
            (v, w) for v, w in own or () if w[0] == blob.path
        ]
        for held in _held(blob.path, data, looked, covered):
            found.setdefault(held, []).append(blob)
    return found


# a key's name in a sops YAML or JSON file, before its metadata (`name:`, `"name":`)
_KEY_NAME = re.compile(rb'^[ \t-]*"?([A-Za-z0-9_.@/+-]+)"?[ \t]*:', re.MULTILINE)


def staged_copies(
    root: Path, candidates: Sequence[str], staged: dict[str, bytes], formats: Sequence[str]
) -> list[tuple[str, str, str]]:
    """``(path, why, fix)`` of each staged plaintext file among ``candidates`` (YAML,
    JSON, dotenv, INI: ``formats``) with exactly the keys of one of the repository's
    sops files (``secretkit decrypt secrets/web.yaml > backup/values.yaml``), as
    :func:`check_decrypted_copies` finds it without a key (helper-127: the hook let it
    into history, and check then asked for a rotation)."""
    from secretkit.git.files import ls_files

    tracked = ls_files(root, "--cached", "--full-name", "--", *(f"*{e}" for e in formats))
    sops_like: list[str] = []
    for rel in tracked:
        try:
            data = (root / rel).read_bytes() if rel not in candidates else b""
        except OSError:
            continue
        if b"ENC[" in data and b"sops" in data:
            # (a copy holds every key name of its file, which sops keeps in clear: a
            # staged file holding none of a sops file's names is not read further)
            held = {m[1] for m in _KEY_NAME.finditer(data[: data.find(b"sops")])}
            if any(all(n in staged[path] for n in held) for path in candidates):
                sops_like.append(rel)
    if not sops_like:
        return []  # (the common case: the sops reader is not even imported)
    from secretkit.sops.finder import find_sops_files

    found = find_sops_files(root, candidates=[root / p for p in sops_like])
    shapes = sops_shapes([(f.rel, f.sops) for f in found.found])
    names = shape_names(shapes)
    out = []
    for path in candidates if shapes else ():
        shape = plain_shape(path, staged[path], names)
        same = shapes.get(shape) if shape else None
        if same:
            quoted = shlex.quote(path)
            out.append(
                (
                    path,
                    f"has exactly the keys of the sops file {', '.join(same[:3])}: a "
                    "decrypted copy",
                    f"unstage and delete it: git rm -q --cached {quoted} && rm {quoted} (the "
                    "sops file holds its values; to keep it locally, add it to .gitignore)",
                )
            )
    return out
