"""What a history scan learned, per blob, so the next one reads only new blobs.

Public API::

    detector_version() -> str                    # changes whenever any scanner code does
    HistoryCache.load(root, key) -> HistoryCache  # empty when missing, stale or damaged
    cache.known(oid, path) -> str | None         # "clean" | "skip" | "found"
    cache.record_clean(oid, path) / record_skip(...) / record_found(...)
    cache.commits                                # commits whose blobs are all recorded
    cache.message_clean(commit) / record_message_clean(commit)
    cache.blobs() -> list[(oid, commit, path)]   # flagged and skipped blobs, to report
    cache.named                                  # token-named path's tag -> its commit
    cache.identities / set_identities(...)       # token-named authors: (commit, tag)
    cache.record_refs(oid, given) / add_ref_paths(...) / ref_targets()  # files Nix hands on
    cache.record_imports(oid, facts) / cache.imports  # what Nix blobs import for secrets
    cache.versions(targets) / record_versions(targets, versions)  # the history's of them
    cache.save()

The file lives in ``<git dir>/secretkit/history-cache`` (never in the work tree, never
pushed).  It holds blob ids, a short hash of the path the blob was scanned under,
rule ids and positions of findings, and fixed skip reasons: no secret value, no
preview and no fingerprint (a fingerprint costs a scrypt: it is computed from the
value when an output or the allowlist asks for it).  A blob with findings is read again
each time (findings need their values for previews): when each value is exactly its
bytes the findings are rebuilt from the positions kept, else the blob is scanned
again.  The commits already walked are kept too, so a later run walks only new
ones — unless a walked commit is gone (history rewritten): then all again.  So are
the commits whose message was scanned clean (a message with findings is read again
each time, as a flagged blob is).  Besides, the paths of the history whose names hold
a token, as the oldest commit that added each and the path's short hash (only those,
not every path; the name itself is read from that commit again), and, for
each ``.nix`` blob that hands a file of the repository to a secret option by its path,
those files' paths as written and the kind of secret, and every path the blob was
added at (:mod:`secretkit.scan.nix_file_refs`: a blob moved unchanged names other
files), likewise what a ``.nix`` blob imports to give to secret options
(:func:`~secretkit.scan.nix_imports.import_facts`), and
the versions of those files the history holds (path, blob id, commit; valid while no
ref moves): what the next run needs to judge names and such files without reading
those blobs or walking the history again.
Flagged and skipped blobs keep the commit and path they were seen at (paths and
commit ids, no content).  The header key covers the detector code (with the history
walk and the Nix parser), the installed detect-secrets and tree-sitter grammar, the
Python, the allowlist and the size limit: when any of them changes the whole cache is
dropped.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import secretkit
from secretkit.git import git_dir as git_dir  # (where the cache lives: the git directory)

FORMAT = 5  # (2: the header holds the entries' digest; 5: names, file refs, imports)
_NAME = "history-cache"


# What else the findings depend on: the Nix parser's modules, the history walk, and
# the libraries that find or parse (detect-secrets' vendor patterns, the grammar).
_ALSO_READ = (
    "nix/cst.py",
    "nix/syntax.py",
    "nix/literals.py",
    "lazy_re.py",
    "git/objects.py",
    "git/path_history.py",
    "git/identities.py",
    "git/lfs.py",
)
# (package, the files of it whose bytes count besides its installed version)
_LIBRARIES = (
    ("detect_secrets", "plugins/*.py"),
    ("tree_sitter", None),
    ("tree_sitter_nix", "*.so"),
)


def detector_version() -> str:
    """A digest of the scanner's own code (every module of :mod:`secretkit.scan`, the
    Nix parser and the history walk it uses), the package version, the Python, and
    what the libraries that find and parse are: their installed versions, the vendor
    patterns and the grammar (an upgrade, or an edited copy, drops the cache)."""
    import sys

    base = Path(secretkit.__file__).parent
    digest = hashlib.sha256(secretkit.__version__.encode())
    digest.update(repr(sys.version_info[:3]).encode())
    for package, files in _LIBRARIES:
        digest.update(_library_mark(package, files))
    sources = [*sorted((base / "scan").rglob("*.py")), *(base / rel for rel in _ALSO_READ)]
    for source in sources:
        digest.update(source.relative_to(base).as_posix().encode() + b"\0")
        try:
            digest.update(source.read_bytes())
        except OSError:
            digest.update(b"<unreadable>")
    return digest.hexdigest()[:32]


def _library_mark(package: str, files: str | None) -> bytes:
    """What is installed of ``package``, found without importing it: the names of its
    ``*.dist-info`` directories (name and version) and the bytes of ``files``."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    places = spec.submodule_search_locations if spec is not None else None
    if not places:
        return f"\0{package}=absent".encode()
    home = Path(next(iter(places)))
    prefix = package.lower() + "-"
    try:
        dists = sorted(p.name for p in home.parent.iterdir() if p.name.lower().startswith(prefix))
    except OSError:
        dists = []
    mark = hashlib.sha256(f"\0{package}={','.join(dists)}".encode())
    for path in sorted(home.glob(files)) if files else []:
        mark.update(path.name.encode() + b"\0")
        try:
            mark.update(path.read_bytes())
        except OSError:
            mark.update(b"<unreadable>")
    return mark.digest()


