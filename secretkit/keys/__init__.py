"""Host keys: ssh-to-age conversion, and the ``.sops.yaml`` key/rule editing that
``init``, ``hosts``, ``migrate`` and ``rotate`` share.

Modules: :mod:`~secretkit.keys.bech32` (age key encoding and recipient
validation), :mod:`~secretkit.keys.ssh_to_age`, :mod:`~secretkit.keys.sops_yaml`.
Which hosts exist is read from the Nix code by :mod:`secretkit.nix.hosts`.
"""
