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
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from secretkit.lazy_re import lazy
from secretkit.scan.allow_marks import nix_allowed, nix_marks
from secretkit.scan.allowlist import Allowlist
from secretkit.scan.hits import Hit
from secretkit.scan.model import Finding

# `s = import ./secrets.nix;` (a relative path: a file of the repository), also where a
# flake hands it to every module (`specialArgs = { secrets = import ./secrets.nix; }`)
_IMPORTED = lazy(rb"([A-Za-z_][\w'-]*)[ \t]*=[ \t]*import[ \t]+(\.\.?/[\w./+-]*)[ \t]*;")
# what follows `import` in every form above: a relative path
_RELATIVE = lazy(rb"[ \t\r\n]+\(?[ \t]*\.\.?/")


def _imports_a_file(data: bytes) -> bool:
    """Whether ``data`` holds ``import ./…`` (looked for at each "import": most files
    hold one or two, in ``imports = [ … ]``)."""
    at = data.find(b"import")
    while at >= 0:
        if _RELATIVE.match(data, at + 6):
            return True
        at = data.find(b"import", at + 6)
    return False


# `with import ./secrets.nix;` and `inherit (import ./secrets.nix) wifi guest;`
_WITH = lazy(rb"\bwith[ \t]+import[ \t]+(\.\.?/[\w./+-]*)[ \t]*;")
_INHERIT = lazy(rb"\binherit[ \t]*\([ \t]*import[ \t]+(\.\.?/[\w./+-]*)[ \t]*\)([\w\s'-]*);")


def _resolved(path: str, imported: str) -> str | None:
    """The repo-relative file ``import <imported>`` in ``path`` reads (None: outside)."""
    target = posixpath.normpath(posixpath.join(posixpath.dirname(path), imported))
    if not target.endswith(".nix"):
        target = posixpath.join(target, "default.nix")
    return None if target.startswith("../") else target


def bound_imports(path: str, data: bytes) -> dict[str, str]:
    """The names ``path`` binds to ``import ./file``: name → the repo-relative file."""
    out = {}
    for name, imported in _bound(data):
        target = _resolved(path, imported.decode("utf-8", "replace"))
        if target is not None:
            out[name.decode("ascii")] = target
    return out


# `_IMPORTED` (what a test holds them to), found from each "import" (a literal re scans
# for quickly) back to its name
_IMPORT_PATH = lazy(rb"[ \t]+(\.\.?/[\w./+-]*)[ \t]*;")
_BOUND_NAME = lazy(rb"([A-Za-z_][\w'-]*)[ \t]*=[ \t]*\Z")


