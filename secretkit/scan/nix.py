"""Secrets in Nix files, literal by literal, with attribute paths.

For every string literal (:func:`secretkit.nix.cst.strings`):

1. token formats anywhere in its literal text (Pushover/Syncthing only where the
   names around say so);
2. a secret-named attribute (``password``, ``user_key``, ``pskRaw`` …) with a
   literal value — the whole value, however weak ("hunter2" too); the value through
   wrappers and concatenations, and defaults named by their option or argument
   (:mod:`secretkit.scan.nix_owner`), and a colmena/NixOps ``deployment.keys.<n>.text``;
3. secrets inside commands and flags (``--authkey=…``, ``echo '…'`` in a
   ``*Command`` option, SQL ``PASSWORD '…'``, ``user:pass@`` in URLs);
4. text written to ``environment.etc."x".text`` when some ``*File`` option of
   the same file reads ``/etc/x``.

Comments are read where they can matter (:mod:`secretkit.scan.nix_comments`): a
commented-out ``# attr.path = "value";`` is judged as that binding would be, with the
path written there, and a token format anywhere in a comment is reported.

Nothing from an interpolation (``${…}``) is ever reported, and neither is what
:func:`secretkit.scan.filters.not_secret` recognises.  Nix is never evaluated.
"""

from __future__ import annotations

import bisect
import re
from typing import TYPE_CHECKING, Any

from secretkit.lazy_re import lazy
from secretkit.nix.cst import NixString
from secretkit.scan import filters, named_values, nix_owner, nix_positions
from secretkit.scan.allow_marks import nix_allowed as allowed
from secretkit.scan.allow_marks import nix_marks
from secretkit.scan.detectors import Context, in_context, vendor_hint
from secretkit.scan.hits import (
    ALLOW_MARK,
    CONTEXT_RULES,
    FREEFORM_RULES,
    KEYED_NEEDS,
    KEYED_RULES,
    Hit,
    merge,
    token_hits,
)
from secretkit.scan.match_starts import remembering
from secretkit.scan.nix_values import (
    Value,
    assignment_hits,
    attribute_hit,
    embedded_config_hits,
    flag_value_hit,
    key_facts,
    owned_attribute_hit,
    secretish,
    url_credentials,
    whole_value_hits,
)

if TYPE_CHECKING:
    from secretkit.scan.match_starts import Known
    from secretkit.scan.nix_comments import CommentBinding

# Attribute names under which strings are documentation or option metadata.
_META = frozenset(
    {"description", "example", "defaultText", "longDescription", "literalExample", "meta"}
)
_PROSE = ("description", "longDescription")  # (a description is prose wherever it is)
_FILE_OPTION = lazy(r"(?i)(?:file|path)$")


def scan_nix(data: bytes) -> tuple[list[Hit], bool]:
    """Hits (byte offsets) in one Nix file, and whether the file had parse errors."""
    from secretkit.nix import cst

    tree = cst.parse(data)
    facts = file_facts(data)
    nodes = list(cst.value_strings(tree))
    hits = [hit for _at, _until, found in literal_hits(tree, facts, nodes) for hit in found]
    spans = comment_spans(tree, facts)
    hits.extend(hit for _start, _end, found in comment_hits(tree, facts, spans) for hit in found)
    hits.extend(name_hits(tree, facts))
    return merge(hits), tree.has_errors


