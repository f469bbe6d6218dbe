"""The sops-nix layout secretkit writes, and hand-written ones it reads.

secretkit's own shape (the only place that spells it)::

    secrets/<host>.yaml            one sops file per host
    secrets/host-keys/<host>.yaml  host private keys, for the admins only
    .sops.yaml  keys:            &admin_<name> / &host_<name> anchors
                creation_rules:  path_regex: ^secrets/<host>\\.yaml$ per host

Hand-written ``.sops.yaml`` files name their keys ``&server_web``, ``&web``,
``&web_host`` or ``&host-web``.  A host's key is its ``&host_<name>`` anchor, else the
anchor spelled like the host up to ``_``/``-``/``.`` (``&rss_server`` for host
``rss-server``), else the one anchor whose name, split on ``_``/``-``, contains the
host's name — never a guess between several.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from secretkit.lazy_re import lazy

SECRETS_DIR = "secrets"
HOST_KEYS_DIR = f"{SECRETS_DIR}/host-keys"
ADMIN_PREFIX = "admin_"
HOST_PREFIX = "host_"

_PARTS = lazy(r"[_\-.]+")


def host_secrets_path(host: str) -> str:
    """The per-host sops file, relative to the repository root."""
    return f"{SECRETS_DIR}/{host}.yaml"


def file_owner(hosts: Iterable[str], path: str, but: str | None = None) -> str | None:
    """The host (other than ``but``) whose own sops file ``path`` is
    (:func:`host_secrets_path`), else None: a value stored there is that host's alone."""
    return next((h for h in hosts if h != but and host_secrets_path(h) == path), None)


def host_rule_regex(host: str) -> str:
    """The ``path_regex`` of the creation rule for :func:`host_secrets_path`."""
    return f"^{SECRETS_DIR}/{host}\\.yaml$"


def admin_anchor(name: str) -> str:
    return ADMIN_PREFIX + name


def host_slug(name: str) -> str:
    """The name ``hosts add`` is given for a configuration's name (snowfall's home
    ``alice@pebble`` is ``alice-pebble``: a host name is letters, digits, ``-``, ``_``)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:63] or "user"


def host_anchor(host: str) -> str:
    return HOST_PREFIX + host_slug(host)


def is_admin_anchor(anchor: str | None) -> bool:
    return (anchor or "").startswith(ADMIN_PREFIX)


def is_host_anchor(anchor: str | None) -> bool:
    return (anchor or "").startswith(HOST_PREFIX)


def admin_of_anchor(anchor: str) -> str:
    """``admin_<name>`` -> ``<name>`` (the anchor unchanged when it is not an admin's)."""
    return anchor.removeprefix(ADMIN_PREFIX)


def host_of_anchor(anchor: str) -> str:
    """``host_<name>`` -> ``<name>`` (the anchor unchanged when it is not a host's)."""
    return anchor.removeprefix(HOST_PREFIX)


def host_key(hosts: Mapping[str, str], anchors: Mapping[str, str], host: str) -> str | None:
    """The recipient of ``host``: ``hosts`` are the ``&host_<name>`` anchors, ``anchors``
    every anchor of ``keys:`` (name -> recipient)."""
    for name in dict.fromkeys((host, host_slug(host))):  # (alice@pebble: alice-pebble)
        if name in hosts:
            return hosts[name]
    spelled = _PARTS.split(host)  # rss-server is &rss_server: - and _ are one separator
    exact = [value for name, value in anchors.items() if _PARTS.split(name) == spelled]
    if len(exact) == 1:
        return exact[0]
    named = {
        value
        for name, value in anchors.items()
        if host in _PARTS.split(name) or (len(host) > 2 and name.endswith(f"_{host}"))
    }
    return named.pop() if len(named) == 1 else None