def _bound(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """``(name, imported path)`` of each ``name = import ./path;`` in ``data``."""
    at = data.find(b"import")
    while at >= 0:
        path = _IMPORT_PATH.match(data, at + 6)
        if path is not None:
            name = _BOUND_NAME.search(data, max(0, at - 120), at)
            if name is not None:
                yield name[1], path[1]
        at = data.find(b"import", at + 6)


def imported_secrets(
    path: str, data: bytes, shared: dict[str, set[str]] | None = None
) -> dict[str, dict[tuple[str, ...], str]]:
    """What ``path`` (repo-relative) gives to secret options from files it imports:
    the imported file's path → attribute path in it → the kind of secret.
    ``shared``: names other files bind to imports and hand to every module (a flake's
    ``specialArgs``), each with the files it may be."""
    facts = import_facts(data, bool(shared))
    return resolve_facts(path, facts, shared) if facts is not None else {}


# What a Nix file's text says of imports, wherever the file is (its paths as written):
# "bound" name → import, "with" imports, "inherit" name → import, "given" the names
# given to secret options → kind
ImportFacts = dict[str, object]


def import_facts(data: bytes, shared: bool = True) -> ImportFacts | None:
    """What :func:`resolve_facts` needs of ``data`` to say which attributes of which
    files it gives to secret options, as written (relative paths unresolved); None
    when it gives none from an import (``shared``: names a flake binds may reach it)."""
    from secretkit.scan.nix_positions import names_given_to_secrets

    bound: dict[str, str] = {}
    withs: list[str] = []
    inherits: dict[str, str] = {}
    if b"import" in data:
        for name, imported in _bound(data):
            bound[name.decode("ascii")] = imported.decode("utf-8", "surrogateescape")
        for m in _WITH.finditer(data):
            withs.append(m[1].decode("utf-8", "surrogateescape"))
        for m in _INHERIT.finditer(data):
            for inherited in m[2].decode("ascii", "replace").split():
                inherits[inherited] = m[1].decode("utf-8", "surrogateescape")
    if not bound and not withs and not inherits and not shared:
        return None
    given = dict(names_given_to_secrets(data, bound_here=False))
    if not given and not bound:
        return None
    return {"bound": bound, "with": withs, "inherit": inherits, "given": given}


def resolve_facts(
    path: str, facts: ImportFacts, shared: dict[str, set[str]] | None = None
) -> dict[str, dict[tuple[str, ...], str]]:
    """:func:`imported_secrets` of the file at ``path`` whose text gave ``facts``."""
    bound = {n: t for n, w in _strs(facts["bound"]).items() if (t := _resolved(path, w))}
    whole = [t for w in _list(facts["with"]) if (t := _resolved(path, w))]
    named = {n: t for n, w in _strs(facts["inherit"]).items() if (t := _resolved(path, w))}
    out: dict[str, dict[tuple[str, ...], str]] = {}
    for given, kind in _strs(facts["given"]).items():
        name, _, rest = given.partition(".")
        if rest:
            targets = [bound[name]] if name in bound else sorted((shared or {}).get(name, ()))
            attrs = tuple(rest.split("."))
        else:
            targets = [named[name]] if name in named else whole
            attrs = (name,)
        for target in targets:
            out.setdefault(target, {})[attrs] = kind
    return out


def _strs(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _list(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def may_give_values(data: bytes, shared: Iterable[str] = ()) -> bool:
    """Whether :func:`import_facts` of ``data`` may be anything: it imports a file, or
    names one of ``shared`` (names a :data:`SHARING` file binds to an import) with a
    dot (a cheap test first: the facts need a parse)."""
    return _imports_a_file(data) or any(f"{name}.".encode() in data for name in shared)


def shared_bound(path: str, facts: ImportFacts) -> dict[str, str]:
    """The names a :data:`SHARING` file at ``path`` binds to imports (name → file)."""
    return {n: t for n, w in _strs(facts["bound"]).items() if (t := _resolved(path, w))}


def imported_targets(
    names: Iterable[str],
    read: Callable[[str], bytes | None],
    candidates: Iterable[str] | None = None,
) -> dict[str, dict[tuple[str, ...], str]]:
    """What the ``.nix`` files among ``names`` give to secret options from other files
    among them (:func:`imported_secrets`, merged): file → attribute path → kind.
    ``candidates``: the files :func:`may_give` marked (a scan read them all for it),
    the only ones read besides :data:`SHARING`; None: every ``.nix`` file is read."""
    present = set(names)
    reading = present if candidates is None else present & {*candidates, *SHARING}
    sources = {}
    for name in sorted(reading):
        if name.endswith(".nix"):
            data = read(name)
            if data is not None:
                sources[name] = data
    wanted = _given_from_imports(sources)
    return {target: attrs for target, attrs in wanted.items() if target in present}


# The files that hand every module what they import (their bound names: a flake's
# specialArgs), read with the staged files by :func:`staged_values`.
SHARING = ("flake.nix", "hive.nix")


def _shared(sources: Callable[[str], bytes | None]) -> dict[str, set[str]]:
    """The names the :data:`SHARING` files bind to ``import ./file``, each with its files."""
    shared: dict[str, set[str]] = {}  # (a flake's specialArgs reach every module)
    for name in SHARING:
        for bound, target in bound_imports(name, sources(name) or b"").items():
            shared.setdefault(bound, set()).add(target)
    return shared


def may_give(read: Callable[[str], bytes | None]) -> Callable[[str, bytes], bool]:
    """The test a scan runs on each file it reads (:data:`secretkit.scan.many_files.Mark`)
    so that :func:`imported_targets` reads again only the files it marks: a ``.nix``
    file that imports one, or names what a :data:`SHARING` file (read here with
    ``read``) binds to an import.  Every other file is passed over there unread."""
    handed = tuple(f"{name}.".encode() for name in _shared(read))

    def test(path: str, data: bytes) -> bool:
        return path.endswith(".nix") and (_imports_a_file(data) or any(h in data for h in handed))

    return test


def _given_from_imports(sources: dict[str, bytes]) -> dict[str, dict[tuple[str, ...], str]]:
    """What the files of ``sources`` (path → bytes, with ``flake.nix`` and ``hive.nix``
    when there are any) give to secret options from the files they import, wherever
    those are: file → attribute path → kind."""
    shared = _shared(sources.get)
    handed = [f"{name}.".encode() for name in shared]
    wanted: dict[str, dict[tuple[str, ...], str]] = {}
    for name, data in sources.items():
        if not _imports_a_file(data) and not any(h in data for h in handed):
            continue  # (no file of values reaches it: most files)
        for target, attrs in imported_secrets(name, data, shared).items():
            wanted.setdefault(target, {}).update(attrs)
    return wanted


def staged_values(
    staged: dict[str, bytes],
    index: Iterable[str],
    read_index: Callable[[list[str]], dict[str, bytes]],
    allow: Allowlist,
    known: Iterable[Finding] = (),
) -> list[Finding]:
    """:func:`imported_values` of the index as it will be committed, reading no more of
    it than the staged files need.  ``staged``: the bytes of the staged files and of
    the index's :data:`SHARING` files; ``index``: every path of the index;
    ``read_index``: the staged bytes of more of its paths.

    A staged file that imports one (or uses a name a flake binds to one) reads the
    files it imports.  A staged file that can be imported for its values — a ``.nix``
    file whose value is not a function, as ``{ wifi = "…"; }`` — is read by whichever
    file imports it: then every ``.nix`` file of the index is read (a commit of such a
    file is rare; a module is a function)."""
    nix = {path: data for path, data in staged.items() if path.endswith(".nix")}
    if not nix:
        return []
    paths = [path for path in index if path.endswith(".nix")]
    if any(_values_file(data) for path, data in nix.items() if path not in SHARING):
        wanted = [path for path in paths if path not in nix]
    else:
        wanted = sorted(set(_given_from_imports(nix)) & set(paths) - set(nix))
    if wanted:
        nix.update(read_index(wanted))
    return imported_values(nix, nix.get, allow, known)


def _values_file(data: bytes) -> bool:
    """Whether ``import`` of this Nix source can give attributes holding string
    literals: it parses, holds a string, and its value is not a function."""
    from secretkit.nix import cst

    if b'"' not in data and b"''" not in data:
        return False
    tree = cst.parse(data)
    return not tree.has_errors and cst.module_function(tree) is None


def imported_values(
    names: Iterable[str],
    read: Callable[[str], bytes | None],
    allow: Allowlist,
    known: Iterable[Finding] = (),
    candidates: Iterable[str] | None = None,
) -> list[Finding]:
    """The literals of the files among ``names`` that other files among them give to
    secret options by attribute (``read``: a file's bytes, None when it cannot be
    read); ``known``: the findings of the scan already, not reported twice;
    ``candidates``: see :func:`imported_targets`."""
    taken = {(f.path, f.start) for f in known}
    out: list[Finding] = []
    for target, attrs in sorted(imported_targets(names, read, candidates).items()):
        data = read(target)
        if data is not None:
            out += values_at(target, data, attrs, allow, None, taken)
    return out


def values_at(
    target: str,
    data: bytes,
    attrs: dict[tuple[str, ...], str],
    allow: Allowlist,
    commit: str | None = None,
    taken: set[tuple[str, int]] | frozenset[tuple[str, int]] = frozenset(),
) -> list[Finding]:
    """The findings at ``attrs`` (attribute path → kind) of one version of ``target``
    (``commit``: the commit it was found at, in history)."""
    from secretkit.nix import cst
    from secretkit.scan import filters
    from secretkit.scan.one_file import hit_findings

    tree = cst.parse(data)
    marks = nix_marks(data, tree)
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
        if nix_allowed(marks, data, start):
            continue  # (a `# secretkit: allow` after it on its line, as the Nix scan reads)
        shown = data[start:end].decode("utf-8", "replace")
        hits.append(
            Hit(
                start, end, "secret-attribute", kind, "medium", ".".join(path),
                value if value != shown else None,
            )
        )  # fmt: skip
    return hit_findings(target, data, hits, allow, commit)


def wanted_from_facts(
    facts_at: Iterable[tuple[str, ImportFacts]],
) -> dict[str, dict[tuple[str, ...], str]]:
    """What the ``.nix`` files give to secret options from files they import, from the
    :func:`import_facts` of each version of them at each path it had (``facts_at``;
    the :data:`SHARING` files' bindings reach every module): file → attribute → kind."""
    pairs = list(facts_at)
    shared: dict[str, set[str]] = {}
    for path, facts in pairs:
        if path in SHARING:
            for name, target in shared_bound(path, facts).items():
                shared.setdefault(name, set()).add(target)
    wanted: dict[str, dict[tuple[str, ...], str]] = {}
    for path, facts in pairs:
        for target, attrs in resolve_facts(path, facts, shared).items():
            wanted.setdefault(target, {}).update(attrs)
    return wanted


def history_values(
    root: Path,
    versions: Mapping[tuple[str, str], str],
    wanted: Mapping[str, dict[tuple[str, ...], str]],
    allow: Allowlist,
    known: Iterable[Finding] = (),
) -> list[Finding]:
    """The values at ``wanted``'s attributes (:func:`wanted_from_facts`) of each version
    of those files (``versions``: (path, blob id) → the oldest commit adding it
    there): a values file deleted since, or one its importer stopped reading, is
    published with the history all the same."""
    from secretkit.git.objects import read_blobs_limited
    from secretkit.scan.one_file import MAX_BYTES

    taken = {(f.path, f.commit, f.start) for f in known}
    oids = sorted({oid for _path, oid in versions})
    contents = {oid: data for oid, _size, data in read_blobs_limited(root, oids, MAX_BYTES)}
    out: list[Finding] = []
    for (target, oid), commit in sorted(versions.items()):
        data = contents.get(oid)
        if data is None or target not in wanted:
            continue
        found = values_at(target, data, wanted[target], allow, commit)
        out += [f for f in found if (f.path, f.commit, f.start) not in taken]
    return out
