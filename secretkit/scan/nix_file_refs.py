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
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable

from secretkit.lazy_re import lazy
from secretkit.scan.allowlist import Allowlist
from secretkit.scan.hits import Hit
from secretkit.scan.model import Finding

# `name = ./path;`, `name = "${./path}";`, `name = toString ./path;`,
# `name = builtins.readFile ./path;` (and lib.fileContents, readFile alone)
# (searched from the "=", a literal re finds quickly; the name is read back from it)
_GIVEN = lazy(
    rb"=[ \t]*(?:\"\$\{[ \t]*|(?:builtins\.)?toString[ \t]+|"
    rb"(?P<read>(?:builtins\.)?readFile|(?:lib\.)?fileContents)[ \t]+)?\(?[ \t]*"
    rb"(?P<path>\.\.?/[\w./+-]+)"
)
_NAME_BEFORE = lazy(rb"([A-Za-z_][\w'-]*)[ \t]*$")
_ONE_VALUE_MAX = 4096  # (a file longer than this is a config, read by the scan itself)


def given_files(path: str, data: bytes) -> dict[str, str]:
    """The repository files (relative to the root) ``data`` (the Nix file at ``path``)
    hands to a secret option, with the kind of secret the option names."""
    from secretkit.scan import filters
    from secretkit.scan.nix_positions import option_kind

    out: dict[str, str] = {}
    if b"./" not in data:
        return out
    for m in _GIVEN.finditer(data):
        before = _NAME_BEFORE.search(data, max(0, m.start() - 80), m.start())
        if before is None:
            continue
        name = before.group(1).decode("ascii", "replace")
        read = m.group("read") is not None  # (its text is the value: a secret's name)
        kind = filters.secret_name(name) if read else option_kind(name)[0]
        if kind is None or kind == "password-hash":
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), m["path"].decode()))
        if not target.startswith("../") and not target.endswith(".nix"):
            out.setdefault(target, kind)
    return out


def referenced_secret_files(
    names: Iterable[str],
    read: Callable[[str], bytes | None],
    allow: Allowlist,
    known: Iterable[Finding] = (),
) -> list[Finding]:
    """The findings of the files among ``names`` that a ``.nix`` file among them hands
    to a secret option (``read``: a file's bytes, None when it cannot be read);
    ``known``: the scan's findings already (a file with one is not reported again)."""
    from secretkit.scan import filters
    from secretkit.scan.one_file import hit_findings

    listed = set(names)
    found = {f.path for f in known}
    wanted: dict[str, str] = {}
    for name in sorted(listed):
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
        if data is None or len(data) > _ONE_VALUE_MAX or b"\0" in data:
            continue
        raw = data.strip()  # (the value's bytes: the finding's offsets are the file's)
        value = raw.decode("utf-8", "replace")
        if not value or "\n" in value or filters.password_hash(value):
            continue
        if filters.not_secret(value, kind=kind):
            continue
        start = data.index(raw)
        hit = Hit(start, start + len(raw), "secret-file-text", kind, "high")
        out += hit_findings(target, data, [hit], allow, None)
    return out