def cache_key(allowing: bytes, max_bytes: int) -> str:
    """What the cached results depend on besides the blobs: the detectors, the size
    limit and what the allowlist allows (:meth:`~secretkit.scan.allowlist.Allowlist.identity`)."""
    digest = hashlib.sha256(detector_version().encode())
    digest.update(allowing)
    digest.update(b"\0" + str(max_bytes).encode())
    return digest.hexdigest()[:32]


def _digest(body: str) -> str:
    """The SHA-256 of the entries, kept in the header: a cache cut short or edited is
    dropped whole, never read in part."""
    return hashlib.sha256(body.encode("utf-8", "surrogateescape")).hexdigest()


def _targets_digest(targets: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(sorted(targets)).encode()).hexdigest()[:16]


def _path_tag(path: str) -> str:
    return hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()[:12]


@dataclass
class HistoryCache:
    path: Path | None
    key: str
    entries: dict[str, str] = field(default_factory=dict)  # "oid tag" -> status
    commits: set[str] = field(default_factory=set)
    tips: str = ""  # git show-ref --head when ``commits`` were walked
    clean_messages: set[str] = field(default_factory=set)  # commits whose message is clean
    named: dict[str, str] = field(default_factory=dict)  # token-named path's tag -> commit
    # authors and committers named with a token: (commit, tag of "Name <email>"); None:
    # not read for these commits yet
    identities: set[tuple[str, str]] | None = None
    refs: dict[str, dict[str, str]] = field(default_factory=dict)  # oid -> written -> kind
    ref_paths: dict[str, set[str]] = field(default_factory=dict)  # oid -> its paths
    imports: dict[str, dict[str, object]] = field(default_factory=dict)  # oid -> facts
    # the history's versions of the files refs name, under a digest of those files
    target_versions: tuple[str, list[list[str]]] = ("", [])  # (path, oid, commit, kind)
    dirty: bool = False

    @classmethod
    def load(cls, root: Path, key: str) -> HistoryCache:
        base = git_dir(root)
        path = base / "secretkit" / _NAME if base is not None else None
        cache = cls(path=path, key=key)
        if path is None:
            return cache
        try:
            first, _, body = path.read_text(encoding="utf-8").partition("\n")
            header = json.loads(first or "{}")
            if header.get("format") != FORMAT or header.get("key") != key:
                cache.dirty = True  # stale: rewritten on save
                return cache
            if header.get("digest") != _digest(body):
                # cut short or changed by hand: a lost "flagged" entry or a commit marked
                # walked would silence a secret for good, so none of it is believed
                cache.dirty = True
                return cache
            tips = header.get("tips", "")
            cache.tips = tips if isinstance(tips, str) else ""
            for line in body.split("\n"):
                parts = line.split("\t", 2)
                if len(parts) == 2 and parts[0] == "I":
                    cache.identities = cache.identities or set()
                elif len(parts) == 3 and parts[0] == "i":
                    cache.identities = (cache.identities or set()) | {(parts[1], parts[2])}
                elif len(parts) == 3 and parts[0] == "n":
                    cache.named[parts[2]] = parts[1]
                elif len(parts) == 3 and parts[0] == "t":
                    rows = json.loads(parts[2])
                    cache.target_versions = (parts[1], [[str(x) for x in r[:4]] for r in rows])
                elif len(parts) == 3 and parts[0] == "x":
                    facts, at = json.loads(parts[2])
                    cache.imports[parts[1]] = dict(facts)
                    cache.ref_paths[parts[1]] = {str(p) for p in at}
                elif len(parts) == 3 and parts[0] == "r":
                    given, at = json.loads(parts[2])
                    cache.refs[parts[1]] = {str(k): str(v) for k, v in given.items()}
                    cache.ref_paths[parts[1]] = {str(p) for p in at}
                elif len(parts) == 2 and parts[0] == "c":
                    cache.commits.add(parts[1])
                elif len(parts) == 2 and parts[0] == "m":
                    cache.clean_messages.add(parts[1])
                elif len(parts) == 3:
                    cache.entries[f"{parts[0]} {parts[1]}"] = parts[2]
        except (OSError, ValueError, AttributeError, TypeError):
            cache.entries.clear()
            cache.commits.clear()
            cache.clean_messages.clear()
            cache.named.clear()
            cache.identities = None
            cache.refs.clear()
            cache.ref_paths.clear()
            cache.imports.clear()
            cache.dirty = True
        return cache

    def blobs(self) -> list[tuple[str, str, str]]:
        """(oid, commit, path) of every flagged or skipped blob (to scan or report again)."""
        out = []
        for item, status in self.entries.items():
            if status[:2] in ("f:", "s:"):
                try:
                    commit, path = json.loads(status[2:])[:2]
                except (ValueError, TypeError):
                    continue
                if isinstance(commit, str) and isinstance(path, str):
                    out.append((item.split(" ", 1)[0], commit, path))
        return out

    def skip_reason(self, oid: str, path: str) -> str | None:
        status = self.entries.get(f"{oid} {_path_tag(path)}", "")
        if not status.startswith("s:"):
            return None
        try:
            reason = json.loads(status[2:])[2]
        except (ValueError, TypeError, IndexError):
            return None
        return reason if isinstance(reason, str) else None

    def keep_only(self, seen: set[str]) -> None:
        """Drop entries of blobs no longer in history (after a full walk)."""
        tags = {item for item in self.entries if item in seen}
        if len(tags) != len(self.entries):
            self.entries = {k: v for k, v in self.entries.items() if k in tags}
            self.dirty = True
        oids = {item.split(" ", 1)[0] for item in seen}
        if any(oid not in oids for oid in self.refs):
            self.refs = {k: v for k, v in self.refs.items() if k in oids}
            self.dirty = True
        if any(oid not in oids for oid in self.imports):
            self.imports = {k: v for k, v in self.imports.items() if k in oids}
            self.dirty = True
        self.ref_paths = {}  # (the walk of the whole history names them all again)

    def set_named(self, named: dict[str, str]) -> None:
        """The history's token-named paths are ``named`` (each with its oldest commit)."""
        tags = {_path_tag(path): commit for path, commit in named.items()}
        if tags != self.named:
            self.named = tags
            self.dirty = True

    @staticmethod
    def path_tag(path: str) -> str:
        return _path_tag(path)

    def record_refs(self, oid: str, given: dict[str, str]) -> None:
        """The files the ``.nix`` blob ``oid`` hands to a secret option, as written
        (:func:`~secretkit.scan.nix_file_refs.given_relative`), with the kind each is
        (none: forgotten)."""
        if given != self.refs.get(oid, {}):
            if given:
                self.refs[oid] = dict(given)
            else:
                del self.refs[oid]
            self.dirty = True

    def record_imports(self, oid: str, facts: dict[str, object] | None) -> None:
        """What the ``.nix`` blob ``oid`` imports to give to secret options (None:
        nothing)."""
        if facts != self.imports.get(oid):
            if facts:
                self.imports[oid] = facts
            else:
                self.imports.pop(oid, None)
            self.dirty = True

    def add_ref_paths(self, nix_paths: dict[str, set[str]]) -> None:
        """The paths the history's walk met each ``.nix`` blob at (those of blobs with
        :attr:`refs` or :attr:`imports` are kept: where the files they name are)."""
        for oid in {*self.refs, *self.imports}:
            paths = self.ref_paths.get(oid, set()) | nix_paths.get(oid, set())
            if paths != self.ref_paths.get(oid):
                self.ref_paths[oid] = paths
                self.dirty = True

    def versions(self, targets: dict[str, str]) -> dict[tuple[str, str], tuple[str, str]] | None:
        """The versions recorded of ``targets`` ((path, oid) → (commit, kind)), None
        when those recorded were of other files."""
        digest, rows = self.target_versions
        if digest != _targets_digest(targets) or any(len(row) != 4 for row in rows):
            return None
        return {(path, oid): (commit, kind) for path, oid, commit, kind in rows}

    def record_versions(
        self, targets: dict[str, str], versions: dict[tuple[str, str], tuple[str, str]]
    ) -> None:
        rows = sorted([path, oid, *seen] for (path, oid), seen in versions.items())
        kept = (_targets_digest(targets), rows)
        if kept != self.target_versions:
            self.target_versions = kept
            self.dirty = True

    def ref_targets(self) -> dict[str, str]:
        """Every file some ``.nix`` blob of the history hands to a secret option."""
        from secretkit.scan.nix_file_refs import resolve

        out: dict[str, str] = {}
        for oid in sorted(self.refs):
            for path in sorted(self.ref_paths.get(oid, ())):
                for written, kind in sorted(self.refs[oid].items()):
                    target = resolve(path, written)
                    if target is not None:
                        out.setdefault(target, kind)
        return out

    @staticmethod
    def item(oid: str, path: str) -> str:
        return f"{oid} {_path_tag(path)}"

    def set_identities(self, found: set[tuple[str, str]]) -> None:
        """The history's identities with a token (commit, ``Name <email>``)."""
        tags = {(commit, _path_tag(name)) for commit, name in found}
        if tags != self.identities:
            self.identities = tags
            self.dirty = True

    def set_commits(self, commits: set[str], tips: str) -> None:
        if commits != self.commits or tips != self.tips:
            self.commits = set(commits)
            self.tips = tips
            self.clean_messages &= self.commits  # (a commit no longer in history: dropped)
            self.dirty = True

    def message_clean(self, commit: str) -> bool:
        """Whether the message of ``commit`` was scanned clean (a commit's message
        never changes: the commit id covers it)."""
        return commit in self.clean_messages

    def record_message_clean(self, commit: str) -> None:
        if commit not in self.clean_messages:
            self.clean_messages.add(commit)
            self.dirty = True

    def known(self, oid: str, path: str) -> str | None:
        status = self.entries.get(f"{oid} {_path_tag(path)}")
        if status is None:
            return None
        if status == "-":
            return "clean"
        if status.startswith("s:"):
            return "skip"
        return "found"

    def _set(self, oid: str, path: str, status: str) -> None:
        item = f"{oid} {_path_tag(path)}"
        if self.entries.get(item) != status:
            self.entries[item] = status
            self.dirty = True

    def forget(self, oid: str, path: str) -> None:
        """Drop what is remembered of ``oid`` at ``path`` (another place names it)."""
        if self.entries.pop(f"{oid} {_path_tag(path)}", None) is not None:
            self.dirty = True

    def record_clean(self, oid: str, path: str) -> None:
        self._set(oid, path, "-")

    def record_skip(self, oid: str, commit: str, path: str, reason: str) -> None:
        self._set(oid, path, "s:" + json.dumps([commit, path, reason], separators=(",", ":")))

    def record_found(
        self,
        oid: str,
        commit: str,
        path: str,
        rules: list[str],
        spans: list[dict[str, object]] | None = None,
    ) -> None:
        """``rules`` are the findings' rule ids and ``spans`` their rule, kind,
        severity, attribute path and byte/line positions — never values.  With
        ``spans`` the next run rebuilds the findings from the blob without scanning it
        (only when each value is exactly its bytes)."""
        data: list[object] = [commit, path, sorted(set(rules))]
        if spans is not None:
            data.append(spans)
        self._set(oid, path, "f:" + json.dumps(data, separators=(",", ":")))

    def spans(self, oid: str, path: str) -> list[dict[str, object]] | None:
        status = self.entries.get(f"{oid} {_path_tag(path)}", "")
        if not status.startswith("f:"):
            return None
        try:
            data = json.loads(status[2:])
        except ValueError:
            return None
        spans = data[3] if isinstance(data, list) and len(data) > 3 else None
        if not isinstance(spans, list) or not all(isinstance(s, dict) for s in spans):
            return None
        return spans

    def save(self) -> None:
        """Write the cache atomically; a failure to write only costs speed next time."""
        if self.path is None or not self.dirty:
            return
        from secretkit.atomic import write_atomic

        lines = [f"c\t{commit}" for commit in sorted(self.commits)]
        lines.extend(f"m\t{commit}" for commit in sorted(self.clean_messages))
        lines.extend(f"n\t{commit}\t{tag}" for tag, commit in sorted(self.named.items()))
        if self.identities is not None:
            lines.append("I\t1")
            lines.extend(f"i\t{commit}\t{tag}" for commit, tag in sorted(self.identities))
        if self.target_versions[0]:
            digest, rows = self.target_versions
            lines.append(f"t\t{digest}\t{json.dumps(rows)}")
        for oid, facts in sorted(self.imports.items()):
            at = sorted(self.ref_paths.get(oid, ()))
            lines.append(f"x\t{oid}\t{json.dumps([facts, at], sort_keys=True)}")
        for oid, given in sorted(self.refs.items()):
            at = sorted(self.ref_paths.get(oid, ()))
            lines.append(f"r\t{oid}\t{json.dumps([given, at], sort_keys=True)}")
        for item, status in sorted(self.entries.items()):
            oid, tag = item.split(" ", 1)
            lines.append(f"{oid}\t{tag}\t{status}")
        body = "".join(f"{line}\n" for line in lines)
        header = {"format": FORMAT, "key": self.key, "tips": self.tips, "digest": _digest(body)}
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_atomic(self.path, (json.dumps(header) + "\n" + body).encode("utf-8"), mode=0o600)
        except OSError:
            return
        self.dirty = False