class FileFacts:
    """What the rules ask of a whole Nix file (its bytes, text, token matches and
    which names it holds at all), read once per file."""

    def __init__(self, data: bytes, known: Known | None = None) -> None:
        self.data = data
        self.text = data.decode("utf-8", "replace")
        self.known = known
        self._vendor: bool | None = None
        # One pass of the token detectors over the whole file says which literals can
        # hold a token at all; only those (and secret-named ones) are read in full.
        # (what the pre-filters find is remembered, in ``known`` when given)
        with remembering(self.text, known):
            self.file_hits = token_hits(self.text, Context(()))
            self._vendor = vendor_hint(self.text)
        self.marks = sorted(_byte_offsets(self.text, data, self.file_hits))
        self.lowered = data.lower()
        self.keyed_file = any(n.encode() in self.lowered for n in KEYED_NEEDS)
        self.builders = nix_positions.may_write_files(data)
        self._uses: dict[str, str] | None = None
        self._given: dict[str, str] | None = None
        self.allow_mark = ALLOW_MARK.encode() in data
        self._allowed: dict[int, int] | None = None

    def allowed_lines(self, tree: Any) -> dict[int, int]:
        """Line → byte offset of the last ``secretkit: allow`` a comment on it says (of
        ``tree``, this file's; what comes before it is allowed: :func:`allowed`)."""
        if self._allowed is None:
            self._allowed = nix_marks(self.data, tree) if self.allow_mark else {}
        return self._allowed

    def uses(self) -> dict[str, str]:
        """The names interpolated as a file's path after a word that says what the
        file holds (:func:`secretkit.scan.nix_positions.paths_after_directives`)."""
        if self._uses is None:
            self._uses = nix_positions.paths_after_directives(self.data) if self.builders else {}
        return self._uses

    def given(self) -> dict[str, str]:
        """The names secret options take their value from (``password = nas;``:
        :func:`secretkit.scan.nix_positions.names_given_to_secrets`)."""
        if self._given is None:
            self._given = nix_positions.names_given_to_secrets(self.data)
        return self._given

    def vendor(self) -> bool:
        """Whether the text can hold a vendor format at all (asked only when a
        literal is read)."""
        if self._vendor is None:
            self._vendor = vendor_hint(self.text)
        return self._vendor


def file_facts(data: bytes, known: Known | None = None) -> FileFacts:
    return FileFacts(data, known)


def files_read_from_etc(tree: Any, data: bytes, nodes: list[Any]) -> set[str]:
    """The files under ``/etc/`` some option reads as a secret file (``passwordFile =
    "/etc/x"``): ``x`` for each literal of ``nodes`` that names one."""
    from secretkit.nix import cst

    read: set[str] = set()
    if b"/etc/" in data:
        for node, path, _binding, at, until, _argument in nodes:
            if data.find(b"/etc/", at, until) >= 0 and _FILE_OPTION.search(_key(path)):
                value, interpolations = cst.string_parts(tree, node)
                if not interpolations and value.startswith("/etc/"):
                    read.add(value[len("/etc/") :])
    return read


