"""``nix-secret-refs``' look at colmena's (and NixOps') ``deployment.keys``: a key's
``keyFile`` is read, and its ``keyCommand`` run, on the machine that deploys, at deploy
time (colmena uploads the result to ``/run/keys/<name>`` on the host).  A key that
names sops-nix's output there (``/run/secrets/…``, ``config.sops.secrets.<n>.path``)
points at a file that exists only on the host, after activation: the deploy fails to
read it.  (An earlier fix of secretkit's led there; sops-nix decrypts on the host, so
the key itself is no longer needed.)"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext

_READ_WHERE_DEPLOYED = ("keyFile", "keyCommand")
_HOST_ONLY = (b"/run/secrets", b"config.sops.secrets", b"config.sops.templates")
_INTERPOLATED = re.compile(rb"\$\{\s*([A-Za-z_][A-Za-z0-9_'-]*)\s*\}")
_WORDS = re.compile(rb"^\s*([A-Za-z_][A-Za-z0-9_'-]*)\s*$")  # keyFile = dir;
_SECRET_NAME = re.compile(
    rb'config\.sops\.secrets\.(?:([A-Za-z_][A-Za-z0-9_\'-]*)|"([^"\\$]*)")'
    rb'|/run/secrets/([^"\s$;]+)'
    rb"|\$\{\s*[A-Za-z_][A-Za-z0-9_'-]*\s*\}/([^\"\s$;]+)"  # ("${dir}/wg": dir is that)
)


def host_only_key_sources(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.gate.module_sites import line_of
    from secretkit.gate.option_values import option_bindings, plain_string
    from secretkit.nix import cst, emit

    results = []
    for file in ctx.files():
        data = ctx.read(file) if file.endswith(".nix") else None
        if data is None or b"deployment" not in data or not any(n in data for n in _HOST_ONLY):
            continue
        tree, bindings = option_bindings(ctx, file)
        # let dir = "/run/secrets"; … keyFile = "${dir}/wg": names bound to such text
        host_only = {
            p[-1]
            for b, p in bindings
            if p and any(n in cst.node_text(tree, b.value).encode() for n in _HOST_ONLY)
        }
        for binding, path in bindings:  # (under a hive's node name, or a host's module)
            if len(path) < 4 or path[-4:-2] != ["deployment", "keys"]:
                continue
            if path[-1] not in _READ_WHERE_DEPLOYED:
                continue
            text = cst.node_text(tree, binding.value).encode()
            bound = {m.decode() for m in _INTERPOLATED.findall(text)} | {
                m.decode() for m in _WORDS.findall(text)
            }
            if not any(n in text for n in _HOST_ONLY) and not bound & host_only:
                continue
            name, field = path[-2], path[-1]
            key = emit.attrpath(["deployment", "keys", name])
            known = _SECRET_NAME.search(text)
            reference = 'config.sops.secrets."<name>".path'
            if known is not None:
                named = known[1] or known[2] or known[3] or known[4]
                reference = f"config.sops.secrets.{emit.attr(named.decode())}.path"
            users = [
                plain_string(tree, b.value)
                for b, p in bindings
                if p[:-1] == path[:-1] and p[-1] == "user"
            ]
            user = users[0] if users and users[0] else None
            owner = f'owner = "{user}"' if user and user != "root" else "no owner (root's)"
            results.append(
                CheckResult(
                    "nix-secret-refs",
                    False,
                    f"{file}:{line_of(ctx, file, binding.start)}: {key}.{field} reads "
                    f"sops-nix's output on the host, but colmena and NixOps read {field} "
                    "on the machine that deploys, where that file does not exist: the "
                    "deploy fails",
                    f"delete {key} (sops-nix already decrypts the secret on the host) and "
                    f"point what reads /run/keys/{name} at {reference}, declared with {owner}",
                    (file,),
                    group="a deployment key read from sops-nix's output on the host",
                )
            )
    return results
