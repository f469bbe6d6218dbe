"""Options given ``pkgs.writeText "…" <text holding a secret>`` → the sops secret's path
or a template of the same text; families (restic, ACME, cloudflared, postfix) set who
reads the file.  The catch-all ``write-text-file`` does not know the reader: its file is
``0444``, readable by every local user as the store file was (sops-nix's default, root
and ``0400``, stopped authelia, which reads its ``jwtSecretFile`` as
``authelia-<instance>``), and migrate says so, to set the owner by hand."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from secretkit.lazy_re import lazy
from secretkit.nix import emit
from secretkit.nix.catalogue.base import (
    Reader,
    Refusal,
    Rewrite,
    Site,
    Source,
    TemplateLine,
    match,
    slug,
    user_option_reader,
)
from secretkit.nix.edits import Edit

# the name a value has on its line of the text: `NAME=value`, `name: value`, `name = "value"`
# (the whole line before the value: `relay@host:pw` names nothing)
_LINE_NAME = lazy(r"[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*[=:][ \t]*[\"']?")


def _option_name(site: Site, last: str | None = None) -> str:
    """``<service>/<the option's path>/<its name without File>`` (``last`` in place of
    the option's own name): the secret's name, and the template's for the whole text."""
    head = site.path[1] if site.path[0] == "services" and len(site.path) > 2 else site.path[0]
    middle = [slug(p) for p in site.path[2:-1] if not p.startswith("[")]
    middle = [m for m in middle if m not in ("backups", "jobs", "settings", "config", "certs")]
    own = re.sub(r"(File|_file|Path|Files)$", "", site.path[-1]) or "secret"
    return "/".join([slug(head), *middle, slug(last or own)])


def _line_name(site: Site) -> str | None:
    """The name the secret is given on its line of the text (one place only), lower
    case with dashes: the secret's name says what it is (two values of one text were
    ``environment`` and ``environment-2``)."""
    at = site.occurrences()
    if not at or len(at) != 1:
        return None
    line = site.literal[site.literal.rfind("\n", 0, at[0]) + 1 : at[0]]
    found = _LINE_NAME.fullmatch(line)
    return found[1].lower().replace("_", "-") if found else None


