"""Where a value is in a sops file, as an error names it: a key that is a token (in
clear in the file) is shown as its preview (check's sops-mac failure printed it)."""

from __future__ import annotations

from secretkit.sops.document import _where
from tests.support import fake


def test_a_token_as_a_key_is_not_printed_whole() -> None:
    token = fake.github_token("sops-key-name")
    assert token not in _where(["grafana", token, 0])
    assert _where(["grafana", token]) == "grafana:ghp_…"
    assert _where(["grafana", "admin_password"]) == "grafana:admin_password"
