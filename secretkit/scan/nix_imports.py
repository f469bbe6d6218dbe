"""Values a Nix file imports from another file and gives to a secret option.

The homelab habit: a ``secrets.nix`` of plain values, named for what they are for,
and a module that reads it::

    # secrets.nix
    { wifi = "…"; grafana = "…"; }
    # a.nix
    let s = import ./secrets.nix; in {
      networking.wireless.networks.home.psk = s.wifi;
      services.grafana.settings.security.admin_password = s.grafana;
    }

Each file is scanned alone (:mod:`secretkit.scan.nix`), and ``wifi`` says nothing
there.  :func:`imported_values` reads the importing files once more, after the scan of
a tree: a name bound to ``import ./path`` whose attribute is given to a secret-named
option (:func:`secretkit.scan.nix_positions.names_given_to_secrets`) makes the string
literal at that attribute of the imported file a secret of that kind.  Only literals
without interpolation are taken, judged by :func:`secretkit.scan.filters.not_secret`
as any value under that name would be; a line marked ``secretkit: allow`` is allowed.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable

from secretkit.lazy_re import lazy
from secretkit.scan.allowlist import Allowlist
from secretkit.scan.hits import ALLOW_MARK, Hit
from secretkit.scan.model import Finding

# `s = import ./secrets.nix;` (a relative path: a file of the repository)
_IMPORTED = lazy(rb"([A-Za-z_][\w'-]*)[ \t]*=[ \t]*import[ \t]+(\.\.?/[\w./+-]*)[ \t]*;")


def imported_secrets(path: str, data: bytes) -> dict[str, dict[tuple[str, ...], str]]:
    """What ``path`` (repo-relative) gives to secret options from files it imports:
    the imported file's path → attribute path in it → the kind of secret."""
    from secretkit.scan.nix_positions import names_given_to_secrets

    if b"import" not in data:
        return {}
    bound = {
        m[1].decode("ascii"): m[2].decode("utf-8", "replace") for m in _IMPORTED.finditer(data)
    }
    if not bound:
        return {}
    out: dict[str, dict[tuple[str, ...], str]] = {}
    for given, kind in names_given_to_secrets(data).items():
        name, _, rest = given.partition(".")
        if not rest or name not in bound:
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), bound[name]))
        if not target.endswith(".nix"):
            target = posixpath.join(target, "default.nix")
        if target.startswith("../"):
            continue  # (outside the repository)
        out.setdefault(target, {})[tuple(rest.split("."))] = kind
    return out


def imported_values(
    names: Iterable[str],
    read: Callable[[str], bytes | None],
    allow: Allowlist,
    known: Iterable[Finding] = (),
) -> list[Finding]:
    """The literals of the files among ``names`` that other files among them give to
    secret options by attribute (``read``: a file's bytes, None when it cannot be
    read); ``known``: the findings of the scan already, not reported twice."""
    from secretkit.nix import cst
    from secretkit.scan import filters
    from secretkit.scan.one_file import hit_findings

    present = set(names)
    wanted: dict[str, dict[tuple[str, ...], str]] = {}
    for name in sorted(present):
        if not name.endswith(".nix"):
            continue
        data = read(name)
        if data is None:
            continue
        for target, attrs in imported_secrets(name, data).items():
            if target in present:
                wanted.setdefault(target, {}).update(attrs)
    taken = {(f.path, f.start) for f in known}
    out: list[Finding] = []
    for target, attrs in sorted(wanted.items()):
        data = read(target)
        if data is None:
            continue
        tree = cst.parse(data)
        hits = []
        for node, path, binding, _at, _until, _argument in cst.value_strings(tree):
            kind = attrs.get(tuple(path))
            if kind is None:
                continue
            literal = cst.string_from(tree, node, path, binding)
            value = literal.value
            if literal.has_interpolation or not value.strip():
                continue
            if filters.not_secret(value, kind=kind) or filters.password_hash(value):
                continue
            start, end = literal.content_start, literal.content_end
            if (target, start) in taken:
                continue
            line_end = data.find(b"\n", end)
            if ALLOW_MARK.encode() in data[start : len(data) if line_end < 0 else line_end]:
                continue
            shown = data[start:end].decode("utf-8", "replace")
            hits.append(
                Hit(
                    start, end, "secret-attribute", kind, "medium", ".".join(path),
                    value if value != shown else None,
                )
            )  # fmt: skip
        out += hit_findings(target, data, hits, allow, None)
    return out
