"""Host keys: ssh-to-age conversion, and the ``.sops.yaml`` key/rule editing that
``init``, ``hosts``, ``migrate`` and ``rotate`` share.

Modules: :mod:`~secretkit.keys.ssh_to_age` (the age key encoding itself is
:mod:`~secretkit.sops.keysources.bech32`), :mod:`~secretkit.keys.sops_yaml` (the view of
``.sops.yaml``: admins, hosts, rules), :mod:`~secretkit.keys.sops_yaml_doc` (a
``.sops.yaml`` edited by splices) and :mod:`~secretkit.keys.sops_yaml_edits` (the edits).
Which hosts exist is read from the Nix code by :mod:`secretkit.nix.hosts`.
"""
