"""The Nix scanner's shortcuts change nothing: :func:`secretkit.scan.nix.scan_nix` gives
exactly the hits of the plain reading below (every string found by walking the tree,
its delimiters and parent asked of the tree, every examined literal read with each
character's byte), on generated Nix written to reach every rule and shortcut:
secret-named keys, builders (``writeText``, ``toFile``, ``writeTextFile``),
``environment.etc`` text read by ``*File`` options, lists, ``let``/``with``/``if``,
``lib.mk*`` wrappers, indented strings with escapes, interpolations, broken syntax.

The reference is the scanner as it was before it was made fast (issue 15); a change
meant to alter the hits changes both.  Values are built at run time.
"""

from __future__ import annotations

import bisect
import random
from typing import Any

import pytest

from secretkit.nix import cst
from secretkit.nix.syntax import walk
from secretkit.scan import filters, named_values, nix_owner, nix_positions
from secretkit.scan.detectors import Context, vendor_hint
from secretkit.scan.hits import (
    ALLOW_MARK,
    FREEFORM_RULES,
    KEYED_NEEDS,
    KEYED_RULES,
    Hit,
    merge,
    token_hits,
)
from secretkit.scan.nix import (
    _FILE_OPTION,
    _META,
    _byte_offsets,
    _dotted,
    _key,
    scan_nix,
)
from secretkit.scan.nix_values import ENV_KEY_NAME as _ENV_KEY_NAME
from secretkit.scan.nix_values import SECRETISH as _SECRETISH
from secretkit.scan.nix_values import Value, owned_attribute_hit
from secretkit.scan.nix_values import attribute_hit as _attribute_hit
from secretkit.scan.nix_values import command_key as _command_key
from secretkit.scan.nix_values import config_key as _config_key
from secretkit.scan.nix_values import embedded_config_hits as _embedded_config_hits
from secretkit.scan.nix_values import secretish as _secretish
from secretkit.scan.nix_values import url_credentials as _url_credentials
from tests.support import fake

_ENVIRONMENT = {"environment", "variables", "sessionVariables", "env"}
_ENVIRONMENT |= {"environmentVariables", "Environment"}


def _in_environment(path: list[str]) -> bool:
    return len(path) > 1 and not _ENVIRONMENT.isdisjoint(path[:-1])


