"""New secret values: one module per kind, one line each in :data:`KINDS`.

A kind turns :class:`Options` into a :class:`Generated` value: the secret (always
:class:`~secretkit.sensitive.Sensitive`, never printed) and, for key pairs, the
public half (safe to print or to put into Nix).  Randomness comes from
:mod:`secrets` (the OS CSPRNG) only.
"""

from __future__ import annotations

from secretkit.generate.kinds import KINDS, Generated, Kind, Options, kind_for

__all__ = ["KINDS", "Generated", "Kind", "Options", "kind_for"]
