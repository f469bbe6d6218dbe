"""Files of the repository a Nix file hands to a secret option by their path.

A committed ``files/rp`` holding a password says nothing by its name or its one line;
the module that reads it says what it is::

    services.restic.backups.b.passwordFile = "${./files/rp}";   # or ./files/rp, toString ./…
    services.grafana.settings.security.admin_password = builtins.readFile ./grafana-admin;

The file is published with the repository (and copied into the Nix store).  After the
scan of a tree, :func:`referenced_secret_files` reads the ``.nix`` files once more for
a secret's file option (``passwordFile``, ``tokenFile``, ``keyFile`` …:
:func:`secretkit.scan.nix_positions.option_kind`) or a secret-named option given
``builtins.readFile``/``lib.fileContents`` of a relative path, and reports the whole
text of each such file that is one value (one line, not a crypt hash, not what
:func:`secretkit.scan.filters.not_secret` recognises) as the secret it is said to be.
A file found already is not reported twice; a ``.nix`` file is never taken for one.
A history scan remembers the files each ``.nix`` blob hands on (:func:`given_files`)
and judges every version the history holds of them (:func:`history_value_files`): a
password file deleted since is published with the history all the same.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from secretkit.lazy_re import lazy
from secretkit.scan.allowlist import Allowlist
from secretkit.scan.hits import Hit
from secretkit.scan.model import Finding

# What a secret's option is given, searched from the "=" (a literal re finds quickly;
# the name is read back from it), over line breaks (nixfmt puts a long value on the
# next line): wrappers that keep the value (`lib.mkForce`, `lib.mkDefault`,
# `lib.mkOverride 50`, `lib.trim`, `lib.removeSuffix "\n"`, parentheses, a store
# file of it: `builtins.toFile "n"`, `"${pkgs.writeText "n"`), then a
# conversion (`"${…}"`, `toString`, `builtins.readFile`, `lib.fileContents` …), then
# the path: `./x`, `../x`, `./.` or `self` (the flake's root), and what is joined to
# it (`"${./files}/rp"`, `./files + "/rp"`, `self + "/files/rp"`).
_WRAPPERS = (
    rb"(?:\([ \t\n]*|(?:lib\.)?(?:mkForce|mkDefault|mkOverride[ \t]+\d+|(?:strings\.)?trim"
    rb"|(?:strings\.)?removeSuffix[ \t]+\"[^\"\n]*\"|(?:builtins\.)?toFile[ \t]+\"[^\"\n]*\""
    rb"|\"\$\{[ \t]*(?:pkgs\.)?writeText[ \t]+\"[^\"\n]*\")[ \t\n]+)*"
)
_GIVEN = lazy(
    # (what may follow the "=", looked at first: most values are none of these)
    rb"=[ \t\n]*(?=[(lmstrbf\".i])"
    + _WRAPPERS
    + rb"(?:\"\$\{[ \t]*(?:(?:builtins\.)?toString[ \t]+\(?[ \t]*)?"
    rb"|(?:builtins\.)?toString[ \t]+\(?[ \t]*"
    rb"|(?P<read>(?:builtins\.)?readFile|(?:lib\.)?(?:strings\.)?fileContents)[ \t\n]+\(?[ \t]*)?"
    rb"(?:(?P<path>\.\.?/[\w./+-]*)|(?P<self>(?:inputs\.)?self)\b)"
    rb"(?:[ \t]*\)?\}(?P<tail>/[\w./+-]+)|[ \t\n]*\+[ \t\n]*\"(?P<plus>/[\w./+-]+)\")?"
)
_NAME_BEFORE = lazy(rb"\"?([A-Za-z_][\w'-]*)\"?[ \t]*$")
_ONE_VALUE_MAX = 4096  # (a file longer than this is a config, read by the scan itself)


def given_files(path: str, data: bytes) -> dict[str, str]:
    """The repository files (relative to the root) ``data`` (the Nix file at ``path``)
    hands to a secret option, with the kind of secret the option names."""
    out: dict[str, str] = {}
    for written, kind in given_relative(data).items():
        target = resolve(path, written)
        if target is not None:
            out.setdefault(target, kind)
    return out


def given_relative(data: bytes) -> dict[str, str]:
    """The paths a Nix file's text hands to a secret option, as written (relative to
    the file's folder; from the repository's root when they start with "/": ``self``),
    with the kind of secret the option names: what :func:`resolve` makes a repository
    path of, wherever the file is."""
    from secretkit.scan import filters
    from secretkit.scan.nix_positions import option_kind

    out: dict[str, str] = {}
    if b"./" not in data and b"self" not in data:
        return out
    for m in _GIVEN.finditer(data):
        before = _NAME_BEFORE.search(data, max(0, m.start() - 80), m.start())
        if before is None:
            continue
        name = before.group(1).decode("ascii", "replace")
        read = m.group("read") is not None  # (its text is the value: a secret's name)
        # (read into a secret's value, or into a store file given to a file option)
        kind = (filters.secret_name(name) if read else None) or option_kind(name)[0]
        if kind is None or kind == "password-hash":
            continue
        joined = (m["tail"] or m["plus"] or b"").decode("utf-8", "surrogateescape")
        if m["self"] is not None:
            if not joined:
                continue  # (the whole flake is no secret's file)
            written = joined
        else:
            written = m["path"].decode("utf-8", "surrogateescape") + joined
        out.setdefault(written, kind)
    return out


def resolve(path: str, written: str) -> str | None:
    """The repository path ``written`` (:func:`given_relative`) names in the Nix file
    at ``path``; None outside the repository, for a ``.nix`` file or a folder."""
    if written.startswith("/"):
        target = posixpath.normpath(written.lstrip("/"))
    else:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), written))
    if target in (".", "..") or target.startswith("../") or target.endswith(".nix"):
        return None
    return target


def gives_files(path: str, data: bytes) -> bool:
    """Whether the file ``path`` (its bytes ``data``) hands a file to a secret option
    (the test a tree scan runs on each file it reads: only those are read again)."""
    return path.endswith(".nix") and bool(given_files(path, data))


def referenced_secret_files(
    names: Iterable[str],
    read: Callable[[str], bytes | None],
    allow: Allowlist,
    known: Iterable[Finding] = (),
    sources: Iterable[str] | None = None,
) -> list[Finding]:
    """The findings of the files among ``names`` that a ``.nix`` file among them hands
    to a secret option (``read``: a file's bytes, None when it cannot be read);
    ``known``: the scan's findings already (a file with one is not reported again);
    ``sources``: the only ``.nix`` files that may hand one on (those the scan's
    :func:`gives_files` marked), None: any."""
    listed = set(names)
    found = {f.path for f in known}
    wanted: dict[str, str] = {}
    for name in sorted(listed if sources is None else listed.intersection(sources)):
        if name.endswith(".nix"):
            data = read(name)
            if data is not None:
                for target, kind in given_files(name, data).items():
                    wanted.setdefault(target, kind)
    out: list[Finding] = []
    for target, kind in sorted(wanted.items()):
        if target not in listed or target in found:
            continue
        data = read(target)
        if data is not None:
            out += value_file_findings(target, data, kind, allow)
    return out


def value_file_findings(
    target: str, data: bytes, kind: str, allow: Allowlist, commit: str | None = None
) -> list[Finding]:
    """The finding of ``data``, the bytes of the file ``target`` that a Nix file hands
    to an option of ``kind``: its whole text, when that is one value (one line, not a
    crypt hash, not what :func:`secretkit.scan.filters.not_secret` recognises)."""
    from secretkit.scan import filters
    from secretkit.scan.one_file import hit_findings

    if len(data) > _ONE_VALUE_MAX or b"\0" in data:
        return []
    raw = data.strip()  # (the value's bytes: the finding's offsets are the file's)
    value = raw.decode("utf-8", "replace")
    if not value or "\n" in value or filters.password_hash(value):
        return []
    if filters.not_secret(value, kind=kind):
        return []
    start = data.index(raw)
    hit = Hit(start, start + len(raw), "secret-file-text", kind, "high")
    return hit_findings(target, data, [hit], allow, commit)


def history_versions(
    root: Path, targets: Mapping[str, str], *, every_ref: bool = False
) -> dict[tuple[str, str], tuple[str, str]]:
    """Every version the history holds of the files ``targets`` names (repository
    path → kind), and of the files a symbolic link among them points to:
    ``(path, blob id)`` → (the oldest commit that added that blob there, the kind)."""
    from secretkit.git.objects import read_blobs
    from secretkit.git.path_history import path_versions

    kinds = {t: k for t, k in targets.items() if not t.startswith("../")}
    added: dict[tuple[str, str], tuple[str, str]] = {}
    asked: set[str] = set()
    for _hop in range(_LINK_HOPS):  # (a link to a link …)
        wanted = sorted(set(kinds) - asked)
        if not wanted:
            break
        asked.update(wanted)
        links: dict[str, str] = {}  # a link's blob -> its path
        for path, oid, commit, link in path_versions(root, wanted, every_ref=every_ref):
            if link:
                links[oid] = path
            else:
                added[(path, oid)] = (commit, kinds[path])
        for oid, data in read_blobs(root, links):
            path = links[oid]
            points = data.decode("utf-8", "surrogateescape")
            target = None if points.startswith("/") else resolve(path, points)  # (/…: not ours)
            if target is not None:
                kinds.setdefault(target, kinds[path])
    return added


_LINK_HOPS = 4


def history_value_files(
    root: Path,
    versions: Mapping[tuple[str, str], tuple[str, str]],
    allow: Allowlist,
    known: Iterable[Finding] = (),
) -> list[Finding]:
    """:func:`value_file_findings` of ``versions`` (:func:`history_versions`), each at
    its commit, as the kind of secret a Nix file of the history handed it to;
    ``known``: the history's findings already (a value found at its path is not
    reported twice)."""
    from secretkit.git.objects import read_blobs_limited

    seen = {(f.path, f.secret.reveal()) for f in known}
    oids = sorted({oid for _path, oid in versions})
    contents = {oid: data for oid, _size, data in read_blobs_limited(root, oids, _ONE_VALUE_MAX)}
    out: list[Finding] = []
    for (path, oid), (commit, kind) in sorted(versions.items()):
        data = contents.get(oid)
        if data is None:
            continue
        for finding in value_file_findings(path, data, kind, allow, commit):
            if (path, finding.secret.reveal()) not in seen:
                out.append(finding)
    return out
