"""The sops stores (file formats): a Protocol plus a literal registry.

A store turns file bytes into document trees (:mod:`secretkit.sops.tree`) plus the
raw metadata block, and back.  It knows nothing about encryption.
"""

from __future__ import annotations

from typing import Protocol

from secretkit.sops.metadata import Metadata
from secretkit.sops.stores import binary_store, dotenv_store, ini_store, json_store, yaml_store
from secretkit.sops.stores.metablock import from_tree, to_tree, version_tuple
from secretkit.sops.tree import Map, Value

__all__ = ["STORES", "Store"]


class Store(Protocol):
    name: str

    def load(self, data: bytes) -> tuple[list[Map], object]:
        """Parse a file into documents (metadata still inside) and its layout."""
        ...

    def split_metadata(self, docs: list[Map]) -> tuple[list[Map], Metadata | None]:
        """Remove the sops block from the documents and parse it (None when absent)."""
        ...

    def dump_encrypted(
        self, docs: list[Map], meta: Metadata, layout: object, indent: int | None
    ) -> bytes: ...

    def load_plain(self, data: bytes) -> tuple[list[Map], object]: ...

    def dump_plain(self, docs: list[Map], layout: object, indent: int | None) -> bytes: ...


def _split_nested(docs: list[Map]) -> tuple[list[Map], Metadata | None]:
    block: Value = None
    found = False
    out: list[Map] = []
    for number, doc in enumerate(docs):
        index = doc.find("sops")
        if index >= 0:
            entry = doc[index]
            assert isinstance(entry, tuple)
            if number == 0:
                block, found = entry[1], True
            doc = Map(e for i, e in enumerate(doc) if i != index)
        out.append(doc)
    return out, (from_tree(block) if found else None)


class YamlStore:
    name = "yaml"

    def load(self, data: bytes) -> tuple[list[Map], object]:
        return yaml_store.load(data)

    def split_metadata(self, docs: list[Map]) -> tuple[list[Map], Metadata | None]:
        return _split_nested(docs)

    def dump_encrypted(
        self, docs: list[Map], meta: Metadata, layout: object, indent: int | None
    ) -> bytes:
        block = to_tree(meta)
        full = [Map([*doc, ("sops", block)]) for doc in docs]
        old = version_tuple(meta.version) if meta.version else (3, 13)
        return yaml_store.dump(
            full, _yaml_indent(layout, indent), v2=old < (3, 7), inline_comments=old >= (3, 13)
        )

    def load_plain(self, data: bytes) -> tuple[list[Map], object]:
        docs, _layout = yaml_store.load(data)
        return docs, yaml_store.YamlLayout()

    def dump_plain(self, docs: list[Map], layout: object, indent: int | None) -> bytes:
        return yaml_store.dump(docs, _yaml_indent(layout, indent))


def _yaml_indent(layout: object, indent: int | None) -> int:
    if indent is not None:
        return indent
    if isinstance(layout, yaml_store.YamlLayout):
        return layout.indent
    return 4


def _json_layout(layout: object, indent: int | None) -> json_store.JsonLayout:
    base = layout if isinstance(layout, json_store.JsonLayout) else json_store.JsonLayout()
    if indent is None:
        return base
    return json_store.JsonLayout("\t" if indent < 0 else " " * indent, base.final_newline)


class JsonStore:
    name = "json"

    def load(self, data: bytes) -> tuple[list[Map], object]:
        return json_store.load(data)

    def split_metadata(self, docs: list[Map]) -> tuple[list[Map], Metadata | None]:
        return _split_nested(docs)

    def dump_encrypted(
        self, docs: list[Map], meta: Metadata, layout: object, indent: int | None
    ) -> bytes:
        block = to_tree(meta, null_empty_lists=True)
        return json_store.dump(Map([*docs[0], ("sops", block)]), _json_layout(layout, indent))

    def load_plain(self, data: bytes) -> tuple[list[Map], object]:
        docs, _layout = json_store.load(data)
        return docs, json_store.JsonLayout()

    def dump_plain(self, docs: list[Map], layout: object, indent: int | None) -> bytes:
        return json_store.dump(docs[0], _json_layout(layout, indent))


class BinaryStore:
    name = "binary"

    def load(self, data: bytes) -> tuple[list[Map], object]:
        return binary_store.load(data)

    def split_metadata(self, docs: list[Map]) -> tuple[list[Map], Metadata | None]:
        return _split_nested(docs)

    def dump_encrypted(
        self, docs: list[Map], meta: Metadata, layout: object, indent: int | None
    ) -> bytes:
        if isinstance(layout, yaml_store.YamlLayout):
            return YamlStore().dump_encrypted(docs, meta, layout, indent)
        return JsonStore().dump_encrypted(docs, meta, layout, indent)

    def load_plain(self, data: bytes) -> tuple[list[Map], object]:
        return binary_store.load_plain(data), json_store.JsonLayout()

    def dump_plain(self, docs: list[Map], layout: object, indent: int | None) -> bytes:
        return binary_store.dump_plain(docs)


class DotenvStore:
    name = "dotenv"

    def load(self, data: bytes) -> tuple[list[Map], object]:
        return dotenv_store.load(data)

    def split_metadata(self, docs: list[Map]) -> tuple[list[Map], Metadata | None]:
        return dotenv_store.split_metadata(docs)

    def dump_encrypted(
        self, docs: list[Map], meta: Metadata, layout: object, indent: int | None
    ) -> bytes:
        return dotenv_store.dump_encrypted(docs, meta)

    def load_plain(self, data: bytes) -> tuple[list[Map], object]:
        return dotenv_store.load(data)

    def dump_plain(self, docs: list[Map], layout: object, indent: int | None) -> bytes:
        return dotenv_store.dump(docs[0])


class IniStore:
    name = "ini"

    def load(self, data: bytes) -> tuple[list[Map], object]:
        return ini_store.load(data)

    def split_metadata(self, docs: list[Map]) -> tuple[list[Map], Metadata | None]:
        return ini_store.split_metadata(docs)

    def dump_encrypted(
        self, docs: list[Map], meta: Metadata, layout: object, indent: int | None
    ) -> bytes:
        return ini_store.dump_encrypted(docs, meta)

    def load_plain(self, data: bytes) -> tuple[list[Map], object]:
        return ini_store.load(data)

    def dump_plain(self, docs: list[Map], layout: object, indent: int | None) -> bytes:
        return ini_store.dump(docs[0])


STORES: dict[str, Store] = {
    "yaml": YamlStore(),
    "json": JsonStore(),
    "dotenv": DotenvStore(),
    "ini": IniStore(),
    "binary": BinaryStore(),
}
