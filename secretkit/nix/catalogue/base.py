"""What every catalogue entry shares: the site of a secret, the rewrite or refusal an
entry answers with, who reads the secret file at run time (with the source of that
fact), and small helpers for span edits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from secretkit.lazy_re import lazy
from secretkit.nix import cst, emit
from secretkit.nix.cst import Node, Tree
from secretkit.nix.edits import Edit
from secretkit.sensitive import Sensitive

# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where a fact about a NixOS module was read: repository, commit, file and the line."""

    repo: str
    commit: str
    path: str
    line: str  # the line as it reads there (``User = "wpa_supplicant";``)
    read: bool = True  # False: recalled, not yet read in that copy (the re-check script will)

    def cite(self) -> str:
        return f"{self.repo}@{self.commit[:12]}:{self.path}: {self.line}"


def release_key(release: str) -> tuple[int, int]:
    """A NixOS release ("24.11") as a key that orders releases."""
    year, _, month = release.partition(".")
    return int(year), int(month)


def owner_by_release(owner: str, since: str | None, until: str | None) -> str:
    """A reader's ``owner`` where the release is not known (``import <nixpkgs>``, a
    clan's): the host's own release says which user reads the file (root before
    ``since``, when the user need not exist; root from ``until`` on, when the user may
    be gone: a DynamicUser's, a removed option).  Nix is lazy: an ``owner`` naming an
    option a later release removed is not read there."""
    release = "builtins.compareVersions config.system.nixos.release"
    if until is not None:
        owner = f'(if {release} "{until}" >= 0 then "root" else {owner})'
    if since is not None:
        owner = f'(if {release} "{since}" >= 0 then {owner} else "root")'
    return owner


def owner_where_enabled(owner: str, user_from: str) -> str:
    """``owner`` on the hosts that enable the module making that user (``user_from``:
    ``services.grafana.enable``), root's on the others: a module several hosts share
    declares the secret for each of them, and sops-nix stops installing every secret of
    a host on an owner it cannot find there."""
    return f'(if config.{user_from} then {owner} else "root")'


@dataclass(frozen=True)
class Reader:
    """Who opens the secret file at run time, and so who must own it.

    ``kind``: ``systemd`` (PID 1 reads it for ``EnvironmentFile=`` or
    ``LoadCredential=``: root-owned is right, even for ``DynamicUser`` units),
    ``daemon`` (the service's own user opens the path: ``owner`` is that user),
    ``activation`` (read while users are created: ``neededForUsers``),
    ``root`` (a root process of the module reads it: ExecStartPre ``+``, a
    root unit, a ``cat`` in a root script), ``sops`` (only sops-nix reads it,
    to render a template; the template has its own reader).
    ``owner`` and ``group`` are Nix expressions (quoted strings or
    ``config.services.x.user``).  ``since`` is the first NixOS release whose
    module has the option the route uses.
    """

    kind: str
    source: Source
    since: str
    owner: str | None = None
    group: str | None = None
    mode: str | None = None  # None: sops-nix's default 0400
    owner_since: str | None = None  # releases before this one ran the reader as root
    # from this release on systemd hands the file over (LoadCredential): the owner is
    # needed only before it (kept when the release is unknown: right on both)
    owner_until: str | None = None
    # the user an expression ``owner`` (``config.services.nginx.user``) names where the
    # repository leaves that option at its default in the module ``source`` names
    owner_default: str | None = None
    # the option that makes the owner's user (the module's enable): a host that shares
    # the declaration without it has no such user, and sops-nix stops on the owner
    user_from: str | None = None

    @property
    def user(self) -> str:
        """The user as a person would say it (for messages and the harness)."""
        if self.owner is None:
            return "root"
        return self.owner.strip('"')


NIXPKGS = "NixOS/nixpkgs"