def reference_scan(data: bytes) -> tuple[list[Hit], bool]:
    """scan_nix without shortcuts."""
    tree = cst.parse(data)
    allowed_lines: set[int] = set()
    if ALLOW_MARK.encode() in data:
        allowed_lines = {
            data.count(b"\n", 0, start) + 1
            for start, _end, text in cst.comments(tree)
            if ALLOW_MARK in text
        }
    nodes = list(cst.string_nodes_walk(tree))
    text = data.decode("utf-8", "replace")
    vendor = vendor_hint(text)
    marks = sorted(_byte_offsets(text, data, token_hits(text, Context(()), vendor=vendor)))
    keyed_file = any(n.encode() in data.lower() for n in KEYED_NEEDS)
    read_as_file: set[str] = set()
    for node, path, binding in nodes:
        if _FILE_OPTION.search(_key(path)) and b"/etc/" in data[node.start_byte : node.end_byte]:
            lit = cst.string_from(tree, node, path, binding)
            if not lit.has_interpolation and lit.value.startswith("/etc/"):
                read_as_file.add(lit.value[len("/etc/") :])
    hits: list[Hit] = []
    for node, path, binding in nodes:
        key = _key(path)
        if path[-1:] == ["default"] and nix_owner.option_of_default(binding) and len(path) > 1:
            key = _key(path[:-1])
        elif nix_owner.formal_default_name(node):
            key = nix_owner.formal_default_name(node) or ""
            path = [key]
        if key and (filters.hash_name(key) or filters.public_name(key)):
            continue
        prose = key in ("description", "longDescription") or nix_owner.documentation(node)
        if (not _META.isdisjoint(path) and prose) or node.child_count < 2:
            continue
        begin, stop = node.child(0).end_byte, node.child(node.child_count - 1).start_byte
        raw = data[begin:stop].decode("utf-8", "replace")
        if not raw.strip():
            continue
        kind = filters.secret_name(key) if key else None
        given = nix_positions.names_given_to_secrets(data)
        if kind is None:  # a let-bound name, or a name of a let-bound attrset, given
            ends = [".".join(path[i:]) for i in range(len(path) - 1)] or [".".join(path)]
            kind = next((given[n] for n in ends if n in given), None)
        if kind is None and len(path) >= 2 and path[-2] == "basicAuth":
            kind = "password"
        if len(path) >= 2 and path[-2] in ("shellAliases", "shellGlobalAliases", "shellAbbrs",
                                           "aliases"):  # fmt: skip
            kind = None  # an alias's name is the user's word for a command
        # a name whose value decides (not git's signing.key), or any `*_key`/`*Key` name
        named_key = filters.words(key)[-1:] == ["key"] and len(filters.words(key)) > 1
        decides = named_values.value_decides(key) and (
            key != "key" or not {"signing", "gpg", "pgp", "gnupg", "ssh"} & set(path[:-1])
        )
        if kind is None and ((_ENV_KEY_NAME.match(key) and _in_environment(path)) or decides):
            kind = "env-key"
        elif kind is None and named_key and not filters.public_name(key):
            kind = "suffix-key"
        etc_text = path[-3:-2] == ["etc"] and path[-1:] == ["text"] and path[-2] in read_as_file
        json_line = raw.lstrip().startswith("{")
        embedded = ("\n" in raw or _config_key(key) or json_line) and _SECRETISH.search(raw)
        command = _command_key(key) or _in_environment(path) or path[-1:] == ["Environment"]
        key_text = key == "text" and path[-4:-2] == ["deployment", "keys"]
        flag = None
        if kind is None and path[-1:] and path[-1].startswith("["):
            if node.parent.type != "apply_expression":  # [ "--password" <node> ]
                flag = nix_positions.flag_before(data, node, key if _command_key(key) else None)
        assigned = (
            "\n" not in raw
            and _SECRETISH.search(raw) is not None
            and nix_positions.assignments(raw) is not None
        )
        content = None
        if key == "text" or node.parent.type == "apply_expression":
            uses = nix_positions.paths_after_directives(data)
            content = nix_positions.content_context(data, node, path, uses)
        if content is None and key == "text" and path[-3:-2] == ["etc"] and not embedded:
            embedded = _SECRETISH.search(raw)  # environment.etc.<name>.text: a file's lines
        if (
            kind is None
            and flag is None
            and not assigned
            and not etc_text
            and not key_text
            and not embedded
            and not command
            and content is None
        ):
            first = bisect.bisect_left(marks, begin)
            if not (first < len(marks) and marks[first] < stop) and not (
                (keyed_file or _command_key(key))
                and token_hits(raw, Context(tuple(path)), vendor=vendor)
            ):
                continue
        ctx = Context(tuple(path))
        lit = cst.string_from(tree, node, path, binding)
        found: list[Hit] = []
        for start, end in Value(lit.value, tuple(lit.interpolations)).literal_runs():
            found.extend(token_hits(lit.value[start:end], ctx, start, vendor=vendor))
        if lit.has_interpolation:
            whole = token_hits(lit.value, ctx, vendor=vendor)
            found.extend(h for h in whole if lit.literal_text(h.start, h.end))
            found.extend(_url_credentials(lit.value))
        held = nix_owner.owner(node)
        if kind is not None and not lit.has_interpolation and held is not None:
            attribute = owned_attribute_hit(tree, lit, held, kind, key)  # type: ignore[arg-type]
            if attribute is not None:
                found.append(attribute)
        if flag is not None and not lit.has_interpolation:
            attribute = _attribute_hit(lit.value, flag)
            if attribute is not None:
                found.append(Hit(attribute.start, attribute.end, "command-secret", flag, "high"))
        if assigned and not lit.has_interpolation:
            for name, start, end in nix_positions.assignments(lit.value) or ():
                if filters.hash_name(name) or filters.public_name(name):
                    continue
                if lit.value[start : start + 1] in ("<", "$", "@", "%", "{", "("):
                    continue
                named = filters.secret_name(name)
                attribute = _attribute_hit(lit.value[start:end], named) if named else None
                if attribute is not None:
                    found.append(
                        Hit(
                            start + attribute.start,
                            start + attribute.end,
                            attribute.rule,
                            attribute.kind,
                            attribute.severity,
                        )
                    )
        stripped = lit.value.strip()
        offset = lit.value.find(stripped)
        if content is not None and not etc_text and not lit.has_interpolation:
            whole = nix_positions.whole_value_kind(content, lit.value)
            if whole is not None and not filters.not_secret(stripped):
                hashed = filters.password_hash(stripped)
                rule = "password-hash" if hashed else "secret-file-text"
                kind_of = "password-hash" if hashed else whole
                severity = "low" if hashed else "high"
                found.append(Hit(offset, offset + len(stripped), rule, kind_of, severity))
        if embedded:
            found.extend(_embedded_config_hits(lit))  # type: ignore[arg-type]
        if etc_text and not lit.has_interpolation and stripped:
            if not filters.not_secret(stripped):
                rule, severity = "password-file-text", "high"
                found.append(Hit(offset, offset + len(stripped), rule, "password", severity))
        elif key_text and held is not None and not lit.has_interpolation and stripped:
            if not filters.not_secret(stripped):
                named = nix_positions.name_kind(path[-2]) or "secret"
                found.append(Hit(offset, offset + len(stripped), "secret-file-text", named, "high"))
        for hit in found:
            value = lit.value[hit.start : hit.end]
            if not lit.literal_text(hit.start, hit.end) or (
                hit.rule not in KEYED_RULES
                and filters.not_secret(value, token=hit.rule not in FREEFORM_RULES)
            ):
                continue
            start, end = lit.span_of(hit.start, hit.end)
            if data.count(b"\n", 0, start) + 1 not in allowed_lines:
                hits.append(Hit(start, end, hit.rule, hit.kind, hit.severity, _dotted(path), value))
    for node in walk(tree.root):  # quoted names holding a whole-file token match
        if node.type not in nix_positions.STRING_TYPES or node.parent.type != "attrpath":
            continue
        if not any(node.start_byte <= m < node.end_byte for m in marks):
            continue
        lit = cst.string_from(tree, node, [], None)
        for start, end in Value(lit.value, tuple(lit.interpolations)).literal_runs():
            for hit in token_hits(lit.value[start:end], Context(()), start, vendor=vendor):
                value = lit.value[hit.start : hit.end]
                if not lit.literal_text(hit.start, hit.end) or filters.not_secret(
                    value, token=hit.rule not in FREEFORM_RULES
                ):
                    continue
                at, until = lit.span_of(hit.start, hit.end)
                if data.count(b"\n", 0, at) + 1 not in allowed_lines:
                    hits.append(Hit(at, until, hit.rule, hit.kind, hit.severity, None, value))
    for node in walk(tree.root):  # a list of bytes bound to a secret's name
        if node.type != "list_expression" or node.parent.type != "binding":
            continue
        items = [c for c in node.named_children if c.type != "comment"]
        if not 8 <= len(items) <= 64 or any(c.type != "integer_expression" for c in items):
            continue
        numbers = tuple(int(data[c.start_byte : c.end_byte]) for c in items)
        names = [c for c in node.parent.child_by_field_name("attrpath").named_children]
        name = data[names[-1].start_byte : names[-1].end_byte].decode()
        kind = filters.secret_name(name)
        if kind is None or kind == "password-hash" or max(numbers) > 255:
            continue
        if len(set(numbers)) < 4 or numbers == (
            1,
            3,
            5,
            7,
            9,
            11,
            13,
            15,
            0,
            2,
            4,
            6,
            8,
            10,
            12,
            13,
        ):
            continue
        if data.count(b"\n", 0, node.start_byte) + 1 in allowed_lines:
            continue
        text = data[node.start_byte : node.end_byte].decode()
        hits.append(
            Hit(node.start_byte, node.end_byte, "secret-attribute", kind, "medium", name, text)
        )
    return merge(hits), tree.has_errors


