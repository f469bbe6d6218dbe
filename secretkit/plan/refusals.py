"""Refusals that say the true reason, and the manual route that works.

Two halves:

* :func:`why_not_an_option` — why a string literal holding a secret has no plain
  attribute path (an argument of a function call, a ``let`` binding, a computed
  attribute name that cannot be resolved, part of an expression, …);
* :func:`manual_route` — what to do by hand: the exact ``secretkit set`` command per
  host file (the value on stdin), the ``sops.secrets`` declaration with the owner the
  reading process needs, what to point at it, and, for a value that is not a secret,
  the ``.secretkit-allow`` line.  Nothing suggested here runs ``migrate`` again, so a
  refusal never sends the user in a circle.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from secretkit.layouts.sops_nix import host_secrets_path
from secretkit.lazy_re import lazy
from secretkit.nix import cst, emit
from secretkit.nix.catalogue import Entry, in_container
from secretkit.plan.containers import CONTAINER_CMD, container_box, container_reason
from secretkit.plan.containers import container_path as container_path
from secretkit.plan.plain_files import read_as_is
from secretkit.plan.postfix_route import password_table, table_route
from secretkit.plan.route_steps import HASH_FEED as HASH_FEED
from secretkit.plan.route_steps import config_arg_steps, inline_name, set_steps
from secretkit.plan.route_steps import config_blocked as config_blocked
from secretkit.plan.route_steps import keys_of as keys_of


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def why_not_an_option(
    tree: cst.Tree, node: cst.Node, top: cst.Node, unresolved: Sequence[str] = ()
) -> str:
    """The true reason ``node`` (a string literal) is not the value of a plain option
    path below ``top``; ``unresolved`` holds why computed names could not be resolved."""
    if node.parent is not None and node.parent.type == "attrpath":
        return (
            "the secret is in a quoted attribute name, not a value (git's "
            'url."https://user:token@host/".insteadOf): the whole setting has to move into '
            "a file the program reads, e.g. a sops template"
        )
    current = node
    while current is not None and current.id != top.id:
        parent = current.parent
        if parent is None:
            break
        kind = parent.type
        if kind == "binding":
            value = parent.child_by_field_name("expression")
            if value is not None and value.id == current.id:
                attrpath = parent.child_by_field_name("attrpath")
                if cst.binding_names(tree, parent) is None and attrpath is not None:
                    shown = _short(cst.node_text(tree, attrpath))
                    if unresolved:
                        return f"the attribute name {shown} is computed: {unresolved[0]}"
                    return f"the attribute name {shown} is computed"
                holder = parent.parent.parent if parent.parent is not None else None
                if holder is not None and holder.type == "let_expression":
                    names = cst.binding_names(tree, parent) or ["?"]
                    return (
                        f"the string is bound to `{'.'.join(names)}` in a `let`, "
                        "not set as an option (only option values are rewritten)"
                    )
        elif kind == "apply_expression":
            function = parent.child_by_field_name("function")
            if function is not None and function.id != current.id:
                while function.type == "apply_expression":
                    inner = function.child_by_field_name("function")
                    if inner is None:
                        break
                    function = inner
                return (
                    f"the string is an argument of `{_short(cst.node_text(tree, function))}`, "
                    "not an option value"
                )
        elif kind == "binary_expression":
            operator = next((c for c in parent.children if not c.is_named), None)  # `+`, `//`, `++`
            shown = cst.node_text(tree, operator) if operator is not None else "an operator"
            return f"the string is an operand of `{shown}`, not a whole option value"
        elif kind == "if_expression":
            return "the string is a branch of an if-then-else, not a whole option value"
        elif kind == "interpolation":
            return "the string is interpolated into another string"
        elif kind == "function_expression":
            body = parent.child_by_field_name("body")
            if body is None or body.id != current.id:
                return "the string is a default argument of a function"
            box = container_box(tree, parent)
            if box is not None:
                return container_reason(box)
            return "the string is in the body of a function inside the module (a module of its own)"
        current = parent
    return "the string is not below the attrset the module returns"


def let_route(tree: cst.Tree, node: cst.Node, module: str) -> tuple[str, ...] | None:
    """For a string bound by a ``let`` to a name the let's body gives whole to options
    (``users.users.root.initialPassword = installpassword;``): the one step that lets
    migrate move it, the value written at each of those options (their own routes: a
    password's is a hash with ``neededForUsers``).  None when the string is not let-bound
    or the name is used otherwise as well (in a string, an argument, …)."""
    binding = node.parent
    let = binding.parent.parent if binding is not None and binding.parent is not None else None
    if binding is None or binding.type != "binding" or let is None or let.type != "let_expression":
        return None
    names = cst.binding_names(tree, binding)
    body = let.child_by_field_name("body")
    if names is None or len(names) != 1 or body is None:
        return None
    uses: list[tuple[int, str]] = []
    named = 0  # every identifier of that name (an `inherit`, an attribute's name: not a use)
    stack = [body]
    while stack:
        current = stack.pop()
        if current.type == "identifier" and cst.node_text(tree, current) == names[0]:
            named += 1
        if current.type == "variable_expression" and cst.node_text(tree, current) == names[0]:
            parent = current.parent
            if parent is None or parent.type != "binding":
                return None  # (used inside something: not a whole option value)
            path = cst.binding_names(tree, parent)
            if path is None:
                return None
            line = int(parent.start_point[0]) + 1
            uses.append((line, f"{'.'.join(path)} (line {line})"))
        stack.extend(current.named_children)
    if not uses or named != len(uses):
        return None
    return (
        f"write the string itself at {', '.join(u for _, u in sorted(uses))} in {module} in "
        "place of "
        f"`{names[0]}`, delete its binding in the let, then run `secretkit migrate` again "
        "(it moves option values, each by its option's own route)",
    )


def builder_of(tree: cst.Tree, node: cst.Node) -> str | None:
    """The builder (``pkgs.writeText``) whose file's text the literal ``node`` is, if
    one writes a file (not a script)."""
    from secretkit.scan.nix_positions import builder_file_name

    built = builder_file_name(tree.source, node, "text")
    if built is None or built[1]:
        return None
    function = built[2].child_by_field_name("function")
    while function is not None and function.type == "apply_expression":
        function = function.child_by_field_name("function")
    return cst.node_text(tree, function) if function is not None else None


def builder_route(name: str, builder: str, line: int) -> str:
    """The manual step for a builder's text: the file's path goes where the call was,
    not into the text it writes (the program would read the path as the secret)."""
    return (
        f'config.sops.secrets."{name}".path in place of the `{builder} …` call on line '
        f"{line}, and store the whole text it wrote (line breaks included)"
    )


def exported_variable(path: Sequence[str]) -> str | None:
    """The variable ``environment.variables.<V>`` (or ``sessionVariables``) exports to
    every user's shell and session, else None."""
    if len(path) == 3 and path[0] == "environment" and path[1] in _EXPORTED:
        return path[2]
    return None


_EXPORTED = ("variables", "sessionVariables")


def no_route_reason(path: Sequence[str]) -> str:
    """Why no catalogue entry takes ``path`` — with the one known case where none can.
    (The path as Nix writes it: ``home.file.".aws/credentials".text``.)"""
    dotted = ".".join(p if p.startswith("[") else emit.attr(p) for p in path)
    if in_container(path):
        return container_reason(path[1])
    if password_table(path):
        return f"{dotted} is postfix's password table, a file of its own: migrate moves no table"
    if len(path) >= 3 and path[0] == "environment" and path[1] in _EXPORTED:
        return (
            f"{dotted} is exported to every user's shell and session: a value there cannot "
            "be secret. Give it to the one service that needs it (systemd.services.<s>"
            ".serviceConfig.EnvironmentFile = a sops template) or to one user (a sops secret "
            "owned by that user, read from their shell profile)"
        )
    return f"no file-based option or template route is known for {dotted}"


WRITE = "and write: "  # the step that gives the Nix to write (plan.advice reads it back)
# the steps that tell a catalogue route in words (plan.advice reads them back too)
ROUTE_STEPS = ("and drop the literal", "and replace the literal")


def route_step(step: str) -> bool:
    """Whether ``step`` tells a catalogue entry's route (not the step for an option no
    entry knows, which starts the same)."""
    return step.startswith(ROUTE_STEPS) and (" for the route " in step or " by the route " in step)


def _environment_file(entry: Entry) -> bool:
    """Whether the entry's option takes an environment file (VAR=value lines)."""
    from secretkit.nix.catalogue.envfile import EnvTemplate  # (loaded when one is refused)

    return isinstance(entry, EnvTemplate)


# how an environment file's line carries a value with spaces or a shell's characters:
# systemd's EnvironmentFile (and a shell sourcing the file) read what is between single
# quotes as it is; docker's and podman's --env-file keep the quotes in the value
_QUOTING = {
    "": (
        "; a value with spaces, quotes or a shell's characters goes between single "
        "quotes, <VARIABLE>='${…}' (systemd's EnvironmentFile reads it as it is), unless it "
        "holds a single quote itself: then change the value"
    ),
    "oci-containers-environment": (
        "; docker and podman read the line as it is, quotes included: the value must be "
        "one that needs none"
    ),
}


def already_set(path: Sequence[str], existing: str | None) -> str:
    """Why an option the route sets cannot be set: the module gives it a value already
    (``null``, the option's default, is one line to delete)."""
    option = ".".join(path)
    if (existing or "").strip() == "null":
        return f"{option} = null is set in the module: delete that line, then run migrate again"
    return f"{option} is already set; merge by hand"


def second_definition_route(option: str, where: str, line: int, name: str) -> str:
    """What to write when the option a route sets is set in another module already
    (``where``: its "file:line"): one definition, which reads the secret's file."""
    return (
        f"one definition of {option}: if {where} already gives it its value (the literal "
        f"on line {line} is overridden or unused), delete the literal; else make {where} "
        f'use config.sops.secrets."{name}".path'
    )


class Elsewhere(NamedTuple):
    """A module of the same hosts (and of no other) that is a function of config, or can
    become one: where the steps go when the finding's own module cannot read config."""

    path: str
    tree: cst.Tree
    sops_file: str | None  # the sopsFile expression relative to it (None: the default)


def manual_route(
    *,
    module: str,
    line: int,
    hosts: Sequence[str],
    name: str,
    sops_file: str | None,
    entry: Entry | None,
    files: Sequence[str] | None = None,
    fingerprint: str | None,
    snippet: str | None = None,
    owner: str | None = None,
    tree: cst.Tree | None = None,
    read_as: str | None = None,
    exported: str | None = None,
    inline: cst.Node | None = None,
    in_module: bool = False,
    elsewhere: Elsewhere | None = None,
    home_user: str | None = None,
) -> list[str]:
    """The steps that move the secret by hand (each line one step, no value in them).
    ``owner``: the entry's reader as the pinned release runs it (None: root).
    ``tree``: the module, parsed: when it is no function of ``config`` (which the
    declaration and the reference need), a step says so first.  ``read_as``: how the
    option's value is read (:func:`read_as_of`): a shell command reads the file where
    the value stood; a container's arguments are passed on as written; …  ``home_user``: the value
    is in that user's inline home-manager module (``inline``): declared in the NixOS
    module around it, read there through ``osConfig`` (:func:`home_manager_steps`)."""
    targets = list(files) if files is not None else [host_secrets_path(host) for host in hosts]
    if home_user is not None and tree is not None and inline is not None:
        from secretkit.plan.home_manager import home_manager_steps

        return home_manager_steps(
            module, line, name, targets, sops_file, home_user, tree, inline, fingerprint, entry
        )
    steps = set_steps(targets, name, entry)
    body = [] if sops_file is None else [f"sopsFile = {sops_file};"]
    if entry is not None:
        reader = entry.reader
        if owner is not None:
            body.append(f"owner = {owner};")
        if reader.group is not None:
            body.append(f"group = {reader.group};")
        if reader.kind == "activation":
            body.append("neededForUsers = true;")
        if getattr(entry, "key", "") == "environment-etc":  # (the file stays at its path)
            body.append(f'path = "/{name}";')
    named = inline_name(module, tree, inline) if inline is not None and tree is not None else module
    where = f"on line {line}"
    blocked = config_blocked(tree, inline, in_module)
    if blocked is None:
        steps += config_arg_steps(named, tree, inline, in_module)
    elif elsewhere is not None:
        # the steps go into another module of the same hosts, with its own sopsFile
        body = [b for b in body if not b.startswith("sopsFile")]
        if elsewhere.sops_file is not None:
            body.insert(0, f"sopsFile = {elsewhere.sops_file};")
        steps.append(
            f"{named} cannot read the NixOS config: {blocked}; move the definition on line "
            f"{line} of {module} into {elsewhere.path} (a module of {', '.join(hosts)} only) "
            "and do the steps below there"
        )
        named = elsewhere.path
        steps += config_arg_steps(named, elsewhere.tree)
        where = f"moved from line {line} of {module}"
    else:
        if sops_file is not None:
            files_named = ", ".join(dict.fromkeys(targets))
            body[0] = f"sopsFile = <the path of {files_named} relative to that module>;"
        steps.append(
            f"{named} cannot read the NixOS config: {blocked}; move the definition on line "
            f"{line} of {module} into a module of {', '.join(hosts)} (and of no other host) "
            "that is a function of config, and do the steps below there"
        )
        named = "that module"
        where = f"moved from line {line} of {module}"
    decl = f'sops.secrets."{name}" = {{ {" ".join(body)} }};'
    steps.append(f"in {named} add: {decl}")
    literal = f"the literal {where}"
    if snippet is not None:
        steps.append(f"{WRITE}{snippet}")
    elif entry is not None and _environment_file(entry):
        # the option takes an environment file: VAR=value lines, not the bare value
        route = entry.description.partition("→")[2].strip() or entry.description
        steps.append(
            f"and drop {literal} for the route {route}: a sops.templates "
            "entry whose content is the line <VARIABLE>="
            f'${{config.sops.placeholder."{name}"}} (the variable the literal set), its .path '
            "added to that option next to the files it already lists"
            + _QUOTING.get(getattr(entry, "key", ""), _QUOTING[""])
        )
    elif entry is not None:
        route = entry.description.partition("→")[2].strip() or entry.description
        route = route.replace(" at /etc/x", f" at /{name}") if name.startswith("etc/") else route
        # a template's line holds the placeholder where the value stood, not the path
        using = (
            f'with ${{config.sops.placeholder."{name}"}} where the value stood in the template'
            if "template" in route
            else f'using config.sops.secrets."{name}".path'
        )
        if "JSON template" in route:  # (the stored text goes between the quotes as it is)
            using += (
                r'; store the value JSON-escaped (every " as \", every \ as \\, a control '
                r"character as \u00XX): sops-nix writes it into the JSON string as it is"
            )
        steps.append(f"and replace {literal} by the route {route}, {using}")
    elif exported is not None:  # (its value would be the path, or a placeholder's text)
        steps.append(
            f'{WRITE}sops.templates."<service>.env".content = "{exported}='
            f'${{config.sops.placeholder."{name}"}}"; and '
            "systemd.services.<service>.serviceConfig.EnvironmentFile = [ config.sops."
            f'templates."<service>.env".path ]; for the service that reads {exported}, and delete '
            f"{literal} (every user's shell reads it)"
        )
    elif read_as == "postfix-table":
        steps.append(f"and drop {literal}: give postfix {table_route(name)}")
    elif read_as == "container":
        steps.append(f"and drop {literal} from cmd: {CONTAINER_CMD.format(name=name)}")
    elif read_as == "shell":
        steps.append(
            f'{WRITE}$(cat ${{config.sops.secrets."{name}".path}}) where the value stands in '
            f"the command {where} (the command reads the file each time it runs; the "
            "file is root's, mode 0400, unless the declaration says owner = \"<the user the "
            f'command runs as>"){_dynamic_user(name, tree)}'
        )
    else:
        steps.append(
            f"and drop {literal}: give the service the file "
            f'config.sops.secrets."{name}".path through an option that reads a file (its '
            "*File option if it has one, else an EnvironmentFile or a sops.templates file the "
            "program reads), never as the option's value (it would hold the path, not the "
            "secret); the file is root's (mode 0400) unless the declaration says owner = "
            f'"<the user the program runs as>";{_dynamic_user(name, tree)}'
        )
    if read_as is not None and read_as.startswith("nspawn:"):
        box, mount = read_as.partition(":")[2], f"/run/secrets/{name}"
        steps.append(
            f'and mount it in the container: containers.{box}.bindMounts."{mount}" = {{ '
            f'hostPath = config.sops.secrets."{name}".path; isReadOnly = true; }}; (a '
            f'configuration written as a function of its own config names it "{mount}"; the '
            "file keeps the host's owner and mode: unless the program runs as root there, "
            "give the declaration uid = <its user's uid in the container>; and no owner)"
        )
    if fingerprint:
        steps.append(
            f"or, if the value is not a secret: add the line `{fingerprint}  # {module}:{line}` "
            "to .secretkit-allow"
        )
    return steps


_DYNAMIC_USER = lazy(rb"\bDynamicUser\s*=\s*true\b")


def _dynamic_user(name: str, tree: cst.Tree | None) -> str:
    """What to do instead of ``owner`` in a module with a ``DynamicUser = true`` unit:
    its user exists only while it runs, so no declaration can name it (sops-nix's
    ``owner`` wants a user of ``users.users``); systemd itself hands the unit the file
    (``LoadCredential``, since systemd 247: NixOS 21.05)."""
    if tree is None or not _DYNAMIC_USER.search(tree.source):
        return ""
    return (
        " (a unit with DynamicUser = true has no such user to name: keep the file root's, "
        "add serviceConfig.LoadCredential = [ "
        f'"secret:${{config.sops.secrets."{name}".path}}" ] to that unit and read '
        "$CREDENTIALS_DIRECTORY/secret instead; systemd copies the file for the unit)"
    )


def read_as_of(attrpath: str) -> str | None:
    """How the value of the option at ``attrpath`` is read:

    * ``shell``: a shell command (``backupCleanupCommand``, msmtp's ``passwordeval``):
      the command can read the value from its file;
    * ``container``: an OCI container's ``cmd`` (NixOS/nixpkgs
      nixos/modules/virtualisation/oci-containers.nix, ``++ map escapeShellArg
      container.cmd``): no shell reads it, and the container sees only its volumes;
    * ``nspawn:<c>``: an option of NixOS container ``<c>`` (the file must be mounted in);
    * ``postfix-table``: postfix's SASL password table (a ``type:name`` table file);
    * None: none of these."""
    from secretkit.scan.filters import command_name

    parts = [p for p in attrpath.split(".") if p and not p.startswith("[")]
    if parts[:3] == ["virtualisation", "oci-containers", "containers"] and parts[4:5] == ["cmd"]:
        return "container"
    if in_container(parts):  # (a NixOS container's option: the file must be mounted in)
        return f"nspawn:{parts[1]}"
    if password_table(parts):  # (postfix's: a table file of type:name)
        return "postfix-table"
    return "shell" if parts and command_name(parts[-1]) else None


def other_file_note(
    path: str,
    sources: Mapping[str, bytes],
    count: int = 1,
    archive: str | None = None,
    sops_file: Callable[[str], str] = lambda _module: "secrets/<host>.yaml",
) -> str:
    """What migrate says of the ``count`` findings in a file that is not Nix: moved by
    hand, the two ways check's fix gives; where Nix code names the file by a path, that
    encrypting it in place would hand that code the ciphertext (:func:`nix_reader_route`).
    ``archive``: ``path`` is a member of it (``x.tar.gz!app/.env``), which is what can
    change.  ``sops_file(module)``: the sops file for the hosts of the module naming it."""
    if archive is not None:
        import shlex

        return (
            f"{path}: inside {archive}; move its {count} secret(s) by hand: rebuild the "
            "archive without them, or take it out of the repository (git rm --cached -- "
            f"{shlex.quote(archive)}, then delete it or add it to .gitignore), and keep "
            "each value in a sops file (`secretkit set` reads it from stdin)"
        )
    route = nix_reader_route(path, sources, sops_file)
    as_is = read_as_is(path) if route is None else None
    if as_is is not None:
        return f"{path}: not a Nix file; move its {count} secret(s) by hand: {as_is}"
    if route is None:
        import shlex

        return (
            f"{path}: not a Nix file; move its {count} secret(s) by hand: encrypt the file "
            f"where it is, if what reads it decrypts sops files (a .sops.yaml creation rule "
            f"for its path, then `secretkit encrypt -i {shlex.quote(path)}`; sops-nix, with "
            'sopsFile naming it and key = "", installs it decrypted on a host), or store '
            "each value with `secretkit set` and give the program the file sops-nix makes "
            "(`secretkit check` lists each one)"
        )
    return f"{path}: not a Nix file, and {route[1]}"


_HOST_KEY = lazy(r"(?:^|/)ssh_host_[a-z0-9]+_key$")


def nix_reader_route(
    path: str,
    sources: Mapping[str, bytes],
    sops_file: Callable[[str], str] = lambda _module: "secrets/<host>.yaml",
) -> tuple[str, str] | None:
    """How to move the secrets of ``path`` when Nix code names it by a path, as
    ``("eval" | "run", the route)``, else None.  ``sops_file(module)``: the sops file
    the value goes in for the hosts of the module that names it.
    Read at evaluation (``lib.importJSON ./x.json``, ``builtins.readFile``) its values
    must leave it for sops placeholders (Nix cannot read a sops file then); handed to
    a service (``passwordFile = ./pw``) its path is replaced by the sops secret's."""
    import shlex

    at_eval: list[str] = []
    at_run: list[str] = []
    run_modules: list[str] = []
    for module, line, evaluated in naming_modules(path, sources):
        if evaluated:
            at_eval.append(f"{module}:{line}")
        else:
            at_run.append(f"{module}:{line}")
            run_modules.append(module)
    if at_eval:
        return "eval", (
            f"{', '.join(at_eval[:3])} reads it when Nix evaluates: move each secret value "
            "out of it into a sops secret, and have that code put "
            'config.sops.placeholder."<name>" in a sops template instead (Nix cannot read a '
            "sops file; encrypting this one in place hands it the ciphertext)"
        )
    if at_run and _HOST_KEY.search(path):
        # sops-nix decrypts with the host's ssh key (sops.age.sshKeyPaths): that key
        # cannot come from a sops file; the host gets a new one made outside the repository
        quoted = shlex.quote(path)
        host = sops_file(run_modules[0]).rsplit("/", 1)[-1].removesuffix(".yaml")
        return "run", (
            f"it is an ssh host key, which sops-nix decrypts the host's secrets with, so it "
            "cannot come from a sops file: give the host a new key made outside the "
            "repository (ssh-keygen -t ed25519 -N '' -f DIR/ssh_host_ed25519_key, installed "
            f"on the host as /etc/ssh/ssh_host_ed25519_key), delete what "
            f"{', '.join(at_run[:3])} does with this file, git rm {quoted}, then `secretkit "
            f"rotate host {host} --ssh-pubkey-file DIR/ssh_host_ed25519_key.pub`"
        )
    if at_run:
        quoted = shlex.quote(path)
        return "run", (
            f"{', '.join(at_run[:3])} hands its path to the configuration: store its content "
            f"with `secretkit set {sops_file(run_modules[0])} '[\"<name>\"]' < {quoted}`, declare "
            'sops.secrets."<name>" (its owner: the user of the program that opens the file; '
            "root, the default, where systemd does: EnvironmentFile, environmentFiles), put "
            f"its .path in place of that path and git rm {quoted}"
        )
    return None


def naming_modules(path: str, sources: Mapping[str, bytes]) -> list[tuple[str, int, bool]]:
    """``(module, line, read while Nix evaluates)`` of each place a Nix file names
    ``path`` by a relative path (``./x.json``, ``../secrets/pw``)."""
    import os

    found = []
    name = re.escape(os.path.basename(path))
    for module, data in sorted(sources.items()):
        text = data.decode("utf-8", "replace")
        for m in re.finditer(r"(?<![\w/.-])(\.{1,2}/[\w./+-]*?" + name + r")(?![\w.-])", text):
            joined = os.path.normpath(os.path.join(os.path.dirname(module), m[1]))
            if joined != os.path.normpath(path):
                continue
            line_head = text[text.rfind("\n", 0, m.start()) + 1 : m.start()]
            line = text.count("\n", 0, m.start()) + 1
            found.append((module, line, _EVAL_READ.search(line_head) is not None))
    return found


# What reads a file's content while Nix evaluates (not at run time).
_EVAL_READ = lazy(r"\b(?:readFile|importJSON|importTOML|fromJSON|fromTOML|import)\b")
