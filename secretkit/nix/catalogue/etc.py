"""Secrets in ``environment.etc.<f>.text`` → a sops secret or template at ``/etc/<f>``.

The file keeps its path and its readers: the entry's ``mode``, ``user`` and ``group``
are kept (NixOS copies the file and chowns it to them; sops-nix's owner and group), and an entry
without one (a symlink into the store, readable by every local user, NixOS's
``environment.etc.<name>.mode`` default ``"symlink"``) gets ``mode = "0444"``, since
which process reads an /etc file is not known here and sops-nix's default (root, 0400)
would lock out a service running as its own user.
"""

from __future__ import annotations

from collections.abc import Sequence

from secretkit.nix import cst, emit
from secretkit.nix.catalogue.base import (
    Reader,
    Refusal,
    Rewrite,
    Site,
    Source,
    TemplateLine,
    delete_node,
    inside,
    match,
    slug,
)

WORLD_READABLE = "0444"


def _host_key(name: str) -> bool:
    """Whether ``/etc/<name>`` is an ssh host's private key (``ssh/ssh_host_ed25519_key``),
    which sshd and sops-nix read before any secret is decrypted."""
    base = name.strip("/")
    return base.startswith("ssh/ssh_host_") and base.endswith("_key")


class EtcFile:
    key = "environment-etc"
    description = 'environment.etc."x".text holding a secret → a sops secret/template at /etc/x'
    reader = Reader(
        "root",
        Source(
            "Mic92/sops-nix",
            "6ade8292ba534cd4d596df59304f5eb0213dec45",
            "modules/sops/default.nix",
            # owner unset → uid 0: root-owned 0400; `path` is a symlink to the secret
            'default = null; … default = 0; … default = "0400"; … '
            "Path where secrets are symlinked to.",
        ),
        since="22.05",
    )

    def matches(self, path: Sequence[str]) -> bool:
        return match("environment.etc.*.text", path)

    def name(self, site: Site) -> str:
        return "etc/" + "/".join(slug(p) for p in site.path[2].split("/"))

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if any(c.type == "interpolation" for c in site.string.named_children):
            return Refusal("the file text has interpolations")
        binding = site.binding
        if binding is None:
            return Refusal("the text is not the value of an attribute")
        entry = site.path[:3]
        names = cst.binding_names(site.tree, binding) or []
        doomed = binding
        mode: str | None = None
        kept: dict[str, str] = {}  # the entry's user and group: the file's owner and group
        if len(names) == 1:  # `"x" = { text = …; }` or `etc."x" = { … }`: the whole entry goes
            holder = binding.parent.parent  # binding_set → attrset
            owner_binding = holder.parent if holder is not None else None
            if owner_binding is None or owner_binding.type != "binding":
                return Refusal("the /etc entry is not a plain attrset")
            others = {n[0] for n, _ in cst.iter_bindings(site.tree, holder) if len(n) == 1}
            others -= {"text"}
            if others - {"mode", "user", "group"}:
                return Refusal(f"the /etc entry also sets {', '.join(sorted(others))}")
            if "mode" in others:
                mode = site.sibling_string(1, "mode")
                if mode is None:
                    return Refusal("the /etc entry's mode is not a plain string")
            for field in sorted(others & {"user", "group"}):  # (NixOS: chown to them)
                value = site.sibling_string(1, field)
                if value is None or value.startswith("+"):  # ("+1000": a uid, no name)
                    return Refusal(f"the /etc entry's {field} is not a plain name")
                kept[field] = emit.nix_string(value)
            doomed = owner_binding
        for full, node in cst.iter_bindings(site.tree, site.top):
            if full[:3] == list(entry) and len(full) > 3 and not inside(node, doomed):
                return Refusal(f"environment.etc.{entry[2]} is set in more than one place")
        target = "/etc/" + entry[2]
        if _host_key(entry[2]):
            return Refusal(
                f"{target} is the host's own ssh host key, which sops-nix decrypts the "
                "host's secrets with (sops.age.sshKeyPaths): a sops secret cannot hold it",
                steps=(
                    "the committed key is public now: give the host a new one, outside the "
                    "repository: if .sops.yaml names no key for the host yet, `secretkit "
                    "hosts add <host> --generate-host-key --extra-files DIR` (then "
                    "DIR/etc/ssh/ goes to the host, e.g. nixos-anywhere --extra-files DIR); "
                    f"else ssh-keygen -t ed25519 -N '' -f {target} on the host, then "
                    "`secretkit rotate host <host> --ssh-pubkey-file <a copy of its .pub>`",
                    f'delete environment.etc."{entry[2]}" from this module (sshd reads '
                    "its key from that path itself)",
                ),
            )
        edits = [delete_node(site.tree, doomed)]
        shown = f" (mode {mode})" if mode else ""
        if mode is None:
            # without a mode an /etc file is a symlink into the store: every local user
            # reads it, and whichever process reads it keeps reading it (sops-nix's own
            # default, root-only 0400, would lock out a service running as its user)
            mode = WORLD_READABLE
            shown = f" (mode {mode} as before: narrow it with owner and mode 0400)"
        secret = site.secret.reveal()
        owner, group = kept.get("user"), kept.get("group")
        if site.literal.strip() == secret:
            return Rewrite(
                site.secret,
                edits,
                f"sops secret at {target}{shown}",
                owner=owner,
                group=group,
                path=target,
                mode=mode,
            )
        pieces = site.pieces()
        if "\n" in secret or pieces is None:
            return Refusal("the secret cannot be located inside the file text")
        joined = emit.placeholder(name).join(emit.indented_string_line(p) for p in pieces)
        lines = joined.rstrip("\n").split("\n")
        return Rewrite(
            site.secret,
            edits,
            f"sops template at {target}{shown}",
            template=TemplateLine(
                template=entry[2],
                line="\n".join(lines),
                option=(),
                path=target,
                mode=mode,
                owner=owner,
                group=group,
                whole=emit.indented_string_line(secret),
                final_newline=site.literal.endswith("\n"),
            ),
        )