def user_option_reader(
    reader: Reader, owner_path: Sequence[str], default: str = "root"
) -> Reader | None:
    """``reader`` owned by the user a sibling option names (restic's and borg's job
    ``user``, "root" by default): ``owner_path`` as an expression the host's value is read
    from; None when a name of it is not a plain attribute name."""
    from dataclasses import replace

    if not all(_PLAIN_NAME.fullmatch(name) for name in owner_path):
        return None
    return replace(
        reader, kind="daemon", owner="config." + ".".join(owner_path), owner_default=default
    )


_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*")  # (an attribute name written bare)


@dataclass(frozen=True)
class Site:
    """A string literal holding a secret, on the tree of its module."""

    tree: Tree
    top: Node  # the attrset the module returns
    string: Node  # the string_expression / indented_string_expression
    path: tuple[str, ...]  # full attribute path of the literal (list items as "[i]")
    literal: str  # the literal's value, escapes resolved
    secret: Sensitive[str]  # the secret the scanner found (part of ``literal`` or all of it)
    holder: Node | None = None  # the option's whole value when the literal is wrapped
    #                            (``pkgs.writeText "name" "<secret>"``); None: the literal
    # where in ``literal`` the scan found the secret (every finding of it in this
    # string); None: not known (the value is written with escapes)
    found_at: tuple[int, ...] | None = None

    def occurrences(self) -> list[int] | None:
        """The offsets in ``literal`` of the secret to replace: where the scan found it;
        when that is not known, its one occurrence; None when it occurs more than once
        and which ones are the secret is not known (``"app-pw1" … PASSWORD 'pw1'``: the
        role's name holds the password's text, and is no secret)."""
        if self.found_at is not None:
            return list(self.found_at)
        value = self.secret.reveal()
        first = self.literal.find(value)
        if first == -1 or self.literal.find(value, first + 1) != -1:
            return None if first != -1 else []
        return [first]

    def pieces(self) -> list[str] | None:
        """``literal`` cut at each of :meth:`occurrences` (the secret left out), or None."""
        at = self.occurrences()
        if not at:
            return None
        size, out, last = len(self.secret.reveal()), [], 0
        for start in at:
            out.append(self.literal[last:start])
            last = start + size
        return [*out, self.literal[last:]]

    @property
    def binding(self) -> Node | None:
        """The binding whose value the literal is (through parentheses and a priority
        wrapper: ``lib.mkDefault "…"``, which a rewrite of the literal keeps)."""
        node = self.string
        parent = node.parent
        while parent is not None:
            if parent.type == "parenthesized_expression":
                node, parent = parent, parent.parent
                continue
            wrapped = cst.priority_call(self.tree, node)
            if wrapped is None:
                break
            node, parent = wrapped, wrapped.parent
        return parent if parent is not None and parent.type == "binding" else None

    def sibling_string(self, depth: int, name: str) -> str | None:
        """The plain string value of ``name`` in the attrset ``depth`` levels above."""
        return self.plain_string([*self.path[: len(self.path) - depth], name])

    def plain_string(self, path: Sequence[str]) -> str | None:
        """The value of the option at ``path`` in this module when it is a string
        without interpolation, else None."""
        binding = cst.find_option(self.tree, self.top, list(path))
        if binding is None:
            return None
        value = cst.unwrap(binding.child_by_field_name("expression"))
        if value is None or value.type != "string_expression":
            return None
        if any(c.type == "interpolation" for c in value.named_children):
            return None
        return cst.string_text(self.tree, value)

    def has_option(self, path: Sequence[str]) -> bool:
        return cst.find_option(self.tree, self.top, list(path)) is not None

    def service_restarts(self, service: str) -> tuple[str, ...]:
        """``restartUnits`` for a secret ``systemd.services.<service>`` reads when it
        starts: none for a ``oneshot`` unit or one a timer starts (``startAt``, a
        ``systemd.timers.<service>`` of this module): it reads the new value at its next
        run, and a restart would run it now (an inactive unit is started by a restart)."""
        unit = ["systemd", "services", service]
        if service.startswith(TIMER_STARTED):
            return ()  # (a unit a NixOS module makes for a timer to start: a backup)
        if self.plain_string([*unit, "serviceConfig", "Type"]) == "oneshot":
            return ()
        timers = (["systemd", "timers", service], [*unit, "startAt"])
        for full, _binding in cst.iter_bindings(self.tree, self.top):
            if any(full[: len(t)] == t for t in timers):
                return ()
        return (f"{service}.service",)


