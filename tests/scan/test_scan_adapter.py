"""The detect-secrets adapter: explicit plugins only, nothing from repo content; and
the scanner never crashes on arbitrary input."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secretkit.scan.adapters import detect_secrets as adapter
from secretkit.scan.one_file import scan_bytes
from secretkit.scan.worktree import scan_tree
from tests.conftest import ROOT
from tests.support import fake


def test_every_listed_plugin_is_a_regex_plugin() -> None:
    for rule, (module, name) in adapter.PLUGINS.items():
        plugin = getattr(importlib.import_module(module), name)
        assert plugin.denylist, rule
    rules = {rule for rule, _ in adapter.patterns()}
    assert rules == set(adapter.PLUGINS)


def test_repo_content_cannot_load_plugins(tmp_path: Path) -> None:
    """A baseline naming a custom plugin file, and a module shadowing detect_secrets,
    in the scanned directory: neither runs."""
    marker = tmp_path / "pwned"
    plugin = tmp_path / "evil_plugin.py"
    plugin.write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    (tmp_path / ".secrets.baseline").write_text(
        '{"plugins_used": [{"name": "Evil", "path": "file://' + str(plugin) + '"}]}\n'
    )
    for name in ("detect_secrets", "tree_sitter", "tree_sitter_nix"):
        shadow = tmp_path / name
        shadow.mkdir()
        (shadow / "__init__.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    (tmp_path / "host.nix").write_text('{ password = "' + fake.password("adapter") + '"; }\n')
    (tmp_path / "deploy.sh").write_text(f"export GH={fake.github_token('adapter')}\n")
    code = (
        "from pathlib import Path\n"
        "from secretkit.scan.worktree import scan_tree\n"
        f"r = scan_tree(Path({str(tmp_path)!r}))\n"
        "print(sorted(f.rule for f in r.findings))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert "github-token" in proc.stdout
    assert "secret-attribute" in proc.stdout
    assert not marker.exists()


def test_scan_tree_in_process_finds_the_vendor_token(tmp_path: Path) -> None:
    token = fake.slack_bot_token("adapter")
    (tmp_path / "notify.sh").write_text(f'curl -H "Authorization: Bearer {token}" x\n')
    report = scan_tree(tmp_path)
    assert [(f.rule, f.secret.reveal()) for f in report.findings] == [("slack-token", token)]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["x.nix", "x.yaml", "x.json", "x.toml", ".env", "x.ini", "x.sh"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400),
)
def test_arbitrary_text_never_crashes(path: str, text: str) -> None:
    findings, _skipped = scan_bytes(path, text.encode("utf-8"))
    for f in findings:
        assert 1 <= f.line <= f.end_line
        assert 0 <= f.start <= f.end <= len(text.encode("utf-8"))
        assert f.secret.reveal() not in repr(f) or len(f.secret) < 2


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    for path in ("x.nix", "x.yaml", "blob"):
        scan_bytes(path, data)


def test_patterns_come_back_from_the_cache_as_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first process imports the plugins and keeps their regex text; the next
    compiles the same patterns from it, without importing detect-secrets."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    adapter.patterns.cache_clear()
    try:
        imported = [(r, p.pattern, p.flags) for r, p in adapter.patterns()]
        assert adapter._cache_file().is_file()
        code = (
            "import sys\n"
            "from secretkit.scan.adapters import detect_secrets as a\n"
            "print(sorted((r, p.pattern, p.flags) for r, p in a.patterns()))\n"
            "print('detect_secrets' in sys.modules)\n"
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path)}
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        ).stdout.splitlines()
        assert out == [repr(sorted(imported)), "False"]
        # a package that changed (another stamp) is imported again
        data = adapter._cache_file().read_text().replace('"stamp": [', '"stamp": ["x", ')
        adapter._cache_file().write_text(data)
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        ).stdout.splitlines()
        assert out == [repr(sorted(imported)), "True"]
    finally:
        adapter.patterns.cache_clear()
