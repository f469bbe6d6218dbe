"""A key's name as messages print it: a token used as a key in a sops file (its name
is in clear in the file) was printed whole in check's sops-mac failure and in the fix
of a value left in clear (a stranger's); such a name is shown as a preview."""

from __future__ import annotations

import pytest

from secretkit.sensitive import shown_name
from tests.support import fake


def test_a_token_as_a_name_is_shown_as_its_preview() -> None:
    token = fake.github_token("key-name")
    assert shown_name(token) == token[:4] + "…"


@pytest.mark.parametrize(
    "name",
    [
        "grafana",
        "admin_password",
        "alertmanager-pushover-token",
        "20231105_backup_v2",
        "prometheus/syncthing/credentials",
        "a key with spaces and 12345 digits",
    ],
)
def test_names_of_words_stay_as_they_are(name: str) -> None:
    assert shown_name(name) == name
