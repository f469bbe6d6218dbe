"""Secret names never hold the value: a sops file's keys are in clear (TUM-DSE's
doctor-cluster-config: a user whose password is their own name)."""

from __future__ import annotations

from secretkit.plan.naming import Names
from secretkit.sensitive import Sensitive


def test_a_part_holding_the_value_is_named_value() -> None:
    names = Names()
    assert names.claim("users/ls1.guest/password", "a.nix", Sensitive("ls1.guest")) == (
        "users/value/password"
    )
    # as a name part writes it (lower case, other characters as "-")
    assert names.claim("users/ls1-guest/password", "b.nix", Sensitive("LS1 Guest")) == (
        "users/value/password-2"
    )
    # a short value is no part's
    assert names.claim("users/root/password", "c.nix", Sensitive("roo")) == "users/root/password"
