"""user_cache.py: the cache directory as the XDG specification names it; a relative
$XDG_CACHE_HOME is ignored, never taken relative to wherever secretkit runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.scan.adapters import detect_secrets
from secretkit.user_cache import cache_home, secretkit_cache


def test_an_absolute_xdg_cache_home_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert cache_home() == str(tmp_path / "cache")
    assert secretkit_cache() == str(tmp_path / "cache" / "secretkit")


@pytest.mark.parametrize("value", ["", "relative/cache", "./cache"])
def test_an_unset_empty_or_relative_one_means_home_dot_cache(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", value)
    assert cache_home() == str(tmp_path / "home" / ".cache")


def test_no_absolute_home_means_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", "nowhere")
    assert cache_home() is None and secretkit_cache() is None


def test_the_detect_secrets_cache_never_lands_in_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    assert (
        detect_secrets._cache_file()
        == tmp_path / "home/.cache/secretkit/detect-secrets-patterns.json"
    )
