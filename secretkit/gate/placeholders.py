"""``nix-secret-refs``: ``config.sops.placeholder.<name>`` given straight to an option a
program reads (``psk = config.sops.placeholder."wifi";``).  sops-nix replaces a
placeholder only in a ``sops.templates`` content: there the program gets the
placeholder's text, not the secret, and the host deploys with a wrong key.  Only
options the catalogue knows as secrets a program reads are judged (a custom option may
be rendered into a template elsewhere)."""

from __future__ import annotations

from secretkit.gate.model import CheckResult
from secretkit.nix import catalogue
from secretkit.nix.sops_refs import NixFacts


def placeholders_outside_templates(facts: NixFacts) -> list[CheckResult]:
    out = []
    for name, file, line, option in facts.placeholder_options:
        known = catalogue.lookup(option)
        if known is None or known.key == "write-text-file":
            continue  # (not an option the catalogue knows a program reads)
        dotted = ".".join(option)
        out.append(
            CheckResult(
                "nix-secret-refs",
                False,
                f'{file}:{line}: {dotted} is given config.sops.placeholder."{name}", which '
                "sops-nix replaces only inside a sops.templates content: the program gets the "
                "placeholder's text, not the secret",
                f"give the secret through a file: {dotted}'s *File twin set to "
                f'config.sops.secrets."{name}".path, or a sops.templates."<t>" whose content '
                f'holds ${{config.sops.placeholder."{name}"}} and that the program reads '
                f"(the route migrate writes for a value here: {known.description})",
                (file,),
            )
        )
    return out
