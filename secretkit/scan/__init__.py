"""Secret scanning: bytes in, findings out.

The entry points: :mod:`~secretkit.scan.one_file` (one file's bytes),
:mod:`~secretkit.scan.worktree`, :mod:`~secretkit.scan.staged` (the index) and
:mod:`~secretkit.scan.history`; :mod:`~secretkit.scan.many_files` runs many files,
serially or in a process pool.  :mod:`~secretkit.scan.nix` and
:mod:`~secretkit.scan.text_files` read values with their names,
:mod:`~secretkit.scan.detectors` holds the token formats (the command ones in
:mod:`~secretkit.scan.command_detectors`),
:mod:`~secretkit.scan.filters` what is never a secret, and
:mod:`~secretkit.scan.report` the text/json/sarif output.
"""
