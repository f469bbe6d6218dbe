"""``nix-secret-refs``: a file that declares or reads sops secrets and that Nix refuses to
parse, because it gives an attribute twice (:mod:`secretkit.nix.duplicates`).  Our own
parser reads it, so its references "resolve"; no host that imports it builds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult

if TYPE_CHECKING:
    from secretkit.nix.sops_refs import NixFacts


def given_twice(facts: NixFacts, read: dict[str, bytes | None]) -> list[CheckResult]:
    """One failure per attribute given twice in a file that mentions sops (``read``: the
    files' bytes, for the line)."""
    out = []
    for path, clashes in sorted(facts.given_twice.items()):
        data = read.get(path) or b""
        for clash in clashes:
            line = data.count(b"\n", 0, clash.start) + 1
            fix = f"keep one definition of {clash.path}"
            if clash.blocked:  # `serviceConfig = hardening;` and serviceConfig.X
                rest = clash.path[len(clash.blocked) + 1 :]
                fix = (
                    f"{clash.blocked} is set to a value, so {rest} cannot be set beside it: "
                    f"merge the two, {clash.blocked} = lib.mkMerge [ <the value> "
                    f"{{ {rest} = …; }} ]; (lib: the module's argument)"
                )
            out.append(
                CheckResult(
                    "nix-secret-refs",
                    False,
                    f"{path}:{line} gives {clash.path} twice, which Nix refuses to parse: "
                    "no host importing the file builds",
                    fix,
                    (path,),
                )
            )
    return out