# -- generated Nix -------------------------------------------------------------------

_KEYS = [
    "password", "token", "secret", "apiKey", "pskRaw", "passwordFile", "environmentFile",
    "text", "extraConfig", "initialPassword", "hashedPassword", "description", "FOO_KEY",
    "AWS_SECRET_KEY", "ExecStart", "command", "script", "keyFile", "sha256", "publicKey",
    "name", "authToken", "clientSecret", "user_key", "credentials", "basicAuth", "or",
    "environment", "variables", "meta", "x-api-key", "pushover", "apikey", "url", "cmd",
]  # fmt: skip
_BUILDERS = [
    "pkgs.writeText", "builtins.toFile", "pkgs.writeShellScript", "pkgs.writeScriptBin",
    "lib.mkDefault", "lib.mkForce", "toString", "lib.optionalString true", "fetchurl",
    "builtins.toFile", "toFile",
]  # fmt: skip
_FLAGS = ["--db-pass", "--auth.password", "-token", "--password-file", "--name"]
_NAMES = ["restic-password", "api-key", "token", "wg.key", "app.env", "ok.txt", "${n}"]
_ETC = ["foo/password", "api.token", "app.env", "wg.key", "plain.conf"]
_BASE = """{ config, lib, pkgs, ... }:
let
  cfg = config.services.demo;
in {
  networking.hostName = "demo";
  services.demo = {
    enable = true;
    settings = { port = 8080; url = "https://example.org/x"; };
  };
  users.users.alice = { isNormalUser = true; extraGroups = [ "wheel" "video" ]; };
  systemd.services.demo.script = ''
    echo "starting ''${HOME}" \\
      --flag
  '';
  environment.systemPackages = with pkgs; [ git (writeShellScriptBin "hi" "echo hi") ];
}
"""


