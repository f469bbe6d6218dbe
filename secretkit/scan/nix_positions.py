"""What a Nix string literal is used for, beyond its attribute path.

A secret is not always ``option = "literal";``.  Real configurations write it into
a file with a builder (``pkgs.writeText "restic-password" "…"``,
``builtins.toFile``, ``writeTextFile { name = "api-key"; text = …; }``), hand
that file to a ``*File`` option (``passwordFile``, ``environmentFile``), or put
it in ``environment.etc."<name>".text``.  The file's name and the option around
it say what the content is; :func:`content_context` reads them from the syntax
tree (never evaluating anything) and :func:`whole_value_kind` says whether the
whole content is then one secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from secretkit.lazy_re import lazy
from secretkit.scan import filters

Node = Any  # a tree_sitter.Node

STRING_TYPES = ("string_expression", "indented_string_expression")

# Builders taking ``"name" <content>`` (curried) …
_NAMED_BUILDERS = lazy(
    r"(?:^|\.)(?:writeText|writeTextDir|writeScript|writeScriptBin|writeShellScript|"
    r"writeShellScriptBin|toFile|writeBash|writeBashBin|writeDash|writeDashBin)$"
)
# … of which these write a program: its content is code, never one secret value
# (the secrets in it are found by the command detectors).
_SCRIPT_BUILDERS = lazy(r"(?:^|\.)write(?:Shell)?Script|(?:^|\.)write(?:Bash|Dash)")
# … and builders taking ``{ name = …; text = …; }``.
_ATTRSET_BUILDERS = lazy(r"(?:^|\.)(?:writeTextFile|writeShellApplication)$")

# Extensions that say what a file holds (others are dropped before reading the name).
_EXTENSION_KIND = {
    "key": "secret-key",
    "pass": "password",
    "password": "password",
    "passwd": "password",
    "token": "token",
    "secret": "secret",
    "psk": "psk",
    "privkey": "private-key",
    "privatekey": "private-key",
    "htpasswd": "password-hash",  # (an htpasswd file: `user:$apr1$…`)
}
# Options that take an htpasswd file (nginx's basicAuthFile): `user:<hash>` lines.
_HTPASSWD_OPTIONS = frozenset({"basic_auth", "htpasswd", "auth_basic_user"})
_ENV_NAME = lazy(r"(?:^|[./-])env$|^\.env(?:\.|$)|\.env\.", re.IGNORECASE)
_ENV_OPTION = frozenset({"environment", "env"})


@dataclass(frozen=True)
class ContentContext:
    """A string that is the content of a file: the file's name (``""`` if unknown),
    whether it holds ``NAME=value`` lines, and the kind of secret the whole content
    is when its name or the option it is handed to says so."""

    name: str
    env: bool
    kind: str | None
    script: bool = False
    lines: bool = False  # the whole content is the secret, however many lines


def name_kind(name: str) -> str | None:
    """The kind of secret a file called ``name`` holds (``restic-password``,
    ``api-key``, ``token``, ``credentials``, ``wg.key``, WireGuard's ``privatekey``
    and ``wireguard/private``), or None."""
    words = set(filters.words("-".join(name.lower().rstrip("/").split("/")[-2:])))
    if words & {"privatekey", "privkey"} or (
        words & {"wg", "wireguard"} and words & {"private", "priv"}
    ):
        return "private-key"  # (wg(8): wg genkey | tee privatekey)
    base = name.rstrip("/").rsplit("/", 1)[-1]
    if base.lower() in ("htpasswd", ".htpasswd"):
        return "password-hash"
    stem, dot, ext = base.rpartition(".")
    if dot and stem:
        by_extension = _EXTENSION_KIND.get(ext.lower())
        kind = filters.secret_name(stem)
        if kind is None and by_extension is None:
            # "restic/password.txt": the directory part may say it too
            kind = filters.secret_name(name.replace("/", "-").rpartition(".")[0])
        return kind or by_extension
    return filters.secret_name(name.replace("/", "-"))


def option_kind(key: str) -> tuple[str | None, bool]:
    """``(kind, env)`` for an option a file is handed to: ``passwordFile`` →
    ``("password", False)``, ``environmentFile`` → ``(None, True)``."""
    parts = filters.words(key)
    if len(parts) < 2 or parts[-1] not in ("file", "files", "path"):
        return None, False
    head = parts[:-1]
    if head[-1] in _ENV_OPTION:
        return None, True
    if head[-1] == "key" and not filters.public_name("_".join(head)):
        return "secret-key", False
    if "_".join(head) in _HTPASSWD_OPTIONS:
        return "password-hash", False
    return filters.secret_name("_".join(head)), False


def is_env_name(name: str) -> bool:
    return bool(_ENV_NAME.search(name.rsplit("/", 1)[-1]))


def _text(source: bytes, node: Node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _plain_string(source: bytes, node: Node | None) -> str | None:
    """The value of a string literal without interpolations or escapes, else None."""
    if node is None or node.type not in STRING_TYPES:
        return None
    if any(c.type in ("interpolation", "escape_sequence") for c in node.children):
        return None
    children = node.children
    if len(children) < 2:
        return None
    return source[children[0].end_byte : children[-1].start_byte].decode("utf-8", "replace")


def builder_file_name(source: bytes, node: Node, key: str) -> tuple[str, bool, Node] | None:
    """The file name a builder writes the string ``node`` to, if it is a builder's
    content: ``writeText "<name>" <node>`` or ``writeTextFile { name = "<name>";
    text = <node>; }``, whether the builder writes a script, and the builder's call.
    The name is ``""`` when it is computed."""
    parent = node.parent
    if parent is None:
        return None
    if parent.type == "apply_expression":
        argument = parent.child_by_field_name("argument")
        inner = parent.child_by_field_name("function")
        if argument is None or argument != node or inner is None:
            return None
        if inner.type != "apply_expression":
            return None
        function = inner.child_by_field_name("function")
        if function is None or not _NAMED_BUILDERS.search(_text(source, function).strip()):
            return None
        name = _plain_string(source, inner.child_by_field_name("argument")) or ""
        return name, bool(_SCRIPT_BUILDERS.search(_text(source, function).strip())), parent
    if key != "text" or parent.type != "binding":
        return None
    attrset = parent.parent
    if attrset is None or attrset.type != "binding_set":
        return None
    holder = attrset.parent
    if holder is None or holder.type not in ("attrset_expression", "rec_attrset_expression"):
        return None
    call = holder.parent
    if call is None or call.type != "apply_expression":
        return None
    function = call.child_by_field_name("function")
    if function is None or not _ATTRSET_BUILDERS.search(_text(source, function).strip()):
        return None
    script = "Application" in _text(source, function)
    for binding in attrset.named_children:
        if binding.type != "binding":
            continue
        names = binding.child_by_field_name("attrpath")
        if names is not None and _text(source, names).strip() == "name":
            value = binding.child_by_field_name("expression")
            return _plain_string(source, value) or "", script, call
    return "", script, call


def content_context(
    source: bytes, node: Node, path: list[str], uses: dict[str, str] | None = None
) -> ContentContext | None:
    """Whether the string ``node`` (at attribute ``path``) is the content of a file
    whose name, receiving option or configuration directive says what it holds; None
    when nothing does.  ``uses``: :func:`paths_after_directives` of the file."""
    key = _last_name(path)
    built = builder_file_name(source, node, key)
    kind: str | None = None
    env = False
    if built is not None and built[1]:
        return ContentContext(built[0], False, None, script=True)
    if built is not None:
        name = built[0]
        kind = name_kind(name) if name else None
        env = is_env_name(name) if name else False
        by_option, env_option = option_kind(key)
        kind = kind or by_option
        env = env or env_option
        if kind is None and not env and len(path) >= 3 and path[-3] == "etc":
            kind, env = name_kind(path[-2]), is_env_name(path[-2])
        directive = None if env else _directive_of(source, built[2], uses or {})
        if directive is not None:  # (a directive's file of several lines is one secret)
            return ContentContext(name, False, kind or directive[0], lines=directive[1])
        if kind is None and not env:
            return ContentContext(name, False, None) if own_format(name) else None
        return ContentContext(name, env, kind)
    return etc_context(path) if key == "text" else None


# Files whose name picks a format of its own, whose lines hold a secret with no secret's
# name beside it: libpq's password file (host:port:db:user:<password>), npm's .npmrc
# (//registry/:_authToken=…): read with that format's reader (nix_values.whole_value_hits)
_OWN_FORMATS = frozenset({"pgpass", "npmrc"})


def own_format(name: str) -> str | None:
    """The format of its own a file called ``name`` is written in, or None."""
    from secretkit.scan.formats import file_format

    fmt = file_format(name) if name else None
    return fmt if fmt in _OWN_FORMATS else None


# Configuration directives whose argument is a file holding a secret of several lines
# (OpenVPN, openvpn(8): ``auth-user-pass`` reads "username\npassword", ``secret``,
# ``tls-auth``, ``tls-crypt``, ``tls-crypt-v2`` a static key, ``key`` a private key,
# ``askpass`` the key's passphrase).  Other words before a file's path say what it holds
# as option names do (``--password-file=``, ``token_file =``: one line).
_DIRECTIVES = {
    "auth-user-pass": "password",
    "askpass": "password",
    "secret": "secret-key",
    "tls-auth": "secret-key",
    "tls-crypt": "secret-key",
    "tls-crypt-v2": "secret-key",
    "key": "secret-key",
}
# the word before a file's path on its line: ``auth-user-pass ${…}``, ``--token-file=${…}``
_WORD_BEFORE = lazy(rb"(?:^|[\s\"'(\[,;])-{0,2}([A-Za-z][\w.-]*)[ \t]*[=:]?[ \t]*[\"']?$")
_NAME_INTERPOLATED = lazy(rb"\$\{[ \t]*([A-Za-z_][\w'-]*)[ \t]*\}")


def directive_kind(before: bytes) -> tuple[str, bool] | None:
    """``(kind, several lines)`` of the file whose path follows ``before`` (its line up
    to the path), when the word there says it holds a secret."""
    found = _WORD_BEFORE.search(before[before.rfind(b"\n") + 1 :])
    if found is None:
        return None
    word = found.group(1).decode("ascii")
    if word.lower() in _DIRECTIVES:
        return _DIRECTIVES[word.lower()], True
    kind = option_kind(word)[0] or filters.secret_name(word)
    return (kind, False) if kind is not None else None


def paths_after_directives(source: bytes) -> dict[str, str]:
    """The names interpolated as a file's path after a word that says what the file
    holds (``auth-user-pass ${authFile}``), or given as the whole value of a secret's
    file option (``passwordFile = pwFile;``): name → :func:`directive_kind`, encoded
    as ``kind`` or ``kind+lines`` (a fact of the whole file, compared as one)."""
    uses: dict[str, str] = {}
    if b"${" in source:
        for found in _NAME_INTERPOLATED.finditer(source):
            line = source.rfind(b"\n", 0, found.start()) + 1
            directive = directive_kind(source[line : found.start()])
            if directive is not None:
                name = found.group(1).decode("ascii")
                uses.setdefault(name, directive[0] + ("+lines" if directive[1] else ""))
    for tail in (b"ile", b"ath"):  # (str.find is fast; a regex led by a class is not)
        at = source.find(tail)
        while at != -1:
            given = _NAME_GIVEN.match(source, at + 3) if at and source[at - 1] in b"FfPp" else None
            if given is not None:
                start = at - 1
                while start > 0 and (
                    source[start - 1 : start].isalnum() or source[start - 1] in b"_'-"
                ):
                    start -= 1  # (back to the option's first character)
                option = source[start : given.end(1)].decode("ascii", "replace")
                kind = option_kind(option)[0]
                if kind is not None:
                    uses.setdefault(given.group(2).decode("ascii"), kind)
            at = source.find(tail, at + 3)
    return uses


# ``passwordFile = pwFile;``: a name as the whole value of a file option (one whose
# name ends in File/file/Path/path: option_kind's), matched after those letters
_NAME_GIVEN = lazy(rb"(s?)[ \t]*=[ \t]*([A-Za-z_][\w'-]*)[ \t]*;")


def _directive_of(source: bytes, call: Node, uses: dict[str, str]) -> tuple[str, bool] | None:
    """What a builder's file holds by where its path goes: the builder's call
    interpolated right after a directive (``auth-user-pass ${pkgs.writeText …}``), or
    bound to a name that is (``authFile = pkgs.writeText …;`` … ``${authFile}``)."""
    outer = call
    while outer.parent is not None and outer.parent.type == "parenthesized_expression":
        outer = outer.parent
    holder = outer.parent
    if holder is not None and holder.type == "interpolation":
        before = holder.prev_sibling
        if before is None or before.type != "string_fragment":
            return None
        return directive_kind(source[before.start_byte : before.end_byte])
    if holder is not None and holder.type == "binding" and uses:
        names = holder.child_by_field_name("attrpath")
        if names is not None:
            used = uses.get(_text(source, names).strip())
            if used is not None:
                kind, _, lines = used.partition("+")
                return kind, bool(lines)
    return None


def etc_context(path: list[str]) -> ContentContext | None:
    """The context of a ``text`` attribute that no builder writes: the content of
    ``environment.etc."<name>"`` when the name says what it holds."""
    if len(path) >= 3 and path[-3] == "etc":
        etc = path[-2]
        kind = name_kind(etc)
        env = is_env_name(etc)
        if kind is not None or env or own_format(etc):
            return ContentContext(etc, env, kind)
    return None


def may_write_files(source: bytes) -> bool:
    """Whether ``source`` can call a builder at all (:func:`builder_file_name` is None
    for every string of a file without these names)."""
    return b"write" in source or b"toFile" in source


_ENV_LINE = lazy(r"^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*=")


def whole_value_kind(context: ContentContext, value: str) -> str | None:
    """The kind of secret the whole (stripped) ``value`` is in ``context``: a file
    named for a secret whose content is one line (any number for a directive's file
    of several, :data:`_DIRECTIVES`), not ``NAME=value`` lines."""
    if context.kind is None or context.env:
        return None
    text = value.strip()
    if not text or ("\n" in text and not context.lines) or _ENV_LINE.match(text):
        return None
    return context.kind


def _last_name(path: list[str]) -> str:
    for name in reversed(path):
        if not (name.startswith("[") and name.endswith("]")):
            return name
    return ""


# A command-line flag that takes a secret as the next list element:
# ``[ "--db-pass" "…" ]``, ``[ "--auth.password" "…" ]``, ``[ "-token" "…" ]``.
_FLAG = lazy(rb"-{1,2}([A-Za-z][A-Za-z0-9._-]*)")


_ECHO_WORDS = frozenset({b"echo", b"printf"})
_ECHO_OPTION = lazy(rb"-[neE]+")


def flag_before(source: bytes, node: Node, command: str | None = None) -> str | None:
    """The kind of secret a list element is when the element before it is a flag
    named for one (``"--password"``), or, in the list of the option named ``command``
    (a ``*Command``), ``"echo"`` (``[ "echo" "-n" "…" ]``: what the command prints);
    else None."""
    before = node.prev_named_sibling
    if before is None or before.type != "string_expression" or before.named_child_count != 1:
        return None
    text = source[before.start_byte + 1 : before.end_byte - 1]
    if command is not None and (text in _ECHO_WORDS or _ECHO_OPTION.fullmatch(text)):
        while _ECHO_OPTION.fullmatch(text):  # (echo's options before the value)
            before = before.prev_named_sibling
            if before is None or before.type != "string_expression":
                return None
            text = source[before.start_byte + 1 : before.end_byte - 1]
        if text in _ECHO_WORDS:
            from secretkit.scan.command_detectors import shell_kind

            return shell_kind(filters.words(command), "")
    flag = _FLAG.fullmatch(text)
    if flag is None:
        return None
    name = flag.group(1).decode("ascii").replace(".", "_")
    if option_kind(name) != (None, False):
        return None  # --password-file, --env-file: a path follows
    return filters.secret_name(name)


# A string that is nothing but assignments of lower-case names: mount options
# ("username=u,password=p"), a libpq connection string ("host=db user=app password=p").
# (Upper-case NAME=value is an environment assignment: the command rule's.)
_ASSIGNMENT = lazy(r"([a-z_][a-z0-9_.-]*)=([^\s,]*)")
_ASSIGNMENTS = lazy(r"[a-z_][a-z0-9_.-]*=[^\s,]*(?:(?:,|\s+)[a-z_][a-z0-9_.-]*=[^\s,]*)*")


def assignments(text: str) -> list[tuple[str, int, int]] | None:
    """``(name, value start, value end)`` of each assignment when ``text`` (stripped)
    is nothing but ``name=value`` assignments separated by commas or spaces."""
    body = text.strip()
    if "=" not in body or _ASSIGNMENTS.fullmatch(body) is None:
        return None
    offset = text.find(body)
    return [
        (m.group(1), offset + m.start(2), offset + m.end(2)) for m in _ASSIGNMENT.finditer(body)
    ]


# `password = nas;` / `token = lib.mkDefault nas;`: a secret option given a name whose
# string is bound elsewhere in the file (`let nas = "…"; in`).  Found from each "="
# (re scans for the literal quickly), the attribute name read back from it.
# (a name, or a name's attribute: ``psk = secrets.wifi;`` with ``secrets = { wifi = …; }``)
_GIVEN_VALUE = lazy(
    rb"=[ \t]*(?:lib\.mk(?:Default|Force)[ \t]+)?"
    rb'(?:"\$\{([A-Za-z_][\w\'-]*(?:\.[A-Za-z_][\w\'-]*)*)\}"'  # (`= "${nas}";`: the same)
    rb"|([A-Za-z_][\w'-]*(?:\.[A-Za-z_][\w'-]*)*))[ \t]*;"
)
# A name interpolated where a string says what it is: `"password=${smb}"` (CIFS
# options), `--authkey=${key}`, `postgres://user:${pw}@db` (helper-132)
_NAME = lazy(rb"[A-Za-z_][\w'-]*(?:\.[A-Za-z_][\w'-]*)*\Z")
# A name interpolated where a string says what it is: `"password=${smb}"` (CIFS
# options), `--authkey=${key}`, `postgres://user:${pw}@db` (helper-132): what stands
# right before the `${`, read back from each one (a regex tried at every position of
# every version of a file cost seconds on a history)
_WORD_SEP = lazy(rb"(?:--)?([A-Za-z_][\w-]*)[ \t]*[=:][ \t]*\Z")
_URL_USER = lazy(rb"://[^\s:/@\"'${}]*:\Z")  # (then `}@`: a password, not a port)
_NAME_BEFORE = lazy(rb"([A-Za-z_][\w'-]*)[ \t]*\Z")
_NOT_NAMES = frozenset({b"true", b"false", b"null"})


def names_given_to_secrets(source: bytes, *, bound_here: bool = True) -> dict[str, str]:
    """The names a secret-named attribute takes its value from (``password = nas;``,
    ``psk = secrets.wifi;``): name (dotted) → the kind of secret the attribute names."""
    given: dict[str, str] = {}
    if bound_here and b"let" not in source:
        return given  # (``bound_here``: a name the file binds itself, in a let)
    for found in _GIVEN_VALUE.finditer(source):
        name = found.group(1) or found.group(2)
        if name in _NOT_NAMES or name.startswith((b"config.", b"pkgs.", b"lib.")):
            continue
        before = _NAME_BEFORE.search(source, max(0, found.start() - 80), found.start())
        if before is None:
            continue
        kind = _kind(before.group(1).decode("ascii"))
        if kind is not None:
            given.setdefault(name.decode("ascii"), kind)
    at = source.find(b"${")
    while at >= 0:
        close = source.find(b"}", at)
        name = source[at + 2 : close] if close > 0 else b""
        prefix = source[max(0, at - 80) : at]
        if _NAME.match(name) and not name.startswith((b"config.", b"pkgs.", b"lib.", b"cfg.")):
            word = _WORD_SEP.search(prefix)
            kind = _kind(word[1].decode("ascii")) if word is not None else None
            if word is None and source[close + 1 : close + 2] == b"@" and _URL_USER.search(prefix):
                kind = "password"
            if kind is not None:
                given.setdefault(name.decode("ascii"), kind)
        at = source.find(b"${", at + 2)
    return given


def _kind(key: str) -> str | None:
    """The kind of secret a name says (``password``), None for a hash's or a public
    key's name, or a password hash's (judged as a hash elsewhere)."""
    if filters.hash_name(key) or filters.public_name(key):
        return None
    kind = filters.secret_name(key)
    return kind if kind != "password-hash" else None
