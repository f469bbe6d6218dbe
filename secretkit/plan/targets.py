"""Which sops file a host's new secrets go into.

secretkit's own layout is ``secrets/<host>.yaml`` with one creation rule per host.  A
hand-written sops-nix repository has its own, and migrate adds to it instead of
starting a second one beside it.  For each host, in order:

1. the file its modules' ``sops.defaultSopsFile`` names (a new declaration then needs
   no ``sopsFile``);
2. the one sops file the host's modules already declare secrets from whose creation
   rule names the host's key and no other host's;
3. the one existing sops file whose rule names the host's key and no other host's;
4. the one file a rule of the host's own would match (``hosts/web/secrets.yaml``, or
   ``secrets.yaml`` under ``secrets/web/[^/]+\\.yaml$``);
5. else ``secrets/<host>.yaml`` (secretkit's layout; ``hosts add`` writes its rule).

Several candidates at one step is ambiguous: the host is refused with the reason and
the manual route, never guessed.  A file some other host can read too (its rule names
that host's key) is never chosen for one host's secrets.  No rule is added or changed
here: every file chosen at steps 1-4 already has its rule.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from secretkit.layouts.sops_nix import host_secrets_path
from secretkit.lazy_re import lazy

_SOPS_SUFFIXES = (".yaml", ".yml", ".json")
_SKIP_DIRS = {".git", "node_modules", ".direnv", "result"}


def default_file(host: str) -> str:
    return host_secrets_path(host)


@dataclass
class Targets:
    """host → repo-relative sops file; hosts whose defaultSopsFile is that file; hosts
    whose layout leaves two or more files (host → the reason)."""

    files: dict[str, str] = field(default_factory=dict)
    defaults: set[str] = field(default_factory=set)
    ambiguous: dict[str, str] = field(default_factory=dict)
    candidates: dict[str, list[str]] = field(default_factory=dict)  # of ambiguous hosts
    hints: dict[str, str] = field(default_factory=dict)  # what to do, when not the default

    def file(self, host: str) -> str:
        return self.files.get(host, default_file(host))

    def route_file(self, host: str) -> str:
        """The file a manual route names: the host's, or the choice left to the user."""
        if host in self.candidates:
            return f"<{' or '.join(self.candidates[host])}>"
        return self.file(host)

    def own(self, host: str) -> bool:
        """Whether the host's file is one of the user's layout (not secrets/<host>.yaml)."""
        return self.file(host) != default_file(host)


def path_literal(module: str, rel: str) -> str:
    """The Nix path literal in ``module`` that names the repository path ``rel``."""
    out = os.path.relpath(rel, PurePosixPath(module).parent.as_posix() or ".")
    return out if out.startswith("../") else "./" + out


def sops_file_expr(module: str, hosts: Sequence[str], targets: Targets | None = None) -> str | None:
    """The ``sopsFile`` expression for a module (a relative Nix path literal); None when
    every host's ``sops.defaultSopsFile`` already names its file (sopsFile omitted)."""

    def literal(rel: str) -> str:
        return path_literal(module, rel)

    if targets is not None and hosts and all(h in targets.defaults for h in hosts):
        return None
    files = [targets.file(h) if targets else default_file(h) for h in hosts]
    if len(set(files)) == 1:
        return literal(files[0])
    common = {PurePosixPath(f).parent.as_posix() for f in files}
    named = all(PurePosixPath(f).name == f"{h}.yaml" for f, h in zip(files, hosts, strict=True))
    if len(common) == 1 and named:
        return literal(common.pop()) + ' + "/${config.networking.hostName}.yaml"'
    return None


def shared_problem(module: str, hosts: Sequence[str], targets: Targets | None) -> str | None:
    """Why no one ``sopsFile`` can serve every host of a shared module, or None."""
    for host in hosts:
        if targets is not None and host in targets.ambiguous:
            return targets.ambiguous[host]
    if targets is None or len(hosts) < 2 or all(h in targets.defaults for h in hosts):
        return None
    if sops_file_expr(module, hosts, targets) is None:
        files = ", ".join(f"{h}: {targets.file(h)}" for h in hosts)
        return (
            f"{module} is shared by hosts whose secrets live in files not named after the "
            f"host ({files}), so no one sopsFile expression reads each host's own file"
        )
    return None