def _value(r: random.Random) -> str:
    seed = str(r.random())
    return r.choice(
        [
            fake.password(seed),
            fake.github_token(seed),
            fake.pushover_token(seed),
            fake.syncthing_api_key(seed),
            fake.aws_access_key_id(seed),
            fake.sha512_crypt_like(seed),
            fake.hex_key(16, seed),
            "hunter2",
            "changeme",
            "",
            " ",
            "--authkey=" + fake.password(seed),
            "echo '" + fake.password(seed) + "' | tee x",
            "postgres://u:" + fake.password(seed) + "@db/x",
            "API_KEY=" + fake.password(seed),
            "username=u,password=" + fake.password(seed) + ",uid=1000",
            "host=db user=app password=" + fake.password(seed),
            "jdoe\n" + fake.password(seed),
            "password = " + fake.password(seed),
            "/etc/" + r.choice(_ETC),
            "${pkgs.hello}/bin/" + fake.password(seed),
            "\u00e9t\u00e9 " + fake.password(seed),
        ]
    )


def _literal(r: random.Random, value: str) -> str:
    pick = r.random()
    if pick < 0.5:
        return '"' + value.replace('"', '\\"') + '"'
    if pick < 0.9:
        tail = r.choice(["", "''$x", "'''", "''\\n", "${x}", "\n      more", "\\t"])
        return "''\n      " + value.replace("''", "'''") + tail + "\n    ''"
    return '"' + value + '${x}"'


def _snippet(r: random.Random) -> str:
    key, lit, other = r.choice(_KEYS), _literal(r, _value(r)), _literal(r, _value(r))
    name, builder, etc = r.choice(_NAMES), r.choice(_BUILDERS), r.choice(_ETC)
    return r.choice(
        [
            f"{key} = {lit};",
            f"{key} = {builder} {lit};",
            f'{key} = {builder} "{name}" {lit};',
            f'{key} = pkgs.writeTextFile {{ name = "{name}"; text = {lit}; }};',
            f'environment.etc."{etc}".text = {lit};',
            f'environment.etc."{etc}" = {{ text = {lit}; mode = "0400"; }};',
            f'{r.choice(["passwordFile", "keyFile", "environmentFile"])} = "/etc/{etc}";',
            f"{key} = [ {lit} {other} ];",
            f'{key} = [ "{r.choice(_FLAGS)}" {lit} ];',
            f'{key} = "auth-user-pass ${{{builder} "{name}" {lit}}}";',
            f'{key} = {builder} "{name}" {lit}; c = "{r.choice(["tls-auth", "ca"])} ${{{key}}}";',
            f"{key} = let y = {lit}; in y;",
            f"{key} = with pkgs; {lit};",
            f"{key} = if c then {lit} else {other};",
            f"{key} = lib.mkIf cfg.enable ({lit});",
            f"{key} = lib.mkOverride 90 {lit};",
            f"{key} = {lit} + {other} + ({lit});",
            f'deployment.keys."{name}".text = {lit};',
            f"deployment.keys = {{ {r.choice(_KEYS)} = {{ text = {lit}; }}; }};",
            f"options.{key} = lib.mkOption {{ type = lib.types.str; default = {lit}; }};",
            f"f = {{ {key} ? {lit}, ... }}: {key};",
            f'{key} = [ "echo" {lit} ];',
            f"serviceConfig.Environment = {lit};",
            f"{key} = builtins.fromJSON ''{{\"{key}\": \"{fake.password(str(r.random()))}\"}}'';",
            f'{key} = "postgres://app:{fake.password(str(r.random()))}@${{host}}/x";',
            f'{key}."{r.choice(_KEYS)}".${{n}} = {lit};',
            f"basicAuth = {{ alice = {lit}; }};",
            f"environment.variables.{r.choice(['FOO_KEY', 'HOME'])} = {lit};",
            f"{key} = {{ {r.choice(_KEYS)} = {lit}; }};",
            f"{key} = {lit} + {other};",
            f"{key} = {lit}; # secretkit: allow",
            f"meta.{key} = {lit};",
            f'url."https://u:{_value(r)}@git.lan/".insteadOf = {lit};',
            f"{r.choice(['nas', 'x', 'home'])} = {lit}; token = {r.choice(['nas', 'x', 'cfg'])};",
            f"s = {{ {r.choice(['wifi', 'x'])} = {lit}; }}; psk = s.{r.choice(['wifi', 'y'])};",
            f'"{_value(r)}" = {lit};',
            f"{r.choice(['network_key', 'key', 'ids'])} = [ {_numbers(r)} ];",
        ]
    )


