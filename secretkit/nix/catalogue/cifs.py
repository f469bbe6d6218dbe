"""CIFS mounts: ``password=`` in ``fileSystems.<mount>.options`` → ``credentials=`` a
sops template (``password=<placeholder>``), which ``mount.cifs`` reads as root when
systemd mounts the share.

The options end up in ``/etc/fstab`` (and the store): world-readable.  mount.cifs takes
the password from a credentials file instead (its format is ``username=…``,
``password=…``, ``domain=…`` lines, any of them), so the one option is replaced by
``credentials=${config.sops.templates."cifs-<mount>".path}`` in the same string and
the rest of the options stay as they were.  A password with a comma, which the option
string cannot carry, works there too.
"""

from __future__ import annotations

from collections.abc import Sequence

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
)
from secretkit.nix.edits import Edit

_CIFS = ("cifs", "smb3", "smbfs")
_OPTION = lazy(r"(?P<name>password|pass)=(?P<value>[^,]*)")


class Cifs:
    key = "cifs-credentials"
    description = (
        'fileSystems.<m>.options "password=…" (CIFS) → "credentials=" a sops template '
        "read by mount.cifs"
    )
    # mount.cifs runs as root (systemd's mount units, or `mount -a` at activation)
    reader = Reader(
        "root",
        Source(
            "piastry/cifs-utils",
            "8d80660f7145eea89a32b4bd37b044da988d2918",
            "mount.cifs.rst",
            "credentials=filename|cred=filename\n  specifies a file that contains a "
            "username and/or password and\n  optionally the name of the workgroup.",
        ),
        since="17.03",
    )

    def matches(self, path: Sequence[str]) -> bool:
        return match("fileSystems.*.options.[]", path)

    def name(self, site: Site) -> str:
        return f"cifs/{slug(site.path[1])}/password"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        mount = site.path[1]
        fs_type = site.plain_string(["fileSystems", mount, "fsType"])
        if fs_type not in _CIFS:
            return Refusal(
                f"fsType is {fs_type!r}, not cifs: only mount.cifs reads a credentials= file"
                if fs_type is not None
                else "the mount's fsType is not a plain string here: is it cifs?"
            )
        if site.has_option(["fileSystems", mount, "neededForBoot"]):
            return Refusal("neededForBoot is set: sops-nix decrypts after the first stage")
        if site.string.type != "string_expression" or any(
            c.type in ("interpolation", "escape_sequence") for c in site.string.named_children
        ):
            return Refusal("the option string has interpolations or escapes")
        if any("credentials=" in o or "cred=" in o for o in _options(site)):
            return Refusal("credentials= is set as well")
        secret = site.secret.reveal()
        parts = site.literal.split(",")
        found = [
            i
            for i, part in enumerate(parts)
            if (m := _OPTION.fullmatch(part)) is not None and m.group("value") == secret
        ]
        if len(found) != 1:
            return Refusal("the secret is not one password= option of the string")
        template = f"cifs-{slug(mount)}"
        before = ",".join(parts[: found[0]])
        after = ",".join(parts[found[0] + 1 :])
        text = (
            emit.nix_string(before + ("," if before else "") + "credentials=")[:-1]
            + "${"
            + emit.template_ref(template)
            + "}"
            + emit.nix_string(("," if after else "") + after)[1:]
        )
        string = site.string
        return Rewrite(
            site.secret,
            [Edit(string.start_byte, string.end_byte, text)],
            f"{mount}: credentials= (was password=)",
            template=TemplateLine(
                template=template,
                line=f"password={emit.placeholder(name)}",
                option=(),
            ),
        )


def _options(site: Site) -> list[str]:
    """The plain strings of the mount's options list (every element)."""
    value = site.string.parent
    if value is None or value.type != "list_expression":
        return [site.literal]
    out = []
    for element in value.named_children:
        if element.type == "string_expression":
            out.append(element.text.decode("utf-8", "replace").strip('"'))
    return out


ENTRY = Cifs()
