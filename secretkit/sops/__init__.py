"""A pure-Python sops engine (file format: :mod:`secretkit.sops.document`)."""
