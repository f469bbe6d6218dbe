"""Nix syntax: tree-sitter concrete syntax tree, option catalogue, span edits, emitters."""
