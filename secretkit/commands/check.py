"""``secretkit check``: is the repository safe to make public?  The publish gate.

Every point of :data:`CHECKS` runs and yields either one passing result or one
failing result per problem, each with the exact fix.  The repository passes only
when every result passes:

``plaintext-tree``
    no plaintext secret in the work tree (tracked and untracked-not-ignored files),
    except what the allowlist or ``# secretkit: allow`` suppresses;
``plaintext-history``
    no plaintext secret in any commit;
``sops-mac``
    every sops file verifies (MAC and values) with an identity available here; with
    no identity that opens a file this point fails ("cannot verify");
``sops-recipients``
    every sops file is encrypted for exactly the recipients its ``.sops.yaml`` rule
    names (no pending ``updatekeys``);
``nix-secret-refs``
    every ``config.sops.secrets."<name>"`` (and ``config.sops.placeholder."<name>"``)
    used in Nix is declared as ``sops.secrets."<name>"``, and every declared secret
    exists as a key in its ``sopsFile`` (key names are in clear in sops files);
``host-readable``
    every host can read the sops files its configuration uses: each file's
    recipients include that host's ``&host_<name>`` key (that this key is the host's
    own is what ``hosts add`` and ``rotate host`` saw when they wrote it; a file that
    declares sops secrets and that no host is found to import, where discovery could
    not follow something, fails as "cannot verify");
``sops-nix-module``
    every host whose modules declare ``sops.secrets`` or read ``config.sops.*`` imports
    sops-nix's NixOS module (else it does not evaluate); a host whose modules come
    partly through something host discovery cannot follow fails as "cannot verify";
``decrypted-copy``
    no decrypted copy of a secrets file lies in the tree: a file a creation rule
    matches that is not a sops file, a ``*.dec.*`` / ``*.decrypted.*`` / backup
    twin of a sops file, or any YAML/JSON/dotenv file whose key paths are exactly
    those of a sops file (``secretkit decrypt … --output anywhere.yaml``).

With ``source_only`` (``secretkit check --source-only``, made for ``nix flake
check``: a read-only copy of the tracked files, no ``.git``, no private key) the
directory is walked instead of asking git, and the points that need what a source
tree does not have are not run but listed in :data:`NEEDS_MORE_THAN_SOURCE` with
the reason: ``plaintext-history`` (git history) and ``sops-mac`` (a private key; what
it verifies without one, each value its rule encrypts an ``ENC[…]`` string, still runs:
:func:`~secretkit.gate.sops_checks.check_sops_structure`).  Such a run never says
"safe to publish".

A ``sopsFile`` computed from the host name, as ``migrate`` writes it in a module
shared by several hosts (``../secrets + "/${config.networking.hostName}.yaml"``), is
resolved once per host that imports the module: ``config.networking.hostName`` is the
string literal the host's code sets, else the host's name in the inventory (migrate
relies on the two being equal).  A ``sopsFile``
that cannot be resolved without evaluating Nix fails the point ("cannot verify"):
the gate never passes what it did not check.

Nothing here decrypts more than needed for the MAC check, and no value is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from secretkit.gate.agenix_checks import check_agenix
from secretkit.gate.context import CheckContext
from secretkit.gate.decrypted_copies import check_decrypted_copies
from secretkit.gate.host_readable import check_host_readable
from secretkit.gate.model import JSON_VERSION, CheckReport, CheckResult
from secretkit.gate.nix_checks import check_nix_refs, check_sops_module
from secretkit.gate.plaintext_checks import check_plaintext_history, check_plaintext_tree
from secretkit.gate.render import render
from secretkit.gate.service_readers import check_service_readers
from secretkit.gate.sops_checks import check_sops_mac, check_sops_recipients
from secretkit.git import require_repo

__all__ = ["CHECKS", "JSON_VERSION", "CheckReport", "CheckResult", "render", "run_check"]


# The points of the gate, in the order they are shown.
CHECKS: dict[str, Callable[[CheckContext], list[CheckResult]]] = {
    "plaintext-tree": check_plaintext_tree,
    "plaintext-history": check_plaintext_history,
    "sops-mac": check_sops_mac,
    "sops-recipients": check_sops_recipients,
    "nix-secret-refs": check_nix_refs,
    "host-readable": check_host_readable,
    "service-readable": check_service_readers,
    "sops-nix-module": check_sops_module,
    "decrypted-copy": check_decrypted_copies,
    "agenix": check_agenix,
}


# What a plain source tree (``nix flake check``) cannot show, and why.
NEEDS_MORE_THAN_SOURCE: dict[str, str] = {
    "plaintext-history": "needs the git history: run `secretkit check` in a clone",
    "sops-mac": "needs a private key to verify the MACs: run `secretkit check` "
    "where your age key is",
}


def _repo_root_if_any(cwd: Path) -> Path | None:
    from secretkit.errors import SecretkitError
    from secretkit.git import repo_root

    try:
        return repo_root(cwd)
    except SecretkitError:  # git is not installed: a plain directory it is
        return None


def run_check(
    cwd: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    stage: Callable[[str], None] | None = None,
    source_only: bool = False,
) -> CheckReport:
    """Run every point of the gate on the repository containing ``cwd`` — or, with
    ``source_only``, the points a plain source tree at ``cwd`` allows.  ``progress``
    follows the history scan; ``stage(point)`` is called while any other point runs."""
    from secretkit.errors import SecretkitError
    from secretkit.gate.interrupted import interrupted_run
    from secretkit.gate.progress import ticking
    from secretkit.gate.sops_verify import SopsJudge

    if source_only:
        # In a clone, the files are git's (tracked and untracked-not-ignored) as for the
        # full check; in a plain directory (a flake's store copy) every file counts.
        top = _repo_root_if_any(cwd)
        root, walk = (top, False) if top is not None else (cwd, True)
    else:
        root, walk = require_repo(cwd), False
    ctx = CheckContext(
        root=root,
        judge=SopsJudge(root=None if walk else root),
        progress=progress,
        walk=walk,
        keys=not source_only,
    )
    # (a run killed half-way: its files are about to be rolled back, and what any other
    # point says of them would be said of a state that is going away, fixes included)
    results: list[CheckResult] = interrupted_run(root)
    if results:
        waiting = "not run: an interrupted secretkit run must be finished first (above)"
        return CheckReport(results, [(check_id, waiting) for check_id in CHECKS])
    not_run: list[tuple[str, str]] = []
    for check_id, check in CHECKS.items():
        if source_only and check_id in NEEDS_MORE_THAN_SOURCE:
            if check_id == "sops-mac":  # what it verifies without a key still runs
                from secretkit.gate.sops_checks import check_sops_structure

                results.extend(check_sops_structure(ctx))
            not_run.append((check_id, NEEDS_MORE_THAN_SOURCE[check_id]))
            continue
        try:
            with ticking(stage, check_id):
                results.extend(check(ctx))
        except SecretkitError as exc:
            results.append(
                CheckResult(
                    check_id,
                    False,
                    f"cannot verify (the point could not run): {exc.message}",
                    exc.hint or "fix the error above and run secretkit check again",
                )
            )
    return CheckReport(results, not_run)
