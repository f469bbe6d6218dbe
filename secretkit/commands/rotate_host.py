"""``secretkit rotate host NAME …`` and ``secretkit hosts remove NAME``: both give
every file a host key could open a new data key (:func:`execute`).

``rotate host NAME (--age R | --ssh-pubkey … | --ssh-pubkey-file F)``:

The host's anchor in ``.sops.yaml`` gets the new key (every alias follows,
comments kept), and every sops file the old key could open or whose rule names
the host gets a *new data key*: every value decrypted (MAC verified) and
re-encrypted, the data key wrapped for the rule's recipients.  Afterwards the old
host key opens no current file; admins and the new key do; values are unchanged;
every other file is left alone byte for byte.

Everything is computed in memory first: a file that no available identity opens
(exit 3) or that does not verify (exit 4) stops the command before anything
changes.  The ``.sops.yaml`` edit and all file writes go through one
:class:`~secretkit.atomic.Transaction`; a run killed midway is rolled back by the
next run (which :func:`~secretkit.atomic.recover`\\ s first and then does the job
again).  Every intermediate state is readable by the admins: each file is
replaced atomically by a version whose recipients include them.

``hosts remove NAME``: the host's anchor, its rule and its key in every other rule
leave ``.sops.yaml`` (:func:`secretkit.keys.sops_yaml_edits.remove_host_text`), and
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
from typing import TYPE_CHECKING

from secretkit.commands import Line, Shown, err, out
from secretkit.keys.host_rekey import FileResult, execute, with_history
from secretkit.keys.rotation import Exposure
from secretkit.keys.sops_yaml_edits import Change
from secretkit.sops.engine import identities_of
from secretkit.sops.identities import Identities

if TYPE_CHECKING:
    from secretkit.sops.engine import IdentitySource


@dataclass(frozen=True)
class HostRotation(Shown):
    host: str
    old_recipient: str | None
    new_recipient: str | None
    sops_yaml_changed: bool
    files: tuple[FileResult, ...]
    exposed: tuple[Exposure, ...]  # what the old key could read: change these at the provider
    history: bool = False  # --compromised: list the exposed names (history included)
    stale_key_file: str | None = None  # secrets/host-keys/<host>.yaml: the old private key

    @property
    def exposed_count(self) -> int:
        return sum(len(item.names) for item in self.exposed)

    def lines(self) -> list[Line]:
        host, key = self.host, self.new_recipient
        if self.sops_yaml_changed:
            shown = [out(f".sops.yaml: host {host} now has key {key}")]
        else:
            shown = [out(f".sops.yaml: host {host} already has key {key}")]
        shown += self.rekeyed_lines()
        rotated = f"rotated {len(self.files)} file(s) of host {host}"
        if self.old_recipient != self.new_recipient:
            shown.append(out(f"{rotated}: the old key opens none of them"))
            if self.stale_key_file is not None:  # (hosts add --generate-host-key made it)
                shown.append(
                    err(
                        f"note: {self.stale_key_file} still holds the host's old private key, "
                        f"which hosts bootstrap would install: delete it (git rm "
                        f"{self.stale_key_file}), or store the new one there in its place"
                    )
                )
            return shown + self.exposed_lines(self.history, "the old key")
        # (the key the host has already: no old key, and nothing it could read is new)
        shown.append(out(f"{rotated}: the host's key is the same, so no file changed readers"))
        return shown

    def rekeyed_lines(self) -> list[Line]:
        shown = []
        for item in self.files:
            changes = " ".join([f"+{r}" for r in item.added] + [f"-{r}" for r in item.removed])
            orphan = ", kept for admins only (its rule is gone)" if item.orphan else ""
            shown.append(
                out(f"{item.rel}: new data key{f' ({changes})' if changes else ''}{orphan}")
            )
        return shown

    def exposed_lines(self, show: bool, who: str) -> list[Line]:
        """The secrets ``who`` could read: listed when ``show``, else a note on how to."""
        if not self.exposed:
            return []
        if not show:
            return [
                err(
                    f"note: {who} could read {self.exposed_count} secret(s); if it may be "
                    "compromised, list them with --compromised and change them at their provider"
                )
            ]
        shown = [
            out(
                f"{who} could read these {self.exposed_count} secret(s); change them at their "
                "provider (old ciphertext in git history still opens with that key):"
            )
        ]
        for item in self.exposed:
            where = " (only in git history)" if item.history else ""
            shown += [out(f"  {item.rel}: {secret}{where}") for secret in item.names]
        return shown


def rotate_host(
    cwd: Path,
    name: str,
    recipient: str,
    *,
    identities: IdentitySource = None,
    history: bool = False,
) -> HostRotation:
    """Give host ``name`` the key ``recipient`` (``age1…``) and re-key its files.

    With ``history`` the exposed names also cover committed versions the old key
    could open (for ``--compromised``)."""
    from secretkit.atomic import recover
    from secretkit.git.repo import find_root
    from secretkit.keys import sops_yaml
    from secretkit.keys.rotation import plan_rotate_host

    root = find_root(cwd)
    recover(root)  # an interrupted earlier run is rolled back before we read anything
    sops_yaml.validate_name(name)
    plan = plan_rotate_host(root, name, recipient)
    held = identities_of(identities)
    exposed = with_history(plan, history)
    files = execute(plan, held)
    from secretkit.keys.host_keys import host_key_file

    stored = host_key_file(name)
    return HostRotation(
        host=name,
        old_recipient=plan.old_recipient,
        new_recipient=plan.new_recipient,
        sops_yaml_changed=plan.edit.data is not None,
        files=files,
        exposed=exposed,
        history=history,
        stale_key_file=stored if (root / stored).is_file() else None,
    )


@dataclass(frozen=True)
class HostRemoval(Shown):
    """What ``hosts remove`` did: the ``.sops.yaml`` change and the re-keyed files."""

    change: Change
    rotation: HostRotation
    still_in_nix: bool = False  # the flake / hive still defines the host

    @property
    def orphans(self) -> tuple[str, ...]:
        """Files kept for the remaining recipients because their rule left with the host."""
        return tuple(item.rel for item in self.rotation.files if item.orphan)

    def lines(self) -> list[Line]:
        name = self.rotation.host
        if not self.change.changed:
            return [out(f"host {name} is not in .sops.yaml, nothing to do")]
        shown = [out(f"removed host {name}"), *self.rotation.rekeyed_lines()]
        shown += [
            err(
                f"note: {rel} is no longer used by any rule; delete it (git rm) when no "
                "configuration needs its values"
            )
            for rel in self.orphans
        ]
        if self.still_in_nix:
            shown.append(
                err(
                    f"note: host {name} is still defined in the Nix code and can no longer "
                    "decrypt its secrets; remove it from the flake / colmena hive before the "
                    "next deploy"
                )
            )
        return shown + self.rotation.exposed_lines(True, f"the key of {name}")


def remove_host(cwd: Path, name: str, *, identities: IdentitySource = None) -> HostRemoval:
    """Remove host ``name`` from ``.sops.yaml`` and re-key every file it could read."""
    from secretkit.atomic import recover
    from secretkit.git.repo import find_root
    from secretkit.keys import sops_yaml
    from secretkit.keys.rotation import plan_remove_host

    root = find_root(cwd)
    recover(root)
    sops_yaml.validate_name(name)
    plan = plan_remove_host(root, name)
    if plan.ops:  # the identities are loaded only when a file is to be re-keyed
        held = identities_of(identities)
    else:
        held = identities if isinstance(identities, Identities) else Identities()
    exposed = with_history(plan, history=True)
    files = execute(plan, held) if plan.edit.change.changed else ()
    rotation = HostRotation(
        host=name,
        old_recipient=plan.old_recipient,
        new_recipient=None,
        sops_yaml_changed=plan.edit.data is not None,
        files=files,
        exposed=exposed,
    )
    from secretkit.nix.hosts import discover

    still_in_nix = plan.edit.change.changed and name in discover(root).hosts
    return HostRemoval(plan.edit.change, rotation, still_in_nix)
