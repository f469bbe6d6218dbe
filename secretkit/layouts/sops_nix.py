"""Hand-written sops-nix ``.sops.yaml`` files: which key is a host's.

secretkit writes ``&host_<name>`` anchors; people write ``&server_web``, ``&web``,
``&web_host`` or ``&host-web``.  A host's key is its ``&host_<name>`` anchor, else the
one anchor whose name, split on ``_``/``-``, contains the host's name — never a guess
between several.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_PARTS = re.compile(r"[_\-.]+")


def host_key(hosts: Mapping[str, str], anchors: Mapping[str, str], host: str) -> str | None:
    """The recipient of ``host``: ``hosts`` are the ``&host_<name>`` anchors, ``anchors``
    every anchor of ``keys:`` (name -> recipient)."""
    if host in hosts:
        return hosts[host]
    exact = [value for name, value in anchors.items() if name == host]
    if len(exact) == 1:
        return exact[0]
    named = {
        value
        for name, value in anchors.items()
        if host in _PARTS.split(name) or (len(host) > 2 and name.endswith(f"_{host}"))
    }
    return named.pop() if len(named) == 1 else None
