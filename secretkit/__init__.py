"""secretkit: make a NixOS dotfiles repository safe to publish."""

__version__ = "0.1.0"
