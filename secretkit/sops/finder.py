"""The one way to find every sops file of a repository: by content, never by name.

The candidates are the files git would publish below a directory (tracked, and
untracked but not ignored; every file below it outside git — see
:func:`secretkit.git.files.files_below`), or a list the caller already holds.
Each one ends up in exactly one place of the answer, as a value:

* ``found`` — it loads as a sops file whose metadata names its keys;
* ``damaged`` — it should be a sops file and does not load: a creation rule of
  its own (not a catch-all) matches it and it holds sops ciphertext (a truncated
  or hand-edited secrets file), or the caller's ``must_parse`` says it must be one;
* ``skipped`` — it could not be looked at (a symbolic link, too large, unreadable);
* anything else is no sops file and is not listed.

A command decides what a damaged file means for it (``updatekeys`` and ``rotate``
stop before changing anything); none skips one silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from secretkit.errors import IntegrityError, SecretkitError, UserError
from secretkit.sops import document
from secretkit.sops.config import CONFIG_NAME, SopsConfig

MAX_BYTES = 16 * 1024 * 1024
CATCH_ALL = (None, "", ".*", "^.*$", "^.*", ".*$")


@dataclass(frozen=True)
class FoundFile:
    path: Path  # absolute
    rel: str  # relative to the root asked for, '/'-separated
    fmt: str
    data: bytes = field(repr=False)
    sops: document.SopsFile = field(repr=False, compare=False)


@dataclass(frozen=True)
class DamagedFile:
    path: Path
    rel: str
    problem: str  # why it does not load (no value in it)
    data: bytes = field(repr=False, compare=False)


@dataclass(frozen=True)
class SkippedFile:
    rel: str
    reason: str


@dataclass
class SopsFiles:
    found: list[FoundFile] = field(default_factory=list)
    damaged: list[DamagedFile] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _read(path: Path) -> tuple[bytes | None, str]:
    """The file's bytes, or None and why not ("" for what is no file at all)."""
    try:
        if path.is_symlink():
            return None, "a symbolic link (not followed)"
        if not path.is_file():
            return None, ""
        if path.stat().st_size > MAX_BYTES:
            return None, f"larger than {MAX_BYTES // (1024 * 1024)} MiB"
        return path.read_bytes(), ""
    except OSError as exc:
        return None, f"unreadable: {exc.strerror}"


def load_sops(data: bytes, fmt: str) -> tuple[document.SopsFile | None, str]:
    """``(the parsed sops file, "")``, or ``(None, why it is none)``: a ``sops:``
    mapping of some other program, without version or MAC or keys, is none."""
    try:
        sops = document.load_encrypted(data, fmt)
    except SecretkitError as exc:
        return None, exc.message
    meta = sops.metadata
    if not (meta.version or meta.mac) or not meta.all_keys():
        return None, "its sops metadata lists no keys"
    return sops, ""


def damaged_sops_file(config: SopsConfig, path: Path, data: bytes) -> str | None:
    """Why ``path`` — matched by a creation rule of its own (not a catch-all), and
    holding sops ciphertext — does not load as a sops file; None when it loads, or is
    no sops file at all.  Tree-wide commands must not skip such a file
    silently (a truncated or hand-damaged secrets file)."""
    rule = config.rule_for(path)
    if rule is None or rule.path_regex in CATCH_ALL:
        return None
    if b"ENC[AES256_GCM," not in data:  # no sops ciphertext: not a (damaged) sops file
        return None
    fmt = document.format_for_path(path)
    try:
        sops = document.load_encrypted(data, fmt)
    except SecretkitError as exc:
        return exc.message
    return None if sops.metadata.all_keys() else "its sops metadata lists no keys"


def find_sops_files(
    root: Path,
    base: Path | None = None,
    *,
    config: SopsConfig | None = None,
    candidates: Iterable[Path] | None = None,
    relevant: Callable[[Path, bytes], bool] | None = None,
    must_parse: Callable[[bytes], bool] | None = None,
) -> SopsFiles:
    """Every sops file among ``candidates`` (default: the files below ``base``, itself
    by default ``root``), found by its content.

    ``config``: its rules say which files that do not load are damaged.
    ``relevant(path, data)`` leaves files out before they are parsed (a plan that
    only needs the files naming one key need not parse all the others).
    ``must_parse(data)``: a file it says yes to that does not load is damaged."""
    from secretkit.git.files import files_below

    out = SopsFiles()
    paths = candidates if candidates is not None else files_below(base or root)
    for path in paths:
        if path.name == CONFIG_NAME:
            continue
        data, why = _read(path)
        if data is None:
            if why:
                out.skipped.append(SkippedFile(_rel(root, path), why))
            continue
        if b"sops" in data and (relevant is None or relevant(path, data)):
            sops, problem = load_sops(data, document.format_for_path(path))
            if sops is not None:
                out.found.append(FoundFile(path, _rel(root, path), sops.fmt, data, sops))
                continue
            if must_parse is not None and must_parse(data):
                out.damaged.append(DamagedFile(path, _rel(root, path), problem, data))
                continue
        if config is not None:
            damaged = damaged_sops_file(config, path, data)
            if damaged is not None:
                out.damaged.append(DamagedFile(path, _rel(root, path), damaged, data))
    return out


def refuse_damaged(damaged: Sequence[DamagedFile]) -> None:
    """IntegrityError naming the first damaged file (and how many more)."""
    if not damaged:
        return
    rel, problem = damaged[0].rel, damaged[0].problem
    more = f" (and {len(damaged) - 1} more file(s))" if len(damaged) > 1 else ""
    raise IntegrityError(
        f"{rel} matches a creation rule but is not a readable sops file ({problem}){more}; "
        "nothing was changed",
        hint=f"restore it from git (git checkout -- {rel}) or remove it, then retry",
    )


def named_or_every(cwd: Path, config: SopsConfig, files: Sequence[Path | str]) -> list[Path]:
    """The files a command was given (relative to ``cwd``), or without any every sops
    file below the ``.sops.yaml`` directory that a creation rule matches (a damaged
    one stops the command: IntegrityError)."""
    if files:
        return [Path(f) if Path(f).is_absolute() else cwd / f for f in files]
    base = config.path.parent
    result = find_sops_files(base, config=config)
    refuse_damaged(result.damaged)
    paths = [f.path for f in result.found if config.rule_for(f.path) is not None]
    if not paths:
        raise UserError(
            f"no sops files matching a creation rule of {config.path} were found",
            hint="name the files to process",
        )
    return paths
