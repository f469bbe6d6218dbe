"""``.sops.yaml``: where it is found and which creation rule applies to a file.

Behaviour follows sops ``config/config.go``:

* lookup: ``SOPS_CONFIG`` when set, else ``.sops.yaml`` in the start directory (the
  cwd) or one of its up to 100 parents; a ``.sops.yml`` is ignored;
* ``creation_rules``: the first rule whose ``path_regex`` (Go RE2, unanchored)
  matches the file's path relative to the config file's directory wins; a rule
  without ``path_regex`` matches everything; unknown keys are ignored;
* ``age``/``pgp`` as a comma-separated string or a list; ``key_groups`` (with
  ``merge:``) and ``shamir_threshold``; at most one crypt rule per rule;
  ``stores: {yaml: {indent}, json: {indent}}``.

Malformed content raises :class:`~secretkit.errors.ConfigError` with a one-line
message built from the file name, rule number and key names only.

This is the one reader of ``.sops.yaml``: :func:`read_tree` is its one parse (a span
tree, :mod:`secretkit.sops.yaml_spans`) that the engine's rules and
:mod:`secretkit.keys.sops_yaml` (anchors, edits) both come from, :func:`path_regex_matches`
the one reading of ``path_regex`` (Go RE2, :mod:`secretkit.sops.re2`), and
:func:`might_name_secrets_files` the hook's quick look at the text before any parse.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.errors import ConfigError
from secretkit.lazy_re import lazy
from secretkit.sops.metadata import CRYPT_RULES, CryptRule

if TYPE_CHECKING:
    from secretkit.sops.yaml_spans import Node

CONFIG_NAME = ".sops.yaml"
MAX_PARENTS = 100

# Key kinds sops accepts in a rule that secretkit cannot use (kept to say so clearly).
_FOREIGN_KINDS = ("kms", "gcp_kms", "hckms", "azure_keyvault", "hc_vault", "hc_vault_transit_uri")


@dataclass(frozen=True)
class KeyRef:
    """One master key named by a rule: ``kind`` (``age``/``pgp``/…) and its public identifier."""

    kind: str
    ident: str

    def __str__(self) -> str:
        return self.ident


@dataclass
class CreationRule:
    path_regex: str | None = None
    key_groups: list[list[KeyRef]] = field(default_factory=list)
    shamir_threshold: int = 0
    crypt_rule: CryptRule | None = None
    mac_only_encrypted: bool = False
    # From the config's ``stores:`` section (None = sops default: 4 spaces / tab).
    yaml_indent: int | None = None
    json_indent: int | None = None
    # Where the rule came from, for messages: "<config path> rule <n>".
    origin: str = ""

    def recipients(self) -> list[list[str]]:
        return [[ref.ident for ref in group] for group in self.key_groups]


@dataclass
class SopsConfig:
    path: Path
    rules: list[CreationRule]
    yaml_indent: int | None = None
    json_indent: int | None = None

    def rule_for(self, file: Path | str) -> CreationRule | None:
        """The first rule matching ``file`` (path relative to the config's directory)."""
        target = _relative_to_config(Path(file), self.path)
        for rule in self.rules:
            if rule.path_regex is None or _compile(rule.path_regex, rule.origin).search(target):
                return rule
        return None


def _relative_to_config(file: Path, config: Path) -> str:
    absolute = os.path.abspath(file)
    base = os.path.dirname(os.path.abspath(config))
    prefix = base.rstrip(os.sep) + os.sep
    if absolute.startswith(prefix):
        return absolute[len(prefix) :].replace(os.sep, "/")
    return absolute.replace(os.sep, "/")


def _compile(regex: str, origin: str) -> re.Pattern[str]:
    """A Go RE2 pattern as a Python pattern with the same meaning (see :mod:`.re2`)."""
    from secretkit.sops.re2 import Re2Error, compile_re2

    try:
        return compile_re2(regex)
    except Re2Error as exc:
        raise ConfigError(
            f"{origin}: path_regex is not a valid regular expression ({exc})",
            hint="path_regex is a Go RE2 regular expression, e.g. ^secrets/host\\.yaml$",
        ) from None


def path_regex_matches(regex: str, relpath: str, origin: str = CONFIG_NAME) -> bool:
    """Whether a ``path_regex`` matches ``relpath`` as sops decides (unanchored RE2
    search); ConfigError when the pattern cannot be used — never a silent no."""
    return _compile(regex, origin).search(relpath) is not None


def find_config(start: Path, env: Mapping[str, str] | None = None) -> SopsConfig | None:
    """The ``.sops.yaml`` sops would use when started in ``start``; None when there is none."""
    env = os.environ if env is None else env
    explicit = env.get("SOPS_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_absolute():
            path = start / path
        if not path.is_file():
            raise ConfigError(
                f"SOPS_CONFIG points to {explicit}, which does not exist",
                hint="unset SOPS_CONFIG or point it at a .sops.yaml",
            )
        return load_config(path)
    directory = Path(os.path.abspath(start))
    for _ in range(MAX_PARENTS + 1):
        candidate = directory / CONFIG_NAME
        if candidate.is_file():
            return load_config(candidate)
        if directory.parent == directory:
            break
        directory = directory.parent
    return None


def load_config(path: Path) -> SopsConfig:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    return parse_config(data, path)


# What a :class:`~secretkit.sops.yaml_spans.YamlSyntaxError` kind says about the file.
SYNTAX_PROBLEMS = {
    "duplicate anchor": "defines an anchor twice",
    "undefined alias": "uses an alias with no anchor",
    "too deep": "is nested too deeply",
}


def read_tree(data: bytes) -> Node | None:
    """The one parse of ``.sops.yaml`` bytes: a span tree (None when empty).  Raises
    :class:`UnicodeDecodeError` for bytes that are not UTF-8 and
    :class:`~secretkit.sops.yaml_spans.YamlSyntaxError` for what is not YAML this
    reader accepts (an anchor defined twice is refused, not silently replaced)."""
    from secretkit.sops import yaml_spans

    return yaml_spans.parse(data.decode("utf-8"))


def _load_yaml(data: bytes, path: Path) -> object:
    """The document as plain values, from :func:`read_tree`."""
    from secretkit.sops import yaml_spans

    try:
        return yaml_spans.to_python(read_tree(data))
    except UnicodeDecodeError:
        raise ConfigError(
            f"{path} is not valid YAML (not UTF-8 text)", hint="fix the YAML syntax of .sops.yaml"
        ) from None
    except yaml_spans.YamlSyntaxError as exc:
        where = f" at line {exc.line}, column {exc.column}" if exc.line else ""
        what = SYNTAX_PROBLEMS.get(exc.kind, "is not valid YAML")
        raise ConfigError(
            f"{path} {what}{where}", hint="fix the YAML syntax of .sops.yaml"
        ) from None


def config_of_tree(tree: Node | None, path: Path) -> SopsConfig:
    """The engine's rules from a tree :func:`read_tree` gave (the same parse)."""
    from secretkit.sops.yaml_spans import to_python

    return parse_document(to_python(tree), path)


def parse_config(data: bytes, path: Path) -> SopsConfig:
    """The parsed config; ConfigError (always with a hint) when it is malformed."""
    return _with_hint(lambda: _parse_document(_load_yaml(data, path), path))


def parse_document(document: object, path: Path) -> SopsConfig:
    """The config from an already parsed document (see :func:`_load_yaml`)."""
    return _with_hint(lambda: _parse_document(document, path))


def _with_hint(parse: Callable[[], SopsConfig]) -> SopsConfig:
    """``parse()``, its ConfigError given the way out when it has none."""
    try:
        return parse()
    except ConfigError as exc:
        if exc.hint:
            raise
        raise ConfigError(
            exc.message,
            hint="fix .sops.yaml by hand (`secretkit init` and `secretkit hosts add` "
            "write the expected shape)",
        ) from None


def _parse_document(document: object, path: Path) -> SopsConfig:
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigError(
            f"{path} must be a YAML mapping with creation_rules",
            hint="see `secretkit init` for the expected shape",
        )
    yaml_indent, json_indent = _store_indents(document.get("stores"), path)
    raw_rules = document.get("creation_rules")
    if raw_rules is None:
        raw_rules = []
    if not isinstance(raw_rules, list):
        raise ConfigError(f"{path}: creation_rules must be a list of rules")
    rules = []
    for number, raw in enumerate(raw_rules, start=1):
        origin = f"{path} rule {number}"
        rule = _parse_rule(raw, origin)
        rule.yaml_indent, rule.json_indent = yaml_indent, json_indent
        rules.append(rule)
    return SopsConfig(path=path, rules=rules, yaml_indent=yaml_indent, json_indent=json_indent)


def _store_indents(stores: object, path: Path) -> tuple[int | None, int | None]:
    if stores is None:
        return None, None
    if not isinstance(stores, dict):
        raise ConfigError(f"{path}: stores must be a mapping")
    indents: list[int | None] = []
    for name in ("yaml", "json"):
        section = stores.get(name) or {}
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: stores.{name} must be a mapping")
        indent = section.get("indent")
        if indent is not None and (
            isinstance(indent, bool) or not isinstance(indent, int) or indent < -1 or indent > 16
        ):
            raise ConfigError(f"{path}: stores.{name}.indent must be a small integer")
        indents.append(None if indent == -1 and name == "json" else indent)
    return indents[0], indents[1]


def _key_list(value: object, kind: str, origin: str) -> list[KeyRef]:
    from secretkit.sops.keysources import KEY_SOURCES  # the crypto libraries: only when needed

    if value is None:
        return []
    if isinstance(value, str):
        items: list[object] = [part for part in value.split(",")]
    elif isinstance(value, list):
        items = list(value)
    else:
        raise ConfigError(f"{origin}: {kind} must be a comma-separated string or a list")
    refs = []
    for item in items:
        if not isinstance(item, str):
            raise ConfigError(f"{origin}: every {kind} entry must be a string")
        text = item.strip()
        if not text:
            continue
        try:
            refs.append(KeyRef(kind, KEY_SOURCES[kind].parse_recipient(text)))
        except ConfigError as exc:
            raise ConfigError(f"{origin}: {exc.message}", exc.hint) from None
    return refs


def _group_keys(raw: object, origin: str, depth: int = 0) -> list[KeyRef]:
    if depth > 10:
        raise ConfigError(f"{origin}: key_groups merge: nested too deeply")
    if not isinstance(raw, dict):
        raise ConfigError(f"{origin}: every key_groups entry must be a mapping")
    keys: list[KeyRef] = []
    for kind in ("age", "pgp"):
        if kind in raw:
            value = raw[kind]
            if kind == "pgp" and isinstance(value, str):
                value = [value]
            keys.extend(_key_list(value, kind, origin))
    for kind in _FOREIGN_KINDS:
        if raw.get(kind):
            raise ConfigError(
                f"{origin}: {kind} keys are not supported by secretkit (age and pgp are)",
                hint="use the sops binary (--engine sops) for cloud KMS keys",
            )
    merge = raw.get("merge")
    if merge is not None:
        if not isinstance(merge, list):
            raise ConfigError(f"{origin}: merge must be a list of key groups")
        for nested in merge:
            keys.extend(_group_keys(nested, origin, depth + 1))
    unique: list[KeyRef] = []
    for key in keys:
        if key not in unique:
            unique.append(key)
    return unique


def _parse_rule(raw: object, origin: str) -> CreationRule:
    if not isinstance(raw, dict):
        raise ConfigError(f"{origin} must be a mapping")
    rule = CreationRule(origin=origin)
    path_regex = raw.get("path_regex")
    if path_regex is not None:
        if not isinstance(path_regex, str):
            raise ConfigError(f"{origin}: path_regex must be a string")
        _compile(path_regex, origin)
        rule.path_regex = path_regex
    if raw.get("key_groups"):
        groups = raw["key_groups"]
        if not isinstance(groups, list):
            raise ConfigError(f"{origin}: key_groups must be a list")
        for number, group in enumerate(groups, start=1):
            keys = _group_keys(group, origin)
            if not keys:
                raise ConfigError(f"{origin}: key group {number} names no keys")
            rule.key_groups.append(keys)
    else:
        keys = _key_list(raw.get("age"), "age", origin) + _key_list(raw.get("pgp"), "pgp", origin)
        for kind in ("kms", "gcp_kms", "hckms", "azure_keyvault", "hc_vault_transit_uri"):
            if raw.get(kind):
                raise ConfigError(
                    f"{origin}: {kind} keys are not supported by secretkit (age and pgp are)",
                    hint="use the sops binary (--engine sops) for cloud KMS keys",
                )
        if keys:
            rule.key_groups.append(keys)
    threshold = raw.get("shamir_threshold", 0)
    if isinstance(threshold, str) and threshold.strip().isdigit():
        threshold = int(threshold)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        raise ConfigError(f"{origin}: shamir_threshold must be a non-negative integer")
    if len(rule.key_groups) > 1 and threshold and not 2 <= threshold <= len(rule.key_groups):
        raise ConfigError(
            f"{origin}: shamir_threshold {threshold} must be between 2 and the number of "
            f"key groups ({len(rule.key_groups)})"
        )
    rule.shamir_threshold = threshold
    crypt = [name for name in CRYPT_RULES if raw.get(name) not in (None, "")]
    if len(crypt) > 1:
        raise ConfigError(
            f"{origin} sets more than one of {', '.join(crypt)}",
            hint="sops allows only one encryption rule per creation rule",
        )
    if crypt:
        value = raw[crypt[0]]
        if not isinstance(value, str):
            raise ConfigError(f"{origin}: {crypt[0]} must be a string")
        if crypt[0].endswith("_regex"):
            _compile(value, origin)
        rule.crypt_rule = CryptRule(crypt[0], value)
    mac_only = raw.get("mac_only_encrypted", False)
    if not isinstance(mac_only, bool):
        raise ConfigError(f"{origin}: mac_only_encrypted must be true or false")
    rule.mac_only_encrypted = mac_only
    return rule


_PATH_REGEX = lazy(rb"^[ \t-]*path_regex[ \t]*:[ \t]*(.*?)[ \t]*$", re.MULTILINE)


def might_name_secrets_files(config: bytes, paths: Sequence[str]) -> bool:
    """A fast, conservative pre-check on the ``.sops.yaml`` text: False only when no
    ``path_regex`` of the file can match any of ``paths`` (repo-relative), so that
    no rule can name them secrets files.  Anything unusual (flow style, quoting with
    escapes, anchors, an invalid pattern) answers True and the real parser decides."""
    from secretkit.sops.re2 import Re2Error, compile_re2

    found = _PATH_REGEX.findall(config)
    if len(found) != config.count(b"path_regex"):
        return True
    for raw in found:
        value = raw.decode("utf-8", "replace")
        if " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1].replace("''", "'")
        elif not value or value[0] in '"&*!|>{[%@`':
            return True
        try:
            pattern = compile_re2(value)  # the one RE2 reading (secretkit/sops/re2.py)
        except Re2Error:
            return True
        if any(pattern.search(path) for path in paths):
            return True
    return False
