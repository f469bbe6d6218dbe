"""``nix-secret-refs``' look at colmena's (and NixOps') ``deployment.keys``: a key's
``keyFile`` is read, and its ``keyCommand`` run, on the machine that deploys, at deploy
time (colmena uploads the result to ``/run/keys/<name>`` on the host).  A key that
names sops-nix's output there (``/run/secrets/…``, ``config.sops.secrets.<n>.path``)
points at a file that exists only on the host, after activation: the deploy fails to
read it.  (An earlier fix of secretkit's led there; sops-nix decrypts on the host, so
the key itself is no longer needed.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext

_READ_WHERE_DEPLOYED = ("keyFile", "keyCommand")
_HOST_ONLY = (b"/run/secrets", b"config.sops.secrets", b"config.sops.templates")


def host_only_key_sources(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.gate.module_sites import line_of
    from secretkit.nix import cst, emit
    from secretkit.nix.sops_refs import option_path

    results = []
    for file in ctx.files():
        data = ctx.read(file) if file.endswith(".nix") else None
        if data is None or b"deployment" not in data or not any(n in data for n in _HOST_ONLY):
            continue
        tree = cst.parse(data)
        for binding in cst.bindings(tree):
            path = option_path(binding)  # (under a hive's node name, or a host's module)
            if len(path) < 4 or path[-4:-2] != ["deployment", "keys"]:
                continue
            if path[-1] not in _READ_WHERE_DEPLOYED:
                continue
            text = cst.node_text(tree, binding.value).encode()
            if not any(n in text for n in _HOST_ONLY):
                continue
            name, field = path[-2], path[-1]
            key = emit.attrpath(["deployment", "keys", name])
            results.append(
                CheckResult(
                    "nix-secret-refs",
                    False,
                    f"{file}:{line_of(ctx, file, binding.start)}: {key}.{field} reads "
                    f"sops-nix's output on the host, but colmena reads {field} on the "
                    "machine that deploys, where that file does not "
                    "exist: the deploy fails",
                    f"delete {key} (sops-nix already decrypts the secret on "
                    f"the host) and point what reads /run/keys/{name} at "
                    'config.sops.secrets."<name>".path, declared with owner = the user '
                    "the key named (default root)",
                    (file,),
                    group="a deployment key read from sops-nix's output on the host",
                )
            )
    return results