def literal_hits(
    tree: Any, facts: FileFacts, nodes: list[Any], read_from_etc: set[str] | None = None
) -> list[tuple[int, int, list[Hit]]]:
    """``(start, end, hits)`` of each literal of ``nodes`` (from
    :func:`secretkit.nix.cst.value_strings`) that has hits; the hits of one literal
    depend on the literal, its ancestors and ``facts`` (never on another literal but
    the parts of a concatenation holding it, :mod:`secretkit.scan.nix_owner`, and the
    files some option reads from ``/etc/``: from ``nodes`` unless ``read_from_etc``
    gives them, :func:`files_read_from_etc` of all the literals)."""
    from secretkit.nix import cst

    data = facts.data
    allowed_lines = facts.allowed_lines(tree)
    marks = facts.marks
    vendor = facts.vendor
    keyed_file = facts.keyed_file
    # In a tree without errors every literal has both its delimiters.
    delimited = not tree.has_errors
    builders = facts.builders
    formals = b"?" in data  # (a function argument's default follows one)

    # Files some option reads as a password/secret file, e.g. passwordFile = "/etc/x".
    read_as_file = (
        files_read_from_etc(tree, data, nodes) if read_from_etc is None else read_from_etc
    )

    out: list[tuple[int, int, list[Hit]]] = []
    for node, path, binding, at, until, argument in nodes:
        key = path[-1] if path and path[-1][:1] != "[" else _key(path)
        if key == "default" == path[-1] and len(path) >= 2 and nix_owner.option_of_default(binding):
            key = _key(path[:-1])  # options.x.apiToken = mkOption { default = "…"; }
        elif formals and nix_owner.is_formal_default(data, at):
            name = nix_owner.formal_default_name(node)  # { smtpPassword ? "…", ... }:
            key, path = (name, [name]) if name else (key, path)
        named = key_facts(key)
        if named is None:
            continue
        plain_path = _NAMED.isdisjoint(path)  # no metadata or environment name in it
        prose = not plain_path and not _META.isdisjoint(path)
        if prose and (key in _PROSE or nix_owner.documentation(node)):
            continue  # (a description, an option's example, a package's meta)
        if delimited:
            width = 1 if data[at] == 34 else 2  # "…" or ''…''
            begin, stop = at + width, until - width
        else:
            count = node.child_count
            if count < 2:
                continue
            # (node.child(i), not node.children: the literal's fragments stay in C)
            begin, stop = node.child(0).end_byte, node.child(count - 1).start_byte
        if begin >= stop:
            continue  # an empty literal
        kind, env_key_name, config_key, command_key = named
        in_environment = (
            not plain_path
            and not _ENVIRONMENT.isdisjoint(path)
            and not _ENVIRONMENT.isdisjoint(path[:-1])
        )
        if kind is None and facts.given():
            # let nas = "…"; … password = nas;  let s = { wifi = "…"; }; … psk = s.wifi;
            # (the let may sit inside an attribute: its names end the literal's path)
            given = facts.given()
            ends = [".".join(path[i:]) for i in range(len(path) - 1)] or [".".join(path)]
            kind = next((given[n] for n in ends if n in given), None)
        kind = _by_parent(path, kind)
        if kind is None and ((env_key_name and in_environment) or _value_decides(key, path)):
            kind = "env-key"  # decided on the value below (named_values.env_key_kind)
        elif kind is None and named_values.suffix_key(key):
            kind = "suffix-key"  # decided on the value below (named_values.suffix_key_kind)
        etc_text = (
            bool(read_as_file)
            and path[-3:-2] == ["etc"]
            and path[-1:] == ["text"]
            and path[-2] in read_as_file
        )
        # (systemd's Environment = "NAME=value NAME=value": its assignments as a list's)
        command = command_key or in_environment or path[-1:] == ["Environment"]
        # [ "--db-pass" "<this>" ]: the flag before a list element names it;
        # passwordCommand = [ "echo" "<this>" ]: the echo in a command's list
        flag = (
            nix_positions.flag_before(data, node, key if command_key else None)
            if kind is None and not argument and path[-1:] and path[-1][:1] == "["
            else None
        )
        # colmena's/NixOps' deployment.keys.<name>.text: the key's content, whole
        key_text = key == "text" and path[-4:-2] == ["deployment", "keys"]
        content = None
        if builders and (key == "text" or argument):
            content = nix_positions.content_context(data, node, path, facts.uses())
        elif key == "text":  # no builder in the file: only environment.etc can say
            content = nix_positions.etc_context(path)
        # '\n' in the literal's text, without decoding it
        multiline = data.find(b"\n", begin, stop) >= 0
        quiet = (
            kind is None
            and flag is None
            and not (etc_text or key_text or command)
            and content is None
        )
        marked = False
        if quiet:
            first = bisect.bisect_left(marks, begin)
            marked = first < len(marks) and marks[first] < stop
            if (
                not marked
                and not keyed_file
                and not multiline
                and not config_key
                and data.find(b"=", begin, stop) < 0
                and data.find(b'":', begin, stop) < 0  # ({"password": "…"} on one line)
            ):
                continue  # the common case: nothing here (and nothing embedded)
        raw = data[begin:stop].decode("utf-8", "replace")
        if not raw.strip():
            continue
        worded = secretish(raw)
        # environment.etc.<name>.text is a config file's lines even when it is one line
        # or its lines are "\n" escapes (a name that says what the file holds is judged
        # below); JSON written on one line holds its pairs as a config file's lines do
        etc_file = content is None and key == "text" and path[-3:-2] == ["etc"]
        embedded = (multiline or config_key or etc_file or raw.lstrip()[:1] == "{") and worded
        # "username=u,password=p" (mount options), "host=db password=p" (libpq)
        assigned = worded and not multiline and nix_positions.assignments(raw) is not None
        if (
            quiet
            and not embedded
            and not assigned
            and not marked
            and not (keyed_file and token_hits(raw, in_context(tuple(path), raw), vendor=vendor()))
        ):
            continue  # nothing here, no need to read the literal
        ctx = in_context(tuple(path), raw)
        lit = Value(*cst.string_parts(tree, node))
        found: list[Hit] = []

        for start, end in lit.literal_runs():
            segment = lit.value[start:end]
            found.extend(token_hits(segment, ctx, start, vendor=vendor()))
        if lit.has_interpolation:  # and whole: a command's sink can follow `${…}` (`echo
            # … | ${pkgs.samba}/bin/smbpasswd -s`); only what the literal text holds counts
            found.extend(
                h
                for h in token_hits(lit.value, ctx, 0, vendor=vendor())
                if lit.literal_text(h.start, h.end)
            )
        if "@${" in lit.value:  # postgres://app:<this>@${host}/app: the host comes later
            found.extend(url_credentials(lit.value))

        held = nix_owner.owner(node) if kind is not None or key_text else None
        if kind is not None and held is not None and not lit.has_interpolation:
            attribute = owned_attribute_hit(tree, lit, held, kind, key)
            if attribute is not None:
                found.append(attribute)
        if flag is not None and not lit.has_interpolation:
            flagged = flag_value_hit(lit, flag)
            if flagged is not None:
                found.append(flagged)
        if assigned and not lit.has_interpolation:
            found.extend(assignment_hits(lit))

        if content is not None and not etc_text and not lit.has_interpolation:
            found.extend(whole_value_hits(content, lit.value))

        if embedded:
            found.extend(embedded_config_hits(lit))

        if (etc_text or (key_text and held is not None)) and not lit.has_interpolation:
            stripped = lit.value.strip()
            offset = lit.value.find(stripped)
            if stripped and not filters.not_secret(stripped):
                rule, kind_of = "password-file-text", "password"
                if not etc_text:  # (a deployment key's name may say what it is)
                    kind_of = nix_positions.name_kind(path[-2]) or "secret"
                    rule = "secret-file-text"
                found.append(Hit(offset, offset + len(stripped), rule, kind_of, "high"))

        kept = _placed(tree, data, node, path, binding, lit, found, allowed_lines)
        if kept:
            out.append((at, until, kept))
    return out


