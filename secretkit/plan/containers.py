"""Secrets in containers: a NixOS container's configuration (``containers.<c>.config``,
a system of its own that systemd-nspawn gives the store and ``bindMounts`` only:
NixOS/nixpkgs nixos/modules/virtualisation/nixos-containers.nix) and an OCI
container's ``cmd`` (passed as ``map escapeShellArg container.cmd``:
nixos/modules/virtualisation/oci-containers.nix).  What migrate says of them, and
check's fix."""

from __future__ import annotations

from secretkit.nix import cst

# What to do instead of a secret in an OCI container's cmd (a step, and check's fix)
CONTAINER_CMD = (
    "oci-containers hands cmd to the container as written (each element shell-escaped): "
    "no shell runs $(cat …) there, and the container sees no file of the host. If the "
    "program reads the secret from an environment variable, give the container "
    'environmentFiles = [ config.sops.templates."<container>.env".path ]; with a '
    'sops.templates."<container>.env".content of VARIABLE=${{config.sops.placeholder.'
    '"{name}"}}; if it reads a file, mount it with volumes = [ "${{config.sops.secrets.'
    '"{name}".path}}:/run/secret:ro" ]; and write /run/secret in its place in cmd (the '
    "file keeps its owner and mode: the container's process must run as root, or be "
    "given the file's owner)"
)


def container_reason(box: str) -> str:
    """Why nothing in NixOS container ``box``'s configuration is moved to the host's
    sops-nix (systemd-nspawn binds the store and ``bindMounts`` only: NixOS/nixpkgs
    nixos/modules/virtualisation/nixos-containers.nix)."""
    return (
        f"the string is in a NixOS container's configuration (containers.{box}.config), a "
        "system of its own: the host's sops-nix files are not in it unless "
        f"containers.{box}.bindMounts mounts them (the reader there needs the file's uid), "
        "or the container runs sops-nix with a key of its own"
    )


def container_path(tree: cst.Tree, node: cst.Node) -> str:
    """``containers.<c>.config`` when ``node`` is in the body of a function that is NixOS
    container ``<c>``'s configuration, else ``""``."""
    current = node
    while current.parent is not None:
        parent = current.parent
        if parent.type == "function_expression":
            body = parent.child_by_field_name("body")
            box = (
                container_box(tree, parent) if body is not None and body.id == current.id else None
            )
            return f"containers.{box}.config" if box is not None else ""
        current = parent
    return ""


def container_box(tree: cst.Tree, function: cst.Node) -> str | None:
    """``<c>`` when ``function`` is the value of ``containers.<c>.config`` (or of
    ``config`` in ``containers.<c> = { … }``), else None."""
    binding = function.parent
    names: list[str] = []
    while binding is not None:
        if binding.type == "binding":
            names = (cst.binding_names(tree, binding) or ["?"]) + names
        binding = binding.parent
    if len(names) >= 3 and names[-1] == "config" and names[-3] == "containers":
        return names[-2]
    return None
