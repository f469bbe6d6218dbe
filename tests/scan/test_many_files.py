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


def test_copies_of_a_tree_land_in_the_chunk_of_their_first_copy() -> None:
    """A tree copied beside itself: the chunks for the workers keep a file's copies
    together (a chunk scans a content once), a name's files still spread over them."""
    jobs: list[many_files.Job] = [
        (f"copy{c}/hosts/h{h}/{name}", None, b"", None)
        for c in range(8)
        for h in range(60)
        for name in ("default.nix", "hardware.nix")
    ]
    chunks = many_files._by_name(sorted(jobs), 32)
    assert sorted(job for chunk in chunks for job in chunk) == sorted(jobs)
    where: dict[str, set[int]] = {}
    for index, chunk in enumerate(chunks):
        for job in chunk:
            where.setdefault(job[0].split("/", 1)[1], set()).add(index)
    split = [rest for rest, indexes in where.items() if len(indexes) > 1]
    assert len(split) <= len(chunks)  # (at most one file per chunk boundary)
    assert len(chunks) == 32 and max(len(c) for c in chunks) - min(len(c) for c in chunks) <= 30
