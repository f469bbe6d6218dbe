"""``nix-secret-refs``: ``config.sops.placeholder.<name>`` given straight to an option a
program reads (``psk = config.sops.placeholder."wifi";``).  sops-nix replaces a
placeholder only in a ``sops.templates`` content: there the program gets the
placeholder's text, not the secret, and the host deploys with a wrong key.  Only
options the catalogue knows as secrets a program reads are judged (a custom option may
be rendered into a template elsewhere).

And an environment placeholder the build reads: an Alertmanager URL field written
``"$VAR"`` (the secret comes from its ``environmentFile`` through envsubst, when the
unit starts) is parsed as a URL by ``amtool check-config`` when the configuration is
built, before envsubst ran, and fails it ("unsupported scheme") unless ``checkConfig =
false``.  migrate turns the check off where it moves such a field
(:mod:`secretkit.nix.catalogue.alertmanager`, with its nixpkgs source); a hand-written
one is held to the same."""

from __future__ import annotations

from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult
from secretkit.lazy_re import lazy
from secretkit.nix import catalogue
from secretkit.nix.sops_refs import NixFacts

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext


def outside_templates(facts: NixFacts) -> list[CheckResult]:
    from secretkit.gate.finding_fix import by_hand_point
    from secretkit.nix import emit

    out = []
    for name, file, line, option in facts.placeholder_options:
        known = catalogue.lookup(option)
        if known is None or known.key == "write-text-file":
            continue  # (not an option the catalogue knows a program reads)
        dotted = ".".join(option)
        fix = (
            f"give the secret through a file: {dotted}'s *File twin set to "
            f'config.sops.secrets."{name}".path, or a sops.templates."<t>" whose content '
            f'holds ${{config.sops.placeholder."{name}"}} and that the program reads '
            f"(the route migrate writes for a value here: {known.description})"
        )
        shaped = by_hand_point(".".join(emit.attr(p) for p in option))
        if shaped is not None:  # (an /etc file's text, a script: no *File twin there)
            fix = shaped.removeprefix("and ").replace('"<name>"', f'"{name}"')
        out.append(
            CheckResult(
                "nix-secret-refs",
                False,
                f'{file}:{line}: {dotted} is given config.sops.placeholder."{name}", which '
                "sops-nix replaces only inside a sops.templates content: the program gets the "
                "placeholder's text, not the secret",
                fix,
                (file,),
            )
        )
    return out


_CONFIGURATION = ["services", "prometheus", "alertmanager", "configuration"]
_CHECK_CONFIG = ["services", "prometheus", "alertmanager", "checkConfig"]
# a value whose scheme is a placeholder ("$URL", "${URL}", "$SCHEME://host"): no URL
_PLACEHOLDER = lazy(r"\$(?:[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})")


def checked_at_build(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.gate.module_sites import line_of
    from secretkit.gate.option_values import option_bindings, plain_string, values_by_host
    from secretkit.nix import cst
    from secretkit.nix.catalogue.alertmanager import Alertmanager

    results = []
    for file in ctx.files():
        data = ctx.read(file) if file.endswith(".nix") else None
        if data is None or b"alertmanager" not in data or b"$" not in data:
            continue
        tree, bindings = option_bindings(ctx, file)
        checks: dict[str, set[str | None]] | None = None
        # configuration = base // { inherit receivers; }, or = a let's name: the URL
        # fields of the file's lets are the configuration's
        indirect = any(
            path == _CONFIGURATION
            and (value := cst.unwrap(binding.value)) is not None
            and value.type not in ("attrset_expression", "rec_attrset_expression")
            for binding, path in bindings
        )
        for binding, path in bindings:
            if not Alertmanager.checked_as_url(path):
                continue
            if path[:4] != _CONFIGURATION and not (indirect and path[:1] != ["services"]):
                continue
            text = plain_string(tree, binding.value)
            if text is None or _PLACEHOLDER.match(text.strip()) is None:
                continue
            hosts = ctx.inventory().hosts_at(file, binding.start)
            if checks is None:  # (once per file: what its hosts set checkConfig to)
                checks = values_by_host(ctx, _CHECK_CONFIG, at=file)
            left = {h: v for h, v in checks.items() if (not hosts or not h or h in hosts)}
            if all(v == {"false"} for v in left.values()):
                continue  # (the build does not check the file)
            unsure = sorted(h or "?" for h, v in left.items() if None in v)
            on = sorted(h for h, v in left.items() if v != {"false"} and None not in v and h)
            where = f"{file}:{line_of(ctx, file, binding.start)}"
            shown = f'{".".join(path)} = "{text}"'
            message = (
                f"{where}: {shown} is checked as a URL when the configuration is built "
                "(amtool check-config, before envsubst fills it in at start): the build fails"
            )
            if unsure and not on:
                message = (
                    f"{where}: cannot verify that {shown} builds: amtool check-config reads "
                    "it as a URL unless services.prometheus.alertmanager.checkConfig is "
                    "false, and what sets it is not a plain value"
                )
            results.append(
                CheckResult(
                    "nix-secret-refs",
                    False,
                    message + (f" (host {', '.join(on)})" if on else ""),
                    _fix(ctx),
                    (file,),
                    group="an Alertmanager URL from the environment file, with checkConfig on",
                )
            )
    return results


def _fix(ctx: CheckContext) -> str:
    from secretkit.nix.catalogue.alertmanager import Alertmanager
    from secretkit.plan.advice import repo_pin

    since = Alertmanager.check_config_since
    pin = repo_pin(ctx.read)
    if pin.lacks(since):
        return (
            f"checkConfig exists from NixOS {since} on ({pin.shown} is pinned, "
            f"{pin.source}): move nixpkgs to {since} or newer, then set "
            "services.prometheus.alertmanager.checkConfig = false;"
        )
    return (
        "set services.prometheus.alertmanager.checkConfig = false; in a module of each host "
        "named (the build then leaves the file unchecked; alertmanager still reads it when "
        "it starts)"
    )
