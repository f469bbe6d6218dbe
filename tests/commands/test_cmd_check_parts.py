"""Pieces of `secretkit check` that are pure functions: twins of sops files, Nix paths."""

from __future__ import annotations

import pytest

from secretkit.gate.decrypted_copies import is_twin
from secretkit.gate.model import CheckReport, CheckResult
from secretkit.nix.sops_refs import resolve_nix_path

SOPS = {"secrets/observer.yaml", "hosts/laptop/secrets.json"}


@pytest.mark.parametrize(
    ("name", "twin"),
    [
        ("secrets/observer.dec.yaml", True),
        ("secrets/observer.decrypted.yaml", True),
        ("secrets/observer.yaml.dec", True),
        ("secrets/observer.plain.yaml", True),
        ("secrets/observer.yaml.bak", True),
        ("secrets/observer.yaml~", True),
        ("hosts/laptop/secrets.plaintext.json", True),
        ("anywhere/else.dec.env", True),
        ("secrets/observer.yaml", False),  # the sops file itself
        ("secrets/laptop.yaml", False),
        ("other/observer.dec", True),  # *.dec anywhere
        ("other/observer.yaml.bak", False),  # a backup twin only next to its sops file
        ("secrets/observers.yaml", False),
        ("docs/decrypt.md", False),
    ],
)
def test_twins_of_sops_files(name: str, twin: bool) -> None:
    assert is_twin(name, SOPS) is twin


@pytest.mark.parametrize(
    ("nix_file", "text", "resolved"),
    [
        ("hosts/observer/default.nix", "../../secrets/observer.yaml", "secrets/observer.yaml"),
        ("hosts/observer/default.nix", "./secrets.yaml", "hosts/observer/secrets.yaml"),
        ("flake.nix", "./secrets/observer.yaml", "secrets/observer.yaml"),
        ("hosts/observer/default.nix", '"${./secrets.yaml}"', "hosts/observer/secrets.yaml"),
        ("flake.nix", "../outside.yaml", None),
        ("hosts/a.nix", '"${inputs.self}/secrets/a.yaml"', None),
        ("hosts/a.nix", "self + /secrets/a.yaml", None),
        ("hosts/a.nix", "./${name}.yaml", None),
    ],
)
def test_sops_file_paths_resolve_statically_or_not_at_all(
    nix_file: str, text: str, resolved: str | None
) -> None:
    assert resolve_nix_path(nix_file, text) == resolved


def test_report_is_ok_only_when_every_result_is() -> None:
    good = CheckResult("sops-mac", True, "fine")
    bad = CheckResult("decrypted-copy", False, "x.dec.yaml", "delete it", ("x.dec.yaml",))
    assert CheckReport([good]).ok
    report = CheckReport([good, bad])
    assert not report.ok
    assert report.failed == [bad]
    assert report.to_json() == {
        "version": 1,
        "ok": False,
        "checks": [
            {
                "id": "sops-mac",
                "ok": True,
                "message": "fine",
                "fix": "",
                "paths": [],
                "group": None,
                "warning": False,
            },
            {
                "id": "decrypted-copy",
                "ok": False,
                "message": "x.dec.yaml",
                "fix": "delete it",
                "paths": ["x.dec.yaml"],
                "group": None,
                "warning": False,
            },
        ],
        "groups": [
            {
                "id": "decrypted-copy",
                "summary": "x.dec.yaml",
                "count": 1,
                "fix": "delete it",
                "paths": ["x.dec.yaml"],
            }
        ],
    }