def _declared(
    modules: Iterable[str],
    sources: Mapping[str, bytes],
    parse: Callable[[bytes], Any],
    host: str,
    inline: Sequence[tuple[str, int, int]] = (),
) -> tuple[dict[str, str], set[str]]:
    """(defaultSopsFile text by module, sopsFile files declared) in ``modules`` of
    ``host`` (a path as check reads it: :func:`secretkit.nix.sops_refs.resolve_for_host`,
    ``./x.yaml``, ``"${self}/x.yaml"``, ``../s + "/${config.networking.hostName}.yaml"``)."""
    from secretkit.nix import cst
    from secretkit.nix.sops_refs import InlineModules, resolve_for_host

    defaults: dict[str, str] = {}
    declared: set[str] = set()
    # the host's inline modules too (`{ sops.defaultSopsFile = …; }` in flake.nix's list)
    spans: dict[str, list[tuple[int, int]]] = {}
    for file, start, end in inline:
        spans.setdefault(file, []).append((start, end))
    for module in [*modules, *(f for f in spans if f not in modules)]:
        data = sources.get(module)
        if data is None or b"sops" not in data:
            continue
        tree = parse(data)
        own = InlineModules(spans.get(module, ()))
        for binding in cst.bindings(tree):
            full = binding.full_path
            if own.spans:  # (a binding of the host's inline module, from its attrset)
                at = own.base_of(binding.start)
                if at is None and module not in modules:
                    continue
                full = full[own.base(binding) :] if at is not None else full
            if full[:1] == ["config"]:
                full = full[1:]
            if full == ["sops", "defaultSopsFile"]:
                defaults[module] = str(cst.node_text(tree, binding.value))
            elif len(full) == 4 and full[:2] == ["sops", "secrets"] and full[3] == "sopsFile":
                path = resolve_for_host(module, str(cst.node_text(tree, binding.value)), host)
                if path is not None:
                    declared.add(path)
    return defaults, declared


def _sops_files(root: Path) -> list[str]:
    """Existing sops-encrypted files under ``root`` (repo-relative), sorted."""
    found: list[str] = []
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in files:
            if not name.endswith(_SOPS_SUFFIXES) or name == ".sops.yaml":
                continue
            path = Path(top) / name
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if b"sops" in data[-65536:] and b"mac" in data[-65536:] and b"ENC[" in data[:65536]:
                found.append(path.relative_to(root).as_posix())
    return sorted(found)


_LITERAL_RULE = lazy(r"\^?((?:[A-Za-z0-9_+-]|\\\.|/)+\\\.(?:yaml|json))\$?")
_DIR_RULE = lazy(r"\^?((?:[A-Za-z0-9_+-]|\\\.|/)+)/(?:\[\^/\]\+|\.\*|\.\+)\\\.yaml\$?")


def _rule_file(regex: str) -> str | None:
    """The file a rule's own path_regex names: a literal path, or ``secrets.yaml`` in a
    literal directory of ``<dir>/[^/]+\\.yaml``."""
    match = _LITERAL_RULE.fullmatch(regex)
    if match:
        return match[1].replace("\\.", ".")
    match = _DIR_RULE.fullmatch(regex)
    if match:
        return match[1].replace("\\.", ".") + "/secrets.yaml"
    return None


