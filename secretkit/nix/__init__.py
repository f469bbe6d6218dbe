"""Nix syntax: tree-sitter concrete syntax tree and its one navigation API (``cst``),
option catalogue, span edits, emitted snippets, host discovery (``hosts``)."""
