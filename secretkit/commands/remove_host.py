"""The re-encryption half of ``secretkit hosts remove NAME``.

The host's anchor, its rule and its key in every other rule leave ``.sops.yaml``
(the hosts engineer's :func:`secretkit.keys.sops_yaml.remove_host_text`), and
every sops file the host could read gets a *new data key* without it — in the
same :class:`~secretkit.atomic.Transaction` as the ``.sops.yaml`` edit, so a
kill midway is rolled back by the next run.

The host's own file (``secrets/<host>.yaml``, whose rule is removed with the
host) is **kept, re-encrypted for its remaining recipients (the admins)** and
reported as an orphan: deleting secrets is left to the user (``git rm``), who
may still need a value while moving the service elsewhere; it is never widened
to a catch-all rule that would let other hosts read it.

The result lists the secret *names* the removed key could read — in the current
files and in every committed version it could open (a file deleted since, a value
removed since): old ciphertext in git history still opens with that key, so
these must be changed at their provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from secretkit.keys.host_rekey import HostRotation
from secretkit.keys.sops_yaml import Change
from secretkit.sops.identities import Identities


@dataclass(frozen=True)
class HostRemoval:
    """What ``hosts remove`` did: the ``.sops.yaml`` change and the re-keyed files."""

    change: Change
    rotation: HostRotation
    still_in_nix: bool = False  # the flake / hive still defines the host

    @property
    def orphans(self) -> tuple[str, ...]:
        """Files kept for the remaining recipients because their rule left with the host."""
        return tuple(item.rel for item in self.rotation.files if item.orphan)


def remove_host(cwd: Path, name: str, *, identities: Identities | None = None) -> HostRemoval:
    """Remove host ``name`` from ``.sops.yaml`` and re-key every file it could read."""
    from secretkit.atomic import recover
    from secretkit.keys import sops_yaml
    from secretkit.keys.host_rekey import execute, with_history
    from secretkit.keys.rotation import plan_remove_host
    from secretkit.sops.identities import load_identities

    root = sops_yaml.find_root(cwd)
    recover(root)
    sops_yaml.validate_name(name)
    plan = plan_remove_host(root, name)
    if plan.ops and identities is None:
        identities = load_identities()
    exposed = with_history(plan, history=True)
    files = execute(plan, identities or Identities()) if plan.edit.change.changed else ()
    rotation = HostRotation(
        host=name,
        old_recipient=plan.old_recipient,
        new_recipient=None,
        sops_yaml_changed=plan.edit.data is not None,
        files=files,
        exposed=exposed,
    )
    from secretkit.keys.hosts import discover

    still_in_nix = plan.edit.change.changed and name in discover(root).hosts
    return HostRemoval(plan.edit.change, rotation, still_in_nix)
