"""The flake input a host's ``inputs.sops-nix.nixosModules.sops`` needs: a flake whose
modules name it through its inputs but that declares no ``sops-nix`` input does not
evaluate (``attribute 'sops-nix' missing``), whatever the modules import."""

from __future__ import annotations

from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult
from secretkit.lazy_re import lazy
from secretkit.nix.input_names import names_the_input

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext

# `sops-nix.url = …`, `sops-nix = { url = …; }`, `sops-nix.inputs.… = …` (in inputs)
_DECLARED = lazy(rb"(?<![\w-])sops-nix(?:\.url\b|\s*=\s*\{|\.inputs\.|\.flake\b)")
# `outputs = { self, nixpkgs, sops-nix, ... }:`: an argument of outputs is an input
# of its own (Nix looks an undeclared one up in the flake registry)
_OUTPUTS_ARGUMENT = lazy(rb"outputs\s*=\s*(?:[\w-]+\s*@\s*)?\{[^{}]*(?<![\w-])sops-nix(?![\w-])")


def missing_input(ctx: CheckContext) -> list[CheckResult]:
    """``sops-nix-module`` fails where a file names ``inputs.sops-nix`` and flake.nix
    declares no such input."""
    flake = ctx.read("flake.nix") if not ctx.walk else None
    if flake is None or _DECLARED.search(flake) or _OUTPUTS_ARGUMENT.search(flake):
        return []
    # inputs.sops-nix.…, or a bare sops-nix.nixosModules.… no file binds itself: the
    # outputs' argument, or one a file of them takes (`{ nixpkgs, sops-nix, ... }@inputs`)
    named = [f for f in ctx.files() if f.endswith(".nix") and names_the_input(ctx.read(f) or b"")]
    if not named:
        return []
    return [
        CheckResult(
            "sops-nix-module",
            False,
            f"{named[0]} names the sops-nix input, but flake.nix declares no sops-nix input: "
            "the flake does not evaluate (attribute 'sops-nix' missing)",
            f"add it to flake.nix: inputs.sops-nix.url = {_url(ctx)}; (and "
            'inputs.sops-nix.inputs.nixpkgs.follows = "nixpkgs";), then nix flake lock',
            tuple(named[:3]),
        )
    ]


def _url(ctx: CheckContext) -> str:
    """The sops-nix input for the release the repository pins (a commit tested with
    it: :func:`secretkit.nix.wiring.input_url`)."""
    from secretkit.nix.sops_nix_pins import input_url
    from secretkit.plan.advice import repo_pin

    return input_url(repo_pin(ctx.read).release)


def locked_for_release(ctx: CheckContext) -> list[CheckResult]:
    """``sops-nix-module`` fails where flake.lock locks sops-nix at a commit newer than
    the last one sops-nix's CI tested with the NixOS release the repository pins
    (:data:`secretkit.nix.sops_nix_pins.TESTED_UNTIL`): from 5c23dc81 on it needs
    buildGo125Module, which 25.05 and older lack (the host does not build); between,
    it was not tested there (cannot verify)."""
    import datetime as dt
    import json

    from secretkit.nix.catalogue.base import release_key as key
    from secretkit.nix.sops_nix_pins import GO_125, tested_for
    from secretkit.plan.advice import repo_pin

    lock = ctx.read("flake.lock") if not ctx.walk else None
    if lock is None:
        from secretkit.gate.source_pins import non_flake_sops_nix

        if ctx.read("flake.nix") is None:
            return non_flake_sops_nix(ctx)
        return _unlocked(ctx) if not ctx.walk else []  # (no flake.lock: the first lock)
    try:
        data = json.loads(lock)
        nodes = data["nodes"]
        root_inputs = nodes[data.get("root", "root")].get("inputs", {})
    except (ValueError, KeyError, TypeError, AttributeError):
        return []
    if "sops-nix" not in root_inputs:
        return _unlocked(ctx)  # (the next `nix flake lock` takes what flake.nix names)
    try:
        locked = nodes[root_inputs["sops-nix"]]["locked"]  # (a list: another input's)
        rev, when = str(locked["rev"]), int(locked["lastModified"])
    except (ValueError, KeyError, TypeError):
        return []  # (one locked otherwise: nothing to compare)
    pin = repo_pin(ctx.read)
    release = pin.release
    tested = tested_for(release)
    if tested is None or release is None or pin.unstable:
        return []  # (an unstable nixpkgs after that release: sops-nix tests with it too)
    _release, commit, until = tested
    date = dt.datetime.fromtimestamp(when, dt.UTC).date().isoformat()
    if date <= until:
        return []
    fails = date >= GO_125[1] and key(release) <= key("25.05")
    why = (
        f"which builds sops-install-secrets with buildGo125Module (from {GO_125[0][:8]} of "
        f"{GO_125[1]} on): NixOS {release} has no such builder, so the host does not build"
        if fails
        else f"after {commit[:8]} ({until}), the last commit sops-nix's CI tested with "
        f"NixOS {release}"
    )
    return [
        CheckResult(
            "sops-nix-module",
            False,
            f"{'' if fails else 'cannot verify: '}flake.lock locks sops-nix at {rev[:8]} "
            f"({date}), {why}; the repository pins NixOS {release}",
            f'pin it in flake.nix: inputs.sops-nix.url = "github:Mic92/sops-nix/{commit}"; '
            "then nix flake lock --update-input sops-nix (nix flake update sops-nix on Nix "
            "2.19 and later), or update nixpkgs to a newer release",
            ("flake.lock", "flake.nix"),
        )
    ]


# flake.nix's sops-nix input: `inputs.sops-nix.url = "…"` or `sops-nix = { url = "…"; … }`
_INPUT_URL = lazy(rb'sops-nix(?:\.url\s*=|\s*=\s*\{[^}]*?\burl\s*=)\s*"([^"]+)"')


def _unlocked(ctx: CheckContext) -> list[CheckResult]:
    """flake.nix names sops-nix but flake.lock does not lock it: the next lock takes the
    commit the url names, or master's newest, which needs a Go builder that NixOS 25.05
    and older lack (the host does not build)."""
    from secretkit.nix.catalogue.base import release_key as key
    from secretkit.nix.sops_nix_pins import GO_125, tested_for
    from secretkit.plan.advice import repo_pin

    found = _INPUT_URL.search(ctx.read("flake.nix") or b"")
    pin = repo_pin(ctx.read)
    tested = tested_for(pin.release)
    if found is None or tested is None or pin.unstable or key(pin.release or "") > key("25.05"):
        return []
    url = found[1].decode("utf-8", "replace")
    if url.rstrip("/").endswith(tested[1]):
        return []  # (pinned at the commit tested with that release)
    return [
        CheckResult(
            "sops-nix-module",
            False,
            f"cannot verify: no flake.lock locks sops-nix, so the next `nix flake lock` "
            f"takes what {url} names (master's newest, unless a commit is in it): sops-nix "
            f"from {GO_125[1]} on needs a Go builder NixOS {pin.release} lacks, so the host "
            "may not build",
            f'pin it in flake.nix: inputs.sops-nix.url = "github:Mic92/sops-nix/{tested[1]}"; '
            "then nix flake lock, and commit flake.lock",
            ("flake.nix", "flake.lock"),
        )
    ]