def _bound_list(tree: Any, hit: Hit) -> bool:
    """``hit`` spans a list that is the whole value of a binding of its name."""
    bracket = tree.root.descendant_for_byte_range(hit.start, hit.start + 1)
    node = bracket.parent if bracket is not None and bracket.type == "[" else None
    if node is None or node.type != "list_expression" or node.end_byte != hit.end:
        return False
    path = node.parent.child_by_field_name("attrpath") if node.parent is not None else None
    names = path.named_children if path is not None and node.parent.type == "binding" else []
    return (
        bool(names)
        and tree.source[names[-1].start_byte : names[-1].end_byte] == (hit.attrpath or "").encode()
    )


def name_hits(tree: Any, facts: FileFacts) -> list[Hit]:
    """Token formats and URL credentials in quoted attribute names: git's
    ``url."https://oauth2:<token>@gitlab.com/".insteadOf`` publishes the token as a
    value would.  Only names holding a whole-file token match are read; a hit's
    attribute path is left out (the name holds the value).  With them, the secrets
    written as a list of bytes (:func:`secretkit.scan.nix_values.byte_list_hits`): no
    string holds those either."""
    from secretkit.nix import cst
    from secretkit.scan.nix_values import byte_list_hits

    data = facts.data
    lists = [  # network_key = [ 12 201 … ]; (a binding's list, as the tree reads it)
        hit for hit in (byte_list_hits(data) if b"[" in data else []) if _bound_list(tree, hit)
    ]
    if lists and facts.allow_mark:
        lists = [h for h in lists if not allowed(facts.allowed_lines(tree), data, h.start)]
    if not facts.marks:
        return lists
    root = tree.root
    names: dict[int, Any] = {}
    for mark in facts.marks:
        node = root.descendant_for_byte_range(mark, mark)
        while node is not None and node.type not in nix_positions.STRING_TYPES:
            node = node.parent if node.type in ("string_fragment", "escape_sequence") else None
        if node is not None and node.parent is not None and node.parent.type == "attrpath":
            names.setdefault(node.start_byte, node)
    out: list[Hit] = []
    allowed_lines = facts.allowed_lines(tree)
    for node in names.values():
        lit = Value(*cst.string_parts(tree, node))
        found = [
            hit
            for start, end in lit.literal_runs()
            for hit in token_hits(lit.value[start:end], Context(()), start, vendor=facts.vendor())
        ]
        out.extend(_placed(tree, data, node, [], None, lit, found, allowed_lines))
    return out + lists


