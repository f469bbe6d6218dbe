"""``sops-nix-module`` without a flake: the sops-nix a repository's modules import from
npins or niv sources, or fetch, is there and builds with the NixOS release it pins.

* ``"${sources.sops-nix}/modules/sops"`` (or ``(import ./npins).sops-nix``, niv's
  ``nix/sources.nix``) with no ``sops-nix`` pin in ``npins/sources.json`` nor in
  ``nix/sources.json``: the hosts do not evaluate (``attribute 'sops-nix' missing``);
* on a release sops-nix's master no longer builds for (25.05 and older:
  :data:`secretkit.nix.sops_nix_pins.GO_125`), a fetch of master fails to build, and a
  pinned revision other than the last one tested with that release cannot be verified
  (no date is recorded with it to tell)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult
from secretkit.lazy_re import lazy

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext

POINT = "sops-nix-module"
# `${sources.sops-nix}/modules/sops`, `sources."sops-nix" + "/modules/sops"`
_FROM_SOURCES = lazy(rb'\.\s*"?sops-nix"?\s*(?:\}\s*/|\+\s*"/)modules/sops')
_FETCHED = lazy(rb"github\.com/Mic92/sops-nix/archive/([A-Za-z0-9._-]+?)\.tar\.gz")
_BRANCHES = frozenset({"master", "main"})


def non_flake_sops_nix(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.nix.no_flake_module import module_text
    from secretkit.nix.sops_nix_pins import GO_125, tested_for
    from secretkit.plan.advice import repo_pin

    pins = {name: _pin(ctx, name) for name in ("npins/sources.json", "nix/sources.json")}
    pin = repo_pin(ctx.read)
    tested = None if pin.unstable else tested_for(pin.release)
    out: list[CheckResult] = []
    for file in ctx.files():
        data = ctx.read(file) if file.endswith(".nix") else None
        if data is None or b"sops-nix" not in data:
            continue
        revisions: list[tuple[str, str]] = []  # (the revision, where it is named)
        if _FROM_SOURCES.search(data):
            held = {name: rev for name, rev in pins.items() if rev is not None}
            if not held:
                present = [name for name in pins if ctx.read(name) is not None]
                where = " nor ".join(present) or "no npins/sources.json nor nix/sources.json"
                out.append(
                    CheckResult(
                        POINT,
                        False,
                        f"{file} imports sops-nix's module from its sources' sops-nix, and "
                        f"{where} pins none: the hosts do not evaluate (attribute 'sops-nix' "
                        "missing)"
                        if present
                        else f"cannot verify: {file} imports sops-nix's module from a "
                        f"sources' sops-nix, and the repository has {where} to read it from",
                        f"pin it, then import it as {module_text(ctx.root, pin.release)}",
                        (file,),
                    )
                )
                continue
            revisions += [(rev, f"{name} pins sops-nix at") for name, rev in held.items()]
        revisions += [
            (m[1].decode(), f"{file} fetches sops-nix at") for m in _FETCHED.finditer(data)
        ]
        if tested is None:
            continue  # (an unknown, unstable or newer release: master builds there)
        release, commit, _until = tested
        for rev, said in revisions:
            if rev == commit:
                continue
            fails = rev in _BRANCHES
            why = (
                f"whose master builds sops-install-secrets with buildGo125Module (from "
                f"{GO_125[0][:8]} of {GO_125[1]} on): NixOS {release} has no such builder, "
                "so the host does not build"
                if fails
                else f"a revision secretkit cannot tell builds with NixOS {release} (the last "
                f"one sops-nix's CI tested with it is {commit[:8]})"
            )
            out.append(
                CheckResult(
                    POINT,
                    False,
                    f"{'' if fails else 'cannot verify: '}{said} {rev[:12]}, {why}; the "
                    f"repository pins NixOS {pin.release} ({pin.source})",
                    f"pin sops-nix at {commit}: {module_text(ctx.root, pin.release)}"
                    if said.startswith(file)
                    else f"pin sops-nix at {commit} in {said.split(' pins ')[0]} "
                    f"({_repin(said, commit)}), or update nixpkgs to a newer release",
                    (file,),
                )
            )
    return out


def _pin(ctx: CheckContext, name: str) -> str | None:
    """The revision npins' or niv's sources pin sops-nix at (None: no such pin)."""
    data = ctx.read(name)
    if data is None:
        return None
    try:
        sources = json.loads(data)
        node = sources["pins"]["sops-nix"] if name.startswith("npins/") else sources["sops-nix"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(node, dict):
        return None
    rev = node.get("revision") or node.get("rev") or node.get("branch")
    return str(rev) if rev else "an unknown revision"


def _repin(said: str, commit: str) -> str:
    if said.startswith("npins/"):
        return (
            f"npins remove sops-nix, then npins add github -b master --at {commit} Mic92 sops-nix"
        )
    return f"niv update sops-nix -r {commit}"