# Units NixOS modules make for a timer to start, by name: restarting one on a changed
# secret runs it during activation (a whole backup).
# - restic-backups-<b>: oneshot, restartIfChanged = false (NixOS/nixpkgs@00976b194fe3,
#   nixos/modules/services/backup/restic.nix);
# - borgbackup-job-<j>: started by its timer's OnCalendar = startAt ("You may trigger
#   it manually via systemctl restart borgbackup-job-NAME": NixOS/nixpkgs@0111e9547e85,
#   nixos/modules/services/backup/borgbackup.nix).
TIMER_STARTED = ("restic-backups-", "borgbackup-job-")


@dataclass(frozen=True)
class OptionSpec:
    """An option the rewrite needs set in the same module."""

    path: tuple[str, ...]
    expr: str
    required: bool  # True: an existing different value is a conflict; False: keep the user's


@dataclass(frozen=True)
class TemplateLine:
    """A line of a ``sops.templates`` file, and the option that points at the template."""

    template: str
    line: str
    option: tuple[str, ...]
    owner: str | None = None
    restart_units: tuple[str, ...] = ()
    path: str | None = None
    mode: str | None = None
    group: str | None = None
    list_option: bool = False  # the option takes a list of files
    include: bool = False  # the option is nix.conf text: `!include <path>`
    # The line is a whole file text with this one secret replaced; ``whole`` is the
    # secret as that text writes it.  A second secret of the same text is replaced
    # inside the template instead of adding another copy of the text.
    whole: str | None = None
    final_newline: bool = True  # False: the text it stands for has no line break at its end


@dataclass
class Rewrite:
    """An accepted secret.  ``owner``/``group``/``mode`` apply to the sops secret; when
    the rewrite renders a template they apply to the template and the secret stays
    root-only (sops-nix alone reads it)."""

    value: Sensitive[str]  # what goes into the sops file
    edits: list[Edit]
    new_option: str  # for the plan table, e.g. "authorization.credentials_file"
    owner: str | None = None
    group: str | None = None
    mode: str | None = None
    restart_units: tuple[str, ...] = ()
    restart_expr: str | None = None  # restartUnits as a Nix expression (emit.SecretDecl)
    needed_for_users: bool = False
    path: str | None = None
    options: list[OptionSpec] = field(default_factory=list)
    template: TemplateLine | None = None
    defines: list[tuple[str, ...]] = field(default_factory=list)  # option paths made by the edits
    note: str | None = None  # what still has to be done by hand (said once per run)
    # the first NixOS release with what this rewrite sets (an option of ``options``
    # newer than the reader): a repository pinning an older one is refused
    since: str | None = None


@dataclass(frozen=True)
class Refusal:
    """Why the entry leaves a secret where it is; ``manual`` is the Nix to write by hand
    (after ``secretkit set``), when the entry knows one that works; ``steps``: the whole
    route by hand, when no sops secret can hold the value (then nothing else is said)."""

    reason: str
    manual: str | None = None
    steps: tuple[str, ...] | None = None


class Entry(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def reader(self) -> Reader:
        """Who opens the file the route makes (see :class:`Reader`)."""
        ...

    def matches(self, path: Sequence[str]) -> bool: ...

    def name(self, site: Site) -> str: ...

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal: ...


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def match(pattern: str, path: Sequence[str]) -> bool:
    """``pattern`` is dot-separated; ``*`` is one segment, ``[]`` one list index,
    ``a|b`` alternatives, ``**`` any number (≥ 1) of segments at the end."""
    parts = pattern.split(".")
    for i, part in enumerate(parts):
        if part == "**":
            return len(path) > i
        if i >= len(path):
            return False
        seg = path[i]
        if part == "*":
            if seg.startswith("["):
                return False
            continue
        if part == "[]":
            if not (seg.startswith("[") and seg.endswith("]")):
                return False
            continue
        if seg not in part.split("|"):
            return False
    return len(parts) == len(path)


def slug(text: str) -> str:
    """A name part: lower case, ``[a-z0-9._-]`` only."""
    out = re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip()).strip("-.")
    return out.lower() or "x"


