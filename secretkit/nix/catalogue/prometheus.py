"""Prometheus scrape and remote-write credentials → ``*_file`` options."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from secretkit.nix import emit
from secretkit.nix.catalogue.base import (
    NIXPKGS,
    OptionSpec,
    Reader,
    Refusal,
    Rewrite,
    Site,
    Source,
    match,
    rebind,
    slug,
)


class PrometheusCredentials:
    key = "prometheus-credentials"
    description = (
        "Prometheus scrape/remote credentials → *_file options "
        "(owner prometheus, checkConfig = syntax-only)"
    )
    reader = Reader(
        "daemon",
        Source(
            NIXPKGS,
            "020e024506ab147265c4a5757af92da617ef2dfb",
            "nixos/modules/services/monitoring/prometheus/default.nix",
            "serviceConfig = { User = promUser; …",
        ),
        since="21.05",
        owner='"prometheus"',
        user_from="services.prometheus.enable",
    )
    _fields: ClassVar[dict[tuple[str, ...], str]] = {
        ("authorization", "credentials"): "credentials_file",
        ("basic_auth", "password"): "password_file",
        ("oauth2", "client_secret"): "client_secret_file",
        ("bearer_token",): "bearer_token_file",
    }
    _head = "services.prometheus.scrapeConfigs|remoteWrite|remoteRead.[]"

    def _field(self, path: Sequence[str]) -> tuple[str, ...] | None:
        if not match(self._head + ".**", path):
            return None
        tail = tuple(path[4:])
        return tail if tail in self._fields else None

    def matches(self, path: Sequence[str]) -> bool:
        return self._field(path) is not None

    def target_reader(self, path: Sequence[str]) -> Reader | None:
        """prometheus reads every ``*_file`` of its scrape, remote and alertmanager
        configurations (credentials, TLS keys; at any depth, a list's items written
        out or made by ``map``) and ``webConfigFile``, as its own user."""
        if tuple(path) == ("services", "prometheus", "webConfigFile"):
            return self.reader
        ours = len(path) > 3 and tuple(path[:2]) == ("services", "prometheus")
        return (
            self.reader if ours and path[2] in self._lists and path[-1].endswith("_file") else None
        )

    _lists = ("scrapeConfigs", "remoteWrite", "remoteRead", "alertmanagers")

    def name(self, site: Site) -> str:
        depth = len(site.path) - 4
        job = site.sibling_string(depth, "job_name") or site.sibling_string(depth, "name")
        who = slug(job) if job else f"{slug(site.path[2])}-{site.path[3].strip('[]')}"
        return f"prometheus/{who}/{slug(site.path[-1]).replace('_', '-')}"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        tail = self._field(site.path)
        assert tail is not None  # matches() was checked by lookup
        new = self._fields[tail]
        sibling = (*site.path[:-1], new)
        if site.has_option(sibling):
            return Refusal(f"{'.'.join(sibling[4:])} is already set")
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        edits = rebind(site, new, emit.secret_ref(name))
        if isinstance(edits, Refusal):
            return edits
        return Rewrite(
            value=site.secret,
            edits=edits,
            new_option=".".join((*tail[:-1], new)),
            restart_units=("prometheus.service",),
            options=[OptionSpec(("services", "prometheus", "checkConfig"), '"syntax-only"', False)],
            defines=[sibling],
        )
