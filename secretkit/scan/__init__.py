"""Secret scanning: bytes in, findings out.

:mod:`secretkit.scan.api` is the entry point (one file, the work tree, the index,
the history); :mod:`~secretkit.scan.nix` and :mod:`~secretkit.scan.structured`
read values with their names, :mod:`~secretkit.scan.detectors` holds the token
formats, :mod:`~secretkit.scan.filters` what is never a secret, and
:mod:`~secretkit.scan.report` the text/json/sarif output.
"""
