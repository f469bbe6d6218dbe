"""The example homelab for ``secretkit demo``.

``homelab`` is a symlink to the top-level ``examples/homelab`` so that the files
exist once in the repository and still ship as package data in a wheel.
"""
