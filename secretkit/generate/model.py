"""What every kind of generated secret shares: options in, a value (and a public half) out."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

from secretkit.errors import UsageError
from secretkit.sensitive import Sensitive


@dataclass(frozen=True)
class Options:
    """``--length N`` / ``--words N`` (None: the kind's default); ``comment`` names an
    ssh key (its public line ends with it)."""

    length: int | None = None
    words: int | None = None
    comment: str = ""


@dataclass(frozen=True)
class Generated:
    """A new secret.  ``public`` is the half that may be shown (a WireGuard or ssh
    public key); ``plain`` is the clear text behind a stored hash (``--also-plain``)."""

    value: Sensitive[str]
    public: str | None = None
    plain: Sensitive[str] | None = None


class Kind(Protocol):
    name: str
    summary: str
    has_public: bool

    def generate(self, options: Options) -> Generated: ...


def length_of(options: Options, default: int, low: int, high: int, unit: str) -> int:
    """``options.length`` (or ``default``) within [low, high]; UsageError otherwise."""
    if options.words is not None:
        raise UsageError("--words is for --kind passphrase only", hint=f"use --length N ({unit})")
    n = default if options.length is None else options.length
    if not low <= n <= high:
        raise UsageError(f"--length must be between {low} and {high} ({unit}), not {n}")
    return n


def no_size(options: Options, kind: str) -> None:
    if options.length is not None or options.words is not None:
        raise UsageError(f"--kind {kind} has a fixed size: drop --length/--words")


def random_text(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))
