"""The way out for a plaintext secret found in a file: what ``hook`` and ``check``
print after each finding (never the value)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from secretkit.layouts.clan import ClanStore
    from secretkit.scan.model import Finding

ALLOW_COMMENT = "# secretkit: allow"
NAME_PREFIX = "(file name) "  # secretkit.scan.names.NAME_PREFIX (not imported: start-up)
ALLOW_FILE = ".secretkit-allow"  # secretkit.scan.allowlist.ALLOW_FILE (not imported: start-up)
# The rule of a file that is one secret (secretkit.scan.text_files): the whole file moves.
WHOLE_FILE_RULE = "secret-file-text"


# migrate's refusal when the secret is only part of a string the route replaces whole
_PART_OF_THE_STRING = "the secret is only part of the string"


def finding_fix(
    path: str,
    fingerprint: str | Callable[[], str] | None = None,
    refusal: str | None = None,
    builder: str | None = None,
    *,
    rule: str = "",
    mark: bool = True,
    manual: str | None = None,
    archive: str | None = None,
    git: bool = True,
    declare_in: str | None = None,
    hashed: bool = False,
    own_file: str | None = None,
    clan: ClanStore | None = None,
    sops_file: str = "secrets/<host>.yaml",
    steps: tuple[str, ...] = (),
    attrpath: str | None = None,
    binary: bool = False,
) -> str:
    """The exact way out for a plaintext secret in ``path``.  ``refusal``: why
    ``migrate`` would not move it (:func:`secretkit.plan.advice.migrate_refusal`);
    then the manual route is named instead of ``migrate``.  ``builder``: the value is
    the text of that builder's call (``pkgs.writeText``): the path goes in its place.
    ``rule``: the finding's.  ``mark``: whether :data:`ALLOW_COMMENT` at the end of
    its line would silence it harmlessly (:func:`mark_works`); then that comment is the
    way to silence it, else the allowlist line with ``fingerprint`` (a scrypt: given as
    a callable, it is computed only when that line is shown).  ``manual``: the Nix the
    planner's route writes by hand (it replaces the generic pointer to a file option);
    for a file that is not Nix, how to move it when Nix code reads it by its path.
    ``archive``: the value is in a member of this compressed file or archive (``path``
    is ``archive!member``): the archive is what the user can change.  ``binary``: the
    value is in a binary file's bytes (no line to edit or mark: the file is what the
    user can change).  ``git``: whether
    ``path`` is in a git work tree (``check --source-only`` of a plain directory is not:
    no ``git add``/``git rm`` there, they would fail).  ``declare_in``: the module the
    declaration and the reference go in (``path`` is imported for its value: no module).
    ``hashed``: the option reads the value's crypt hash (``hashedPasswordFile``), which
    sops-nix must decrypt before users are made.  ``own_file``: the value belongs to a
    home-manager or nix-darwin configuration, whose own key opens this sops file.
    ``clan``: the repository is a clan's, and this is where the value goes (migrate
    refuses to write a second layout there).  ``sops_file``: the file a value of a Nix
    file goes in (the one host's own, when one host uses the file).  ``steps``: the
    whole way out, when no sops secret can hold the value (an ssh host's own key).
    ``attrpath``: the finding's option, when the by-hand route depends on its shape (a
    file's text, a script: :func:`by_hand_point`)."""
    url = _source_url_move(path, attrpath)
    if path.startswith(NAME_PREFIX):  # (scan.names: a token as a file's name)
        named_as = path[len(NAME_PREFIX) :]
        move = (
            f"a file's name holds it ({named_as}): rename the file without it (git mv; `git "
            "ls-files` lists it) and change the token at its provider; history keeps the "
            "old name until `secretkit purge --yes` renames it in every commit"
        )
        mark = False
    elif url is not None:
        move = url  # (no sops value can stand in a URL that nix or git fetches from)
    elif archive is not None or binary:
        import shlex

        held = archive if archive is not None else path
        where = (
            f"inside {held} (a compressed file or archive)"
            if archive is not None
            else f"in {held}, a binary file (a database, an image …)"
        )
        move = (
            f"it is {where}: rebuild it without "
            f"the value, or take it out of the repository (git rm --cached -- "
            f"{shlex.quote(held)}, then delete it or add it to .gitignore: a copy left "
            "untracked is still found), and keep the value in a sops file instead "
            f"(`secretkit set {sops_file} '[\"<name>\"]'` reads it from stdin)"
        )
        mark = False  # (no line of the archive's own bytes to mark)
    elif (
        path.endswith(".nix")
        and clan is not None
        and _plain_route(refusal, builder, manual, declare_in, hashed)
    ):
        move = clan.route  # (migrate moves nothing in a clan's repository)
    elif steps:
        move = f"`secretkit migrate` cannot move this one ({refusal}): " + "; ".join(steps)
    elif path.endswith(".nix") and refusal is None:
        move = "run `secretkit migrate` to move it into a sops file and reference it from Nix"
    elif path.endswith(".nix") and refusal == _in_comment():
        move = (
            "it is written in a comment, which is published with the file: delete it from "
            "the comment (and change it where it is used if it was ever a real one)"
        )
    elif path.endswith(".nix"):
        point = (
            "and give its .path to the option's file-reading twin in its place (a *File "
            "option: this one takes the value itself; an option of your own module needs a "
            "path option it hands to the program's) or, for a program reading a "
            'config file, put ${config.sops.placeholder."<name>"} in a sops.templates."<t>".'
            'content and point the option at config.sops.templates."<t>".path (the '
            "placeholder is replaced only inside a template)"
            if builder is None
            else f"and put its .path in place of the `{builder} …` call (store the whole text "
            "the call wrote, line breaks included)"
        )
        shaped = by_hand_point(attrpath) if builder is None else None
        point = shaped or point
        if hashed and builder is None and manual is None:  # (no *File twin of the option)
            point = (
                'and set users.users.<user>.hashedPasswordFile = config.sops.secrets."<name>"'
                ".path; in place of the option"
            )
        if manual is not None and builder is None:
            # (a route told in words, plan.refusals.ROUTE_STEPS, or the Nix to write)
            from secretkit.plan.refusals import route_step

            told = route_step(f"and {manual}")
            if told and (declare_in is not None or refusal == _outer_config()):
                manual = None  # (the option's definition moves first: said below)
            else:
                point = f"and {manual}" if told else f"and write: {manual}"
        if declare_in is not None and manual is not None:
            point = (
                f"in {declare_in}, not in {path} (with config among its arguments: "
                f"{{ config, ... }}:), and {manual}"
            )
        elif refusal == _outer_config() or (declare_in is not None and builder is None):
            # the module's `config` is not the NixOS one: the option moves out of it
            where = (
                f"in {declare_in}"
                if declare_in is not None
                else "in a module of the same hosts that is a function of the NixOS config"
            )
            point = (
                f"{where}, not in {path} (move the option's definition there, with config "
                "among its arguments), and give its .path to the option's file-reading twin "
                "in its place (a *File option: this one takes the value itself) or, "
                'for a program reading a config file, at config.sops.templates."<t>".path with '
                '${config.sops.placeholder."<name>"} in its content (the placeholder is '
                "replaced only inside a template)"
            )
        store, declare = (
            (
                f"its crypt hash with `mkpasswd -m sha-512 | secretkit set {sops_file} "
                "'[\"<name>\"]'` (the option reads a hash, never the password)",
                'sops.secrets."<name>" with neededForUsers = true;',
            )
            if hashed
            else (
                f"the value with `secretkit set {sops_file} '[\"<name>\"]'` (reads it from stdin)",
                'sops.secrets."<name>"',
            )
        )
        user = home_manager_user(attrpath)
        if user is not None and clan is None and own_file is None and not hashed:
            # a home-manager module inside the NixOS one: its `config` is home-manager's,
            # and sops-nix's NixOS module is what decrypts the host's file; home-manager
            # hands every such module the NixOS one as osConfig (nix-community/home-manager
            # 05505bb0, nixos/common.nix: `specialArgs = { … osConfig = config; … }`)
            declare = (
                f'sops.secrets."<name>" = {{ owner = "{user}"; }}; in this NixOS module, '
                f"outside home-manager.users.{user} (sops-nix's NixOS module decrypts it),"
            )
            for used in ('config.sops.secrets."<name>".path', 'config.sops.templates."<t>".path'):
                point = point.replace(used, "os" + used[0].upper() + used[1:])
            point += (
                " (in the home-manager module, the NixOS configuration is osConfig: add it to "
                "its arguments, { osConfig, ... }:; a sops.templates declaration goes beside "
                "the secret's, with the same owner)"
            )
        # (a host without sops.defaultSopsFile: the declaration names the file, or
        # activation finds none; a stranger's followed fix said defaultSopsFile next)
        held = "each host's file" if sops_file.startswith("<") else sops_file  # (listed above)
        declare += f" (with sopsFile = <{held} relative to the module> unless "
        declare += "sops.defaultSopsFile is that file)"
        if clan is not None:  # (clan declares sops.secrets.<name> for the machines)
            feed = "mkpasswd -m sha-512 | " if hashed else ""
            store = f"it with clan (`{feed}{clan.command}` reads it from stdin)"
            declare = (
                f'sops.secrets."{clan.name}".neededForUsers = true; (clan declares it),'
                if hashed
                else f'nothing: clan declares sops.secrets."{clan.name}";'
            )
            point = point.replace('"<name>"', f'"{clan.name}"')
        elif own_file is not None:  # (another key opens it: its own file)
            store = (
                "the value in the file that rule names (`secretkit set "
                f"{own_file} "
                "'[\"<name>\"]'` reads it from stdin)"
            )
            declare = 'sops.secrets."<name>" in that configuration (sopsFile = that file)'

        if refusal is not None and refusal.startswith(_PART_OF_THE_STRING):
            # (the route takes the whole string: a URL with its password, a command line)
            store = store.replace(
                "the value with", "the whole string (the secret is part of it) with"
            )
            point = point.replace("the literal", "the whole string")
        move = (
            f"`secretkit migrate` cannot move this one ({refusal}): store {store}, declare "
            f"{declare} {point}"
        )
    elif manual is not None:  # a file Nix reads by its path (plan.refusals.nix_reader_route)
        move = f"Nix code names this file: {manual}"
    elif rule == WHOLE_FILE_RULE:
        import shlex

        quoted = shlex.quote(path)
        move = (
            "the whole file is the secret: store it with `secretkit set "
            f'{sops_file} \'["<name>"]\' < {quoted}`, declare sops.secrets."<name>", '
            "point the option that names this file at its .path (a path in the Nix store "
            + (
                f"is world-readable), then `git rm -f {quoted}` (the staged copy too)"
                if git
                else f"is world-readable), then `rm -f {quoted}`"
            )
        )
    else:
        import shlex

        from secretkit.plan.plain_files import read_as_is
        from secretkit.sops.formats import format_for_path

        move = (
            f"move the value into a sops file (`secretkit set {sops_file} "
            "'[\"<name>\"]'` reads it from stdin) and reference that instead"
        )
        as_is = read_as_is(path)
        if as_is is not None:  # (a compose file, an .env: read as it is)
            move = as_is
        elif format_for_path(path) != "binary":  # (a config file sops reads as such)
            move += (
                ", or encrypt the file whole where it is, if what reads it decrypts sops "
                "files: add a .sops.yaml creation rule for its path, then `secretkit encrypt "
                f"-i {shlex.quote(path)}` (sops, or sops-nix with sopsFile naming it and "
                'key = "", decrypts it)'
            )
    if mark:  # one way to silence it: the comment (no fingerprint needed, see above)
        return f"{move}; if it is not a secret, append `{ALLOW_COMMENT}` to the line"
    shown = fingerprint() if callable(fingerprint) else fingerprint
    if callable(fingerprint) and not shown:  # a repository without a commit yet
        import shlex

        return (
            f"{move}; if it is not a secret: the allowlist's fingerprints are keyed by the "
            "repository's first commit, which does not exist yet, so commit without this "
            f"file first (git rm --cached -- {shlex.quote(archive or path)}), then add it again: "
            "the hook prints a fingerprint that lasts"
        )
    staged = f" && git add {ALLOW_FILE}" if git else ""  # (the hook reads the staged one)
    allow = (
        f"echo {shown} >> {ALLOW_FILE}{staged}"
        if shown
        else f"add it to {ALLOW_FILE}" + (f" (and git add {ALLOW_FILE})" if git else "")
    )
    return f"{move}; if it is not a secret, allowlist it: {allow}"


# a file's text NixOS writes to the store, and the scripts it runs (from the store)
_ETC_TEXT = re.compile(r"^environment\.etc\.(\"[^\"]*\"|[^.]+)\.text$")
_DEPLOYMENT_KEY = re.compile(r"^deployment\.keys\.(\"[^\"]*\"|[^.]+)\.text$")
_SCRIPT = re.compile(
    r"^(?:systemd\.(?:user\.)?services\.(?:\"[^\"]*\"|[^.]+)\."
    r"(?:script|preStart|postStart|reload|preStop|postStop)"
    r"|system\.activationScripts\.(?:\"[^\"]*\"|[^.]+)(?:\.text)?)$"
)


_HOME_MANAGER = re.compile(r"^home-manager\.users\.(\"[^\"]*\"|[^.]+)\.(.+)$")
# environment variables a login shell exports: no file option exists for them
_VARIABLE = re.compile(
    r"^(?:home\.sessionVariables|programs\.(?:bash|zsh|fish)\.sessionVariables"
    r"|environment\.(?:sessionVariables|variables))\."
    r"(\"[^\"]*\"|[^.]+)$"
)


def home_manager_user(attrpath: str | None) -> str | None:
    """The user whose home-manager module (inline, ``home-manager.users.<u>``) the
    option at ``attrpath`` is set in, else None."""
    found = _HOME_MANAGER.match(attrpath or "")
    return found[1].strip('"') if found else None


# Caddyfile text: caddy.nix at 0145c6da (NixOS/nixpkgs, nixos/modules/services/
# web-servers/caddy/default.nix): `EnvironmentFile = optional (cfg.environmentFile !=
# null) cfg.environmentFile;`, and its example reads `{$EAB_KEY_ID}` from that file
_CADDY = re.compile(
    r"^services\.caddy\.(?:globalConfig|extraConfig|"
    r"virtualHosts\.(?:\"[^\"]*\"|[^.]+)\.extraConfig)$"
)
_FLAKE_INPUT_URL = re.compile(r"^inputs\.(?:\"[^\"]*\"|[^.]+)\.url$")


def _source_url_move(path: str, attrpath: str | None) -> str | None:
    """The way out for credentials in a URL nix or git fetches from (a flake input,
    ``flake.lock``, ``.gitmodules``): nothing there can read a sops value, so the
    credentials leave the URL and reach nix or git another way.  None elsewhere."""
    name = path.rsplit("/", 1)[-1]
    lock = "; then run `nix flake lock` so that flake.lock holds the URL without them"
    way = (
        "give nix the token another way (access-tokens in nix.conf, e.g. "
        "nix.settings.access-tokens from a sops template included with !include, or "
        "netrc-file) and git a credential helper"
    )
    if name == "flake.lock":
        return (
            "flake.lock copies the URL of a flake input: remove the credentials from that "
            f"input's url in flake.nix, {way}{lock}; change the token at its provider"
        )
    if path.endswith(".nix") and attrpath is not None and _FLAKE_INPUT_URL.match(attrpath):
        return (
            "a flake input's URL cannot read a sops value: remove the credentials from "
            f"it, {way}{lock}; change the token at its provider"
        )
    if name == ".gitmodules":
        return (
            "a submodule's URL is read by git, not by anything sops feeds: remove the "
            "credentials from it (git config --file .gitmodules submodule.<name>.url "
            "<url without them>, then git submodule sync) and give git a credential "
            "helper; change the token at its provider"
        )
    return None


def by_hand_point(attrpath: str | None) -> str | None:
    """How the option at ``attrpath`` takes the value from sops by hand, where "point
    the option at a file" would write the path as the file's text or run it as the
    script: an ``/etc`` file's ``.text`` becomes ``.source`` of a template; a script
    reads the secret's file where the value was.  None: the generic way."""
    if attrpath is None:
        return None
    from secretkit.plan.postfix_route import password_table, table_route

    if password_table(attrpath.split(".")):
        return f"and give postfix {table_route('<name>')}"
    inner = _HOME_MANAGER.match(attrpath)
    option = inner[2] if inner else attrpath
    variable = _VARIABLE.match(option)
    if variable is not None:
        name = variable[1].strip('"')
        init = (  # (home.* and programs.* are home-manager's: a home file of its own too)
            "programs.bash.initExtra or programs.zsh.initContent (initExtra before "
            "home-manager 25.05), with programs.bash.enable = true; (or zsh's): "
            "home-manager writes them only for a shell it manages"
            if inner or option.startswith(("home.", "programs."))
            else "environment.interactiveShellInit"
        )
        return (
            "and, as a variable has no file option, delete it and export it from the file in "
            f"the shell's start-up instead: export {name}=\"$(< "
            f'${{config.sops.secrets."<name>".path}})" in {init} (the secret\'s owner is '
            "the user whose shell reads it)"
        )
    if _CADDY.match(attrpath):  # (Caddyfile text: {$VAR} is read from caddy's environment)
        return (
            "and put {$CADDY_SECRET} in its place in the Caddyfile text (Caddy reads it from "
            "its environment), with services.caddy.environmentFile = "
            'config.sops.templates."<t>".path, a template whose content is the line '
            'CADDY_SECRET=${config.sops.placeholder."<name>"} (systemd reads it, as root)'
        )
    etc = _ETC_TEXT.match(attrpath)
    if etc is not None:
        # (migrate's own route: sops-nix writes the file at that path itself; an
        # environment.etc copy with a mode would be made by activation before the
        # template is rendered)
        return (
            f'and delete the environment.etc entry: declare sops.templates."<t>" with '
            f'path = "/etc/{etc[1].strip(chr(34))}", the same text as its content and '
            '${config.sops.placeholder."<name>"} in place of the value, and the owner and '
            "mode the program that reads the file needs (sops-nix writes the file there)"
        )
    keys = _DEPLOYMENT_KEY.match(attrpath)
    if keys is not None:
        return (
            f"and delete deployment.keys.{keys[1]} (colmena sends its text from the deploying "
            "machine, and keyFile/keyCommand run there, where no /run/secrets exists): the "
            "host's sops-nix decrypts it on the host, owned by the key's user (owner = the "
            "user it names, default root); point what read /run/keys/"
            f'{keys[1].strip(chr(34))} at config.sops.secrets."<name>".path'
        )
    if _SCRIPT.match(attrpath):
        return (
            "and read it in the script where the value was: $(< "
            '${config.sops.secrets."<name>".path}), inside double quotes or none (a shell '
            "expands nothing inside single quotes; only the path may be in the script, which is "
            "in the Nix store; the secret's owner is the user the script runs as)"
        )
    return None


def fix_for(
    finding: Finding,
    refusal: str | None,
    builder: str | None,
    manual: str | None,
    *,
    mark: bool,
    git: bool = True,
    declare_in: str | None = None,
    hashed: bool = False,
    own_file: str | None = None,
    clan: ClanStore | None = None,
    sops_file: str = "secrets/<host>.yaml",
    steps: tuple[str, ...] = (),
) -> str:
    """:func:`finding_fix` of one finding (its fingerprint computed only if shown)."""

    def fingerprint() -> str:
        keyring = finding.keyring
        if keyring is not None and getattr(keyring, "before_first_commit", False):
            return ""  # (made with a stand-in key the first commit replaces)
        return finding.fingerprint

    return finding_fix(
        finding.path,
        fingerprint,
        refusal,
        builder,
        rule=finding.rule,
        mark=mark and not finding.inside,  # (the lines marked are not the file's own)
        manual=manual,
        archive=finding.file if finding.inside == "archive" else None,
        binary=finding.inside == "binary",
        git=git,
        declare_in=declare_in,
        hashed=hashed,
        own_file=own_file,
        clan=clan,
        sops_file=sops_file,
        steps=steps,
        attrpath=finding.attrpath,
    )


def _plain_route(
    refusal: str | None,
    builder: str | None,
    manual: str | None,
    declare_in: str | None,
    hashed: bool,
) -> bool:
    """Whether the value needs nothing but a declaration and a reference where it is:
    no comment, builder call, module elsewhere or hash in the way."""
    special = builder or manual or declare_in or hashed
    return not special and refusal not in (_in_comment(), _outer_config())


def _outer_config() -> str:
    from secretkit.nix.emit import OUTER_CONFIG  # (loaded only with a refusal)

    return OUTER_CONFIG


def _in_comment() -> str:
    from secretkit.plan.build import IN_COMMENT  # (loaded only with a refusal: the planner's)

    return IN_COMMENT


def mark_works(path: str, rule: str, line: int, source: bytes | None) -> bool:
    """Whether :data:`ALLOW_COMMENT` appended to ``line`` (1-based) of ``path``
    silences its finding and leaves what the file says unchanged: only where it is a
    comment — YAML, TOML, shell, and Nix outside a string (``source``: the file's
    bytes; inside a Nix string the scan sees no comment and still reports the value).
    Not for a file that is one secret (the mark would become part of the value), a
    private key (its armour line), JSON (no comments), env and INI files (systemd's
    ``EnvironmentFile=`` and many INI readers keep ``# …`` in the value) or other text."""
    from secretkit.scan.formats import file_format

    if rule in (WHOLE_FILE_RULE, "private-key"):
        return False
    kind = file_format(path)
    if source is None:
        return False
    if kind != "nix":
        from secretkit.scan.text_files import mark_is_comment

        # (not inside a quoted value, a YAML block, a TOML """ string or a here-document)
        return mark_is_comment(path, source, line)
    from secretkit.nix import cst

    end = -1
    for _ in range(line):
        end = source.find(b"\n", end + 1)
        if end == -1:
            end = len(source)
            break
    return not cst.in_string(cst.parse(source), end)