def _placed(
    tree: Any,
    data: bytes,
    node: Any,
    path: list[str],
    binding: Any,
    lit: Value,
    found: list[Hit],
    allowed_lines: dict[int, int],
) -> list[Hit]:
    """``found`` (indexes into ``lit``'s value) as hits of the file (bytes, with the
    value and ``path`` dotted): those on the literal's own text whose values pass the
    filters, on lines without the allow mark."""
    from secretkit.nix import cst

    mapped: NixString | None = None  # the literal with each character's byte, if needed
    kept: list[Hit] = []
    for hit in found:
        if not lit.literal_text(hit.start, hit.end):
            continue
        value = lit.value[hit.start : hit.end]
        if hit.rule not in KEYED_RULES and filters.not_secret(
            value, token=hit.rule not in FREEFORM_RULES
        ):
            continue
        mapped = mapped or cst.string_from(tree, node, path, binding)
        start, end = mapped.span_of(hit.start, hit.end)
        if allowed(allowed_lines, data, start):
            continue
        kept.append(Hit(start, end, hit.rule, hit.kind, hit.severity, _dotted(path), value))
    return kept


# Rules that need a name or a command around them: in a comment only through a binding.
_NOT_ALONE = KEYED_RULES | FREEFORM_RULES | CONTEXT_RULES


def comment_spans(tree: Any, facts: FileFacts) -> list[tuple[int, int]]:
    """The comments worth reading (:func:`secretkit.scan.nix_comments.comment_spans`)."""
    data = facts.data
    if b"#" not in data and b"/*" not in data:
        return []  # no comment at all (and the module is not loaded)
    from secretkit.scan import nix_comments

    return nix_comments.comment_spans(tree, data, facts.lowered, [h.start for h in _tokens(facts)])


def _tokens(facts: FileFacts) -> list[Hit]:
    """The file's token matches that stand alone in a comment, at byte offsets."""
    tokens = [h for h in facts.file_hits if h.rule not in _NOT_ALONE]
    if tokens and len(facts.text) != len(facts.data):
        from secretkit.scan.text_files import char_to_byte

        tokens = char_to_byte(facts.text, facts.data, tokens)
    return tokens


def comment_hits(
    tree: Any, facts: FileFacts, spans: list[tuple[int, int]]
) -> list[tuple[int, int, list[Hit]]]:
    """``(start, end, hits)`` of each comment of ``spans`` that has hits: a
    commented-out binding judged as the binding would be (the path written in the
    comment is its attribute path), a token format anywhere, and a value written after
    a secret's name in prose (:mod:`secretkit.scan.prose_secrets`)."""
    if not spans:
        return []
    from secretkit.scan import nix_comments, prose_secrets

    data = facts.data
    tokens = _tokens(facts)
    marks = facts.allowed_lines(tree)
    out: list[tuple[int, int, list[Hit]]] = []
    for start, end in spans:
        taken: list[tuple[int, int]] = []
        found: list[Hit] = []
        for binding in nix_comments.bindings(data, start, end):
            taken.append((binding.start, binding.end))
            found.extend(_binding_hits(binding, data))
        for hit in tokens:
            if start <= hit.start < end and not any(a <= hit.start < b for a, b in taken):
                value = data[hit.start : hit.end].decode("utf-8", "replace")
                if not filters.not_secret(value, token=True):
                    found.append(hit)
        for at, until, kind in prose_secrets.find(data[start:end].decode("latin-1")):
            at, until = start + at, start + until  # (ASCII values: bytes are characters)
            if not any(a <= at < b for a, b in taken) and not any(
                h.start <= at < h.end for h in found
            ):
                found.append(Hit(at, until, prose_secrets.RULE, kind, "medium"))
        if marks:
            found = [h for h in found if not allowed(marks, data, h.start)]
        if found:
            out.append((start, end, found))
    return out


def _value_decides(key: str, path: list[str]) -> bool:
    """Whether ``key``'s value decides its kind (:func:`named_values.value_decides`):
    not a bare ``key`` under ``signing``/``gpg`` (git's key id or fingerprint)."""
    if not named_values.value_decides(key):
        return False
    return key != "key" or _KEY_IDS.isdisjoint(n.lower() for n in path[:-1])