def env_var(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper()


# Values that survive an env file (systemd EnvironmentFile), envsubst into JSON,
# and a ``name=value`` wpa_supplicant secrets file unchanged.
_ENV_SAFE = lazy(r"^[A-Za-z0-9._~+/=:@%,!?*#^&()\[\]{}|<>;-]+$")


def env_safe(value: Sensitive[str]) -> bool:
    return bool(_ENV_SAFE.match(value.reveal()))


def replace_literal(site: Site, text: str) -> Edit:
    return Edit(site.string.start_byte, site.string.end_byte, text)


def rebind(site: Site, new_last: str, expr: str) -> list[Edit] | Refusal:
    """Rename the last attribute of the literal's binding and give it ``expr``."""
    binding = site.binding
    if binding is None:
        return Refusal("the secret is not the whole value of an attribute")
    attrpath = binding.child_by_field_name("attrpath")
    last = attrpath.named_children[-1]
    return [
        Edit(last.start_byte, last.end_byte, emit.attr(new_last)),
        replace_literal(site, expr),
    ]


def delete_node(tree: Tree, node: Node) -> Edit:
    """Remove ``node`` (a binding or a list element).

    A node alone on its line goes with the whole line (and a trailing comment on
    it), and with the blank line before it when a blank line (or the end of the set)
    follows: a binding set apart by blank lines leaves one, not two; otherwise only the
    node and the blanks in front of it.
    """
    source = tree.source
    line_start = source.rfind(b"\n", 0, node.start_byte) + 1
    line_end = source.find(b"\n", node.end_byte)
    line_end = len(source) if line_end < 0 else line_end
    rest = source[node.end_byte : line_end].strip()
    alone = not source[line_start : node.start_byte].strip()
    if alone and line_start > 0 and (not rest or rest.startswith(b"#")):
        start = line_start - 1
        before = source.rfind(b"\n", 0, start) + 1  # the line before the node's
        after = source.find(b"\n", line_end + 1)
        following = source[line_end + 1 : len(source) if after < 0 else after].strip()
        if before > 0 and not source[before:start].strip() and following in (b"", b"}", b"};"):
            start = before - 1
        return Edit(start, line_end, "")
    start = node.start_byte
    while start > 0 and source[start - 1 : start] in (b" ", b"\t"):
        start -= 1
    return Edit(start, node.end_byte, "")


def inside(node: Node, outer: Node) -> bool:
    return bool(outer.start_byte <= node.start_byte and node.end_byte <= outer.end_byte)


def write_text_call(tree: Tree, string: Node) -> Node | None:
    """The ``pkgs.writeText "name" <string>`` call whose content is ``string``, if any
    (also through a ``"${…}"`` wrapper or ``toString (…)``)."""
    call = cst.call_of(string)
    if call is None:
        return None
    outer, inner = call
    if inner.type != "apply_expression":
        return None
    function = inner.child_by_field_name("function")
    if function is None or not cst.node_text(tree, function).endswith("writeText"):
        return None
    node: Node = outer
    parent = node.parent
    if parent is not None and parent.type == "interpolation":
        wrapper = parent.parent
        if (
            wrapper is not None
            and wrapper.type == "string_expression"
            and (len(wrapper.named_children) == 1)
        ):
            node = wrapper
    # toString (pkgs.writeText …): the call to toString is the value the option holds
    parent = node.parent
    if parent is not None and parent.type == "parenthesized_expression":
        call = parent.parent
        function = call.child_by_field_name("function") if call is not None else None
        argument = call.child_by_field_name("argument") if call is not None else None
        if (
            call is not None
            and call.type == "apply_expression"
            and function is not None
            and cst.node_text(tree, function) in ("toString", "builtins.toString")
            and argument is not None
            and argument.id == parent.id
        ):
            node = call
    return node
