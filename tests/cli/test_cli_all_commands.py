"""Every subcommand, invoked once (STYLE.md §11): on an empty directory that is not a
repository, each one either does its job or fails with one line and a documented exit
code — never an internal error (exit 5) and never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from secretkit.cli import cli

# command path → (arguments, stdin, allowed exit codes)
INVOCATIONS: dict[str, tuple[list[str], bytes, set[int]]] = {
    "scan": ([], b"", {0}),
    "encrypt": (["missing.yaml"], b"", {3}),
    "decrypt": (["missing.yaml"], b"", {3}),
    "edit": (["missing.yaml"], b"", {3}),
    "set": (["missing.yaml", '["a"]'], b"value\n", {3}),
    "updatekeys": ([], b"", {3}),
    "init": (["--admin", "age1notakey"], b"", {2, 3}),
    "hosts list": ([], b"", {0, 3}),
    "hosts add": (["web", "--age", "age1notakey"], b"", {2, 3}),
    "hosts remove": (["web"], b"", {3}),
    "hosts bootstrap": (["web", "--extra-files", "/nonexistent-sk-extra"], b"", {3}),
    "generate": (["web", "a/b", "--kind", "hex"], b"", {3}),
    "rotate value": (["a/b", "--kind", "hex"], b"", {3}),
    "exposed": ([], b"", {3}),
    "migrate": (["--dry-run"], b"", {0}),  # nothing to migrate in an empty directory
    "import agenix": (["--dry-run"], b"", {0}),  # no secrets.nix: nothing to import
    "rotate data-keys": ([], b"", {3}),
    "rotate host": (["web", "--age", "age1notakey"], b"", {2, 3}),
    "hook": ([], b"", {3}),
    "hook install": ([], b"", {3}),
    "hook uninstall": ([], b"", {3}),
    "check": ([], b"", {3}),
    "purge": (["--yes"], b"", {3}),
    "keygen": (["--output", "key.txt"], b"", {0}),
    "demo": (["--dir", "demo"], b"", {0}),
}


def leaf_commands(group: click.Group, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for name, command in group.commands.items():
        if command.hidden:
            continue
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            names |= leaf_commands(command, path + " ")
            if command.invoke_without_command:
                names.add(path)
        else:
            names.add(path)
    return names


def test_every_command_has_an_invocation() -> None:
    assert leaf_commands(cli) == set(INVOCATIONS)


@pytest.mark.parametrize("command", sorted(INVOCATIONS))
def test_command_on_an_empty_directory(command: str, tmp_path: Path) -> None:
    args, stdin, allowed = INVOCATIONS[command]
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, GIT_CEILING_DIRECTORIES=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", *command.split(), *args],
        cwd=work,
        input=stdin,
        capture_output=True,
        env=env,
        timeout=120,
    )
    stderr = proc.stderr.decode()
    assert proc.returncode in allowed, (proc.returncode, stderr)
    assert "Traceback" not in stderr
    if proc.returncode in (2, 3):
        error_lines = [line for line in stderr.splitlines() if line.startswith(("error", "Error"))]
        assert len(error_lines) == 1, stderr


@pytest.mark.parametrize("command", sorted(INVOCATIONS))
def test_help(command: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "secretkit", *command.split(), "--help"],
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0
    assert proc.stdout.decode().startswith("Usage: secretkit " + command)
