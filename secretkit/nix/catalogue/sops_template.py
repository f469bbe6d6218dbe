"""A secret written into the text of a sops-nix template (``sops.templates.<t>.content``,
which sops-nix renders at activation into ``/run/secrets/rendered/<t>``) → the
placeholder of a sops secret in its place: the rendered file is the same, and the
value leaves the Nix store.  Only sops-nix reads the secret (to render the template),
so it stays root's; the template keeps its own owner, mode and restartUnits."""

from __future__ import annotations

from collections.abc import Sequence

from secretkit.nix import cst, emit
from secretkit.nix.catalogue.base import Reader, Refusal, Rewrite, Site, Source, match, slug
from secretkit.nix.edits import Edit


class SopsTemplate:
    key = "sops-template-content"
    description = "a secret in sops.templates.<t>.content → config.sops.placeholder in its place"
    reader = Reader(
        "sops",
        Source(
            "Mic92/sops-nix",
            "6ade8292ba534cd4d596df59304f5eb0213dec45",
            "modules/sops/templates/default.nix",
            # the placeholder strings are replaced by the secrets' values when rendered
            "placeholder = mkOption { … }; … content = mkOption { type = types.lines; … };",
        ),
        since="22.05",
    )

    def matches(self, path: Sequence[str]) -> bool:
        return match("sops.templates.*.content", path)

    def name(self, site: Site) -> str:
        return f"{slug(site.path[2])}/secret"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.holder is not None:
            return Refusal("the template's content is not a plain string")
        literal = cst.string_at(site.tree, site.string)
        value = site.secret.reveal()
        source = site.tree.source
        edits: list[Edit] = []
        where = site.occurrences()
        if where is None:
            return Refusal("the value occurs more than once in the template, not all secret")
        for at in where:
            if not literal.literal_text(at, at + len(value)):
                return Refusal("the value is inside an interpolation")
            start, end = literal.span_of(at, at + len(value))
            if source[start:end] != value.encode("utf-8"):
                return Refusal("the value is written with escapes in the Nix string")
            edits.append(Edit(start, end, emit.placeholder(name)))
        if not edits:
            return Refusal("the value is not written as it is in the template")
        return Rewrite(site.secret, edits, f"sops.templates.{site.path[2]}: placeholder")
