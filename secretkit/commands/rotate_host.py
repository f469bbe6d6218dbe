"""``secretkit rotate host NAME (--age R | --ssh-pubkey … | --ssh-pubkey-file F)``.

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
"""

from __future__ import annotations

from pathlib import Path

from secretkit.keys.host_rekey import HostRotation, execute, with_history
from secretkit.sops.identities import Identities


def rotate_host(
    cwd: Path,
    name: str,
    recipient: str,
    *,
    identities: Identities | None = None,
    history: bool = False,
) -> HostRotation:
    """Give host ``name`` the key ``recipient`` (``age1…``) and re-key its files.

    With ``history`` the exposed names also cover committed versions the old key
    could open (for ``--compromised``)."""
    from secretkit.atomic import recover
    from secretkit.keys import sops_yaml
    from secretkit.keys.rotation import plan_rotate_host
    from secretkit.sops.identities import load_identities

    root = sops_yaml.find_root(cwd)
    recover(root)  # an interrupted earlier run is rolled back before we read anything
    sops_yaml.validate_name(name)
    plan = plan_rotate_host(root, name, recipient)
    if identities is None:
        identities = load_identities()
    exposed = with_history(plan, history)
    files = execute(plan, identities)
    return HostRotation(
        host=name,
        old_recipient=plan.old_recipient,
        new_recipient=plan.new_recipient,
        sops_yaml_changed=plan.edit.data is not None,
        files=files,
        exposed=exposed,
    )