def choose(
    root: Path,
    hosts: Iterable[str],
    all_hosts: Iterable[str],
    sources: Mapping[str, bytes],
    host_modules: Mapping[str, Sequence[str]],
    parse: Callable[[bytes], Any],
    inline: Mapping[str, Sequence[tuple[str, int, int]]] | None = None,
) -> Targets:
    """The :class:`Targets` of ``hosts`` (see the module docstring); ``inline``: each
    host's inline modules (``(file, start, end)``), read as its modules too."""
    from secretkit.keys import sops_yaml
    from secretkit.layouts.sops_nix import host_key
    from secretkit.nix.sops_refs import resolve_for_host
    from secretkit.sops.config import find_config

    targets = Targets()
    config = find_config(root)
    if config is None or not (root / ".sops.yaml").is_file():
        return targets
    model = sops_yaml.read_keys(root)
    keys = {h: host_key(model.hosts, model.keys, h) for h in all_hosts}

    def readers(rel: str) -> set[str] | None:
        """The hosts whose key the file's rule names; None without a rule."""
        rule = config.rule_for(root / rel)
        if rule is None:
            return None
        named = {str(k).strip().lower() for g in rule.key_groups for k in g}
        return {h for h, k in keys.items() if k is not None and k.strip().lower() in named}

    existing: list[str] | None = None
    for host in sorted(hosts):
        if keys.get(host) is None:
            continue  # migrate stops on the missing key before this matters
        modules = list(host_modules.get(host, ()))
        own = (inline or {}).get(host, ())
        default_texts, declared = _declared(modules, sources, parse, host, own)
        chosen: str | None = None
        if default_texts:
            resolved = {resolve_for_host(m, t, host) for m, t in default_texts.items()}
            if None in resolved or len(resolved) > 1:
                shown = "; ".join(f"{m}: {' '.join(t.split())}" for m, t in default_texts.items())
                targets.ambiguous[host] = (
                    f"host {host}'s sops.defaultSopsFile is not one path secretkit can read "
                    f"({shown})"
                )
                targets.candidates[host] = sorted({r for r in resolved if r}) or [
                    f"the file of {host}'s"
                ]
                continue
            chosen = resolved.pop()
            assert chosen is not None
            others = sorted((readers(chosen) or {host}) - {host})
            if others:
                targets.ambiguous[host] = (
                    f"host {host}'s sops.defaultSopsFile {chosen} is readable by "
                    f"{', '.join(others)} too; a secret only {host} uses does not belong there"
                )
                targets.candidates[host] = [f"a file only {host} can read"]
                continue
            targets.files[host] = chosen
            targets.defaults.add(host)
            continue
        if readers(default_file(host)) == {host}:
            continue  # secretkit's own layout (or one compatible with it)
        owned = sorted(f for f in declared if readers(f) == {host})
        if not owned:
            if existing is None:
                existing = _sops_files(root)
            owned = [f for f in existing if readers(f) == {host}]
        if not owned:
            own_rules = [r for r in config.rules if r.path_regex and readers_of(r, keys) == {host}]
            owned = sorted(
                {
                    f
                    for r in own_rules
                    if (f := _rule_file(r.path_regex or "")) is not None
                    and config.rule_for(root / f) is r
                }
            )
        fallback = readers(default_file(host))
        if not owned and fallback is not None and fallback != {host}:
            # a rule of the user's (a catch-all) already covers secrets/<host>.yaml: a new
            # file there would be readable by other hosts, and a rule for it added below
            # that one would never match
            rule = config.rule_for(root / default_file(host))
            catch = rule.path_regex if rule is not None else None
            who = ", ".join(sorted(fallback - {host})) or "no host"
            targets.ambiguous[host] = (
                f"host {host} has no sops file of its own, and {default_file(host)} falls "
                f"under the .sops.yaml rule path_regex: {catch}, which names {who} "
                f"{'too' if host in fallback else f'and not {host}'}"
            )
            targets.hints[host] = (
                f"add a creation rule for {default_file(host)} naming only {host}'s key (and "
                f"the admins') to .sops.yaml above the rule with path_regex: {catch}, or set "
                f"sops.defaultSopsFile in {host}'s configuration to a file only {host} can read"
            )
            targets.candidates[host] = [f"a file only {host} can read"]
            continue
        if len(owned) > 1:
            targets.ambiguous[host] = (
                f"host {host} already has several sops files of its own ({', '.join(owned)}) "
                "and no sops.defaultSopsFile says which one new secrets go into"
            )
            targets.candidates[host] = owned
        elif owned:
            targets.files[host] = owned[0]
    return targets


def readers_of(rule: Any, keys: Mapping[str, str | None]) -> set[str]:
    named = {str(k).strip().lower() for g in rule.key_groups for k in g}
    return {h for h, k in keys.items() if k is not None and k.strip().lower() in named}