_KEY_IDS = frozenset({"signing", "gpg", "pgp", "gnupg", "ssh"})


def _by_parent(path: list[str], kind: str | None) -> str | None:
    """``kind`` as the parent says: ``basicAuth.<user>`` is a password, restic's
    ``rcloneConfig.key`` a B2 application key (nixpkgs' own example of the option); a
    shell alias's name is the user's word for a command (``topw = "procs …"``)."""
    parent = path[-2] if len(path) >= 2 else ""
    if parent in _ALIASES:
        return None
    if kind is not None:
        return kind
    if parent == "basicAuth":
        return "password"
    return "secret-key" if parent == "rcloneConfig" and path[-1] == "key" else None


_ALIASES = frozenset({"shellAliases", "shellGlobalAliases", "shellAbbrs", "aliases"})


def _binding_hits(binding: CommentBinding, data: bytes) -> list[Hit]:
    """The hits of ``path = "value"`` written in a comment, as :func:`scan_nix` finds
    them in the same binding outside one (byte offsets)."""
    names = list(binding.names)
    key = _key(names)
    facts = key_facts(key)
    if facts is None or not _META.isdisjoint(names):
        return []
    kind, env_key_name, _config, _command = facts
    kind = _by_parent(names, kind)
    in_environment = env_key_name and not _ENVIRONMENT.isdisjoint(names[:-1])
    if kind is None and (in_environment or _value_decides(key, names)):
        kind = named_values.env_key_kind(key, binding.value.strip())
    elif kind is None and named_values.suffix_key(key):
        kind = named_values.suffix_key_kind(key, binding.value.strip())
    value = binding.value
    found = token_hits(value, in_context(tuple(names), value))
    attribute = attribute_hit(value, kind, key) if kind is not None else None
    if attribute is not None:
        found.append(attribute)
    etc = nix_positions.etc_context(names) if key == "text" else None
    if etc is not None:  # (environment.etc."restic-password".text: its whole text)
        found.extend(whole_value_hits(etc, value))
    raw = data[binding.start : binding.end].decode("utf-8", "replace")
    out = []
    for hit in found:
        part = value[hit.start : hit.end]
        if hit.rule not in KEYED_RULES and filters.not_secret(
            part, token=hit.rule not in FREEFORM_RULES
        ):
            continue
        if raw == value:
            start = binding.start + len(value[: hit.start].encode("utf-8"))
            end = start + len(part.encode("utf-8"))
        else:  # escapes: the whole literal stands for the part
            start, end = binding.start, binding.end
        out.append(Hit(start, end, hit.rule, hit.kind, hit.severity, _dotted(names), part))
    return out


# Attribute sets of environment variables (``environment.variables``,
# ``systemd.services.<n>.environment``, ``serviceConfig.Environment`` …).
_ENVIRONMENT = frozenset(
    {"environment", "variables", "sessionVariables", "env", "environmentVariables", "Environment"}
)


# Either kind of name, for the one test that most paths pass.
_NAMED = _META | _ENVIRONMENT


def _byte_offsets(text: str, data: bytes, hits: list[Hit]) -> list[int]:
    """Start offsets of ``hits`` (character offsets into ``text``) in ``data``."""
    if len(text) == len(data):
        return [h.start for h in hits]
    return [len(text[: h.start].encode("utf-8")) for h in hits]


def _is_index(name: str) -> bool:
    return name.startswith("[") and name.endswith("]")


def _key(attrpath: list[str]) -> str:
    for name in reversed(attrpath):
        if not _is_index(name):
            return name
    return ""


_BARE = lazy(r"^(?:[A-Za-z_][A-Za-z0-9_'-]*|\[\d+\]|\$\{.*\})$", re.S)


def _dotted(path: list[str]) -> str | None:
    """The attribute path as Nix writes it: names that are not identifiers are quoted
    (``networks."Home Wifi".psk``); list positions stay ``[i]`` and interpolated
    names ``${…}``."""
    if not path:
        return None
    return ".".join(
        name if _BARE.match(name) else '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        for name in path
    )
