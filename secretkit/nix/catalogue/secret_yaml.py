"""The shared shape of programs that resolve ``"!secret <key>"``-style references from a
YAML file of their own (Home Assistant's ``secrets.yaml``, zigbee2mqtt's
``secret.yaml``): the literal becomes the reference and a sops template renders the file
where the program looks for it."""

from __future__ import annotations

from dataclasses import dataclass

from secretkit.nix import emit
from secretkit.nix.catalogue.base import Refusal, Rewrite, Site, TemplateLine, replace_literal


@dataclass(frozen=True)
class SecretYaml:
    marker: str  # "!secret" / "!secret.yaml"
    file_name: str  # what the program calls the file, for messages
    dir_option: tuple[str, ...]  # the option that moves the file elsewhere
    template: str
    path: str  # the file at the module's default directory
    unit: str

    def rewrite(self, site: Site, name: str, key: str, summary: str) -> Rewrite | Refusal:
        value = site.secret.reveal()
        # a secret inside the string (a database URL's password): the whole string
        # goes in the file, the placeholder where the secret was
        before, found, after = site.literal.partition(value)
        if not found or value in after:
            return Refusal("the secret is only part of the string, more than once")
        if any(c.type == "interpolation" for c in site.string.named_children):
            return Refusal("the string has interpolations")
        line = emit.yaml_line(key, f"{before}{emit.placeholder(name)}{after}", site.literal)
        if line is None:
            return Refusal(f"the value cannot be written into {self.file_name} as it is")
        if site.has_option(self.dir_option):
            return Refusal(
                f"{self.dir_option[-1]} is set: {self.file_name} would be looked for elsewhere"
            )
        return Rewrite(
            site.secret,
            [replace_literal(site, emit.nix_string(f"{self.marker} {key}"))],
            summary,
            template=TemplateLine(
                template=self.template,
                line=line,
                option=(),
                path=self.path,
                restart_units=(self.unit,),
            ),
        )
