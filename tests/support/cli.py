"""Invoke the CLI in-process through its one error boundary (``secretkit.cli.main``)."""

from __future__ import annotations

import pytest

from secretkit.cli import main


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``secretkit ARGS``."""
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0), out, err
