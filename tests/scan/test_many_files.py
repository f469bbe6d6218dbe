"""many_files.py: a parallel scan stops its workers as soon as the scan is left,
whatever the exception and whoever still holds its traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.scan import many_files
from secretkit.scan.allowlist import Allowlist
from secretkit.scan.many_files import PARALLEL_MIN_FILES, run_jobs
from tests.support import fake
from tests.support.processes import no_children


def test_ctrl_c_between_results_stops_the_workers_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs: list[many_files.Job] = []
    for i in range(PARALLEL_MIN_FILES * 4):
        file = tmp_path / f"host{i}.env"
        file.write_text(f"DB_PASSWORD={fake.password(f'many{i}')}\n")
        jobs.append((file.name, str(file), None, None))

    def interrupted(*_args: object, **_kwargs: object) -> object:
        raise KeyboardInterrupt  # Ctrl-C as the parent takes a worker's findings

    monkeypatch.setattr(many_files, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt) as info:
        run_jobs(jobs, Allowlist(b"k" * 32), jobs_n=2, max_bytes=1 << 20)
    assert info.value.__traceback__ is not None  # (its frames are still held here)
    assert no_children()