@dataclass(frozen=True)
class WriteTextRoute:
    """An option given ``pkgs.writeText "…" <text>`` whose text holds a secret.

    The file keeps exactly its content, so the service reads what it read before:
    the text is the secret → the sops secret's ``.path``; the secret is part of the
    text (``KEY=value`` lines, JSON) → a sops template of the same text with the
    placeholder in place of the secret.  ``owner_sibling`` names the attribute next to
    the option that says which user reads the file (restic's ``user``).
    """

    key: str
    description: str
    reader: Reader
    patterns: tuple[str, ...]
    unit: str | None = None  # "{3}" is replaced by path[3]
    owner_sibling: str | None = None
    owner_sibling_default: str = "root"  # (the sibling option's default in the module)

    def matches(self, path: Sequence[str]) -> bool:
        if self.patterns == ("**",):  # the catch-all: any option that takes a file
            return bool(path) and path[-1].endswith(("File", "_file", "Path"))
        return any(match(p, path) for p in self.patterns)

    def targets(self) -> tuple[str, ...]:
        """The options whose file this entry's reader reads: its own (the catch-all's
        reader is not known; one named by a sibling attribute varies)."""
        if self.patterns == ("**",) or self.owner_sibling is not None:
            return ()
        return self.patterns

    def target_reader(self, path: Sequence[str]) -> Reader | None:
        """The reader of one instance's file, for an entry whose owner is a sibling
        option (restic's ``services.restic.backups.b2.user``, "root" by default): that
        option, as an expression the host's value is read from (None: not this entry's,
        or a name no plain attribute path can say)."""
        if self.owner_sibling is None or not self.matches(path):
            return None
        return user_option_reader(
            self.reader, [*path[:-1], self.owner_sibling], self.owner_sibling_default
        )

    def name(self, site: Site) -> str:
        named = _line_name(site)  # (RESTIC_PASSWORD=…: restic/b2/restic-password)
        return _option_name(site, named)

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.holder is None:
            return Refusal(
                f"{site.path[-1]} holds a file name, not the secret itself",
                manual=f'{".".join(site.path)} = config.sops.secrets."{name}".path;',
            )
        units: tuple[str, ...] = ()
        if self.unit is not None:
            units = (self.unit.format(*site.path),)
        owner = None
        if self.owner_sibling is not None:
            user = site.sibling_string(1, self.owner_sibling)
            owner = emit.nix_string(user) if user else None
        unknown = self.patterns == ("**",)  # the catch-all: who reads the file is not known
        known = _known_reader(site) if unknown else None
        if known is not None:  # (an entry moving secrets to this option says who reads it)
            unknown, owner = False, known if known != "root" else None
        if not units and self.patterns == ("**",):  # (and which unit reads it)
            from secretkit.nix.catalogue import file_units

            units = file_units(site.path)
        mode, note = (WORLD_READABLE, _unknown_reader_note(site)) if unknown else (None, None)
        holder = site.holder
        secret = site.secret.reveal()
        if site.literal == secret:
            return Rewrite(
                site.secret,
                [Edit(holder.start_byte, holder.end_byte, emit.secret_ref(name))],
                f"{site.path[-1]} = sops secret (was pkgs.writeText)",
                owner=owner,
                mode=mode,
                restart_units=units,
                note=note,
            )
        if any(c.type == "interpolation" for c in site.string.named_children):
            return Refusal("the file text has interpolations")
        pieces = site.pieces()
        if "\n" in secret or pieces is None:
            return Refusal("the secret cannot be located inside the file text")
        text = emit.placeholder(name).join(emit.indented_string_line(p) for p in pieces)
        template = _option_name(site).replace("/", "-")  # (the file's: its secrets' names vary)
        return Rewrite(
            site.secret,
            [Edit(holder.start_byte, holder.end_byte, emit.template_ref(template))],
            f"{site.path[-1]} = sops template (was pkgs.writeText)",
            template=TemplateLine(
                template=template,
                line="\n".join(text.rstrip("\n").split("\n")),
                option=(),
                owner=owner,
                mode=mode,
                restart_units=units,
                whole=emit.indented_string_line(secret),
            ),
            note=note,
        )


def _known_reader(site: Site) -> str | None:
    """For the catch-all: ``"root"`` when the catalogue records that systemd or a root
    process reads the file the option names (paperless's ``passwordFile``, through
    ``LoadCredential``), the owner's Nix expression when the daemon's user does, else
    None (not known: the file stays as readable as the store file was)."""
    from secretkit.nix.catalogue import file_reader

    reader = file_reader(site.path)
    if reader is None:
        return None
    if reader.kind in ("systemd", "root"):
        return "root"
    if reader.kind == "daemon" and reader.owner is not None and reader.owner_since is None:
        return reader.owner
    return None


# The catch-all's files stay as readable as their store files were (every local user).
WORLD_READABLE = "0444"


def _unknown_reader_note(site: Site) -> str:
    return (
        f"{'.'.join(site.path)}: which user reads its file is not known to secretkit, so the "
        f"sops file is mode {WORLD_READABLE} (readable by every local user, as the store "
        'file was); once you know, set owner = "<that user>" and mode = "0400" in its '
        "declaration"
    )


WRITE_TEXT_FILE = WriteTextRoute(
    key="write-text-file",
    description=(
        'any other *File option given pkgs.writeText "…" "<secret>" → the sops secret\'s '
        "path (or a template of the same text); the reader is not known: mode 0444, as "
        "readable as the store file was"
    ),
    reader=Reader(
        "root",
        Source(
            "Mic92/sops-nix",
            "6ade8292ba534cd4d596df59304f5eb0213dec45",
            "modules/sops/default.nix",
            # owner unset → uid 0: root-owned 0400
            'default = null; … default = 0; … default = "0400";',
        ),
        since="20.09",
    ),
    patterns=("**",),
)
