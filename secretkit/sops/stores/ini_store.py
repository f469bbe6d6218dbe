"""INI store (placeholder until the full go-ini compatible store lands)."""

from __future__ import annotations

from secretkit.errors import UserError
from secretkit.sops.metadata import Metadata
from secretkit.sops.tree import Map


def load(data: bytes) -> tuple[list[Map], object]:
    raise UserError("INI files are not supported yet")


def split_metadata(docs: list[Map]) -> tuple[list[Map], Metadata | None]:
    raise UserError("INI files are not supported yet")


def dump_encrypted(docs: list[Map], meta: Metadata) -> bytes:
    raise UserError("INI files are not supported yet")


def dump(doc: Map) -> bytes:
    raise UserError("INI files are not supported yet")
