"""agenix/ragenix → sops-nix: the rules file, key → host mapping, conversion plan, Nix rewrite.

Data flow (``secretkit import agenix`` composes it):
:mod:`secretkit.layouts.agenix_rules` reads ``secrets.nix`` (the gate's agenix point
reads it too); :mod:`keymap` names the host or admin behind each public key;
:mod:`plan` decrypts every ``.age`` file and decides which sops file(s) each value
goes to; :mod:`nixrewrite` turns ``age.*`` code into ``sops.*`` code by byte spans.
"""
