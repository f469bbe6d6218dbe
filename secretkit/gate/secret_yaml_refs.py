"""``nix-secret-refs``: a ``"!secret <key>"`` the program cannot resolve.

Home Assistant resolves ``"!secret <key>"`` in its configuration from ``secrets.yaml``
in its configuration directory, and zigbee2mqtt ``"!secret.yaml <key>"`` from
``secret.yaml`` in its data directory (:class:`secretkit.nix.catalogue.secret_yaml.
SecretYaml`).  Where a host renders that file from a sops template (the template
migrate writes, or one whose ``path`` is the file), the template's top-level keys are
all the file holds: a reference to another key stops the program at start-up ("Secret
… not defined").  A host without such a template keeps the file some other way: not
judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from secretkit.gate.model import CheckResult

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext
    from secretkit.nix.catalogue.base import Reader
    from secretkit.nix.syntax import NixTree

POINT = "nix-secret-refs"
_UNREAD = "\0"  # a template whose content is an expression: its keys are not read
_KEY = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.-]*)\s*:", re.MULTILINE)


@dataclass(frozen=True)
class _Program:
    option: tuple[str, ...]  # where the references are
    marker: str
    template: str  # the name migrate gives the template
    path: str  # the file at the module's default directory
    file_name: str


def _programs() -> list[_Program]:
    from secretkit.nix.catalogue.home_assistant import HomeAssistant
    from secretkit.nix.catalogue.zigbee2mqtt import Zigbee2mqtt

    out = []
    for option, entry in (
        (("services", "home-assistant", "config"), HomeAssistant),
        (("services", "zigbee2mqtt", "settings"), Zigbee2mqtt),
    ):
        file = entry.secret_yaml
        out.append(_Program(option, file.marker, file.template, file.path, file.file_name))
    return out


def unresolved_keys(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.gate.module_sites import line_of
    from secretkit.gate.option_values import option_bindings
    from secretkit.nix import cst

    inventory = ctx.inventory()
    programs = _programs()
    # per program: host -> the keys its templates hold; and the references (host, …)
    keys: dict[str, dict[str, set[str]]] = {p.marker: {} for p in programs}
    refs: dict[str, list[tuple[str, str, int, str]]] = {p.marker: [] for p in programs}
    for file in ctx.files():
        data = ctx.read(file) if file.endswith(".nix") else None
        if data is None or (b"!secret" not in data and b"templates" not in data):
            continue  # (neither a reference nor a template)
        tree, bindings = option_bindings(ctx, file)
        contents, paths = _templates(tree, bindings)
        for binding, path in bindings:
            for program in programs:
                if tuple(path[: len(program.option)]) != program.option:
                    continue
                value = cst.unwrap(binding.value)
                text = cst.string_value(tree, value) if value is not None else None
                if text is not None and text.startswith(program.marker + " "):
                    key = text[len(program.marker) + 1 :].strip()
                    for host in sorted(inventory.hosts_at(file, binding.start)) or [""]:
                        refs[program.marker].append((host, file, binding.start, key))
        for template, (content, offset) in contents.items():
            for program in programs:
                if template == program.template or paths.get(template) == program.path:
                    # (content made by an expression, toYAML of an attrset: keys unread)
                    found = (
                        {_UNREAD} if content == _UNREAD else set(_KEY.findall(_unindented(content)))
                    )
                    for host in sorted(inventory.hosts_at(file, offset)) or [""]:
                        keys[program.marker].setdefault(host, set()).update(found)
    out = []
    for program in programs:
        held = keys[program.marker]
        for host, file, offset, key in refs[program.marker]:
            have = held.get(host, held.get("", None)) if host else held.get("")
            if have is None or key in have or _UNREAD in have:
                continue  # (no template renders the file there, or its keys are unread)
            shown = ", ".join(sorted(have)) or "none"
            on = f" on host {host}" if host else ""
            out.append(
                CheckResult(
                    POINT,
                    False,
                    f'{file}:{line_of(ctx, file, offset)}: "{program.marker} {key}" names a '
                    f"key the sops template that renders {program.file_name}{on} does not "
                    f"hold (it holds: {shown}): the program stops at start-up",
                    f'add a line {key}: ${{config.sops.placeholder."<name>"}} to that '
                    f"template's content (the secret stored under <name>), or name one of "
                    f"its keys",
                    (file,),
                )
            )
    return out


def rendered_templates(
    ctx: CheckContext,
) -> list[tuple[str, str, int, tuple[str, ...], Reader]]:
    """The sops templates that render a program's secrets file (by migrate's name for
    it, or a ``path`` that is the file): (template, file, offset of its content, the
    program's option, who reads the file)."""
    from secretkit.gate.option_values import option_bindings
    from secretkit.nix.catalogue.home_assistant import HomeAssistant
    from secretkit.nix.catalogue.zigbee2mqtt import Zigbee2mqtt

    readers = {e.secret_yaml.marker: e.reader for e in (HomeAssistant, Zigbee2mqtt)}
    out = []
    for file in ctx.files():
        data = ctx.read(file) if file.endswith(".nix") else None
        if data is None or b"templates" not in data:
            continue
        tree, bindings = option_bindings(ctx, file)
        contents, paths = _templates(tree, bindings)
        for template, (_content, offset) in contents.items():
            for program in _programs():
                if template == program.template or paths.get(template) == program.path:
                    out.append((template, file, offset, program.option, readers[program.marker]))
    return out


def _templates(
    tree: NixTree, bindings: list[Any]
) -> tuple[dict[str, tuple[str, int]], dict[str, str]]:
    """The file's ``sops.templates``: name -> (its content as written, its offset), and
    name -> its ``path`` (a plain string)."""
    from secretkit.nix import cst

    contents: dict[str, tuple[str, int]] = {}
    paths: dict[str, str] = {}
    for binding, path in bindings:
        if len(path) == 4 and path[:2] == ["sops", "templates"]:
            value = cst.unwrap(binding.value)
            if value is None:
                continue
            if path[3] == "content":
                written = value.type in ("string_expression", "indented_string_expression")
                text = str(cst.node_text(tree, value)) if written else _UNREAD
                contents[path[2]] = (text, binding.start)
            elif path[3] == "path":
                paths[path[2]] = cst.string_value(tree, value) or ""
    return contents, paths


def _unindented(text: str) -> str:
    """A Nix string's text as YAML reads it: ``''…''`` without its common indentation
    (the quotes left in do not start a key)."""
    if not text.startswith("''"):
        return text.strip('"').replace("\\n", "\n")
    lines = text[2:-2].split("\n")
    indents = [len(line) - len(line.lstrip(" ")) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return "\n".join(line[cut:] for line in lines)
