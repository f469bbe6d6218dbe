"""The unit an OCI container's environment template restarts.  The container runs as
``<backend>-<name>.service`` (docker or podman: the host's choice), or under its own
``serviceName`` on releases that have the option; the template had no ``restartUnits``,
so a rotated secret reached the container only at its next restart.  The declaration
asks the host's configuration; evaluated here by the real ``nix-instantiate --eval``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.nix.test_nix_catalogue import template_restart_units

TEMPLATE = "paperless-ai-container.env"


@pytest.mark.parametrize(
    ("oci", "units"),
    [
        ('{ backend = "podman"; containers = { }; }', ["podman-paperless-ai.service"]),
        ('{ backend = "docker"; containers = { }; }', ["docker-paperless-ai.service"]),
        (  # (24.11 on: the container's own serviceName, whatever its backend)
            '{ backend = "podman"; containers.paperless-ai.serviceName = "paperless"; }',
            ["paperless.service"],
        ),
    ],
)
def test_the_template_restarts_the_unit_the_host_runs_the_container_as(
    tmp_path: Path, oci: str, units: list[str]
) -> None:
    config = (
        f"{{ virtualisation.oci-containers = {oci}; "
        "sops.placeholder = { }; sops.templates = { }; }"
    )
    assert template_restart_units("oci-containers-environment", TEMPLATE, config, tmp_path) == units