def _numbers(r: random.Random) -> str:
    return " ".join(
        str(r.randrange(300 if r.random() < 0.2 else 256)) for _ in range(r.randint(6, 20))
    )


def _generated(r: random.Random) -> bytes:
    text = r.choice([_BASE, _BASE.replace('(writeShellScriptBin "hi" "echo hi")', "hello")])
    for _ in range(r.randint(2, 8)):
        pick = r.random()
        lines = text.split("\n")
        at = r.randrange(3, len(lines) - 2)
        if pick < 0.6:
            lines.insert(at, "  " + _snippet(r))
        elif pick < 0.75:
            line = lines[at]
            lines[at] = line.replace("enable", r.choice(_KEYS)).replace("url", r.choice(_KEYS))
        elif pick < 0.9:  # broken syntax: a character, or a quote, gone
            quotes = [i for i, c in enumerate(text) if c in "\"'"]
            char = r.choice(quotes) if quotes and r.random() < 0.5 else r.randrange(len(text))
            text = text[:char] + text[char + 1 :]
            continue
        else:
            lines.insert(at, r.choice(['  "', "  ''", "  ${", "  [", "  \u00a0x = 1;", "\r"]))
        text = "\n".join(lines)
    return text.encode()


@pytest.mark.parametrize("batch", range(4))
def test_the_scan_gives_the_hits_of_the_plain_reading(batch: int) -> None:
    rng = random.Random(15_000 + batch)
    hits = 0
    for _ in range(120):
        data = _generated(rng)
        assert scan_nix(data) == reference_scan(data), data.decode()
        hits += len(scan_nix(data)[0])
    assert hits > 60  # the generated files do reach the rules


def _shape(items: Any) -> list[tuple[int, int, tuple[str, ...], int | None]]:
    return [
        (n.start_byte, n.end_byte, tuple(p), b.start_byte if b is not None else None)
        for n, p, b in items
    ]


def test_string_nodes_and_values_match_their_plain_readings() -> None:
    rng = random.Random(1515)
    strings = 0
    for _ in range(200):
        tree = cst.parse(_generated(rng))
        assert _shape(cst.string_nodes(tree)) == _shape(cst.string_nodes_walk(tree))
        for node, path, binding in cst.string_nodes(tree):
            full = cst.string_from(tree, node, path, binding)
            assert cst.string_parts(tree, node) == (full.value, full.interpolations)
            strings += 1
    assert strings > 1500


def test_secretish_answers_as_the_pattern() -> None:
    """The embedded-config test reads ASCII literals by their lowered text: the same
    answer as ``_SECRETISH`` on every text, also where case folding differs from
    ``lower()`` (the Kelvin sign, the long s, the dotted capital I)."""
    rng = random.Random(99)
    letters = "passTOKENsecretKEYcredPSKxyz \n\u212a\u017f\u0130\u00e9-_"
    texts = ["", "PaSs", "ps", "\u212aey", "pa\u017fs", "toKen", "CRED", "pSk", "ke y"]
    texts += ["".join(rng.choice(letters) for _ in range(rng.randint(0, 12))) for _ in range(5000)]
    for text in texts:
        assert _secretish(text) == (_SECRETISH.search(text) is not None), text
